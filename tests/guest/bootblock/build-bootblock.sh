#!/bin/sh
# build-bootblock.sh SOURCE.S OUTPUT.img: assemble the boot sector and pad
# it to a 64 KiB raw disk image (sector 0 is the boot sector).
set -eu
src=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -m32 -c -nostdlib -I"$(dirname "$src")" -o "$tmp/bootblock.o" "$src"
ld -m elf_i386 -Ttext=0x7c00 -e start --oformat=binary -o "$tmp/bootblock.bin" "$tmp/bootblock.o"
size=$(stat -c %s "$tmp/bootblock.bin")
[ "$size" = 2048 ] || { echo "build-bootblock.sh: image is $size bytes, not 2048" >&2; exit 1; }
cp "$tmp/bootblock.bin" "$out.tmp"
truncate -s 64K "$out.tmp"
mv "$out.tmp" "$out"
