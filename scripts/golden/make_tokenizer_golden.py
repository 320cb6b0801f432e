#!/usr/bin/env python3
"""Generate tokenizer golden files from the all-MiniLM-L6-v2 vocabulary:

  tests/data/tokenizer_golden.jsonl        uncased (the model's own fast tokenizer:
                                           BertNormalizer lowercase=True, strip_accents
                                           follows lowercase, clean_text, CJK splitting,
                                           WordPiece max_input_chars_per_word=100)
  tests/data/tokenizer_golden_cased.jsonl  same vocab.txt, BertTokenizerFast over it with
                                           do_lower_case=False, strip_accents=False,
                                           tokenize_chinese_chars=True (clean_text=True,
                                           max_input_chars_per_word=100)

Every row of both files is cross-checked against an independent
tokenizers.BertWordPieceTokenizer(vocab.txt, lowercase=..., strip_accents=...).

One JSON object per line: {"text", "max_len", "ids", "truncated"}; ids come from
tokenizer(text, truncation=True, max_length=max_len) (so they include [CLS]/[SEP]);
truncated = the untruncated encoding was longer than max_len.

All strings are generated deterministically (random.Random(SEED)). Hand-run only
(see scripts/golden/README.md); the outputs are committed, CI never runs this.
"""

import argparse
import json
import logging
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_minilm_golden import REPO, SENTENCES, default_model_dir, dumps_safe, git_rel  # noqa: E402

SEED = 20261130
N_UNCASED_MIN = 2500
N_CASED = 300
SMALL_MAX_LENS = (8, 16, 32)
SMALL_FRACTION = 0.10

# Unicode blocks to sample from: (name, [(lo, hi), ...]) inclusive ranges, no surrogates.
BLOCKS = [
    ("ascii", [(0x21, 0x7E)]),
    ("latin1", [(0xA1, 0xFF)]),
    ("latin_ext_a", [(0x100, 0x17F)]),
    ("latin_ext_b", [(0x180, 0x24F)]),
    ("ipa", [(0x250, 0x2AF)]),
    ("latin_ext_additional", [(0x1E00, 0x1EFF)]),
    ("greek", [(0x370, 0x3FF)]),
    ("greek_ext", [(0x1F00, 0x1FFF)]),
    ("cyrillic", [(0x400, 0x4FF)]),
    ("armenian", [(0x531, 0x58A)]),
    ("hebrew", [(0x591, 0x5F4)]),
    ("arabic", [(0x600, 0x6FF)]),
    ("devanagari", [(0x900, 0x97F)]),
    ("bengali", [(0x980, 0x9FF)]),
    ("thai", [(0xE01, 0xE5B)]),
    ("georgian", [(0x10A0, 0x10FF)]),
    ("hangul_jamo", [(0x1100, 0x11FF)]),
    ("hangul_compat_jamo", [(0x3131, 0x318E)]),
    ("hangul_syllables", [(0xAC00, 0xD7A3)]),
    ("cjk_unified", [(0x4E00, 0x9FFF)]),
    ("cjk_ext_a", [(0x3400, 0x4DBF)]),
    ("cjk_ext_b", [(0x20000, 0x2A6DF)]),
    ("cjk_compat", [(0xF900, 0xFAFF)]),
    ("cjk_symbols", [(0x3000, 0x303F)]),
    ("hiragana", [(0x3041, 0x309F)]),
    ("katakana", [(0x30A0, 0x30FF)]),
    ("fullwidth", [(0xFF01, 0xFFEF)]),
    ("emoji", [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF),
               (0x2600, 0x27BF)]),
    ("math", [(0x2200, 0x22FF), (0x1D400, 0x1D7FF)]),
    ("arrows_letterlike", [(0x2100, 0x21FF)]),
    ("currency", [(0x20A0, 0x20C0)]),
    ("box_drawing", [(0x2500, 0x259F)]),
    ("general_punct", [(0x2000, 0x206F)]),
    ("super_sub", [(0x2070, 0x209C)]),
    ("number_forms", [(0x2150, 0x218B)]),
    ("enclosed_alnum", [(0x2460, 0x24FF)]),
    ("combining", [(0x300, 0x36F)]),
    ("private_use", [(0xE000, 0xF8FF)]),
    ("specials", [(0xFFF9, 0xFFFD)]),
    ("c0_c1", [(0x00, 0x1F), (0x7F, 0x9F)]),
    ("ligatures", [(0xFB00, 0xFB06)]),
    ("variation_selectors", [(0xFE00, 0xFE0F)]),
]

WHITESPACE = [" ", "\t", "\n", "\r", "\r\n", "\x0b", "\x0c", "\u00a0", "\u1680", "\u2000",
              "\u2002", "\u2003", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f",
              "\u3000", "\x85"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u00ad", "\u2060",
              "\u034f", "\u180e"]
SPECIAL_LITERALS = ["[MASK]", "[CLS]", "[SEP]", "[UNK]", "[PAD]", "[mask]", "[Mask]", "[MASK",
                    "MASK]", "[ MASK ]", "[[MASK]]", "[MASK][MASK]", "x[MASK]y", "[SEP][CLS]",
                    "[unused0]", "[unused1]", "[unused99]", "##ing", "##", "[cls]", "[unk]"]
EMOJI_SEQS = [
    "👨‍👩‍👧‍👦", "👩‍💻", "🧑‍🚀", "👨🏽‍🍳", "🏳️‍🌈", "🏴‍☠️", "❤️‍🔥", "👁️‍🗨️",
    "👋🏻", "👋🏼", "👋🏽", "👋🏾", "👋🏿", "🇺🇸", "🇯🇵", "🇩🇪", "🇫🇷", "🇧🇷", "🇪🇺",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "2️⃣", "#️⃣", "*️⃣", "0⃣", "©️", "®️", "™️", "☺️", "✌🏿",
    "😀", "😂", "🥲", "🤌", "🫠", "🪿", "😶‍🌫️",
]
REAL_WORDS = (
    "the of and to in is was for on that with as by at from it an be this are or have not "
    "movie film great bad good terrible wonderful love hate boring plot actor actress music "
    "unbelievable unhappiness reconstruction internationalization tokenizer embedding "
    "microcontroller transformer attention playing played runs running quickly beautiful "
    "café naïve Ångström résumé jalapeño façade coöperate Zürich Straße GROẞE İstanbul ılık "
    "München Español Ελλάδα Москва 東京 서울 北京 数据 データ 한국어 हिन्दी عربي עברית "
    "don't it's I'm we'll 3.14 1,000 $5 100% e-mail co-op U.S.A. a.m. C++ C# .NET node.js "
    "http://x.io user@mail.com #tag @user"
).split()
SPECIAL_CASE_STRINGS = [
    # Greek final sigma (lowercasing of Σ depends on position in the word)
    "ΟΔΟΣ ΣΟΦΟΣ", "ΟΔΟΣ", "ΣΟΦΟΣ", "Σ", "ΣΣ", "ΑΣ.", "ΑΣΑ", "ΟΔΟΣ,ΣΟΦΟΣ", "ὈΔΥΣΣΕΎΣ",
    "ΌΣΟΣ ΤΟ ΠΛΑΊΣΙΟ", "σοφός ΣΟΦΌΣ", "ΑΣ'Σ", "ΣΑΣ ΣΑΣ ΣΑΣ",
    # Turkish dotted/dotless i
    "İ", "ı", "İstanbul", "ISTANBUL", "ıı İİ", "DİYARBAKIR", "i̇", "I\u0307", "İi Iı",
    # German sharp s
    "ß", "ẞ", "STRASSE Straße STRAẞE", "Maß", "GROẞ", "ßẞß",
    # ligatures and compatibility characters (BertNormalizer does no NFKC)
    "ﬁ", "ﬀ", "ﬂ", "ﬃ", "ﬄ", "ﬅ", "ﬆ", "ﬁnance ﬀort", "ǅ ǈ ǋ", "Ǆ ǆ",
    # Roman numerals, superscripts, subscripts, circled letters
    "Ⅻ", "ⅻ", "Ⅰ Ⅱ Ⅲ Ⅳ Ⅴ Ⅵ Ⅶ Ⅷ Ⅸ Ⅹ Ⅺ Ⅻ Ⅼ Ⅽ Ⅾ Ⅿ", "Ⅻ o'clock", "x² y³ z¹ ⁴⁵⁶ⁿ",
    "H₂O CO₂ ₀₁₂", "Ⓐ", "ⓐ", "Ⓐ Ⓑ Ⓩ ⓐ ⓑ ⓩ", "ⒶⒷⒸ", "🅐🅑🅒", "🄰🄱🄲", "①②③", "㊀㊁",
    # accents, precomposed vs decomposed
    "café", "cafe\u0301", "CAFÉ", "CAFE\u0301", "Ångström", "A\u030angstro\u0308m",
    "naïve", "nai\u0308ve", "ñ n\u0303", "ǖǘǚǜ", "ḱṃṕ", "ẞ ß", "ŀ", "ĳ Ĳ", "ŉ",
    "e\u0301\u0301\u0301\u0301", "\u0301\u0301 leading combining", "Z\u0351\u0352\u0353algo",
    "Ω Ω ω", "K K", "Å Å", "µ μ", "ſ", "ﬅ",
    # fullwidth
    "ＡＢＣ ａｂｃ １２３", "Ｈｅｌｌｏ，ｗｏｒｌｄ！", "［ＭＡＳＫ］",
    # letter-like
    "ℌ ℍ ℕ ℙ ℚ ℝ ℤ", "℃ ℉ № ™ ℠", "𝐀𝐁𝐂 𝒶𝒷𝒸 𝔸𝔹ℂ",
]


def rand_char(rng, block):
    ranges = block[1]
    lo, hi = ranges[rng.randrange(len(ranges))]
    return chr(rng.randint(lo, hi))


def rand_block_string(rng, block, spaces=True):
    n = rng.randint(1, 40)
    out = []
    for _ in range(n):
        if spaces and rng.random() < 0.15:
            out.append(rng.choice([" ", " ", " ", "\t", "\n"]))
        else:
            out.append(rand_char(rng, block))
    return "".join(out)


def rand_any(rng):
    r = rng.random()
    if r < 0.45:
        return rng.choice(REAL_WORDS)
    if r < 0.55:
        return rand_block_string(rng, rng.choice(BLOCKS), spaces=False)[: rng.randint(1, 8)]
    if r < 0.62:
        return rng.choice(SPECIAL_LITERALS)
    if r < 0.70:
        return rng.choice(EMOJI_SEQS)
    if r < 0.76:
        return rng.choice(ZERO_WIDTH) + rng.choice(REAL_WORDS)
    if r < 0.82:
        return rng.choice(SPECIAL_CASE_STRINGS)
    if r < 0.90:
        return "".join(rng.choice("!?.,;:-_=+*/\\|()[]{}<>'\"`~@#$%^&") for _ in range(rng.randint(1, 8)))
    if r < 0.95:
        return str(rng.randint(0, 10 ** rng.randint(1, 12)))
    return rng.choice(REAL_WORDS) + rng.choice(["\u0301", "\u0308", "\u0327", "\u20e3", "\ufe0f"])


def rand_mixture(rng):
    n = rng.randint(1, 30)
    parts = []
    for i in range(n):
        parts.append(rand_any(rng))
        if i + 1 < n:
            parts.append(rng.choice(WHITESPACE) if rng.random() < 0.25 else ("" if rng.random() < 0.1 else " "))
    return "".join(parts)


def long_word_strings(rng):
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in (98, 99, 100, 101, 102, 150, 250, 1000):
        out.append("a" * n)
        out.append("".join(rng.choice(letters) for _ in range(n)))
        out.append("hello " + "b" * n + " world")
        out.append("é" * n)  # accents: chars counted before or after stripping?
        out.append("E\u0301" * (n // 2) + "x" * (n % 2))
    # exactly 100/101 characters made of real sub-words
    w = "unbelievable"
    out.append((w * 9)[:100])
    out.append((w * 9)[:101])
    out.append((w * 9)[:99] + "!")
    out.append("x" * 100 + "." + "y" * 100)
    out.append("x" * 101 + "-" + "y" * 3)
    out.append("中" * 150)  # CJK chars are split one by one, never a long word
    out.append("😀" * 120)
    out.append("1" * 101)
    out.append("1" * 100)
    out.append("a" * 100 + "\u0301")  # 101 chars before accent stripping, 100 after
    out.append("A" * 101)
    return out


def punctuation_runs():
    return ["!!!???...", "--==**", "!" * 50, "?!" * 40, "." * 300, "...", "…", "—–-", "''''",
            "\"\"\"", "```rust", "<<>>", "(((())))", "~~~", "^_^", ":-)", ";-P", "¯\\_(ツ)_/¯",
            "（╯°□°）╯︵ ┻━┻", "!?¿¡", "‽", "«»‹›", "“”‘’„‚", "#$%&", "@@@", "\\\\\\", "|||",
            "a.b.c.d", "a-b-c", "a_b_c", "a/b\\c", "end.", ".start", "mid.dle", "..a..",
            "1.2.3.4", "10,000.50", "1/2", "½ ¼ ¾", "°C", "±×÷", "∑∏∫√∞≠≤≥"]


def whitespace_strings():
    out = ["", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\ufeff", "\u200b",
           "\u200b\u200b\u200b", " \t\n\r\x0b\x0c", "\u2028\u2029", "\x00", "\x00\x00\x00",
           "\x85", "\u00ad", "\u00ad\u00ad", "\ufffd", "\ufffd\ufffd", "\x7f", "\x1b[31mred\x1b[0m"]
    for ws in WHITESPACE + ZERO_WIDTH:
        out.append("a" + ws + "b")
        out.append(ws + "word" + ws)
        out.append("hello" + ws * 3 + "world")
    for c in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0)):
        out.append("x" + chr(c) + "y")
    return out


def special_token_strings():
    out = []
    for s in SPECIAL_LITERALS:
        out.append(s)
        out.append("the capital of france is " + s + ".")
        out.append("hello" + s + "world")
        out.append(s.lower() + " " + s.upper())
    out += ["[MASK][MASK][MASK]", "[CLS][SEP]", "[ CLS ]", "[PAD] [PAD] [PAD]",
            "MASK", "[MA SK]", "[MASK]]]", "[[[MASK", "\u200b[MASK]\u200b", "[MASK\u200b]",
            "[ＭＡＳＫ]", "［MASK］", "[MÁSK]", "[maſk]"]
    return out


def build_uncased_strings(rng):
    strings = []
    strings += SENTENCES
    strings += SPECIAL_CASE_STRINGS
    strings += long_word_strings(rng)
    strings += punctuation_runs()
    strings += whitespace_strings()
    strings += special_token_strings()
    strings += EMOJI_SEQS
    strings.append(" ".join(EMOJI_SEQS))
    # random strings from each Unicode block
    for block in BLOCKS:
        for _ in range(22):
            strings.append(rand_block_string(rng, block))
    # pairs of blocks mixed character by character
    for _ in range(200):
        a, b = rng.sample(BLOCKS, 2)
        strings.append("".join(rand_char(rng, a if rng.random() < 0.5 else b)
                               for _ in range(rng.randint(1, 30))))
    # random mixtures of real words and everything above
    while len(strings) < N_UNCASED_MIN + 150:
        strings.append(rand_mixture(rng))
    # a few long mixtures (truncated at 512)
    for _ in range(15):
        strings.append(" ".join(rand_mixture(rng) for _ in range(40)))
    # dedupe, keeping first occurrence
    seen = set()
    out = []
    for s in strings:
        s.encode("utf-8")  # no lone surrogates
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def build_cased_strings(rng):
    pool = []
    pool += SPECIAL_CASE_STRINGS
    pool += [s for s in special_token_strings()[:40]]
    pool += ["Hello World", "HELLO WORLD", "hello world", "HeLLo WoRLD", "The Quick Brown Fox",
             "NASA ESA JAXA", "iPhone eBay McDonald", "Paris PARIS paris", "John Smith",
             "Café CAFÉ café", "ÅNGSTRÖM Ångström", "Über ÜBER über", "Élan ÉLAN élan",
             "Ça ÇA ça", "Ñandú ÑANDÚ", "Москва МОСКВА москва", "Αθήνα ΑΘΗΝΑ"]
    rest = list(SENTENCES)
    rng.shuffle(rest)
    pool += rest
    while len(pool) < N_CASED:
        pool.append(rand_mixture(rng))
    seen, out = set(), []
    for s in pool:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out[:N_CASED]


def load_vocab(vocab_path):
    with open(vocab_path, encoding="utf-8") as f:
        toks = f.read().split("\n")
    if toks and toks[-1] == "":
        toks.pop()
    vocab = {t: i for i, t in enumerate(toks)}
    assert len(vocab) == len(toks), "duplicate vocab entries"
    return vocab


def bert_wordpiece_tokenizer(vocab_path, do_lower_case, strip_accents, **kwargs):
    """BertTokenizerFast over vocab.txt, working with transformers 4 and 5.

    transformers 5 made BertTokenizerFast an alias of the tokenizers-backed BertTokenizer,
    whose constructor takes `vocab=` (a dict) and silently IGNORES `vocab_file=`
    (it then builds a 5-token default vocab), so pass the vocab explicitly and check it.
    """
    import transformers
    from transformers import BertTokenizerFast

    vocab = load_vocab(vocab_path)
    common = dict(do_lower_case=do_lower_case, strip_accents=strip_accents,
                  tokenize_chinese_chars=True, **kwargs)
    if int(transformers.__version__.split(".")[0]) >= 5:
        tok = BertTokenizerFast(vocab=vocab, **common)
    else:
        tok = BertTokenizerFast(vocab_file=vocab_path, **common)
    assert tok.is_fast
    assert len(tok) == len(vocab), (len(tok), len(vocab))
    for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the"):
        assert tok.convert_tokens_to_ids(t) == vocab[t], t
    return tok


def cross_check(rows, vocab_path, lowercase, strip_accents):
    """Re-encode with the plain `tokenizers` BertWordPieceTokenizer; ids must agree."""
    from tokenizers import BertWordPieceTokenizer

    ref = BertWordPieceTokenizer(vocab_path, lowercase=lowercase, strip_accents=strip_accents,
                                 clean_text=True, handle_chinese_chars=True)
    bad = 0
    for r in rows:
        ids = ref.encode(r["text"]).ids
        exp = ids if len(ids) <= r["max_len"] else ids[: r["max_len"] - 1] + [ids[-1]]
        if exp != r["ids"]:
            bad += 1
            if bad <= 5:
                print("cross-check mismatch:", repr(r["text"][:80]), exp[:20], r["ids"][:20])
    assert bad == 0, f"{bad} mismatches against tokenizers.BertWordPieceTokenizer"


def pick_max_len(rng):
    if rng.random() < SMALL_FRACTION:
        return rng.choice(SMALL_MAX_LENS)
    return 512


def encode_cases(tok, strings, rng):
    rows = []
    for text in strings:
        max_len = pick_max_len(rng)
        full = tok(text, truncation=False, add_special_tokens=True)["input_ids"]
        ids = tok(text, truncation=True, max_length=max_len)["input_ids"]
        truncated = len(full) > max_len
        if truncated:
            assert len(ids) == max_len and ids[:-1] == full[: max_len - 1], text
        else:
            assert ids == full, text
        rows.append({"text": text, "max_len": max_len, "ids": list(ids), "truncated": truncated})
    return rows


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(dumps_safe(r) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--out-dir", default=os.path.join(REPO, "tests", "data"))
    args = ap.parse_args()

    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    # silence "sequence length is longer than the specified maximum" for untruncated encodes
    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)

    model_dir = args.model_dir or default_model_dir()
    uncased = AutoTokenizer.from_pretrained(model_dir, use_fast=True)
    assert uncased.is_fast
    vocab_path = os.path.join(model_dir, "vocab.txt")
    cased = bert_wordpiece_tokenizer(vocab_path, do_lower_case=False, strip_accents=False)
    for t in (uncased, cased):
        t.model_max_length = 10 ** 9

    rng = random.Random(SEED)
    uncased_strings = build_uncased_strings(rng)
    cased_strings = build_cased_strings(rng)

    rows_u = encode_cases(uncased, uncased_strings, random.Random(SEED + 1))
    rows_c = encode_cases(cased, cased_strings, random.Random(SEED + 2))
    assert len(rows_u) >= N_UNCASED_MIN, len(rows_u)
    cross_check(rows_u, vocab_path, lowercase=True, strip_accents=None)
    cross_check(rows_c, vocab_path, lowercase=False, strip_accents=False)

    os.makedirs(args.out_dir, exist_ok=True)
    pu = os.path.join(args.out_dir, "tokenizer_golden.jsonl")
    pc = os.path.join(args.out_dir, "tokenizer_golden_cased.jsonl")
    write_jsonl(pu, rows_u)
    write_jsonl(pc, rows_c)

    def summary(rows):
        small = sum(1 for r in rows if r["max_len"] != 512)
        trunc = sum(1 for r in rows if r["truncated"])
        unk = sum(1 for r in rows if 100 in r["ids"])
        return f"{len(rows)} rows, {small} with small max_len, {trunc} truncated, {unk} containing [UNK]"

    print(f"versions: python {sys.version.split()[0]}, transformers {transformers.__version__}, "
          f"tokenizers {tokenizers.__version__}, seed {SEED}")
    print(f"wrote {git_rel(pu)}: {summary(rows_u)}")
    print(f"wrote {git_rel(pc)}: {summary(rows_c)} "
          f"(BertTokenizerFast do_lower_case=False strip_accents=False tokenize_chinese_chars=True)")


if __name__ == "__main__":
    main()
