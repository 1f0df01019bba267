#!/usr/bin/env bash
# The web app's checks: its generated clients are current (program IDL, API description), the
# type check and build, the unit tests (vitest, on the program's test vectors), then the
# browser tests (app/e2e/run.mjs, Debian's Chromium) against the real local stack: local
# chain with the program, provisioner on Podman, API, the built app served by `vite preview`
# on 127.0.0.1:5173. Expects the workspace and the program built and
# the local tools prepared (scripts/test.sh does both first). With --bench it prints the app's
# figures instead (app/e2e/bench.mjs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/local-tools.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/calor/target}
bin="$CARGO_TARGET_DIR/debug"
# the stack's binaries: `cargo test` builds only those its tests name, not calor-dev or
# calor-migrate, so a stale or missing copy must not be what the browser tests run against
cargo build -q --locked --ignore-rust-version -p calor-migrations -p calor-provisioner -p calor-api
# run alone: the engine, the instance image and the local node first (scripts/test.sh did it)
if [[ -z "${CALOR_INSTANCE_IMAGE:-}" ]]; then prepare_local_tools; fi

if ! command -v chromium >/dev/null; then
  echo "app tests: installing Debian's chromium" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
fi
# npm's cache lives outside the clone; Playwright's own browser download is not used
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# one install for the npm workspaces: the SDK (@calor/sdk) and the app that uses it
npm ci --no-audit --no-fund --loglevel=error
npm run --silent codegen:check -w @calor/sdk
npm run --silent build -w @calor/sdk
npm run --silent build -w @calor/app
# the quote and the SSH key check against the program's own answers (tests/vectors/app.json)
npm run --silent test -w @calor/sdk

pids=()
# the browser tests restart the provisioner: the one running at the end is in its PID file
stop_all() {
  if [[ -f .calor/provisioner.pid ]]; then pids+=("$(cat .calor/provisioner.pid)"); fi
  stop_started
}
trap stop_all EXIT
export CALOR_BIN=$bin
start_local_chain "$bin" "$CARGO_TARGET_DIR/deploy/calor.so"
start_local_services "$bin"
export CALOR_API_PID=${pids[-1]}  # the browser tests stop the API to check the app works without it
"$bin/calor-dev" fund .calor/keys/renter-app.json >/dev/null
"$bin/calor-dev" fund-calor .calor/keys/renter-app.json 5000 >/dev/null  # to stake
"$bin/calor-dev" address .calor/keys/renter-poor.json >/dev/null  # a wallet with no SOL
"$bin/calor-dev" fund .calor/keys/renter-sdk.json >/dev/null
require_free_ports 5173
(cd app && exec ../node_modules/.bin/vite preview --strictPort > ../.calor/app.log 2>&1) &
pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:5173/ >/dev/null && break; sleep 0.1; done
if [[ "${1:-}" != "--bench" ]]; then
  # the TypeScript SDK as a Node script uses it: compute, watch, list, stop on this stack
  (cd sdk/ts && CALOR_SDK_KEY=../../.calor/keys/renter-sdk.json CALOR_SDK_POOR_KEY=../../.calor/keys/renter-poor.json \
    ../../node_modules/.bin/vitest run test/stack)
fi
if [[ "${1:-}" == "--bench" ]]; then
  CALOR_E2E_KEY=.calor/keys/renter-app.json node app/e2e/bench.mjs
else
  CALOR_E2E_KEY=.calor/keys/renter-app.json CALOR_E2E_POOR_KEY=.calor/keys/renter-poor.json \
    node app/e2e/run.mjs
fi
