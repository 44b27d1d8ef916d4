#!/usr/bin/env bash
# The windows around fencing and the end of protection (issue 16), with the
# Linux guest serving a client (live TX traffic) and logging every value to
# its disk (ft-disk; qcow2 and raw):
#  1. committed: the primary freezes itself (SIGSTOP) right after the CAS of
#     an epoch, before releasing its output and writing its disk writes.
#     The standby is promoted and serves the client for 2 s; then the old
#     primary is continued. It fences itself: host-a's tap sees no frame
#     from the guest's MAC after the SIGCONT (it dropped the epoch's held
#     frames: tx-dropped > 0; control: the same capture saw the traffic
#     before the freeze), and the image keeps the promoted guest's writes:
#     after a clean quit every acknowledged value is on it, in order
#     (qemu-img check for qcow2).
#  2. disk-apply: the primary freezes holding the disk-write intent of an
#     epoch (none of its writes written yet). ft-promote takes the pool over
#     but refuses to activate the disks (status promoting, paused, the pool
#     shows the intent); after SIGCONT the old primary fences, gives the
#     intent up, and ft-promote goes on; the image checks as in 1.
#     Killed instead of frozen there: the promotion waits the same way until
#     called with old-primary-dead, then redoes the epoch on the image.
#  3. retire: ft-stop with the client running retires the pool and only then
#     releases what was held: the client gets answers after the stop (output
#     the committed epoch lacks), and the standby is refused promotion
#     ("retired") and stays paused. Control: 1 and 2 promote unretired pools.
#   ft-fence.sh GUEST_DIR COUNTER_CLIENT QFT_QMP
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" mkfs.ext4 debugfs e2fsck jq tcpdump

qft_init
qft_net_up
mem=256M passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
ft_linux_args --mem $mem --disk /dev/vda

# pair N FMT: protected primary pN (host-a), paused standby sN (host-b)
pair() {
    local n=$1 fmt=$2
    img=$QFT_RUN/$n.$fmt pool=/dev/shm/$QFT_TAG-pool-$n
    ft_disk_make "$fmt" "$img"
    # shellcheck disable=SC2046
    ft_primary_start p$n a "$pool" $mem --ready 'qft-guest: ready' 180 \
        "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" ftdisk)
    # shellcheck disable=SC2046
    ft_standby_start s$n b "$pool" $mem "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" ftdisk)
}

client_start() { # N DEADLINE-MS
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 1000000 --timeout-ms 1000 \
        --reconnect --deadline-ms "$2" --log "$QFT_RUN/acks-$1" --json \
        >"$QFT_RUN/client-$1.json" 2>"$QFT_RUN/client-$1.err" &
    cpid=$!
}

wait_frozen() { # NAME: its process stopped itself (state T)
    local pid i
    pid=$(qft_vm_pid "$1")
    for i in $(seq 300); do
        [ "$(awk '{print $3}' "/proc/$pid/stat")" = T ] && return 0
        sleep 0.05
    done
    qft_die "$1 did not stop at its fault point within 15 s"
}

capture() { # HOST SECS OUT: frames from the guest's MAC into HOST's tap0
    qft_in "$1" timeout "$2" tcpdump -l -i tap0 -Q in -nn -e ether src "$QFT_GUEST_MAC" >"$3" 2>/dev/null &
    capture_pid=$!
}

# disk_check N FMT: after the promoted guest quit, every acknowledged value
# is on the image, strictly increasing
disk_check() {
    local n=$1 fmt=$2
    ft_vm_quit s$n
    # The fenced primary quits cleanly too: closing its images (qcow2 caches
    # an interrupted apply may have left dirty) must write nothing to them.
    if kill -0 "$(qft_vm_pid p$n)" 2>/dev/null; then
        ft_vm_quit p$n
        ! grep -qiE "assert|abort|core dumped" "$QFT_RUN/p$n.log" ||
            qft_die "$n: the fenced primary did not quit cleanly: $(grep -iE -m2 "assert|abort|core dumped" "$QFT_RUN/p$n.log")"
        echo "# $n: the fenced primary quit cleanly ($(grep -c . "$QFT_RUN/p$n.log") log lines)"
    fi
    ft_kill_dead p$n
    if [ "$fmt" = qcow2 ]; then
        ft_qcow2_check "$img" "$n: the promoted guest's qcow2 image"
    fi
    awk '{print $2}' "$QFT_RUN/acks-$n" | sort >"$QFT_RUN/acked-$n"
    ft_disk_log "$fmt" "$img" "$QFT_RUN/disk-$n"
    missing=$(comm -23 "$QFT_RUN/acked-$n" <(sort "$QFT_RUN/disk-$n") | head -5 | tr '\n' ' ')
    [ -z "$missing" ] || qft_die "$n: acknowledged values missing from the promoted guest's disk (the old primary wrote over it?): $missing"
    sort -n -c "$QFT_RUN/disk-$n" 2>/dev/null && [ -z "$(uniq -d "$QFT_RUN/disk-$n")" ] ||
        qft_die "$n: the log on the promoted guest's disk is not strictly increasing"
    [ "$ft_client_rc" != "$QFT_COUNTER_VIOLATION" ] ||
        qft_die "$n: the client saw an acknowledged value lost: $(head -c 300 "$QFT_RUN/client-$n.err")"
    ok "$n ($fmt): after the promotion (and the old primary's end) the promoted guest's image holds all $(wc -l <"$QFT_RUN/acked-$n") acknowledged values in order"
}

# ---- 1: frozen right after the CAS -----------------------------------------
pair committed qcow2
client_start committed 9000
sleep 1.5
capture a 1 "$QFT_RUN/tap-before.txt"; wait "$capture_pid" || true
grep -qi "$QFT_GUEST_MAC" "$QFT_RUN/tap-before.txt" ||
    qft_die "control: no frame from the guest on host-a's tap while protected: the capture cannot see the traffic"
before=$(grep -ci "$QFT_GUEST_MAC" "$QFT_RUN/tap-before.txt")
# The event waiter connects before the freeze (a stopped QEMU cannot greet)
"$QFT_QMP" --timeout-ms 60000 "$QFT_RUN/pcommitted-ev.qmp" --wait-event FT_FENCED >"$QFT_RUN/fenced.json" &
waiter=$!
sleep 0.3
ft_qmp pcommitted x-ft-fault-point '{"point": "committed", "stop": true}' >/dev/null
wait_frozen pcommitted
out=$(ft_qmp scommitted ft-promote) || qft_die "committed: promotion refused: $out"
echo "# committed: promoted epoch $(echo "$out" | jq -r .epoch), $(echo "$out" | jq -r '."disk-records"') disk writes redone"
sleep 2                                 # the promoted guest writes its disk
capture a 3 "$QFT_RUN/tap-after.txt"
sleep 0.5
kill -CONT "$(qft_vm_pid pcommitted)"
wait "$waiter" || qft_die "committed: no FT_FENCED after SIGCONT"
wait "$capture_pid" || true
info=$(ft_qmp pcommitted query-ft)
[ "$(echo "$info" | jq -r .status)" = fenced ] || qft_die "committed: the old primary is $(echo "$info" | jq -r .status), not fenced"
! grep -qi "$QFT_GUEST_MAC" "$QFT_RUN/tap-after.txt" ||
    qft_die "committed: frames from the fenced primary reached host-a's tap after SIGCONT: $(grep -i -m 2 "$QFT_GUEST_MAC" "$QFT_RUN/tap-after.txt")"
ok "committed: fenced after SIGCONT; host-a's tap saw no frame from it (control: $before frames in 1 s while protected); tx-dropped $(echo "$info" | jq -r '."tx-dropped"')"
[ "$(echo "$info" | jq -r '."tx-dropped"')" -gt 0 ] ||
    echo "# committed: the frozen epoch held no frame this run (tx-dropped 0)"
ft_client_wait "$cpid"
disk_check committed qcow2
rm -f "$pool"

# ---- 2: frozen holding the disk-write intent -------------------------------
pair intent raw
client_start intent 9000
sleep 1.5
ft_qmp pintent x-ft-fault-point '{"point": "disk-apply", "stop": true}' >/dev/null
wait_frozen pintent
j=$(ft_pool_json "$pool")
[ "$(echo "$j" | jq -r '."disk-intent".generation')" = 1 ] || qft_die "intent: the frozen primary holds no disk intent: $(echo "$j" | jq -c '."disk-intent"')"
if out=$(ft_qmp sintent ft-promote 2>&1); then qft_die "intent: promoted while the old primary held the disk intent: $out"; fi
echo "$out" | grep -q "promote again once it has stopped writing" || qft_die "intent: unexpected refusal: $out"
st=$(ft_qmp sintent query-ft)
[ "$(echo "$st" | jq -r .status)/$(ft_qmp sintent query-status | jq -r .status)" = promoting/prelaunch ] ||
    qft_die "intent: after the refusal the standby is $(echo "$st" | jq -r .status)/$(ft_qmp sintent query-status | jq -r .status)"
[ "$(ft_pool_json "$pool" | jq -r .commit.generation)" = 2 ] || qft_die "intent: the pool was not taken over"
ok "intent: ft-promote took the pool over (generation 2) but waits, paused, status promoting: ${out#*GenericError: }"
kill -CONT "$(qft_vm_pid pintent)"
ft_wait_status pintent fenced 20
[ "$(ft_pool_json "$pool" | jq -r '."disk-intent"')" = null ] || qft_die "intent: the fenced primary kept its disk intent"
out=$(ft_qmp sintent ft-promote) || qft_die "intent: promotion refused after the old primary fenced: $out"
ok "intent: the old primary fenced and gave the intent up; the promotion went on (epoch $(echo "$out" | jq -r .epoch), $(echo "$out" | jq -r '."disk-records"') disk writes redone)"
ft_client_wait "$cpid"
disk_check intent raw
rm -f "$pool"

# ---- 2b: killed holding the disk-write intent ------------------------------
# The primary dies while it writes a committed epoch to the images (its
# intent stays in the pool): ft-promote waits for it like in 2 (a frozen
# primary looks the same) until told old-primary-dead, then redoes the
# epoch; the image checks as in 1.
pair killed qcow2
client_start killed 9000
sleep 1.5
ft_qmp_ev pkilled x-ft-fault-point '{"point": "disk-apply"}' --wait-event FT_FAULT_POINT >/dev/null
ft_kill_dead pkilled
[ "$(ft_pool_json "$pool" | jq -r '."disk-intent".generation')" = 1 ] || qft_die "killed: the dead primary left no disk intent"
if out=$(ft_qmp skilled ft-promote 2>&1); then qft_die "killed: promoted without old-primary-dead while the intent was held: $out"; fi
echo "$out" | grep -q "old-primary-dead=true" || qft_die "killed: unexpected refusal: $out"
out=$(ft_promote_dead skilled) || qft_die "killed: promotion with old-primary-dead refused: $out"
ok "killed: a primary killed holding the disk intent: promotion waited, then with old-primary-dead redid epoch $(echo "$out" | jq -r .epoch) ($(echo "$out" | jq -r '."disk-records"') disk writes)"
ft_client_wait "$cpid"
disk_check killed qcow2
rm -f "$pool"

# ---- 3: ft-stop retires before it releases ---------------------------------
pair retire raw
client_start retire 6000
sleep 1.5
released=$(ft_qmp pretire query-ft | jq -r '."tx-released"')
ft_qmp pretire ft-stop >/dev/null
acks_at_stop=$(wc -l <"$QFT_RUN/acks-retire")
sleep 1
acks_after=$(wc -l <"$QFT_RUN/acks-retire")
[ "$acks_after" -gt "$acks_at_stop" ] || qft_die "retire: no answer after ft-stop: nothing released past the committed epoch, the test shows nothing"
j=$(ft_pool_json "$pool")
[ "$(echo "$j" | jq -r .commit.retired)" = true ] || qft_die "retire: the pool is not retired after ft-stop: $(echo "$j" | jq -c .commit)"
if out=$(ft_qmp sretire ft-promote 2>&1); then qft_die "retire: the standby promoted a retired pool: $out"; fi
echo "$out" | grep -q "retired at epoch" || qft_die "retire: unexpected refusal: $out"
[ "$(ft_qmp sretire query-status | jq -r .status)" = prelaunch ] || qft_die "retire: the standby runs"
ok "retire: after ft-stop the client got $((acks_after - acks_at_stop)) more answers (tx-released was $released); the pool is retired and the promotion refused: ${out#*GenericError: }"
ft_client_wait "$cpid"
ft_kill_dead pretire; ft_kill_dead sretire
rm -f "$pool"
echo "$passed passed, 0 failed"
