"""Initialise the student by pruning the fine-tuned teacher (distill_student.py --init pruned).

The teacher (6 layers, hidden 384, 12 heads of 32, FFN 1536) is cut to the student's shape
(L layers, hidden H, A heads of 32, FFN F) from its own weights, as structured-pruning
distillation (Minitron, Sheared-LLaMA) starts its students:

- Layers: the teacher layers named by --teacher-layers, in order.
- Hidden width: one orthonormal map V [384, H], the top-H principal directions of the teacher's
  residual stream (every layer's output, over the real tokens of calibration sentences). Every
  matrix that reads the stream is right-multiplied by V, every one that writes it is
  left-multiplied by V^T; embeddings are projected the same way (word = (W - mean) V, type =
  (T + mean) V, so the sum is unchanged); a LayerNorm keeps the diagonal of V^T diag(gamma) V
  and beta V.
- Heads: per layer the A heads with the largest mean output norm on the calibration sentences
  (|context of the head| x ||its columns of the output projection||).
- FFN: per layer the F neurons with the largest mean |GELU activation| x ||output column||.
- Pooler and classifier: projected like any other layer (V on both sides of the pooler, V on
  the classifier's input).

Deterministic: the calibration sentences are a seeded sample of the training sentences.
"""
import random

import common

HEAD_DIM = 32


def calibration_activations(teacher, tok, texts):
    """{("ctx"|"ffn"|"res", layer): [tokens, features] float64} over the real tokens of texts:
    the attention context (input of the output projection), the FFN activation and the layer's
    output (the residual stream)."""
    import torch
    acts, hooks = {}, []

    def keep(key, pick):
        return lambda _m, inp, out: acts.setdefault(key, []).append(pick(inp, out).detach())

    for i, layer in enumerate(teacher.bert.encoder.layer):
        hooks.append(layer.attention.output.dense.register_forward_hook(keep(("ctx", i), lambda inp, _: inp[0])))
        hooks.append(layer.intermediate.register_forward_hook(keep(("ffn", i), lambda _, out: out)))
        hooks.append(layer.register_forward_hook(
            keep(("res", i), lambda _, out: out[0] if isinstance(out, tuple) else out)))
    ids_all = common.encode(tok, texts)
    real = []
    teacher.eval()
    with torch.no_grad():
        for s in range(0, len(ids_all), 64):
            ids, mask = common.collate(ids_all[s:s + 64])
            teacher(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
            real.append(mask.bool())
    for h in hooks:
        h.remove()
    # [batch, seq, features] per forward -> [real tokens, features]
    return {k: torch.cat([a[m] for a, m in zip(v, real)]).double() for k, v in acts.items()}


def principal_directions(X, k):
    """[features, k]: the top-k eigenvectors of X's covariance, signs fixed (sum >= 0)."""
    import torch
    Xc = X - X.mean(0, keepdim=True)
    evals, evecs = torch.linalg.eigh(Xc.T @ Xc / (X.shape[0] - 1))  # ascending
    order = torch.argsort(evals, descending=True)
    V = evecs[:, order[:k]]
    explained = float(evals[order[:k]].sum() / evals.sum())
    return V * torch.sign(V.sum(0, keepdim=True) + 1e-30), explained


def top_units(importance, k):
    """Indices of the k largest entries, in ascending index order."""
    import torch
    return torch.argsort(importance, descending=True)[:k].sort().values


def init_pruned(student, teacher, teacher_sd, tok, rows, train_texts, layers, seed, n_calib=512):
    """Copy the pruned teacher into `student` (shapes from its config). `rows`: the teacher id of
    each student token (None = the teacher's vocabulary). Returns the residual-stream variance
    the H directions keep and V [384, H] (float64)."""
    import torch
    cfg = student.config
    H, A, F = cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size
    if len(layers) != cfg.num_hidden_layers or cfg.hidden_size // A != HEAD_DIM:
        raise SystemExit(f"prune_init: {len(layers)} teacher layers for {cfg.num_hidden_layers} student "
                         f"layers, head dim {cfg.hidden_size // A} (must be {HEAD_DIM})")
    calib = random.Random(seed).sample(train_texts, min(n_calib, len(train_texts)))
    acts = calibration_activations(teacher, tok, calib)
    n_teacher = teacher.config.num_hidden_layers
    V, explained = principal_directions(torch.cat([acts[("res", i)] for i in range(n_teacher)]), H)
    sd = {k: v.double() for k, v in teacher_sd.items()}

    def put(dst, w, b):
        dst.weight.copy_(w.float())
        dst.bias.copy_(b.float())

    def layer_norm(dst, name):  # gamma: diag(V^T diag(g) V) = sum_i g_i V_ij^2
        put(dst, sd[name + ".weight"] @ (V * V), sd[name + ".bias"] @ V)

    def reads_stream(dst, name, rows_kept):  # y = W[rows] x, x = V x_s
        put(dst, sd[name + ".weight"][rows_kept] @ V, sd[name + ".bias"][rows_kept])

    def writes_stream(dst, name, cols_kept):  # x_s = V^T (W[:, cols] h + b)
        put(dst, V.T @ sd[name + ".weight"][:, cols_kept], sd[name + ".bias"] @ V)

    W = sd["bert.embeddings.word_embeddings.weight"]
    mu = W.mean(0, keepdim=True)
    emb = student.bert.embeddings
    with torch.no_grad():
        emb.word_embeddings.weight.copy_(((W if rows is None else W[torch.tensor(rows)]) - mu) @ V)
        emb.position_embeddings.weight.copy_(
            sd["bert.embeddings.position_embeddings.weight"][:cfg.max_position_embeddings] @ V)
        emb.token_type_embeddings.weight.copy_((sd["bert.embeddings.token_type_embeddings.weight"] + mu) @ V)
        layer_norm(emb.LayerNorm, "bert.embeddings.LayerNorm")
        for dst, t in zip(student.bert.encoder.layer, layers):
            p = f"bert.encoder.layer.{t}"
            Wo = sd[p + ".attention.output.dense.weight"]  # [384, 384]
            ctx = acts[("ctx", t)]                          # [tokens, 384]
            n_heads = Wo.shape[1] // HEAD_DIM
            head_imp = torch.stack([
                ctx[:, h * HEAD_DIM:(h + 1) * HEAD_DIM].norm(dim=1).mean()
                * Wo[:, h * HEAD_DIM:(h + 1) * HEAD_DIM].norm() for h in range(n_heads)])
            heads = top_units(head_imp, A)
            cols = torch.cat([torch.arange(h * HEAD_DIM, (h + 1) * HEAD_DIM) for h in heads.tolist()])
            W2 = sd[p + ".output.dense.weight"]  # [384, 1536]
            neurons = top_units(acts[("ffn", t)].abs().mean(0) * W2.norm(dim=0), F)
            for q in ("query", "key", "value"):
                reads_stream(getattr(dst.attention.self, q), f"{p}.attention.self.{q}", cols)
            writes_stream(dst.attention.output.dense, p + ".attention.output.dense", cols)
            layer_norm(dst.attention.output.LayerNorm, p + ".attention.output.LayerNorm")
            reads_stream(dst.intermediate.dense, p + ".intermediate.dense", neurons)
            writes_stream(dst.output.dense, p + ".output.dense", neurons)
            layer_norm(dst.output.LayerNorm, p + ".output.LayerNorm")
        put(student.bert.pooler.dense, V.T @ sd["bert.pooler.dense.weight"] @ V,
            sd["bert.pooler.dense.bias"] @ V)
        put(student.classifier, sd["classifier.weight"] @ V, sd["classifier.bias"])
    return explained, V
