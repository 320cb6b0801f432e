#!/usr/bin/env python3
"""Lists the panic calls left in a panic-check binary built with `--cfg panic_check_locate` and line
tables, each with the innermost frame in the picoformer sources (inlined frames included), or the
out-of-line function that holds it. Usage: locate.py BINARY (any target: llvm-objdump and
llvm-addr2line where installed, else binutils' objdump and addr2line for the host)."""
import collections
import re
import shutil
import subprocess
import sys

OBJDUMP = shutil.which("llvm-objdump") or "objdump"
ADDR2LINE = shutil.which("llvm-addr2line") or "addr2line"

PANICS = re.compile(r"<(core::panicking::|core::slice::index::|core::option::(unwrap|expect)_failed|"
                    r"core::result::unwrap_failed|core::str::slice_error_fail|core::slice::copy_from_slice_impl|"
                    r"core::cell::panic_)")


def main(binary):
    asm = subprocess.run([OBJDUMP, "-d", "--no-show-raw-insn", "-C", binary],
                         capture_output=True, text=True, check=True).stdout
    calls, function = [], "?"
    for line in asm.splitlines():
        head = re.match(r"^0*[0-9a-f]+ <(.*)>:$", line)
        if head:
            function = head.group(1)
        elif re.search(r"\s(call|jmp|bl|blx|b)(\.w|\w*)\s", line) and PANICS.search(line) and not PANICS.match("<" + function):
            calls.append((line.split(":")[0].strip(), function))
    where = collections.Counter()
    for addr, function in calls:
        out = subprocess.run([ADDR2LINE, "-i", "-e", binary, "0x" + addr],
                             capture_output=True, text=True).stdout.split()
        ours = [f for f in out if "/src/" in f and "/rustc/" not in f and "panic-check" not in f]
        where[ours[0].split("/src/", 1)[1] if ours else f"({function})"] += 1
    for place, n in sorted(where.items()):
        print(f"{n:3} src/{place}" if not place.startswith("(") else f"{n:3} {place}")
    print(f"{sum(where.values())} panic call sites")


main(sys.argv[1])
