# The tiny GPT part of firmware CI; sourced by ci.sh after the classify parity (it uses ci.sh's
# variables, `phase`, `die` and the plugin ICOUNT_SO; it is not run alone).
#
# 1. `generate` under QEMU with the instruction-count plugin: greedy, up to GPT_MAX_NEW new tokens
#    for each line of prompts.txt; defmt lines `TOKEN idx pos id logit(bits) ..` and `GEN .. ids=[..]`.
# 2. Parity, per prompt:
#    - host-ref `generate` (same GeneratorOptions: context 256, chunk 4, int8 KV; scalar kernels):
#      the same ids (BOS, prompt, generated) and the same bits of the largest logit before every
#      generated token;
#    - the host tool `picoformer generate --temperature 0 --json --kv int8 --context 256
#      --max-tokens 32` (its own prompt chunking, SIMD kernels): the same ids.
# 3. `gen_bench` under the plugin: guest instructions of Generator::next at positions
#    BENCH_POSITIONS, and tokens/s at 1 cycle per instruction on a 168 MHz Cortex-M4 and a 150 MHz
#    Cortex-M33 (RP2350).

phase "run generate under QEMU mps2-an386 (tiny GPT, greedy, instruction-count plugin)"
PROMPTS="$OUT/prompts.txt"
sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$HERE/prompts.txt" > "$PROMPTS"
NP=$(wc -l < "$PROMPTS")
if ! qemu_icount "$GEN_ELF" "$OUT/gen.icount.log" "$OUT/gen.device.log"; then
    cat "$OUT/gen.device.log"
    die "generate: QEMU or defmt-print failed"
fi
grep -v ' TOKEN ' "$OUT/gen.device.log"
echo "($(grep -c ' TOKEN ' "$OUT/gen.device.log") TOKEN lines in $OUT/gen.device.log; the first:)"
grep -m 3 ' TOKEN ' "$OUT/gen.device.log"
grep -q "DONE n=$NP\$" "$OUT/gen.device.log" || die "generate did not report DONE n=$NP"

# tokens: "idx<TAB>bits<TAB>insns", one per generated token, in order (the K-th token's count is
# the plugin's mark 2K+1)
sed -n 's/.* TOKEN idx=\([0-9]*\) pos=[0-9]* id=[0-9]* logit=\(0x[0-9a-f]*\) .*/\1\t\2/p' "$OUT/gen.device.log" \
    > "$OUT/gen.tokens.tsv"
awk '/^mark [0-9]+:/ { k = $2 + 0; if (k % 2 == 1) print $3 }' "$OUT/gen.icount.log" > "$OUT/gen.insns.tsv"
[ "$(wc -l < "$OUT/gen.insns.tsv")" = "$(wc -l < "$OUT/gen.tokens.tsv")" ] \
    || die "icount plugin: $(wc -l < "$OUT/gen.insns.tsv") counts for $(wc -l < "$OUT/gen.tokens.tsv") tokens"
# device, one line per prompt: "prompt_tokens<TAB>new_tokens<TAB>stop<TAB>ids<TAB>bits<TAB>insns"
paste "$OUT/gen.tokens.tsv" "$OUT/gen.insns.tsv" > "$OUT/gen.per-token.tsv"
sed -n 's/.* GEN idx=\([0-9]*\) prompt_tokens=\([0-9]*\) new_tokens=\([0-9]*\) stop=\([A-Za-z]*\) ids=\[\(.*\)\].*/\1\t\2\t\3\t\4\t\5/p' \
    "$OUT/gen.device.log" | tr -d ' ' > "$OUT/gen.lines.tsv"
awk -F'\t' 'FNR == NR { bits[$1] = bits[$1] (n[$1]++ ? "," : "") $2; insns[$1] += $3; next }
            { print $2 "\t" $3 "\t" $4 "\t" $5 "\t" bits[$1] "\t" insns[$1] + 0 }' \
    "$OUT/gen.per-token.tsv" "$OUT/gen.lines.tsv" > "$OUT/gen.device.tsv"

phase "host reference: generate with identical options, scalar kernels (firmware/host-ref)"
(cd "$ROOT" && env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
    cargo run -q --release --manifest-path firmware/host-ref/Cargo.toml -- generate \
    --context $GPT_CONTEXT --chunk $GPT_CHUNK --max-new $GPT_MAX_NEW --kv i8) \
    < "$PROMPTS" > "$OUT/gen.host-ref.jsonl"
# "ids<TAB>bits"
sed -n 's/.*"ids":\[\([^]]*\)\],"logit_bits":\[\([^]]*\)\].*/\1\t\2/p' "$OUT/gen.host-ref.jsonl" | tr -d '"' \
    > "$OUT/gen.host-ref.tsv"

phase "host tool: picoformer generate --temperature 0 --json --kv int8 --context $GPT_CONTEXT --max-tokens $GPT_MAX_NEW"
: > "$OUT/gen.host-tool.jsonl"
while IFS= read -r p; do
    (cd "$ROOT" && cargo run -q --release -p picoformer-tool -- generate -m models/tiny-gpt-int8.pfm \
        --prompt "$p" --temperature 0 --json --kv int8 --context $GPT_CONTEXT --max-tokens $GPT_MAX_NEW) \
        < /dev/null >> "$OUT/gen.host-tool.jsonl" || die "picoformer generate failed on: $p"
done < "$PROMPTS"
# "ids" (prompt_ids, then the generated ids)
sed -n 's/.*"prompt_ids":\[\([^]]*\)\],"ids":\[\([^]]*\)\].*/\1,\2/p' "$OUT/gen.host-tool.jsonl" | sed 's/,$//' \
    > "$OUT/gen.host-tool.tsv"

phase "generate parity"
for f in device host-ref host-tool; do
    [ "$(wc -l < "$OUT/gen.$f.tsv")" = "$NP" ] || die "gen.$f: $(wc -l < "$OUT/gen.$f.tsv") results for $NP prompts"
done
paste "$OUT/gen.device.tsv" "$OUT/gen.host-ref.tsv" "$OUT/gen.host-tool.tsv" "$PROMPTS" | awk -F'\t' '
    BEGIN {
        printf "%-3s %6s %4s %-9s %-8s %-10s %-9s %12s %-4s %s\n", "#", "prompt", "new", "stop", "ids=ref", \
            "logits=ref", "ids=tool", "insns/token", "ok", "prompt"
    }
    {
        ref_ids = ($4 == $7); ref_bits = ($5 == $8); tool_ids = ($4 == $9)
        ok = ref_ids && ref_bits && tool_ids && $2 > 0
        if (!ok) bad++
        per = $2 > 0 ? $6 / $2 : 0
        printf "%-3d %6d %4d %-9s %-8s %-10s %-9s %12.0f %-4s %s\n", NR - 1, $1, $2, $3, ref_ids ? "yes" : "NO", \
            ref_bits ? "yes" : "NO", tool_ids ? "yes" : "NO", per, ok ? "ok" : "FAIL", substr($10, 1, 48)
        if (!ok) printf "    device ids %s\n    ref    ids %s\n    tool   ids %s\n", $4, $7, $9
        insns += $6; toks += $2
    }
    END {
        printf "\nids: BOS, prompt and generated ids; logits: bits of the largest logit before each generated token\n"
        printf "host-ref (same GeneratorOptions, scalar kernels): ids and logit bits must be equal\n"
        printf "host tool (context 256, int8 KV, SIMD kernels): ids must be equal\n"
        printf "insns/token: guest instructions per Generator::next under QEMU (plugin), DSP kernels; total %d for %d tokens\n", insns, toks
        if (bad) { printf "GENERATE PARITY FAILED: %d of %d prompts\nparity: %d passed, %d failed\n", bad, NR, NR - bad, bad; exit 1 }
        printf "GENERATE PARITY OK: %d prompts\nparity: %d passed, 0 failed\n", NR, NR
    }'

phase "gen_bench under QEMU: guest instructions per generated token at positions $BENCH_POSITIONS"
if ! qemu_icount "$GB_ELF" "$OUT/gen_bench.icount.log" "$OUT/gen_bench.device.log"; then
    tail -20 "$OUT/gen_bench.device.log"
    die "gen_bench: QEMU or defmt-print failed"
fi
grep -v ' STEP ' "$OUT/gen_bench.device.log"
grep -q "BENCH DONE" "$OUT/gen_bench.device.log" || die "gen_bench did not report BENCH DONE"
gen_bench_counts "$OUT/gen_bench.device.log" "$OUT/gen_bench.icount.log" > "$OUT/gen_bench.tsv" \
    || die "gen_bench: a plugin count without a STEP line"
awk -F'\t' -v want="$BENCH_POSITIONS" '
    BEGIN { n = split(want, w, " ") }
    { insns[$1] = $2; all += $2; steps++ }
    END {
        printf "%-5s %12s %18s %22s\n", "pos", "insns", "tok/s 168 MHz M4", "tok/s 150 MHz M33"
        for (i = 1; i <= n; i++) {
            p = w[i]
            if (!(p in insns)) { printf "no count for position %s\n", p; exit 1 }
            printf "%-5d %12d %18.1f %22.1f\n", p, insns[p], 168e6 / insns[p], 150e6 / insns[p]
        }
        printf "mean over the %d steps: %.0f insns\n", steps, all / steps
        printf "insns: guest instructions of one Generator::next (forward step at that position over pos+1 keys,\n"
        printf "LM head, greedy pick) under QEMU, Cortex-M4 build with the DSP kernels. tok/s = MHz * 1e6 / insns\n"
        printf "ASSUMES 1 cycle per instruction (flash wait states, cache misses and multi-cycle instructions\n"
        printf "make real cores slower; the DWT `cycles=` of a real board measures it).\n"
    }' "$OUT/gen_bench.tsv" || die "gen_bench: missing positions"
