#!/usr/bin/env bash
# Builds programs/calor into target/deploy/calor.so (SBPF v3) and target/idl/calor.json
# through the offline route set up by tools/sbf/install.sh. Where Solana's platform-tools
# exist, `anchor build` produces the same artefacts the standard way.
#
#   tools/sbf/build.sh           build the .so and the IDL
#   tools/sbf/build.sh --so      only the .so
#   tools/sbf/build.sh --idl     only the IDL
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=tools/sbf/versions.sh
source "$HERE/versions.sh"

say() { printf '\033[1;34m[sbf-build]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[sbf-build] error:\033[0m %s\n' "$*" >&2; exit 1; }

want_so=1 want_idl=1
case "${1:-}" in
  --so) want_idl=0 ;;
  --idl) want_so=0 ;;
  "") ;;
  *) die "unknown option $1 (use --so or --idl)" ;;
esac

cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

build_so() {
  local missing=()
  [ -x "$SBPF_LINKER" ] || missing+=("sbpf-linker ($SBPF_LINKER)")
  [ -d "$STD_SRC_ROOT/std" ] || missing+=("patched std source ($STD_SRC_ROOT)")
  [ -f "$I128_BC" ] || missing+=("i128 libcall shims ($I128_BC)")
  [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] || missing+=("Debian rustc-web/cargo-web")
  if [ ${#missing[@]} -gt 0 ]; then
    die "the offline SBF toolchain is not installed: missing ${missing[*]}.
  what to do: run tools/sbf/install.sh (as root, once per machine; later runs take seconds)"
  fi
  local have
  have=$(/usr/bin/rustc --version | awk '{print $2}')
  [ "$have" = "${RUST_WEB_VERSION%%+*}" ] || die "/usr/bin/rustc is $have, the patched std is for ${RUST_WEB_VERSION%%+*}: run tools/sbf/install.sh"

  # build-std units are not re-fingerprinted when the std source changes
  local sbf_dir="$TARGET_DIR/sbpf-solana-solana"
  if [ -d "$sbf_dir" ] && [ "$CALOR_SBF_HOME/std.changed" -nt "$sbf_dir" ]; then
    say "patched std changed: discarding $sbf_dir"
    rm -rf "$sbf_dir"
  fi

  local flags=(
    -C "linker=$SBPF_LINKER" -C panic=abort -C relocation-model=static
    -C target-cpu=v4 -C target-feature=+allows-misaligned-mem-access -C passes=lower-atomic
    -C link-arg=--arch=v3
    -C link-arg=--llvm-args=--bpf-stack-size=4096
    -C link-arg=--llvm-args=--disable-gotox -C link-arg=--llvm-args=--disable-ldsx
    -C link-arg=--llvm-args=--disable-movsx -C link-arg=--llvm-args=--disable-bswap
    -C "link-arg=$I128_BC" -C link-arg=--export=__muloti4
    # LTO at the default threshold inlines the shared helpers into each of the ~40 handlers:
    # 25 keeps the hot paths within ~1% of their compute units and the .so ~20% smaller
    # (measured: 865 KB at the default, 693 KB at 25, 678 KB at 0 but 3% more CU)
    -C link-arg=--llvm-args=-inline-threshold=25
  )
  say "building programs/calor for SBPF v3 (Debian rustc $have, patched std, sbpf-linker)"
  mkdir -p "$TARGET_DIR/deploy"
  # Debian's toolchain with unstable flags for build-std and the JSON target spec. The
  # host toolchain (rustup) is untouched: everything is set for this command only.
  env PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
    RUSTC_BOOTSTRAP=1 RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1 \
    __CARGO_TESTS_ONLY_SRC_ROOT="$STD_SRC_ROOT" \
    CARGO_ENCODED_RUSTFLAGS="$(IFS=$'\x1f'; echo "${flags[*]}")" \
    RUSTUP_TOOLCHAIN= \
    /usr/bin/cargo build --release -p calor --locked \
      --target "$HERE/sbpf-solana-solana.json" -Zjson-target-spec \
      -Zbuild-std=std,panic_abort -Zbuild-std-features=compiler-builtins-mem
  # cargo's own output is the linked program (sbpf-linker also drops a copy in ./target/deploy,
  # relative to the working directory, but only when cargo relinks)
  local so="$sbf_dir/release/libcalor.so"
  [ -f "$so" ] || die "the build finished but $so was not written"
  cp "$so" "$TARGET_DIR/deploy/calor.so"
  say "wrote $TARGET_DIR/deploy/calor.so ($(stat -c %s "$TARGET_DIR/deploy/calor.so") bytes)"
}

build_idl() {
  # What `anchor idl build` does, without the anchor CLI: the program's idl-build test
  # prints the IDL in sections, which are merged into one JSON document.
  say "building the IDL (host toolchain, feature idl-build)"
  mkdir -p "$TARGET_DIR/idl"
  local log="$TARGET_DIR/idl/build.log"
  if ! cargo test -p calor --locked --features idl-build --lib \
      -- __anchor_private_print_idl --show-output --quiet >"$log" 2>&1; then
    tail -40 "$log" >&2
    die "IDL build failed (full log: $log)"
  fi
  python3 "$HERE/idl_merge.py" <"$log" >"$TARGET_DIR/idl/calor.json"
  say "wrote $TARGET_DIR/idl/calor.json"
}

[ "$want_so" = 1 ] && build_so
[ "$want_idl" = 1 ] && build_idl
exit 0
