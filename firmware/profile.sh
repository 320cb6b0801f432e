#!/usr/bin/env bash
# Where the guest instructions of a classification go, per function (QEMU mps2-an386, Cortex-M4):
# runs the `bench` firmware bin (boards/qemu-mps2; classifications of 16, 32 and 64 tokens, each
# between two `icount_mark` calls) under the project's QEMU plugin with `profile=on`, which counts
# the instructions of every translated block executed inside the marked calls; the blocks are then
# attributed to the function symbol that contains them and summed.
#
#   bash firmware/profile.sh [--nodsp] [--top N]
#     --nodsp   build with PICOFORMER_NO_DSP=1 (generic scalar kernels only)
#     --top N   functions listed (default 25)
#
# Hand-run (needs what firmware/ci.sh installs: the thumbv7em target, flip-link, defmt-print,
# qemu-system-arm, gcc, llvm-nm or rust-nm). Functions are as the release + LTO build has them:
# small kernels inlined into their callers count as the caller.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/icount.sh"   # icount_plugin, icount_mark_addr, qemu_icount
T=thumbv7em-none-eabihf
label=dsp
envs=()
top=25
while [[ $# -gt 0 ]]; do
    case $1 in
        --nodsp) label=nodsp; envs=(PICOFORMER_NO_DSP=1); shift ;;
        --top) top=$2; shift 2 ;;
        *) echo "usage: profile.sh [--nodsp] [--top N]" >&2; exit 2 ;;
    esac
done

WORK="$HERE/target/profile"
TDIR="$WORK/$label"
icount_plugin "$WORK"
(cd "$HERE/boards/qemu-mps2" && env "${envs[@]}" CARGO_TARGET_DIR="$TDIR" cargo build -q --release --bin bench)
elf="$TDIR/$T/release/bench"
mark=$(icount_mark_addr "$elf")
plog="$WORK/$label.log"
timeout "${QEMU_TIMEOUT:-600}" qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -display none \
    -serial none -monitor none -semihosting-config enable=on,target=native -kernel "$elf" \
    -plugin "$ICOUNT_SO,mark=$mark,profile=on" -d plugin -D "$plog" </dev/null \
    | defmt-print -e "$elf" > "$WORK/$label.device.log"
grep -q "BENCH DONE" "$WORK/$label.device.log" || { cat "$WORK/$label.device.log"; echo "bench failed" >&2; exit 1; }

nm=$(command -v llvm-nm || command -v rust-nm || command -v arm-none-eabi-nm)
"$nm" -n -C --defined-only "$elf" | awk '$2 ~ /^[tTwW]$/' > "$WORK/$label.syms"
python3 - "$WORK/$label.syms" "$plog" "$top" "$label" <<'PY'
import bisect, re, sys
syms_path, log_path, top, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
addrs, names = [], []
for line in open(syms_path):
    parts = line.rstrip("\n").split(" ", 2)
    if len(parts) < 3:
        continue
    addrs.append(int(parts[0], 16) & ~1)
    names.append(parts[2])
order = sorted(range(len(addrs)), key=lambda i: addrs[i])
addrs = [addrs[i] for i in order]
names = [names[i] for i in order]
per = {}
total = 0
for line in open(log_path):
    m = re.match(r"block 0x([0-9a-f]+): (\d+) insns", line)
    if not m:
        continue
    pc, n = int(m.group(1), 16) & ~1, int(m.group(2))
    i = bisect.bisect_right(addrs, pc) - 1
    name = names[i] if i >= 0 else "?"
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    per[name] = per.get(name, 0) + n
    total += n
print(f"guest instructions inside the marked calls ({label} build): {total}")
print()
print("| function | insns | share |")
print("|---|---:|---:|")
for name, n in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
    print(f"| `{name}` | {n} | {100 * n / total:.1f}% |")
PY
