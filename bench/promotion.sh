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
img=$build/tests/guest/bootblock/bootblock.img
runs=${QFT_BENCH_RUNS:-5}
[ -f "$img" ] || { echo "build first: meson compile -C $build" >&2; exit 2; }
# shellcheck source=lib.sh
source "$top/bench/lib.sh"
bench_setup "$build"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

promote_once() { # MEM -> restore-ns
    local mem=$1 n=pr$RANDOM pool out
    pool=/dev/shm/$QFT_TAG-$n.pool
    ft_primary_start "$n-p" a "$pool" "$mem" --wait 120 -machine pc,memory-backend=ram -m "$mem" -accel tcg >/dev/null
    ft_standby_start "$n-s" b "$pool" "$mem" -machine pc,memory-backend=ram -m "$mem" -accel tcg >/dev/null
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
    # shellcheck disable=SC2046
    ft_primary_start "$n" a "$pool" "$mem" --ready 'SB' 60 --wait 120 \
        -machine pc,memory-backend=ram -m "$mem" -accel tcg $(ft_bootblock_disk "$img" bench) >/dev/null
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
