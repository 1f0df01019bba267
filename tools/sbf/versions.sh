# Pinned inputs of the offline SBF toolchain and where its pieces live. Sourced by install.sh and build.sh.
RUST_WEB_VERSION=1.96.0+dfsg1-1~deb12u2
LLVM22_VERSION=1:22.1.8-1~deb12u1
MLC_LLVM_VERSION=23.1.1.post0
SBPF_LINKER_VERSION=0.2.6

CALOR_SBF_HOME=${CALOR_SBF_HOME:-$HOME/.cache/calor-sbf}
SBPF_LINKER=$CALOR_SBF_HOME/bin/sbpf-linker
STD_SRC_ROOT=$CALOR_SBF_HOME/rust-src/library
I128_BC=$CALOR_SBF_HOME/sbpf-i128-libcalls.bc
LLVM_AS=/usr/lib/llvm-22/bin/llvm-as
