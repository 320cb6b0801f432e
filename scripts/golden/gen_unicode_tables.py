#!/usr/bin/env python3
"""Generate src/tokenizer/tables.rs: the Unicode data of the BERT tokenizer.

The tables are not taken from a Unicode version but probed, code point by code point, from the
reference itself (Hugging Face `tokenizers`: BertNormalizer and BertPreTokenizer), so they hold
exactly the data that the reference's Rust build effectively uses (its general-category tables are
older than its normalization tables, and its private-use handling differs from the UCD's). The one
input that is not probed is the canonical combining class (Python's `unicodedata`), used only to
reorder the rare combining characters that survive accent stripping.

Usage (hand-run; the output is committed):
    python3 -m venv .cache/venv-tok && .cache/venv-tok/bin/pip install tokenizers
    .cache/venv-tok/bin/python scripts/golden/gen_unicode_tables.py > src/tokenizer/tables.rs
"""

import sys
import unicodedata

import tokenizers
from tokenizers import normalizers, pre_tokenizers

HANGUL = range(0xAC00, 0xD7A4)
CHARS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


def norm(**kw):
    base = dict(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    base.update(kw)
    return normalizers.BertNormalizer(**base)


CLEAN, CJK, STRIP = norm(clean_text=True), norm(handle_chinese_chars=True), norm(strip_accents=True)
PRE = pre_tokenizers.BertPreTokenizer()


def ranges(cps):
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


def probe():
    control, whitespace, cjk, punct, removed, mapped = [], [], [], [], [], {}
    for c in CHARS:
        ch = chr(c)
        cleaned = CLEAN.normalize_str("a" + ch + "b")
        if cleaned == "ab":
            control.append(c)
        elif cleaned == "a b":
            whitespace.append(c)
        if CJK.normalize_str(ch) == " " + ch + " ":
            cjk.append(c)
        if [w for w, _ in PRE.pre_tokenize_str("a" + ch + "b")] == ["a", ch, "b"]:
            punct.append(c)
        stripped = STRIP.normalize_str(ch)
        if stripped == "":
            removed.append(c)
        elif stripped != ch and c not in HANGUL:
            mapped[c] = [ord(x) for x in stripped]
    return control, whitespace, cjk, punct, removed, mapped


def check_hangul():
    for c in HANGUL:
        s = c - 0xAC00
        want = [0x1100 + s // 588, 0x1161 + (s % 588) // 28] + ([0x11A7 + s % 28] if s % 28 else [])
        assert [ord(x) for x in STRIP.normalize_str(chr(c))] == want, hex(c)


# Rust's `char::is_whitespace` (the White_Space property), which the reference and we both use.
RUST_WS = [*range(0x9, 0xE), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029,
           0x202F, 0x205F, 0x3000]


def check_whitespace(whitespace, control):
    assert set(whitespace) == set(RUST_WS) - set(control), sorted(whitespace)
    split = [c for c in CHARS if [w for w, _ in PRE.pre_tokenize_str("a" + chr(c) + "b")] == ["a", "b"]]
    assert split == RUST_WS, split


def emit_ranges(name, doc, cps):
    rs = ranges(cps)
    print(f"/// {doc} ({len(cps)} code points).")
    print(f"pub(crate) static {name}: [(u32, u32); {len(rs)}] = [")
    for i in range(0, len(rs), 4):
        print("    " + " ".join(f"(0x{a:05X}, 0x{b:05X})," for a, b in rs[i:i + 4]))
    print("];\n")


def emit_pairs(name, ty, pairs, width):
    print(f"pub(crate) static {name}: [({ty}, {ty}); {len(pairs)}] = [")
    for i in range(0, len(pairs), 4):
        print("    " + " ".join(f"(0x{a:0{width}X}, 0x{b:0{width}X})," for a, b in pairs[i:i + 4]))
    print("];\n")


def emit_map(mapped):
    bmp = [(k, v[0]) for k, v in sorted(mapped.items()) if k < 0x10000 and len(v) == 1 and v[0] < 0x10000]
    rest = sorted(k for k in mapped if not (k < 0x10000 and len(mapped[k]) == 1 and mapped[k][0] < 0x10000))
    extra, pairs = [], []
    for k in rest:
        v = mapped[k]
        if len(v) == 1:
            pairs.append((k, v[0]))
        else:
            assert len(v) < 16 and len(extra) < 1 << 20
            pairs.append((k, 0x8000_0000 | (len(extra) << 4) | len(v)))
            extra += v
    print("/// Accent stripping (NFD, then drop Mn) of BMP code points to one other BMP char.")
    emit_pairs("STRIP_MAP_BMP", "u16", bmp, 4)
    print("/// The other code points that accent stripping maps to other, non-empty text, Hangul")
    print("/// syllables excepted (decomposed by rule). Value: the one char, or")
    print("/// `0x8000_0000 | start << 4 | len` into [`STRIP_EXTRA`].")
    emit_pairs("STRIP_MAP", "u32", pairs, 5)
    print("/// The multi-char results of [`STRIP_MAP`].")
    print(f"pub(crate) static STRIP_EXTRA: [u32; {len(extra)}] = [")
    for i in range(0, len(extra), 8):
        print("    " + " ".join(f"0x{x:05X}," for x in extra[i:i + 8]))
    print("];\n")
    return {x for v in mapped.values() for x in v}


def nfd_first_ccc(c):
    return unicodedata.combining(unicodedata.normalize("NFD", chr(c))[0])


def main():
    control, whitespace, cjk, punct, removed, mapped = probe()
    check_hangul()
    check_whitespace(whitespace, control)
    print("// @generated by scripts/golden/gen_unicode_tables.py from Hugging Face tokenizers "
          f"{tokenizers.__version__}")
    print(f"// and Python {sys.version.split()[0]} unicodedata {unicodedata.unidata_version} "
          "(combining classes only). Do not edit.\n")
    emit_ranges("CONTROL", "Removed by `clean_text` (NUL, U+FFFD, Cc/Cf/Co but \\t \\n \\r)", control)
    emit_ranges("CJK", "Ideographs that `tokenize_cjk` surrounds with spaces", cjk)
    emit_ranges("PUNCT", "Split off as one-char words by the pre-tokenizer", punct)
    emit_ranges("STRIP_REMOVED", "Removed entirely by accent stripping (Mn marks)", removed)
    survivors = emit_map(mapped)
    nonstarter = [c for c in CHARS if c not in HANGUL and nfd_first_ccc(c) != 0]
    emit_ranges("NONSTARTER", "Code points whose NFD starts with a non-zero combining class",
                nonstarter)
    kept = sorted(c for c in (survivors | set(CHARS)) - set(removed)
                  if c not in HANGUL and unicodedata.combining(chr(c)) != 0
                  and (c in survivors or c not in mapped))
    print("/// Non-starters that survive accent stripping (for reordering): `code << 8 | class`.")
    print(f"pub(crate) static KEPT_CCC: [u32; {len(kept)}] = [")
    for i in range(0, len(kept), 6):
        print("    " + " ".join(f"0x{c << 8 | unicodedata.combining(chr(c)):07X}," for c in kept[i:i + 6]))
    print("];")


if __name__ == "__main__":
    main()
