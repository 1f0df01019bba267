#!/usr/bin/env bash
# Runs every test: installs the offline SBF toolchain if needed (cached in ~/.cache), builds
# target/deploy/calor.so and the IDL, then the host unit tests and the LiteSVM suite that
# executes the built .so.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/sbf/install.sh
bash tools/sbf/build.sh
# litesvm's agave 4.3 crates declare rust-version 1.97.1 and build fine on this toolchain
cargo test --workspace --locked --ignore-rust-version
