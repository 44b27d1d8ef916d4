#!/usr/bin/env bash
# The series' qtests and QEMU's migration-test, built from the patched tree
# and cached by tools/setup, run on the cached QEMU as QEMU's own test
# harness would run them. TAP output.
#
#   qemu-qtest.sh ft-test      tests/qtest/ft-test.c: refusals, retirement,
#                              the output trigger, the disk journal
#   qemu-qtest.sh migration    QEMU's migration-test, every test it runs by
#                              default; the series' tests/qtest/migration/
#                              ft-tests.c among them
#   qemu-qtest.sh migration-ft only the series' tests of migration-test
#   (QFT_QEMU_DIR: the cache entry, as tools/test sets it)
#
# libqtest finds the target from the binary's name, so the QEMU is a
# wrapper named qemu-system-x86_64. It adds the firmware directory (-L) and
# drops migration-test's "-accel kvm": guests run under TCG here, as every
# qemu-ft test does (docs/design.md, "What KVM changes"); the code paths
# tested are the same.
set -euo pipefail
mode=${1:?usage: qemu-qtest.sh ft-test|migration|migration-ft}
dir=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
qemu=${QFT_QEMU:-$dir/bin/qemu-system-x86_64}
case $mode in
    ft-test) test=$dir/bin/ft-test sel=() ;;
    migration) test=$dir/bin/migration-test sel=() ;;
    migration-ft) test=$dir/bin/migration-test sel=(-r /x86_64/migration/ft) ;;
    *) echo "usage: qemu-qtest.sh ft-test|migration|migration-ft" >&2; exit 2 ;;
esac
for f in "$qemu" "$test"; do
    [ -x "$f" ] || { echo "SKIP: $f is missing: run tools/setup" >&2; exit 77; }
done
wrap=$(mktemp -d)
trap 'rm -rf "$wrap"' EXIT
cat >"$wrap/qemu-system-x86_64" <<WRAP
#!/usr/bin/env bash
args=()
while [ \$# -gt 0 ]; do
    if [ "\$1" = -accel ] && [[ \${2:-} == kvm* ]]; then shift 2; continue; fi
    args+=("\$1"); shift
done
# QEMU's stdout (what qemu-io prints through HMP) is not TAP: to stderr
exec $(printf %q "$qemu") -L $(printf %q "${QFT_FIRMWARE:-$dir/firmware}") "\${args[@]}" >&2
WRAP
chmod +x "$wrap/qemu-system-x86_64"
cd "$wrap"
QTEST_QEMU_BINARY=$wrap/qemu-system-x86_64 "$test" --tap -k "${sel[@]}"
