"""Prints the Markdown evaluation table of scripts/sentiment/results/eval.json (made by
`bash scripts/sentiment/build_model.sh eval`): test accuracy of teacher and student at f32/f16/int8,
int8 with int4 token embeddings (int8-e4) and int4 (layers and token embeddings) on each domain's
test split, their macro average, and agreement with the same model at f32 over
all test sentences. Standard library only."""
import json
import sys

DOMAINS = ("rt", "amazon", "tweets", "nyt")

rows = json.load(open(sys.argv[1]))
print("| model | weights | blob bytes | RT | amazon | tweets | nyt | macro | agreement with f32 | max logit diff |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
keys = list(dict.fromkeys((r["model"], r["dtype"]) for r in rows))
for model, dtype in keys:
    by = {r["domain"]: r for r in rows if (r["model"], r["dtype"]) == (model, dtype)}
    acc = [by[d]["eval"]["accuracy"] for d in DOMAINS]
    refs = [by[d]["eval"].get("reference") for d in DOMAINS]
    n = [by[d]["eval"]["examples"] for d in DOMAINS]
    if all(refs):
        agree = f"{sum(r['agreement'] * k for r, k in zip(refs, n)) / sum(n):.4f}"
        diff = f"{max(r['max_abs_logit_diff'] for r in refs):.3f}"
    else:
        agree = diff = "-"
    cells = " | ".join(f"{a:.3f}" for a in acc)
    print(f"| {model} | {dtype} | {by['rt']['blob_bytes']:,} | {cells} | {sum(acc) / len(acc):.3f} | {agree} | {diff} |")
