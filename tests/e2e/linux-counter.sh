#!/usr/bin/env bash
# The Linux test guest boots in our QEMU on host-a and its counter service
# answers a client in its own namespace, across the bridged test network.
#   linux-counter.sh GUEST_DIR COUNTER_CLIENT QFT_QMP
# Checks counts, not timings: every request acknowledged, values consecutive
# and persistent across connections. Negative control: a client aimed at an
# address where nothing serves must fail (the test can tell an answer from
# none), and one aimed at host-b's empty tap sees nothing.
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" mkfs.ext4 debugfs e2fsck jq
[ -x "$client" ] || qft_die "no client at $client"

qft_init
qft_net_up
ft_linux_args --filter none --ram
qft_vm_start primary a "${FT_LINUX_ARGS[@]}"
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
# The disk: each value is appended to /data/counter.log and fsynced before
# the answer; after QEMU quits, the image holds exactly 1..50.
kill -9 "$(qft_vm_pid primary)"
disk=$QFT_RUN/disk.img
truncate -s 64M "$disk"
mkfs.ext4 -q -F "$disk"
ft_linux_args --filter none --ram --disk /dev/vda
qft_vm_start disk a "${FT_LINUX_ARGS[@]}" \
    -drive "if=none,id=d0,file=$disk,format=raw" -device virtio-blk-pci,drive=d0
qft_wait_serial disk 'qft-guest: ready' 180
out=$(run_client 50)
check_run "$out" 50 1
ft_vm_quit disk
# The guest was killed, not unmounted: replay the ext4 journal first.
e2fsck -fy "$disk" >/dev/null 2>&1 || [ $? -le 1 ] || qft_die "e2fsck of the guest's disk failed"
debugfs -R 'cat /counter.log' "$disk" 2>/dev/null >"$QFT_RUN/log.txt"
[ "$(cat "$QFT_RUN/log.txt")" = "$(seq 1 50)" ] ||
    qft_die "the disk log does not hold 1..50: $(head -c 200 "$QFT_RUN/log.txt" | tr '\n' ' ')"
ok "disk: the 50 acknowledged values are on the guest's ext4 disk, in order"
# Control: the same check sees a missing value.
sed -i '25d' "$QFT_RUN/log.txt"
[ "$(cat "$QFT_RUN/log.txt")" != "$(seq 1 50)" ] || qft_die "control: a log without 25 compares equal"
ok "control: a log missing value 25 is told apart"

# A guest that cannot keep the contract says so and stops, rather than
# serving without what was asked for: qft.disk names a disk that is not there.
ft_linux_args --filter none --ram --disk /dev/vdz
qft_vm_start nodisk a "${FT_LINUX_ARGS[@]}"
pid=$(qft_vm_pid nodisk)
for _ in $(seq 1800); do
    grep -q 'qft-guest: \(error\|ready\)' "$QFT_RUN/nodisk.serial" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
grep -q 'qft-guest: ready' "$QFT_RUN/nodisk.serial" && qft_die "the guest served without its qft.disk"
msg=$(grep -m1 'qft-guest: error' "$QFT_RUN/nodisk.serial") || qft_die "no 'qft-guest: error' line for a missing qft.disk"
for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && qft_die "the guest did not power off after: $msg"
ok "a missing qft.disk: '${msg//$'\r'/}', the guest powers off"
echo "$passed passed, 0 failed"
