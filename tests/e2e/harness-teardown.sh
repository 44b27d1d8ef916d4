#!/usr/bin/env bash
# The harness leaves nothing behind — no netns, link, tap, mount, process,
# /dev/shm file or run dir — when a test fails on purpose, is killed with
# SIGTERM, or simply ends. Negative control: with QFT_KEEP=1 the same child
# leaves its things behind and the leftover check must see each kind.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
[ "$(id -u)" = 0 ] || qft_skip "needs root (network namespaces, taps)"
[ -x "$QFT_QEMU" ] || qft_skip "no QEMU at $QFT_QEMU (run tools/setup)"
command -v ip >/dev/null || qft_skip "iproute2 (ip) is missing: run tools/setup"

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
bad() { echo "not ok - $*"; failed=$((failed + 1)); }

# The child: builds the whole topology, starts a paused QEMU on host-a with a
# /dev/shm RAM file, then ends the way $1 says.
child() {
    QFT_TAG=$1 QFT_TOP=$top bash -c '
        set -euo pipefail
        source "$QFT_TOP/tests/lib/harness.sh"
        qft_init
        qft_net_up
        qft_vm_start probe a -machine pc,memory-backend=ram -m 64M -accel tcg -S \
            -object memory-backend-file,id=ram,size=64M,mem-path=/dev/shm/$QFT_TAG-ram,share=on \
            $(qft_nic_args)
        echo $$ >"/tmp/ready-$QFT_TAG"
        case "$0" in
            fail) false ;;                        # set -e: fails here
            term) sleep 60 & wait $! ;;           # parent sends SIGTERM
            *) exit 0 ;;
        esac
        echo "unreachable" >&2
    ' "$2"
}

wait_ready() {
    local i
    for i in $(seq 200); do [ -f "/tmp/ready-$1" ] && return 0; sleep 0.1; done
    return 1
}

check_clean() { # TAG DESCRIPTION
    local left
    left=$(qft_leftovers "$1")
    rm -f "/tmp/ready-$1"
    if [ -z "$left" ]; then ok "$2: nothing left behind"; else bad "$2 left: $(echo "$left" | tr '\n' ';')"; fi
}

tag=qftT$$a
child "$tag" fail; rc=$?
[ $rc -ne 0 ] && ok "failing child exits non-zero ($rc)" || bad "failing child exited 0"
check_clean "$tag" "test failing on purpose (set -e)"

tag=qftT$$b
child "$tag" term & cpid=$!
if wait_ready "$tag"; then
    kill -TERM "$(cat "/tmp/ready-$tag")"; wait "$cpid"; rc=$?
    [ $rc -eq 143 ] && ok "SIGTERM'd child exits 143" || bad "SIGTERM'd child exited $rc"
else
    bad "child $tag never got ready"; kill -9 "$cpid" 2>/dev/null
fi
check_clean "$tag" "test killed by SIGTERM"

tag=qftT$$c
child "$tag" ok; rc=$?
[ $rc -eq 0 ] && ok "passing child exits 0" || bad "passing child exited $rc"
check_clean "$tag" "passing test"

# Negative control: QFT_KEEP=1 disables teardown; every kind must be seen.
tag=qftT$$k
QFT_KEEP=1 child "$tag" fail
left=$(qft_leftovers "$tag")
for kind in netns mount process shm rundir; do
    if echo "$left" | grep -q "^$kind "; then ok "control: a kept run shows its $kind"
    else bad "control: leftover check missed a kept $kind"; fi
done
# Links and taps live inside the namespaces; prove they were there.
if ip -n "$tag-host-a" link show tap0 >/dev/null 2>&1; then ok "control: kept run has its tap0 in $tag-host-a"
else bad "control: tap0 missing from kept $tag-host-a"; fi
QFT_TAG=$tag QFT_RUN=$(ls -d /tmp/"$tag".* 2>/dev/null | head -n1) qft_teardown
check_clean "$tag" "control cleaned by qft_teardown"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
