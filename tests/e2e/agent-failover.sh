#!/usr/bin/env bash
# ft-agentd end to end (issue 17): two agents on the netns hosts protect the
# Linux guest (counter service on TCP 7000, its log on an ft-disk); a client
# counts through the fault. One scenario per run:
#
#   kill-qemu     kill -9 the primary QEMU: host-a's pidfd reports it, host-b
#                 promotes (recorded source qemu-death), re-protects on host-a
#   kill-host     host-a's processes killed and its links cut at once: host-b
#                 promotes on heartbeat loss + a stopped pool (silent-host);
#                 host-a comes back (agent restarted), protection resumes
#   kill-host-intent  the same loss, the primary stopped inside its disk
#                 apply first (fault point, through the operator's QMP
#                 socket): host-b takes the pool over and waits (promoting:
#                 a frozen primary would write on); 50 epochs later still
#                 waiting; the operator confirms host-a is down: promoted,
#                 every acknowledged value on the disk
#   cut-link      only the management link is cut: the primary commits on,
#                 nothing promotes (the suspicion is counted), link restored
#   kill-standby  kill -9 the standby QEMU: replaced, protection restored
#   freeze-standby  SIGSTOP the standby QEMU: its health check (query-ft
#                 within qmp-timeout-ms) fails, it is replaced
#   restart-agent kill -9 host-a's agent, restart it: it adopts the running
#                 primary (same pid), nothing promotes
#   last-gasp     host-a's primary frozen (SIGSTOP) and its out-of-band
#                 sender says "panic": promoted, source last-gasp (frozen
#                 inside a disk apply: once it runs again and fences
#                 itself); control first: the same freeze without the gasp
#                 promotes nothing
#   ras           an uncorrected memory error posted to host-a's RAS intake:
#                 promoted, source ras; control first: a corrected one
#                 changes nothing; a bad event is refused naming the field
#   operator      POST /v1/vms/VM/failover on host-b: promoted, source
#                 operator; an unknown VM is refused naming it
#   protocol      forged (wrong key), malformed, other-version, stale,
#                 replayed and not-allowed datagrams reach host-a: each
#                 dropped and counted under its reason, nothing acted on;
#                 control: the same failover request, authentic, fails over
#
# Each: exactly one primary afterwards (captures on both taps: no frame from
# the old primary after the new one's first), no acknowledged value lost
# (the client's check, then the guest's disk), protection restored.
#   agent-failover.sh SCENARIO GUEST_DIR COUNTER_CLIENT
set -euo pipefail
scenario=$1 guest=$2 client=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
# shellcheck source=../lib/agent.sh
source "$top/tests/lib/agent.sh"
[ "$scenario" != protocol ] || qft_need python3
ft_linux_guest "$guest" mkfs.ext4 debugfs e2fsck jq curl tcpdump
qft_init
agent_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

disk=$QFT_RUN/disk.raw
ft_disk_make raw "$disk"
# Protected: the primary on host-a, a standby attached on host-b.
agent_pair_up "$guest" "$disk"
pool0=$(agent_vm a | jq -r .pool)
ok "protected by the agents: primary on host-a (pool $pool0), standby on host-b"

agent_capture_start
agent_client_start "$client"
agent_client_more 50 60
pid_a=$(agent_qemu_pid a)
pid_b=$(agent_qemu_pid b)

# the source's notification latency is exported on host-b
latency_exported() {
    local n
    n=$(agent_metric b "ftagent_notification_latency_seconds_count{source=\"$1\"}")
    [ "$n" != missing ] && [ "$n" -ge 1 ] || qft_die "host-b exports no $1 notification latency (count $n)"
    ok "notification latency of source $1 exported: count $n, last $(agent_metric b "ftagent_notification_latency_last_seconds{source=\"$1\"}") s"
}

# nothing happened for 50 epochs: host-b still the standby, no failover, the
# primary QEMU the same process
stays_protected() {
    sleep $(( QFT_EPOCH_MS * 50 / 1000 + 1 ))
    agent_wait b '.role == "standby" and .failovers == 0' 5
    [ "$(agent_qemu_pid a)" = "$pid_a" ] || qft_die "$1: the primary QEMU changed"
    ok "$1: no failover (host-b still the standby after 50 epochs, primary pid $pid_a)"
}

promoted_on_b() {
    local source=$1 tl
    agent_wait b '.role == "primary" and .failovers == 1' 30
    tl=$(agent_vm b | jq -c '.timelines[-1]')
    [ "$(echo "$tl" | jq -r .source)" = "$source" ] || qft_die "recorded source: $tl (expected $source)"
    [ "$(echo "$tl" | jq -r '."running-ns" > 0 and (.error == null)')" = true ] || qft_die "timeline: $tl"
    # fenced is the generation CAS (takeover-ns), which follows the
    # verification and the restore and precedes the vCPUs running
    [ "$(echo "$tl" | jq -r '."decided-ns" <= ."fenced-ns" and ."fenced-ns" <= ."running-ns"')" = true ] ||
        qft_die "timeline out of order (decided <= fenced <= running): $tl"
    ok "host-b promoted vm0 (source $source): $(echo "$tl" | jq -r '"fault +0, detected +\((."detected-ns" - ."fault-ns") / 1e6) ms, fenced +\((."fenced-ns" - ."fault-ns") / 1e6) ms, running +\((."running-ns" - ."fault-ns") / 1e6) ms, announced +\((."announced-ns" - ."fault-ns") / 1e6) ms, epoch \(.epoch), generation \(.generation)"')"
}

# the standby on host-b was replaced by a new one, the primary is the same
standby_replaced() {
    agent_wait b '.role == "standby" and .status == "standby"' 60
    agent_wait a '.protection == "protected"' 30
    [ "$(agent_qemu_pid b)" != "$pid_b" ] || qft_die "the standby (pid $pid_b) was not replaced"
    [ "$(agent_qemu_pid a)" = "$pid_a" ] || qft_die "the primary changed"
    ok "standby replaced (pid $pid_b -> $(agent_qemu_pid b)), protection restored"
    agent_client_more 50 60
}

reprotected_on_a() {
    agent_wait b '.protection == "protected"' 240
    agent_wait a '.role == "standby" and .status == "standby"' 30
    local pool1
    pool1=$(agent_vm b | jq -r .pool)
    [ "$pool1" != "$pool0" ] || qft_die "re-protection reused the promoted VM's pool $pool0"
    sync=$(agent_vm b | jq -r 'select(."sync-total" > 0 and ."sync-done" == ."sync-total") | "\(."sync-done")/\(."sync-total")"')
    [ -n "$sync" ] && [ "$(agent_metric b "ftagent_vm_sync_total_bytes{vm=\"$QFT_TAG-vm\"}")" -gt 0 ] ||
        qft_die "re-protection: no initial sync progress reported: $(agent_vm b | jq -c '{"sync-done", "sync-total"}')"
    ok "re-protected without an operator: primary on host-b (new pool $pool1, initial sync $sync bytes), standby on host-a"
}

case $scenario in
kill-qemu)
    kill -9 "$pid_a"
    promoted_on_b qemu-death
    latency_exported qemu-death
    agent_client_more 50 60
    reprotected_on_a
    ;;
kill-host)
    # the host dies: its processes and its links at once
    agent_host_links a down
    kill -9 "$(cat "$QFT_RUN/a/agent.pid")" "$pid_a"
    # promoted, or waiting (promoting) for the disk intent a primary killed
    # inside its disk apply never gives up: only host-a's return says it
    # is dead (its restarted agent finds the QEMU gone and reports it)
    agent_wait b '(.role == "primary" and .failovers == 1) or .status == "promoting"' 30
    waited=$(agent_vm b | jq -r '.status == "promoting"')
    # host-a back: its links, then its agent (its state names a dead QEMU)
    agent_host_links a up
    agent_start a
    promoted_on_b silent-host
    [ "$waited" = false ] || ok "the promotion waited for the killed primary's disk intent until host-a's agent reported its QEMU dead"
    latency_exported silent-host
    agent_client_more 50 60
    reprotected_on_a
    ;;
kill-host-intent)
    ops=$(ls "$QFT_RUN"/a/run/*-primary-*.ops.qmp | tail -n1)
    # stop=true: the QEMU SIGSTOPs itself there, holding the disk intent
    "$QFT_QMP" "$ops" x-ft-fault-point '{"point": "disk-apply", "stop": true}' >/dev/null ||
        qft_die "x-ft-fault-point on $ops failed"
    for _ in $(seq 300); do
        grep -q '^State:.*T' "/proc/$pid_a/status" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^State:.*T' "/proc/$pid_a/status" || qft_die "the primary never stopped at its disk-apply fault point"
    agent_host_links a down
    kill -9 "$(cat "$QFT_RUN/a/agent.pid")" "$pid_a"
    agent_wait b '.status == "promoting"' 30
    sleep $(( QFT_EPOCH_MS * 50 / 1000 + 1 ))
    agent_wait b '.status == "promoting" and .role == "standby" and .failovers == 0' 5
    why=$(agent_vm b | jq -r '.timelines[-1].error')
    echo "$why" | grep -q "old-primary-dead" || qft_die "the waiting promotion does not say how to go on: $why"
    ok "primary killed holding its disk intent: host-b took the pool and waits (promoting) 50 epochs later: $(echo "$why" | cut -c1-120)..."
    agent_api b "/v1/vms/$QFT_TAG-vm/failover" -X POST -d '{"old-primary-dead": true, "detail": "host-a powered off"}' >/dev/null
    promoted_on_b silent-host
    agent_client_more 50 60
    agent_host_links a up
    agent_start a
    reprotected_on_a
    ;;
cut-link)
    s0=$(agent_api b /metrics | awk '$1 == "ftagent_suspicions_total" {print $2}')
    e0=$(agent_vm a | jq -r .epoch)
    agent_mgmt_link down
    sleep $(( QFT_EPOCH_MS * 50 / 1000 + 1 ))
    agent_wait b '.role == "standby" and .failovers == 0' 5
    s1=$(agent_api b /metrics | awk '$1 == "ftagent_suspicions_total" {print $2}')
    e1=$(agent_vm a | jq -r .epoch)
    [ "$s1" -gt "$s0" ] || qft_die "cut link: host-b never noticed the silence (suspicions $s0 -> $s1)"
    [ "$e1" -gt "$e0" ] || qft_die "cut link: the primary stopped committing ($e0 -> $e1)"
    ok "management link cut: host-b suspected ($s0 -> $s1) but saw the pool advance ($e0 -> $e1): no promotion"
    agent_client_more 50 60
    agent_mgmt_link up
    agent_wait a '.protection == "protected"' 30
    [ "$(agent_qemu_pid a)" = "$pid_a" ] && [ "$(agent_qemu_pid b)" = "$pid_b" ] ||
        qft_die "cut link: a QEMU was replaced"
    ok "link restored: still primary on host-a (pid $pid_a), standby on host-b (pid $pid_b)"
    ;;
kill-standby)
    kill -9 "$pid_b"
    agent_wait a '.protection != "protected"' 10
    ok "standby killed: host-a reports protection '$(agent_vm a | jq -r .protection)'"
    agent_wait b '."standby-deaths" == 1' 60
    standby_replaced
    ;;
freeze-standby)
    kill -STOP "$pid_b"
    agent_wait b '."standby-deaths" == 1' 30
    grep -q "the standby (pid $pid_b) is unhealthy" "$QFT_RUN/b/agent.log" ||
        qft_die "no health-check failure logged for the frozen standby"
    ok "frozen standby found unhealthy: $(grep -o "the standby (pid $pid_b) is unhealthy.*" "$QFT_RUN/b/agent.log" | head -1 | cut -c1-160)"
    standby_replaced
    ;;
restart-agent)
    agent_kill a
    sleep $(( QFT_EPOCH_MS * 50 / 1000 + 1 ))
    agent_wait b '.role == "standby" and .failovers == 0' 5
    ok "host-a's agent dead: host-b did not promote (the pool advances)"
    agent_start a
    agent_wait a '.role == "primary" and .protection == "protected"' 30
    [ "$(agent_qemu_pid a)" = "$pid_a" ] || qft_die "the restarted agent did not adopt pid $pid_a"
    grep -q "adopted the primary QEMU (pid $pid_a" "$QFT_RUN/a/agent.log" ||
        qft_die "no adoption logged"
    ok "the restarted agent adopted the running primary (pid $pid_a) without disturbing it"
    agent_client_more 50 60
    ;;
last-gasp)
    # control: the primary QEMU frozen, its agent alive, no gasp
    kill -STOP "$pid_a"
    stays_protected "primary frozen without a last gasp"
    kill -CONT "$pid_a"
    agent_client_more 20 60
    # the fault: the same freeze, then the host's out-of-band sender
    kill -STOP "$pid_a"
    qft_in a "$AGENT_SEND" --config "$QFT_RUN/a/agent.conf" last-gasp host-b panic ||
        qft_die "ft-agent-send last-gasp failed"
    # promoted, or waiting (promoting) because the freeze came inside a disk
    # apply (with output-triggered checkpoints a good share of the time): a
    # gasp does not say that the frozen QEMU will never write again; once it
    # runs, it finds the pool taken over, fences itself and gives the intent
    # up, and the promotion goes on
    agent_wait b '(.role == "primary" and .failovers == 1) or .status == "promoting"' 30
    waited=$(agent_vm b | jq -r '.status == "promoting"')
    [ "$waited" = false ] || kill -CONT "$pid_a"
    promoted_on_b last-gasp
    [ "$waited" = false ] || ok "the promotion waited for the frozen primary's disk intent until it ran again and fenced itself"
    latency_exported last-gasp
    agent_client_more 50 60
    reprotected_on_a
    ;;
ras)
    bad=$(agent_api a /v1/events/ras -X POST -d '{"severity": "fatal"}')
    echo "$bad" | grep -q "severity 'fatal'" || qft_die "a bad RAS event was not refused naming it: $bad"
    ok "a RAS event with a bad severity refused: $(echo "$bad" | jq -r .error)"
    agent_api a /v1/events/ras -X POST -d '{"severity": "corrected", "detail": "DIMM 3 CE"}' >/dev/null
    [ "$(agent_metric a ftagent_ras_events_total)" = 1 ] || qft_die "the corrected event was not counted"
    stays_protected "corrected memory error"
    agent_api a /v1/events/ras -X POST -d '{"severity": "uncorrected", "detail": "DIMM 3 UE"}' >/dev/null
    promoted_on_b ras
    latency_exported ras
    agent_client_more 50 60
    reprotected_on_a
    ;;
operator)
    bad=$(agent_api b /v1/vms/no-such-vm/failover -X POST -d '{}')
    echo "$bad" | grep -q "no vm 'no-such-vm'" || qft_die "an unknown VM's failover was not refused naming it: $bad"
    ok "failover of an unknown VM refused: $(echo "$bad" | jq -r .error)"
    agent_api b "/v1/vms/$QFT_TAG-vm/failover" -X POST -d '{"detail": "maintenance"}' >/dev/null
    promoted_on_b operator
    [ "$(agent_vm b | jq -r '.timelines[-1].detail')" != null ] || qft_die "no detail recorded"
    latency_exported operator
    agent_client_more 50 60
    reprotected_on_a
    ;;
protocol)
    forge() { qft_in b python3 "$top/tests/e2e/agent-forge.py" "$1" "$QFT_RUN/peer.key" "$AGENT_MGMT_A" 7070 "${@:2}"; }
    dropped() { agent_metric a "ftagent_peer_dropped_total{reason=\"$1\"}"; }
    request="{\"vm\": \"$QFT_TAG-vm\", \"reason\": \"operator\", \"detail\": \"forged\"}"
    # a heartbeat of host-b's, recorded on the wire, for the replay
    qft_in a timeout 5 tcpdump -i mgmt0 -c 1 -w "$QFT_RUN/hb.pcap" "udp and src $AGENT_MGMT_B and dst port 7070" 2>/dev/null ||
        qft_die "no heartbeat from host-b captured"
    sleep 0.2
    check_drop() {    # REASON WHAT KIND ARGS...
        local reason=$1 what=$2 before after
        before=$(dropped "$reason"); shift 2
        forge "$@"
        sleep 0.3
        after=$(dropped "$reason")
        [ "$after" = $((before + 1)) ] || qft_die "$what: dropped{reason=$reason} $before -> $after"
        ok "$what: dropped and counted (reason $reason: $before -> $after)"
    }
    check_drop auth "failover request under a wrong key" wrong-key host-b.oob 4 "$request"
    check_drop malformed "200 random bytes" junk
    check_drop version "version 2 message" version host-b 1 '{"host": "host-b", "vms": []}'
    check_drop malformed "authentic message from a host not configured" signed host-z 4 "$request"
    check_drop malformed "qemu-died from an out-of-band sender" signed host-b.oob 2 "{\"vm\": \"$QFT_TAG-vm\", \"pool\": \"$pool0\"}"
    check_drop replayed "stale incarnation (older than host-b's agent)" stale host-b 4 "$request"
    check_drop replayed "recorded heartbeat played again" replay "$QFT_RUN/hb.pcap"
    grep -q "dropped: HMAC mismatch" "$QFT_RUN/a/agent.log" || qft_die "the forged message was not logged"
    stays_protected "after 7 bad datagrams"
    # control: the same failover request, authentic (ft-agent-send signs
    # as host-b.oob with the real key): it fails over
    qft_in b "$AGENT_SEND" --config "$QFT_RUN/b/agent.conf" failover-request host-a "$QFT_TAG-vm" authentic ||
        qft_die "ft-agent-send failover-request failed"
    promoted_on_b operator
    agent_client_more 50 60
    reprotected_on_a
    ;;
*)
    qft_die "unknown scenario $scenario"
    ;;
esac

agent_client_check
agent_capture_stop
case $scenario in
kill-qemu|kill-host|kill-host-intent|last-gasp|ras|operator|protocol)
    one=$(agent_one_primary a b) || exit 1
    ok "exactly one primary: $one"
    ;;
*)
    [ ! -s "$QFT_RUN/b/tap.txt" ] || qft_die "the standby's tap carried frames: $(head -n 2 "$QFT_RUN/b/tap.txt")"
    ok "exactly one primary: nothing from the guest on host-b's tap0, $(wc -l <"$QFT_RUN/a/tap.txt") frames on host-a's"
    ;;
esac
ok "no acknowledged value lost on the wire: $(agent_client_acks) answers, each above the last"
case $scenario in
kill-qemu|kill-host|kill-host-intent|last-gasp|ras|operator|protocol) agent_end b ;;
*) agent_end a ;;
esac
agent_disk_check "$disk"
ok "every acknowledged value is on the guest's disk"
echo "$passed passed, 0 failed"
