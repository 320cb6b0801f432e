#!/usr/bin/env bash
# Proves the inference path panic-free: builds the panic-check binary (src/main.rs: parse, check,
# tokenize, forward, classify / embed / fill-mask, generation steps, with a panic handler that
# calls an undefined symbol) for the Cortex-M4F with its DSP kernels and for x86_64 with the
# baseline, AVX2 and AVX-512 kernels. Any panic left in the path keeps that call and fails the
# link (`undefined symbol: picoformer_inference_path_can_panic`); the script then rebuilds with a
# plain handler and lists the remaining panic calls with their source lines (locate.py).
#   bash panic-check/check.sh
set -euo pipefail
cd "$(dirname "$0")"
host=$(rustc -vV | sed -n 's/^host: //p')
command -v rustup >/dev/null && rustup target add thumbv7em-none-eabihf >/dev/null 2>&1
avx2="+avx2,+fma,+f16c"
configs=("thumbv7em-none-eabihf cortex-m4f-dsp -")
if [[ $host == x86_64-unknown-linux-gnu ]]; then
    configs+=("$host x86_64 -" "$host x86_64-avx2 $avx2" "$host x86_64-avx512 $avx2,+avx512f,+avx512bw,+avx512vl,+avx512vnni")
fi
failed=0
for c in "${configs[@]}"; do
    read -r target name features <<<"$c"
    flags=""
    [[ $features == - ]] || flags="-C target-feature=$features"
    dir="target/$name"
    mkdir -p target
    if RUSTFLAGS="$flags" cargo build --quiet --release --target "$target" --target-dir "$dir" 2>"$dir.log"; then
        echo "panic-check $name ($target): links, no panic path"
        continue
    fi
    failed=1
    grep -E "^error|undefined symbol" "$dir.log" | head -n 5 >&2
    echo "panic-check $name ($target): FAILED; the panic calls left:" >&2
    RUSTFLAGS="$flags --cfg panic_check_locate" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
        cargo build --quiet --release --target "$target" --target-dir "$dir-locate" >&2 &&
        python3 locate.py "$dir-locate/$target/release/panic-check" >&2 || true
done
exit $failed
