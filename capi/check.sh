#!/usr/bin/env bash
# The C API on the host (a step of scripts/test.sh):
#   1. capi/include/picoformer.h is what cbindgen makes of capi/src now (a stale header fails);
#   2. the staticlib (target/release/libpicoformer_c.a) and the C example (capi/examples/host.c,
#      demo.c) build with the host C compiler, -std=c11 -Wall -Wextra -Werror;
#   3. the example gives the same outputs as the host tool on the bundled models:
#      `picoformer classify --json` on firmware/sentences.txt (default options, and the
#      firmware's: 64 tokens, chunk 2, int8 keys and values), the same float32 values; and
#      `picoformer generate --temperature 0 --json --context 256 --max-tokens 32` on
#      firmware/prompts.txt (f32 and int8 keys and values), the same ids and text.
# The Rust tests of the C functions on bad input are in capi/tests (cargo test).
#
#   bash capi/check.sh                  check
#   bash capi/check.sh --write-header   regenerate the header from capi/src
set -euo pipefail
cd "$(dirname "$0")/.."
CBINDGEN_VERSION=0.29.4
OUT=target/capi
mkdir -p "$OUT"

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    cargo install --locked "cbindgen@$CBINDGEN_VERSION"
fi
cbindgen --quiet --config capi/cbindgen.toml --crate picoformer-c --output "$OUT/picoformer.h" capi
if [[ ${1:-} == --write-header ]]; then
    cp "$OUT/picoformer.h" capi/include/picoformer.h
    echo "capi/include/picoformer.h written"
    exit 0
fi
if ! diff -u capi/include/picoformer.h "$OUT/picoformer.h"; then
    echo "FAIL: capi/include/picoformer.h is stale: run bash capi/check.sh --write-header and commit it" >&2
    exit 1
fi
echo "header: capi/include/picoformer.h is up to date (cbindgen $CBINDGEN_VERSION)"

cargo build --release -p picoformer-c --features std
cargo build --release -p picoformer-tool
CC=${CC:-cc}
"$CC" -std=c11 -O2 -Wall -Wextra -Werror -Icapi/include capi/examples/host.c capi/examples/demo.c \
    target/release/libpicoformer_c.a -lm -lpthread -ldl -o "$OUT/pf_host"
echo "built $OUT/pf_host with $("$CC" --version | head -n 1)"

tool=target/release/picoformer
lines() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"; }
lines firmware/sentences.txt > "$OUT/sentences.txt"
lines firmware/prompts.txt > "$OUT/prompts.txt"

echo "== classify, default options"
"$OUT/pf_host" classify models/sentiment.pfm "$OUT/sentences.txt" > "$OUT/c-classify.jsonl"
"$tool" classify --json < "$OUT/sentences.txt" > "$OUT/tool-classify.jsonl"
python3 capi/compare.py classify "$OUT/c-classify.jsonl" "$OUT/tool-classify.jsonl"

echo "== classify, --max-seq 64 --chunk 2 --kv-int8"
"$OUT/pf_host" classify models/sentiment.pfm "$OUT/sentences.txt" --max-seq 64 --chunk 2 --kv int8 \
    > "$OUT/c-classify-fw.jsonl"
"$tool" classify --json --max-seq 64 --chunk 2 --kv-int8 < "$OUT/sentences.txt" > "$OUT/tool-classify-fw.jsonl"
python3 capi/compare.py classify "$OUT/c-classify-fw.jsonl" "$OUT/tool-classify-fw.jsonl"

for kv in f32 int8; do
    echo "== generate, greedy, 32 tokens, context 256, --kv $kv"
    "$OUT/pf_host" generate models/tiny-gpt-int8.pfm "$OUT/prompts.txt" --context 256 --kv "$kv" --max-tokens 32 \
        > "$OUT/c-generate-$kv.jsonl"
    : > "$OUT/tool-generate-$kv.jsonl"
    while IFS= read -r p; do
        "$tool" generate -m models/tiny-gpt-int8.pfm --prompt "$p" --temperature 0 --json --kv "$kv" \
            --context 256 --max-tokens 32 < /dev/null >> "$OUT/tool-generate-$kv.jsonl"
    done < "$OUT/prompts.txt"
    python3 capi/compare.py generate "$OUT/c-generate-$kv.jsonl" "$OUT/tool-generate-$kv.jsonl"
done
echo "CAPI OK"
