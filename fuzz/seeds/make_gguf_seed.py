#!/usr/bin/env python3
"""Writes the tiny GGUF seeds of the `gguf` fuzz target (standard library only).

Two Llama-family GGUF v3 files with a byte-level BPE tokenizer (`tokenizer.ggml.model` gpt2: the
256 byte tokens, a few merges, ChatML control tokens, token types, bos/eos/padding ids, a ChatML
chat template) and one decoder layer, written next to this script:

- gguf/llama-tiny.gguf: width 32, 4 heads, 2 key/value heads, MLP width 64, an untied output
  matrix; tensors in F32, F16, BF16, Q8_0, Q4_0 and Q4_1;
- gguf/llama-kquants.gguf: MLP width 256 so that ffn_down holds whole k-quant blocks (Q4_K), tied
  embeddings, linear RoPE scaling.

(Q6_K and the other metadata value types are in the third seed, a copy of tests/data/gguf/quants.gguf.)

Values are small pseudo-random numbers with finite f16 scales (`random.Random(20261202)`).
    python3 fuzz/seeds/make_gguf_seed.py
"""

import os
import random
import struct

ALIGN = 32
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
GGML = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 8, "Q4_K": 12, "Q6_K": 14, "BF16": 30}
BLOCK = {"F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q8_0": (32, 34), "Q4_0": (32, 18),
         "Q4_1": (32, 20), "Q4_K": (256, 144), "Q6_K": (256, 210)}

rng = random.Random(20261202)


def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def value(kind, v):
    if kind == STRING:
        return gguf_str(v)
    if kind == ARRAY:
        elem, items = v
        return struct.pack("<IQ", elem, len(items)) + b"".join(value(elem, x) for x in items)
    fmt = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}[kind]
    return struct.pack(fmt, v)


def f16(x):
    return struct.pack("<e", x)


def tensor_bytes(ty, n):
    """n values of type ty, pseudo-random."""
    per, size = BLOCK[ty]
    assert n % per == 0, (ty, n)
    out = bytearray()
    for _ in range(n // per):
        scale = rng.uniform(0.001, 0.05)
        if ty == "F32":
            out += struct.pack("<f", rng.gauss(0, 0.5))
        elif ty == "F16":
            out += f16(rng.gauss(0, 0.5))
        elif ty == "BF16":
            out += struct.pack("<f", rng.gauss(0, 0.5))[2:]
        elif ty == "Q8_0":
            out += f16(scale) + bytes(rng.randrange(256) for _ in range(32))
        elif ty == "Q4_0":
            out += f16(scale) + bytes(rng.randrange(256) for _ in range(16))
        elif ty == "Q4_1":
            out += f16(scale) + f16(-8 * scale) + bytes(rng.randrange(256) for _ in range(16))
        elif ty == "Q4_K":
            out += f16(scale) + f16(scale / 4) + bytes(rng.randrange(256) for _ in range(12 + 128))
        elif ty == "Q6_K":
            out += bytes(rng.randrange(256) for _ in range(128 + 64 + 16)) + f16(scale / 32)
        else:
            raise ValueError(ty)
    assert len(out) == n // per * size
    return bytes(out)


def byte_level_chars():
    """GPT-2's byte-to-unicode table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def tokenizer():
    tokens = byte_level_chars()
    merges = ["Ġ t", "h e", "Ġt he", "l l", "o r", "Ġ w", "Ġw or", "e r", "i n", "Ġ a"]
    for m in merges:
        tokens.append(m.replace(" ", ""))
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    types = [1] * len(tokens) + [3] * len(specials)
    tokens += specials
    ids = {t: i for i, t in enumerate(tokens)}
    template = (
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
        "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    return [
        ("tokenizer.ggml.model", STRING, "gpt2"),
        ("tokenizer.ggml.pre", STRING, "smollm"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.token_type", ARRAY, (I32, types)),
        ("tokenizer.ggml.merges", ARRAY, (STRING, merges)),
        ("tokenizer.ggml.bos_token_id", U32, ids["<|im_start|>"]),
        ("tokenizer.ggml.eos_token_id", U32, ids["<|im_end|>"]),
        ("tokenizer.ggml.padding_token_id", U32, ids["<|endoftext|>"]),
        ("tokenizer.ggml.add_bos_token", BOOL, False),
        ("tokenizer.chat_template", STRING, template),
    ], len(tokens)


def write(path, kvs, tensors):
    """tensors: (name, ggml type name, dims innermost first)."""
    infos, data = b"", b""
    for name, ty, dims in tensors:
        n = 1
        for d in dims:
            n *= d
        data += b"\0" * (-len(data) % ALIGN)
        infos += gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", GGML[ty], len(data))
        data += tensor_bytes(ty, n)
    meta = b"".join(gguf_str(k) + struct.pack("<I", t) + value(t, v) for k, t, v in kvs)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + meta + infos
    head += b"\0" * (-len(head) % ALIGN)
    with open(path, "wb") as f:
        f.write(head + data)
    print(f"{path}: {len(head) + len(data)} bytes, {len(tensors)} tensors, {len(kvs)} keys")


def llama(path, hidden, heads, kv_heads, ff, types, tied, extra):
    tok, n_vocab = tokenizer()
    head_dim = hidden // heads
    kvs = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, "tiny"),
        ("general.alignment", U32, ALIGN),
        ("llama.context_length", U32, 64),
        ("llama.embedding_length", U32, hidden),
        ("llama.block_count", U32, 1),
        ("llama.feed_forward_length", U32, ff),
        ("llama.attention.head_count", U32, heads),
        ("llama.attention.head_count_kv", U32, kv_heads),
        ("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("llama.rope.freq_base", F32, 10000.0),
    ] + extra + tok
    t = [("token_embd.weight", types["embd"], [hidden, n_vocab])]
    t += [
        ("blk.0.attn_norm.weight", "F32", [hidden]),
        ("blk.0.attn_q.weight", types["q"], [hidden, hidden]),
        ("blk.0.attn_k.weight", types["k"], [hidden, kv_heads * head_dim]),
        ("blk.0.attn_v.weight", types["v"], [hidden, kv_heads * head_dim]),
        ("blk.0.attn_output.weight", types["o"], [hidden, hidden]),
        ("blk.0.ffn_norm.weight", "F32", [hidden]),
        ("blk.0.ffn_gate.weight", types["gate"], [hidden, ff]),
        ("blk.0.ffn_up.weight", types["up"], [hidden, ff]),
        ("blk.0.ffn_down.weight", types["down"], [ff, hidden]),
        ("output_norm.weight", "F32", [hidden]),
    ]
    if not tied:
        t.append(("output.weight", types["out"], [hidden, n_vocab]))
    write(path, kvs, t)


def main():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf")
    os.makedirs(here, exist_ok=True)
    llama(
        os.path.join(here, "llama-tiny.gguf"), 32, 4, 2, 64,
        {"embd": "Q8_0", "q": "Q8_0", "k": "Q4_1", "v": "F16", "o": "BF16", "gate": "F16", "up": "Q4_0",
         "down": "Q8_0", "out": "Q4_0"},
        tied=False, extra=[("llama.vocab_size", U32, 269)],
    )
    llama(
        os.path.join(here, "llama-kquants.gguf"), 32, 4, 4, 256,
        {"embd": "Q4_0", "q": "F16", "k": "Q8_0", "v": "Q4_1", "o": "Q8_0", "gate": "Q4_0", "up": "Q4_1",
         "down": "Q4_K"},
        tied=True,
        extra=[("llama.rope.scaling.type", STRING, "linear"), ("llama.rope.scaling.factor", F32, 2.0)],
    )


if __name__ == "__main__":
    main()
