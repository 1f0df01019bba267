#!/usr/bin/env bash
# Runs every test: installs the offline SBF toolchain if needed (cached in ~/.cache), builds
# target/deploy/calor.so and the IDL, prepares the local chain, the container engine and the
# instance image (scripts/local-tools.sh), then runs the host unit tests, the LiteSVM suite
# that executes the built .so, the provisioner's and the API's end-to-end tests on the local
# chain, and the web app's browser tests (scripts/app-test.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/local-tools.sh

bash tools/sbf/install.sh
bash tools/sbf/build.sh
prepare_local_tools
trap stop_local_engine EXIT
# litesvm's agave 4.3 crates declare rust-version 1.97.1 and build fine on this toolchain
cargo test --workspace --locked --ignore-rust-version
# the web app: generated clients current, type check and build, browser tests on the local stack
bash scripts/app-test.sh
