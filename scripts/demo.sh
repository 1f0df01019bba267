#!/usr/bin/env bash
# The main job on one machine: builds the program, starts a local Solana node with it
# deployed, sets the protocol up (migrations/), starts a provisioner on the local container
# engine, and runs one rental end to end as a renter sees it (migrations/src/bin/local_demo.rs).
# State and logs go to .calor/. Ports: 8899 (RPC), 8900 (websocket), 9400 (provisioner).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/local-tools.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/calor/target}
say() { printf '\n== %s\n' "$*"; }

say "building the program (SBF) and the tools"
bash tools/sbf/install.sh
bash tools/sbf/build.sh
prepare_local_tools
cargo build -q --locked --ignore-rust-version -p calor-migrations -p calor-provisioner
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

require_free_ports 9400
say "starting the provisioner (region 1, node 0) on $DOCKER_HOST"
# A small share for a laptop-sized host; a GPU host gives each node its real share.
"$bin/calor-provisioner" --operator-keypair .calor/keys/operator.json --region 1 --nodes 0 \
  --instance-image "$CALOR_INSTANCE_IMAGE" "${inventory[@]}" --ssh-bind-ip 127.0.0.1 \
  --state-dir .calor/provisioner --memory-mib 2048 --cpus 2 --shm-mib 256 --workspace-mib 1024 \
  --reconcile-ms 500 > .calor/provisioner.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:9400/healthz >/dev/null && break; sleep 0.1; done
curl -sf http://127.0.0.1:9400/healthz >/dev/null || { cat .calor/provisioner.log; exit 1; }

say "a rental, end to end"
"$bin/calor-local-demo" http://127.0.0.1:8899 .calor

sleep 1  # the provisioner may still be confirming its settle transaction
say "provisioner metrics"
curl -s http://127.0.0.1:9400/metrics | grep -E "^calor_" | grep -v "_bucket"
