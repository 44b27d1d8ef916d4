#!/usr/bin/env bash
# Epoch-consistent disks (issue 5 item 3). The guest's counter service
# appends each value to /counter.log on its virtio-blk disk (ext4) and fsyncs
# before answering; the disk sits under an ft-disk filter, on a raw and on a
# qcow2 image. For each format:
#  1. The protected primary serves a client; then it is stopped at the
#     `commit` fault point (its slot written, never committed) while the guest
#     runs on, writing values whose answers filter-ft holds; it is killed.
#  2. The image, before any promotion, holds every acknowledged value and
#     none above the last one acknowledged: the writes of the uncommitted
#     epochs never reached it, though the primary held some (disk-pending-bytes).
#  3. The standby (same disk, also under ft-disk) is promoted: it redoes the
#     committed slot's writes, the service answers on; after a clean quit the
#     image (qemu-img check for qcow2) holds every acknowledged value, in
#     increasing order.
# Negative control: the same run with the primary's disk not under ft-disk:
# the image holds values above the last acknowledged one.
#   ft-disk.sh GUEST_DIR COUNTER_CLIENT QFT_QMP
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" mkfs.ext4 debugfs e2fsck jq

qft_init
qft_net_up
mem=256M passed=0
ft_linux_args --mem $mem --disk /dev/vda

# the values of an ack log ("TIME VALUE" lines), one a line
acked_values() { awk '{print $2}' "$1"; }
# lines of $1 (values) that $2 (values) lacks
missing() { comm -23 <(sort "$1") <(sort "$2"); }

# run NAME FMT FILTER(ftdisk|plain) -> sets $above (values on the image above
# the last acknowledged one before the promotion) and checks the rest
run() {
    local n=$1 fmt=$2 filter=$3 img pool cpid info pend last promote
    local epoch disk_at disk_len out
    img=$QFT_RUN/$n.$fmt pool=/dev/shm/$QFT_TAG-pool-$n
    ft_disk_make "$fmt" "$img"
    # The control's disk is not under ft-disk, which ft-start refuses
    # shellcheck disable=SC2046
    ft_primary_start p$n a "$pool" $mem --ready 'qft-guest: ready' 180 \
        --ft "$([ "$filter" = ftdisk ] || echo '"x-skip-checks": true')" \
        "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" "$filter")
    # shellcheck disable=SC2046
    ft_standby_start s$n b "$pool" $mem "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" ftdisk)
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 1000000 --timeout-ms 1000 \
        --reconnect --deadline-ms 12000 --log "$QFT_RUN/acks-$n" --json \
        >"$QFT_RUN/client-$n.json" 2>"$QFT_RUN/client-$n.err" &
    cpid=$!
    sleep 2
    ft_qmp_ev p$n x-ft-fault-point '{"point": "commit"}' --wait-event FT_FAULT_POINT >/dev/null
    sleep 1.5                       # the guest runs on, its answers held
    info=$(ft_qmp p$n query-ft)
    kill -9 "$(qft_vm_pid p$n)"
    pend=$(echo "$info" | jq -r '."disk-pending-bytes"')
    acked_values "$QFT_RUN/acks-$n" >"$QFT_RUN/acked-$n"
    last=$(tail -n1 "$QFT_RUN/acked-$n")
    [ -n "$last" ] || qft_die "$n: nothing acknowledged before the kill"
    ft_disk_log "$fmt" "$img" "$QFT_RUN/disk-$n"
    above=$(awk -v l="$last" '$1 > l' "$QFT_RUN/disk-$n" | wc -l)
    summary="$n ($fmt, $filter): $(wc -l <"$QFT_RUN/acked-$n") acknowledged up to $last; image before promotion: $(wc -l <"$QFT_RUN/disk-$n") values, $above above $last; primary held $pend bytes of uncommitted disk writes"
    if [ "$filter" = plain ]; then
        kill -9 "$(qft_vm_pid s$n)"; ft_client_wait "$cpid"; rm -f "$pool"
        return
    fi
    [ -z "$(missing "$QFT_RUN/acked-$n" "$QFT_RUN/disk-$n")" ] ||
        qft_die "$summary: acknowledged values missing from the image: $(missing "$QFT_RUN/acked-$n" "$QFT_RUN/disk-$n" | head -5 | tr '\n' ' ')"
    [ "$pend" -gt 0 ] || qft_die "$summary: the primary held no disk writes at the kill: the test did not exercise uncommitted writes"
    [ "$above" -eq 0 ] || qft_die "$summary: writes of an uncommitted epoch reached the image"
    echo "ok - $summary"

    # A flipped byte in the committed slot's disk records: promotion refuses.
    read -r _ epoch _ <<<"$(ft_pool_commit "$pool")"
    read -r disk_at disk_len <<<"$(ft_pool_get "$pool" '.slots[.commit."slot-index"] | "\(."disk-offset") \(."disk-bytes")"')"
    if [ "$disk_len" -gt 40 ]; then
        flip "$pool" $((disk_at + 40))
        if out=$(ft_qmp s$n ft-promote 2>&1); then qft_die "$n: promoted with corrupt disk records: $out"; fi
        echo "$out" | grep -q "disk records CRC mismatch" || qft_die "$n: corrupt disk records: $out"
        [ "$(ft_qmp s$n query-status | jq -r .status)" = prelaunch ] || qft_die "$n: the standby did not stay paused"
        flip "$pool" $((disk_at + 40))
        echo "ok - $n: a flipped byte in epoch $epoch's disk records: promotion refused (${out#*GenericError: }), standby paused"
    else
        echo "# $n: the committed epoch $epoch wrote nothing to disk; no disk-record corruption check this run"
    fi
    promote=$(ft_qmp s$n ft-promote) || qft_die "$n: promotion refused"
    ft_client_wait "$cpid"
    [ "$ft_client_rc" != "$QFT_COUNTER_VIOLATION" ] ||
        qft_die "$n: the client saw an acknowledged value lost: $(head -c 300 "$QFT_RUN/client-$n.err")"
    acked_values "$QFT_RUN/acks-$n" >"$QFT_RUN/acked-$n"
    [ "$(wc -l <"$QFT_RUN/acked-$n")" -gt "$(awk -v l="$last" '$1 <= l' "$QFT_RUN/acked-$n" | wc -l)" ] ||
        qft_die "$n: the client stream did not resume after the promotion"
    ft_vm_quit s$n
    if [ "$fmt" = qcow2 ]; then
        ft_qcow2_check "$img" "$n: the promoted guest's qcow2 image"
    fi
    ft_disk_log "$fmt" "$img" "$QFT_RUN/disk-$n"
    [ -z "$(missing "$QFT_RUN/acked-$n" "$QFT_RUN/disk-$n")" ] ||
        qft_die "$n: after the promotion, acknowledged values are missing from the image: $(missing "$QFT_RUN/acked-$n" "$QFT_RUN/disk-$n" | head -5 | tr '\n' ' ')"
    sort -n -c "$QFT_RUN/disk-$n" 2>/dev/null && [ -z "$(uniq -d "$QFT_RUN/disk-$n")" ] ||
        qft_die "$n: the log on the promoted guest's disk is not strictly increasing"
    echo "ok - $n: promoted (redid $(echo "$promote" | jq -r '."disk-records"') disk writes of epoch $(echo "$promote" | jq -r .epoch)); after a clean quit the image holds all $(wc -l <"$QFT_RUN/acked-$n") acknowledged values in order ($(wc -l <"$QFT_RUN/disk-$n") on disk)"
    rm -f "$pool"
    passed=$((passed + 1))
}

run raw raw ftdisk
run qcow2 qcow2 ftdisk
# Negative control: without ft-disk the uncommitted epochs' writes are there.
run ctl raw plain
echo "# control: $summary"
[ "$above" -gt 0 ] || qft_die "control: without ft-disk no value above the last acknowledged reached the image: the test cannot see uncommitted writes"
echo "ok - control: without ft-disk the image holds $above values never acknowledged"
passed=$((passed + 1))
echo "$passed passed, 0 failed"
