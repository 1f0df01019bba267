#!/usr/bin/env bash
# The main job on one machine: builds the program, starts a local Solana node with it
# deployed, sets the protocol up (migrations/), starts a provisioner on the local container
# engine and the API, runs one rental end to end as a renter sees it
# (migrations/src/bin/local_demo.rs), then the renter's API session over curl
# (scripts/api-session.sh). With --serve it keeps everything up afterwards until Ctrl-C.
# State and logs go to .calor/. Ports: 8899 (RPC), 8900 (websocket), 9400 (provisioner),
# 8080 (API).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/local-tools.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/calor/target}
say() { printf '\n== %s\n' "$*"; }

say "building the program (SBF) and the tools"
bash tools/sbf/install.sh
bash tools/sbf/build.sh
prepare_local_tools
cargo build -q --locked --ignore-rust-version -p calor-migrations -p calor-provisioner -p calor-api
bin="$CARGO_TARGET_DIR/debug"

pids=()
trap stop_started EXIT

say "starting the local chain (surfpool-core) with the program deployed, then the migrations"
start_local_chain "$bin" "$CARGO_TARGET_DIR/deploy/calor.so"

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

require_free_ports 9400 8080
say "starting the provisioner (region 1, node 0) on $DOCKER_HOST"
# A small share for a laptop-sized host; a GPU host gives each node its real share.
"$bin/calor-provisioner" --operator-keypair .calor/keys/operator.json --region 1 --nodes 0 \
  --instance-image "$CALOR_INSTANCE_IMAGE" "${inventory[@]}" --ssh-bind-ip 127.0.0.1 \
  --state-dir .calor/provisioner --memory-mib 2048 --cpus 2 --shm-mib 256 --workspace-mib 1024 \
  --reconcile-ms 500 --heartbeat-secs 10 > .calor/provisioner.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:9400/healthz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:9400/healthz >/dev/null || { cat .calor/provisioner.log; exit 1; }

say "starting the API (SQLite at .calor/api.db) and a keeper of the local SOL/USD price"
# A live Pyth feed is always fresh; the local one is as old as its last publication.
"$bin/calor-dev" keep-price --every 20 > .calor/price.log 2>&1 &
pids+=($!)
rm -f .calor/api.db .calor/api.db-wal .calor/api.db-shm  # an index belongs to one chain: this one is new
"$bin/calor-api" --listen 127.0.0.1:8080 --database-url sqlite://.calor/api.db \
  --app-origin http://localhost:5173 --public-uri http://127.0.0.1:8080/api > .calor/api.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; sleep 0.2; done
curl -sf http://127.0.0.1:8080/healthz >/dev/null || { cat .calor/api.log; exit 1; }
echo "API:      http://127.0.0.1:8080/api"
echo "API docs: http://127.0.0.1:8080/api/docs (OpenAPI: http://127.0.0.1:8080/api/openapi.json)"

say "a rental, end to end"
"$bin/calor-local-demo" http://127.0.0.1:8899 .calor

sleep 1  # the provisioner may still be confirming its settle transaction
say "provisioner metrics"
curl -s http://127.0.0.1:9400/metrics | grep -E "^calor_" | grep -v "_bucket"

say "the renter's API session over curl (scripts/api-session.sh)"
CALOR_DEV="$bin/calor-dev" bash scripts/api-session.sh
# the provisioner removes the settled job's instance; stopping it before would leave it behind
for _ in $(seq 1 150); do
  curl -s http://127.0.0.1:9400/metrics | grep -qx "calor_instances 0" && break
  sleep 0.2
done

if [[ "${1:-}" == "--serve" ]]; then
  say "serving until Ctrl-C: API http://127.0.0.1:8080/api/docs, RPC http://127.0.0.1:8899"
  wait
fi
