"""Shared helpers of the sentiment training scripts (data, tokenizer, evaluation, saving)."""

import json
import os
import platform
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA_DIR = os.path.join(REPO, "data", "sentiment")
CACHE = os.path.join(REPO, ".cache", "sentiment")
RESULTS = os.path.join(HERE, "results")

LABELS = ["negative", "positive"]
ID2LABEL = {0: "negative", 1: "positive"}
LABEL2ID = {"negative": 0, "positive": 1}
MAX_LEN = 64
N_THREADS = 2


def default_model_dir():
    """The all-MiniLM-L6-v2 directory installed by scripts/fetch-models.sh."""
    out = subprocess.run(["bash", os.path.join(REPO, "scripts", "fetch-models.sh")],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def rel(path):
    """Repository-relative path for reports (never an absolute path of this machine)."""
    p = os.path.relpath(os.path.abspath(path), REPO)
    return p.replace(os.sep, "/")


def file_sha256(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_tsv(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            lab, text = line.rstrip("\n").split("\t", 1)
            labels.append(LABEL2ID[lab])
            texts.append(text)
    return texts, labels


def load_split(name, data_dir=None):
    return read_tsv(os.path.join(data_dir or DATA_DIR, f"{name}.tsv"))


# The four labelled domains (fetch_data.py): movie reviews in data/sentiment itself, the others in
# sub-folders.
DOMAINS = ("rt", "amazon", "tweets", "nyt")


def domain_dir(domain):
    if domain not in DOMAINS:
        raise SystemExit(f"unknown domain {domain!r} (known: {', '.join(DOMAINS)})")
    return DATA_DIR if domain == "rt" else os.path.join(DATA_DIR, domain)


def parse_domains(arg):
    """'rt,amazon' -> ('rt', 'amazon'); 'all' -> every domain."""
    names = DOMAINS if arg == "all" else tuple(x for x in arg.split(",") if x)
    for d in names:
        domain_dir(d)
    return names


def load_domains(split, domains):
    """{domain: (texts, labels)} of one split of each domain."""
    return {d: load_split(split, domain_dir(d)) for d in domains}


def concat(parts):
    """(texts, labels, domain of each) of {domain: (texts, labels)}, in domain order."""
    texts, labels, owner = [], [], []
    for d, (x, y) in parts.items():
        texts += x
        labels += y
        owner += [d] * len(x)
    return texts, labels, owner


def domain_accuracy(logits, labels, owner):
    """{domain: accuracy, ..., 'macro': mean over the domains} of logits over concatenated splits."""
    import torch
    right = (logits.argmax(-1) == torch.tensor(labels)).tolist()
    out = {}
    for d in dict.fromkeys(owner):
        hits = [r for r, o in zip(right, owner) if o == d]
        out[d] = sum(hits) / len(hits)
    out["macro"] = sum(out.values()) / len(out)
    return out


def device_arg(ap):
    """--device: where training runs (cpu, the recorded runs; cuda for quick exploration, whose
    results differ from the CPU's in the last bits and so are not the shipped provenance)."""
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="cpu (the recorded runs) or cuda")


def seed_everything(seed, threads=N_THREADS):
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)


def load_tokenizer(model_dir):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    assert tok.is_fast
    assert len(tok) == 30522, len(tok)  # transformers-5 pitfall guard (scripts/golden/README.md)
    assert tok.convert_tokens_to_ids("[CLS]") == 101 and tok.convert_tokens_to_ids("[SEP]") == 102
    assert tok("this movie was wonderful")["input_ids"] == [101, 2023, 3185, 2001, 6919, 102]
    return tok


def load_pruned_tokenizer(teacher_dir, vocab_file):
    """The teacher's tokenizer settings over a pruned vocab.txt. Built from a folder holding only
    tokenizer_config.json and vocab.txt (`BertTokenizerFast(vocab_file=...)` ignores the file in
    transformers 5); a temporary folder of its own, so that runs side by side do not race."""
    import tempfile
    from transformers import AutoTokenizer
    with tempfile.TemporaryDirectory(prefix="tokenizer-") as d:
        shutil.copyfile(os.path.join(teacher_dir, "tokenizer_config.json"), os.path.join(d, "tokenizer_config.json"))
        shutil.copyfile(vocab_file, os.path.join(d, "vocab.txt"))
        tok = AutoTokenizer.from_pretrained(d)
    n = sum(1 for _ in open(vocab_file, encoding="utf-8"))
    assert tok.is_fast and len(tok) == n, (len(tok), n)
    return tok


def encode(tok, texts, max_len=MAX_LEN):
    """List of id lists ([CLS] ... [SEP], truncated to max_len), no padding."""
    return tok(list(texts), truncation=True, max_length=max_len)["input_ids"]


def collate(id_lists):
    """Pad a list of id lists into (input_ids, attention_mask) LongTensors."""
    import torch
    n = max(len(x) for x in id_lists)
    ids = torch.zeros(len(id_lists), n, dtype=torch.long)
    mask = torch.zeros(len(id_lists), n, dtype=torch.long)
    for i, x in enumerate(id_lists):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    return ids, mask


def predict_logits(model, id_lists, batch_size=128, compound=None):
    """fp32 logits [N, 2] (on the CPU) in input order (batches sorted by length for speed); runs
    on the model's device. `compound`: [N] VADER scores for a model with a lexicon gate."""
    import torch
    dev = next(model.parameters()).device
    model.eval()
    order = sorted(range(len(id_lists)), key=lambda i: len(id_lists[i]))
    out = torch.empty(len(id_lists), model.config.num_labels)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s: s + batch_size]
            ids, mask = collate([id_lists[i] for i in idx])
            ids, mask = ids.to(dev), mask.to(dev)
            extra = {} if compound is None else {"compound": compound[idx].to(dev)}
            out[idx] = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                             **extra).logits.float().cpu()
    return out


def accuracy(logits, labels):
    import torch
    return float((logits.argmax(-1) == torch.tensor(labels)).float().mean())


def linear_schedule(optimizer, warmup, total):
    import torch

    def f(step):
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, f)


def save_hf_dir(model, tok, vocab_src, out_dir):
    """config.json (id2label/label2id), model.safetensors, vocab.txt, tokenizer.json,
    tokenizer_config.json."""
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    model.config.id2label = dict(ID2LABEL)
    model.config.label2id = dict(LABEL2ID)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    shutil.copyfile(vocab_src, os.path.join(out_dir, "vocab.txt"))
    for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json",
              "tokenizer_config.json"):
        assert os.path.isfile(os.path.join(out_dir, f)), f


def versions():
    import numpy
    import tokenizers
    import torch
    import transformers
    import safetensors
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
            "safetensors": safetensors.__version__, "numpy": numpy.__version__,
            "torch_threads": torch.get_num_threads()}


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def bucketed_batches(lengths, batch_size, gen, pool_batches=50):
    """Shuffled batches of similar-length examples (less padding): shuffle, cut into pools of
    pool_batches*batch_size, sort each pool by length, cut into batches, shuffle the batches.
    Deterministic given the torch Generator `gen`."""
    import torch
    perm = torch.randperm(len(lengths), generator=gen).tolist()
    pool = batch_size * pool_batches
    batches = []
    for s in range(0, len(perm), pool):
        chunk = sorted(perm[s: s + pool], key=lambda i: lengths[i])
        batches += [chunk[j: j + batch_size] for j in range(0, len(chunk), batch_size)]
    order = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in order]
