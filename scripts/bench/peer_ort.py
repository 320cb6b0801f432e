#!/usr/bin/env python3
"""Peer latency benchmark for the MiniLM table: all-MiniLM-L6-v2 (BertModel,
last_hidden_state) on ONNX Runtime (fp32 and dynamic int8) and, optionally,
PyTorch fp32, single-threaded, batch 1. Hand-run only; see scripts/bench/README.md.

Prints one JSON object per configuration to stdout, one per line:
  {"engine":"onnxruntime","version":"1.32.0","model":"fp32","seq":16,
   "median_ms":...,"p10_ms":...,"p90_ms":...,"iters":...}
Progress and a header (versions, environment) go to stderr, so
`peer_ort.py > peers.jsonl` captures only the results.

What is measured: wall time (time.perf_counter_ns) of one forward call, inputs
already built as numpy arrays / torch tensors, output materialised (ORT returns
numpy; torch's output is a finished CPU tensor). Per configuration: 20 warm-up
calls, then N timed calls, N = max(--min-iters, --seconds / mean warm-up time).

Inputs (same for every engine): seq tokens = [101] + random ids in 1000..29000
(numpy default_rng(--seed), a fresh generator per seq length) + [102]; attention
mask all ones; token types all zero; batch 1.

Threads: ORT intra_op_num_threads=1, inter_op_num_threads=1, ORT_SEQUENTIAL,
ORT_ENABLE_ALL; torch set_num_threads(1), set_num_interop_threads(1),
inference_mode.

Environment: on some processors OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set on
this project's machines (older OpenBLAS builds need them). They can slow numpy's
OpenBLAS; ORT (MLAS) and torch (oneDNN/MKL) do not use OpenBLAS for these
kernels, but to measure the peers as a user would run them, unset both for the
benchmark command alone -- scripts/bench/peers.sh does that with `env -u`; do not
unset them globally, in tests or in CI. The header on stderr says whether they were set.

Usage: python peer_ort.py [--seq 16,64,128] [--seconds 3] [--engines ort,torch]
                          [--models fp32,int8-dynamic] [--onnx-dir DIR] [--model-dir DIR]
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

ONNX_FILES = {"fp32": "minilm-fp32.onnx", "int8-dynamic": "minilm-int8-dynamic.onnx"}
WARMUP = 20


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def make_inputs(seq, seed):
    import numpy as np

    if seq < 2:
        raise SystemExit(f"peer_ort: seq must be >= 2 (got {seq})")
    rng = np.random.default_rng(seed)
    ids = np.empty((1, seq), dtype=np.int64)
    ids[0, 0] = 101
    ids[0, 1:-1] = rng.integers(1000, 29000, size=seq - 2)
    ids[0, -1] = 102
    return {
        "input_ids": ids,
        "attention_mask": np.ones((1, seq), dtype=np.int64),
        "token_type_ids": np.zeros((1, seq), dtype=np.int64),
    }


def measure(fn, seconds, min_iters):
    """Warm up, pick N from the warm-up mean, time N calls. Returns (times_ms, N)."""
    import numpy as np

    t0 = time.perf_counter_ns()
    for _ in range(WARMUP):
        fn()
    mean_s = (time.perf_counter_ns() - t0) / 1e9 / WARMUP
    iters = max(min_iters, int(math.ceil(seconds / max(mean_s, 1e-9))))
    times = np.empty(iters, dtype=np.float64)
    for i in range(iters):
        t = time.perf_counter_ns()
        fn()
        times[i] = (time.perf_counter_ns() - t) / 1e6
    return times, iters


def record(engine, version, model, seq, times, iters):
    import numpy as np

    p10, med, p90 = np.percentile(times, [10, 50, 90])
    row = {
        "engine": engine,
        "version": version,
        "model": model,
        "seq": seq,
        "median_ms": round(float(med), 4),
        "p10_ms": round(float(p10), 4),
        "p90_ms": round(float(p90), 4),
        "iters": iters,
    }
    print(json.dumps(row, separators=(",", ":")), flush=True)


def bench_ort(args, seqs):
    import onnxruntime as ort

    for model in args.models:
        path = os.path.join(args.onnx_dir, ONNX_FILES[model])
        if not os.path.isfile(path):
            shown = os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path
            raise SystemExit(f"peer_ort: {shown} missing: "
                             "run scripts/bench/export_onnx.py (or scripts/bench/peers.sh)")
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        out_names = ["last_hidden_state"]
        for seq in seqs:
            feeds = make_inputs(seq, args.seed)
            log(f"peer_ort: onnxruntime {model} seq {seq} ...")
            times, iters = measure(lambda: sess.run(out_names, feeds), args.seconds,
                                   args.min_iters)
            record("onnxruntime", ort.__version__, model, seq, times, iters)


def bench_torch(args, seqs):
    import torch
    from transformers import AutoModel

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set / parallel work already started
        pass
    model_dir = args.model_dir or subprocess.check_output(
        ["bash", os.path.join(REPO, "scripts", "fetch-models.sh")], text=True
    ).strip().splitlines()[-1]
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32,
                                      attn_implementation=args.torch_attn).eval()
    version = torch.__version__.split("+")[0]
    for seq in seqs:
        feeds = {k: torch.from_numpy(v) for k, v in make_inputs(seq, args.seed).items()}
        log(f"peer_ort: pytorch fp32 ({args.torch_attn} attention) seq {seq} ...")

        def fn():
            with torch.inference_mode():
                return model(**feeds).last_hidden_state

        times, iters = measure(fn, args.seconds, args.min_iters)
        record("pytorch", version, "fp32", seq, times, iters)


def header(engines):
    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    log(f"peer_ort: python {platform.python_version()}, numpy {np.__version__}, cpu {cpu}, "
        f"{os.cpu_count()} logical cpus")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        log(f"peer_ort: {var}={'(unset)' if var not in os.environ else os.environ[var]}")
    try:
        log(f"peer_ort: load average {os.getloadavg()[0]:.2f} (other work on the machine "
            "makes numbers noisy)")
    except OSError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seq", default="16,64,128", help="comma-separated sequence lengths")
    ap.add_argument("--seconds", type=float, default=3.0,
                    help="target timed seconds per configuration (default 3)")
    ap.add_argument("--min-iters", type=int, default=50, help="at least this many (default 50)")
    ap.add_argument("--engines", default="ort",
                    help="comma-separated: ort, torch (default ort)")
    ap.add_argument("--models", default="fp32,int8-dynamic",
                    help="ONNX models for ort: fp32, int8-dynamic (default both)")
    ap.add_argument("--onnx-dir", default=os.path.join(REPO, ".cache", "bench"))
    ap.add_argument("--model-dir", default=None,
                    help="HF model dir for torch (default: what scripts/fetch-models.sh prints)")
    ap.add_argument("--torch-attn", default="sdpa", choices=["sdpa", "eager"],
                    help="transformers attention implementation for torch (default sdpa)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    seqs = [int(s) for s in args.seq.split(",") if s.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    for e in engines:
        if e not in ("ort", "torch"):
            raise SystemExit(f"peer_ort: unknown engine {e!r} (ort, torch)")
    for m in args.models:
        if m not in ONNX_FILES:
            raise SystemExit(f"peer_ort: unknown model {m!r} ({', '.join(ONNX_FILES)})")
    if args.min_iters < 1:
        raise SystemExit("peer_ort: --min-iters must be >= 1")

    header(engines)
    for e in engines:
        if e == "ort":
            bench_ort(args, seqs)
        else:
            bench_torch(args, seqs)


if __name__ == "__main__":
    main()
