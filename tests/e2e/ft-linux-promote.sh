#!/usr/bin/env bash
# The Linux guest under protection: kill the primary on host-a, promote the
# standby on host-b, and its kernel and counter service run on: a client
# gets answers from the promoted guest, counting on from the restored state.
#   ft-linux-promote.sh GUEST_DIR COUNTER_CLIENT QFT_QMP [ITERATIONS]
# (Acknowledged values may be lost here: output commit is issue 5. This test
# checks that the promoted guest runs, not that no answer was lost.)
# Negative control: with the standby left unpromoted, the client gets no
# answer after the kill.
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3 iterations=${4:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" jq

qft_init
qft_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
mem=256M
ft_linux_args --mem $mem
count() { qft_in client "$client" --host "$QFT_GUEST_IP" --count "$1" --timeout-ms "${2:-5000}" --json; }

for i in $(seq "$iterations") control; do
    pool=/dev/shm/$QFT_TAG-pool-$i
    ft_primary_start p$i a "$pool" $mem --ready 'qft-guest: ready' 120 "${FT_LINUX_ARGS[@]}"
    ft_standby_start s$i b "$pool" $mem "${FT_LINUX_ARGS[@]}"
    before=$(count 200 | jq -r .last_value)
    sleep "0.$((RANDOM % 5))"
    ft_kill_dead p$i
    if [ "$i" = control ]; then
        if count 1 1500 >/dev/null 2>&1; then
            qft_die "control: an answer came with the primary dead and the standby not promoted"
        fi
        ok "control: no answer after the kill without a promotion"
        kill -9 "$(qft_vm_pid s$i)"
        break
    fi
    out=$(ft_promote_dead s$i) || qft_die "iteration $i: promotion refused: $out"
    after=$(count 100 10000) || qft_die "iteration $i: the promoted guest did not answer 100 requests: $after"
    first=$(echo "$after" | jq -r .first_value)
    [ "$(echo "$after" | jq -r .acknowledged)" = 100 ] || qft_die "iteration $i: $after"
    [ "$first" -ge 1 ] || qft_die "iteration $i: first value $first"
    [ "$(ft_qmp s$i query-status | jq -r .status)" = running ] || qft_die "iteration $i: promoted VM not running"
    ok "iteration $i: promoted epoch $(echo "$out" | jq -r .epoch) in $(( $(echo "$out" | jq -r '."restore-ns"') / 1000 )) us; 200 answered before the kill (last $before), 100 after by the promoted guest ($first..$(echo "$after" | jq -r .last_value))"
    kill -9 "$(qft_vm_pid s$i)"
    rm -f "$pool"
done
echo "$passed passed, 0 failed"
