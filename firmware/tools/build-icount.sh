#!/usr/bin/env bash
# Builds firmware/tools/icount.c (the project's QEMU instruction-count plugin) for the installed
# qemu-system-arm and prints the path of the shared object.
#
#   bash firmware/tools/build-icount.sh OUT_DIR      # -> OUT_DIR/libicount.so
#
# QEMU refuses a plugin whose exported API version is outside [its minimum, its current]; the
# range moved over the years (QEMU 7.2 takes 0..1, QEMU 9 and later 2..4 or more) and distribution
# packages install no plugin header to read it from. So the plugin is built for each candidate
# version in turn and loaded by the installed QEMU with `probe=on` (the plugin then prints the
# range QEMU reports and exits QEMU at once); the first version QEMU accepts is kept.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC="$HERE/icount.c"
OUT=${1:?usage: build-icount.sh OUT_DIR}
QEMU=${QEMU:-qemu-system-arm}

command -v "$QEMU" >/dev/null || { echo "build-icount: $QEMU not found" >&2; exit 1; }
command -v gcc >/dev/null || { echo "build-icount: gcc not found (needed to build $SRC)" >&2; exit 1; }
mkdir -p "$OUT"
so="$OUT/libicount.so"
tried=""
for api in 1 2 3 4 5 6; do
    gcc -std=c11 -Wall -Wextra -Werror -shared -fPIC -O2 -DPF_PLUGIN_API=$api -o "$so.tmp" "$SRC"
    if answer=$(timeout 20 "$QEMU" -machine none -display none -monitor none -serial none \
            -plugin "$so.tmp,probe=on" 2>&1) && [[ $answer == *"icount: plugin API"* ]]; then
        mv "$so.tmp" "$so"
        echo "build-icount: $("$QEMU" --version | head -1); ${answer##*icount: }; built for API $api" >&2
        echo "$so"
        exit 0
    fi
    tried+=" $api"
done
rm -f "$so.tmp"
echo "build-icount: $QEMU accepted none of the plugin API versions$tried; its last answer: $answer" >&2
exit 1
