#!/usr/bin/env python3
"""Trains the bundled tiny GPT: a byte-level BPE vocabulary and a Llama-architecture model, on the CPU.

  corpus.py    Moby Dick + State of the Union addresses, held-out split
  this script  1. BPE vocabulary (Hugging Face `tokenizers`, trained on the training documents)
               2. LlamaForCausalLM (transformers), random init, AdamW, cosine schedule
               3. held-out perplexity, the checkpoint with the best held-out loss saved

Sizes are chosen for a microcontroller (see README.md beside this script): the int8 blob fits
1 MB and the arena plus an int8 KV cache for 256 positions fits 128 KB.

Writes (--out-dir): config.json, generation_config.json, model.safetensors (fp32),
tokenizer.json, tokenizer_config.json; (--results) a JSON record of the run.

Hand-run only; CI never trains. Deterministic for a given torch build and thread count.
"""

import argparse
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import corpus  # noqa: E402

EOS = "<|endoftext|>"  # id 0; also BOS: every document starts after one

ARCH = dict(
    vocab_size=1024,
    hidden_size=128,
    intermediate_size=384,
    num_hidden_layers=4,
    num_attention_heads=4,  # head_dim 32
    num_key_value_heads=1,  # one K/V head: int8 KV cache 4 x 2 x 256 x 32 bytes = 64 KiB
    max_position_embeddings=256,
    rope_theta=10000.0,
    rms_norm_eps=1e-5,
    tie_word_embeddings=True,
    hidden_act="silu",
    bos_token_id=0,
    eos_token_id=0,
)


def train_tokenizer(docs, vocab_size):
    """Byte-level BPE (GPT-2 pre-tokenizer regex), <|endoftext|> id 0 and prepended to every input."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{EOS} $A", special_tokens=[(EOS, 0)])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(docs, trainer=trainer)
    assert tok.get_vocab_size() == vocab_size and tok.token_to_id(EOS) == 0
    return tok


def encode_stream(tok, docs):
    """All documents as one id stream, each preceded by <|endoftext|> (id 0)."""
    import numpy as np

    ids = []
    for enc in tok.encode_batch(docs):
        ids.extend(enc.ids)  # the post-processor put the 0 in front
    return np.asarray(ids, dtype=np.int64)


def batches(stream, batch, seq, rng):
    """Random windows of seq + 1 tokens -> (inputs, targets), each (batch, seq)."""
    import torch

    starts = [rng.randrange(0, len(stream) - seq - 1) for _ in range(batch)]
    x = torch.stack([torch.from_numpy(stream[s:s + seq + 1]) for s in starts])
    return x[:, :-1], x[:, 1:]


def heldout_loss(model, stream, seq, max_windows=None):
    """Mean NLL (nats) over non-overlapping windows of seq tokens, first token of each unscored:
    the same windows as `picoformer eval --perplexity --ctx seq`."""
    import torch
    import torch.nn.functional as F

    n = len(stream) // seq
    if max_windows:
        n = min(n, max_windows)
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, n, 16):
            w = torch.stack([torch.from_numpy(stream[j * seq:(j + 1) * seq]) for j in range(i, min(n, i + 16))])
            logits = model(input_ids=w).logits[:, :-1].float()
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum")
            total += float(nll)
            count += w.shape[0] * (seq - 1)
    model.train()
    return total / max(count, 1), count


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", default=os.path.join(corpus.REPO, ".cache", "tiny-gpt", "model"))
    ap.add_argument("--results", default=os.path.join(HERE, "results", "train.json"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--moby-weight", type=int, default=2, help="Moby Dick repeated this often in the stream")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit-min", type=float, default=0, help="stop (and keep the best) after this long")
    ap.add_argument("--measure", type=int, default=0, help="time this many steps and exit")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import numpy as np
    import tokenizers
    import torch
    import transformers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    t0 = time.time()
    train_docs, held_docs, _ = corpus.split()
    moby_train = [d for d in train_docs if d.startswith("CHAPTER ")]
    tok = train_tokenizer(train_docs, ARCH["vocab_size"])
    stream = encode_stream(tok, train_docs + moby_train * (args.moby_weight - 1))
    held = encode_stream(tok, held_docs)
    train_bytes = sum(len(d.encode()) for d in train_docs)
    held_bytes = sum(len(d.encode()) for d in held_docs)
    print(f"corpus: {len(train_docs)} train docs ({train_bytes} bytes), {len(held_docs)} held out "
          f"({held_bytes} bytes); stream {len(stream)} tokens, held out {len(held)} tokens; "
          f"{time.time() - t0:.0f} s", flush=True)

    model = LlamaForCausalLM(LlamaConfig(**ARCH, attn_implementation="sdpa"))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)

    log, best, t_start, stopped = [], None, time.time(), "steps"
    os.makedirs(args.out_dir, exist_ok=True)
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        x, y = batches(stream, args.batch, args.seq, rng)
        logits = model(input_ids=x).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        elapsed = time.time() - t_start
        if args.measure and step + 1 == args.measure:
            print(f"measure: {args.measure} steps in {elapsed:.1f} s ({elapsed / args.measure:.2f} s/step)")
            return
        last = step + 1 == args.steps or (args.time_limit_min and elapsed > args.time_limit_min * 60)
        if (step + 1) % args.eval_every == 0 or last:
            h, _ = heldout_loss(model, held, args.seq, max_windows=64)
            row = {"step": step + 1, "train_loss": round(float(loss.detach()), 4), "heldout_loss_64w": round(h, 4),
                   "minutes": round(elapsed / 60, 2)}
            log.append(row)
            print(json.dumps(row), flush=True)
            if best is None or h < best[1]:
                best = (step + 1, h)
                model.save_pretrained(args.out_dir, safe_serialization=True)
        if last:
            if step + 1 != args.steps:
                stopped = "time limit"
            break

    model = LlamaForCausalLM.from_pretrained(args.out_dir)
    h, scored = heldout_loss(model, held, args.seq)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=None,
                                   model_max_length=args.seq)
    fast.save_pretrained(args.out_dir)
    GenerationConfig(bos_token_id=0, eos_token_id=0, max_length=args.seq).save_pretrained(args.out_dir)
    result = {
        "arch": ARCH, "parameters": n_params,
        "corpus": {"train_docs": len(train_docs), "train_bytes": train_bytes, "heldout_docs": len(held_docs),
                   "heldout_bytes": held_bytes, "train_stream_tokens": int(len(stream)),
                   "heldout_tokens": int(len(held)), "moby_weight": args.moby_weight},
        "args": vars(args) | {"out_dir": os.path.relpath(args.out_dir, corpus.REPO),
                              "results": os.path.relpath(args.results, corpus.REPO)},
        "stopped_by": stopped, "best_step": best[0], "log": log,
        "heldout": {"window": args.seq, "scored_tokens": scored, "nll": round(h, 5),
                    "perplexity": round(math.exp(h), 3),
                    "bits_per_byte": round(h * scored / held_bytes / math.log(2), 4)},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "minutes": round((time.time() - t0) / 60, 1),
    }
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result["heldout"]))


if __name__ == "__main__":
    main()
