#!/usr/bin/env bash
# The QEMU build cache: nothing changed -> no apt, no build; an edited patch
# -> a rebuild into a new cache entry; a pin the archive no longer serves ->
# a clear stop naming both versions. Counts steps from the setup step log,
# never timings (the elapsed time is printed for information only).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
setup=$top/tools/setup
cache=${QFT_CACHE:-/var/cache/qemu-ft}
tmp=$(mktemp -d /tmp/qft-setup-test.XXXXXX)
extra_dir=""
restore() {
    [ -n "$extra_dir" ] && [ "$extra_dir" != "$orig_dir" ] && rm -rf "$extra_dir"
    # Point the cache's "current" link back at this checkout's series.
    QFT_LOG=$tmp/restore.log "$setup" >/dev/null 2>&1 || echo "warning: restoring the cache link failed" >&2
    rm -rf "$tmp"
}
trap restore EXIT

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }
heavy_steps() { grep -E ' (apt-update|apt-install|apt-install-backports|apt-source|dpkg-source|configure|build)( |$)' "$1" 2>/dev/null | wc -l; }

# 1. Nothing changed.
orig_dir=$("$setup" 2>/dev/null | tail -n1)
[ -x "$orig_dir/bin/qemu-system-x86_64" ] && ok "setup prints the cached QEMU dir" || bad "setup did not produce $orig_dir/bin/qemu-system-x86_64"
start=$(date +%s%N)
out=$(QFT_LOG=$tmp/noop.log "$setup" 2>&1); rc=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))ms
n=$(heavy_steps "$tmp/noop.log")
if [ $rc -eq 0 ] && [ "$n" -eq 0 ] && echo "$out" | grep -q "== QEMU cached"; then
    ok "second run with nothing changed: no apt, no build (took ${elapsed})"
else
    bad "second run did heavy steps (rc=$rc): $(cat "$tmp/noop.log" 2>/dev/null | tr '\n' ';')"
fi
"$setup" --check >/dev/null; rc=$?
[ $rc -eq 0 ] && ok "--check: cache current" || bad "--check says a build is needed ($rc) with nothing changed"

# 2. An edited patch changes the key and forces a rebuild. The rebuild
# leaves the shared work tree on the edited series: put it back afterwards,
# or a series exported from it carries the test's line (it once did).
orig_head=$(git -C "$cache/work/src" rev-parse HEAD 2>/dev/null || true)
mkdir -p "$tmp/patches"
cp "$top"/qemu-patches/*.patch "$tmp/patches/"
first=$(ls "$tmp"/patches/*.patch | head -n1)
[ -n "$first" ] || { bad "no patch in qemu-patches/ to edit"; echo "$passed passed, $failed failed"; exit 1; }
# Edit the commit message only: same code, different patch. (grep reads all of
# git log's output below: with pipefail, grep -q could exit first and git log's
# SIGPIPE fail the pipeline.)
sed -i "0,/^$/s//\nThis line was added by tests\/e2e\/setup-cache.sh ($$).\n/" "$first"
QFT_PATCHES=$tmp/patches "$setup" --check >"$tmp/check.out"; rc=$?
[ $rc -eq 3 ] && ok "--check: an edited patch needs a build" || bad "--check after editing $(basename "$first") exited $rc: $(cat "$tmp/check.out")"
extra_dir=$(QFT_PATCHES=$tmp/patches QFT_LOG=$tmp/rebuild.log "$setup" 2>"$tmp/rebuild.err" | tail -n1); rc=$?
if [ $rc -eq 0 ] && grep -q ' build$' "$tmp/rebuild.log" && [ "$extra_dir" != "$orig_dir" ] &&
   "$extra_dir/bin/qemu-system-x86_64" -version >/dev/null; then
    ok "edited patch: rebuilt into a new cache entry ($(basename "$extra_dir")), binary runs"
else
    bad "edited patch did not rebuild (rc=$rc, dir=$extra_dir): $(tail -n 3 "$tmp/rebuild.err" | tr '\n' ';')"
fi
grep -q "This line was added by tests/e2e/setup-cache.sh" "$extra_dir/series.txt" 2>/dev/null ||
    git -C "$cache/work/src" log -n 50 --format=%B | grep "added by tests/e2e/setup-cache.sh" >/dev/null &&
    ok "the rebuilt tree carries the edited patch" || bad "the rebuilt tree does not carry the edited patch"

if [ -n "$orig_head" ]; then
    git -C "$cache/work/src" reset -q --hard "$orig_head" &&
        ! git -C "$cache/work/src" log -n 50 --format=%B | grep "added by tests/e2e/setup-cache.sh" >/dev/null &&
        ok "the work tree is back on the real series" || bad "could not put the work tree back on $orig_head"
fi

# 3. A pin the archive does not serve stops with both versions named.
sed 's/^version=.*/version=1:10.0.99+ds-0+deb13u1/; s/^dsc_sha256=.*/dsc_sha256=0000/' "$top/qemu-patches/BASE" >"$tmp/BASE"
out=$(QFT_BASE=$tmp/BASE QFT_LOG=$tmp/pin.log "$setup" 2>&1); rc=$?
served=$(sed -n 's/^version=//p' "$top/qemu-patches/BASE")
if [ $rc -ne 0 ] && echo "$out" | grep -qF "10.0.99" && echo "$out" | grep -qF "$served"; then
    ok "stale pin: stops naming both versions"
else
    bad "stale pin: rc=$rc, message: $(echo "$out" | tail -n 2 | tr '\n' ';')"
fi

# 4. A missing BASE line is named.
grep -v '^dsc_sha256=' "$top/qemu-patches/BASE" >"$tmp/BASE2"
out=$(QFT_BASE=$tmp/BASE2 "$setup" --print-key 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "dsc_sha256" && ok "BASE without dsc_sha256: named" || bad "BASE without dsc_sha256: rc=$rc, $out"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
