#!/usr/bin/env python3
"""Generate tiny random-init decoder fixtures plus their golden outputs:

  tests/data/tiny-llama/       LlamaForCausalLM, grouped-query attention, untied LM head,
                               byte-level BPE with Digits(individual_digits=True) first (as SmolLM2)
  tests/data/tiny-llama-rope/  the same weights run with RoPE scaling from the config
                               (`linear` factor 2 in config.json; `llama3` as a second variant)
  tests/data/tiny-gpt2/        GPT2LMHeadModel, tied LM head, gelu_new, byte-level BPE (as GPT-2)

Each tokenizer is trained here with Hugging Face `tokenizers` on a fixed public-domain English
text (below: the Gettysburg Address, the opening of A Tale of Two Cities) plus generated lines
with numbers, so the fixtures need no download. Neither tokenizer adds a BOS token: prompt ids
are exactly the tokenizer's output for the text.

golden.json per model: for each prompt, the text, its ids, the logits at EVERY prompt position
(full vocabulary, float32) and 16 greedy new ids (argmax of the last position's logits, the
whole sequence recomputed each step, no stop at <|endoftext|>, no repetition penalty) with
their decoded text; the greedy ids are cross-checked against `model.generate(do_sample=False)`.
All made with transformers in fp32, eager attention, on the CPU.

Parameters: torch.manual_seed(SEED) before building each model; after the default init every
parameter is re-drawn (see `redraw_params`) so logits are far from uniform and tests are
sensitive. Floats are float32 values written as the shortest decimal that round-trips to the
same float32.

Hand-run only (see scripts/golden/README.md); outputs are committed, CI never runs this.
"""

import argparse
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from make_minilm_golden import REPO, dumps_safe, git_rel  # noqa: E402

SEED = 0
EOS = "<|endoftext|>"
LLAMA_VOCAB = 400  # <|endoftext|> is id 0 (as SmolLM2), then 256 bytes, then merges
GPT2_VOCAB = 448  # 256 bytes, then merges, <|endoftext|> last (id 447, as GPT-2's 50256)
NEW_TOKENS = 16

# Public-domain English (Lincoln, 1863; Dickens, 1859) for the BPE trainer.
CORPUS = """Four score and seven years ago our fathers brought forth on this continent, a new nation, \
conceived in Liberty, and dedicated to the proposition that all men are created equal.
Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and \
so dedicated, can long endure. We are met on a great battle-field of that war. We have come to \
dedicate a portion of that field, as a final resting place for those who here gave their lives that \
that nation might live. It is altogether fitting and proper that we should do this.
But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow -- this \
ground. The brave men, living and dead, who struggled here, have consecrated it, far above our poor \
power to add or detract. The world will little note, nor long remember what we say here, but it can \
never forget what they did here. It is for us the living, rather, to be dedicated here to the \
unfinished work which they who fought here have thus far so nobly advanced. It is rather for us to \
be here dedicated to the great task remaining before us -- that from these honored dead we take \
increased devotion to that cause for which they gave the last full measure of devotion -- that we \
here highly resolve that these dead shall not have died in vain -- that this nation, under God, \
shall have a new birth of freedom -- and that government of the people, by the people, for the \
people, shall not perish from the earth.
It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of \
foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of \
Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we \
had everything before us, we had nothing before us, we were all going direct to Heaven, we were all \
going direct the other way -- in short, the period was so far like the present period, that some of \
its noisiest authorities insisted on its being received, for good or for evil, in the superlative \
degree of comparison only.
There were a king with a large jaw and a queen with a plain face, on the throne of England; there \
were a king with a large jaw and a queen with a fair face, on the throne of France. In both \
countries it was clearer than crystal to the lords of the State preserves of loaves and fishes, \
that things in general were settled for ever.
"""


def generated_lines():
    """Lines with numbers, so digit handling and merges around digits are trained too."""
    out = []
    for i in range(60):
        a, b = (i * 37) % 101, (i * 53) % 97
        out.append(f"In {1800 + i * 3} there were {a} ships and {b} men; {a} + {b} = {a + b}.")
    return "\n".join(out) + "\n"


PROMPTS = [
    "a",
    "Hi",
    "Four score and seven years ago",
    "In 1863, 2 + 2 = 4.",
    "Caf\u00e9 \u2014 \U0001F600",
    # longer than 32 tokens
    "It was the best of times, it was the worst of times, it was the age of wisdom.",
]
LONG_PROMPT = PROMPTS[-1]

LLAMA_ROPE_VARIANTS = [
    # written into tests/data/tiny-llama-rope/config.json
    {"name": "linear", "rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0},
     "legacy": {"rope_theta": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 2.0}}},
    # head_dim 16, theta 1e4: wavelengths 6.3 (< 8: kept), 19.9 (8..32: smoothed), > 32 (divided by 4)
    {"name": "llama3",
     "rope_parameters": {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32,
                         "rope_theta": 10000.0},
     "legacy": {"rope_theta": 10000.0,
                "rope_scaling": {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                                 "high_freq_factor": 4.0, "original_max_position_embeddings": 32}}},
]


def f32_list(t):
    """float32 tensor -> python floats, shortest decimal that round-trips as float32."""
    import numpy as np
    return [float(str(np.float32(x))) for x in t.detach().cpu().numpy().astype(np.float32).ravel()]


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dir_size(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def train_tokenizer(vocab_size, digits_first, eos_first):
    """Byte-level BPE trained on CORPUS + generated lines; returns a tokenizers.Tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if digits_first:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Digits(individual_digits=True), byte_level])
    else:
        tok.pre_tokenizer = byte_level
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size if eos_first else vocab_size - 1,
        special_tokens=[EOS] if eos_first else [],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS, generated_lines()], trainer=trainer)
    if not eos_first:
        tok.add_special_tokens([EOS])
    assert tok.get_vocab_size() == vocab_size, tok.get_vocab_size()
    return tok


def save_tokenizer(tok, out_dir):
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=EOS,
                                   model_max_length=128)
    fast.save_pretrained(out_dir)
    return PreTrainedTokenizerFast.from_pretrained(out_dir)


def redraw_params(model):
    """Weights (matrices, embeddings) N(0, 0.15); biases N(0, 0.1); norm weights 1 + N(0, 0.1),
    norm biases N(0, 0.1). Tied tensors are drawn once."""
    import torch

    seen = set()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.data_ptr() in seen:
                continue
            seen.add(p.data_ptr())
            is_norm = "norm" in name or ".ln_" in name or name.startswith("transformer.ln_f")
            if is_norm and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))


def run_cases(model, tok, prompts, with_greedy):
    import numpy as np
    import torch

    cases = []
    with torch.no_grad():
        for text in prompts:
            ids = list(tok(text)["input_ids"])
            assert ids, text
            x = torch.tensor([ids])
            logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0]  # (seq, vocab)
            case = {"text": text, "ids": ids, "logits": [f32_list(row) for row in logits]}
            if with_greedy:
                seq, margins = list(ids), []
                for _ in range(NEW_TOKENS):
                    y = torch.tensor([seq])
                    last = model(input_ids=y, attention_mask=torch.ones_like(y)).logits[0, -1]
                    top2 = torch.topk(last, 2).values
                    margins.append(float(top2[0] - top2[1]))
                    seq.append(int(torch.argmax(last)))
                new = seq[len(ids):]
                check_generate(model, ids, new)
                case["greedy_ids"] = new
                case["greedy_text"] = tok.decode(new, skip_special_tokens=False)
                # smallest gap between the best and second-best logit over the greedy steps: an
                # implementation whose logits differ by less than half of it picks the same ids
                case["greedy_min_margin"] = float(str(np.float32(min(margins))))
            cases.append(case)
    return cases


def check_generate(model, ids, new):
    """The manual argmax loop must equal transformers' greedy generate (stopping at EOS)."""
    import torch
    from transformers import GenerationConfig

    x = torch.tensor([ids])
    gc = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, num_beams=1,
                          eos_token_id=model.config.eos_token_id, pad_token_id=model.config.eos_token_id)
    out = model.generate(x, attention_mask=torch.ones_like(x), generation_config=gc)[0, len(ids):].tolist()
    eos = model.config.eos_token_id
    expect = new[: new.index(eos) + 1] if eos in new else new
    assert out[: len(expect)] == expect, (out, new)


def provenance(extra):
    import numpy
    import tokenizers
    import torch
    import transformers
    p = {
        "script": git_rel(__file__),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": numpy.__version__,
        "seed": SEED,
        "init": "torch.manual_seed(0); default init, then weights N(0,0.15), biases N(0,0.1), "
                "norm weight 1+N(0,0.1), norm bias N(0,0.1)",
        "dtype": "float32",
        "device": "cpu",
        "attn_implementation": "eager",
        "bos": "none: prompt ids are the tokenizer's output, no BOS added",
        "logits": "logits[position][token id] at every prompt position, full vocabulary",
        "greedy": f"{NEW_TOKENS} new ids, argmax (first max) of the last position, full recompute, "
                  "no stop at <|endoftext|>, no repetition penalty",
        "float_format": "shortest decimal that round-trips to the same float32",
    }
    p.update(extra)
    return p


def write_golden(out_dir, doc):
    with open(os.path.join(out_dir, "golden.json"), "w", encoding="utf-8") as f:
        f.write(dumps_safe(doc) + "\n")


def save_model(model, out_dir):
    model.save_pretrained(out_dir, safe_serialization=True)
    for f in os.listdir(out_dir):
        os.chmod(os.path.join(out_dir, f), 0o644)  # save_pretrained may write 0600


def llama_config(vocab, eos_id, rope_parameters):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, hidden_act="silu", max_position_embeddings=128,
        rms_norm_eps=1e-5, tie_word_embeddings=False, rope_parameters=dict(rope_parameters),
        bos_token_id=eos_id, eos_token_id=eos_id, attention_bias=False, mlp_bias=False,
    )


def make_llama(out_dir, rope_dir):
    import torch
    from transformers import LlamaForCausalLM

    os.makedirs(out_dir, exist_ok=True)
    tok = save_tokenizer(train_tokenizer(LLAMA_VOCAB, digits_first=True, eos_first=True), out_dir)
    eos_id = tok.convert_tokens_to_ids(EOS)
    assert eos_id == 0

    torch.manual_seed(SEED)
    cfg = llama_config(LLAMA_VOCAB, eos_id, {"rope_type": "default", "rope_theta": 10000.0})
    model = LlamaForCausalLM._from_config(cfg, attn_implementation="eager")
    redraw_params(model)
    model.eval()
    assert model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr()
    save_model(model, out_dir)
    cases = run_cases(model, tok, PROMPTS, with_greedy=True)
    assert len(cases[-1]["ids"]) > 32, len(cases[-1]["ids"])
    write_golden(out_dir, {
        "provenance": provenance({
            "model": "LlamaForCausalLM (random init): hidden 64, 4 heads, 2 KV heads (GQA), head_dim 16, "
                     "2 layers, intermediate 160, silu, rope_theta 10000, no RoPE scaling, "
                     "rms_norm_eps 1e-5, untied lm_head, max_position_embeddings 128",
            "tokenizer": f"byte-level BPE, vocab {LLAMA_VOCAB}, pre-tokenizer Digits(individual_digits=True) "
                         "then ByteLevel(add_prefix_space=False); <|endoftext|> = id 0 (bos = eos)",
        }),
        "cases": cases,
    })
    print(f"wrote {git_rel(out_dir)}: {len(cases)} cases, prompt lengths "
          f"{[len(c['ids']) for c in cases]}, {dir_size(out_dir)} bytes")

    # Same weights, RoPE scaling from the config. Only the config differs (RoPE has no weights).
    os.makedirs(rope_dir, exist_ok=True)
    variants = []
    weights = os.path.join(out_dir, "model.safetensors")
    for v in LLAMA_ROPE_VARIANTS:
        vcfg = llama_config(LLAMA_VOCAB, eos_id, v["rope_parameters"])
        vmodel = LlamaForCausalLM.from_pretrained(out_dir, config=vcfg, attn_implementation="eager",
                                                  torch_dtype=torch.float32)
        vmodel.eval()
        if v["name"] == "linear":
            vcfg.architectures = ["LlamaForCausalLM"]
            vcfg.save_pretrained(rope_dir)
            os.chmod(os.path.join(rope_dir, "config.json"), 0o644)
        variants.append({
            "name": v["name"],
            "rope_parameters": v["rope_parameters"],
            "legacy_config_fields": v["legacy"],
            "cases": run_cases(vmodel, tok, [LONG_PROMPT], with_greedy=False),
        })
    base = {c["text"]: c["logits"] for c in cases}
    for v in variants:
        for c in v["cases"]:
            assert c["logits"][0] == base[c["text"]][0]  # position 0 has no rotation
            assert c["logits"][-1] != base[c["text"]][-1], "RoPE scaling changed nothing"
    write_golden(rope_dir, {
        "provenance": provenance({
            "model": "the tiny-llama weights (../tiny-llama/model.safetensors, same tokenizer) run with "
                     "the RoPE scaling of each variant; config.json here is the `linear` variant",
            "weights": "../tiny-llama/model.safetensors",
            "weights_sha256": sha256(weights),
        }),
        "variants": variants,
    })
    print(f"wrote {git_rel(rope_dir)}: variants {[v['name'] for v in variants]}, {dir_size(rope_dir)} bytes")


def make_gpt2(out_dir):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    os.makedirs(out_dir, exist_ok=True)
    tok = save_tokenizer(train_tokenizer(GPT2_VOCAB, digits_first=False, eos_first=False), out_dir)
    eos_id = tok.convert_tokens_to_ids(EOS)
    assert eos_id == GPT2_VOCAB - 1

    torch.manual_seed(SEED)
    cfg = GPT2Config(vocab_size=GPT2_VOCAB, n_positions=128, n_embd=64, n_layer=2, n_head=4,
                     activation_function="gelu_new", layer_norm_epsilon=1e-5, tie_word_embeddings=True,
                     bos_token_id=eos_id, eos_token_id=eos_id)
    model = GPT2LMHeadModel._from_config(cfg, attn_implementation="eager")
    redraw_params(model)
    model.eval()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "head not tied"
    save_model(model, out_dir)
    cases = run_cases(model, tok, PROMPTS, with_greedy=True)
    assert len(cases[-1]["ids"]) > 32, len(cases[-1]["ids"])
    write_golden(out_dir, {
        "provenance": provenance({
            "model": "GPT2LMHeadModel (random init): n_embd 64, 4 heads, 2 layers, n_inner 256, gelu_new, "
                     "layer_norm_epsilon 1e-5, n_positions 128, lm_head tied to wte (not stored "
                     "separately); Conv1D weights stored [in, out]",
            "tokenizer": f"byte-level BPE, vocab {GPT2_VOCAB}, pre-tokenizer ByteLevel(add_prefix_space=False); "
                         f"<|endoftext|> = id {eos_id} (last, bos = eos)",
        }),
        "cases": cases,
    })
    print(f"wrote {git_rel(out_dir)}: {len(cases)} cases, prompt lengths "
          f"{[len(c['ids']) for c in cases]}, {dir_size(out_dir)} bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default=os.path.join(REPO, "tests", "data"))
    args = ap.parse_args()
    import torch
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    make_llama(os.path.join(args.out_dir, "tiny-llama"), os.path.join(args.out_dir, "tiny-llama-rope"))
    make_gpt2(os.path.join(args.out_dir, "tiny-gpt2"))


if __name__ == "__main__":
    main()
