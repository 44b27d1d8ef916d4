#!/usr/bin/env bash
# The series' unit test of the pool rules' core inside the QEMU tree
# (tests/unit/test-ftpool-core.c, built against migration/ftpool-core.c and
# cached by tools/setup): QEMU's own copy of the core, tested where QEMU's
# migration code is. TAP output.
#   qemu-unit-ftpool-core.sh   (QFT_QEMU_DIR: the cache entry, as tools/test sets it)
set -euo pipefail
dir=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
bin=$dir/bin/test-ftpool-core
[ -x "$bin" ] || { echo "SKIP: $bin is missing: run tools/setup" >&2; exit 77; }
exec "$bin" --tap -k
