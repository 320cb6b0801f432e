#!/usr/bin/env python3
"""Golden outputs of the bundled tiny GPT (models/tiny-gpt/, fp32) for the Rust tests:

  tests/data/tiny_gpt_golden.json
    cases        per prompt: text, ids (the tokenizer's, <|endoftext|> first), logits at EVERY
                 prompt position (full vocabulary, float32), 32 greedy new ids (argmax of the last
                 position, full recompute, no stop at <|endoftext|>) cross-checked against
                 transformers' greedy generate, and their smallest top-1/top-2 logit margin
    perplexity   on data/tiny-gpt/heldout-moby.txt (Moby Dick chapters 131-135, held out from
                 training) exactly as `picoformer eval --perplexity` computes it: the text's ids
                 without BOS, the first max_tokens of them, non-overlapping windows of 256, the
                 first token of each window not scored

fp32, eager attention, on the CPU. Hand-run (scripts/tiny-gpt/README.md); CI only reads the output.
"""

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts", "golden"))

from make_minilm_golden import dumps_safe  # noqa: E402

NEW_TOKENS = 32
WINDOW = 256
PPL_MAX_TOKENS = 8192
PROMPTS = [
    "Call me",
    "The whale",
    "Fellow-Citizens of the Senate and House of Representatives:",
    "In 1851, the ship sailed 3,000 miles \u2014 \u201cAhoy!\u201d",
    # longer than 32 tokens
    "It is a way I have of driving off the spleen and regulating the circulation. Whenever I find "
    "myself growing grim about the mouth, I account it high time to get to sea as soon as I can.",
]


def f32_list(t):
    import numpy as np
    return [float(str(np.float32(x))) for x in t.detach().cpu().numpy().astype(np.float32).ravel()]


def greedy(model, ids):
    import torch

    seq, margins = list(ids), []
    for _ in range(NEW_TOKENS):
        last = model(input_ids=torch.tensor([seq])).logits[0, -1]
        top2 = torch.topk(last, 2).values
        margins.append(float(top2[0] - top2[1]))
        seq.append(int(torch.argmax(last)))
    new = seq[len(ids):]
    from transformers import GenerationConfig
    gc = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, num_beams=1, eos_token_id=None,
                          pad_token_id=0)
    x = torch.tensor([ids])
    out = model.generate(x, attention_mask=torch.ones_like(x), generation_config=gc)[0, len(ids):].tolist()
    assert out == new, (out, new)
    return new, min(margins)


def perplexity(model, ids):
    import torch
    import torch.nn.functional as F

    nll_sum, scored = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids), WINDOW):
            w = torch.tensor([ids[s:s + WINDOW]])
            if w.shape[1] < 2:
                continue
            logits = model(input_ids=w).logits[0, :-1].double()
            nll_sum += float(F.cross_entropy(logits, w[0, 1:], reduction="sum"))
            scored += w.shape[1] - 1
    return nll_sum, scored


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(REPO, "models", "tiny-gpt"))
    ap.add_argument("--heldout", default=os.path.join(REPO, "data", "tiny-gpt", "heldout-moby.txt"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "tiny_gpt_golden.json"))
    args = ap.parse_args()

    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    torch.set_num_threads(2)
    tok = PreTrainedTokenizerFast.from_pretrained(args.model_dir)
    model = LlamaForCausalLM.from_pretrained(args.model_dir, attn_implementation="eager",
                                             torch_dtype=torch.float32)
    model.eval()
    cases = []
    with torch.no_grad():
        for text in PROMPTS:
            ids = list(tok(text)["input_ids"])
            assert ids[0] == 0, ids
            logits = model(input_ids=torch.tensor([ids])).logits[0]
            new, margin = greedy(model, ids)
            cases.append({"text": text, "ids": ids, "logits": [f32_list(r) for r in logits],
                          "greedy_ids": new, "greedy_text": tok.decode(new),
                          "greedy_min_margin": float(str(np.float32(margin)))})
    assert len(cases[-1]["ids"]) > 32

    with open(args.heldout, encoding="utf-8") as f:
        text = f.read()
    all_ids = tok(text, add_special_tokens=False)["input_ids"]
    ids = all_ids[:PPL_MAX_TOKENS]
    nll_sum, scored = perplexity(model, ids)
    doc = {
        "provenance": {
            "script": "scripts/tiny-gpt/make_golden.py",
            "model": os.path.relpath(args.model_dir, REPO),
            "python": sys.version.split()[0], "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "numpy": np.__version__, "dtype": "float32", "device": "cpu", "attn_implementation": "eager",
            "bos": "the tokenizer's post-processor puts <|endoftext|> (id 0) first",
            "logits": "logits[position][token id] at every prompt position, full vocabulary",
            "greedy": f"{NEW_TOKENS} new ids, argmax of the last position, full recompute, no stop",
            "float_format": "shortest decimal that round-trips to the same float32",
        },
        "cases": cases,
        "perplexity": {"file": os.path.relpath(args.heldout, REPO), "text_tokens": len(all_ids),
                       "max_tokens": PPL_MAX_TOKENS, "window": WINDOW, "scored": scored,
                       "nll_sum": nll_sum, "perplexity": math.exp(nll_sum / scored)},
    }
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")
    print(f"wrote {os.path.relpath(args.out, REPO)}: {len(cases)} cases, prompt lengths "
          f"{[len(c['ids']) for c in cases]}; perplexity {doc['perplexity']['perplexity']:.4f} over "
          f"{scored} tokens; greedy 'Call me' -> {cases[0]['greedy_text']!r}")


if __name__ == "__main__":
    main()
