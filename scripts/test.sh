#!/usr/bin/env bash
# The test command (README "Tests", and what .ci/run calls). Seven steps, each run even when an
# earlier one failed:
#   models    scripts/fetch-models.sh all: installs the real models and tokenizer files the tests
#             read (.cache/)
#   cargo     every test of the workspace in release mode (the MiniLM golden tests run ~750 forward
#             passes), their figures printed (--show-output)
#   capi      capi/check.sh: the C API's header is current, the C example builds with the host C
#             compiler (-Wall -Wextra -Werror) and gives the host tool's outputs on the bundled models
#   aarch64   scripts/test-aarch64.sh: the core's kernel and unit tests built for
#             aarch64-unknown-linux-gnu and run under qemu-aarch64 (user mode), the NEON kernels
#             against the generic ones (PICOFORMER_REQUIRE_SIMD=neon), and the no_std core built for
#             aarch64 (installs its own cross toolchain and QEMU)
#   firmware  firmware/ci.sh: the Cortex-M4 firmware under QEMU, checked against the host (installs
#             its own toolchain pieces)
#   no-panic  panic-check/check.sh: the inference path linked with a panic handler that cannot link,
#             for the Cortex-M4F and x86_64 (baseline, AVX2, AVX-512 kernels)
#   fuzz      scripts/fuzz.sh smoke: every cargo-fuzz target for 60 s under AddressSanitizer, from
#             the committed seeds (installs cargo-fuzz)
# The closing line `tests: N passed, M failed` adds up the `test result:` and `parity:` lines of the
# log, and counts a step that exits non-zero without reporting a failed test as one failure more:
# the exit status is non-zero exactly when M >= 1.
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
T0=$SECONDS
step_failures=0
failed_steps=()

# count_failed FILE: the failed tests that FILE's result lines report.
count_failed() {
    awk '/^test result:|^parity:/ { for (i = 1; i < NF; i++) if ($(i+1) ~ /^failed/) f += $i }
         END { print f + 0 }' "$1"
}

# step NAME COMMAND...: runs COMMAND, its output both shown and kept in the log.
step() {
    local name=$1 status
    shift
    local out
    out=$(mktemp)
    printf '\n==== %s (t=%ds): %s\n' "$name" $((SECONDS - T0)) "$*"
    "$@" 2>&1 | tee "$out"
    status=${PIPESTATUS[0]}
    cat "$out" >> "$log"
    if [[ $status -ne 0 ]]; then
        failed_steps+=("$name (exit $status)")
        if [[ $(count_failed "$out") -eq 0 ]]; then
            step_failures=$((step_failures + 1))
        fi
    fi
    rm -f "$out"
}

step models bash scripts/fetch-models.sh all
step cargo cargo test --workspace --release --no-fail-fast "$@" -- --show-output
step capi bash capi/check.sh
step aarch64 bash scripts/test-aarch64.sh
step firmware bash firmware/ci.sh
step no-panic bash panic-check/check.sh
step fuzz bash scripts/fuzz.sh smoke

printf '\n==== done in %ds\n' $((SECONDS - T0))
[[ ${#failed_steps[@]} -eq 0 ]] || printf 'failed steps: %s\n' "${failed_steps[*]}"
awk -v extra="$step_failures" '
    /^test result:|^parity:/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
    END { printf "tests: %d passed, %d failed\n", p, f + extra }' "$log"
[[ ${#failed_steps[@]} -eq 0 ]]
