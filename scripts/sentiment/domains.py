#!/usr/bin/env python3
"""The four sentiment domains' test splits (data/sentiment: movie reviews, and amazon/, tweets/,
nyt/ from fetch_data.py) scored by VADER 3.3.2 (the lexicon the project must beat; compound >= 0
= positive, as the issue's baseline) and by picoformer blobs (`picoformer eval --tsv`), with the
macro average over the domains. Writes scripts/sentiment/results/domains.json and prints a
Markdown table.

VADER is the module in the same vaderSentiment 3.3.2 sdist the data comes from (standard library
only), imported from a temporary directory. Hand-run, from the repository root:

    cargo build --release -p picoformer-tool
    python3 scripts/sentiment/domains.py [--model models/sentiment.pfm ...] [--sdist FILE]
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import common  # noqa: E402
from fetch_data import download_sdist  # noqa: E402

# (name in the results, common.DOMAINS key)
DOMAINS = (("movie reviews (RT)", "rt"), ("amazon", "amazon"), ("tweets", "tweets"), ("nyt", "nyt"))


def test_split(domain):
    path = os.path.join(common.domain_dir(domain), "test.tsv")
    with open(path, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    return path, rows


def load_vader(sdist, tmp):
    with tarfile.open(sdist) as t:
        members = [m for m in t.getmembers() if "/vaderSentiment/" in m.name and m.isfile()]
        t.extractall(tmp, members=members, filter="data")
    pkg = os.path.join(tmp, os.path.dirname(members[0].name))
    spec = importlib.util.spec_from_file_location("vader", os.path.join(pkg, "vaderSentiment.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.SentimentIntensityAnalyzer()


def vader_analyzer(sdist=None):
    """VADER 3.3.2's analyzer from `sdist` (default: downloaded); its lexicon is read at load, so
    it outlives the temporary directory it is imported from."""
    with tempfile.TemporaryDirectory(prefix="vader-") as tmp:
        return load_vader(sdist or download_sdist(tmp), tmp)


def vader_accuracy(analyzer, rows):
    right = 0
    for label, text in rows:
        pred = "positive" if analyzer.polarity_scores(text)["compound"] >= 0 else "negative"
        right += pred == label
    return right / len(rows)


def model_accuracy(tool, model, path):
    out = subprocess.run([tool, "eval", "-m", model, "--tsv", path, "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["accuracy"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=None, help="blobs to score (default: the bundled one)")
    ap.add_argument("--sdist", help="an already downloaded vaderSentiment-3.3.2.tar.gz")
    ap.add_argument("--tool", default=os.path.join(REPO, "target", "release", "picoformer"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "domains.json"))
    args = ap.parse_args()
    models = args.model or [os.path.join(REPO, "models", "sentiment.pfm")]
    analyzer = vader_analyzer(args.sdist)
    result = {"vader": {}, "models": {os.path.relpath(m, REPO): {} for m in models}, "sentences": {}}
    for name, sub in DOMAINS:
        path, rows = test_split(sub)
        result["sentences"][name] = len(rows)
        result["vader"][name] = vader_accuracy(analyzer, rows)
        for m in models:
            result["models"][os.path.relpath(m, REPO)][name] = model_accuracy(args.tool, m, path)
    for scores in [result["vader"], *result["models"].values()]:
        scores["macro average"] = sum(scores[n] for n, _ in DOMAINS) / len(DOMAINS)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    names = [n for n, _ in DOMAINS] + ["macro average"]
    print("| test split | sentences | VADER 3.3.2 | " + " | ".join(result["models"]) + " |")
    print("|---|---:|---:|" + "---:|" * len(models))
    for n in names:
        count = f"{result['sentences'][n]:,}" if n in result["sentences"] else "-"
        cells = [f"{result['vader'][n]:.3f}"] + [f"{s[n]:.3f}" for s in result["models"].values()]
        print(f"| {n} | {count} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
