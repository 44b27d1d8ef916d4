#!/usr/bin/env bash
# The QEMU series' own qtest (tests/qtest/ft-test.c in the series, built and
# cached by tools/setup): QEMU's ft code tested from inside the QEMU tree, as
# QEMU's migration code is. It runs the cached QEMU through a wrapper that
# adds the firmware directory (-L), named qemu-system-x86_64 so that
# libqtest finds the target from the binary's name. TAP output.
#   qemu-qtest-ft.sh   (QFT_QEMU_DIR: the cache entry, as tools/test sets it)
set -euo pipefail
dir=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
qemu=${QFT_QEMU:-$dir/bin/qemu-system-x86_64}
qtest=$dir/bin/ft-test
for f in "$qemu" "$qtest"; do
    [ -x "$f" ] || { echo "SKIP: $f is missing: run tools/setup" >&2; exit 77; }
done
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
printf '#!/bin/sh\nexec %q -L %q "$@"\n' "$qemu" "${QFT_FIRMWARE:-$dir/firmware}" >"$wrap/qemu-system-x86_64"
chmod +x "$wrap/qemu-system-x86_64"
cd "$wrap"
QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64 "$qtest" --tap -k
