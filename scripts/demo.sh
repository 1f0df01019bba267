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

say "starting the provisioner and the API"
start_local_services "$bin"
echo "API:      http://127.0.0.1:8080/api"
echo "API docs: http://127.0.0.1:8080/api/docs (OpenAPI: http://127.0.0.1:8080/api/openapi.json)"

say "building and serving the web app"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
npm run --silent build -w @calor/app > .calor/app-build.log
require_free_ports 5173
(cd app && exec ../node_modules/.bin/vite preview --strictPort > ../.calor/app.log 2>&1) &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "$APP_ORIGIN/" >/dev/null && break; sleep 0.1; done
echo "web app:  $APP_ORIGIN/ (a wallet on the local chain: see README, \"The web app\")"

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
  say "serving until Ctrl-C: web app $APP_ORIGIN/, API http://127.0.0.1:8080/api/docs, RPC http://127.0.0.1:8899"
  wait
fi
