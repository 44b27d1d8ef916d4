#!/usr/bin/env bash
# Benchmark: promotion time against RAM size, and checkpoint pause against
# dirty bytes, measured side by side in one run (not a test: no assertion).
#   bench/promotion.sh [BUILD_DIR]        (default: build)
# Output: a Markdown section on stdout (paste into docs/benchmarks.md).
#
# Promotion: an idle guest (firmware only) of 256 MiB and of 2 GiB is
# protected (20 ms epochs), a standby maps the pool, the primary is killed
# and ft-promote reports restore-ns (from the command to running vCPUs).
# Ratio goal (issue 4): 2 GiB / 256 MiB <= 1.2.
# Pause: the bootblock guest dirties all its RAM every few ms; query-ft's
# last-pause-ns and last-dirty-pages are sampled at 32, 128 and 512 MiB.
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
export QFT_QMP=$build/tools/qmp/qft-qmp
img=$build/tests/guest/bootblock/bootblock.img
runs=${QFT_BENCH_RUNS:-5}
[ -x "$QFT_QMP" ] && [ -f "$img" ] || { echo "build first: meson compile -C $build" >&2; exit 2; }
# shellcheck source=../tests/lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../tests/lib/ft.sh
source "$top/tests/lib/ft.sh"
qft_init
qft_net_up

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

promote_once() { # MEM -> restore-ns
    local mem=$1 n=pr$RANDOM pool off out
    pool=/dev/shm/$QFT_TAG-$n.pool
    qft_vm_start "$n-p" a -machine pc,memory-backend=ram -m "$mem" -accel tcg \
        -object "memory-backend-ram,id=ram,size=$mem" >/dev/null
    ft_qmp "$n-p" ft-start "{\"pool\": \"$pool\", \"epoch-ms\": 20}" >/dev/null
    ft_wait_status "$n-p" protected 120 >/dev/null
    off=$(ft_pool_block_offset "$pool" 0)
    qft_vm_start "$n-s" b -machine pc,memory-backend=ram -m "$mem" -accel tcg -S \
        -object "memory-backend-file,id=ram,size=$mem,mem-path=$pool,offset=$off,share=off" >/dev/null
    ft_qmp "$n-s" ft-standby "{\"pool\": \"$pool\"}" >/dev/null
    sleep 0.5
    kill -9 "$(qft_vm_pid "$n-p")"
    out=$(ft_qmp "$n-s" ft-promote)
    kill -9 "$(qft_vm_pid "$n-s")"
    rm -f "$pool"
    echo "$out" | jq -r '."restore-ns"'
}

echo "### Promotion time against RAM size ($runs runs each, median)"
echo
echo "| guest RAM | restore (ms) |"
echo "|---|---|"
declare -A med
for mem in 256M 2G; do
    med[$mem]=$(for _ in $(seq "$runs"); do promote_once "$mem"; done | median)
    echo "| $mem | $(awk "BEGIN {printf \"%.2f\", ${med[$mem]} / 1e6}") |"
done
echo
echo "Ratio 2 GiB / 256 MiB: **$(awk "BEGIN {printf \"%.2f\", ${med[2G]} / ${med[256M]}}")** (goal <= 1.2)."
echo

echo "### Checkpoint pause against dirty bytes (bootblock guest, all RAM dirty)"
echo
echo "| guest RAM | dirty pages / epoch (median) | dirty MiB | pause (ms, median) | MiB/s copied in the pause |"
echo "|---|---|---|---|---|"
for mem in 32M 128M 512M; do
    n=pa$RANDOM pool=/dev/shm/$QFT_TAG-$n.pool
    qft_vm_start "$n" a -machine pc,memory-backend=ram -m "$mem" -accel tcg \
        $(ft_bootblock_disk "$img" bench) \
        -object "memory-backend-ram,id=ram,size=$mem" >/dev/null
    qft_wait_serial "$n" 'SB' 60 >/dev/null
    ft_qmp "$n" ft-start "{\"pool\": \"$pool\", \"epoch-ms\": 20}" >/dev/null
    ft_wait_status "$n" protected 120 >/dev/null
    : >"$QFT_RUN/samples"
    for _ in $(seq 20); do
        ft_qmp "$n" query-ft | jq -r '"\(."last-dirty-pages") \(."last-pause-ns")"' >>"$QFT_RUN/samples"
        sleep 0.1
    done
    pages=$(awk '{print $1}' "$QFT_RUN/samples" | median)
    pause=$(awk '{print $2}' "$QFT_RUN/samples" | median)
    awk -v m="$mem" -v p="$pages" -v t="$pause" 'BEGIN {
        mib = p * 4096 / 1048576
        printf "| %s | %d | %.1f | %.2f | %.0f |\n", m, p, mib, t / 1e6, mib / (t / 1e9) }'
    kill -9 "$(qft_vm_pid "$n")"
    rm -f "$pool"
done
echo
echo "Measured with \`bench/promotion.sh\` on $(nproc) cores, TCG, QEMU $(cat "$QFT_QEMU_DIR/key" 2>/dev/null | cut -c1-16), $(date -u +%F)."
