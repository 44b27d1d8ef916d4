#!/usr/bin/env bash
# Benchmark: what output commit costs a request, and the failover gap a
# client sees (not a test: no assertion). Side by side in one run.
#   bench/output-commit.sh [BUILD_DIR]       (default: build)
# For the Linux guest with filter-ft: a closed-loop client (one connection)
# for 4 s unprotected and at 10, 20 and 50 ms epochs -> requests/s and mean
# latency; then per epoch length one failover under load -> the longest gap
# between two answers (kill to next answer, dominated by the TCP
# retransmission timeout until RX replay exists).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export QFT_QMP=$build/tools/qmp/qft-qmp
client=$build/tools/counter-client/qft-counter-client
guest=/var/cache/qemu-ft/guest/out
"$top/tests/guest/linux/build-guest.sh" "$guest" >/dev/null
# shellcheck source=../tests/lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../tests/lib/ft.sh
source "$top/tests/lib/ft.sh"
qft_init
qft_net_up
mem=256M
boot() { # NAME HOST EXTRA...
    local n=$1 h=$2; shift 2
    # shellcheck disable=SC2046
    qft_vm_start "$n" "$h" -machine pc,memory-backend=ram -accel tcg -m $mem -smp 1 \
        -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" \
        -append "console=ttyS0 quiet qft.ip=$QFT_GUEST_IP/24" \
        $(qft_nic_args) -object filter-ft,id=ft0,netdev=n0,queue=rx "$@"
}
rate() { qft_in client "$client" --host "$QFT_GUEST_IP" --count 100000000 --deadline-ms 4000 --json 2>/dev/null | jq -r .acknowledged; }

echo "### Output commit: request cost (one closed-loop connection, 4 s)"
echo
echo "| protection | requests/s | mean latency (ms) | vs unprotected |"
echo "|---|---|---|---|"
boot u a -object memory-backend-ram,id=ram,size=$mem
qft_wait_serial u 'qft-guest: ready' 120 >/dev/null
base=$(rate)
echo "| none | $((base / 4)) | $(awk "BEGIN {printf \"%.2f\", 4000 / $base}") | 1.00 |"
kill -9 "$(qft_vm_pid u)"
declare -A gaps
for ms in 10 20 50; do
    pool=/dev/shm/$QFT_TAG-$ms.pool
    boot p$ms a -object memory-backend-ram,id=ram,size=$mem
    qft_wait_serial p$ms 'qft-guest: ready' 120 >/dev/null
    ft_qmp p$ms ft-start "{\"pool\": \"$pool\", \"epoch-ms\": $ms}" >/dev/null
    ft_wait_status p$ms protected 60 >/dev/null
    n=$(rate)
    echo "| $ms ms epochs | $((n / 4)) | $(awk "BEGIN {printf \"%.2f\", 4000 / $n}") | $(awk "BEGIN {printf \"%.3f\", $n / $base}") |"
    # one failover under load
    off=$(ft_pool_block_offset "$pool" 0)
    boot s$ms b -S -object "memory-backend-file,id=ram,size=$mem,mem-path=$pool,offset=$off,share=off" >/dev/null
    ft_qmp s$ms ft-standby "{\"pool\": \"$pool\"}" >/dev/null
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 100000000 --deadline-ms 5000 \
        --timeout-ms 3000 --reconnect --json >"$QFT_RUN/fo-$ms.json" 2>/dev/null &
    c=$!
    sleep 1.5
    kill -9 "$(qft_vm_pid p$ms)"
    ft_qmp s$ms ft-promote >/dev/null
    wait $c || true
    gaps[$ms]=$(jq -r '"\(.max_gap_ms) ms (reconnects \(.reconnects))"' "$QFT_RUN/fo-$ms.json")
    kill -9 "$(qft_vm_pid s$ms)"
    rm -f "$pool"
done
echo
echo "### Failover gap under load (kill -> promote immediately -> next answer)"
echo
echo "| epoch | longest gap between answers |"
echo "|---|---|"
for ms in 10 20 50; do echo "| $ms ms | ${gaps[$ms]} |"; done
echo
echo "Measured with \`bench/output-commit.sh\` on $(nproc) cores, TCG, $(date -u +%F). Promotion is"
echo "issued by the script right after the kill (no failure detector yet); the gap is"
echo "the promoted guest's first answer after the client's TCP retransmission."
