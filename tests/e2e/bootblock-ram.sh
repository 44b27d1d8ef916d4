#!/usr/bin/env bash
# The bootblock guest keeps every page of its RAM in the checkable pattern
# with all its vCPUs writing, and qft-ramcheck can tell a good image from a
# broken one.
#   bootblock-ram.sh BOOTBLOCK_IMG QFT_QMP QFT_RAMCHECK
# For -smp 1 and -smp 4: boot (TCG, RAM in a /dev/shm file), stop, check the
# file; run on, stop, check again: every vCPU's sweep counter advanced.
# Negative controls: one flipped byte in a page must fail and name the page;
# the wrong --cpus must fail.
set -euo pipefail
img=$1 QFT_QMP=$2 ramcheck=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
[ -f "$img" ] || qft_die "no bootblock image at $img"
qft_need jq

qft_init
qft_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

for smp in 1 4; do
    ram=/dev/shm/$QFT_TAG-ram-$smp
    qft_vm_start bb$smp a -machine pc,memory-backend=ram -m 32M -smp $smp \
        -accel tcg,thread=multi -drive "file=$img,format=raw,if=ide,snapshot=on" \
        -object "memory-backend-file,id=ram,size=32M,mem-path=$ram,share=on"
    qft_wait_serial bb$smp 'SB' 60
    ft_qmp bb$smp stop >/dev/null
    first=$("$ramcheck" --cpus $smp --json "$ram") || qft_die "-smp $smp: qft-ramcheck: $first"
    s1=$(echo "$first" | jq -r '.sweeps | join(" ")')
    ok "-smp $smp: RAM image holds the invariant; sweeps per vCPU: $s1"
    ft_qmp bb$smp cont >/dev/null
    sleep 1
    ft_qmp bb$smp stop >/dev/null
    second=$("$ramcheck" --cpus $smp --json "$ram") || qft_die "-smp $smp: qft-ramcheck: $second"
    s2=$(echo "$second" | jq -r '.sweeps | join(" ")')
    read -r -a a <<<"$s1"; read -r -a b <<<"$s2"
    [ "${#a[@]}" = "$smp" ] || qft_die "-smp $smp: ${#a[@]} sweep counters"
    for i in "${!a[@]}"; do
        [ "${b[$i]}" -gt "${a[$i]}" ] || qft_die "-smp $smp: vCPU $i did not advance: ${a[$i]} -> ${b[$i]}"
    done
    ok "-smp $smp: every vCPU wrote on: $s1 -> $s2"

    # Negative controls on a copy.
    cp "$ram" "$QFT_RUN/flip.img"
    page=$((0x100000 + 37 * 4096))
    printf '\x01' | dd of="$QFT_RUN/flip.img" bs=1 seek=$((page + 100)) conv=notrunc status=none
    if out=$("$ramcheck" --cpus $smp "$QFT_RUN/flip.img" 2>&1); then
        qft_die "control: a flipped byte passed qft-ramcheck"
    fi
    echo "$out" | grep -q "page $(printf '0x%x' $page)" || qft_die "control: the error does not name page $(printf '0x%x' $page): $out"
    ok "control: one flipped byte fails and names the page: ${out#*: }"
    if "$ramcheck" --cpus $((smp + 1)) "$ram" >/dev/null 2>&1; then
        qft_die "control: --cpus $((smp + 1)) passed on a -smp $smp image"
    fi
    ok "control: --cpus $((smp + 1)) fails on a -smp $smp image"
    kill -9 "$(qft_vm_pid bb$smp)"
done
echo "$passed passed, 0 failed"
