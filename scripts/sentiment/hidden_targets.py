"""Intermediate-layer distillation targets (distill_student.py --hidden-loss W).

The pruned student (prune_init.py) lives in the teacher's residual stream seen through one map
V [384, H]: its layer k stands for teacher layer L_k (--teacher-layers), so the natural target
for the student's layer-k output is the teacher's layer-L_k output times V, as TinyBERT
matches hidden states (here without a learned projection: V is fixed by the pruning).

The two models tokenize differently (the student's vocabulary is pruned: a word the teacher
reads as one token may be two pieces for the student), so states are compared per *unit*:
unit 0 is [CLS] (what the pooler reads), unit 1 + w the mean over word w's pieces. Both
tokenizers split text into the same words (same normalizer and pre-tokenizer); a word cut by
truncation at 64 tokens is not a unit, and a sentence has as many units as the shorter of its
two tokenizations keeps whole.

Targets are computed once per (teacher weights, V, layers, texts) and cached as one float16
tensor [units, layers, H] with per-sentence offsets; only the sentences that take part
(--hidden-skip leaves sources out) are computed, so adding a skipped source keeps the cache.
"""
import hashlib
import os
import time

import common
from common import log


def unit_index(tok, texts, max_len=common.MAX_LEN):
    """Per sentence: the unit of each token (0 = [CLS], 1 + w = word w, -1 = [SEP] or a piece of
    a word that truncation cut) and the number of whole words kept."""
    cut = tok(list(texts), truncation=True, max_length=max_len)
    full = tok(list(texts), truncation=False)
    units, n_words = [], []
    for i in range(len(texts)):
        kept, whole = cut.word_ids(i), full.word_ids(i)
        last = max((w for w in kept if w is not None), default=-1)
        if last >= 0 and kept.count(last) != whole.count(last):
            last -= 1  # the last word lost pieces to truncation
        units.append([0 if j == 0 else (w + 1 if w is not None and w <= last else -1)
                      for j, w in enumerate(kept)])
        n_words.append(last + 1)
    return units, n_words


def pool_units(hidden, units, n_units):
    """hidden [B, S, H], units LongTensor [B, S] (-1 = none) -> [B, n_units, H], the mean of
    each unit's tokens (zero where a unit has none; units >= n_units are left out)."""
    import torch
    B, S, H = hidden.shape
    valid = ((units >= 0) & (units < n_units)).unsqueeze(-1).to(hidden.dtype)
    idx = units.clamp(min=0, max=n_units - 1)
    out = torch.zeros(B, n_units, H, dtype=hidden.dtype, device=hidden.device)
    out.scatter_add_(1, idx.unsqueeze(-1).expand(B, S, H), hidden * valid)
    count = torch.zeros(B, n_units, 1, dtype=hidden.dtype, device=hidden.device)
    count.scatter_add_(1, idx.unsqueeze(-1), valid)
    return out / count.clamp(min=1)


def _pad(rows, fill):
    import torch
    n = max(len(r) for r in rows)
    return torch.tensor([r + [fill] * (n - len(r)) for r in rows])


def teacher_targets(teacher_dir, weights_sha, teacher_tok, texts, n_units, V, layers, cache_dir, threads):
    """(flat float16 [sum(n_units), len(layers), H], offsets LongTensor [N + 1]): for sentence i
    and unit u < n_units[i], the teacher's pooled layer outputs times V."""
    import torch
    from transformers import BertForSequenceClassification

    h = hashlib.sha256((weights_sha + repr(layers) + repr(n_units)).encode())
    h.update(V.float().numpy().tobytes())
    h.update("\n".join(texts).encode())
    path = os.path.join(cache_dir, f"teacher_hidden-{h.hexdigest()[:16]}.pt")
    offsets = torch.zeros(len(texts) + 1, dtype=torch.long)
    offsets[1:] = torch.tensor(n_units).cumsum(0)
    if os.path.isfile(path):
        log(f"teacher hidden states: cached ({common.rel(path)})")
        return torch.load(path), offsets
    t0, old_threads = time.time(), torch.get_num_threads()
    torch.set_num_threads(max(threads, os.cpu_count() or 1))  # inference only: any count will do
    teacher = BertForSequenceClassification.from_pretrained(teacher_dir).eval()
    units, _ = unit_index(teacher_tok, texts)
    ids_all = common.encode(teacher_tok, texts)
    Vf = V.float()
    flat = torch.empty(int(offsets[-1]), len(layers), Vf.shape[1], dtype=torch.float16)
    order = sorted(range(len(texts)), key=lambda i: len(ids_all[i]))
    log(f"teacher hidden states: {len(texts):,} sentences, {flat.shape[0]:,} units ...")
    with torch.no_grad():
        for s in range(0, len(order), 64):
            idx = order[s:s + 64]
            ids, mask = common.collate([ids_all[i] for i in idx])
            out = teacher.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                               output_hidden_states=True)
            m = max(n_units[i] for i in idx)
            u = _pad([units[i] for i in idx], -1)
            # hidden_states[0] is the embedding output, [1 + L] teacher layer L's
            pooled = torch.stack([pool_units(out.hidden_states[1 + L], u, m) @ Vf for L in layers], 2)
            for b, i in enumerate(idx):
                flat[offsets[i]:offsets[i + 1]] = pooled[b, :n_units[i]].half()
    torch.set_num_threads(old_threads)
    torch.save(flat, path)
    log(f"teacher hidden states: {time.time() - t0:.0f}s, {flat.numel() * 2 / 2**30:.2f} GiB "
        f"({common.rel(path)})")
    return flat, offsets


class HiddenLoss:
    """Relative MSE between the student's pooled layer outputs and the cached targets, per layer
    divided by the targets' mean square (so each layer's term starts near the share of the
    target the student misses), summed over layers."""

    def __init__(self, flat, offsets, student_units, rows, n_units):
        """flat/offsets: the targets of the training rows `rows` (teacher_targets over their
        texts, n_units each); student_units: every training row's unit_index; the other rows
        take no part."""
        import torch
        self.flat = flat
        self.units = student_units
        self.first = [0] * len(student_units)    # row -> its first target unit
        self.n_units = [0] * len(student_units)  # row -> its units (0: no targets)
        for j, (r, n) in enumerate(zip(rows, n_units)):
            self.first[r], self.n_units[r] = int(offsets[j]), n
        sq = sum(flat[s:s + 65536].float().pow(2).sum(dim=(0, 2)) for s in range(0, flat.shape[0], 65536))
        self.scale = sq / (flat.shape[0] * flat.shape[2])  # [layers]: the targets' mean square
        self.zero = torch.zeros(())

    def __call__(self, hidden_states, idx):
        """hidden_states: the student's (embeddings, layer 1, ...); idx: the batch's rows."""
        import torch
        m = max(self.n_units[i] for i in idx)
        if m == 0:
            return self.zero.to(hidden_states[0].device)
        u = _pad([self.units[i] for i in idx], -1).to(hidden_states[0].device)
        dev = u.device
        target = torch.zeros(len(idx), m, self.flat.shape[1], self.flat.shape[2])
        keep = torch.zeros(len(idx), m, 1)
        for b, i in enumerate(idx):
            n = self.n_units[i]
            target[b, :n] = self.flat[self.first[i]:self.first[i] + n].float()
            keep[b, :n] = 1
        target, keep = target.to(dev), keep.to(dev)
        loss = self.zero.to(dev)
        for k in range(self.flat.shape[1]):
            pooled = pool_units(hidden_states[1 + k], u, m)
            err = ((pooled - target[:, :, k]) ** 2 * keep).sum() / (keep.sum() * target.shape[-1])
            loss = loss + err / self.scale[k]
        return loss
