#!/usr/bin/env bash
# QEMU's migration-test, built from the patched tree and cached by
# tools/setup, on the cached QEMU: with "ft" only the series' tests
# (tests/qtest/migration/ft-tests.c: kill at each fault point, promote,
# epoch and memory pattern; fencing; a corrupt slot refused), with "all"
# every test QEMU's own migration-test runs by default, which must still
# pass on the patched tree. TAP output.
#   qemu-migration-test.sh ft|all   (QFT_QEMU_DIR: the cache entry)
#
# The wrapper QEMU adds the firmware directory (-L) and drops
# migration-test's "-accel kvm": guests run under TCG here, as every
# qemu-ft test does (docs/design.md, KVM note); the code paths tested are
# the same.
set -euo pipefail
which=${1:?usage: qemu-migration-test.sh ft|all}
dir=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
qemu=${QFT_QEMU:-$dir/bin/qemu-system-x86_64}
test=$dir/bin/migration-test
for f in "$qemu" "$test"; do
    [ -x "$f" ] || { echo "SKIP: $f is missing: run tools/setup" >&2; exit 77; }
done
case $which in
    ft) sel=(-r /x86_64/migration/ft) ;;
    all) sel=() ;;
    *) echo "usage: qemu-migration-test.sh ft|all" >&2; exit 2 ;;
esac
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
cat >"$wrap/qemu-system-x86_64" <<WRAP
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
    if [ "\$1" = -accel ] && [[ \${2:-} == kvm* ]]; then shift 2; continue; fi
    args+=("\$1"); shift
done
exec $(printf %q "$qemu") -L $(printf %q "${QFT_FIRMWARE:-$dir/firmware}") "\${args[@]}"
WRAP
chmod +x "$wrap/qemu-system-x86_64"
cd "$wrap"
QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64 "$test" --tap -k "${sel[@]}"
