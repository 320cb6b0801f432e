#!/usr/bin/env python3
"""Generate the byte-level BPE golden files:

  tests/data/bpe_golden_gpt2.jsonl     GPT-2: tokenizers.Tokenizer(BPE.from_file(encoder.json,
                                       vocab.bpe)), ByteLevel pre-tokenizer (add_prefix_space=False),
                                       ByteLevel decoder, "<|endoftext|>" added as a special token
  tests/data/bpe_golden_smollm2.jsonl  SmolLM2-135M-Instruct, built exactly as transformers builds it
                                       from the GGUF: AutoTokenizer.from_pretrained(dir, gguf_file=name)
                                       .backend_tokenizer (a tokenizers.Tokenizer)
  tests/data/bpe_unit_golden.json      for the core's unit tests: the reference's pre-tokenizer splits
                                       (ByteLevel; Digits then ByteLevel) of the hand-written and
                                       class-boundary strings, and ids from tiny random BPE models
                                       (merge order, unk, ignore_merges, added tokens, digits)
  tests/data/bpe_golden_pipelines.json both pipelines as the reference reports them (normalizer,
                                       pre_tokenizer, decoder, model flags, added tokens), so the
                                       Rust side can check it mirrors them

One JSON object per line: {"text", "ids"}; ids = tokenizer.encode(text, add_special_tokens=False).ids
(no BOS/EOS). Every row is also checked to decode back to its text
(tokenizer.decode(ids, skip_special_tokens=False) == text): byte-level BPE without a normalizer is
lossless, so the Rust test demands the exact bytes back.

The strings (the same list for both files) are deterministic: a hand-written list of edge cases,
strings around every boundary of the Unicode classes the GPT-2 regex uses, random strings from 40
Unicode blocks, and random mixtures of words, whitespace runs, digits, contractions, code and
special tokens (random.Random(SEED)).

Hand-run only (needs tokenizers, transformers, gguf and torch; see scripts/golden/README.md):
    bash scripts/fetch-models.sh gpt2-bpe && bash scripts/fetch-models.sh smollm2
    .cache/venv-bpe/bin/python scripts/golden/make_bpe_golden.py
"""

import argparse
import json
import os
import random
import subprocess
import sys

import tokenizers
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED = 20261202
N_RANDOM = 1500

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<file_sep>", "<jupyter_code>"]

HAND = [
    "", " ", "  ", "\t", "\n", "\r\n", "\n\n\n", " \n ", "a", "A", "0", "'", "''", "'s", " 's",
    "Hello world", "Hello, world!", "hello  world", "hello   world  ", "trailing spaces   ",
    "   leading spaces", "tab\tseparated\tvalues", "line\nbreak", "windows\r\nline\r\nends",
    "mixed \t\n whitespace \u00a0 nbsp", "nbsp\u00a0between", "\u00a0\u00a0lead nbsp", "ideographic\u3000space",
    "em\u2003space thin\u2009space", "zero\u200bwidth\u200cjoiner\u200dx", "line\u2028sep para\u2029sep",
    "next\u0085line", "vertical\x0btab form\x0cfeed", "file\x1cgroup\x1drecord\x1eunit\x1f",
    "I'm you're we've they'll she'd it's don't can't", "I'M YOU'RE WE'VE THEY'LL SHE'D IT'S DON'T",
    "IT'S Bob'S", "rock'n'roll", "o'clock", "'twas", "'re'll'd", "''s", "'''", "the dogs' bones",
    "\u2019s curly \u2018quotes\u2019 \u201cdouble\u201d", "it\u2019s", "don\u2019t", "\u201eGerman\u201c",
    "123", "1234567890", " 1 2 3", "3.14159", "1,000,000", "v1.2.3-beta", "0x1F600", "2026-12-02T10:00:00Z",
    "\u0661\u0662\u0663 Arabic-Indic", "\uff11\uff12\uff13 fullwidth", "\u2160\u2161\u2162 roman", "\u00bd \u00b2 \u2153",
    "caf\u00e9", "cafe\u0301", "na\u00efve", "\u00c5ngstr\u00f6m", "a\u0300\u0301\u0302\u0303", "\u0301lead mark",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dalgo",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8", "\u4e2d\u6587\u5b57\u7b26", "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645", "\u05e9\u05dc\u05d5\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!", "\u0393\u03b5\u03b9\u03ac \u03c3\u03bf\u03c5",
    "\U0001f600", "\U0001f600\U0001f601\U0001f602", "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
    "\U0001f3f3\ufe0f\u200d\U0001f308 flag", "\U0001f44d\U0001f3fd skin", "\U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5",
    "1\ufe0f\u20e3 keycap", "\u2764\ufe0f", "emoji\U0001f600inside", " \U0001f600 spaced",
    "\U00010348 gothic", "\U0001d400\U0001d401 math bold", "\U00020000 cjk ext b", "\U000e0001\U000e0041 tags",
    "\ue000 private use", "\ufeffBOM", "\ufffd replacement", "\x00nul\x01\x7f", "\u00ad soft hyphen",
    "def foo(x):\n    return x * 2\n", "if (a && b) { return c; }\n", "for i in range(10):\n\tprint(i)",
    "<div class=\"a\">Hi</div>", "SELECT * FROM t WHERE id = 1;", "x = [1, 2, 3]  # comment",
    "fn main() -> Result<(), Error> {\r\n    Ok(())\r\n}", "    indented\n        more\n", "a=>b; c->d; e::f",
    "https://example.com/path?q=1&r=2#frag", "user@example.com", "#hashtag @mention $100 50% ^caret ~tilde",
    "!!!???...", "----------", "==========", "**bold** _it_ `code`", "...", "\u2026", "\u2014 em dash \u2013 en dash",
    "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ", "<|endoftext|><|endoftext|>", "<|endoftext",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "<|im_start|><|im_end|>", "<|im_start",
    "<repo_name>x<file_sep>y", "text<jupyter_code>print(1)", "<|endoftext|>\n\n", "<<|endoftext|>>",
    "a" * 300, "ab" * 500, "x" * 2000, "\U0001f600" * 100, "1" * 500, " " * 300, "\n" * 100, "!" * 400,
    "supercalifragilisticexpialidocious" * 20, "\u00e9" * 600, "\u4e2d" * 500,
]

# Unicode blocks to sample from: (name, [(lo, hi), ...]) inclusive ranges, no surrogates.
BLOCKS = [
    ("ascii", [(0x20, 0x7E)]), ("c0", [(0x00, 0x1F), (0x7F, 0x9F)]), ("latin1", [(0xA0, 0xFF)]),
    ("latin_ext", [(0x100, 0x24F)]), ("ipa_modifiers", [(0x250, 0x2FF)]), ("combining", [(0x300, 0x36F)]),
    ("greek", [(0x370, 0x3FF)]), ("cyrillic", [(0x400, 0x52F)]), ("armenian_hebrew", [(0x531, 0x5F4)]),
    ("arabic", [(0x600, 0x6FF)]), ("syriac_thaana_nko", [(0x700, 0x7FF)]), ("devanagari", [(0x900, 0x97F)]),
    ("bengali_tamil", [(0x980, 0xBFF)]), ("thai_lao", [(0xE00, 0xEFF)]), ("tibetan", [(0xF00, 0xFFF)]),
    ("myanmar_georgian", [(0x1000, 0x10FF)]), ("hangul_jamo", [(0x1100, 0x11FF)]), ("ethiopic", [(0x1200, 0x139F)]),
    ("mongolian", [(0x1800, 0x18AF)]), ("latin_ext_add", [(0x1E00, 0x1FFF)]), ("gen_punct", [(0x2000, 0x206F)]),
    ("super_sub_currency", [(0x2070, 0x20CF)]), ("letterlike_numbers", [(0x2100, 0x218F)]),
    ("arrows_math", [(0x2190, 0x22FF)]), ("misc_technical", [(0x2300, 0x23FF)]), ("enclosed", [(0x2460, 0x24FF)]),
    ("box_shapes", [(0x2500, 0x27BF)]), ("cjk_punct_kana", [(0x3000, 0x30FF)]), ("cjk", [(0x4E00, 0x9FFF)]),
    ("yi_vai", [(0xA000, 0xA6FF)]), ("hangul", [(0xAC00, 0xD7A3)]), ("private", [(0xE000, 0xF8FF)]),
    ("presentation", [(0xFB00, 0xFDFF), (0xFE70, 0xFEFF)]), ("halfwidth", [(0xFF00, 0xFFEF)]),
    ("specials", [(0xFFF0, 0xFFFF)]), ("smp_scripts", [(0x10000, 0x1034F)]), ("math_alnum", [(0x1D400, 0x1D7FF)]),
    ("emoji", [(0x1F300, 0x1FAFF)]), ("cjk_ext", [(0x20000, 0x2A6DF)]), ("tags_planes", [(0xE0000, 0xE007F), (0xF0000, 0xF00FF)]),
]

WORDS = ["the", "The", "THE", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "caf\u00e9", "na\u00efve",
         "\u00fcber", "stra\u00dfe", "\u4e2d\u6587", "\u65e5\u672c", "\ud55c\uad6d", "\u043c\u0438\u0440", "\u03b1\u03b2\u03b3",
         "\u0645\u0631\u062d\u0628\u0627", "\U0001f600", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "x1", "a_b", "fooBar",
         "__init__", "self", "return", "None", "0", "7", "42", "2026", "3.5", "1e-9", "don't", "it's", "I'm",
         "they'll", "we've", "you're", "he'd", "IT'S", "O'Neil", "rock\u2019n\u2019roll", "http://x.y/z", "a@b.c"]
GAPS = [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\u00a0", "\u3000", "\u2009", "", "", ",", ", ",
        ". ", "!", "?", "'", "\"", "-", "--", "/", "\\", "(", ")", "[", "]", "{", "}", ":", ";", "<", ">", "|", "#",
        "$", "%", "&", "*", "+", "=", "@", "^", "_", "`", "~", " '", " \""]


def git_rel(path):
    try:
        return os.path.relpath(path, REPO)
    except ValueError:
        return path


def fetch(which):
    out = subprocess.run(["bash", os.path.join(REPO, "scripts/fetch-models.sh"), which], check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def class_boundaries():
    """Strings around every range boundary of \\p{L}, \\p{N} and \\s (as the reference sees them)."""
    from tokenizers import Regex
    out = []
    for pattern in (r"\p{L}", r"\p{N}", r"\s"):
        split = pre_tokenizers.Split(Regex(pattern), behavior="removed")
        cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
        inside = set()
        for start in range(0, len(cps), 4096):
            chunk = cps[start:start + 4096]
            kept = set()
            for _, (a, b) in split.pre_tokenize_str("".join(map(chr, chunk))):
                kept.update(range(a, b))
            inside.update(c for i, c in enumerate(chunk) if i not in kept)
        edges = sorted(c for c in inside if (c - 1) not in inside or (c + 1) not in inside)
        for c in edges:
            for d in (c - 1, c, c + 1):
                if 0 <= d < 0x110000 and not 0xD800 <= d <= 0xDFFF:
                    out.append(d)
    return sorted(set(out))


def boundary_strings(rng):
    cps = class_boundaries()
    out = []
    contexts = ["a{}b", " {}", "{}{}", "1{}2", " {} x", "{}'s", "!{}!", "{}  ", "\u00e9{}", "{}\u4e2d"]
    for i in range(0, len(cps), 3):
        group = "".join(chr(c) for c in cps[i:i + 3])
        out.append(rng.choice(contexts).format(group, group))
    return out


def random_block_string(rng):
    parts = []
    for _ in range(rng.randint(1, 4)):
        _, ranges = rng.choice(BLOCKS)
        lo, hi = rng.choice(ranges)
        run = "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 12)))
        parts.append(run)
        parts.append(rng.choice(GAPS))
    return "".join(parts)


def random_mixture(rng):
    parts = []
    for _ in range(rng.randint(1, 14)):
        r = rng.random()
        if r < 0.55:
            parts.append(rng.choice(WORDS))
        elif r < 0.65:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
        elif r < 0.72:
            parts.append(rng.choice(SPECIALS))
        elif r < 0.80:
            parts.append(" " * rng.randint(1, 6) + rng.choice(["", "\n", "\t", "\r\n"]) * rng.randint(0, 2))
        else:
            parts.append(random_block_string(rng))
        parts.append(rng.choice(GAPS))
    text = "".join(parts)
    if rng.random() < 0.2:
        text = text.upper()
    if rng.random() < 0.1:
        text += " " * rng.randint(1, 4)
    return text


def strings():
    rng = random.Random(SEED)
    out = list(HAND)
    out += boundary_strings(rng)
    out += [random_block_string(rng) for _ in range(N_RANDOM // 3)]
    out += [random_mixture(rng) for _ in range(N_RANDOM - N_RANDOM // 3)]
    seen, unique = set(), []
    for s in out:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def gpt2_reference(gpt2_dir):
    model = models.BPE.from_file(os.path.join(gpt2_dir, "encoder.json"), os.path.join(gpt2_dir, "vocab.bpe"))
    tok = Tokenizer(model)
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>"])
    return tok


def smollm2_reference(gguf_path):
    auto = transformers.AutoTokenizer.from_pretrained(os.path.dirname(gguf_path), gguf_file=os.path.basename(gguf_path))
    return auto.backend_tokenizer


def pipeline(tok):
    j = json.loads(tok.to_str())
    model = {k: v for k, v in j["model"].items() if k not in ("vocab", "merges")}
    model["vocab_size"] = len(j["model"]["vocab"])
    model["merges_count"] = len(j["model"]["merges"])
    return {k: j[k] for k in ("normalizer", "pre_tokenizer", "decoder", "added_tokens")} | {"model": model}


def write_golden(tok, texts, path):
    rows, lossy = 0, 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for text in texts:
            ids = tok.encode(text, add_special_tokens=False).ids
            row = {"text": text, "ids": ids}
            back = tok.decode(ids, skip_special_tokens=False)
            if back != text:
                # Bytes without a token are dropped (no unk token): the decoded text is shorter.
                row["decoded"] = back
                lossy += 1
            f.write(dumps_line(row) + "\n")
            rows += 1
    return rows, lossy


def dumps_line(row):
    """One JSON line, UTF-8, with the line and paragraph separators escaped too."""
    s = json.dumps(row, ensure_ascii=False)
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")


def byte_pieces(pre, text):
    """The reference's pre-tokenization of `text`, as byte lengths of the pieces."""
    b2u = {v: k for k, v in bytes_to_unicode().items()}
    return [len(bytes(b2u[c] for c in piece)) for piece, _ in pre.pre_tokenize_str(text)]


def bytes_to_unicode():
    from transformers.convert_slow_tokenizer import bytes_to_unicode as f
    return f()


def tiny_model(rng, name, n_merges, unk=False, ignore_merges=False, added=(), digits=False, drop=()):
    """A random BPE over a small alphabet: every byte a token (but `drop`), random merges."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256) if b not in drop}
    next_id = 256
    alphabet = [b2u[b] for b in b"ab1 2"]
    tokens, merges = list(alphabet), []
    while len(merges) < n_merges:
        a, b = rng.choice(tokens), rng.choice(tokens)
        if (a, b) in merges or len(a + b) > 6:
            continue
        merges.append((a, b))
        if a + b not in vocab:
            vocab[a + b] = next_id
            next_id += 1
            tokens.append(a + b)
    if ignore_merges:
        for word in ["ab1ab", "aaaa", "\u0120bab"]:
            vocab.setdefault(word, next_id)
            next_id += 1 if vocab[word] == next_id else 0
    unk_token = None
    if unk:
        unk_token = "<unk>"
        vocab[unk_token] = next_id
        next_id += 1
    model = models.BPE(vocab=vocab, merges=merges, unk_token=unk_token, ignore_merges=ignore_merges)
    tok = Tokenizer(model)
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), bl]) if digits else bl
    tok.decoder = decoders.ByteLevel()
    added_out = []
    for content, special, normalized in added:
        t = tokenizers.AddedToken(content, special=special, normalized=normalized)
        (tok.add_special_tokens if special else tok.add_tokens)([t])
        added_out.append({"content": content, "id": tok.token_to_id(content), "special": special,
                          "normalized": normalized})
    texts = ["", " ", "a", "aaaa", "ab ab", "  a", "a  ", "12 21", " 1a2b", "a\u00e9z", "zzz"]
    texts += ["".join(rng.choice("ab12 z\u00e9<>") for _ in range(rng.randint(1, 24))) for _ in range(150)]
    texts += [c["content"] + "ab" + c["content"] + "b" for c in added_out]
    texts += ["<s><s>b<s", "<s>b<s>bab", "a<s>bb<s>"] if added else []
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in dict.fromkeys(texts)]
    vocab_list = sorted(json.loads(tok.to_str())["model"]["vocab"].items(), key=lambda kv: kv[1])
    return {"name": name, "vocab": vocab_list, "merges": [list(m) for m in merges], "unk": unk_token,
            "ignore_merges": ignore_merges, "pre": "gpt2_digits" if digits else "gpt2", "added": added_out,
            "cases": cases}


def unit_golden(texts):
    rng = random.Random(SEED + 1)
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False)
    seq = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), bl])
    pre_cases = [{"text": t, "gpt2": byte_pieces(bl, t), "gpt2_digits": byte_pieces(seq, t)} for t in texts]
    tiny = [
        tiny_model(rng, "merges", 40),
        tiny_model(rng, "merges_many", 120),
        tiny_model(rng, "unk", 30, unk=True, drop=b"z"),
        tiny_model(rng, "dropped_bytes", 30, drop=b"z\xc3"),
        tiny_model(rng, "ignore_merges", 30, ignore_merges=True),
        tiny_model(rng, "added", 30, added=[("<s>", True, False), ("<s>b", True, False), ("ba", False, True),
                                             ("1 2", False, False)]),
        tiny_model(rng, "digits", 40, digits=True),
    ]
    return {"pretokenize": pre_cases, "models": tiny}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpt2-dir", default=None, help="dir with encoder.json and vocab.bpe")
    ap.add_argument("--gguf", default=None, help="SmolLM2-135M-Instruct GGUF")
    ap.add_argument("--out-dir", default=os.path.join(REPO, "tests", "data"))
    args = ap.parse_args()
    gpt2_dir = args.gpt2_dir or fetch("gpt2-bpe")
    gguf = args.gguf or fetch("smollm2")
    texts = strings()
    refs = {"gpt2": gpt2_reference(gpt2_dir), "smollm2": smollm2_reference(gguf)}
    pipelines = {"versions": {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                              "python": sys.version.split()[0], "seed": SEED}}
    for name, tok in refs.items():
        path = os.path.join(args.out_dir, f"bpe_golden_{name}.jsonl")
        rows, lossy = write_golden(tok, texts, path)
        pipelines[name] = pipeline(tok) | {"rows": rows, "rows_not_round_tripping": lossy}
        print(f"{git_rel(path)}: {rows} rows ({lossy} decode to other text), {os.path.getsize(path)} bytes")
    path = os.path.join(args.out_dir, "bpe_unit_golden.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(unit_golden(texts[:len(HAND)] + boundary_strings(random.Random(SEED))), f, ensure_ascii=True)
        f.write("\n")
    print(f"{git_rel(path)}: {os.path.getsize(path)} bytes")
    path = os.path.join(args.out_dir, "bpe_golden_pipelines.json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(pipelines, f, indent=1, ensure_ascii=True)
        f.write("\n")
    print(json.dumps(pipelines, indent=1, ensure_ascii=True))


if __name__ == "__main__":
    main()
