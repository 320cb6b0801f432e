#!/usr/bin/env bash
# Every host benchmark beside its peers, in one run on one machine: the CPU and its SIMD features,
# the MiniLM latency table (picoformer f32/f16/int8, ONNX Runtime fp32/int8, PyTorch fp32;
# minilm.sh), the SmolLM2-135M table (picoformer int8/int4/f16/f32, llama.cpp Q8_0/F16/Q4_0/Q4_1;
# smollm2.sh), then one table of the kernel targets with the ratios measured in this run.
#   bash scripts/bench/all.sh [--seconds S] [--runs N]
#     --seconds S   seconds per MiniLM configuration (default 3)
#     --runs N      timed runs per llama.cpp measure (default 10)
# Hand-run, like the scripts it calls (their venvs: scripts/bench/README.md). Single thread.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=3
runs=10
while [[ $# -gt 0 ]]; do
    case $1 in
        --seconds) seconds=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) echo "usage: all.sh [--seconds S] [--runs N]" >&2; exit 2 ;;
    esac
done

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT

echo "## CPU"
echo
python3 - <<'PY'
import platform
name, flags = None, set()
try:
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and name is None:
            name = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
except OSError:
    pass
simd = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
        "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "asimd", "asimddp", "asimdhp", "i8mm",
        "sve"]
print(f"{name or platform.processor() or platform.machine()}; SIMD: "
      f"{' '.join(f for f in simd if f in flags) or 'none listed'}")
PY
echo
echo "## all-MiniLM-L6-v2 (scripts/bench/minilm.sh)"
echo
BENCH_ROWS=$rows bash scripts/bench/minilm.sh --seconds "$seconds"
echo
echo "## SmolLM2-135M-Instruct (scripts/bench/smollm2.sh)"
echo
BENCH_ROWS=$rows bash scripts/bench/smollm2.sh --runs "$runs"
echo
echo "## Targets"
echo
python3 - "$rows" <<'PY'
import json, sys

minilm, smol = {}, {}
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if not isinstance(r, dict):
        continue
    if r.get("decode_tok_per_s") is not None:
        name = f"llama.cpp {r['model']}" if r.get("engine") == "llama.cpp" else f"picoformer {r.get('dtype')}"
        smol[name] = r
    elif r.get("median_ms") is not None and r.get("seq") is not None:
        if r.get("engine"):
            name = {"onnxruntime": "ORT", "pytorch": "PyTorch"}.get(r["engine"], r["engine"])
            name = f"{name} {r['model']}"
        else:
            name = f"picoformer {r.get('dtype')}"
        minilm[(name, r["seq"])] = r["median_ms"]

def latency(ours, peer, seq):
    a, b = minilm.get((ours, seq)), minilm.get((peer, seq))
    return a / b if a and b else None

def speed(ours, peer, key):
    a, b = smol.get(ours, {}).get(key), smol.get(peer, {}).get(key)
    return a / b if a and b else None

targets = [
    ("MiniLM int8 (8-bit activations) latency / ORT int8, 16 tokens", latency("picoformer int8-a8", "ORT int8-dynamic", 16), "<=", 1.0),
    ("MiniLM int8 (8-bit activations) latency / ORT int8, 64 tokens", latency("picoformer int8-a8", "ORT int8-dynamic", 64), "<=", 1.0),
    ("MiniLM int8 (16-bit activations) latency / ORT int8, 64 tokens", latency("picoformer int8", "ORT int8-dynamic", 64), "<=", 1.0),
    ("MiniLM f32 latency / ORT fp32, 16 tokens", latency("picoformer f32", "ORT fp32", 16), "<=", 1.0),
    ("MiniLM f32 latency / ORT fp32, 64 tokens", latency("picoformer f32", "ORT fp32", 64), "<=", 1.0),
    ("SmolLM2 int8 decode tok/s / llama.cpp Q8_0", speed("picoformer int8", "llama.cpp Q8_0", "decode_tok_per_s"), ">=", 1.8),
    ("SmolLM2 int8 prompt tok/s / llama.cpp Q8_0", speed("picoformer int8", "llama.cpp Q8_0", "prompt_tok_per_s"), ">=", 1.0),
    ("SmolLM2 int4 decode tok/s / llama.cpp Q8_0", speed("picoformer int4", "llama.cpp Q8_0", "decode_tok_per_s"), ">=", 1.8),
    ("SmolLM2 int4 decode tok/s / llama.cpp Q4_0", speed("picoformer int4", "llama.cpp Q4_0", "decode_tok_per_s"), ">=", 1.0),
]
print("| target | measured | goal | met |")
print("|---|---|---|---|")
for what, ratio, op, goal in targets:
    if ratio is None:
        print(f"| {what} | not measured | {op} {goal:.1f}x | |")
        continue
    met = ratio <= goal if op == "<=" else ratio >= goal
    print(f"| {what} | {ratio:.2f}x | {op} {goal:.1f}x | {'yes' if met else 'no'} |")
print()
print("1 thread, batch 1; ratios from this run only (the rows above).")
PY
