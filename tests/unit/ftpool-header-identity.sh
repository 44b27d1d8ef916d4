#!/usr/bin/env bash
# The pool layout has one source of truth: proto/ftpool.h. The QEMU series
# carries a copy as include/migration/ftpool.h; this test rebuilds that copy
# from the patch that creates it and compares the two byte for byte.
#   ftpool-header-identity.sh PROTO_HEADER PATCH_DIR
# Negative control: a copy of the header with one changed byte must differ.
set -euo pipefail
header=$1 patches=$2
die() { echo "FAIL: $*" >&2; exit 1; }

# The new-file hunk of include/migration/ftpool.h, '+' stripped.
extract() {
    awk '
        /^diff --git / { inside = ($3 == "a/include/migration/ftpool.h") ; hunk = 0; next }
        inside && /^@@ / { hunk = 1; next }
        inside && hunk && /^\+/ { print substr($0, 2); next }
        inside && hunk && /^-- $/ { inside = 0 }
    ' "$@"
}
n=$(grep -l '^+++ b/include/migration/ftpool.h' "$patches"/*.patch | wc -l)
[ "$n" = 1 ] || die "$n patches in $patches create include/migration/ftpool.h, expected 1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
extract "$(grep -l '^+++ b/include/migration/ftpool.h' "$patches"/*.patch)" >"$tmp/copy.h"
[ -s "$tmp/copy.h" ] || die "the patch's include/migration/ftpool.h is empty"
cmp "$header" "$tmp/copy.h" || die "proto/ftpool.h and the QEMU series' include/migration/ftpool.h differ: $(diff "$header" "$tmp/copy.h" | head -5)"
echo "ok - the QEMU series carries proto/ftpool.h byte for byte ($(wc -c <"$header") bytes)"

sed '0,/FTPOOL_VERSION  *1/s//FTPOOL_VERSION          2/' "$header" >"$tmp/changed.h"
cmp -s "$header" "$tmp/changed.h" && die "control: could not change the header"
if cmp -s "$tmp/changed.h" "$tmp/copy.h"; then
    die "control: a changed header compares equal"
fi
echo "ok - control: a header with FTPOOL_VERSION changed is told apart"
echo "2 passed, 0 failed"
