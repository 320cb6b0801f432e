#!/usr/bin/env python3
"""Golden data for the tool's GGUF reader (quantize-tool/tests/gguf.rs).

Part "quants" (needs gguf-py and numpy only) writes, with gguf-py's writer and a fixed seed, a
small GGUF file holding random blocks of every tensor type the reader dequantizes (F32, F16, BF16,
Q8_0, Q4_0, Q4_1, Q4_K, Q6_K; quants are random bytes, f16 scales are finite and include extremes),
one tensor of a type it does not dequantize (Q5_K), and metadata of every value type. The expected
values are what gguf-py reads back: GGUFReader + gguf.quants.dequantize, as raw float32 bits.
    tests/data/gguf/quants.gguf            the input file
    tests/data/gguf/quants_expected.bin    float32 little-endian values of each tensor, concatenated
    tests/data/gguf/quants.json            per tensor: name, type, shape, offset into the .bin;
                                           the metadata as gguf-py reads it back

Part "smollm2" (needs torch and transformers too) reads the real SmolLM2-135M-Instruct Q4_1 GGUF
(`bash scripts/fetch-models.sh smollm2`) with transformers' GGUF loader
(AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=float32), which un-permutes q/k)
and with gguf-py's GGUFReader, and writes:
    tests/data/gguf/smollm2_golden.json    config, tokenizer vectors (counts, ids, sha256), and for
                                           a few tensors of each kind: shape, sha256 of the float32
                                           bytes, float64 sum and sum of |x|, first 8 values

Versions: Python 3.11.7, gguf 0.19.0, numpy 2.4.6, torch 2.15.0, transformers 5.24.0
(see tests/data/PROVENANCE.md). Seed: numpy.random.default_rng(20261202).

    python scripts/golden/make_gguf_golden.py [--part quants|smollm2|all] [--gguf PATH] [--out-dir DIR]
"""

import argparse
import hashlib
import importlib.metadata
import json
import subprocess
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q

REPO = Path(__file__).resolve().parents[2]
SEED = 20261202

# (name, type, rows, cols): cols a whole number of blocks; 64 blocks of 32 or 32 blocks of 256
TENSORS = [
    ("f32", Q.F32, 32, 64),
    ("f16", Q.F16, 32, 64),
    ("bf16", Q.BF16, 32, 64),
    ("q8_0", Q.Q8_0, 8, 256),
    ("q4_0", Q.Q4_0, 8, 256),
    ("q4_1", Q.Q4_1, 8, 256),
    ("q4_k", Q.Q4_K, 8, 1024),
    ("q6_k", Q.Q6_K, 8, 1024),
    ("vec.q8_0", Q.Q8_0, 1, 96),
]
UNSUPPORTED = ("q5_k", Q.Q5_K, 1, 256)

# byte offsets of the f16 scales inside one block
SCALE_OFFSETS = {Q.Q8_0: [0], Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q4_K: [0, 2], Q.Q6_K: [208], Q.Q5_K: [0, 2]}

EXTREME_F16 = np.array([65504.0, -65504.0, 6.1035156e-05, 5.9604645e-08, -5.9604645e-08, 0.0, -0.0, 1.0],
                       dtype=np.float16)


def f32(x):
    """A float32 as the float64 of the same value (JSON round-trips it exactly)."""
    return float(np.float32(x))


def random_blocks(rng, qtype, rows, cols):
    """Random bytes of `rows` x `cols` values of `qtype`, with finite f16 scales."""
    block_len, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block_len
    raw = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for off in SCALE_OFFSETS[qtype]:
        scales = rng.normal(0.0, 0.05, size=n_blocks).astype(np.float16)
        scales[: len(EXTREME_F16)] = EXTREME_F16[: min(len(EXTREME_F16), n_blocks)]
        rng.shuffle(scales)
        raw[:, off:off + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(rows, cols // block_len * block_bytes)


def float_tensor(rng, qtype, rows, cols):
    n = rows * cols
    if qtype == Q.F32:
        x = rng.normal(0.0, 1.0, size=n).astype(np.float32)
        x[:6] = [np.inf, -np.inf, 0.0, -0.0, 1e-45, 3.4028235e38]
        rng.shuffle(x)
        return x.reshape(rows, cols), None
    if qtype == Q.F16:
        x = rng.normal(0.0, 1.0, size=n).astype(np.float16)
        x[: len(EXTREME_F16)] = EXTREME_F16
        x[len(EXTREME_F16):len(EXTREME_F16) + 2] = [np.inf, -np.inf]
        rng.shuffle(x)
        return x.reshape(rows, cols), None
    # BF16: random bit patterns without NaNs (exponent all ones with a non-zero mantissa)
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    nan = ((bits & 0x7F80) == 0x7F80) & ((bits & 0x007F) != 0)
    bits[nan] &= 0xBFFF
    return bits.view(np.uint8).reshape(rows, cols * 2), Q.BF16


METADATA = [
    ("test.u8", "add_uint8", 200),
    ("test.i8", "add_int8", -100),
    ("test.u16", "add_uint16", 60000),
    ("test.i16", "add_int16", -30000),
    ("test.u32", "add_uint32", 4000000000),
    ("test.i32", "add_int32", -2000000000),
    ("test.f32", "add_float32", 0.1),
    ("test.bool", "add_bool", True),
    ("test.string", "add_string", "héllo ✓"),
    ("test.u64", "add_uint64", 18000000000000000000),
    ("test.i64", "add_int64", -9000000000000000000),
    ("test.f64", "add_float64", 2.5e-300),
    ("test.strings", "add_array", ["a", "", "Ġ t", "日本", "<|im_end|>"]),
    ("test.i32s", "add_array", [3, -1, 0, 2147483647, -2147483648]),
]


def make_quants(out_dir):
    rng = np.random.default_rng(SEED)
    path = out_dir / "quants.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    for key, method, value in METADATA:
        getattr(w, method)(key, value)
    for name, qtype, rows, cols in TENSORS + [UNSUPPORTED]:
        if qtype in (Q.F32, Q.F16, Q.BF16):
            data, raw_dtype = float_tensor(rng, qtype, rows, cols)
        else:
            data, raw_dtype = random_blocks(rng, qtype, rows, cols), qtype
        if rows == 1:
            data = data.reshape(-1)
        w.add_tensor(name, data, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    # what the reference reads back
    r = gguf.GGUFReader(str(path))
    tensors, chunks, offset = [], [], 0
    for t in r.tensors:
        qtype = Q(t.tensor_type)
        if t.name == UNSUPPORTED[0]:
            tensors.append({"name": t.name, "type": qtype.name, "dims": [int(d) for d in t.shape]})
            continue
        values = np.ascontiguousarray(gguf.quants.dequantize(t.data, qtype), dtype=np.float32)
        shape = [int(d) for d in reversed(t.shape.tolist())]
        if len(shape) == 1:
            values = values.reshape(-1)
        assert list(values.shape) == shape, (t.name, values.shape, shape)
        flat = values.reshape(-1)
        tensors.append({"name": t.name, "type": qtype.name, "shape": shape, "offset": offset,
                        "count": int(flat.size), "first": [f32(v) for v in flat[:8]]})
        chunks.append(flat.astype("<f4").tobytes())
        offset += int(flat.size)
    (out_dir / "quants_expected.bin").write_bytes(b"".join(chunks))

    metadata = {}
    for key, _, written in METADATA:
        field = r.fields[key]
        value = field.contents()
        if isinstance(value, float) and field.types[0] == gguf.GGUFValueType.FLOAT32:
            value = f32(value)
        assert value == written or (isinstance(written, float) and value == f32(written)), (key, value, written)
        metadata[key] = {"type": field.types[0].name, "value": value}
    doc = {"source": "scripts/golden/make_gguf_golden.py", "seed": SEED, "gguf_version": int(r.fields["GGUF.version"].contents()),
           "architecture": r.fields["general.architecture"].contents(), "tensors": tensors, "metadata": metadata}
    (out_dir / "quants.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes), quants_expected.bin ({offset * 4} bytes), quants.json")


def sha256_f32(values):
    return hashlib.sha256(np.ascontiguousarray(values, dtype="<f4").tobytes()).hexdigest()


def sha256_lines(items):
    return hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()


SMOL_TENSORS = [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.0.self_attn.v_proj.weight",
    "model.layers.0.self_attn.o_proj.weight",
    "model.layers.0.mlp.gate_proj.weight",
    "model.layers.0.mlp.up_proj.weight",
    "model.layers.0.mlp.down_proj.weight",
    "model.layers.0.input_layernorm.weight",
    "model.layers.0.post_attention_layernorm.weight",
    "model.layers.17.self_attn.q_proj.weight",
    "model.layers.29.self_attn.k_proj.weight",
    "model.layers.29.mlp.down_proj.weight",
    "model.norm.weight",
]


def make_smollm2(out_dir, gguf_path):
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    gguf_path = Path(gguf_path)
    model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32)
    cfg = model.config
    rope = getattr(cfg, "rope_parameters", None) or {}
    state = model.state_dict()
    tensors = {}
    for name in SMOL_TENSORS:
        x = state[name].detach().to(torch.float32).contiguous().numpy()
        flat = x.reshape(-1)
        tensors[name] = {"shape": list(x.shape), "sha256": sha256_f32(flat), "sum": float(flat.astype(np.float64).sum()),
                         "abs_sum": float(np.abs(flat.astype(np.float64)).sum()), "first": [f32(v) for v in flat[:8]]}

    r = gguf.GGUFReader(str(gguf_path))
    fields = {k: f.contents() for k, f in r.fields.items() if not k.startswith("GGUF.")}
    tokens, merges = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.merges"]
    token_types = fields["tokenizer.ggml.token_type"]
    doc = {
        "source": "scripts/golden/make_gguf_golden.py",
        "file": gguf_path.name,
        "file_sha256": hashlib.sha256(gguf_path.read_bytes()).hexdigest(),
        "versions": {"gguf": importlib.metadata.version("gguf"),
                     "torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__},
        "architecture": fields["general.architecture"],
        "n_tensors": len(r.tensors),
        "tensor_types": {t.name: Q(t.tensor_type).name for t in r.tensors if t.name.startswith(("token_embd", "blk.0.", "output"))},
        "config": {
            "vocab_size": cfg.vocab_size,
            "hidden_size": cfg.hidden_size,
            "num_hidden_layers": cfg.num_hidden_layers,
            "num_attention_heads": cfg.num_attention_heads,
            "num_key_value_heads": cfg.num_key_value_heads,
            "head_dim": getattr(cfg, "head_dim", cfg.hidden_size // cfg.num_attention_heads),
            "intermediate_size": cfg.intermediate_size,
            "max_position_embeddings": cfg.max_position_embeddings,
            "rope_theta": float(rope.get("rope_theta", getattr(cfg, "rope_theta", 0.0))),
            "rope_type": rope.get("rope_type", "default") if rope else (getattr(cfg, "rope_scaling", None) or {}).get("rope_type", "default"),
            "rms_norm_eps": f32(cfg.rms_norm_eps),
            "tie_word_embeddings": bool(cfg.tie_word_embeddings),
            "lm_head_is_embedding": bool(model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()),
        },
        "tokenizer": {
            "model": fields["tokenizer.ggml.model"],
            "pre": fields.get("tokenizer.ggml.pre"),
            "n_tokens": len(tokens),
            "n_merges": len(merges),
            "tokens_sha256": sha256_lines(tokens),
            "merges_sha256": sha256_lines(merges),
            "token_types_sha256": sha256_lines([str(t) for t in token_types]),
            "first_tokens": tokens[:20],
            "last_tokens": tokens[-5:],
            "first_merges": merges[:10],
            "bos": fields.get("tokenizer.ggml.bos_token_id"),
            "eos": fields.get("tokenizer.ggml.eos_token_id"),
            "padding": fields.get("tokenizer.ggml.padding_token_id"),
            "unknown": fields.get("tokenizer.ggml.unknown_token_id"),
            "add_bos": fields.get("tokenizer.ggml.add_bos_token"),
            "chat_template_sha256": hashlib.sha256(fields["tokenizer.chat_template"].encode("utf-8")).hexdigest(),
        },
        "tensors": tensors,
    }
    out = out_dir / "smollm2_golden.json"
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["quants", "smollm2", "all"], default="all")
    ap.add_argument("--gguf", help="SmolLM2-135M-Instruct.Q4_1.gguf (default: what fetch-models.sh prints)")
    ap.add_argument("--out-dir", default=str(REPO / "tests/data/gguf"))
    args = ap.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.part in ("quants", "all"):
        make_quants(out_dir)
    if args.part in ("smollm2", "all"):
        gguf_path = args.gguf or subprocess.run(["bash", str(REPO / "scripts/fetch-models.sh"), "smollm2"],
                                                check=True, capture_output=True, text=True).stdout.strip()
        make_smollm2(out_dir, gguf_path)


if __name__ == "__main__":
    main()
