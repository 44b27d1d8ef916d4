#!/usr/bin/env bash
# Benchmark: output-triggered checkpoints against timer-only ones and no
# protection, side by side on one guest in one run (not a test: no
# assertion).
#   bench/output-trigger.sh [BUILD_DIR] [ROUNDS] [SECONDS]   (build, 3, 3)
# One Linux test guest serves the counter service; each round measures, in
# turn, unprotected, ft-start trigger=timer (20 ms) and ft-start
# trigger=output (the default; 20 ms upper bound), each with 1 closed-loop
# connection and with 16, for SECONDS each -> requests/s, ratio to the
# unprotected run of the same round, p50/p99 latency. Protection is
# stopped (ft-stop) between configurations, so every figure comes from the
# same guest. Then an idle guest's checkpoint cost (query-ft mean-cost,
# output trigger, no clients) and the per-phase cost under one client.
# Last, a guest dirtying MiB of RAM (qft.dirty): its pages/s unprotected
# and protected (20 ms), interleaved, for each size in QFT_BENCH_DIRTY
# (default "4 16").
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
rounds=${2:-3}
secs=${3:-3}
# shellcheck source=lib.sh
source "$top/bench/lib.sh"
bench_linux_setup "$build"
mem=256M
boot() { # NAME EXTRA-APPEND
    ft_linux_args --mem $mem --filter all --ram --append "$2"
    qft_vm_start "$1" a "${FT_LINUX_ARGS[@]}"
}
n_pool=0
protect() { # NAME TRIGGER
    n_pool=$((n_pool + 1))
    ft_protect "$1" "/dev/shm/$QFT_TAG-$n_pool.pool" "\"trigger\": \"$2\""
}
unprotect() { # NAME
    ft_qmp "$1" ft-stop >/dev/null
    for _ in $(seq 100); do
        [ "$(ft_qmp "$1" query-ft | jq -r .role)" = none ] && break
        sleep 0.1
    done
    rm -f /dev/shm/"$QFT_TAG"-*.pool
}
# load CONNECTIONS -> the client's JSON (it ends at its deadline: exit 1)
load() {
    { qft_in client "$client" --host "$QFT_GUEST_IP" --count 1000000000 \
        --deadline-ms $((secs * 1000)) --timeout-ms 5000 --connections "$1" --json 2>/dev/null || true; }
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

boot g ""
qft_wait_serial g 'qft-guest: ready' 120 >/dev/null
load 1 >/dev/null     # warm the translation cache
declare -A rps p50 p99 ratio
for r in $(seq "$rounds"); do
    for mode in none timer output; do
        [ "$mode" = none ] || protect g "$mode"
        for c in 1 16; do
            j=$(load "$c")
            k=$mode-$c
            n=$(echo "$j" | jq -r .acknowledged); us=$(echo "$j" | jq -r .elapsed_us)
            v=$(awk "BEGIN {printf \"%.0f\", $n * 1000000 / $us}")
            rps[$k]+="$v "
            p50[$k]+="$(echo "$j" | jq -r .latency_p50_us) "
            p99[$k]+="$(echo "$j" | jq -r .latency_p99_us) "
            [ "$mode" = none ] && eval "base_$c=$v"
            b=base_$c
            ratio[$k]+="$(awk "BEGIN {printf \"%.3f\", $v / ${!b}}") "
        done
        if [ "$mode" = output ]; then
            ft_qmp g query-ft >"$QFT_RUN/loaded-$r.json"
        fi
        [ "$mode" = none ] || unprotect g
    done
done

echo "### Request/response under protection (counter service, $rounds rounds of ${secs} s, medians)"
echo
echo "| protection | connections | requests/s | vs unprotected | p50 latency (ms) | p99 latency (ms) | added p50 (ms) |"
echo "|---|---|---|---|---|---|---|"
for c in 1 16; do
    b50=$(echo "${p50[none-$c]}" | median)
    for mode in none timer output; do
        k=$mode-$c
        m50=$(echo "${p50[$k]}" | median)
        label=$mode; [ "$mode" = none ] && label="none"; [ "$mode" = timer ] && label="timer, 20 ms"
        [ "$mode" = output ] && label="output-triggered (20 ms bound)"
        echo "| $label | $c | $(echo "${rps[$k]}" | median) | $(echo "${ratio[$k]}" | median) | $(awk "BEGIN {printf \"%.2f\", $m50 / 1000}") | $(awk "BEGIN {printf \"%.2f\", $(echo "${p99[$k]}" | median) / 1000}") | $(awk "BEGIN {printf \"%.2f\", ($m50 - $b50) / 1000}") |"
    done
done
echo
echo "Per round (requests/s): $(for k in none-1 timer-1 output-1 none-16 timer-16 output-16; do printf '%s: %s; ' "$k" "${rps[$k]}"; done)"

# Checkpoint cost: idle (only the 20 ms bound starts checkpoints), then the
# mean over the last loaded output-triggered run.
protect g output
sleep 3
ft_qmp g query-ft >"$QFT_RUN/idle.json"
unprotect g
phases="stop sync copy devstate disk resume crc commit release total"
echo
echo "### One checkpoint's cost, stop to release (mean, microseconds)"
echo
echo "| guest | epochs | output-started | dirty pages (last) | delay | ${phases// / | } | disk-apply |"
echo "|---|---|---|---|---|$(for _ in $phases; do printf -- '---|'; done)---|"
row() { # LABEL FILE
    local f=$2
    printf '| %s | %s | %s | %s | ' "$1" "$(jq -r .epochs "$f")" "$(jq -r '."output-epochs"' "$f")" "$(jq -r '."last-dirty-pages"' "$f")"
    for p in delay $phases disk-apply; do
        printf '%s | ' "$(jq -r --arg p "$p" '."mean-cost"[$p] / 1000 | . * 10 | round / 10' "$f")"
    done
    echo
}
row "idle (20 ms bound only)" "$QFT_RUN/idle.json"
row "16 connections, output-triggered" "$QFT_RUN/loaded-$rounds.json"
ft_vm_quit g

# The memory-dirtying guest: pages/s as it prints them, unprotected and
# protected (default trigger, 20 ms), interleaved; the medians' ratio.
echo
echo "### Memory-dirtying guest: work rate with protection (20 ms bound)"
echo
echo "| dirtied MiB | pages/s unprotected | pages/s protected | ratio | mean pause (ms) | dirty pages per epoch (last) |"
echo "|---|---|---|---|---|---|"
rate_lines() { # NAME SECONDS -> the rates printed during the next SECONDS
    local from
    from=$(grep -c 'qft-dirty:' "$QFT_RUN/$1.serial" || true)
    sleep "$2"
    grep 'qft-dirty:' "$QFT_RUN/$1.serial" | tail -n +$((from + 2)) | awk '{print $2}' | tr '\n' ' '
}
for mib in ${QFT_BENCH_DIRTY:-4 16}; do
    name=d$mib
    boot "$name" "qft.dirty=$mib"
    qft_wait_serial "$name" 'qft-dirty:' 120 >/dev/null
    off="" on=""
    for _ in $(seq "$rounds"); do
        off+="$(rate_lines "$name" 4) "
        protect "$name" output
        on+="$(rate_lines "$name" 4) "
        ft_qmp "$name" query-ft >"$QFT_RUN/$name.json"
        unprotect "$name"
    done
    moff=$(echo "$off" | median); mon=$(echo "$on" | median)
    echo "| $mib | $moff | $mon | $(awk "BEGIN {printf \"%.3f\", $mon / $moff}") | $(jq -r '."mean-cost" | (.stop + .sync + .copy + .devstate + .disk + .resume) / 1000000 | . * 100 | round / 100' "$QFT_RUN/$name.json") | $(jq -r '."last-dirty-pages"' "$QFT_RUN/$name.json") |"
    ft_vm_quit "$name"
done
echo
echo "Measured with \`bench/output-trigger.sh $* \` on $(nproc) cores, TCG, $(date -u +%F)."
