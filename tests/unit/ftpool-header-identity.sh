#!/usr/bin/env bash
# The pool layout has one source of truth: proto/ftpool.h. The QEMU series
# carries a copy as include/migration/ftpool.h; this test rebuilds that copy
# from the patches that create and change it (git apply, in series order)
# and compares the two byte for byte.
#   ftpool-header-identity.sh PROTO_HEADER PATCH_DIR
# Negative control: a copy of the header with one changed byte must differ.
set -euo pipefail
header=$(readlink -f "$1") patches=$(readlink -f "$2")
die() { echo "FAIL: $*" >&2; exit 1; }
file=include/migration/ftpool.h
mapfile -t touching < <(grep -l "^+++ b/$file\$" "$patches"/*.patch | sort)
[ "${#touching[@]}" -gt 0 ] || die "no patch in $patches creates $file"
grep -q "^--- /dev/null" <(grep -A0 -B1 "^+++ b/$file\$" "${touching[0]}") ||
    die "$(basename "${touching[0]}"), the first patch touching $file, does not create it"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in "${touching[@]}"; do
    (cd "$tmp" && git apply --include="$file" "$p") ||
        die "$(basename "$p") does not apply to $file as the patches before it leave it"
done
cp "$tmp/$file" "$tmp/copy.h"
[ -s "$tmp/copy.h" ] || die "the series' $file is empty"
cmp "$header" "$tmp/copy.h" || die "proto/ftpool.h and the QEMU series' $file differ: $(diff "$header" "$tmp/copy.h" | head -5)"
echo "ok - the QEMU series (${#touching[@]} patches) carries proto/ftpool.h byte for byte ($(wc -c <"$header") bytes)"
version=$(sed -n 's/^#define FTPOOL_VERSION  *\([0-9]*\).*/\1/p' "$header")
sed "s/^\(#define FTPOOL_VERSION  *\)$version/\1$((version + 1))/" "$header" >"$tmp/changed.h"
cmp -s "$header" "$tmp/changed.h" && die "control: could not change the header"
if cmp -s "$tmp/changed.h" "$tmp/copy.h"; then
    die "control: a changed header compares equal"
fi
echo "ok - control: a header with FTPOOL_VERSION changed is told apart"
echo "2 passed, 0 failed"
