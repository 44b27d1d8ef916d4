#!/usr/bin/env bash
# Zero acknowledged loss over the network (output commit, issue 5 item 1):
# a client sends increments to the counter service of the protected Linux
# guest and checks every answer (qft-counter-client: each acknowledged value
# is above the last one, so an acknowledged increment that the promoted
# standby does not have shows up as a repeated or lower value). The primary
# is killed at a random moment, the standby promoted; the client's stream
# resumes and every answer still passes.
#   ft-zero-loss.sh GUEST_DIR COUNTER_CLIENT QFT_QMP [ITERATIONS]
# filter-ft (queue=all) holds the guest's output until its epoch commits and
# logs the frames delivered to the guest in the pool; the promoted standby
# replays those that arrived after its checkpoint. Each iteration reports
# the TX packets held and released and the RX frames logged and replayed;
# over the suite each count must be > 0. The guest's service also appends
# each value to /counter.log on its virtio-blk disk (under ft-disk; raw and
# qcow2 images in turn) and fsyncs before answering: after the promoted guest
# quits, every acknowledged value must be on the image. Negative control: the
# same run without filter-ft must lose acknowledged values (the client
# reports a violation: exit status $QFT_COUNTER_VIOLATION).
# Checkpoints start on output (ft-start's default trigger); iteration 1 runs
# with trigger=timer. Then output commit alone (queue=rx, no RX replay) with
# the primary held inside a commit when it is killed: no acknowledged value
# is lost; its negative control differs only by x-release-early (the first
# frame of each epoch leaves before its commit) and must lose one.
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3 iterations=${4:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
ft_linux_guest "$guest" jq mkfs.ext4 debugfs e2fsck

qft_init
qft_net_up
passed=0 total_held=0 total_released=0 total_logged=0 total_replayed=0
mem=256M
declare -A client_rc=()

# run I FILTER(yes|no) [QUEUE] [FT-START-EXTRA] [HOLD(yes)] -> the client's
# exit status (also in ${client_rc[I]}); sets $summary. HOLD: the primary is
# held inside the commit of an epoch (x-ft-fault-point commit) for 0.3 s before the kill.
run() {
    local i=$1 filter=$2 queue=${3:-all} extra=${4:-} hold=${5:-} pool=/dev/shm/$QFT_TAG-pool-$1 cpid rc info
    local fmt=raw img="" ftx=""
    [ $((${i//[!0-9]/} % 2)) = 0 ] && fmt=qcow2
    # The control differs from the real run only by filter-ft
    img=$QFT_RUN/disk-$i.$fmt
    ft_disk_make "$fmt" "$img"
    ft_linux_args --mem $mem --disk /dev/vda --filter "$([ "$filter" = yes ] && echo "$queue" || echo none)"
    # The control has no filter-ft, which ft-start refuses: x-skip-checks
    [ "$filter" = yes ] || ftx='"x-skip-checks": true'
    # shellcheck disable=SC2046
    ft_primary_start p$i a "$pool" $mem --ready 'qft-guest: ready' 120 --ft "$ftx${extra:+${ftx:+, }$extra}" \
        "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" ftdisk)
    # shellcheck disable=SC2046
    ft_standby_start s$i b "$pool" $mem "${FT_LINUX_ARGS[@]}" $(ft_disk_args "$fmt" "$img" ftdisk)
    # A stalled connection is given up after 1 s and reopened (--reconnect);
    # the client stops at its deadline, well after the failover.
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 1000000 --timeout-ms 1000 \
        --reconnect --deadline-ms 7000 --log "$QFT_RUN/acks-$i" --json \
        >"$QFT_RUN/client-$i.json" 2>"$QFT_RUN/client-$i.err" &
    cpid=$!
    sleep "$((1 + RANDOM % 2)).$((RANDOM % 10))"
    if [ "$hold" = yes ]; then
        ft_qmp p$i x-ft-fault-point '{"point": "commit"}' >/dev/null
        sleep 0.3
    fi
    info=$(ft_qmp p$i query-ft)
    ft_kill_dead p$i
    ft_promote_dead s$i >"$QFT_RUN/promote-$i.json" || qft_die "iteration $i: promotion refused"
    acks_at_promotion=$(wc -l <"$QFT_RUN/acks-$i")
    ft_client_wait "$cpid"
    rc=$ft_client_rc
    client_rc[$i]=$ft_client_rc
    resumed=$(($(wc -l <"$QFT_RUN/acks-$i") - acks_at_promotion))
    held=$(echo "$info" | jq -r '."tx-held"'); released=$(echo "$info" | jq -r '."tx-released"')
    logged=$(echo "$info" | jq -r '."rx-logged"')
    replayed=$(jq -r '."rx-replayed"' "$QFT_RUN/promote-$i.json")
    log_end=$(jq -r '."rx-log-end"' "$QFT_RUN/promote-$i.json")
    local resumed=${resumed:-0}
    summary="$(jq -c '{acknowledged, last_value, reconnects, max_gap_ms}' "$QFT_RUN/client-$i.json" 2>/dev/null) $(head -c 300 "$QFT_RUN/client-$i.err" | tr '\n' ' ')"
    summary+=" $resumed answers after the promotion; trigger $(echo "$info" | jq -r .trigger), $(echo "$info" | jq -r '."output-epochs"') of $(echo "$info" | jq -r .epochs) epochs started by output; promoted epoch $(jq -r .epoch "$QFT_RUN/promote-$i.json"); filter-ft held $held, released $released, logged $logged RX frames before the kill; promotion replayed $replayed (log end: $log_end)"
    lost_on_disk=0 again_on_disk=0
    # The promoted guest quits cleanly; its image must hold every acknowledged
    # value, each once, in increasing order (a value written twice means the
    # promoted guest counted again from a state older than the disk's).
    [ -n "$img" ] || { kill -9 "$(qft_vm_pid s$i)" 2>/dev/null || true; rm -f "$pool"; return $rc; }
    ft_vm_quit s$i
    if [ "$fmt" = qcow2 ]; then
        ft_qcow2_check "$img" "iteration $i: the promoted guest's image"
    fi
    ft_disk_log "$fmt" "$img" "$QFT_RUN/disk-$i"
    awk '{print $2}' "$QFT_RUN/acks-$i" | sort >"$QFT_RUN/acked-$i"
    lost_on_disk=$(sort "$QFT_RUN/disk-$i" | comm -23 "$QFT_RUN/acked-$i" - | wc -l)
    again_on_disk=$(awk 'NR > 1 && $1 <= prev {n++} {prev = $1} END {print n + 0}' "$QFT_RUN/disk-$i")
    summary+="; $fmt disk holds $(wc -l <"$QFT_RUN/disk-$i") values, $lost_on_disk acknowledged ones missing, $again_on_disk not above the one before"
    # (a negative control expects the loss; the client's check says so)
    if [ "$filter" = yes ] && [ -z "${expect_loss:-}" ]; then
        [ "$lost_on_disk" = 0 ] || qft_die "iteration $i: acknowledged values missing from the promoted guest's disk: $summary"
        [ "$again_on_disk" = 0 ] || qft_die "iteration $i: the promoted guest's disk log goes back: $summary"
        total_held=$((total_held + held)); total_released=$((total_released + released))
        total_logged=$((total_logged + logged)); total_replayed=$((total_replayed + replayed))
        [ "$(jq -r '."rx-unmatched"' "$QFT_RUN/promote-$i.json")" = 0 ] ||
            qft_die "iteration $i: logged frames matched no filter-ft on the standby"
    fi
    kill -9 "$(qft_vm_pid s$i)" 2>/dev/null || true
    rm -f "$pool" "$img"
    return $rc
}

# The client stops at its deadline with its count unreached: exit 1 is the
# normal end; a violation is its own exit status (the message on stderr).
violated() { [ "${client_rc[$1]:-}" = "$QFT_COUNTER_VIOLATION" ]; }

for i in $(seq "$iterations"); do
    extra=""
    [ "$i" = 1 ] && extra='"trigger": "timer"'
    run "$i" yes all "$extra" || true
    violated "$i" && qft_die "iteration $i: an acknowledged value was lost: $summary"
    acked=$(jq -r .acknowledged "$QFT_RUN/client-$i.json")
    [ "$acked" -gt 0 ] || qft_die "iteration $i: nothing acknowledged: $summary"
    [ "$resumed" -ge 100 ] || qft_die "iteration $i: the client stream did not resume after the failover: $summary"
    echo "ok $i - no acknowledged value lost across the failover: $summary"
    passed=$((passed + 1))
done
[ "$total_logged" -gt 0 ] && [ "$total_replayed" -gt 0 ] ||
    qft_die "filter-ft never logged ($total_logged) or promotion never replayed ($total_replayed) an RX frame: RX replay was not exercised"
echo "# over the suite filter-ft logged $total_logged RX frames before the kills and promotions replayed $total_replayed"

# Output commit alone, the primary killed while held inside a commit: the
# answers of that epoch never left, so none was lost (queue=rx: the promoted
# guest does not get the requests again, so a released answer of a lost
# epoch would show; with RX replay the deterministic counter service would
# compute the same answer again and hide it).
run h1 yes rx "" yes || true
violated h1 && qft_die "held commit: an acknowledged value was lost: $summary"
[ "$(jq -r .acknowledged "$QFT_RUN/client-h1.json")" -gt 0 ] && [ "$resumed" -ge 100 ] ||
    qft_die "held commit: the client stream did not resume after the failover: $summary"
echo "ok - held inside a commit, output commit alone (queue=rx): no acknowledged value lost: $summary"
passed=$((passed + 1))
# tx-held is what filter-ft holds at the moment of the kill: with
# output-triggered checkpoints an answer is held for about a millisecond,
# so a kill at a random moment often finds none; the held commit above
# always does (its epoch's answer waits for a commit that never comes).
[ "$total_held" -gt 0 ] && [ "$total_released" -gt 0 ] ||
    qft_die "filter-ft never held ($total_held) or never released ($total_released) a packet: output commit was not exercised"
echo "# over the suite filter-ft held $total_held packets at the kills and released $total_released"
# control PREFIX MAX LABEL RUN-ARGS...: up to MAX runs of `run PREFIXk
# RUN-ARGS` until the client sees an acknowledged value lost; dies if none
# did, else counts a pass. A negative control expects the loss.
control() {
    local prefix=$1 max=$2 label=$3 k
    shift 3
    expect_loss=1
    for k in $(seq "$max"); do
        run "$prefix$k" "$@" || true
        echo "# control $prefix$k ($label): $summary"
        if violated "$prefix$k"; then
            echo "ok - control: $label (the only difference) lost an acknowledged value, in run $k of at most $max"
            passed=$((passed + 1))
            return 0
        fi
    done
    qft_die "control: $label, and no acknowledged value was lost in $max runs: the test cannot see the loss"
}

# Its negative control: the same run with x-release-early, the only
# difference. The epoch held in its commit released its first frame at once.
control e 3 "one frame per epoch released before its commit" yes rx '"x-release-early": true' yes

# Negative control: the same run without filter-ft (same disk under ft-disk,
# same kill, same immediate promotion). Answers after the checkpoint left at
# once, so the client saw values the promoted guest lost. That shows when the
# client's own bytes after the checkpoint were acknowledged too: the promoted
# guest never gets them, the connection stalls, and on its new one the client
# gets a value not above one it saw. When the lost window held none of the
# client's bytes, the guest's determinism recomputes the same answers on the
# same connection and nothing is observably lost (about half the runs here),
# so the control gets up to 8 runs and stops at the first loss.
control c 8 "without filter-ft" no
echo "$passed passed, 0 failed"
