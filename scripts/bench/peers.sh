#!/usr/bin/env bash
# Hand-run peer benchmark: all-MiniLM-L6-v2 on ONNX Runtime (fp32, int8-dynamic) and
# optionally PyTorch, single-threaded, batch 1. See scripts/bench/README.md.
#
#   scripts/bench/peers.sh [peer_ort.py args...]     e.g. --seconds 1 --engines ort,torch
#
# 1. installs the model (scripts/fetch-models.sh),
# 2. checks the golden venv (.cache/venv-golden, see scripts/golden/README.md),
# 3. installs onnxruntime/onnx into it if missing (pinned versions below),
# 4. exports the ONNX models into .cache/bench/ if missing (export_onnx.py),
# 5. runs peer_ort.py with the arguments given; JSON lines on stdout, progress on stderr.
#
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on some processors of this project's
# machines (older OpenBLAS builds need them). They are unset for the benchmark command
# only (`env -u`), never globally; leave them alone in tests and CI.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
VENV="$REPO_ROOT/.cache/venv-golden"
PY="$VENV/bin/python"
ONNX_DIR="$REPO_ROOT/.cache/bench"
# versions this benchmark was written and run with (see README.md)
ORT_PINS=(onnxruntime==1.32.0 onnx==1.23.2)
export PIP_ROOT_USER_ACTION=ignore

MODEL_DIR="$(bash "$REPO_ROOT/scripts/fetch-models.sh")"

if [[ ! -x "$PY" ]] || ! "$PY" -c 'import torch, transformers' 2>/dev/null; then
    cat >&2 <<'EOF'
peers.sh: the Python venv .cache/venv-golden (torch + transformers) is missing.
Make it as scripts/golden/README.md says, from the repository root:
    python3 -m venv .cache/venv-golden
    .cache/venv-golden/bin/pip install -r scripts/golden/requirements.txt
then run this script again.
EOF
    exit 1
fi

if ! "$PY" -c 'import onnxruntime, onnx' 2>/dev/null; then
    echo "peers.sh: installing ${ORT_PINS[*]} into .cache/venv-golden" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check "${ORT_PINS[@]}" >&2
fi

if [[ ! -f "$ONNX_DIR/minilm-fp32.onnx" || ! -f "$ONNX_DIR/minilm-int8-dynamic.onnx" ]]; then
    echo "peers.sh: exporting ONNX models into .cache/bench" >&2
    "$PY" "$SCRIPT_DIR/export_onnx.py" --model-dir "$MODEL_DIR" --out-dir "$ONNX_DIR" >&2
fi

cd "$REPO_ROOT"
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    "$PY" "$SCRIPT_DIR/peer_ort.py" --model-dir "$MODEL_DIR" --onnx-dir "$ONNX_DIR" "$@"
