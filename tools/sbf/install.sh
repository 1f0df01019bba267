#!/usr/bin/env bash
# Installs the registry-only SBF toolchain that builds programs/calor into an SBPF v3 `.so`
# without Solana's platform-tools (which cannot be downloaded on machines that only reach
# crates.io, PyPI, npm and Debian's archive). Idempotent: every step is skipped when its
# result is already in the cache, so a second run takes seconds.
#
#   Debian    rustc-web, cargo-web, rust-web-src (1.96: a compiler and its matching library
#             source, for -Zbuild-std), llvm-22 (only llvm-as, for the i128 libcall shims)
#   PyPI      mlc-llvm-static(-extra-targets) 23.1.1: LLVM 23 with the BPF backend, only to
#             build the linker (LLVM 22's BPF backend rejects aggregate returns)
#   crates.io sbpf-linker 0.2.6, statically linked against that LLVM
#
# Heavy artefacts live under $CALOR_SBF_HOME (default ~/.cache/calor-sbf), outside the repo.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/sbf/versions.sh
source "$HERE/versions.sh"

say() { printf '\033[1;34m[sbf-install]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[sbf-install] error:\033[0m %s\n' "$*" >&2; exit 1; }

mkdir -p "$CALOR_SBF_HOME"

need_root() {
  [ "$(id -u)" = 0 ] || die "installing Debian packages needs root (or install them yourself: $*)"
}

# ---------- 1. Debian packages, pinned ----------
installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

apt_ready=0
apt_update_once() {
  if [ "$apt_ready" = 0 ]; then
    say "apt-get update"
    apt-get update -qq
    apt_ready=1
  fi
}

ensure_deb() { # name version
  local name=$1 want=$2 have
  have=$(installed_version "$name")
  if [ "$have" = "$want" ]; then return; fi
  need_root "$name=$want"
  apt_update_once
  local candidates
  candidates=$(apt-cache madison "$name" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}')
  if ! grep -qxF "$want" <<<"$candidates"; then
    die "Debian package $name=$want is not available from the configured archive.
  available: ${candidates:-none}
  what to do: the pinned versions live in tools/sbf/versions.sh. Pick an available version of
  rustc-web/cargo-web/rust-web-src (all three must match), check that tools/sbf/patch_std_solana.py
  still applies to its library source (run this script again: it stops with 'pattern not found' if
  not), then rebuild from scratch (rm -rf target/sbpf-solana-solana)."
  fi
  say "installing $name=$want"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$name=$want" >/dev/null
}

ensure_deb rustc-web "$RUST_WEB_VERSION"
ensure_deb cargo-web "$RUST_WEB_VERSION"
ensure_deb rust-web-src "$RUST_WEB_VERSION"
ensure_deb llvm-22 "$LLVM22_VERSION"
[ -x "$LLVM_AS" ] || die "$LLVM_AS missing although llvm-22 is installed"
command -v python3 >/dev/null || die "python3 is required (to patch std and to unpack the LLVM wheels)"

# ---------- 2. sbpf-linker built against LLVM 23 ----------
if [ -x "$SBPF_LINKER" ] && [ "$(cat "$CALOR_SBF_HOME/sbpf-linker.version" 2>/dev/null)" = "$SBPF_LINKER_VERSION" ]; then
  say "sbpf-linker $SBPF_LINKER_VERSION: cached"
else
  llvm="$CALOR_SBF_HOME/llvm23"
  if [ ! -x "$llvm/bin/llvm-config" ]; then
    say "downloading LLVM $MLC_LLVM_VERSION (static, with the BPF backend) from PyPI"
    dl="$CALOR_SBF_HOME/pip"
    rm -rf "$dl" && mkdir -p "$dl"
    python3 -m pip download -q --no-deps -d "$dl" \
      "mlc-llvm-static==$MLC_LLVM_VERSION" "mlc-llvm-static-extra-targets==$MLC_LLVM_VERSION" \
      || die "pip could not download mlc-llvm-static==$MLC_LLVM_VERSION (is PyPI reachable?)"
    mkdir -p "$dl/unpacked"
    for w in "$dl"/mlc_llvm_static*.whl; do python3 -m zipfile -e "$w" "$dl/unpacked"; done
    rm -rf "$llvm" && mv "$dl/unpacked/mlc_llvm_static/static" "$llvm" && rm -rf "$dl"
    chmod +x "$llvm/bin/"*
  fi
  say "building sbpf-linker $SBPF_LINKER_VERSION against LLVM 23 (a few minutes)"
  LLVM_PREFIX="$llvm" LLVM_SYS_231_PREFIX="$llvm" ZLIB_PATH="$llvm/lib" LIBZSTD_PATH="$llvm/lib" \
    cargo install -q sbpf-linker --version "$SBPF_LINKER_VERSION" --locked --no-default-features \
      --features bpf-linker/llvm-23,bpf-linker/llvm-link-static \
      --root "$CALOR_SBF_HOME" --target-dir "$CALOR_SBF_HOME/linker-target"
  echo "$SBPF_LINKER_VERSION" >"$CALOR_SBF_HOME/sbpf-linker.version"
  # The linker is static: the LLVM SDK and its build tree are no longer needed.
  rm -rf "$llvm" "$CALOR_SBF_HOME/linker-target"
fi

# ---------- 3. std source patched for target_os = "solana", and the i128 libcall shims ----------
stamp=$( (echo "$RUST_WEB_VERSION"; cat "$HERE/patch_std_solana.py" "$HERE/solana_i128.rs" "$HERE/sbpf-i128-libcalls.ll") | sha256sum | cut -c1-16)
if [ "$(cat "$CALOR_SBF_HOME/std.stamp" 2>/dev/null)" = "$stamp" ] && [ -d "$STD_SRC_ROOT/std" ] && [ -f "$I128_BC" ]; then
  say "patched std ($stamp): cached"
else
  src=/usr/lib/rustlib/src/rust/library
  [ -d "$src/std" ] || die "$src is missing: rust-web-src=$RUST_WEB_VERSION did not install the library source"
  say "patching a copy of Rust $RUST_WEB_VERSION std for target_os = \"solana\""
  rm -rf "$STD_SRC_ROOT" && mkdir -p "$(dirname "$STD_SRC_ROOT")"
  cp -a "$src" "$STD_SRC_ROOT"
  python3 "$HERE/patch_std_solana.py" "$STD_SRC_ROOT" >/dev/null
  "$LLVM_AS" "$HERE/sbpf-i128-libcalls.ll" -o "$I128_BC"
  echo "$stamp" >"$CALOR_SBF_HOME/std.stamp"
  # build-std units are not re-fingerprinted when the std source changes
  touch "$CALOR_SBF_HOME/std.changed"
fi

say "toolchain ready in $CALOR_SBF_HOME"
