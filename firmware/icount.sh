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
# MACs: multiply-accumulates of the model (4 layers, hidden 128, FFN 512; i16 x int4 weights in the
# bundled blob's layers, i16 x i8 over the int8 KV cache):
#   per layer 12*L*128^2 (QKV, output, FFN) + 2*L^2*128 (scores, attention x V); plus 128^2 + 2*128
#   (pooler, classifier). insn/MAC = all instructions of the inference / those MACs.
#
# Then the `gen_bench` bin (the tiny GPT, models/tiny-gpt-int8.pfm: greedy Generator::next until the
# 256-token context is full, icount_mark around each call): guest instructions of one generated
# token at positions 16, 128 and 255, and tokens/s at 1 cycle per instruction on a 168 MHz
# Cortex-M4 and a 150 MHz Cortex-M33. MACs of the token at position p (4 layers, hidden 128, 4 query
# heads and 1 key/value head of 32, FFN 384, vocab 1024, tied head):
#   per layer 2*128^2 (q, o) + 2*128*32 (k, v) + 3*128*384 (gate, up, down) + 2*4*32*(p+1)
#   (scores, attention x V); plus 1024*128 (LM head).
#
# Then the `matmul_bench` bin: one dispatched kernels::matmul_i8_i16 call per shape (the models' m, k,
# n and larger GEMMs), then one kernels::matmul_i4_i16 call per int4 shape (the tiny GPT's layer
# matrices as `picoformer quantize --dtype int4` writes them, m = 1 and 4, groups of 32; one with
# groups of 64), each checked against the generic kernel bit for bit outside the marks, between
# icount_mark calls: guest instructions of the call and instructions per MAC (m*k*n); the `w`
# column says i8 or i4g<group>.
#
# The tiny GPT converted to int4 (instructions per token, flash, arena): firmware/icount-int4.sh.
#
# ci.sh sources this file for its helpers (icount_plugin, icount_mark_addr, qemu_icount) and runs nothing
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

# gen_bench_counts DEVICE_LOG ICOUNT_LOG: one line "pos<TAB>insns" per Generator::next of the
# `gen_bench` bin: its decoded `STEP k=K pos=P` lines paired with the plugin's `mark 2K+1` (the
# instructions between the marks 2K and 2K+1 around the K-th call). Fails if a count has no step.
gen_bench_counts() {
    awk 'FNR == NR {
             if (match($0, /STEP k=[0-9]+ pos=[0-9]+/)) { split(substr($0, RSTART, RLENGTH), a, /[= ]/); pos[a[3]] = a[5] }
             next
         }
         /^mark [0-9]+:/ { k = $2 + 0; if (k % 2 == 1) { s = (k - 1) / 2; if (s in pos) print pos[s] "\t" $3; else bad = 1 } }
         END { exit bad }' "$1" "$2"
}

# qemu_icount ELF PLUGIN_LOG DEVICE_LOG: runs ELF on QEMU mps2-an386 (Cortex-M4, no serial input)
# with the plugin counting between ELF's icount_mark calls (into PLUGIN_LOG) and its defmt output
# decoded into DEVICE_LOG. Needs ICOUNT_SO (icount_plugin); QEMU_TIMEOUT seconds (default 600).
# Fails when QEMU or defmt-print does.
qemu_icount() {
    local elf=$1 plog=$2 dlog=$3 mark
    mark=$(icount_mark_addr "$elf") || return 1
    rm -f "$plog"
    timeout "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -display none \
        -serial none -monitor none -semihosting-config enable=on,target=native -kernel "$elf" \
        -plugin "$ICOUNT_SO,mark=$mark" -d plugin -D "$plog" </dev/null \
        | defmt-print -e "$elf" > "$dlog"
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
    (cd "$HERE/boards/qemu-mps2" && env "$@" CARGO_TARGET_DIR="$tdir" cargo build -q --release --bin bench --bin gen_bench --bin matmul_bench)
    qemu_icount "$tdir/$T/release/bench" "$WORK/$label.log" "$WORK/$label.device.log"
    grep -q "BENCH DONE" "$WORK/$label.device.log" || { cat "$WORK/$label.device.log"; echo "bench failed ($label)" >&2; exit 1; }
    # marks 1, 3, 5 = the three inferences (mark 2k -> 2k+1)
    awk '/^mark [135]:/{printf "%s ", $3} END {print ""}' "$WORK/$label.log" > "$WORK/$label.counts"

    qemu_icount "$tdir/$T/release/gen_bench" "$WORK/gen-$label.log" "$WORK/gen-$label.device.log"
    grep -q "BENCH DONE" "$WORK/gen-$label.device.log" || { tail -20 "$WORK/gen-$label.device.log"; echo "gen_bench failed ($label)" >&2; exit 1; }
    # "pos<TAB>insns" per generated token
    gen_bench_counts "$WORK/gen-$label.device.log" "$WORK/gen-$label.log" > "$WORK/gen-$label.tsv"

    qemu_icount "$tdir/$T/release/matmul_bench" "$WORK/mm-$label.log" "$WORK/mm-$label.device.log"
    grep -q "BENCH DONE" "$WORK/mm-$label.device.log" || { tail -20 "$WORK/mm-$label.device.log"; echo "matmul_bench failed ($label)" >&2; exit 1; }
    # "m k n macs w insns" per shape: its `MATMUL i=I ...` line paired with the plugin's `mark 2I+1`
    awk 'FNR == NR {
             if (match($0, /MATMUL i=[0-9]+ m=[0-9]+ k=[0-9]+ n=[0-9]+ macs=[0-9]+ w=[a-z0-9]+/)) {
                 split(substr($0, RSTART, RLENGTH), a, /[= ]/); shape[a[3]] = a[5] " " a[7] " " a[9] " " a[11] " " a[13]
             }
             next
         }
         /^mark [0-9]+:/ { k = $2 + 0; if (k % 2 == 1) { i = (k - 1) / 2; if (i in shape) print shape[i], $3; else bad = 1 } }
         END { exit bad }' "$WORK/mm-$label.device.log" "$WORK/mm-$label.log" > "$WORK/mm-$label.tsv"
    local shapes
    shapes=$(sed -n 's/.*BENCH DONE shapes=\([0-9]*\).*/\1/p' "$WORK/mm-$label.device.log")
    [ "$(wc -l < "$WORK/mm-$label.tsv")" = "$shapes" ] || { echo "matmul_bench: $(wc -l < "$WORK/mm-$label.tsv") counts for $shapes shapes ($label)" >&2; exit 1; }
}

run dsp "$HERE/target"
run nodsp "$HERE/target/nodsp" PICOFORMER_NO_DSP=1

read -r -a D < "$WORK/dsp.counts"
read -r -a G < "$WORK/nodsp.counts"
grep BENCH "$WORK/dsp.device.log" | grep tokens
echo
printf '| tokens | MACs | insns, generic | insns, DSP (SMLAD) | DSP / generic | insn/MAC generic | insn/MAC DSP |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|\n'
i=0
for L in 16 32 64; do
    awk -v L=$L -v g="${G[$i]}" -v d="${D[$i]}" 'BEGIN {
        macs = 4 * (12 * L * 128 * 128 + 2 * L * L * 128) + 128 * 128 + 2 * 128
        printf "| %d | %d | %d | %d | %.3f | %.2f | %.2f |\n", L, macs, g, d, d / g, g / macs, d / macs }'
    i=$((i + 1))
done

echo
grep "BENCH prompt" "$WORK/gen-dsp.device.log"
echo
echo "tiny GPT, one generated token (Generator::next) at position pos; tok/s assume 1 cycle per instruction"
printf '| pos | int8 MACs | insns, generic | insns, DSP (SMLAD) | DSP / generic | insn/MAC DSP | tok/s 168 MHz M4 (DSP) | tok/s 150 MHz M33 (DSP) |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
awk -F'\t' 'FNR == NR { g[$1] = $2; next } { d[$1] = $2 }
    END {
        split("16 128 255", want, " ")
        for (i = 1; i <= 3; i++) {
            p = want[i]
            macs = 4 * (2 * 128 * 128 + 2 * 128 * 32 + 3 * 128 * 384 + 2 * 4 * 32 * (p + 1)) + 1024 * 128
            printf "| %d | %d | %d | %d | %.3f | %.2f | %.1f | %.1f |\n", p, macs, g[p], d[p], d[p] / g[p], \
                d[p] / macs, 168e6 / d[p], 150e6 / d[p]
        }
    }' "$WORK/gen-nodsp.tsv" "$WORK/gen-dsp.tsv"

echo
echo "kernels::matmul_i8_i16 (w = i8) and kernels::matmul_i4_i16 (w = i4g<group>), one call per shape (matmul_bench;"
echo "outputs checked bit for bit against generic)"
printf '| w | m | k | n | MACs | insns, generic | insn/MAC generic | insns, DSP (SMLAD) | insn/MAC DSP |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
paste -d' ' "$WORK/mm-nodsp.tsv" "$WORK/mm-dsp.tsv" | awk '{
    if ($1 != $7 || $2 != $8 || $3 != $9 || $5 != $11) { print "shape mismatch between the two runs" > "/dev/stderr"; exit 1 }
    printf "| %s | %d | %d | %d | %d | %d | %.3f | %d | %.3f |\n", $5, $1, $2, $3, $4, $6, $6 / $4, $12, $12 / $4 }'
