#!/usr/bin/env bash
# The Linux test guest boots in our QEMU on host-a and its counter service
# answers a client in its own namespace, across the bridged test network.
#   linux-counter.sh GUEST_DIR COUNTER_CLIENT
# Checks counts, not timings: every request acknowledged, values consecutive
# and persistent across connections. Negative control: a client aimed at an
# address where nothing serves must fail (the test can tell an answer from
# none), and one aimed at host-b's empty tap sees nothing.
set -euo pipefail
guest=$1 client=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
[ -f "$guest/vmlinuz" ] && [ -f "$guest/initramfs.cpio.gz" ] || qft_die "no guest in $guest (tests/guest/linux/build-guest.sh)"
[ -x "$client" ] || qft_die "no client at $client"

qft_init
qft_net_up
# shellcheck disable=SC2046
qft_vm_start primary a -machine pc -accel tcg -m 256M -smp 1 \
    -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet qft.ip=$QFT_GUEST_IP/24" $(qft_nic_args)
qft_wait_serial primary 'qft-guest: ready' 180
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

run_client() { # COUNT -> JSON summary on stdout
    qft_in client "$client" --host "$QFT_GUEST_IP" --port 7000 --count "$1" --json
}
check_run() { # JSON COUNT FIRST
    local acked first last
    acked=$(echo "$1" | jq -r '.acknowledged')
    first=$(echo "$1" | jq -r '.first_value')
    last=$(echo "$1" | jq -r '.last_value')
    [ "$acked" = "$2" ] || qft_die "acknowledged $acked of $2: $1"
    [ "$first" = "$3" ] || qft_die "first value $first, expected $3: $1"
    [ "$last" = "$(($3 + $2 - 1))" ] || qft_die "last value $last, expected $(($3 + $2 - 1)): $1"
}

out=$(run_client 500)
check_run "$out" 500 1
ok "500 requests from $(qft_ns client): values 1..500"
out=$(run_client 300)
check_run "$out" 300 501
ok "a new connection continues the same counter: 501..800"

# Negative controls.
if qft_in client "$client" --host 198.18.0.11 --port 7000 --count 1 --timeout-ms 1500 >/dev/null 2>&1; then
    qft_die "control: a client got an answer from 198.18.0.11, where nothing serves"
fi
ok "control: no service at 198.18.0.11 -> the client fails"
if qft_in a ip link show tap0 | grep -q 'state UP\|LOWER_UP'; then
    ok "control: host-a's tap0 is up (QEMU attached)"
else
    qft_die "control: host-a's tap0 is not up"
fi
echo "$passed passed, 0 failed"
