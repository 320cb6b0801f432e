#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (libFuzzer; needs the nightly toolchain and cargo-fuzz,
# which this script installs from crates.io when missing) for SECONDS each (default 60), starting
# from the committed seeds in fuzz/seeds/<target> (the growing corpus goes to fuzz/corpus/, not
# committed). Prints one line per target: runs, executions, coverage, crashes. A crash stops the
# script with the fuzzer's report and the input under fuzz/artifacts/<target>/.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(blob wordpiece bpe detokenize sampler generate)
rustup toolchain list | grep -q '^nightly' || { echo "fuzz.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2; exit 1; }
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
cargo +nightly fuzz build -O
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    log=$(mktemp)
    if ! cargo +nightly fuzz run -O "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz.sh: $t failed (input under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
    echo "$t: ${seconds} s, ${runs} executions, coverage ${cov} edges, no crash"
    rm -f "$log"
done
