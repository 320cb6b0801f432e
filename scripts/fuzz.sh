#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (libFuzzer), starting from the committed seeds in
# fuzz/seeds/<target> (the growing corpus goes to fuzz/corpus/<target>, not committed). Prints one
# line per target: time, executions, coverage. A crash stops the script with the fuzzer's report;
# the input is left under fuzz/artifacts/<target>/.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60) under
#                                                AddressSanitizer
#   bash scripts/fuzz.sh smoke                   the same, 60 s each (the test command's step)
#   bash scripts/fuzz.sh long [SECONDS] [TARGET...]
#                                                each target until 10,000,000 executions or
#                                                SECONDS (default 1800), whichever comes first,
#                                                without a sanitizer (several times the speed;
#                                                separate build, FUZZ_TARGET_DIR to move it)
#
# cargo-fuzz needs a nightly compiler for its -Z flags. The pinned stable toolchain is used with
# RUSTC_BOOTSTRAP=1 (which unlocks those flags), so no second toolchain has to be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=smoke seconds=60 runs=-1 sanitizer=address target_dir=fuzz/target
if [[ ${1:-} == long ]]; then
    mode=long seconds=1800 runs=10000000 sanitizer=none target_dir=${FUZZ_TARGET_DIR:-fuzz/target-long}
    shift
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
        seconds=$1
        shift
    fi
elif [[ ${1:-} == smoke ]]; then
    shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
all=(blob wordpiece vader bpe detokenize sampler generate safetensors gguf hf_config tokenizer_json)
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")

export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
cargo fuzz build -O -s "$sanitizer" --target-dir "$target_dir"
bin_dir="$target_dir/$(rustc -vV | sed -n 's/^host: //p')/release"
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    log=$(mktemp)
    # -rss_limit_mb: the targets allocate at most a few MB per input; -timeout: a slow input is a hang
    if ! "$bin_dir/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -artifact_prefix="fuzz/artifacts/$t/" \
        -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz.sh: $t failed (input under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
    echo "$t ($mode, sanitizer $sanitizer): ${took} s, ${execs} executions, coverage ${cov} edges, no crash"
    rm -f "$log"
done
