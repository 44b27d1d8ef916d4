#!/usr/bin/env bash
# The pool has one source of truth in proto/: the layout (ftpool.h) and the
# rules' one implementation (ftpool-core.h, ftpool-core.c.inc). The QEMU
# series carries copies of all three; this test rebuilds each copy from the
# patches that create and change it (git apply, in series order) and
# compares it byte for byte with proto/.
#   ftpool-header-identity.sh PROTO_DIR PATCH_DIR
# Negative control, per file: a copy with one changed line must differ.
set -euo pipefail
proto=$(readlink -f "$1") patches=$(readlink -f "$2")
die() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
# proto file -> its path in the QEMU tree
pairs=("ftpool.h include/migration/ftpool.h"
       "ftpool-core.h include/migration/ftpool-core.h"
       "ftpool-core.c.inc migration/ftpool-core.c.inc")
for pair in "${pairs[@]}"; do
    read -r mine file <<<"$pair"
    [ -s "$proto/$mine" ] || die "proto/$mine is missing or empty"
    mapfile -t touching < <(grep -l "^+++ b/$file\$" "$patches"/*.patch | sort)
    [ "${#touching[@]}" -gt 0 ] || die "no patch in $patches creates $file"
    grep -q "^--- /dev/null" <(grep -A0 -B1 "^+++ b/$file\$" "${touching[0]}") ||
        die "$(basename "${touching[0]}"), the first patch touching $file, does not create it"
    for p in "${touching[@]}"; do
        (cd "$tmp" && git apply --include="$file" "$p") ||
            die "$(basename "$p") does not apply to $file as the patches before it leave it"
    done
    [ -s "$tmp/$file" ] || die "the series' $file is empty"
    cmp "$proto/$mine" "$tmp/$file" ||
        die "proto/$mine and the QEMU series' $file differ: $(diff "$proto/$mine" "$tmp/$file" | head -5)"
    echo "ok - the QEMU series (${#touching[@]} patches) carries proto/$mine as $file byte for byte ($(wc -c <"$proto/$mine") bytes)"
    passed=$((passed + 1))
    # control: one changed line (the first "return" or #define) is told apart
    sed '0,/^\(#define\|    return\) /s//&0 + /' "$proto/$mine" >"$tmp/changed"
    cmp -s "$proto/$mine" "$tmp/changed" && die "control: could not change proto/$mine"
    if cmp -s "$tmp/changed" "$tmp/$file"; then
        die "control: a changed proto/$mine compares equal to the series' copy"
    fi
    echo "ok - control: a proto/$mine with one line changed is told apart"
    passed=$((passed + 1))
done
echo "$passed passed, 0 failed"
