#!/usr/bin/env python3
"""Distil the fine-tuned MiniLM teacher into a small BERT student for microcontrollers.

Student: BertForSequenceClassification, hidden 128, 4 heads (head dim 32), intermediate 512,
4 layers, max_position_embeddings 64, type_vocab_size 2, the full uncased MiniLM vocabulary
(30522; the Rust tool prunes it to the training corpus later), labels {0: negative,
1: positive}.

Initialisation: the embedding tables come from the teacher through one linear map V
(384 -> 128, the top-128 principal directions of the teacher's word-embedding table):
    word  = (W - mean(W)) V,   position = P[:64] V,   token_type = (T + mean(W)) V
so that word + position + type = (teacher's embedding sum) V exactly, before LayerNorm. All
other weights are random (BERT init, fixed seed). --init pruned starts from every weight of the
teacher instead, cut to the student's shape (prune_init.py). By default the word-embedding table stays
frozen during training (--freeze-word-embeddings 0 trains it too, at
--word-embeddings-lr-scale times the learning rate; the shipped student used 0.2).

Training: the training splits of the chosen domains (--domains, default all four), loss =
alpha * KL(teacher_T || student_T) * T^2 + (1 - alpha) * CE(student, gold), T = 2. Teacher
logits are computed once (fp32, eval) and cached in .cache/sentiment/teacher_logits.pt (one
entry per teacher weights and texts). Optional augmentation (--aug N): N perturbed copies of
every training sentence (word dropout / a contiguous span / adjacent swaps; fixed seed),
--aug-replace N copies with words replaced by near neighbours in the teacher's word-embedding
table (TinyBERT's augmentation without its masked-LM half), and unlabelled transfer text (--transfer,
transfer_text.py; --aug-transfer SPLIT:N adds N perturbed copies of a transfer split), all trained
on the teacher's soft labels only. --lexicon makes VADER a second teacher: a sentence's target margin (positive -
negative logit) becomes the teacher's plus beta x VADER's compound score, beta chosen per
source (a domain's training sentences and their copies, or a transfer split), as
lexicon_blend.py scores the blend on dev/test; --aug-lexicon SOURCE:N adds N copies of a
source's sentences with one lexicon entry put in each, so the student meets in context the
lexicon's words and emoticons that no training sentence holds. --hidden-loss W (with --init pruned) adds W x the
relative MSE between each student layer's output and its teacher layer's output seen through
the pruning's map V, per word (hidden_targets.py; targets cached once). AdamW, linear warmup/decay; the epoch with the best
macro dev accuracy over the domains is kept.

Writes .cache/sentiment/student/ (config.json, model.safetensors, vocab.txt,
tokenizer.json, tokenizer_config.json) and scripts/sentiment/results/student.json.

Usage (from the repository root, after train_teacher.py):
    .cache/venv-golden/bin/python scripts/sentiment/distill_student.py
"""

import argparse
import copy
import hashlib
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import log  # noqa: E402


def augment(texts, n, seed):
    """n perturbed copies of each text (deterministic). Word-level: drop ~15% of the words,
    keep a random contiguous span of >= 50% of the words, or swap a few adjacent words."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        for t in texts:
            w = t.split()
            kind = rng.randrange(3)
            if len(w) < 4:
                kind = 0
            if kind == 0:
                k = [x for x in w if rng.random() > 0.15] or w[:1]
            elif kind == 1:
                m = rng.randint((len(w) + 1) // 2, len(w) - 1)
                s = rng.randint(0, len(w) - m)
                k = w[s: s + m]
            else:
                k = list(w)
                for _ in range(max(1, len(w) // 6)):
                    i = rng.randrange(len(k) - 1)
                    k[i], k[i + 1] = k[i + 1], k[i]
            out.append(" ".join(k))
    return out


def word_neighbours(teacher_sd, tok, texts, k):
    """{word: its k nearest whole-word tokens}: for each lowercase alphabetic word of `texts` that
    is one teacher token, by cosine in the teacher's word-embedding table, among the vocabulary's
    alphabetic ASCII whole words (deterministic)."""
    import torch
    import torch.nn.functional as F
    W = teacher_sd["bert.embeddings.word_embeddings.weight"].float()
    vocab = tok.get_vocab()
    cand = sorted(t for t in vocab if t.isascii() and t.isalpha() and len(t) > 1)
    C = F.normalize(W[torch.tensor([vocab[t] for t in cand])], dim=1)
    words = sorted({w.lower() for t in texts for w in t.split()
                    if w.isascii() and w.isalpha() and len(w) > 1 and w.lower() in vocab})
    out = {}
    for i in range(0, len(words), 1024):
        chunk = words[i:i + 1024]
        Q = F.normalize(W[torch.tensor([vocab[w] for w in chunk])], dim=1)
        top = (Q @ C.T).topk(k + 1, dim=1).indices.tolist()
        for w, row in zip(chunk, top):
            out[w] = [cand[j] for j in row if cand[j] != w][:k]
    return out


def augment_replace(texts, n, seed, nbrs, p):
    """n copies of each text with each word that has neighbours replaced, with probability p, by
    one of them (deterministic)."""
    rng = random.Random(seed + 1)
    out = []
    for _ in range(n):
        for t in texts:
            words = []
            for w in t.split():
                cands = nbrs.get(w.lower())
                words.append(rng.choice(cands) if cands and rng.random() < p else w)
            out.append(" ".join(words))
    return out


def teacher_logits(teacher_dir, tok, splits, cache_path, device="cpu"):
    """{name: FloatTensor[N, 2]} for each (name, texts) in splits; cached on disk, one entry per
    (teacher weights, texts), so a new split costs only its own sentences."""
    import torch
    from transformers import BertForSequenceClassification

    weights = common.file_sha256(os.path.join(teacher_dir, "model.safetensors"))
    keys = {n: hashlib.sha256((weights + "\0" + "\n".join(x)).encode()).hexdigest()
            for n, x in splits.items()}
    cache = torch.load(cache_path) if os.path.isfile(cache_path) else {}
    if not isinstance(cache.get("entries"), dict):
        cache = {"entries": {}}
    missing = [n for n in splits if keys[n] not in cache["entries"]]
    if missing:
        t0 = time.time()
        teacher = BertForSequenceClassification.from_pretrained(teacher_dir).to(device).eval()
        for n in missing:
            log(f"teacher logits: {n} ({len(splits[n]):,} sentences) ...")
            cache["entries"][keys[n]] = common.predict_logits(
                teacher, common.encode(tok, splits[n]), batch_size=64)
            os.makedirs(os.path.dirname(cache_path), exist_ok=True)
            torch.save(cache, cache_path)
        log(f"teacher logits: {time.time() - t0:.0f}s")
    else:
        log(f"teacher logits: cached ({common.rel(cache_path)})")
    return {n: cache["entries"][keys[n]] for n in splits}


def parse_lexicon(spec):
    """"all:2,tweets:12,transfer:12" -> {source: beta}; a source is a domain, a transfer split
    name or `all` (every sentence no other entry names)."""
    out = {}
    for item in filter(None, spec.split(",")):
        name, _, beta = item.partition(":")
        try:
            out[name.strip()] = float(beta)
        except ValueError:
            sys.exit(f"distill_student: --lexicon entry {item!r} is not source:beta")
    return out


def parse_counts(spec, names, flag):
    """"transfer:1" -> [("transfer", 1)]; each name must be one of `names`."""
    out = []
    for item in filter(None, spec.split(",")):
        name, _, n = item.partition(":")
        if name not in names or not n.isdigit():
            sys.exit(f"distill_student: {flag} entry {item!r} is not SOURCE:N for a source "
                     f"({', '.join(names) or 'none given'})")
        out.append((name, int(n)))
    return out


def augment_lexicon(texts, n, seed, entries):
    """n copies of each text with one lexicon entry put in: it replaces a random word or goes in
    before one (even odds), drawn uniformly from `entries` (deterministic). Their targets are the
    teacher's and VADER's on the new sentence, so the student meets the lexicon's words and
    emoticons in context, though most of them are in no training sentence."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        for t in texts:
            w = t.split()
            e = rng.choice(entries)
            if w and rng.random() < 0.5:
                w[rng.randrange(len(w))] = e
            else:
                w.insert(rng.randrange(len(w) + 1), e)
            out.append(" ".join(w))
    return out


def lexicon_shift(soft, texts, sources, betas, vader, compound=None):
    """soft[N, 2] teacher logits -> the logits whose margin is the teacher's + beta x VADER's
    compound (beta by each sentence's source; 0 where betas names neither it nor `all`);
    `compound`: the texts' scores if already computed."""
    import torch
    beta = torch.tensor([betas.get(s, betas.get("all", 0.0)) for s in sources])
    if compound is None:
        compound = torch.tensor([vader.polarity_scores(t)["compound"] if b else 0.0
                                 for t, b in zip(texts, beta.tolist())])
    half = (beta * compound / 2).unsqueeze(1)  # [N, 1]
    return soft + torch.cat([-half, half], 1)


def init_embeddings_from_teacher(student, teacher_sd, hidden, rows=None):
    """PCA projection of the teacher's embedding tables (see the module docstring). `rows`: the
    teacher id of each student token (a pruned vocabulary), or None for the full vocabulary."""
    import torch
    W = teacher_sd["bert.embeddings.word_embeddings.weight"].double()
    W_rows = W if rows is None else W[torch.tensor(rows)]
    P = teacher_sd["bert.embeddings.position_embeddings.weight"].double()
    T = teacher_sd["bert.embeddings.token_type_embeddings.weight"].double()
    mu = W.mean(0, keepdim=True)
    # principal directions of the centred word table (deterministic: full SVD of the covariance)
    cov = (W - mu).T @ (W - mu) / (W.shape[0] - 1)
    evals, evecs = torch.linalg.eigh(cov)                 # ascending
    V = evecs[:, torch.argsort(evals, descending=True)[:hidden]]
    # fix the sign of each direction (eigenvector signs are arbitrary)
    V = V * torch.sign(V.sum(0, keepdim=True) + 1e-30)
    explained = float(evals.sort(descending=True).values[:hidden].sum() / evals.sum())
    npos = student.config.max_position_embeddings
    e = student.bert.embeddings
    with torch.no_grad():
        e.word_embeddings.weight.copy_(((W_rows - mu) @ V).float())
        e.position_embeddings.weight.copy_((P[:npos] @ V).float())
        e.token_type_embeddings.weight.copy_(((T + mu) @ V).float())
    return explained


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher-dir", default=os.path.join(common.CACHE, "teacher"))
    ap.add_argument("--out-dir", default=os.path.join(common.CACHE, "student"))
    ap.add_argument("--results", default=os.path.join(common.RESULTS, "student.json"))
    ap.add_argument("--logits-cache", default=os.path.join(common.CACHE, "teacher_logits.pt"))
    ap.add_argument("--vocab", default=None,
                    help="a pruned vocab.txt (picoformer quantize --prune-vocab ... --vocab-out): the "
                         "student is trained on it; default: the teacher's full vocabulary")
    ap.add_argument("--domains", default="all", help="comma-separated: rt,amazon,tweets,nyt (or all)")
    ap.add_argument("--transfer", default=os.path.join(common.CACHE, "transfer.txt"),
                    help="comma-separated files of unlabelled sentences, one per line, trained on "
                         "the teacher's logits (transfer_text.py: transfer.txt, transfer-sotu.txt); "
                         "'' for none")
    ap.add_argument("--lexicon", default="",
                    help="VADER as a second teacher: source:beta,... (source = a domain, a "
                         "transfer split such as transfer2, or all); empty = the teacher alone")
    ap.add_argument("--init", choices=("pca", "pruned"), default="pca",
                    help="pca: embeddings from the teacher, the rest random; pruned: every weight "
                         "from the teacher pruned to the student's shape (prune_init.py)")
    ap.add_argument("--teacher-layers", default="2,3,4,5",
                    help="with --init pruned: the teacher layers the student's start from")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=512)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.06)
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.7, help="weight of the KL term")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--freeze-word-embeddings", type=int, default=1,
                    help="1: keep the PCA-initialised word-embedding table fixed (regularises: "
                         "words unseen in training keep their teacher-derived vectors)")
    ap.add_argument("--word-embeddings-lr-scale", type=float, default=1.0,
                    help="with --freeze-word-embeddings 0: the word table's learning rate as a "
                         "fraction of --lr (between frozen, 0, and trained like the rest, 1)")
    ap.add_argument("--aug", type=int, default=0, help="augmented copies per training sentence")
    ap.add_argument("--aug-replace", type=int, default=0,
                    help="copies per training sentence with words replaced by embedding neighbours")
    ap.add_argument("--aug-transfer", default="",
                    help="SPLIT:N,...: N augmented copies (as --aug) of each sentence of a transfer "
                         "split (transfer, transfer2, ...); the copies share its --lexicon beta")
    ap.add_argument("--aug-lexicon", default="",
                    help="SOURCE:N,...: N copies of each sentence of a source (a domain's training "
                         "sentences or a transfer split) with one VADER lexicon entry put in "
                         "(augment_lexicon); the copies share the source's --lexicon beta")
    ap.add_argument("--hidden-loss", type=float, default=0.0,
                    help="weight of the per-word hidden-state loss against the teacher's layers "
                         "(hidden_targets.py; needs --init pruned)")
    ap.add_argument("--hidden-skip", default="",
                    help="comma-separated sources (domains, transfer splits) left out of --hidden-loss")
    ap.add_argument("--replace-prob", type=float, default=0.3)
    ap.add_argument("--neighbours", type=int, default=12)
    ap.add_argument("--threads", type=int, default=common.N_THREADS)
    ap.add_argument("--valence-head", type=float, default=0.0,
                    help="GAMMA: a learned valence per token summed into the margin, started at "
                         "GAMMA x VADER's rating for lexicon words (valence_head.py; f32 only, not "
                         "bundled; 0: none)")
    ap.add_argument("--lexicon-gate", type=float, default=0.0,
                    help="G: VADER's compound as an input, weighted by a learned gate in [0, G] "
                         "(lexicon_gate.py; emoji descriptions off for it and the targets; 0: none)")
    ap.add_argument("--lexicon-gate-lr-scale", type=float, default=10.0,
                    help="the gate's learning rate as a multiple of --lr")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="decay of an exponential moving average of the weights, updated every step "
                         "(e.g. 0.999); it is evaluated, selected and saved in place of the trained "
                         "weights, whose dev score is logged beside it (0: none)")
    ap.add_argument("--time-limit-min", type=float, default=0,
                    help="stop after the epoch that passes this wall-clock budget (0: none)")
    ap.add_argument("--measure", type=int, default=0, help="only time N training steps, then exit")
    common.device_arg(ap)
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForSequenceClassification

    common.seed_everything(args.seed, args.threads)
    tok = common.load_tokenizer(args.teacher_dir)
    teacher_sd = load_file(os.path.join(args.teacher_dir, "model.safetensors"))  # read once
    domains = common.parse_domains(args.domains)
    tr_x, tr_y, tr_d = common.concat(common.load_domains("train", domains))
    dv_x, dv_y, dv_d = common.concat(common.load_domains("dev", domains))
    te_x, te_y, te_d = common.concat(common.load_domains("test", domains))
    aug_x = augment(tr_x, args.aug, args.seed) if args.aug else []
    rep_x = []
    if args.aug_replace:
        nbrs = word_neighbours(teacher_sd, tok, tr_x, args.neighbours)
        rep_x = augment_replace(tr_x, args.aug_replace, args.seed, nbrs, args.replace_prob)
        log(f"neighbour replacement: {len(nbrs):,} words with neighbours, {len(rep_x):,} sentences")
    transfer_files = [p for p in args.transfer.split(",") if p]
    transfer = {}  # split name -> sentences, one split per --transfer file
    for i, path in enumerate(transfer_files):
        with open(path, encoding="utf-8") as f:
            transfer["transfer" if i == 0 else f"transfer{i + 1}"] = [
                line.rstrip("\n") for line in f if line.strip()]
    source_of = {n: n for n in transfer}  # transfer split -> the source its --lexicon beta is named by
    for i, (name, n) in enumerate(parse_counts(args.aug_transfer, list(transfer), "--aug-transfer")):
        transfer[f"{name}-aug"] = augment(transfer[name], n, args.seed + 2 + i)
        source_of[f"{name}-aug"] = name
    lexicon = parse_lexicon(args.lexicon)
    vader = None
    if lexicon or args.aug_lexicon or args.valence_head or args.lexicon_gate:
        from domains import vader_analyzer
        vader = vader_analyzer()
    if args.lexicon_gate:
        import lexicon_gate
        lexicon_gate.no_emoji(vader)
    for i, (name, n) in enumerate(parse_counts(args.aug_lexicon, [*domains, *transfer], "--aug-lexicon")):
        base = transfer[name] if name in transfer else [x for x, d in zip(tr_x, tr_d) if d == name]
        transfer[f"{name}-lex"] = augment_lexicon(base, n, args.seed + 20 + i, sorted(vader.lexicon))
        source_of[f"{name}-lex"] = source_of.get(name, name)
        log(f"lexicon entries put in: {name} x {n} -> {len(transfer[name + '-lex']):,} sentences")
    tf_x = [t for texts in transfer.values() for t in texts]
    splits = {"train": tr_x, "dev": dv_x, "test": te_x}
    if aug_x:
        splits["aug"] = aug_x
    if rep_x:
        splits["augrep"] = rep_x
    splits.update(transfer)
    t_logits = teacher_logits(args.teacher_dir, tok, splits, args.logits_cache, args.device)
    teacher_acc = {n: common.domain_accuracy(t_logits[n], y, d)
                   for n, y, d in (("train", tr_y, tr_d), ("dev", dv_y, dv_d), ("test", te_y, te_d))}
    log("teacher acc (from cached logits):", teacher_acc)

    all_x = tr_x + aug_x + rep_x + tf_x
    teacher_tok, rows = tok, None
    if args.vocab:
        tok = common.load_pruned_tokenizer(args.teacher_dir, args.vocab)
        rows = [teacher_tok.convert_tokens_to_ids(t) for t in tok.convert_ids_to_tokens(list(range(len(tok))))]
    all_ids = common.encode(tok, all_x)
    all_soft = torch.cat([t_logits[n] for n in ("train", "aug", "augrep", *transfer) if n in t_logits])
    # the source of every row of all_x: its domain for train and its copies, else the split
    sources = (tr_d * (1 + args.aug + args.aug_replace)
               + [source_of[n] for n, x in transfer.items() for _ in x])
    all_comp = dv_comp = te_comp = tr_comp = None  # VADER's scores, the gated student's input
    if args.lexicon_gate:
        t1 = time.time()
        all_comp, dv_comp, te_comp = (lexicon_gate.compounds(vader, x) for x in (all_x, dv_x, te_x))
        tr_comp = all_comp[:len(tr_x)]
        log(f"VADER compound of {len(all_x) + len(dv_x) + len(te_x):,} sentences: {time.time() - t1:.0f}s")
    if lexicon:
        unknown = set(lexicon) - set(sources) - {"all"}
        if unknown:
            sys.exit(f"distill_student: --lexicon names no training source: {sorted(unknown)}")
        t1 = time.time()
        all_soft = lexicon_shift(all_soft, all_x, sources, lexicon, vader, all_comp)
        log(f"lexicon targets ({args.lexicon}): {time.time() - t1:.0f}s")
    all_y = torch.tensor(tr_y + [-100] * (len(aug_x) + len(rep_x) + len(tf_x)))  # gold CE only on the originals
    dv_ids, te_ids = common.encode(tok, dv_x), common.encode(tok, te_x)
    all_soft, all_y = all_soft.to(args.device), all_y.to(args.device)

    cfg = BertConfig(vocab_size=len(tok), hidden_size=args.hidden, num_hidden_layers=args.layers,
                     num_attention_heads=args.heads, intermediate_size=args.intermediate,
                     hidden_act="gelu", hidden_dropout_prob=args.dropout,
                     attention_probs_dropout_prob=args.dropout,
                     max_position_embeddings=common.MAX_LEN, type_vocab_size=2,
                     layer_norm_eps=1e-12, pad_token_id=0, initializer_range=0.02,
                     num_labels=2, id2label=dict(common.ID2LABEL), label2id=dict(common.LABEL2ID))
    torch.manual_seed(args.seed)
    if args.lexicon_gate:
        student = lexicon_gate.BertWithLexiconGate(cfg, args.lexicon_gate)
    elif args.valence_head:
        from valence_head import BertWithValence, lexicon_init
        student = BertWithValence(cfg)
        init, hits = lexicon_init(tok.convert_ids_to_tokens(list(range(len(tok)))), vader.lexicon,
                                  args.valence_head)
        student.valence.data.copy_(init)
        log(f"valence head: {hits:,} of {len(tok):,} tokens start from VADER x {args.valence_head}")
    else:
        student = BertForSequenceClassification(cfg)
    if args.init == "pruned":
        from prune_init import init_pruned
        teacher = BertForSequenceClassification.from_pretrained(args.teacher_dir)
        layers = [int(x) for x in args.teacher_layers.split(",")]
        explained, V = init_pruned(student, teacher, teacher_sd, teacher_tok, rows, tr_x, layers, args.seed)
        del teacher
        init_desc = ("pruned from the teacher: layers %s, the heads/FFN neurons with the largest "
                     "calibration output, residual-stream PCA 384->%d (variance kept %.4f)"
                     % (args.teacher_layers, args.hidden, explained))
    else:
        explained = init_embeddings_from_teacher(student, teacher_sd, args.hidden, rows)
        init_desc = ("embeddings from the teacher via PCA 384->%d (variance kept %.4f); rest random"
                     % (args.hidden, explained))
    hidden_loss = None
    if args.hidden_loss:
        if args.init != "pruned":
            sys.exit("distill_student: --hidden-loss needs --init pruned (the map V)")
        import hidden_targets
        skip = set(filter(None, args.hidden_skip.split(",")))
        if skip - set(sources):
            sys.exit(f"distill_student: --hidden-skip names no training source: {sorted(skip - set(sources))}")
        rows = [i for i, src in enumerate(sources) if src not in skip]  # the rows with targets
        s_units, s_words = hidden_targets.unit_index(tok, all_x)
        _, t_words = hidden_targets.unit_index(teacher_tok, [all_x[i] for i in rows])
        n_units = [1 + min(s_words[i], t) for i, t in zip(rows, t_words)]
        flat, offsets = hidden_targets.teacher_targets(
            args.teacher_dir, common.file_sha256(os.path.join(args.teacher_dir, "model.safetensors")),
            teacher_tok, [all_x[i] for i in rows], n_units, V, layers, common.CACHE, args.threads)
        hidden_loss = hidden_targets.HiddenLoss(flat, offsets, s_units, rows, n_units)
    student.to(args.device)
    if args.freeze_word_embeddings:
        student.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    n_params = sum(p.numel() for p in student.parameters())
    n_emb = student.bert.embeddings.word_embeddings.weight.numel()
    log(f"student: {n_params:,} params ({n_emb:,} in the word embeddings); init: {init_desc}")
    if args.init == "pruned":
        acc = common.domain_accuracy(common.predict_logits(student, dv_ids, compound=dv_comp), dv_y, dv_d)
        log("dev accuracy before training: " + " ".join(f"{d} {a:.4f}" for d, a in acc.items()))

    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias", "valence")
    word_table = student.bert.embeddings.word_embeddings.weight  # trained at its own rate, if at all
    own_rate = ("lexicon_gate.",)  # trained at --lexicon-gate-lr-scale x the rate
    groups = [
        {"params": [p for n, p in student.named_parameters()
                    if p.requires_grad and not any(k in n for k in no_decay) and p is not word_table
                    and not n.startswith(own_rate)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in student.named_parameters()
                    if p.requires_grad and any(k in n for k in no_decay) and not n.startswith(own_rate)],
         "weight_decay": 0.0},
    ]
    if args.lexicon_gate:
        groups.append({"params": list(student.lexicon_gate.parameters()), "weight_decay": 0.0,
                       "lr": args.lr * args.lexicon_gate_lr_scale})
    if word_table.requires_grad:
        groups.append({"params": [word_table], "weight_decay": args.weight_decay,
                       "lr": args.lr * args.word_embeddings_lr_scale})
    opt = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(len(all_ids) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup_ratio * total)
    sched = common.linear_schedule(opt, warmup, total)
    gen = torch.Generator().manual_seed(args.seed)
    lengths = [len(t) for t in all_ids]
    T, alpha = args.temperature, args.alpha

    ema = None
    if args.ema:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        ema = AveragedModel(student, multi_avg_fn=get_ema_multi_avg_fn(args.ema), use_buffers=False)
    best = {"dev_macro": -1.0}
    history = []
    step = 0
    t0 = time.time()
    student.train()
    epochs_run = 0
    for epoch in range(args.epochs):
        tot_loss = tot_hidden = 0.0
        for idx in common.bucketed_batches(lengths, args.batch_size, gen):
            ids, mask = (t.to(args.device) for t in common.collate([all_ids[i] for i in idx]))
            extra = {} if all_comp is None else {"compound": all_comp[idx].to(args.device)}
            out = student(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                          output_hidden_states=hidden_loss is not None, **extra)
            logits = out.logits
            kl = F.kl_div(F.log_softmax(logits / T, -1), F.log_softmax(all_soft[idx] / T, -1),
                          reduction="batchmean", log_target=True) * T * T
            y = all_y[idx]
            ce = F.cross_entropy(logits, y, ignore_index=-100) if (y >= 0).any() else logits.sum() * 0
            loss = alpha * kl + (1 - alpha) * ce
            if hidden_loss is not None:
                hid = hidden_loss(out.hidden_states, idx)
                loss = loss + args.hidden_loss * hid
                tot_hidden += hid.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(student)
            step += 1
            tot_loss += loss.item()
            if args.measure and step >= args.measure:
                dt = (time.time() - t0) / step
                log(f"measure: {dt:.3f}s/step -> {dt * total / 60:.1f} min for {total} steps")
                return
        epochs_run += 1
        # the model evaluated and kept: the moving average if there is one, else the trained weights
        model = ema.module if ema is not None else student
        dv_logits = common.predict_logits(model, dv_ids, compound=dv_comp)
        acc = common.domain_accuracy(dv_logits, dv_y, dv_d)
        agree = float((dv_logits.argmax(-1) == t_logits["dev"].argmax(-1)).float().mean())
        trained = (common.domain_accuracy(common.predict_logits(student, dv_ids, compound=dv_comp), dv_y, dv_d)
                   if ema is not None else acc)
        student.train()
        history.append({"epoch": epoch + 1, "loss": round(tot_loss / steps_per_epoch, 4),
                        "hidden_loss": round(tot_hidden / steps_per_epoch, 4),
                        "dev_acc": {d: round(a, 4) for d, a in acc.items()},
                        "dev_teacher_agreement": round(agree, 4),
                        **({"dev_acc_trained_weights": {d: round(a, 4) for d, a in trained.items()}}
                           if ema is not None else {}),
                        "elapsed_s": round(time.time() - t0, 1)})
        log(f"epoch {epoch + 1}/{args.epochs} loss {tot_loss / steps_per_epoch:.4f} "
            f"(hidden {tot_hidden / steps_per_epoch:.4f}) dev "
            + " ".join(f"{d} {a:.4f}" for d, a in acc.items())
            + f" agree {agree:.4f}"
            + (f" (trained weights: macro {trained['macro']:.4f})" if ema is not None else "")
            + f" ({time.time() - t0:.0f}s)")
        if acc["macro"] > best["dev_macro"]:
            best.update(dev_macro=acc["macro"], epoch=epoch + 1,
                        state=copy.deepcopy(model.state_dict()))
        if args.time_limit_min and time.time() - t0 > args.time_limit_min * 60:
            log("time limit reached")
            break
    train_s = time.time() - t0

    student.load_state_dict(best.pop("state"))
    student.eval()
    res = {}
    for name, ids_, y, d, comp in (("train", common.encode(tok, tr_x), tr_y, tr_d, tr_comp),
                                   ("dev", dv_ids, dv_y, dv_d, dv_comp), ("test", te_ids, te_y, te_d, te_comp)):
        lg = common.predict_logits(student, ids_, compound=comp)
        res[name] = (common.domain_accuracy(lg, y, d),
                     float((lg.argmax(-1) == t_logits[name].argmax(-1)).float().mean()))
    log(f"best epoch {best['epoch']}: " + "  ".join(
        f"{n} macro {a['macro']:.4f} (agree {g:.4f})" for n, (a, g) in res.items()) +
        "; test " + " ".join(f"{d} {a:.4f}" for d, a in res["test"][0].items()) +
        f"; training {train_s / 60:.1f} min")
    common.save_hf_dir(student, tok, args.vocab or os.path.join(args.teacher_dir, "vocab.txt"), args.out_dir)
    if args.lexicon_gate:
        lexicon_gate.save_lexicon(args.out_dir)
    common.write_json(args.results, {
        "model": "BertForSequenceClassification distilled from the fine-tuned MiniLM teacher",
        "labels": common.ID2LABEL,
        "shape": {"layers": args.layers, "hidden": args.hidden, "heads": args.heads,
                  "head_dim": args.hidden // args.heads, "intermediate": args.intermediate,
                  "max_position_embeddings": common.MAX_LEN, "type_vocab_size": 2,
                  "vocab_size": len(tok)},
        "params": n_params,
        "params_word_embeddings": n_emb,
        "params_without_word_embeddings": n_params - n_emb,
        "init": init_desc,
        "domains": list(domains),
        "data": "data/sentiment/{,amazon/,tweets/,nyt/}{train,dev,test}.tsv (the chosen domains)",
        "transfer": {common.rel(p): len(x) for p, x in zip(transfer_files, transfer.values())} or None,
        "n_train": len(tr_x), "n_augmented": len(aug_x), "n_replaced": len(rep_x), "n_transfer": len(tf_x),
        "aug_transfer": args.aug_transfer or None,
        "aug_lexicon": args.aug_lexicon or None,
        "hyperparameters": {"epochs": args.epochs, "epochs_run": epochs_run, "lr": args.lr,
                            "batch_size": args.batch_size, "optimizer": "AdamW",
                            "weight_decay": args.weight_decay, "schedule": "linear warmup/decay",
                            "warmup_steps": warmup, "total_steps": total, "grad_clip": 1.0,
                            "temperature": T, "alpha_kl": alpha, "dropout": args.dropout,
                            "max_length": common.MAX_LEN, "aug_copies": args.aug,
                            "aug_replace_copies": args.aug_replace, "replace_prob": args.replace_prob,
                            "ema_decay": args.ema or None,
                            "valence_head_gamma": args.valence_head or None,
                            "lexicon_gate_max": args.lexicon_gate or None,
                            "lexicon_gate_lr_scale": args.lexicon_gate_lr_scale if args.lexicon_gate else None,
                            "neighbours": args.neighbours, "hidden_loss": args.hidden_loss,
                            "hidden_skip": args.hidden_skip or None,
                            "length_bucketed_batches": True, "threads": args.threads,
                            "freeze_word_embeddings": bool(args.freeze_word_embeddings),
                            "word_embeddings_lr_scale": (args.word_embeddings_lr_scale
                                                         if not args.freeze_word_embeddings else 0.0)},
        "loss": "alpha * KL(teacher_T || student_T) * T^2 + (1 - alpha) * CE(gold)"
                + (" + hidden_loss * relative MSE of the per-word layer outputs against the teacher's x V"
                   if hidden_loss is not None else ""),
        "lexicon": ({"betas": lexicon, "scorer": "vaderSentiment 3.3.2 (sdist) compound",
                     "target": "teacher margin + beta x compound, by source"} if lexicon else None),
        "seed": args.seed,
        "selected_epoch": best["epoch"],
        "selected_by": "macro dev accuracy over the domains",
        "train_acc": {d: round(a, 4) for d, a in res["train"][0].items()},
        "dev_acc": {d: round(a, 4) for d, a in res["dev"][0].items()},
        "test_acc": {d: round(a, 4) for d, a in res["test"][0].items()},
        "dev_teacher_agreement": round(res["dev"][1], 4),
        "test_teacher_agreement": round(res["test"][1], 4),
        "teacher_dev_acc": {d: round(a, 4) for d, a in teacher_acc["dev"].items()},
        "teacher_test_acc": {d: round(a, 4) for d, a in teacher_acc["test"].items()},
        "training_time_s": round(train_s, 1),
        "device": args.device,
        "history": history,
        "versions": common.versions(),
        "teacher_dir": common.rel(args.teacher_dir),
        "output_dir": common.rel(args.out_dir),
    })
    log("wrote", common.rel(args.results), common.rel(args.out_dir))


if __name__ == "__main__":
    main()
