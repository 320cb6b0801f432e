#!/usr/bin/env bash
# SmolLM2-135M-Instruct decoder table: picoformer (int8, int4, f16, f32 blobs converted from the
# GGUF) and llama.cpp (Q8_0, F16, Q4_0 and the original Q4_1, through llama-cpp-python), one thread, batch 1,
# measured in the same run. Prints one Markdown table. See scripts/bench/README.md.
#   bash scripts/bench/smollm2.sh [--runs N] [--peer-only]
#     --runs N      timed runs per llama.cpp measure (default 10)
#     --peer-only   skip picoformer (llama.cpp rows only)
#
# 1. installs the model (scripts/fetch-models.sh smollm2),
# 2. installs llama-cpp-python (pinned below) into .cache/venv-llamacpp if missing, built from
#    source for this CPU (minutes; the log goes to .cache/bench/llamacpp-build.log),
# 3. converts the GGUF to .cache/bench/smol-{int8,int4,f16,f32}.pfm if missing and runs
#    `picoformer bench` on each blob (one process per blob, so peak RSS is per model),
# 4. runs peer_llamacpp.py (which makes the Q8_0 and F16 GGUFs on first use),
# 5. prints the combined table (and with BENCH_ROWS=FILE, as scripts/bench/all.sh sets, appends the
#    JSON rows of both sides to FILE). If picoformer's part fails, the llama.cpp rows are still printed
#    and the script exits 1, naming the step that failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=10
peer_only=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --peer-only) peer_only=1; shift ;;
        *) echo "usage: smollm2.sh [--runs N] [--peer-only]" >&2; exit 2 ;;
    esac
done

LLAMA_CPP_PIN=llama-cpp-python==0.3.36
VENV=.cache/venv-llamacpp
PY=$VENV/bin/python
export PIP_ROOT_USER_ACTION=ignore
mkdir -p .cache/bench

gguf=$(bash scripts/fetch-models.sh smollm2)

if ! "$PY" -c 'import llama_cpp, sys; sys.exit(llama_cpp.__version__ != "0.3.36")' 2>/dev/null; then
    echo "smollm2.sh: installing $LLAMA_CPP_PIN into $VENV (source build, minutes; log in .cache/bench/llamacpp-build.log)" >&2
    [[ -x $PY ]] || python3 -m venv "$VENV"
    # GGML_NATIVE: -march=native, so ggml uses this machine's AVX2 / AVX-512 / NEON.
    # On x86 the AMX code paths are switched off: with gcc 12 the native build crashes on
    # quantized models on CPUs that have AMX (and the flags change nothing on CPUs without it).
    cmake_args="-DGGML_NATIVE=ON"
    if [[ $(uname -m) == x86_64 ]]; then
        no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        cmake_args+=" -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"
    fi
    start=$SECONDS
    if ! CMAKE_ARGS=$cmake_args CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
        "$PY" -m pip install --disable-pip-version-check --no-binary llama-cpp-python -v \
        "$LLAMA_CPP_PIN" >.cache/bench/llamacpp-build.log 2>&1; then
        tail -20 .cache/bench/llamacpp-build.log >&2
        echo "smollm2.sh: installing $LLAMA_CPP_PIN failed; see .cache/bench/llamacpp-build.log" >&2
        exit 1
    fi
    echo "smollm2.sh: $LLAMA_CPP_PIN installed in $((SECONDS - start)) s" >&2
fi

ours=$(mktemp)
peer=$(mktemp)
errs=$(mktemp)
trap 'rm -f "$ours" "$peer" "$errs"' EXIT
failed=""
if [[ $peer_only -eq 0 ]]; then
    bin=target/release/picoformer
    if ! cargo build --release -q -p picoformer-tool; then
        failed="cargo build --release -p picoformer-tool"
    fi
    for d in int8 int4 f16 f32; do
        [[ -z $failed ]] || break
        blob=.cache/bench/smol-$d.pfm
        [[ -f $blob ]] && continue
        echo "smollm2.sh: converting SmolLM2 to $blob" >&2
        if ! "$bin" quantize "$gguf" --dtype "$d" -o "$blob" >/dev/null 2>"$errs"; then
            tail -5 "$errs" >&2
            failed="picoformer quantize <SmolLM2 GGUF> --dtype $d (decoder GGUF conversion)"
        fi
    done
    for d in int8 int4 f16 f32; do
        [[ -z $failed ]] || break
        echo "smollm2.sh: picoformer bench smol-$d.pfm ..." >&2
        if ! "$bin" bench --json -m ".cache/bench/smol-$d.pfm" >>"$ours" 2>"$errs"; then
            tail -5 "$errs" >&2
            failed="picoformer bench -m .cache/bench/smol-$d.pfm (decoder rows)"
        fi
    done
    [[ -z $failed ]] || echo "smollm2.sh: picoformer's part failed at: $failed; measuring llama.cpp alone" >&2
fi

"$PY" scripts/bench/peer_llamacpp.py --json --runs "$runs" --gguf "$gguf" >"$peer"
[[ -z ${BENCH_ROWS:-} ]] || cat "$ours" "$peer" >>"$BENCH_ROWS"

python3 - "$ours" "$peer" <<'PY'
import json, os, sys

def rows_of(path):
    out = []
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict):
            out.append(r)
    return out

def first(r, *keys):
    for k in keys:
        if r.get(k) is not None:
            return r[k]
    return None

table = []  # (name, weight bytes, prompt tok/s, decode tok/s, peak rss bytes)
for r in rows_of(sys.argv[1]):
    prompt = first(r, "prompt_tok_per_s", "prompt_tok_s", "prefill_tok_per_s")
    decode = first(r, "decode_tok_per_s", "decode_tok_s", "gen_tok_per_s")
    if prompt is None and decode is None:
        continue  # an encoder row or something else
    model = str(first(r, "model", "path") or "")
    dtype = first(r, "dtype") or next((d for d in ("int8", "int4", "f16", "f32") if d in model), "?")
    size = first(r, "blob_bytes", "bytes")
    blob = f".cache/bench/smol-{dtype}.pfm"
    if size is None and os.path.isfile(blob):
        size = os.path.getsize(blob)
    table.append((f"picoformer {dtype}", size, prompt, decode, first(r, "peak_rss_bytes")))
cpu = None
for r in rows_of(sys.argv[2]):
    cpu = r.get("cpu", cpu)
    table.append((f"llama.cpp {r['model']}", r.get("gguf_bytes"), r.get("prompt_tok_per_s"),
                  r.get("decode_tok_per_s"), r.get("peak_rss_bytes")))

def num(v, fmt):
    return "" if v is None else format(v, fmt)

print("| engine / model | weights MB | prompt 64 tok/s | decode tok/s | decode weight GB/s | peak RSS MiB |")
print("|---|---|---|---|---|---|")
for name, size, prompt, decode, rss in table:
    bw = size * decode / 1e9 if size and decode else None
    print(f"| {name} | {num(size and size / 1e6, '.1f')} | {num(prompt, '.1f')} | "
          f"{num(decode, '.1f')} | {num(bw, '.2f')} | {num(rss and rss / 2**20, '.0f')} |")
by = {name: (prompt, decode) for name, _, prompt, decode, _ in table}
print()
for ours, peer in (("picoformer int8", "llama.cpp Q8_0"), ("picoformer int4", "llama.cpp Q8_0"),
                   ("picoformer int4", "llama.cpp Q4_1"), ("picoformer int4", "llama.cpp Q4_0"),
                   ("picoformer f16", "llama.cpp F16")):
    if ours in by and peer in by:
        ratios = [f"{what} {a / b:.2f}x" for what, a, b in zip(("prompt", "decode"), by[ours], by[peer])
                  if a and b]
        print(f"{ours} / {peer}: {', '.join(ratios)}")
print(f"cpu: {cpu}, 1 thread")
PY

if [[ -n $failed ]]; then
    echo "smollm2.sh: picoformer rows missing: $failed failed (see the messages above)" >&2
    exit 1
fi
