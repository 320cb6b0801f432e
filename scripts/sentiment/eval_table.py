"""Prints the Markdown evaluation table of scripts/sentiment/results/eval.json (made by
`bash scripts/sentiment/build_model.sh eval`): test accuracy of teacher and student at f32/f16/int8,
and agreement with the same model at f32. Standard library only."""
import json
import sys

rows = json.load(open(sys.argv[1]))
print("| model | weights | blob bytes | test accuracy | neg P/R | pos P/R | agreement with f32 | max logit diff |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    e = r["eval"]
    c = {m["label"]: m for m in e["classes"]}
    pr = lambda l: f"{c[l]['precision']:.3f}/{c[l]['recall']:.3f}"
    ref = e.get("reference")
    agree = f"{ref['agreement']:.4f}" if ref else "-"
    diff = f"{ref['max_abs_logit_diff']:.3f}" if ref else "-"
    print(f"| {r['model']} | {r['dtype']} | {r['blob_bytes']:,} | {e['accuracy']:.4f} ({e['correct']}/{e['examples']}) "
          f"| {pr('negative')} | {pr('positive')} | {agree} | {diff} |")
