#!/usr/bin/env bash
# Back-pressure for a full disk journal (issue 16 item 6). The guest writes
# 40 MiB in one burst (dd conv=fsync through qft-disk-io) to its virtio-blk
# disk under ft-disk, whose epoch journal holds 4 MiB (disk-journal-max);
# epochs are 2 s long, so the journal fills long before the timer. A write
# with no room stalls: ft-disk fails it with ENOSPC, virtio-blk
# (werror=enospc) stops the VM with the request queued, the next checkpoint
# commits the epoch and resumes the VM, which retries the request.
#  1. Protection stays on through the burst: status protected, the pool not
#     retired, disk-stalls > 0, the burst's answer arrives.
#  2. The primary is killed, the standby promoted: the promoted guest's
#     disk, read with the page cache dropped, holds exactly what the burst
#     wrote (its sha256).
#  3. The primary is killed holding (fault point `committed`) an epoch it
#     committed while a write stalled: the promoted VM retries the queued
#     write, the burst completes there, its answer reaches the client
#     across the failover, and the disk holds the burst.
# Control, differing only in disk-journal-max (64 MiB, more than the burst):
# no stall, protection on, the same checks pass.
#   ft-disk-stall.sh GUEST_DIR QFT_QMP
set -euo pipefail
guest=$1 QFT_QMP=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" mkfs.ext4 jq timeout

qft_init
qft_net_up
mem=256M burst=40 passed=0
ft_linux_args --mem $mem --disk /dev/vda

# disk_io REQUEST: one qft-disk-io request from the client host, its answer.
# The guest's first answers (ARP, SYN-ACK) are output held until a commit:
# a first request (disk_io hello) makes sure the client knows the guest.
disk_io() {
    qft_in client timeout 300 bash -c \
        'exec 3<>"/dev/tcp/$0/7001" && echo "$1" >&3 && head -n1 <&3' \
        "$QFT_GUEST_IP" "$1"
}

# pair NAME JOURNAL_BYTES: a protected primary pNAME on host-a (2 s epochs,
# that journal) and its standby sNAME on host-b, both on $QFT_RUN/NAME.raw
# under ft-disk, the pool /dev/shm/...-pool-NAME; the guest's qft-disk-io
# answers.
pair() {
    local n=$1 journal=$2 img=$QFT_RUN/$1.raw pool=/dev/shm/$QFT_TAG-pool-$1
    ft_disk_make raw "$img"
    # shellcheck disable=SC2046
    ft_primary_start p$n a "$pool" $mem --ready 'qft-guest: ready' 180 \
        --ft "\"epoch-ms\": 2000, \"disk-journal-max\": $journal" \
        "${FT_LINUX_ARGS[@]}" $(ft_disk_args raw "$img" ftdisk)
    # shellcheck disable=SC2046
    ft_standby_start s$n b "$pool" $mem "${FT_LINUX_ARGS[@]}" $(ft_disk_args raw "$img" ftdisk)
    disk_io hello >/dev/null || qft_die "$n: the guest's qft-disk-io does not answer"
}

# disk_holds NAME WROTE: the promoted sNAME's disk, read with the page
# cache dropped, holds what the burst's answer WROTE says it wrote.
disk_holds() {
    local n=$1 wrote=$2 sum
    sum=$(disk_io sum) || qft_die "$n: the promoted guest did not answer"
    [ "${sum#sum }" = "${wrote#wrote $burst }" ] ||
        qft_die "$n: the promoted guest's disk does not hold the burst: wrote ${wrote#wrote $burst }, disk ${sum#sum }"
}

# run NAME JOURNAL_BYTES -> sets $stalls
run() {
    local n=$1 journal=$2 pool=/dev/shm/$QFT_TAG-pool-$1 info wrote status word
    pair "$n" "$journal"
    wrote=$(disk_io "write $burst") || qft_die "$n: the burst got no answer"
    [[ $wrote == "wrote $burst sha256 "* ]] || qft_die "$n: the burst failed in the guest: $wrote"
    info=$(ft_qmp p$n query-ft)
    status=$(echo "$info" | jq -r .status) stalls=$(echo "$info" | jq -r '."disk-stalls"')
    [ "$status" = protected ] || qft_die "$n: protection ended during the burst: $info"
    word=$(ft_pool_json "$pool")
    [ "$(echo "$word" | jq -r .commit.retired)" = false ] || qft_die "$n: the pool was retired during the burst"
    [ "$(ft_qmp p$n query-status | jq -r .status)" = running ] || qft_die "$n: the primary is not running after the burst"
    echo "ok - $n (disk-journal-max $journal): a $burst MiB burst completed under protection, $stalls stalls, $(echo "$info" | jq -r .epochs) epochs, pool not retired"
    passed=$((passed + 1))

    ft_kill_dead p$n
    ft_promote_dead s$n >/dev/null || qft_die "$n: promotion refused"
    disk_holds "$n" "$wrote"
    echo "ok - $n: promoted; its disk holds the burst (${wrote#wrote $burst })"
    passed=$((passed + 1))
    ft_vm_quit s$n
    rm -f "$pool"
}

# mid: the primary is killed in a stall, right after committing an epoch
# whose device state holds the queued write (held at the `committed` fault
# point while the VM is io-error); the promoted VM retries it and the burst
# completes there, the answer reaching the client across the failover.
run_mid() {
    local n=mid pool=/dev/shm/$QFT_TAG-pool-mid st wrote held
    pair "$n" $((4 * 1024 * 1024))
    # The request goes in while commits run (its TCP handshake is output);
    # the guest starts writing 6 s later, when the primary is held after a
    # commit and takes no checkpoint: the burst fills the journal and the
    # VM stalls, and stays stalled.
    disk_io "write $burst 6" >"$QFT_RUN/mid.answer" 2>&1 &
    local bpid=$!
    sleep 3         # more than one epoch: the connection is up
    ft_qmp_ev p$n x-ft-fault-point '{"point": "committed"}' --wait-event FT_FAULT_POINT >/dev/null
    for _ in $(seq 600); do
        st=$(ft_qmp p$n query-status | jq -r .status)
        [ "$st" = io-error ] && break
        sleep 0.05
    done
    [ "$st" = io-error ] || qft_die "$n: the VM did not stall with its journal full (status $st)"
    # The next epoch is checkpointed in the stall and held before its CAS,
    # then committed and held right after it, still stalled.
    ft_qmp_ev p$n x-ft-fault-point '{"point": "commit"}' --wait-event FT_FAULT_POINT >/dev/null
    ft_qmp_ev p$n x-ft-fault-point '{"point": "committed"}' --wait-event FT_FAULT_POINT >/dev/null
    st=$(ft_qmp p$n query-status | jq -r .status)
    [ "$st" = io-error ] || qft_die "$n: held after the commit, the VM is $st, not stalled"
    held=$(ft_qmp p$n query-ft | jq -r '."disk-stalls"')
    ft_kill_dead p$n
    ft_promote_dead s$n >/dev/null || qft_die "$n: promotion refused"
    wait $bpid || qft_die "$n: the burst got no answer across the failover: $(cat "$QFT_RUN/mid.answer")"
    wrote=$(cat "$QFT_RUN/mid.answer")
    [[ $wrote == "wrote $burst sha256 "* ]] || qft_die "$n: the burst failed on the promoted guest: $wrote"
    disk_holds "$n" "$wrote"
    echo "ok - $n: killed holding a committed epoch taken in a stall ($held stalls); the promoted VM retried the queued write, the burst completed there and its disk holds it"
    passed=$((passed + 1))
    ft_vm_quit s$n
    rm -f "$pool"
}

[ -n "${QFT_STALL_ONLY_MID:-}" ] || run stall $((4 * 1024 * 1024))
[ "$stalls" -gt 0 ] || qft_die "stall: no write stalled: the burst never filled the 4 MiB journal"
run_mid
# Control: the same burst with room for all of it in one epoch.
run ctl $((64 * 1024 * 1024))
[ "$stalls" -eq 0 ] || qft_die "control: $stalls stalls with a journal larger than the burst"
echo "ok - control: with a 64 MiB journal no write stalled"
passed=$((passed + 1))
echo "$passed passed, 0 failed"
