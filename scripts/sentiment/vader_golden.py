#!/usr/bin/env python3
"""Write VADER's lexicon and reference scores for the device's port of VADER (src/lexicon/):

- data/sentiment/vader/lexicon.tsv: `word<TAB>rating` for every entry of vaderSentiment 3.3.2's
  vader_lexicon.txt that a lowercased word can equal (lowercase printable ASCII without spaces,
  at most 32 bytes; 7,488 of 7,506: ":D", ":P" and the like have capitals, "kind of" and three
  more have spaces, and never match), the
  last rating where the file lists a word twice, as the analyzer's dict keeps it. The picoformer
  converter puts it in a blob (`quantize --lexicon`); the gated students read it (lexicon_gate.py).
- data/sentiment/vader/golden.json: {"provenance", "files": {tsv path: [compound per line]},
  "cases": [{"text", "compound"}]}: `polarity_scores(text)["compound"]` with the analyzer's emoji
  table emptied (the device has none) and the text cut after its 128th word (the device reads no
  more), for every sentence of the twelve data/sentiment TSV files and ~60 hand-written texts
  that reach each rule (negations, boosters, "but", "least", capitals, punctuation, idioms,
  emoticons, Unicode whitespace and case, long texts).

Standard library only; VADER is imported from the downloaded sdist (domains.py). Deterministic.
Usage (from the repository root): python3 scripts/sentiment/vader_golden.py [--sdist FILE]
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from domains import vader_analyzer  # noqa: E402

MAX_WORDS = 128
MAX_WORD = 32
OUT = os.path.join(common.REPO, "data", "sentiment", "vader")

HAND_WRITTEN = [
    # the analyzer's own demo and tricky sentences (emoji ones without the emoji table)
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as \U0001F498 and \U0001F48B and \U0001F601",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    # each rule once more
    "", "   ", "!!!", "good", "GOOD", "GOOD good", "good good but good good", "bad good but good bad",
    "no good", "no no good", "no problem at all", "not really good or bad", "not sure or nor good",
    "I don't like it", "I DON'T like it at ALL", "it's not that they weren't nice", "wouldn't've liked it",
    "never so good", "never this bad", "so good", "this good", "without doubt great", "kind of nice",
    "sort of nice", "just enough fun", "least good", "at least good", "very least good", "the least good",
    "kiss of death good", "yeah right great", "that was the bomb and good", "a good bus stop here",
    "to die for cake", "beating heart love", "the shit was good", "good??", "good???", "good????!!!!!",
    "bad!!!!!!", "KIND OF good", "Kind of", "the food was kinda BAD", ":) :( </3 <3 :-(", "(-: :-)",
    "\u212Aind of good", "good\u3000bad\u001fnice", "ÉTÉ great ÉTÉ", "ǅ good", "gOOd! BAD.",
    "'great'", "\"awful\"...", "--great--", "ok", "no", "no!",
    " ".join(["good"] * 130) + " !!!!",
    " ".join(["fine"] * 127) + " bad but good!",
    "word " * 200,
]


def matchable(word):
    return (word == word.lower() and word.isascii() and 0 < len(word) <= MAX_WORD
            and all(0x21 <= ord(c) <= 0x7E for c in word))


def device_text(text):
    """The text as the device reads it: cut after its 128th whitespace-separated word."""
    words = list(re.finditer(r"\S+", text))
    return text[:words[MAX_WORDS - 1].end()] if len(words) > MAX_WORDS else text


def compound(vader, text):
    return vader.polarity_scores(device_text(text))["compound"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sdist", help="an already downloaded vaderSentiment-3.3.2.tar.gz")
    args = ap.parse_args()
    vader = vader_analyzer(args.sdist)
    vader.emojis = {}
    os.makedirs(OUT, exist_ok=True)

    kept = sorted((w, r) for w, r in vader.lexicon.items() if matchable(w))
    assert all(abs(r * 10 - round(r * 10)) < 1e-9 for _, r in kept)
    with open(os.path.join(OUT, "lexicon.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for w, r in kept:
            f.write(f"{w}\t{r!r}\n")

    files = {}
    for split in ("train", "dev", "test"):
        for domain in common.DOMAINS:
            path = os.path.join("data", "sentiment", *([] if domain == "rt" else [domain]), f"{split}.tsv")
            texts, _ = common.read_tsv(os.path.join(common.REPO, path))
            files[path] = [compound(vader, text) for text in texts]
    cases = [{"text": t, "compound": compound(vader, t)} for t in HAND_WRITTEN]
    golden = {
        "provenance": {
            "script": "scripts/sentiment/vader_golden.py",
            "vader": "vaderSentiment 3.3.2 sdist (MIT), SentimentIntensityAnalyzer with emojis = {}",
            "python": sys.version.split()[0],
            "lexicon_entries": len(kept),
            "max_words": MAX_WORDS,
        },
        "files": files,
        "cases": cases,
    }
    with open(os.path.join(OUT, "golden.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"vader_golden: {len(kept):,} lexicon entries, {sum(map(len, files.values())):,} sentences, "
          f"{len(cases)} cases -> {common.rel(OUT)}")


if __name__ == "__main__":
    main()
