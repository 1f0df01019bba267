# Sourced by demo.sh and test.sh: makes the local chain binary, the container engine and the
# instance image ready, and exports where they are. Each step is cached on the machine:
#   CALOR_LOCALNET_BIN    surfpool-core node (tools/localnet; first build ~14 min)
#   DOCKER_HOST           Podman serving the Docker Engine API (tools/engine/start.sh), unless
#                         DOCKER_HOST already points at an engine
#   CALOR_INSTANCE_IMAGE  Debian + sshd, built locally (tools/engine/instance-image.sh)
# and, for the API's tests, Debian's PostgreSQL and Schemathesis (CALOR_SCHEMATHESIS, from PyPI
# into a cached virtual environment).
# The engine is stopped again on exit when this script started it.
prepare_local_tools() {
  for tool in ssh ssh-keygen curl jq; do
    if ! command -v "$tool" >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client curl jq >&2
      break
    fi
  done
  # calor-api's tests run a throwaway PostgreSQL server of Debian's package (its default
  # cluster is not needed and stays down).
  if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  if ! command -v python3 >/dev/null || ! python3 -m venv --help >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
  fi
  CALOR_SCHEMATHESIS=$(bash tools/schemathesis/install.sh)
  CALOR_LOCALNET_BIN=$(bash tools/localnet/build.sh)
  if [[ -z "${DOCKER_HOST:-}" ]]; then
    if ! curl -sf --unix-socket /run/calor-podman.sock http://d/v1.41/_ping >/dev/null 2>&1; then
      CALOR_STARTED_ENGINE=1
    fi
    DOCKER_HOST=$(bash tools/engine/start.sh)
  fi
  CALOR_INSTANCE_IMAGE=$(bash tools/engine/instance-image.sh)
  export CALOR_LOCALNET_BIN DOCKER_HOST CALOR_INSTANCE_IMAGE CALOR_SCHEMATHESIS
}

stop_local_engine() {
  if [[ "${CALOR_STARTED_ENGINE:-}" == 1 ]]; then bash tools/engine/stop.sh; fi
}

require_free_ports() {
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is in use: stop what runs there first" >&2; return 1
    fi
  done
}

# Starts the local node with the program deployed (upgrade authority: .calor/keys/authority.json)
# on 8899/8900, waits until it answers, and runs the migrations (config, catalog, regions,
# prices, staking, a demo provider with one node in region 1). Appends the node's PID to `pids`.
start_local_chain() {
  local bin="$1" so="$2"
  require_free_ports 8899 8900 || return 1
  mkdir -p .calor/keys
  local authority
  authority=$("$bin/calor-migrate" key .calor/keys/authority.json)
  "$CALOR_LOCALNET_BIN" --upgrade-authority "$authority" --slot-time-ms 100 --quiet \
    --program "Ac9YEmcu7Pd33k1nYUrEoC9shEJo8uxsr6MrNFRhasiJ=$so" 2> .calor/localnet.log &
  pids+=($!)
  for _ in $(seq 1 100); do
    curl -sf -X POST -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"getHealth"}' \
      http://127.0.0.1:8899 >/dev/null && break
    sleep 0.1
  done
  head -1 .calor/localnet.log
  "$bin/calor-migrate" --rpc http://127.0.0.1:8899 --keys .calor/keys --region 1 --nodes 1
}

# The web app's origin on the local stack (vite dev and preview serve it there): the API allows
# it (CORS) and the provisioner lets its pages open terminals.
APP_ORIGIN=${APP_ORIGIN:-http://127.0.0.1:5173}

# Starts, on the local chain, a provisioner for the demo provider's node (9400, on the local
# engine) and the API (8080, SQLite under .calor/, a fresh index), and keeps the local SOL/USD
# price fresh. Appends their PIDs to `pids`.
start_local_services() {
  local bin="$1" inventory
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
    inventory=(--gpu-inventory nvml)
  else
    echo "no NVIDIA driver on this host: the provisioner runs with a DECLARED GPU inventory (.calor/gpus.toml)"
    cat > .calor/gpus.toml <<'TOML'
# Declared GPUs: this host has no NVIDIA driver, so nothing is measured.
[[gpu]]
uuid = "GPU-00000000-0000-0000-0000-000000000001"
name = "NVIDIA H100 PCIe (declared)"
memory_mib = 81559
TOML
    inventory=(--gpu-inventory declared --gpu-inventory-file .calor/gpus.toml)
  fi
  require_free_ports 9400 8080 || return 1
  echo "starting the provisioner (region 1, node 0) on $DOCKER_HOST"
  printf '%s\n' "${inventory[@]}" > .calor/gpu-inventory.args
  : > .calor/provisioner.log
  start_local_provisioner "$bin" || return 1

  echo "starting the API (SQLite at .calor/api.db) and a keeper of the local SOL/USD price"
  # A live Pyth feed is always fresh; the local one is as old as its last publication.
  "$bin/calor-dev" keep-price --every 20 > .calor/price.log 2>&1 &
  pids+=($!)
  rm -f .calor/api.db .calor/api.db-wal .calor/api.db-shm  # an index belongs to one chain: this one is new
  "$bin/calor-api" --listen 127.0.0.1:8080 --database-url sqlite://.calor/api.db \
    --app-origin "$APP_ORIGIN" --public-uri http://127.0.0.1:8080/api > .calor/api.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
  curl -sf http://127.0.0.1:8080/healthz >/dev/null || { cat .calor/api.log; return 1; }
}

# Starts the local provisioner on 9400 (again, after it stopped: the browser tests restart it)
# with the inventory start_local_services chose; appends its PID to `pids`, and writes it to
# .calor/provisioner.pid.
start_local_provisioner() {
  local bin="$1" inventory
  mapfile -t inventory < .calor/gpu-inventory.args
  # A small share for a laptop-sized host; a GPU host gives each node its real share.
  "$bin/calor-provisioner" --operator-keypair .calor/keys/operator.json --region 1 --nodes 0 \
    --instance-image "$CALOR_INSTANCE_IMAGE" "${inventory[@]}" --ssh-bind-ip 127.0.0.1 \
    --state-dir .calor/provisioner --memory-mib 2048 --cpus 2 --shm-mib 256 --workspace-mib 1024 \
    --reconcile-ms 500 --heartbeat-secs 10 --allowed-origins "$APP_ORIGIN" >> .calor/provisioner.log 2>&1 &
  pids+=($!)
  echo $! > .calor/provisioner.pid
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:9400/healthz >/dev/null && break; sleep 0.1; done
  curl -sf http://127.0.0.1:9400/healthz >/dev/null || { cat .calor/provisioner.log; return 1; }
}

# Stops what was started, newest first (the provisioner finishes its steps against a live chain).
stop_started() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  stop_local_engine
}
