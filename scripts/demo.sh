#!/usr/bin/env bash
# Sets everything up and runs the main job: installs the offline SBF toolchain if needed,
# builds the program, loads it into a local SVM and runs the protocol's flow with narration.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash tools/sbf/install.sh
bash tools/sbf/build.sh
cargo run --locked --ignore-rust-version -p calor-tests --bin calor-demo
