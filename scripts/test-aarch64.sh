#!/usr/bin/env bash
# The NEON kernels (src/kernels/neon.rs) on aarch64 under QEMU user-mode emulation: installs what is
# missing (Debian packages qemu-user, gcc-aarch64-linux-gnu and libc6-dev-arm64-cross; the rustup
# target aarch64-unknown-linux-gnu), builds the core's kernel tests and unit tests for
# aarch64-unknown-linux-gnu and runs them with qemu-aarch64, every NEON variant against the generic
# kernels (bit-exact for the integer kernels). PICOFORMER_REQUIRE_SIMD=neon makes the run fail if
# the NEON variants would be skipped. Then it checks that the no_std core (no features) builds for
# aarch64 too, with the NEON kernels: for aarch64-unknown-linux-gnu and for the bare-metal
# aarch64-unknown-none (no std library at all).
# Emulated timings say nothing about the speed on hardware; this checks results only.
# Its own target dir (target/aarch64) keeps the host build untouched.
# Env: SKIP_INSTALL=1 (never install anything), PROPTEST_CASES (default: each test's own count).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
BARE_TARGET=aarch64-unknown-none
SYSROOT=/usr/aarch64-linux-gnu
export CARGO_TARGET_DIR="$PWD/target/aarch64"

# shellcheck source=install-lib.sh
source scripts/install-lib.sh   # die, apt_install, rustup_targets

# ---------------------------------------------------------------- toolchain
missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-dev-arm64-cross)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
rustup_targets $TARGET $BARE_TARGET
qemu-aarch64 --version | head -1

# ---------------------------------------------------------------- tests under qemu-aarch64
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"
export PICOFORMER_REQUIRE_SIMD=neon
echo "== PICOFORMER_REQUIRE_SIMD=$PICOFORMER_REQUIRE_SIMD"
status=0
cargo test -p picoformer --release --target "$TARGET" --features std --no-fail-fast -j2 \
    --lib --test kernels --test kernels_a16 --test kernels_i4 -- --show-output || status=$?

# ---------------------------------------------------------------- no_std core
for t in $TARGET $BARE_TARGET; do
    echo "== no_std core: cargo build -p picoformer --release --target $t --no-default-features"
    cargo build -p picoformer --release --target "$t" --no-default-features -j2 || status=1
done
exit $status
