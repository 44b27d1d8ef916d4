#!/usr/bin/env bash
# Benchmark: what output commit costs a request, and the failover gap a
# client sees with and without RX replay (not a test: no assertion). Side by
# side in one run.
#   bench/output-commit.sh [BUILD_DIR] [RUNS]     (default: build, 5)
# For the Linux guest with filter-ft: a closed-loop client (one connection)
# for 4 s unprotected and at 10, 20 and 50 ms timer-only epochs -> requests/s
# and mean latency (output-triggered checkpoints: bench/output-trigger.sh). Then RUNS failovers under load at 20 ms epochs with filter-ft
# queue=all (frames after the checkpoint logged and replayed on promotion)
# and as many with queue=rx (output commit only), interleaved -> the longest
# gap between two answers, which spans the kill: kill to next answer.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
runs=${2:-5}
# shellcheck source=lib.sh
source "$top/bench/lib.sh"
bench_linux_setup "$build"
mem=256M
# kill -9 a VM and wait until it is gone (its tap is free again)
gone() { ft_kill_dead "$1"; }
# The client ends at its deadline with its count unreached (exit 1): normal here.
rate() { { qft_in client "$client" --host "$QFT_GUEST_IP" --count 100000000 --deadline-ms 4000 --json 2>/dev/null || true; } | jq -r .acknowledged; }

echo "### Output commit: request cost (one closed-loop connection, 4 s)"
echo
echo "| protection | requests/s | mean latency (ms) | vs unprotected |"
echo "|---|---|---|---|"
ft_linux_args --mem $mem --filter all --ram
qft_vm_start u a "${FT_LINUX_ARGS[@]}"
qft_wait_serial u 'qft-guest: ready' 120 >/dev/null
base=$(rate)
echo "| none | $((base / 4)) | $(awk "BEGIN {printf \"%.2f\", 4000 / $base}") | 1.00 |"
gone u
for ms in 10 20 50; do
    pool=/dev/shm/$QFT_TAG-$ms.pool
    ft_linux_args --mem $mem --filter all
    ft_primary_start p$ms a "$pool" $mem --ready 'qft-guest: ready' 120 \
        --ft "\"epoch-ms\": $ms, \"trigger\": \"timer\"" "${FT_LINUX_ARGS[@]}" >/dev/null
    n=$(rate)
    echo "| $ms ms epochs | $((n / 4)) | $(awk "BEGIN {printf \"%.2f\", 4000 / $n}") | $(awk "BEGIN {printf \"%.3f\", $n / $base}") |"
    gone p$ms
    rm -f "$pool"
done

# failover Q I -> "GAP_MS REPLAYED"
failover() {
    local q=$1 i=$2 pool=/dev/shm/$QFT_TAG-fo-$1-$2.pool c
    ft_linux_args --mem $mem --filter "$q"
    ft_primary_start p$q$i a "$pool" $mem --ready 'qft-guest: ready' 120 "${FT_LINUX_ARGS[@]}" >/dev/null
    ft_standby_start s$q$i b "$pool" $mem "${FT_LINUX_ARGS[@]}" >/dev/null
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 100000000 --deadline-ms 5000 \
        --timeout-ms 3000 --reconnect --json >"$QFT_RUN/fo-$q$i.json" 2>/dev/null &
    c=$!
    sleep "1.$((RANDOM % 10))"
    gone p$q$i
    ft_qmp s$q$i ft-promote >"$QFT_RUN/promote-$q$i.json"
    wait $c || true
    echo "$(jq -r .max_gap_ms "$QFT_RUN/fo-$q$i.json") $(jq -r '."rx-replayed"' "$QFT_RUN/promote-$q$i.json")"
    gone s$q$i
    rm -f "$pool"
}
declare -A gaps replayed
for i in $(seq "$runs"); do
    for q in all rx; do
        read -r g r < <(failover $q "$i")
        gaps[$q]+="$g "; replayed[$q]+="$r "
    done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
mall=$(echo "${gaps[all]}" | median); mrx=$(echo "${gaps[rx]}" | median)
echo
echo "### Failover under load: kill -> promote at once -> next answer (20 ms epochs, $runs runs each, interleaved)"
echo
echo "| filter-ft | RX replay | longest gap per run (ms) | median (ms) | frames replayed per run |"
echo "|---|---|---|---|---|"
echo "| queue=all | yes | ${gaps[all]}| $mall | ${replayed[all]}|"
echo "| queue=rx | no | ${gaps[rx]}| $mrx | ${replayed[rx]}|"
echo
echo "Median gap with replay / without: $(awk "BEGIN {printf \"%.2f\", $mall / $mrx}")."
echo
echo "Measured with \`bench/output-commit.sh\` on $(nproc) cores, TCG, $(date -u +%F). Promotion is"
echo "issued by the script right after the kill (no failure detector yet); without replay the"
echo "client's request is answered only after its TCP retransmission reaches the promoted guest."
