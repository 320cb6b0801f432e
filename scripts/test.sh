#!/usr/bin/env bash
# The test command (README, CI): installs the real model the golden tests read, then runs every
# test of the workspace in release mode (the MiniLM golden tests run ~750 forward passes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-models.sh >/dev/null
cargo test --workspace --release "$@"
