#!/usr/bin/env bash
# The test command (README "Tests", and what .ci/run calls): installs the real model the golden
# tests read, runs every test of the workspace in release mode (the MiniLM golden tests run ~750
# forward passes), then the firmware under QEMU with its host parity check (firmware/ci.sh, which
# installs its own toolchain pieces), and closes with the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/fetch-models.sh >/dev/null
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --release "$@" -- --show-output 2>&1 | tee "$log" || status=$?
if [[ $status -eq 0 ]]; then
    bash firmware/ci.sh 2>&1 | tee -a "$log" || status=$?
fi
awk '/^test result:|^parity:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
