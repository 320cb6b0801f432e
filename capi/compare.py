#!/usr/bin/env python3
"""Compares two files of JSON lines from `classify --json` or `generate --json` (the host tool,
the C example on the host or on a device), line by line, and prints one line per input.

  compare.py classify A.jsonl B.jsonl [--tol T]   same label; |prob|, |logit| differences <= T
                                                  (T = 0: the same float32 values)
  compare.py generate A.jsonl B.jsonl             same prompt ids, generated ids, text and stop

Exits 1 on any difference or a different number of lines. Standard library only."""
import argparse
import json
import struct
import sys


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["classify", "generate"])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--tol", type=float, default=0.0)
    args = ap.parse_args()
    a, b = load(args.a), load(args.b)
    if len(a) != len(b) or not a:
        print(f"compare: {len(a)} results in {args.a}, {len(b)} in {args.b}")
        return 1
    bad, worst = 0, 0.0
    for i, (x, y) in enumerate(zip(a, b)):
        if args.kind == "classify":
            pairs = list(zip(x["probs"] + x["logits"], y["probs"] + y["logits"]))
            diff = max(abs(f32(p) - f32(q)) for p, q in pairs)
            same_len = len(x["logits"]) == len(y["logits"])
            ok = x["label"] == y["label"] and same_len and diff <= args.tol
            worst = max(worst, diff)
            print(f"{i:3} {x['label']:>10} {y['label']:>10} max|diff| {diff:.3g} {'ok' if ok else 'DIFFERENT'}")
        else:
            keys = ("prompt_ids", "ids", "text", "stop")
            ok = all(x[k] == y[k] for k in keys)
            print(f"{i:3} {len(x['ids']):3} ids {x['stop']:>12} {'ok' if ok else 'DIFFERENT'}")
        bad += not ok
    tail = f", largest difference {worst:.3g} (tolerance {args.tol:g})" if args.kind == "classify" else ""
    print(f"compare {args.kind}: {len(a) - bad} of {len(a)} the same{tail}")
    print(f"parity: {len(a) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
