#!/usr/bin/env bash
# OpenStack Masakari notifications from the agents (issue 20, item 5), end
# to end: two agents on the netns hosts protect the Linux guest; a strict
# Masakari stand-in (tools/masakari-receiver, in the client namespace)
# takes their notifications.
#
#   negative control  the receiver alone: a good body is accepted (202), the
#                 same body with one member more is refused (400) naming
#                 the member, and the violation is recorded
#   failover      the receiver answers 409, 500, then holds the request past
#                 the agents' timeout-ms, then 202; the primary QEMU is
#                 killed, host-b promotes: exactly one LIFECYCLE /
#                 STARTED_FAILOVER arrives, at its 4th attempt, hostname the
#                 host it failed on (host-a), the instance UUID the VM's
#                 name-based one; nothing else is posted while host-a is
#                 re-protected
#   restart       the receiver down, the standby's QEMU (host-a) killed: the
#                 primary's agent (host-b) queues a PROTECTION_LOST, fails
#                 to send it, is killed (-9) and restarted with it queued;
#                 the receiver back: it arrives exactly once, hostname host-b
#
# Every body the receiver saw passed its schema check (no violation).
#   agent-masakari.sh GUEST_DIR RECEIVER
set -euo pipefail
guest=$1 receiver=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
# shellcheck source=../lib/agent.sh
source "$top/tests/lib/agent.sh"
qft_need /usr/bin/python3
ft_linux_guest "$guest" mkfs.ext4 debugfs e2fsck jq curl
qft_init
agent_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

project=0123456789abcdef0123456789abcdef
rport=15868
rurl=http://$QFT_NET_CLIENT_IP:$rport
token=$QFT_RUN/masakari.token
head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$token"
chmod 600 "$token"
vm=$QFT_TAG-vm
uuid=$(/usr/bin/python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "urn:qemu-ft:vm:" + sys.argv[1]))' "$vm")

# receiver_start LOG-PREFIX [SCRIPT]: in the client namespace, on the
# address both hosts reach over their uplinks
receiver_start() {
    local log=$1 script=${2:-} pid
    # not through qft_in: $! must be the receiver (ip netns exec execs it)
    ip netns exec "$(qft_ns client)" /usr/bin/python3 "$receiver" --bind "$QFT_NET_CLIENT_IP" \
        --port $rport --token-file "$token" --project $project --script "$script" \
        --stall-ms 3000 --log "$QFT_RUN/$log.log" --accepted "$QFT_RUN/$log.accepted" \
        2>>"$QFT_RUN/receiver.err" &
    RECEIVER_PID=$!
    disown $!
    for _ in $(seq 100); do
        # this one answers, not one left over
        pid=$(qft_in client curl -s "$rurl/" | jq -r .pid 2>/dev/null) || pid=
        [ "$pid" = "$RECEIVER_PID" ] && return 0
        kill -0 "$RECEIVER_PID" 2>/dev/null || qft_die "the receiver exited: $(tail -n 5 "$QFT_RUN/receiver.err")"
        sleep 0.1
    done
    qft_die "the receiver did not answer in 10 s"
}
receiver_stop() {
    kill "$RECEIVER_PID" 2>/dev/null || true
    ft_wait_gone "$RECEIVER_PID" 5 || qft_die "the receiver did not stop"
}
# accepted LOG JQ-FILTER: how many accepted notifications satisfy it
accepted() {
    local f=$QFT_RUN/$1.accepted
    if [ -s "$f" ]; then jq -s "map(select($2)) | length" "$f"; else echo 0; fi
}
vde() { echo ".notification.payload.vir_domain_event == \"$1\""; }
# wait_accepted LOG VDE SECONDS: until one such notification was accepted
wait_accepted() {
    local end=$(( $(date +%s) + $3 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        [ "$(accepted "$1" "$(vde "$2")")" -ge 1 ] && return 0
        sleep 0.2
    done
    qft_die "no $2 notification accepted in $3 s; requests: $(jq -c '[.step, .status, .violation]' "$QFT_RUN/$1.log" 2>/dev/null | tr '\n' ' '); the agents: $(agent_masakari_log)"
}
# what the agents logged about Masakari, for a failure's message
agent_masakari_log() {
    local h
    for h in a b; do
        echo "host-$h:"
        grep -i -e masakari -e "notification" "$QFT_RUN/$h/agent.log" | tail -n 8
    done
}
violations() { jq -s 'map(select(.violation)) | length' "$QFT_RUN/$1.log"; }
# check_body LOG VDE HOST: the accepted notification is the one expected
check_body() {
    local b
    b=$(jq -sc "map(select($(vde "$2"))) | .[0]" "$QFT_RUN/$1.accepted")
    echo "$b" | jq -e --arg h "$3" --arg u "$uuid" '
        (keys == ["notification"]) and
        (.notification | keys == ["generated_time", "hostname", "payload", "type"]) and
        (.notification.payload | keys == ["event", "instance_uuid", "vir_domain_event"]) and
        .notification.type == "VM" and .notification.hostname == $h and
        .notification.payload.event == "LIFECYCLE" and
        .notification.payload.instance_uuid == $u and
        (.notification.generated_time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"))' \
        >/dev/null || qft_die "the $2 notification is not the expected one (hostname $3, instance $uuid): $b"
    echo "$b"
}

# ---- negative control: the receiver refuses what Masakari would ------------
receiver_start control
good=$(jq -cn --arg u "$uuid" '{notification: {type: "VM", hostname: "host-a",
    generated_time: "2026-12-04T05:00:00.123456Z", payload: {event: "LIFECYCLE",
    instance_uuid: $u, vir_domain_event: "STARTED_FAILOVER"}}}')
post() {
    qft_in client curl -s -o "$QFT_RUN/reply" -w '%{http_code}' -H "X-Auth-Token: $(cat "$token")" \
        -H 'Content-Type: application/json' -d "$1" "$rurl/v1/$project/notifications"
}
code=$(post "$good")
[ "$code" = 202 ] || qft_die "the receiver refused a good body: HTTP $code $(cat "$QFT_RUN/reply")"
code=$(post "$(echo "$good" | jq -c '.notification.payload.host = "host-a"')")
{ [ "$code" = 400 ] && jq -e '.badRequest.message | test("payload has member\\(s\\) \\[.host.\\]")' "$QFT_RUN/reply" >/dev/null; } ||
    qft_die "an extra payload member: HTTP $code $(cat "$QFT_RUN/reply")"
reason=$(jq -r .badRequest.message "$QFT_RUN/reply")
code=$(post "$(echo "$good" | jq -c '.extra = {}')")
[ "$code" = 400 ] || qft_die "an extra top-level member: HTTP $code"
{ [ "$(violations control)" = 2 ] && [ "$(accepted control true)" = 1 ]; } ||
    qft_die "the receiver recorded $(violations control) violations, accepted $(accepted control true)"
receiver_stop
ok "negative control: a good body 202; one member more 400 ($reason), recorded as a violation"

# ---- failover: one STARTED_FAILOVER, after 409, 500 and a timeout -------------
# appended to both agents' configurations (agent_configs, tests/lib/agent.sh)
export QFT_AGENT_EXTRA_CONF="[masakari]
url = $rurl/v1/$project/notifications
token-file = $token
timeout-ms = 1000
retry-first-ms = 300
retry-max-ms = 2000"
receiver_start run 409,500,timeout,202
disk=$QFT_RUN/disk.raw
ft_disk_make raw "$disk"
agent_pair_up "$guest" "$disk"
ok "protected: primary on host-a, standby on host-b"
[ "$(accepted run true)" = 0 ] || qft_die "notifications before any fault: $(cat "$QFT_RUN/run.accepted")"
kill -9 "$(agent_qemu_pid a)"
agent_wait b '.role == "primary" and .failovers == 1' 30
ok "host-a's primary QEMU killed: host-b promoted"
wait_accepted run STARTED_FAILOVER 60
steps=$(jq -sc '[.[] | select(.body | contains("STARTED_FAILOVER")) | .step]' "$QFT_RUN/run.log")
[ "$steps" = '["409","500","timeout","202"]' ] || qft_die "the STARTED_FAILOVER's attempts: $steps"
body=$(check_body run STARTED_FAILOVER host-a)
grep -q "delivered .*STARTED_FAILOVER-host-a.json .*HTTP 202 after 4 attempt(s)" "$QFT_RUN/b/agent.log" ||
    qft_die "host-b logged no delivery after 4 attempts"
ok "one STARTED_FAILOVER accepted at its 4th attempt (answers $steps): $body"
agent_wait b '.protection == "protected"' 240
agent_wait a '.role == "standby" and .status == "standby"' 30
[ "$(accepted run true)" = 1 ] || qft_die "more than the failover was posted: $(jq -c .notification.payload "$QFT_RUN/run.accepted" | tr '\n' ' ')"
{ [ "$(agent_metric b ftagent_masakari_sent_total)" = 1 ] && [ "$(agent_metric b ftagent_masakari_retries_total)" = 3 ] &&
    [ "$(agent_metric b ftagent_masakari_queued)" = 0 ]; } ||
    qft_die "host-b's metrics: $(agent_api b /metrics | grep '^ftagent_masakari')"
ok "re-protected (primary host-b, standby host-a) with nothing more posted; host-b counts sent 1, retries 3"

# ---- restart: a queued PROTECTION_LOST survives kill -9 of its agent ------------
receiver_stop
pid_standby=$(agent_qemu_pid a)
kill -9 "$pid_standby"
outbox=$QFT_RUN/b/state/masakari/outbox
for _ in $(seq 100); do
    ls "$outbox"/*-PROTECTION_LOST-host-b.json >/dev/null 2>&1 &&
        grep -q "PROTECTION_LOST-host-b.json .*attempt 1 failed" "$QFT_RUN/b/agent.log" && break
    sleep 0.1
done
queued=$(ls "$outbox")
grep -q "PROTECTION_LOST-host-b.json .*attempt 1 failed" "$QFT_RUN/b/agent.log" ||
    qft_die "host-b queued no PROTECTION_LOST or never tried it: outbox '$queued'"
ok "the standby (pid $pid_standby) killed, the receiver down: host-b queued $queued, its attempt failed ($(grep -m1 "PROTECTION_LOST-host-b.json .*attempt 1 failed" "$QFT_RUN/b/agent.log" | sed 's/.*failed: //'))"
queued_body=$(jq -cS . "$outbox/$queued")
agent_kill b
ft_wait_gone "$(cat "$QFT_RUN/b/agent.pid")" 5 || qft_die "host-b's agent survived kill -9"
[ "$(ls "$outbox")" = "$queued" ] || qft_die "the outbox changed across the kill: '$(ls "$outbox")'"
agent_start b
receiver_start after
wait_accepted after PROTECTION_LOST 60
body=$(check_body after PROTECTION_LOST host-b)
[ "$(echo "$body" | jq -cS .)" = "$queued_body" ] ||
    qft_die "the delivered PROTECTION_LOST is not the one queued before the kill: $body, queued $queued_body"
agent_wait b '.role == "primary" and .protection == "protected"' 120
sleep 2
[ "$(accepted after true)" = 1 ] || qft_die "after the restart: $(accepted after true) notifications accepted: $(cat "$QFT_RUN/after.accepted")"
[ -z "$(ls -A "$outbox")" ] || qft_die "host-b's outbox still holds $(ls -A "$outbox")"
grep -q "masakari: 1 notification(s) in $outbox from before" "$QFT_RUN/b/agent.log" ||
    qft_die "the restarted agent did not pick the outbox up"
ok "host-b's agent killed (-9) and restarted with it queued: delivered exactly once, protection back: $body"

for log in run after; do
    [ "$(violations $log)" = 0 ] || qft_die "the receiver saw violations: $(jq -c 'select(.violation) | .violation' "$QFT_RUN/$log.log")"
done
for h in a b; do
    [ -z "$(ls -A "$QFT_RUN/$h/state/masakari/failed")" ] || qft_die "host-$h refused notifications: $(ls "$QFT_RUN/$h/state/masakari/failed")"
done
ok "every request passed the receiver's schema check; nothing in failed/"
echo "$passed passed, 0 failed"
