#!/usr/bin/env bash
# Crash consistency, fencing and "RAM mapped, not copied", with real QEMUs.
#   ft-pool-faults.sh BOOTBLOCK_IMG QFT_QMP
#
# 0. QMP errors name the problem; ft-stop retires the pool (ftpool-inspect
#    shows it) before releasing anything: a standby attached before the stop
#    is refused promotion and stays paused, a new one is refused attaching.
#    Control: the promotions below, of pools nobody retired, succeed.
# 1. Corruption: with the primary frozen (SIGSTOP), flip a bit in each region
#    of the committed slot (header, page records, page data, device state):
#    ft-promote refuses with the exact error, the standby stays paused and
#    the pool's generation is untouched (the primary is not fenced by a
#    refused promotion). Each bit is flipped back afterwards.
# 2. Torn slot: garbage over the uncommitted slot is ignored: the promotion
#    restores the committed epoch, whose digest the primary recorded.
# 3. Fencing: SIGSTOP the primary, promote, SIGCONT: FT_FENCED, status
#    fenced, the commit word and the base image stay as the promotion left
#    them, the fenced VM refuses `cont`. Control: SIGSTOP/SIGCONT without a
#    promotion, and the primary commits on.
# 4. Mapped, not copied: a 256 MiB standby's Private_Dirty grows by at most
#    the slot's pages plus 16 MiB at promotion. Control: a standby whose RAM
#    is not mapped from the pool grows by more than its RAM size.
# 5. In-flight RX: with filter-ft queue=all, the primary is stopped at the
#    `commit` fault point and 20 frames are sent to the guest's NIC; after
#    the kill, the promotion replays at least those 20 from the pool's log.
#    Control: a flipped byte in the first logged frame's payload ends the log
#    there (rx-log-end torn-payload, nothing replayed).
# 8. The initial sync reports what the first checkpoint copies
#    (sync-left-pages); control: a stopped guest leaves nothing.
# 6. Announce: right after the promotion, host-b's tap0 carries a RARP from
#    the guest's MAC (qemu_announce_self). Control: with announce-rounds 0 on
#    the standby, nothing from that MAC.
set -euo pipefail
img=$1 QFT_QMP=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
[ -f "$img" ] || qft_die "no bootblock image at $img"
qft_need jq tcpdump

qft_init
qft_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

bb_args() { echo "-machine pc,memory-backend=ram -m 32M -smp 1 -accel tcg $(ft_bootblock_disk "$img" pf)"; }

# pair NAME POOL MEM GUEST-ARGS...: protected primary NAME-p on host-a,
# attached standby NAME-s on host-b (RAM mapped from the pool).
pair() {
    local n=$1 pool=$2 mem=$3; shift 3
    ft_primary_start "$n-p" a "$pool" "$mem" --ft "\"x-digest-log\": \"$QFT_RUN/$n.digests\"" "$@"
    ft_standby_start "$n-s" b "$pool" "$mem" "$@"
}

# ---- 0: QMP errors, sync progress, ft-stop retires the pool ---------------
# Every bad request gets an error naming the problem; nothing changes.
expect_qmp_error() { # NAME CMD ARGS WANT
    local out
    if out=$(ft_qmp "$1" "$2" "$3" 2>&1); then qft_die "$2 $3 succeeded: $out"; fi
    echo "$out" | grep -qF "$4" || qft_die "$2 $3: expected '$4', got: $out"
    ok "$2 refused: ${out#*GenericError: }"
}
pool=/dev/shm/$QFT_TAG-e.pool
qft_vm_start e-p a -machine pc,memory-backend=ram -m 64M -accel tcg \
    -object memory-backend-ram,id=ram,size=64M $(ft_ev_args e-p)
expect_qmp_error e-p ft-start "{\"pool\": \"$pool\", \"epoch-ms\": 0}" "epoch-ms 0 is outside 1..10000"
expect_qmp_error e-p ft-start '{"pool": "/nonexistent-dir/p"}' "Could not create '/nonexistent-dir/p'"
FTPOOL_FLUSH=clwb qft_vm_start e-c a -machine pc,memory-backend=ram -m 32M -accel tcg \
    -object memory-backend-ram,id=ram,size=32M
expect_qmp_error e-c ft-start "{\"pool\": \"$pool.c\"}" "FTPOOL_FLUSH=clwb: only coherent pool memory is supported"
[ ! -e "$pool.c" ] || qft_die "a refused ft-start (FTPOOL_FLUSH=clwb) left a pool"
kill -9 "$(qft_vm_pid e-c)"
expect_qmp_error e-p ft-promote '{}' "not a standby"
expect_qmp_error e-p ft-standby "{\"pool\": \"$pool\"}" "must not have run"
ev=$(ft_qmp_ev e-p ft-start "{\"pool\": \"$pool\", \"epoch-ms\": 20}" --wait-event FT_SYNC_PROGRESS | tail -n1)
ft_wait_status e-p protected 60
info=$(ft_qmp e-p query-ft)
total=$(echo "$info" | jq -r '."sync-total"')
[ "$(echo "$ev" | jq -r .data.total)" = "$total" ] && [ "$total" -ge $((64 << 20)) ] &&
    [ "$(echo "$info" | jq -r '."sync-done"')" = "$total" ] ||
    qft_die "sync progress: event $ev, query-ft $info"
ok "initial sync reports progress: FT_SYNC_PROGRESS $(echo "$ev" | jq -c .data), done = total = $total"
expect_qmp_error e-p ft-start "{\"pool\": \"$pool.2\"}" "already protected"
expect_qmp_error e-p migrate '{"uri": "exec:cat >/dev/null"}' "protected by passive fault tolerance"
head -c 100000 /dev/zero >"$QFT_RUN/junk"
qft_vm_start e-s b -machine pc,memory-backend=ram -m 32M -accel tcg -S -object memory-backend-ram,id=ram,size=32M
expect_qmp_error e-s ft-standby "{\"pool\": \"$QFT_RUN/junk\"}" "bad magic"
expect_qmp_error e-s ft-standby "{\"pool\": \"$pool\"}" "RAM block ram has 33554432 bytes here, 67108864 in the pool"
ft_standby_start e-w b "$pool" 64M --share on --no-attach -machine pc,memory-backend=ram -m 64M -accel tcg
expect_qmp_error e-w ft-standby "{\"pool\": \"$pool\"}" "maps the pool with share=on"
ft_standby_start e-t b "$pool" 64M -machine pc,memory-backend=ram -m 64M -accel tcg
expect_qmp_error e-t cont '{}' "fault tolerance standby"
[ "$(ft_qmp e-t query-ft | jq -r .status)" = standby ] || qft_die "the standby is not in status standby"
# ft-stop retires the pool before it releases anything: never promotable.
[ "$(ft_pool_json "$pool" | jq -r .commit.retired)" = false ] || qft_die "a protected pool reads as retired"
ev=$(ft_qmp_ev e-p ft-stop --wait-event FT_STATE_CHANGE | tail -n1)
[ "$(echo "$ev" | jq -r .data.status)" = none ] || qft_die "ft-stop: event $ev"
read -r _ e1 _ <<<"$(ft_pool_commit "$pool")"; sleep 0.3
read -r _ e2 _ <<<"$(ft_pool_commit "$pool")"
[ "$e1" = "$e2" ] && [ "$e1" -gt 0 ] || qft_die "ft-stop: the commit word moved on ($e1 -> $e2)"
j=$(ft_pool_json "$pool")
[ "$(echo "$j" | jq -r .commit.retired)/$(echo "$j" | jq -r '."retire-reason"')" = true/ft-stop ] ||
    qft_die "ft-stop did not retire the pool: $(echo "$j" | jq -c .commit)"
ok "ft-stop: FT_STATE_CHANGE none; the pool keeps epoch $e1 and is retired (ftpool-inspect: $(echo "$j" | jq -c .commit))"
expect_qmp_error e-p ft-start "{\"pool\": \"$pool\"}" "a pool is never reused"
expect_qmp_error e-t ft-promote '{}' "retired at epoch $e1 (ft-stop)"
[ "$(ft_qmp e-t query-status | jq -r .status)" = prelaunch ] || qft_die "after a refused promotion of a retired pool the standby runs"
ft_standby_start e-u b "$pool" 64M --no-attach -machine pc,memory-backend=ram -m 64M -accel tcg
expect_qmp_error e-u ft-standby "{\"pool\": \"$pool\"}" "retired at epoch $e1 (ft-stop)"
kill -9 "$(qft_vm_pid e-u)"
kill -9 "$(qft_vm_pid e-s)" "$(qft_vm_pid e-w)" "$(qft_vm_pid e-t)"
kill -9 "$(qft_vm_pid e-p)"

# ---- 1 + 2: corruption and torn slot --------------------------------------
pool=/dev/shm/$QFT_TAG-c.pool
# shellcheck disable=SC2046
pair c "$pool" 32M $(bb_args)
sleep 1
kill -STOP "$(qft_vm_pid c-p)"
sleep 0.3
# Where each region is: ftpool-inspect's JSON, never our own layout constants.
j=$(ft_pool_json "$pool")
read -r gen epoch slot <<<"$(echo "$j" | jq -r '.commit | "\(.generation) \(.epoch) \(."slot-index")"')"
read -r nr_pages hdr_at rec_at rec_bytes data_at dev_at other_off page_size <<<"$(echo "$j" | jq -r --argjson s "$slot" \
    '.slots[$s] as $c | "\($c.pages) \($c."header-offsets".epoch) \($c."records-offset") \($c."records-bytes") \($c."data-offset") \($c."devstate-offset") \(.slots[1 - $s].offset) \(."page-size")"')"
[ "$nr_pages" -gt 6 ] || qft_die "the committed slot has only $nr_pages pages; the bootblock should dirty more"
S=$(printf '%b' "\\x$(printf '%x' $((65 + slot)))")
echo "# committed: generation $gen epoch $epoch slot $S, $nr_pages pages"

declare -A regions=(
    [header]="$hdr_at:committed slot $S (epoch $epoch): header CRC mismatch"
    [records]="$((rec_at + rec_bytes / 2 + 1)):committed slot $S: page records CRC mismatch"
    [page]="$((data_at + 5 * page_size + 77)):committed slot $S record 5: page CRC mismatch at base offset"
    [devstate]="$((dev_at + 100)):committed slot $S: device state CRC mismatch"
)
for r in header records page devstate; do
    at=${regions[$r]%%:*} want=${regions[$r]#*:}
    flip "$pool" "$at"
    if out=$(ft_qmp c-s ft-promote 2>&1); then
        qft_die "corrupt $r: the standby promoted: $out"
    fi
    echo "$out" | grep -qF "$want" || qft_die "corrupt $r: expected '$want', got: $out"
    [ "$(ft_qmp c-s query-status | jq -r .status)" = prelaunch ] || qft_die "corrupt $r: the standby did not stay paused"
    [ "$(ft_pool_commit "$pool")" = "$gen $epoch $slot" ] || qft_die "corrupt $r: the commit word changed: $(ft_pool_commit "$pool")"
    flip "$pool" "$at"
    ok "corrupt $r: promotion refused (${out#*GenericError: }), standby paused, generation untouched"
done

# Tear the uncommitted slot: garbage over its header and records.
head -c 65536 /dev/urandom | dd of="$pool" bs=1 seek="$other_off" conv=notrunc status=none
out=$(ft_qmp c-s ft-promote '{"x-digest": true}') || qft_die "torn uncommitted slot: promotion refused: $out"
[ "$(echo "$out" | jq -r .epoch)" = "$epoch" ] || qft_die "torn slot: restored $(echo "$out" | jq -r .epoch), committed was $epoch"
grep -qx "epoch $epoch generation $gen sha256 $(echo "$out" | jq -r .digest)" "$QFT_RUN/c.digests" ||
    qft_die "torn slot: the restored digest is not the one recorded for epoch $epoch"
ok "torn uncommitted slot ignored: restored epoch $epoch with the primary's digest"
kill -9 "$(qft_vm_pid c-p)" "$(qft_vm_pid c-s)"

# ---- 2b: a standby whose devices do not match ------------------------------
# The device state is loaded before the CAS: a standby that cannot load it
# is refused without taking the pool over; the primary stays protected.
pool=/dev/shm/$QFT_TAG-d.pool
# shellcheck disable=SC2046
ft_primary_start d-p a "$pool" 32M $(bb_args) -device virtio-rng-pci
# shellcheck disable=SC2046
ft_standby_start d-s b "$pool" 32M $(bb_args)
sleep 0.5
if out=$(ft_qmp d-s ft-promote 2>&1); then qft_die "device mismatch: the standby promoted: $out"; fi
echo "$out" | grep -q "promotion refused before taking the pool over (the primary is still protected): ft: loading the device state failed" ||
    qft_die "device mismatch: unexpected error: $out"
read -r g1 e1 _ <<<"$(ft_pool_commit "$pool")"; sleep 0.5
read -r g2 e2 _ <<<"$(ft_pool_commit "$pool")"
[ "$g1/$g2" = 1/1 ] && [ "$e2" -gt "$e1" ] && [ "$(ft_qmp d-p query-ft | jq -r .status)" = protected ] ||
    qft_die "device mismatch: the refused promotion touched the primary (generation $g1 -> $g2, epoch $e1 -> $e2, status $(ft_qmp d-p query-ft | jq -r .status))"
[ "$(ft_qmp d-s query-status | jq -r .status)/$(ft_qmp d-s query-ft | jq -r .status)" = prelaunch/standby ] ||
    qft_die "device mismatch: the standby is not a paused standby after the refusal"
ok "device mismatch: promotion refused before the takeover (${out#*GenericError: }); generation 1, the primary commits on (epoch $e1 -> $e2)"
kill -9 "$(qft_vm_pid d-p)" "$(qft_vm_pid d-s)"
rm -f "$pool"

# ---- 3: fencing -------------------------------------------------------------
pool=/dev/shm/$QFT_TAG-f.pool
# shellcheck disable=SC2046
pair f "$pool" 32M $(bb_args) $(qft_nic_args) -object filter-ft,id=ftf,netdev=n0,queue=all
sleep 0.5
# Control: a SIGSTOP alone does not fence: the primary commits on.
kill -STOP "$(qft_vm_pid f-p)"; sleep 0.3
read -r _ e1 _ <<<"$(ft_pool_commit "$pool")"
kill -CONT "$(qft_vm_pid f-p)"; sleep 1
read -r g2 e2 _ <<<"$(ft_pool_commit "$pool")"
[ "$g2" = 1 ] && [ "$e2" -gt "$e1" ] || qft_die "control: after SIGSTOP/SIGCONT the primary did not commit on ($e1 -> $e2, generation $g2)"
ok "control: SIGSTOP/SIGCONT without a promotion: the primary commits on (epoch $e1 -> $e2)"

"$QFT_QMP" --timeout-ms 30000 "$QFT_RUN/f-p-ev.qmp" --wait-event FT_FENCED >"$QFT_RUN/fenced.json" &
waiter=$!
sleep 0.3
kill -STOP "$(qft_vm_pid f-p)"
qft_in a timeout 3 tcpdump -i tap0 -Q in -nn -e -c 1 ether src "$QFT_GUEST_MAC" >"$QFT_RUN/tap.txt" 2>/dev/null &
capture=$!
qft_in b timeout 3 tcpdump -i tap0 -Q in -nn -e -c 1 ether src "$QFT_GUEST_MAC" >"$QFT_RUN/tap-b.txt" 2>/dev/null &
capture_b=$!
sleep 0.5   # both captures running
out=$(ft_qmp f-s ft-promote) || qft_die "fencing: promotion refused: $out"
word=$(ft_pool_commit "$pool")
read -r base_off base_size <<<"$(ft_pool_get "$pool" '"\(."base-offset") \(."base-size")"')"
base_sum() { dd if="$pool" iflag=skip_bytes,count_bytes skip="$base_off" count="$base_size" bs=2M status=none | sha256sum; }
base_before=$(base_sum)
sleep 0.5
kill -CONT "$(qft_vm_pid f-p)"
wait "$waiter" || qft_die "fencing: no FT_FENCED event after SIGCONT"
ev=$(tail -n1 "$QFT_RUN/fenced.json")
[ "$(echo "$ev" | jq -r .data.generation)/$(echo "$ev" | jq -r '.data["pool-generation"]')" = 1/2 ] || qft_die "fencing: event $ev"
ok "fencing: FT_FENCED after SIGCONT: $(echo "$ev" | jq -c .data)"
sleep 1
[ "$(ft_qmp f-p query-ft | jq -r .status)" = fenced ] || qft_die "fencing: status $(ft_qmp f-p query-ft | jq -r .status)"
[ "$(ft_pool_commit "$pool")" = "$word" ] || qft_die "fencing: the fenced primary moved the commit word: $word -> $(ft_pool_commit "$pool")"
[ "$(base_sum)" = "$base_before" ] || qft_die "fencing: the fenced primary wrote the base image"
ok "fencing: status fenced; commit word ($word) and base image unchanged"
wait "$capture" "$capture_b" || true
grep -q . "$QFT_RUN/tap-b.txt" || qft_die "control: the capture on host-b's tap0 saw no frame from the promoted VM (announce): the capture cannot see frames"
! grep -q . "$QFT_RUN/tap.txt" || qft_die "fencing: a frame from the old primary reached its tap: $(cat "$QFT_RUN/tap.txt")"
ok "control: the promoted VM's announce was captured on host-b's tap0: $(cut -c1-80 "$QFT_RUN/tap-b.txt")"
ok "fencing: no frame sent by the fenced primary into host-a's tap0"
# Anything sent after the fence is dropped too: announce-self on the fenced
# VM (RARP frames from its NIC). Control: the same on the promoted VM is
# captured on host-b.
announce='{"initial": 50, "max": 100, "rounds": 3, "step": 10}'
qft_in a timeout 2 tcpdump -i tap0 -Q in -nn -e -c 1 ether src "$QFT_GUEST_MAC" >"$QFT_RUN/tap-ann.txt" 2>/dev/null &
capture=$!
qft_in b timeout 2 tcpdump -i tap0 -Q in -nn -e -c 1 ether src "$QFT_GUEST_MAC" >"$QFT_RUN/tap-ann-b.txt" 2>/dev/null &
capture_b=$!
sleep 0.5
dropped0=$(ft_qmp f-p query-ft | jq -r '."tx-dropped"')
ft_qmp f-p announce-self "$announce" >/dev/null
ft_qmp f-s announce-self "$announce" >/dev/null
wait "$capture" "$capture_b" || true
dropped=$(ft_qmp f-p query-ft | jq -r '."tx-dropped"')
grep -q . "$QFT_RUN/tap-ann-b.txt" || qft_die "control: the promoted VM's announce-self was not captured on host-b"
! grep -q . "$QFT_RUN/tap-ann.txt" || qft_die "fencing: the fenced primary's announce-self reached its tap: $(cat "$QFT_RUN/tap-ann.txt")"
[ "$dropped" -gt "$dropped0" ] || qft_die "fencing: announce-self on the fenced VM: tx-dropped $dropped0 -> $dropped"
ok "fencing: announce-self on the fenced primary: nothing on host-a's tap0, tx-dropped $dropped0 -> $dropped (control: the promoted VM's announce seen on host-b)"
if out=$(ft_qmp f-p object-del '{"id": "ftf"}' 2>&1); then qft_die "fencing: the fenced VM let its filter-ft be deleted"; fi
ok "fencing: object-del of the fenced VM's filter-ft refused: ${out#*GenericError: }"
# A promoted pool serves no second standby (it would be a second VM on the
# promoted VM's base image and disks).
# shellcheck disable=SC2046
ft_standby_start f-t b "$pool" 32M --no-attach $(bb_args)
expect_qmp_error f-t ft-standby "{\"pool\": \"$pool\"}" "promoted already (generation 2)"
kill -9 "$(qft_vm_pid f-t)"
if out=$(ft_qmp f-p cont 2>&1); then qft_die "fencing: the fenced VM accepted cont"; fi
echo "$out" | grep -q "fenced" || qft_die "fencing: cont refused without naming the fence: $out"
ok "fencing: cont refused: ${out#*GenericError: }"
kill -9 "$(qft_vm_pid f-p)" "$(qft_vm_pid f-s)"

# ---- 4: RAM mapped, not copied ---------------------------------------------
private_dirty_kb() { awk '/^Private_Dirty:/ {print $2}' "/proc/$1/smaps_rollup"; }
mapped_growth() { # NAME POOL -> "growth_kb pages"
    local n=$1 pool=$2 before out
    kill -9 "$(qft_vm_pid "$n-p")"
    before=$(private_dirty_kb "$(qft_vm_pid "$n-s")")
    out=$(ft_qmp "$n-s" ft-promote) || qft_die "$n: promotion refused: $out"
    echo "$(($(private_dirty_kb "$(qft_vm_pid "$n-s")") - before)) $(echo "$out" | jq -r .pages)"
}
pool=/dev/shm/$QFT_TAG-m.pool
pair m "$pool" 256M -machine pc,memory-backend=ram -m 256M -accel tcg
sleep 0.5
read -r growth pages <<<"$(mapped_growth m "$pool")"
limit=$((pages * 4 + 16384))
[ "$growth" -le "$limit" ] || qft_die "mapped: Private_Dirty grew by $growth kB at promotion, more than $pages pages + 16 MiB ($limit kB)"
ok "mapped: Private_Dirty grew by $growth kB at promotion ($pages slot pages; limit $limit kB)"
kill -9 "$(qft_vm_pid m-s)"

# Control: the same standby with its RAM not mapped from the pool copies it.
pool=/dev/shm/$QFT_TAG-n.pool
ft_primary_start n-p a "$pool" 256M -machine pc,memory-backend=ram -m 256M -accel tcg
ft_standby_start n-s b "$pool" 256M --own-ram -machine pc,memory-backend=ram -m 256M -accel tcg
read -r growth pages <<<"$(mapped_growth n "$pool")"
[ "$growth" -gt $((256 * 1024)) ] || qft_die "control: a copying standby grew by only $growth kB: the measurement cannot tell mapped from copied"
ok "control: a standby with its own RAM grows by $growth kB (copied)"
# ---- 5: in-flight RX log ---------------------------------------------------
# rx NAME CORRUPT(yes|no): prints ft-promote's answer
rx() {
    local n=$1 corrupt=$2 pool=/dev/shm/$QFT_TAG-$1.pool at capture
    # An ne2k_pci takes frames whatever the guest does (the bootblock drives
    # no NIC; a virtio-net without a driver would leave them in the tap).
    # shellcheck disable=SC2046
    pair "$n" "$pool" 32M $(bb_args) -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
        -device "ne2k_pci,netdev=n0,mac=$QFT_GUEST_MAC,romfile=" -object filter-ft,id=ft0,netdev=n0,queue=all
    ft_qmp_ev "$n-p" x-ft-fault-point '{"point": "commit"}' --wait-event FT_FAULT_POINT >/dev/null
    # 20 UDP datagrams, sent to the broadcast MAC: the switches flood them to
    # every tap (the guest's MAC may be learnt on host-b from an earlier
    # promotion's announce, and this bootblock guest never sends a frame)
    qft_in client ip neigh replace "$QFT_GUEST_IP" lladdr ff:ff:ff:ff:ff:ff dev eth0
    qft_in client bash -c "for i in \$(seq 20); do echo \$i >/dev/udp/$QFT_GUEST_IP/9; sleep 0.02; done"
    sleep 0.3
    kill -9 "$(qft_vm_pid "$n-p")"
    if [ "$corrupt" = yes ]; then
        # a payload byte of the first record a promotion would replay
        at=$("$QFT_INSPECT" --log-records "$pool" | jq -r '.records[0]."data-offset" // empty') ||
            qft_die "$n: ftpool-inspect --log-records failed"
        [ -n "$at" ] || qft_die "$n: nothing logged to corrupt"
        flip "$pool" "$((at + 3))"
    fi
    # What a promotion would replay, read by libftpool (independently of QEMU)
    "$QFT_INSPECT" --log-records "$pool" >"$QFT_RUN/$n-log.json" || qft_die "$n: ftpool-inspect --log-records failed"
    qft_in b timeout 3 tcpdump -i tap0 -Q in -nn -e -c 1 ether src "$QFT_GUEST_MAC" >"$QFT_RUN/$n-tap-b.txt" 2>/dev/null &
    capture=$!
    sleep 0.5   # capture running
    if [ "$corrupt" = yes ]; then
        ft_qmp "$n-s" migrate-set-parameters '{"announce-rounds": 0}' >/dev/null
    fi
    ft_qmp "$n-s" ft-promote || qft_die "$n: promotion refused"
    wait "$capture" || true
    kill -9 "$(qft_vm_pid "$n-s")"
    rm -f "$pool"
}
# datagram_counts LOG-JSON: "i count" for each UDP datagram to port 9 among
# the records (Ethernet 14 + IPv4 20 + UDP 8 bytes, then "i\n", then the
# padding to Ethernet's 60 bytes)
datagram_counts() {
    jq -r '.records[].data | select(.[24:28] == "0800" and .[46:48] == "11" and .[72:76] == "0009") | .[84:] | sub("0a.*$"; "")' "$1" |
        while read -r hex; do printf '%b\n' "$(echo "$hex" | sed 's/../\\x&/g')"; done | sort -n | uniq -c | awk '{print $2, $1}'
}
# every datagram 1..20 exactly once, or the first that is not
check_datagrams() {
    local i c
    for i in $(seq 20); do
        c=$(datagram_counts "$1" | awk -v i="$i" '$1 == i {print $2}')
        [ "${c:-0}" = 1 ] || { echo "datagram $i logged ${c:-0} times"; return 1; }
    done
}
out=$(rx r1 no)
[ "$(echo "$out" | jq -r '."rx-unmatched"')" = 0 ] || qft_die "RX: frames matched no filter: $out"
why=$(check_datagrams "$QFT_RUN/r1-log.json") ||
    qft_die "RX: the log a promotion replays is wrong: $why (libftpool: $(jq -c '{n: (.records | length), end: ."end", seqs: [.records[] | .seq], kinds: [.records[] | .data[24:28]]}' "$QFT_RUN/r1-log.json" | cut -c1-600); QEMU: $(echo "$out" | jq -c '{"rx-replayed", "rx-log-end"}'); counts: $(datagram_counts "$QFT_RUN/r1-log.json" | tr '\n' ' '))"
pending=$(jq '.records | length' "$QFT_RUN/r1-log.json")
[ "$(echo "$out" | jq -r '."rx-replayed"')" = "$pending" ] ||
    qft_die "RX: QEMU replayed $(echo "$out" | jq -r '."rx-replayed"') frames, the pool holds $pending after the checkpoint (over- or under-replay)"
ok "RX: frames that reached the stopped-at-commit primary replayed at promotion: $(echo "$out" | jq -c '{"rx-replayed", "rx-log-end"}'), exactly the $pending records libftpool finds, each of the 20 datagrams once"
# Control: the same check on the log with one record duplicated fails.
jq '.records += [.records[] | select(.data[24:28] == "0800" and .data[46:48] == "11" and .data[72:76] == "0009")][0:1]' \
    "$QFT_RUN/r1-log.json" >"$QFT_RUN/r1-dup.json"
if why=$(check_datagrams "$QFT_RUN/r1-dup.json"); then qft_die "control: a duplicated datagram passed the replay check"; fi
ok "RX control: the check sees a duplicated frame ($why)"
out=$(rx r2 yes)
[ "$(echo "$out" | jq -r '."rx-replayed"')" = 0 ] && [ "$(echo "$out" | jq -r '."rx-log-end"')" = torn-payload ] ||
    qft_die "RX control: a torn first record did not end the log: $out"
ok "RX control: a flipped payload byte in the first logged frame ends the log there: $(echo "$out" | jq -c '{"rx-replayed", "rx-log-end"}')"
grep -q "0x8035" "$QFT_RUN/r1-tap-b.txt" || qft_die "announce: no RARP from the guest's MAC on host-b's tap0 after the promotion: $(cat "$QFT_RUN/r1-tap-b.txt")"
ok "announce: right after the promotion host-b's tap0 carried $(cut -c1-90 "$QFT_RUN/r1-tap-b.txt")"
! grep -q . "$QFT_RUN/r2-tap-b.txt" || qft_die "announce control: a frame from the guest's MAC with announce-rounds 0: $(cat "$QFT_RUN/r2-tap-b.txt")"
ok "announce control: with announce-rounds 0 nothing from the guest's MAC reached host-b's tap0"

# ---- 7: RX log back-pressure -----------------------------------------------
# A 64 KiB RX log and 2 s epochs: a flood of frames fills the ring to 3/4,
# which asks for early checkpoints (their commits free the ring), so more
# epochs commit during the flood than 2 s epochs allow. Control: the same
# time without the flood commits at most two.
pool=/dev/shm/$QFT_TAG-k.pool
# shellcheck disable=SC2046
ft_primary_start k-p a "$pool" 32M --ft '"epoch-ms": 2000, "rx-log-size": 65536' $(bb_args) \
    -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off \
    -device "ne2k_pci,netdev=n0,mac=$QFT_GUEST_MAC,romfile=" -object filter-ft,id=ft0,netdev=n0,queue=all
# ft-start's sizes land where they were asked (they were once swapped)
j=$(ft_pool_json "$pool")
[ "$(echo "$j" | jq -r '."log-size"')" = 65536 ] && [ "$(echo "$j" | jq -r '."slot-max-disk"')" = $((16 << 20)) ] ||
    qft_die "ft-start rx-log-size 65536: the pool has log-size $(echo "$j" | jq -r '."log-size"'), slot-max-disk $(echo "$j" | jq -r '."slot-max-disk"')"
ok "ft-start rx-log-size 65536: the pool's log is 65536 bytes, its disk area the default 16 MiB"
qft_in client ip neigh replace "$QFT_GUEST_IP" lladdr ff:ff:ff:ff:ff:ff dev eth0
sleep 0.2
q0=$(ft_qmp k-p query-ft | jq -r .epochs); sleep 3
q1=$(ft_qmp k-p query-ft | jq -r .epochs)
qft_in client bash -c "end=\$((SECONDS + 3)); while [ \$SECONDS -lt \$end ]; do head -c 1400 /dev/zero >/dev/udp/$QFT_GUEST_IP/9; done"
info=$(ft_qmp k-p query-ft)
f1=$(echo "$info" | jq -r .epochs)
[ $((q1 - q0)) -le 2 ] || qft_die "RX back-pressure control: $((q1 - q0)) epochs in 3 quiet seconds with 2 s epochs"
[ $((f1 - q1)) -ge 4 ] || qft_die "RX back-pressure: only $((f1 - q1)) epochs during 3 s of flood into a 64 KiB log ($(echo "$info" | jq -c '{"rx-logged", "rx-unlogged"}'))"
ok "RX back-pressure: $((f1 - q1)) epochs in 3 s of flood (2 s epochs, 64 KiB log; $(echo "$info" | jq -c '{"rx-logged", "rx-unlogged"}')); control: $((q1 - q0)) in 3 quiet seconds"
kill -9 "$(qft_vm_pid k-p)"
rm -f "$pool"

# ---- 8: the initial sync bounds and reports the first pause --------------
# A 256 MiB bootblock guest dirties all of its RAM between two sync passes,
# so the sync cannot get below its bound (4 MiB here: a 64th of RAM, under
# the 8 MiB cap) and says so: sync-left-pages is what the first checkpoint
# copied, exactly the pages of epoch 1's slot (10 s epochs keep it in the
# pool). Control, differing only in the guest being stopped: a few pages.
for mode in running stopped; do
    pool=/dev/shm/$QFT_TAG-y$mode.pool
    # shellcheck disable=SC2046
    qft_vm_start y$mode a $(bb_args | sed 's/-m 32M/-m 256M/') -object memory-backend-ram,id=ram,size=256M
    sleep 1
    [ "$mode" = stopped ] && ft_qmp y$mode stop >/dev/null
    ft_protect y$mode "$pool" '"epoch-ms": 10000' 120
    left=$(ft_qmp y$mode query-ft | jq -r '."sync-left-pages"')
    first=$(ft_pool_json "$pool" | jq -r '.slots[] | select(.epoch == 1) | .pages')
    case $mode in
    running)
        [ "$left" -gt 1024 ] || qft_die "sync: a guest dirtying all its RAM left only $left pages after the sync"
        [ "$first" = "$left" ] || qft_die "sync: $left pages reported left, the first checkpoint copied $first"
        ;;
    stopped)
        [ "$left" = "$first" ] && [ "$left" -le 1024 ] || qft_die "sync control: a stopped guest left $left pages, the first checkpoint copied $first"
        ;;
    esac
    ok "initial sync, guest $mode: sync-left-pages $left, the first checkpoint copied $first pages"
    kill -9 "$(qft_vm_pid y$mode)"
    rm -f "$pool"
done

echo "$passed passed, 0 failed"
