#!/usr/bin/env python3
"""Build the binary sentiment data sets used to train and evaluate the on-device sentiment
classifier: Rotten Tomatoes snippets (the main set) and three more human-rated domains.

Source: the PyPI sdist of vaderSentiment 3.3.2 (MIT), file
additional_resources/hutto_ICWSM_2014.tar.gz -> movieReviewSnippets_GroundTruth.txt:
10,605 sentences (Pang & Lee), tab-separated `id<TAB>mean rating (-4..+4)<TAB>text`.

label = sign of the mean rating (zeros dropped -> 10,568 sentences);
split by id: id % 10 == 8 -> dev, id % 10 == 9 -> test, else train (80/10/10).

The same archive holds three more domains, written to OUT/<domain>/{train,dev,test}.tsv with
the same labels (sign of the mean rating, zeros dropped): amazonReviewSnippets (3,708 -> 3,610),
tweets (4,200 -> 4,196), nytEditorialSnippets (5,190 -> 4,946). Their ids are `doc_sentence`
(Amazon, NYT: split by the document, so that no review or editorial is in two splits) or an
integer (tweets), split by `id % 10` as for the movie reviews.

Writes OUT/{train,dev,test}.tsv (`label<TAB>text` lines, label negative|positive,
UTF-8, LF), OUT/<domain>/{train,dev,test}.tsv and OUT/README.md. Standard library only;
deterministic and idempotent.

Usage (from the repository root):
    python3 scripts/sentiment/fetch_data.py [--out data/sentiment]
"""

import argparse
import collections
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

PKG = "vaderSentiment==3.3.2"
SDIST_NAME = "vaderSentiment-3.3.2.tar.gz"
INNER_TAR = "additional_resources/hutto_ICWSM_2014.tar.gz"
SNIPPETS = "movieReviewSnippets_GroundTruth.txt"
PIP_CMD = "python3 -m pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 -d <tmp>"

# Other domains: (directory, file in the archive, rows, rows with a mean of 0)
DOMAINS = (
    ("amazon", "amazonReviewSnippets_GroundTruth.txt", 3708, 98),
    ("tweets", "tweets_GroundTruth.txt", 4200, 4),
    ("nyt", "nytEditorialSnippets_GroundTruth.txt", 5190, 244),
)

EXPECT_TOTAL = 10605
EXPECT_ZERO = 37
EXPECT_POS = 5242
EXPECT_NEG = 5326
LABELS = ("negative", "positive")


def split_of(i):
    r = i % 10
    return "dev" if r == 8 else "test" if r == 9 else "train"


def clean_text(s):
    # one line per example, no tabs; collapse runs of whitespace
    s = re.sub(r"[\t\r\n\x0b\x0c\x85\u2028\u2029]", " ", s)
    return re.sub(r" {2,}", " ", s).strip()


def download_sdist(tmp):
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
           "--no-deps", "--no-binary", ":all:", PKG, "-d", tmp]
    print("fetch_data: python3", " ".join(cmd[1:]), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    files = [f for f in os.listdir(tmp) if f.lower().startswith("vadersentiment")]
    if len(files) != 1:
        sys.exit(f"fetch_data: expected one sdist in {tmp}, found {files}")
    return os.path.join(tmp, files[0])


def read_snippets(sdist_path):
    """Return ({file name: raw bytes} of the ground-truth files, sha256 of the sdist)."""
    with open(sdist_path, "rb") as f:
        sdist_bytes = f.read()
    sha = hashlib.sha256(sdist_bytes).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(sdist_bytes), mode="r:*") as outer:
        inner_member = [m for m in outer.getmembers() if m.name.endswith("/" + INNER_TAR)]
        if len(inner_member) != 1:
            sys.exit(f"fetch_data: {INNER_TAR} not found in {os.path.basename(sdist_path)}")
        inner_bytes = outer.extractfile(inner_member[0]).read()
    files = {}
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:*") as inner:
        for name in [SNIPPETS] + [d[1] for d in DOMAINS]:
            m = [m for m in inner.getmembers() if os.path.basename(m.name) == name]
            if len(m) != 1:
                sys.exit(f"fetch_data: {name} not found in {INNER_TAR}")
            files[name] = inner.extractfile(m[0]).read()
    return files, sha


def parse(raw, compound_ids=False):
    """Rows (split key, rating, text) in file order, and the count of U+FFFD replacements. The
    split key is the integer id, or with `compound_ids` the document of a `doc_sentence` id."""
    text = raw.decode("utf-8", errors="replace")
    n_replaced = text.count("\ufffd")
    rows = []
    seen = set()
    id_re = r"(\d+)_\d+" if compound_ids else r"(\d+)"
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            sys.exit(f"fetch_data: line {lineno}: expected 3 tab-separated fields: {line[:80]!r}")
        sid, rating, sent = parts[0].strip(), parts[1], "\t".join(parts[2:])
        m = re.fullmatch(id_re, sid)
        if not m:
            sys.exit(f"fetch_data: line {lineno}: id {sid!r} is not of the form {id_re}")
        if sid in seen:
            sys.exit(f"fetch_data: duplicate id {sid}")
        seen.add(sid)
        rows.append((int(m.group(1)), float(rating), clean_text(sent)))
    return rows, n_replaced


def write_splits(out, rows):
    """Writes out/{train,dev,test}.tsv from (key, rating, text) rows (zeros dropped, in the rows'
    order); returns {split: (sentences, negative, positive)}."""
    splits = {"train": [], "dev": [], "test": []}
    for key, r, t in rows:
        if r == 0:
            continue
        assert t and "\t" not in t and "\n" not in t and "\r" not in t and t == t.strip()
        splits[split_of(key)].append((LABELS[1] if r > 0 else LABELS[0], t))
    os.makedirs(out, exist_ok=True)
    counts = {}
    for name, items in splits.items():
        data = "".join(f"{lab}\t{t}\n" for lab, t in items).encode("utf-8")
        write_if_changed(os.path.join(out, f"{name}.tsv"), data)
        c = collections.Counter(lab for lab, _ in items)
        counts[name] = (len(items), c["negative"], c["positive"])
        print(f"fetch_data: {out}/{name}: {len(items)} ({c['negative']} negative, {c['positive']} positive)",
              file=sys.stderr)
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "data", "sentiment"),
                    help="output directory (default: data/sentiment)")
    ap.add_argument("--sdist", default=None,
                    help="use an already downloaded vaderSentiment-3.3.2.tar.gz instead of pip")
    args = ap.parse_args()

    if args.sdist:
        files, sha = read_snippets(args.sdist)
    else:
        with tempfile.TemporaryDirectory(prefix="vader-") as tmp:
            files, sha = read_snippets(download_sdist(tmp))

    rows, n_replaced = parse(files[SNIPPETS])
    n_zero = sum(1 for _, r, _ in rows if r == 0)
    n_pos = sum(1 for _, r, _ in rows if r > 0)
    n_neg = sum(1 for _, r, _ in rows if r < 0)
    assert len(rows) == EXPECT_TOTAL, f"expected {EXPECT_TOTAL} rows, got {len(rows)}"
    assert (n_zero, n_pos, n_neg) == (EXPECT_ZERO, EXPECT_POS, EXPECT_NEG), (n_zero, n_pos, n_neg)
    assert all(t for _, _, t in rows), "empty text"
    counts = write_splits(args.out, sorted(rows))
    assert sum(c[0] for c in counts.values()) == EXPECT_TOTAL - EXPECT_ZERO, counts

    domains = {}
    for name, file, total, zero in DOMAINS:
        d_rows, d_replaced = parse(files[file], compound_ids=name != "tweets")
        assert len(d_rows) == total and sum(1 for _, r, _ in d_rows if r == 0) == zero, (name, len(d_rows))
        d_counts = write_splits(os.path.join(args.out, name), d_rows)
        assert sum(c[0] for c in d_counts.values()) == total - zero, (name, d_counts)
        domains[name] = (file, d_counts, d_replaced)
    write_if_changed(os.path.join(args.out, "README.md"),
                     readme(counts, n_replaced, sha, domains).encode("utf-8"))
    print(args.out)


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def readme(counts, n_replaced, sha, domains):
    tot = [sum(c[k] for c in counts.values()) for k in range(3)]
    table = "\n".join(f"| {n} | {c[0]:,} | {c[1]:,} | {c[2]:,} |" for n, c in counts.items())
    dom_rows = "\n".join(
        f"| {name} | `{file}` | {c['train'][0]:,} | {c['dev'][0]:,} | {c['test'][0]:,} | "
        f"{sum(v[1] for v in c.values()):,} / {sum(v[2] for v in c.values()):,} |"
        for name, (file, c, _) in domains.items())
    return f"""# Sentiment data (Rotten Tomatoes snippets, binary)

Generated by `scripts/sentiment/fetch_data.py`; do not edit by hand.

## Source

- PyPI source distribution of `vaderSentiment` 3.3.2 (sdist sha256 `{sha}`),
  file `additional_resources/hutto_ICWSM_2014.tar.gz` -> `{SNIPPETS}`:
  {EXPECT_TOTAL:,} movie-review sentences from Rotten Tomatoes (Pang & Lee, 2005), each with
  the mean of human sentiment ratings on -4..+4 (Hutto & Gilbert, "VADER", ICWSM 2014).
- License: MIT (the vaderSentiment package and its bundled resources).
- The file is decoded as UTF-8 with `errors="replace"` ({n_replaced} invalid byte
  sequence(s) became U+FFFD); tabs/newlines inside a text become spaces, runs of spaces are
  collapsed and the text is stripped.

## Labels and split

- label = sign of the mean rating: `positive` (> 0) or `negative` (< 0); the {EXPECT_ZERO}
  sentences with a mean of exactly 0 are dropped ({EXPECT_TOTAL:,} - {EXPECT_ZERO} =
  {EXPECT_TOTAL - EXPECT_ZERO:,}).
- split by the integer sentence id: `id % 10 == 8` -> dev, `id % 10 == 9` -> test,
  otherwise train (80/10/10). Rows are in ascending id order.

| split | sentences | negative | positive |
|---|---|---|---|
{table}
| total | {tot[0]:,} | {tot[1]:,} | {tot[2]:,} |

## Format

`{{train,dev,test}}.tsv`: UTF-8, one example per line, `label<TAB>text`, LF line endings, no
header. Texts contain no tabs or newlines.

## Other domains

The same archive holds human-rated sentences of three more domains, labelled and cleaned the same
way (sign of the mean rating, zeros dropped), for training and for evaluation on held-out test
splits: `amazon/`, `tweets/`, `nyt/`, each with `{{train,dev,test}}.tsv`. Amazon and NYT ids are
`doc_sentence`: they are split by the document (`doc % 10`: 8 dev, 9 test), so that no review or
editorial has sentences in two splits; tweet ids are integers, split as the movie reviews.

| domain | file | train | dev | test | negative / positive |
|---|---|---|---|---|---|
{dom_rows}

## Regenerate

From the repository root (standard library only; needs `pip` and network access to PyPI):

```sh
python3 scripts/sentiment/fetch_data.py            # --out DIR to write elsewhere
```

It runs `{PIP_CMD}` into a temporary directory, checks the counts
({EXPECT_TOTAL:,} rows, {EXPECT_POS:,} positive, {EXPECT_NEG:,} negative, {EXPECT_ZERO} zero, integer unique ids;
the other domains' rows and zeros likewise) and rewrites the files only if their content changed.
"""


if __name__ == "__main__":
    main()
