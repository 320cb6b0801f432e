#!/usr/bin/env python3
"""Write data/sentiment/student_golden.json: token ids and fp32 logits of the distilled
sentiment student (HF dir from distill_student.py) for ~40 fixed sentences. The Rust tests
compare the shipped (pruned, quantized) blob against it.

Format: {"provenance": {...}, "max_len": 64,
         "cases": [{"text", "ids", "logits": [negative, positive], "label"(, "compound")}]}
ids = the student's tokenizer with truncation at max_len 64 ([CLS] ... [SEP]); one sequence,
no padding, token_type_ids all zero, attention mask all ones; logits = fp32 CPU forward in
eval mode, each the shortest decimal that round-trips to the same float32; label =
id2label[argmax(logits)].

Sentences: 20 fixed test-set rows (every 53rd line of data/sentiment/test.tsv, plus the one
with the most tokens) and hand-written ones (empty, whitespace, very long, emoji, accents,
CJK, negation, punctuation, special tokens). Deterministic.

Usage (from the repository root):
    .cache/venv-golden/bin/python scripts/sentiment/make_golden.py [--model-dir DIR] [--out FILE]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

MAX_LEN = 64

HAND_WRITTEN = [
    "this movie was wonderful",
    "This movie was terrible and I want my money back.",
    "An absolute masterpiece of modern cinema.",
    "A dull, lifeless, and utterly forgettable affair.",
    "It's not bad, it's just not good either.",
    "I didn't hate it.",
    "not good",
    "not bad at all",
    "Wow. Just wow.",
    "UNBELIEVABLE!!! BEST DAY EVER!!!",
    "I love this! 😍😍😍",
    "Worst. Film. Ever. 👎🤮",
    "Crème brûlée-level delicate: Almodóvar's naïve, bittersweet café romance.",
    "Señor Muñoz's über-stylish thriller is a façade with nothing behind it.",
    "这部电影非常精彩！",
    "",
    "   ",
    "?!",
    "[MASK] is the best [UNK] ever",
    ("The old lighthouse keeper climbed the spiral stairs every evening, counting each of the "
     "one hundred and twelve steps, polishing the brass rail with his sleeve, and pausing at "
     "the narrow window halfway up to watch the fishing boats come home across the grey water, "
     "and the film that tells his story is a patient, luminous, deeply moving portrait of "
     "solitude that I would gladly watch again and again."),
    "bad " * 80,
]

N_TEST = 20


def test_sentences(tok):
    texts, _ = common.load_split("test")
    picked = [texts[i] for i in range(0, len(texts), 53)][: N_TEST - 1]
    longest = max(texts, key=lambda t: (len(tok(t)["input_ids"]), t))
    if longest not in picked:
        picked.append(longest)
    return picked


def f32(x):
    import numpy as np
    return float(str(np.float32(x)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=os.path.join(common.CACHE, "student"))
    ap.add_argument("--out", default=os.path.join(common.DATA_DIR, "student_golden.json"))
    args = ap.parse_args()

    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import BertForSequenceClassification

    torch.set_num_threads(common.N_THREADS)
    with open(os.path.join(args.model_dir, "config.json"), encoding="utf-8") as f:
        gated = "lexicon_gate_max" in json.load(f)
    if gated:  # VADER's score weighed in by a gate (lexicon_gate.py); compound as the device's
        import lexicon_gate
        from domains import vader_analyzer
        model = lexicon_gate.BertWithLexiconGate.from_pretrained(args.model_dir, dtype=torch.float32)
        vader = lexicon_gate.no_emoji(vader_analyzer())
    else:
        model = BertForSequenceClassification.from_pretrained(args.model_dir, dtype=torch.float32)
    model.eval()
    full_vocab = model.config.vocab_size == 30522
    if full_vocab:
        tok = common.load_tokenizer(args.model_dir)
    else:  # a student trained on a pruned vocabulary (distill_student.py --vocab)
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(args.model_dir)
        assert tok.is_fast and len(tok) == model.config.vocab_size, (len(tok), model.config.vocab_size)
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    assert id2label == common.ID2LABEL, id2label
    assert model.config.max_position_embeddings == MAX_LEN

    sentences = test_sentences(tok) + HAND_WRITTEN
    assert len(sentences) == len(set(sentences)), "duplicate sentences"
    cases = []
    with torch.no_grad():
        for text in sentences:
            ids = list(tok(text, truncation=True, max_length=MAX_LEN)["input_ids"])
            x = torch.tensor([ids])
            extra = {"compound": lexicon_gate.compounds(vader, [text])} if gated else {}
            logits = model(input_ids=x, attention_mask=torch.ones_like(x),
                           token_type_ids=torch.zeros_like(x), **extra).logits[0].float().numpy()
            cases.append({"text": text, "ids": ids, "logits": [f32(v) for v in logits],
                          "label": id2label[int(np.argmax(logits))],
                          **({"compound": float(extra["compound"][0])} if gated else {})})
    if full_vocab:
        assert cases[len(sentences) - len(HAND_WRITTEN)]["ids"] == [101, 2023, 3185, 2001, 6919, 102]
    assert any(len(c["ids"]) == MAX_LEN for c in cases) and any(c["ids"] == [tok.cls_token_id, tok.sep_token_id]
                                                        for c in cases)

    sha = common.file_sha256(os.path.join(args.model_dir, "model.safetensors"))
    doc = {
        "provenance": {
            "script": common.rel(__file__),
            "model": "sentiment student distilled from all-MiniLM-L6-v2 fine-tuned on "
                     "data/sentiment (scripts/sentiment/distill_student.py)",
            "model_dir": common.rel(args.model_dir),
            "model_safetensors_sha256": sha,
            "config": {k: getattr(model.config, k) for k in (
                "num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size",
                "max_position_embeddings", "type_vocab_size", "vocab_size")},
            "id2label": {str(k): v for k, v in id2label.items()},
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "dtype": "float32",
            "device": "cpu",
            "float_format": "shortest decimal that round-trips to the same float32",
            "token_type_ids": "all zero",
            "attention_mask": "all ones (one sequence, no padding)",
            "truncation": "tokenizer truncation at max_len, [SEP] kept last",
            **({"lexicon_gate": "BertWithLexiconGate (lexicon_gate.py): compound = VADER 3.3.2 as the "
                                "device computes it (no emoji table, the first 128 words), also "
                                "written per case"} if gated else {}),
        },
        "max_len": MAX_LEN,
        "cases": cases,
    }
    # compact UTF-8 JSON, one case per line
    dumps = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":"))  # noqa: E731
    s = ('{"provenance":' + dumps(doc["provenance"]) + ',\n"max_len":' + str(MAX_LEN)
         + ',\n"cases":[\n' + ",\n".join(dumps(c) for c in cases) + "\n]}")
    assert json.loads(s) == doc
    for ch in ("\u0085", "\u2028", "\u2029"):
        s = s.replace(ch, "\\u%04x" % ord(ch))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(s + "\n")
    npos = sum(1 for c in cases if c["label"] == "positive")
    print(f"wrote {common.rel(args.out)}: {len(cases)} cases ({npos} predicted positive)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
