# Sourced by firmware/ci.sh after ci-generate.sh: the C firmware. Builds the C API's staticlib for
# the Cortex-M4F (cargo build -p picoformer-c --target thumbv7em-none-eabihf: the core's DSP
# kernels), compiles capi/examples/mps2 (startup, main) and capi/examples/demo.c with
# arm-none-eabi-gcc and newlib (semihosting output), links them, prints its sizes beside the Rust
# firmware's, runs it under QEMU mps2-an386 and checks its JSON lines against
#   5. host-ref (same options, scalar kernels, as for the Rust firmware) -> the same labels and
#      float32 logits and probabilities, exactly;
#   6. the host tool's classify and generate outputs above -> same labels, |diff| <= SIMD_TOL; the same
#      prompt ids, generated ids, text and stop reason.
# Also builds the staticlib for thumbv8m.main-none-eabihf (Cortex-M33 with DSP), build only.
# Uses (from ci.sh / ci-generate.sh): HERE ROOT OUT V8M_RUSTFLAGS SENT PROMPTS TOL SIMD_TOL QEMU_TIMEOUT SIZE phase die
# apt_install, and host-ref.jsonl, host-tool.jsonl, gen.host-tool.jsonl in $OUT.

phase "C firmware: the C API (libpicoformer_c.a) and capi/examples/mps2 with arm-none-eabi-gcc"
command -v arm-none-eabi-gcc >/dev/null && [ -e /usr/lib/arm-none-eabi/newlib/libc.a ] \
    || apt_install gcc-arm-none-eabi libnewlib-arm-none-eabi
(cd "$ROOT" && cargo build --release -p picoformer-c --target "$FW_TARGET")
# the Cortex-M33 staticlib (RP2350 and other Armv8-M Mainline parts with DSP), build only
(cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/v8m-capi" RUSTFLAGS="$V8M_RUSTFLAGS" \
    cargo build --release -p picoformer-c --target thumbv8m.main-none-eabihf)
ls -l "$ROOT/target/v8m-capi/thumbv8m.main-none-eabihf/release/libpicoformer_c.a"
C_LIB="$ROOT/target/$FW_TARGET/release/libpicoformer_c.a"
C_ELF="$OUT/c-firmware.elf"
C_SRC="$ROOT/capi/examples"
arm-none-eabi-gcc --version | head -n 1
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -std=c11 -O2 \
    -Wall -Wextra -Werror -ffunction-sections -fdata-sections -I"$ROOT/capi/include" \
    -DSENTIMENT_BLOB="\"$ROOT/models/sentiment.pfm\"" -DGPT_BLOB="\"$ROOT/models/tiny-gpt-int8.pfm\"" \
    -DSENTENCES_TXT="\"$SENT\"" -DPROMPTS_TXT="\"$PROMPTS\"" \
    "$C_SRC/mps2/startup.c" "$C_SRC/mps2/main.c" "$C_SRC/demo.c" "$C_SRC/mps2/data.S" \
    -T "$C_SRC/mps2/link.ld" -nostartfiles --specs=rdimon.specs -Wl,--gc-sections -Wl,--no-warn-execstack \
    "$C_LIB" -lm -o "$C_ELF" || die "the C firmware does not build"
C_MODELS=$(( $(stat -c %s "$ROOT/models/sentiment.pfm") + $(stat -c %s "$ROOT/models/tiny-gpt-int8.pfm") ))
echo "-- C firmware (classify and generate in one image, newlib printf): $C_ELF"
"$SIZE" -A "$C_ELF" | awk -v models="$C_MODELS" '
    $1==".vectors"||$1==".text"||$1==".rodata"||$1==".ARM.exidx"||$1==".init_array"||$1==".fini_array"||$1==".data" { flash += $2 }
    $1==".data"||$1==".bss" { ram += $2 } $1==".bss" { bss = $2 }
    END {
        printf "flash: %d B (%.2f MiB), of which the two models %d B: code and tables %d B\n", flash, flash/1048576, models, flash - models
        printf "RAM (static): %d B = .bss %d (one 128 KiB arena for both) + .data; newlib heap and the stack take the rest\n", ram, bss
    }'

phase "C firmware under QEMU mps2-an386"
if ! timeout "$QEMU_TIMEOUT" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -display none -serial none \
        -monitor none -semihosting-config enable=on,target=native -kernel "$C_ELF" </dev/null > "$OUT/c-device.log" 2>&1; then
    cat "$OUT/c-device.log"
    die "the C firmware failed under QEMU"
fi
head -n 1 "$OUT/c-device.log"
grep -q "^C_FIRMWARE DONE$" "$OUT/c-device.log" || { cat "$OUT/c-device.log"; die "the C firmware did not report DONE"; }
grep '^{"label"' "$OUT/c-device.log" > "$OUT/c-classify.jsonl"
grep '^{"prompt_ids"' "$OUT/c-device.log" > "$OUT/c-generate.jsonl"

phase "C firmware parity: classify vs host-ref (exact), vs the host tool (tol $SIMD_TOL); generate vs the host tool"
python3 "$ROOT/capi/compare.py" classify "$OUT/c-classify.jsonl" "$OUT/host-ref.jsonl" \
    || die "C firmware classify differs from host-ref"
python3 "$ROOT/capi/compare.py" classify "$OUT/c-classify.jsonl" "$OUT/host-tool.jsonl" --tol "$SIMD_TOL" \
    || die "C firmware classify differs from the host tool"
python3 "$ROOT/capi/compare.py" generate "$OUT/c-generate.jsonl" "$OUT/gen.host-tool.jsonl" \
    || die "C firmware generate differs from the host tool"
