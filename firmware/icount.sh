#!/usr/bin/env bash
# Guest instructions per inference (QEMU mps2-an386, Cortex-M4) at 16, 32 and 64 tokens, with the
# SXTB16/SMLAD matmul_i8_i16 kernel (src/kernels/cortex_m.rs) and without it (PICOFORMER_NO_DSP=1,
# read by the root build.rs: generic scalar kernels only).
#
#   bash firmware/icount.sh
#
# The counter is the project's QEMU TCG plugin, firmware/tools/icount.c, built for the installed
# QEMU by firmware/tools/build-icount.sh into firmware/target/icount/libicount.so.
#
# Runs the `bench` firmware bin (boards/qemu-mps2), which calls `icount_mark` right before and right after each
# `Session::classify` (tokenize + 4-layer encoder + pooler + head; SessionOptions as in ci.sh:
# max 64 tokens, chunk 2, int8 KV). The plugin counts instructions between consecutive marks.
# MACs: int8 (i16 x i8) multiply-accumulates of the model (4 layers, hidden 128, FFN 512):
#   per layer 12*L*128^2 (QKV, output, FFN) + 2*L^2*128 (scores, attention x V); plus 128^2 + 2*128
#   (pooler, classifier). insn/MAC = all instructions of the inference / those MACs.
#
# ci.sh sources this file for its two helpers (icount_plugin, icount_mark_addr) and runs nothing
# else from it; executed, it runs the benchmark below.

# icount_plugin WORKDIR: builds the plugin into WORKDIR/libicount.so for the installed QEMU (sets
# ICOUNT_SO). Fails with a message when it cannot.
icount_plugin() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    ICOUNT_SO=$(bash "$here/tools/build-icount.sh" "$1")
}

# icount_mark_addr ELF: prints the address of `icount_mark` in ELF (Thumb bit cleared), as 0x...
icount_mark_addr() {
    local elf=$1 nm addr
    nm=$(command -v llvm-nm || command -v rust-nm || command -v arm-none-eabi-nm || true)
    [ -n "$nm" ] || { echo "no nm found (llvm-nm, rust-nm, arm-none-eabi-nm)" >&2; return 1; }
    addr=$("$nm" "$elf" | awk '$3=="icount_mark"{print $1}')
    [ -n "$addr" ] || { echo "icount_mark not found in $elf" >&2; return 1; }
    printf '0x%x\n' $(( 0x$addr & ~1 ))
}

# Sourced (by ci.sh): only the helpers above.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
T=thumbv7em-none-eabihf
WORK="$HERE/target/icount"
icount_plugin "$WORK"

run() { # $1 = label, $2 = cargo target dir, rest: env
    local label=$1 tdir=$2; shift 2
    (cd "$HERE/boards/qemu-mps2" && env "$@" CARGO_TARGET_DIR="$tdir" cargo build -q --release --bin bench)
    local elf="$tdir/$T/release/bench"
    local addr
    addr=$(icount_mark_addr "$elf")
    rm -f "$WORK/$label.log"
    timeout 600 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -display none -serial none -monitor none \
        -semihosting-config enable=on,target=native -kernel "$elf" \
        -plugin "$ICOUNT_SO,mark=$addr" -d plugin -D "$WORK/$label.log" </dev/null \
        | defmt-print -e "$elf" > "$WORK/$label.device.log"
    grep -q "BENCH DONE" "$WORK/$label.device.log" || { cat "$WORK/$label.device.log"; echo "bench failed ($label)" >&2; exit 1; }
    # marks 1, 3, 5 = the three inferences (mark 2k -> 2k+1)
    awk '/^mark [135]:/{printf "%s ", $3} END {print ""}' "$WORK/$label.log" > "$WORK/$label.counts"
}

run dsp "$HERE/target"
run nodsp "$HERE/target/nodsp" PICOFORMER_NO_DSP=1

read -r -a D < "$WORK/dsp.counts"
read -r -a G < "$WORK/nodsp.counts"
grep BENCH "$WORK/dsp.device.log" | grep tokens
echo
printf '| tokens | int8 MACs | insns, generic | insns, DSP (SMLAD) | DSP / generic | insn/MAC generic | insn/MAC DSP |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|\n'
i=0
for L in 16 32 64; do
    awk -v L=$L -v g="${G[$i]}" -v d="${D[$i]}" 'BEGIN {
        macs = 4 * (12 * L * 128 * 128 + 2 * L * L * 128) + 128 * 128 + 2 * 128
        printf "| %d | %d | %d | %d | %.3f | %.2f | %.2f |\n", L, macs, g, d, d / g, g / macs, d / macs }'
    i=$((i + 1))
done
