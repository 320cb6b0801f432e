#!/usr/bin/env python3
"""Can the lexicon's signal lift the teacher to VADER's tweet accuracy? Scores, on the dev and test
splits of the four domains, the blend `margin + beta * compound` (margin = the teacher's logit
difference positive - negative, compound = VADER 3.3.2's score in [-1, 1]; >= 0 = positive) for a
range of beta, beta = 0 being the teacher alone and the last row VADER alone. A blend that beats
VADER on tweets without losing the other domains would be a distillation target worth training
the student on; the table shows whether one exists.

Reads the teacher's cached dev/test logits (distill_student.py's cache; computed if missing) and
the VADER module of the sdist the data comes from. Writes scripts/sentiment/results/
lexicon_blend.json and prints a Markdown table. Hand-run from the repository root:

    .cache/venv-golden/bin/python scripts/sentiment/lexicon_blend.py
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
from distill_student import teacher_logits  # noqa: E402
from domains import vader_analyzer  # noqa: E402

BETAS = (0, 1, 2, 3, 4, 6, 8, 12)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teacher-dir", default=os.path.join(common.CACHE, "teacher"))
    ap.add_argument("--logits-cache", default=os.path.join(common.CACHE, "teacher_logits.pt"))
    ap.add_argument("--results", default=os.path.join(common.RESULTS, "lexicon_blend.json"))
    args = ap.parse_args()

    import torch

    tok = common.load_tokenizer(args.teacher_dir)
    splits = {s: common.concat(common.load_domains(s, common.DOMAINS)) for s in ("dev", "test")}
    logits = teacher_logits(args.teacher_dir, tok, {s: x for s, (x, _, _) in splits.items()},
                            args.logits_cache)
    vader = vader_analyzer()
    compound = {s: torch.tensor([vader.polarity_scores(t)["compound"] for t in x])
                for s, (x, _, _) in splits.items()}

    def accuracy(split, score):
        _, y, d = splits[split]
        return {k: round(v, 4) for k, v in common.domain_accuracy(
            torch.stack([-score, score], 1), y, d).items()}

    rows = []
    for beta in BETAS:
        rows.append({"blend": f"teacher + {beta} x VADER" if beta else "teacher",
                     **{s: accuracy(s, (logits[s][:, 1] - logits[s][:, 0]) + beta * compound[s])
                        for s in splits}})
    # compound >= 0 = positive: a score that is never exactly 0 with the same sign
    rows.append({"blend": "VADER", **{s: accuracy(s, (compound[s] >= 0).float() - 0.5) for s in splits}})
    common.write_json(args.results, {
        "teacher": common.rel(args.teacher_dir), "vader": "vaderSentiment 3.3.2 (sdist)",
        "score": "teacher logit margin + beta * VADER compound; >= 0 positive", "rows": rows})
    names = [d for d in rows[0]["dev"]]
    print("| blend | " + " | ".join(f"{d} dev / test" for d in names) + " |")
    print("|---|" + "---|" * len(names))
    for r in rows:
        print(f"| {r['blend']} | " + " | ".join(f"{r['dev'][d]:.3f} / {r['test'][d]:.3f}" for d in names) + " |")


if __name__ == "__main__":
    main()
