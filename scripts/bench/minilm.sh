#!/usr/bin/env bash
# MiniLM latency table: picoformer (f32, f16, int8 with 16-bit activations, int8-a8: int8 with 8-bit
# activations, smoothing calibrated on the first 512 training sentences of data/sentiment) and its peers (ONNX Runtime fp32 and dynamic
# int8, PyTorch fp32), single thread, batch 1, measured in the same run. Prints a Markdown table.
#   bash scripts/bench/minilm.sh [--seconds S]        (default 3 s per configuration)
# Needs the peer venv of scripts/bench/README.md; picoformer's own part needs nothing else.
# With BENCH_ROWS=FILE (scripts/bench/all.sh) the JSON rows of both sides are appended to FILE.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=3
[[ ${1:-} == --seconds ]] && seconds=$2

model_dir=$(bash scripts/fetch-models.sh)
cargo build --release -q -p picoformer-tool
bin=target/release/picoformer
mkdir -p .cache/bench
for d in f32 f16 int8; do
    [[ -f .cache/bench/minilm-$d.pfm ]] || "$bin" quantize "$model_dir" --dtype "$d" --max-seq 128 -o ".cache/bench/minilm-$d.pfm" >/dev/null
done
ours=$(mktemp)
peers=$(mktemp)
calib=$(mktemp)
trap 'rm -f "$ours" "$peers" "$calib"' EXIT
if [[ ! -f .cache/bench/minilm-int8-a8.pfm ]]; then
    head -n 512 data/sentiment/train.tsv | cut -f2 >"$calib"
    "$bin" quantize "$model_dir" --dtype int8 --calibrate "$calib" --max-seq 128 -o .cache/bench/minilm-int8-a8.pfm >/dev/null
fi
"$bin" bench --json --seconds "$seconds" -m .cache/bench/minilm-f32.pfm -m .cache/bench/minilm-f16.pfm \
    -m .cache/bench/minilm-int8.pfm -m .cache/bench/minilm-int8-a8.pfm >"$ours"
bash scripts/bench/peers.sh --seconds "$seconds" --engines ort,torch >"$peers"
[[ -z ${BENCH_ROWS:-} ]] || cat "$ours" "$peers" >>"$BENCH_ROWS"
python3 - "$ours" "$peers" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(f"picoformer {r['dtype']}", {})[r["seq"]] = r["median_ms"]
for line in open(sys.argv[2]):
    r = json.loads(line)
    name = {"onnxruntime": "ONNX Runtime", "pytorch": "PyTorch"}.get(r["engine"], r["engine"])
    rows.setdefault(f"{name} {r['model']}", {})[r["seq"]] = r["median_ms"]
seqs = sorted({s for v in rows.values() for s in v})
print("| engine | " + " | ".join(f"{s} tokens (ms)" for s in seqs) + " |")
print("|---|" + "---|" * len(seqs))
for name, v in rows.items():
    print(f"| {name} | " + " | ".join(f"{v[s]:.2f}" if s in v else "" for s in seqs) + " |")
PY
