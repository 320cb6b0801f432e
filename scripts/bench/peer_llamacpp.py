#!/usr/bin/env python3
"""Peer decoder benchmark for the SmolLM2 table: SmolLM2-135M-Instruct on llama.cpp (through
llama-cpp-python), one thread, batch 1. Hand-run only; see scripts/bench/README.md.

Installs nothing: run it with the venv that scripts/bench/smollm2.sh makes
(.cache/venv-llamacpp, llama-cpp-python 0.3.36 built from source for this CPU).

Models: the Q4_1 GGUF that `scripts/fetch-models.sh smollm2` prints (Q4_1 weights, Q8_0 token
embeddings), and Q8_0 and F16 GGUFs made from it with llama.cpp's own quantizer
(`llama_model_quantize`, allow_requantize: Q4_1 blocks are dequantized, then re-quantized),
cached in .cache/bench/ as smollm2-135m-instruct-<TYPE>.gguf.

What is measured, per model, in a fresh subprocess (so peak RSS is that model's):
  prompt  64 prompt tokens (a fixed English text, tokenized by the model, first 64 tokens, no BOS)
          evaluated in one batch into an empty KV cache; tokens/s = 64 / wall time.
  decode  after the same 64 prompt tokens (as `picoformer bench` does; --decode-after chat: after
          a short chat prompt instead), not timed, 64 greedy single-token steps: each step is one
          forward pass of one token plus an argmax over the logits; the first token fed is the
          argmax of the prompt's logits; EOS does not stop the loop. tokens/s = 64 / wall time.
  Both: 1 warm-up run, then --runs timed runs, each from an empty KV cache; median reported.
  peak_rss_bytes: ru_maxrss of the subprocess at the end (Python and llama-cpp-python included;
          base_rss_bytes is the same before the model is loaded). The model is memory-mapped
          (llama.cpp's default), so its touched pages count as resident.
  Threads: n_threads=1, n_threads_batch=1 (ggml's CPU backend, no BLAS).

Prints a table on stderr and, with --json, one JSON object per model on stdout:
  {"engine":"llama.cpp","model":"Q8_0","prompt_tok_per_s":...,"decode_tok_per_s":...,
   "peak_rss_bytes":...,"cpu":"<model name> (<SIMD flags>)", ...}

Usage: python peer_llamacpp.py [--models Q8_0,F16,Q4_1,Q4_0] [--runs 10] [--json] [--gguf PATH]
                               [--decode-after prompt|chat]
"""

import argparse
import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CACHE = os.path.join(REPO, ".cache", "bench")

# llama.cpp's llama_ftype values (include/llama.h) for the types this benchmark makes.
FTYPES = {"Q4_1": 3, "Q8_0": 7, "F16": 1, "Q4_0": 2}
SOURCE_TYPE = "Q4_1"
PROMPT_TOKENS = 64
DECODE_TOKENS = 64
N_CTX = 512
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw",
              "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8",
              "amx_bf16", "asimd", "asimddp", "i8mm", "sve")

PROMPT_TEXT = (
    "The history of computing is a story of machines that grew smaller and faster while the "
    "problems they solved grew larger. Early computers filled whole rooms, drew enormous amounts "
    "of power and could only be programmed by a handful of specialists who wired their circuits "
    "by hand. Transistors replaced vacuum tubes, integrated circuits replaced transistors, and "
    "within a few decades a chip the size of a fingernail held more computing power than all of "
    "the early machines put together."
)
CHAT_PROMPT = ("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
               "<|im_start|>assistant\n")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_line():
    """'<model name> (<SIMD flags present>)' from /proc/cpuinfo, or the platform's name."""
    name, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and name is None:
                    name = value.strip()
                elif key in ("flags", "Features") and flags is None:
                    flags = set(value.split())
    except OSError:
        pass
    name = name or platform.processor() or platform.machine()
    simd = [f for f in SIMD_FLAGS if f in (flags or ())]
    return f"{name} ({' '.join(simd) or 'no SIMD flags listed'})"


def gguf_path(args, model):
    if model == SOURCE_TYPE:
        return args.gguf
    return os.path.join(args.cache_dir, f"smollm2-135m-instruct-{model}.gguf")


def ensure_quantized(args, model):
    """Makes the model's GGUF from the Q4_1 source with llama.cpp's quantizer if missing."""
    import ctypes

    import llama_cpp

    out = gguf_path(args, model)
    if os.path.isfile(out):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    tmp = out + ".tmp"
    log(f"peer_llamacpp: quantizing {os.path.relpath(args.gguf, REPO)} -> "
        f"{os.path.relpath(out, REPO)} (llama_model_quantize, {model}, allow_requantize)")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[model]
    params.allow_requantize = True
    params.nthread = os.cpu_count() or 1
    with captured_stderr() as lines:  # llama.cpp logs a line per tensor
        rc = llama_cpp.llama_model_quantize(args.gguf.encode(), tmp.encode(),
                                            ctypes.byref(params))
    if rc != 0 or not os.path.isfile(tmp):
        log("\n".join(lines[-20:]))
        raise SystemExit(f"peer_llamacpp: llama_model_quantize to {model} failed (rc {rc})")
    for line in lines:
        if "model size" in line or "quant size" in line:
            log(f"peer_llamacpp: {line.strip()}")
    os.replace(tmp, out)
    return out


@contextlib.contextmanager
def captured_stderr():
    """Sends file descriptor 2 (where llama.cpp's C code logs) to a temporary file; the list it
    yields holds that output's lines once the block is done."""
    lines = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as f:
        os.dup2(f.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)
            lines.extend(f.read().decode(errors="replace").splitlines())


def load(path):
    from llama_cpp import Llama

    return Llama(model_path=path, n_ctx=N_CTX, n_batch=PROMPT_TOKENS, n_ubatch=PROMPT_TOKENS,
                 n_threads=1, n_threads_batch=1, n_gpu_layers=0, logits_all=False,
                 verbose=False)


def clear(llm):
    """Empties the KV cache: reset() sets n_tokens to 0 and the next eval() removes every cell
    from position n_tokens on; the explicit memory clear makes it independent of that."""
    import llama_cpp

    llm.reset()
    ctx = llm._ctx.ctx
    if hasattr(llama_cpp, "llama_memory_clear") and hasattr(llama_cpp, "llama_get_memory"):
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
    else:  # older API
        llama_cpp.llama_kv_cache_clear(ctx)


def argmax_last(llm):
    """Greedy pick from the last evaluated token's logits (read in place from llama.cpp: with
    logits_all=False, Llama.eval no longer copies them into llm.scores)."""
    import llama_cpp
    import numpy as np

    logits = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    return int(np.argmax(np.ctypeslib.as_array(logits, shape=(llm.n_vocab(),))))


def time_prompt(llm, tokens):
    clear(llm)
    t = time.perf_counter_ns()
    llm.eval(tokens)
    argmax_last(llm)
    return (time.perf_counter_ns() - t) / 1e9


def time_decode(llm, prompt):
    clear(llm)
    llm.eval(prompt)
    out = [argmax_last(llm)]
    t = time.perf_counter_ns()
    for _ in range(DECODE_TOKENS):
        llm.eval(out[-1:])
        out.append(argmax_last(llm))
    return (time.perf_counter_ns() - t) / 1e9, out[:DECODE_TOKENS]


def worker(args, model):
    """Measures one model in this process; prints its JSON object on stdout."""
    import llama_cpp

    path = gguf_path(args, model)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    llm = load(path)
    file_type = llm.metadata.get("general.file_type")
    if file_type is not None and int(file_type) != FTYPES[model]:
        raise SystemExit(f"peer_llamacpp: {path} has general.file_type {file_type}, "
                         f"expected {FTYPES[model]} ({model})")
    tokens = llm.tokenize(PROMPT_TEXT.encode(), add_bos=False, special=False)
    if len(tokens) < PROMPT_TOKENS:
        raise SystemExit(f"peer_llamacpp: prompt text gives {len(tokens)} tokens, "
                         f"need {PROMPT_TOKENS}")
    tokens = tokens[:PROMPT_TOKENS]
    if args.decode_after == "chat":
        decode_prompt = llm.tokenize(CHAT_PROMPT.encode(), add_bos=False, special=True)
    else:
        decode_prompt = tokens

    time_prompt(llm, tokens)  # warm-up
    prompt_s = [time_prompt(llm, tokens) for _ in range(args.runs)]
    _, greedy = time_decode(llm, decode_prompt)  # warm-up
    decode_s = [time_decode(llm, decode_prompt)[0] for _ in range(args.runs)]
    text = llm.detokenize(greedy).decode("utf-8", "replace")
    log(f"peer_llamacpp: {model} greedy: {text!r}")

    row = {
        "engine": "llama.cpp",
        "version": llama_cpp.__version__,
        "model": model,
        "gguf_bytes": os.path.getsize(path),
        "prompt_tokens": PROMPT_TOKENS,
        "prompt_tok_per_s": round(PROMPT_TOKENS / statistics.median(prompt_s), 2),
        "decode_tokens": DECODE_TOKENS,
        "decode_prompt_tokens": len(decode_prompt),
        "decode_tok_per_s": round(DECODE_TOKENS / statistics.median(decode_s), 2),
        "runs": args.runs,
        "threads": 1,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "base_rss_bytes": base_rss,
        "cpu": cpu_line(),
        "greedy_ids": greedy,
    }
    print(json.dumps(row, separators=(",", ":")), flush=True)


def header():
    import llama_cpp

    log(f"peer_llamacpp: llama-cpp-python {llama_cpp.__version__}, python "
        f"{platform.python_version()}, {os.cpu_count()} logical cpus")
    log(f"peer_llamacpp: cpu {cpu_line()}")
    info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    log(f"peer_llamacpp: llama.cpp system info: {info}")
    try:
        log(f"peer_llamacpp: load average {os.getloadavg()[0]:.2f} (other work on the machine "
            "makes numbers noisy)")
    except OSError:
        pass


def table(rows):
    out = ["| llama.cpp | GGUF MB | prompt 64 tok/s | decode tok/s | peak RSS MiB |",
           "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['model']} | {r['gguf_bytes'] / 1e6:.1f} | {r['prompt_tok_per_s']:.1f} "
                   f"| {r['decode_tok_per_s']:.1f} | {r['peak_rss_bytes'] / 2**20:.0f} |")
    return "\n".join(out)


def fetch_gguf():
    out = subprocess.check_output(["bash", os.path.join(REPO, "scripts", "fetch-models.sh"),
                                   "smollm2"], text=True)
    return out.strip().splitlines()[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="Q8_0,F16,Q4_1,Q4_0",
                    help="comma-separated: Q8_0, F16, Q4_1, Q4_0 (default all four)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per measure (default 10)")
    ap.add_argument("--json", action="store_true", help="one JSON object per model on stdout")
    ap.add_argument("--gguf", default=None,
                    help="the Q4_1 GGUF (default: what scripts/fetch-models.sh smollm2 prints)")
    ap.add_argument("--cache-dir", default=CACHE, help="where the Q8_0/F16 GGUFs are cached")
    ap.add_argument("--decode-after", default="prompt", choices=["prompt", "chat"],
                    help="decode after the 64 prompt tokens (as picoformer bench does; default) "
                         "or after a short chat prompt (readable greedy text on stderr)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runs < 1:
        raise SystemExit("peer_llamacpp: --runs must be >= 1")
    args.gguf = os.path.abspath(args.gguf or fetch_gguf())
    if not os.path.isfile(args.gguf):
        raise SystemExit(f"peer_llamacpp: {args.gguf} missing (scripts/fetch-models.sh smollm2)")

    if args.worker:
        worker(args, args.worker)
        return

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in FTYPES:
            raise SystemExit(f"peer_llamacpp: unknown model {m!r} ({', '.join(FTYPES)})")
    header()
    for m in models:
        ensure_quantized(args, m)
    rows = []
    for m in models:
        log(f"peer_llamacpp: llama.cpp {m}: {args.runs} runs each of prompt {PROMPT_TOKENS} "
            f"and decode {DECODE_TOKENS} ...")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", m, "--runs",
               str(args.runs), "--gguf", args.gguf, "--cache-dir", args.cache_dir,
               "--decode-after", args.decode_after]
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        if args.json:
            print(json.dumps(row, separators=(",", ":")), flush=True)
    print(table(rows), file=sys.stderr if args.json else sys.stdout, flush=True)
    log(f"cpu: {cpu_line()}")


if __name__ == "__main__":
    main()
