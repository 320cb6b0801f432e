#!/usr/bin/env bash
# Builds the bundled tiny GPT and its evaluation record from the trained checkpoint.
# Hand-run after scripts/tiny-gpt/train.py (see scripts/tiny-gpt/README.md); outputs are committed:
#   models/tiny-gpt/                  the f32 Hugging Face checkpoint (copied from .cache/tiny-gpt/model)
#   models/tiny-gpt-int8.pfm          the bundled text-completion model (int8 weights)
#   data/tiny-gpt/heldout-moby.txt    Moby Dick chapters 131-135 (held out from training)
#   scripts/tiny-gpt/results/eval.json  held-out perplexity of the f32 and int8 blobs, blob sizes,
#                                     greedy and sampled completions of the bundled blob
# Usage: bash scripts/tiny-gpt/build_model.sh bundle|eval
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.cache/venv-golden/bin/python}
cache=.cache/tiny-gpt

case "${1:-}" in
bundle)
    rm -rf models/tiny-gpt
    mkdir -p models/tiny-gpt data/tiny-gpt
    for f in config.json generation_config.json model.safetensors tokenizer.json tokenizer_config.json; do
        cp "$cache/model/$f" models/tiny-gpt/
    done
    (cd scripts/tiny-gpt && "$OLDPWD/$py" -c 'import corpus, sys; sys.stdout.write(corpus.split()[2])') \
        > data/tiny-gpt/heldout-moby.txt
    # The tool compiles the bundled model in: build it first against the previous blob.
    cargo build --release -q -p picoformer-tool
    target/release/picoformer quantize models/tiny-gpt --dtype int8 -o models/tiny-gpt-int8.pfm | tail -n 8
    cargo build --release -q -p picoformer-tool
    ;;
eval)
    bin=target/release/picoformer
    mkdir -p "$cache"
    "$bin" quantize models/tiny-gpt --dtype f32 -o "$cache/tiny-gpt-f32.pfm" >/dev/null
    out=scripts/tiny-gpt/results/eval.json
    tmp=$(mktemp)
    {
        echo '{"heldout": "data/tiny-gpt/heldout-moby.txt", "window": 256, "perplexity": ['
        sep=""
        for row in "f32:$cache/tiny-gpt-f32.pfm:f32" "int8:models/tiny-gpt-int8.pfm:f32" "int8:models/tiny-gpt-int8.pfm:int8"; do
            IFS=: read -r w blob kv <<< "$row"
            printf '%s{"weights": "%s", "kv": "%s", "blob_bytes": %d, "eval": %s}\n' "$sep" "$w" "$kv" \
                "$(stat -c %s "$blob")" "$("$bin" eval -m "$blob" --perplexity data/tiny-gpt/heldout-moby.txt --kv "$kv" --json)"
            sep=","
        done
        echo '], "generate": ['
        "$bin" generate --prompt "Call me" --max-tokens 64 --json
        echo ','
        "$bin" generate --prompt "Call me" --max-tokens 64 --temperature 0.8 --top-p 0.95 --seed 1 --json
        echo ','
        "$bin" generate --prompt "The state of the Union" --max-tokens 64 --temperature 0.8 --top-p 0.95 --seed 1 --json
        echo ']}'
    } > "$tmp"
    "$py" -c 'import json,sys; json.dump(json.load(open(sys.argv[1])), open(sys.argv[2], "w"), indent=1, ensure_ascii=False)' "$tmp" "$out"
    rm -f "$tmp"
    cat "$out"
    ;;
*)
    echo "usage: $0 bundle|eval" >&2
    exit 2
    ;;
esac
