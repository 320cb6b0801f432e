#!/usr/bin/env bash
# The tiny GPT with group-wise int4 layer matrices on the Cortex-M4 (QEMU mps2-an386), beside the
# bundled int8 blob: guest instructions per generated token, flash and arena.
#
#   bash firmware/icount-int4.sh
#
# 1. Builds the host tool and converts the bundled checkpoint: `picoformer quantize
#    models/tiny-gpt --dtype int4 -o firmware/target/icount-int4/tiny-gpt-int4.pfm` (the layers'
#    matrices in int4, groups of 32; embeddings and the tied head stay int8). Nothing is written
#    outside firmware/target.
# 2. Builds the `generate` and `gen_bench` bins twice with the DSP kernels: with the default blob
#    (models/tiny-gpt-int8.pfm, in firmware/target like ci.sh) and with
#    `PICOFORMER_GPT_BLOB=<the int4 blob>` (read by app/build.rs, which embeds it and sizes the
#    arena for it; own target dir firmware/target/icount-int4).
# 3. Runs the int4 `generate` under QEMU (greedy, up to 32 new tokens for each line of
#    prompts.txt) and checks its ids against the host tool on the same blob (`picoformer generate
#    --temperature 0 --kv int8 --context 256 --max-tokens 32`; its int4 kernels are bit-exact with
#    the device's); prints the device's stack high-water mark.
# 4. Runs `gen_bench` of both builds with the instruction-count plugin (see icount.sh) and prints
#    the instructions of one generated token at positions 16, 128 and 255, int8 vs int4, then
#    flash (`llvm-size -A`, as ci.sh's `sizes`) and the arena (GPT_ARENA_LEN) of both builds.
# Exits non-zero on a build, QEMU or parity failure.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
T=thumbv7em-none-eabihf
WORK="$HERE/target/icount-int4"
BLOB="$WORK/tiny-gpt-int4.pfm"
POSITIONS="16 128 255"
mkdir -p "$WORK"
# shellcheck source=icount.sh
source "$HERE/icount.sh"   # icount_plugin, qemu_icount, gen_bench_counts
icount_plugin "$HERE/target/icount"
die() { echo "FAIL: $*" >&2; exit 1; }
SIZE=$(command -v llvm-size || command -v rust-size || ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size 2>/dev/null | head -1) \
    || die "no llvm-size"

echo "== int4 blob"
(cd "$ROOT" && cargo build -q --release -p picoformer-tool -j2)
(cd "$ROOT" && target/release/picoformer quantize models/tiny-gpt --dtype int4 -o "$BLOB") | tail -3

# build LABEL TARGET_DIR [env...]: the generate and gen_bench bins.
build() {
    local tdir=$2; shift 2
    (cd "$HERE/boards/qemu-mps2" && env "$@" CARGO_TARGET_DIR="$tdir" cargo build -q --release --bin generate --bin gen_bench)
}
echo "== build: int8 (default blob) and int4 (PICOFORMER_GPT_BLOB)"
build int8 "$HERE/target"
build int4 "$WORK/cargo" PICOFORMER_GPT_BLOB="$BLOB"
arena_rs() { ls -t "$1"/$T/release/build/picoformer-app-*/out/arena.rs | head -1; }
const_of() { sed -n "s/^pub const $2: usize = \([0-9]*\);/\1/p" "$(arena_rs "$1")"; }
[ "$(const_of "$WORK/cargo" GPT_MODEL_LEN)" = "$(stat -c %s "$BLOB")" ] || die "the int4 build did not embed $BLOB"

echo "== int4 generate under QEMU vs the host tool on the same blob"
PROMPTS="$WORK/prompts.txt"
sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$HERE/prompts.txt" > "$PROMPTS"
NP=$(wc -l < "$PROMPTS")
GEN="$WORK/cargo/$T/release/generate"
qemu_icount "$GEN" "$WORK/gen.icount.log" "$WORK/gen.device.log" || { tail "$WORK/gen.device.log"; die "generate (int4) failed"; }
grep -q "DONE n=$NP\$" "$WORK/gen.device.log" || die "generate (int4) did not report DONE n=$NP"
grep STACK "$WORK/gen.device.log" || true
sed -n 's/.* GEN idx=[0-9]* prompt_tokens=[0-9]* new_tokens=[0-9]* stop=[A-Za-z]* ids=\[\(.*\)\].*/\1/p' \
    "$WORK/gen.device.log" | tr -d ' ' > "$WORK/gen.device.tsv"
: > "$WORK/gen.host-tool.jsonl"
while IFS= read -r p; do
    (cd "$ROOT" && target/release/picoformer generate -m "$BLOB" --prompt "$p" --temperature 0 --json --kv int8 \
        --context 256 --max-tokens 32) < /dev/null >> "$WORK/gen.host-tool.jsonl" || die "picoformer generate failed on: $p"
done < "$PROMPTS"
sed -n 's/.*"prompt_ids":\[\([^]]*\)\],"ids":\[\([^]]*\)\].*/\1,\2/p' "$WORK/gen.host-tool.jsonl" | sed 's/,$//' \
    > "$WORK/gen.host-tool.tsv"
paste -d'\t' "$WORK/gen.device.tsv" "$WORK/gen.host-tool.tsv" | awk -F'\t' -v np="$NP" '
    { if ($1 == $2 && $1 != "") ok++; else printf "prompt %d differs\n  device %s\n  tool   %s\n", NR - 1, $1, $2 }
    END { printf "int4 generate: %d of %d prompts with the host tool'"'"'s ids\n", ok, np; exit !(ok == np && NR == np) }' \
    || die "int4 generate parity"

echo "== gen_bench (int8, int4)"
for label in int8 int4; do
    tdir="$HERE/target"; [ "$label" = int4 ] && tdir="$WORK/cargo"
    qemu_icount "$tdir/$T/release/gen_bench" "$WORK/gb-$label.log" "$WORK/gb-$label.device.log"
    grep -q "BENCH DONE" "$WORK/gb-$label.device.log" || die "gen_bench ($label) did not finish"
    gen_bench_counts "$WORK/gb-$label.device.log" "$WORK/gb-$label.log" > "$WORK/gb-$label.tsv"
done
grep "BENCH prompt" "$WORK/gb-int4.device.log"
echo
echo "tiny GPT, one generated token (Generator::next) at position pos, DSP kernels; tok/s at 1 cycle per instruction"
printf '| pos | insns, int8 | insns, int4 | int4 / int8 | tok/s 168 MHz M4, int8 | tok/s 168 MHz M4, int4 |\n'
printf '|---:|---:|---:|---:|---:|---:|\n'
awk -F'\t' -v want="$POSITIONS" 'FNR == NR { a[$1] = $2; next } { b[$1] = $2 }
    END {
        n = split(want, w, " ")
        for (i = 1; i <= n; i++) {
            p = w[i]
            if (!(p in a) || !(p in b)) { printf "no count for position %s\n", p; exit 1 }
            printf "| %d | %d | %d | %.3f | %.1f | %.1f |\n", p, a[p], b[p], b[p] / a[p], 168e6 / a[p], 168e6 / b[p]
        }
    }' "$WORK/gb-int8.tsv" "$WORK/gb-int4.tsv"

echo
echo "flash and arena of the generate bin ($SIZE -A; flash = vectors + .text + .rodata + .data)"
printf '| blob | blob bytes | flash bytes | .text | .rodata | GPT_ARENA_LEN |\n|---|---:|---:|---:|---:|---:|\n'
for label in int8 int4; do
    tdir="$HERE/target"; [ "$label" = int4 ] && tdir="$WORK/cargo"
    "$SIZE" -A "$tdir/$T/release/generate" | awk -v l="$label" -v model="$(const_of "$tdir" GPT_MODEL_LEN)" \
        -v arena="$(const_of "$tdir" GPT_ARENA_LEN)" '
        $1==".vector_table"||$1==".text"||$1==".rodata"||$1==".data" { flash += $2 }
        $1==".text" { text = $2 } $1==".rodata" { ro = $2 }
        END { printf "| %s | %d | %d | %d | %d | %d |\n", l, model, flash, text, ro, arena }'
done
