#!/usr/bin/env bash
# Builds the local node once per machine and prints the binary's path. The binary is cached
# under ~/.cache/calor/bin, keyed by the wrapper's sources and lockfile: a cold build is about
# 14 minutes on 2 cores, a cached one is instant.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${CALOR_CACHE:-$HOME/.cache/calor}"
key=$(cat "$here/Cargo.toml" "$here/Cargo.lock" "$here/src/main.rs" | sha256sum | cut -c1-16)
bin="$cache/bin/calor-localnet-$key"
if [[ ! -x "$bin" ]]; then
  echo "localnet: building surfpool-core wrapper (first time on this machine: ~14 min)" >&2
  # Agave 4.3 declares rust-version 1.97.1 and builds on the installed toolchain.
  CARGO_TARGET_DIR="$cache/localnet-target" cargo build --release --locked --ignore-rust-version \
    --manifest-path "$here/Cargo.toml" >&2
  mkdir -p "$cache/bin"
  cp "$cache/localnet-target/release/calor-localnet" "$bin.tmp" && mv "$bin.tmp" "$bin"
fi
echo "$bin"
