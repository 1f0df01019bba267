#!/usr/bin/env bash
# For development: a local chain with the program deployed and migrated (config, GPU catalog,
# regions, Calor price, staking, a demo provider and node), serving until Ctrl-C.
# RPC http://127.0.0.1:8899, websocket ws://127.0.0.1:8900; keys in .calor/keys.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/local-tools.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/calor/target}

bash tools/sbf/install.sh
bash tools/sbf/build.sh
CALOR_LOCALNET_BIN=$(bash tools/localnet/build.sh)
cargo build -q --locked --ignore-rust-version -p calor-migrations
pids=()
trap stop_started EXIT
start_local_chain "$CARGO_TARGET_DIR/debug" "$CARGO_TARGET_DIR/deploy/calor.so"
echo "local chain ready at http://127.0.0.1:8899 (Ctrl-C stops it)"
wait "${pids[0]}"
