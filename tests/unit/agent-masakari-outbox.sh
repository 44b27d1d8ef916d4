#!/usr/bin/env bash
# ft-agentd's Masakari outbox against tools/masakari-receiver, without a VM
# (the events themselves: tests/e2e/agent-masakari.sh):
#   agent-masakari-outbox.sh FT_AGENTD MASAKARI_RECEIVER
# - a token file others can read, or a missing one, stops the agent (exit 2)
#   naming it;
# - notifications left in state-dir/masakari/outbox are sent at start,
#   oldest first: answered 409, 500, then held past timeout-ms, the first is
#   retried after 200, 400, 800 ms (retry-first-ms doubling) and accepted at
#   its 4th attempt, the second at its 1st; each exactly once;
# - a complete temporary file (the agent ended before its rename) is sent, a
#   torn one removed, a file that is no Masakari notification moved to
#   failed/ (never sent: the receiver would refuse it);
# - 400 and 401 (a wrong token) move the notification to failed/ with a
#   warning naming the status and Masakari's reason, and the next one goes;
#   one moved back into outbox/ is picked up without a restart;
# - a 409 "is duplicate" counts as delivered;
# - no receiver (connection refused): retried, kept across a kill -9 of the
#   agent, delivered once by the restarted one when the receiver is back;
# - /metrics counts sent, retries, failed, queued.
set -euo pipefail
agentd=$1 receiver=$2
tmp=$(mktemp -d /tmp/agent-masakari.XXXXXX)
agent_pid="" recv_pid=""
cleanup() {
    [ -z "$agent_pid" ] || kill -9 "$agent_pid" 2>/dev/null || true
    [ -z "$recv_pid" ] || kill "$recv_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
die() {
    echo "FAIL: $*" >&2
    [ ! -f "$tmp/agent.log" ] || tail -n 30 "$tmp/agent.log" >&2
    exit 1
}
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
for t in curl jq /usr/bin/python3; do
    command -v $t >/dev/null || { echo "SKIP: missing tool $t (tools/setup installs it)"; exit 77; }
done

head -c 32 /dev/urandom >"$tmp/key"; chmod 600 "$tmp/key"
echo "rest-$RANDOM-$RANDOM-0123456789" >"$tmp/rest.token"; chmod 600 "$tmp/rest.token"
echo "gAAAAABk-keystone-$RANDOM$RANDOM" >"$tmp/masakari.token"; chmod 600 "$tmp/masakari.token"
port=$((20000 + RANDOM % 20000))
mport=$((port + 3))
outbox=$tmp/state/masakari/outbox failed=$tmp/state/masakari/failed
cat >"$tmp/agent.conf" <<EOF
[agent]
host = host-a
state-dir = $tmp/state
run-dir = $tmp/run
key-file = $tmp/key
token-file = $tmp/rest.token
rest-listen = 127.0.0.1:$port
[masakari]
url = http://127.0.0.1:$mport/v1/project0/notifications
token-file = $tmp/masakari.token
timeout-ms = 700
retry-first-ms = 200
retry-max-ms = 1600
[host:host-a]
peer-address = 127.0.0.1:$((port + 1))
[host:host-b]
peer-address = 127.0.0.1:$((port + 2))
EOF

start_agent() {
    "$agentd" --foreground --config "$tmp/agent.conf" >>"$tmp/agent.log" 2>&1 &
    agent_pid=$!
    for _ in $(seq 100); do
        [ -S "$tmp/run/agent.sock" ] && return 0
        kill -0 "$agent_pid" 2>/dev/null || die "ft-agentd exited at start"
        sleep 0.05
    done
    die "no control socket"
}
stop_agent() { kill -9 "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=""; rm -f "$tmp/run/agent.sock"; }
# start_receiver [SCRIPT]
start_receiver() {
    "$receiver" --port "$mport" --token-file "$tmp/masakari.token" --project project0 \
        --script "${1:-}" --stall-ms 1500 --log "$tmp/rlog" --accepted "$tmp/accepted" \
        2>>"$tmp/receiver.err" &
    recv_pid=$!
    for _ in $(seq 100); do
        # this one answers, not one left over
        [ "$(curl -s "http://127.0.0.1:$mport/" | jq -r .pid 2>/dev/null)" = "$recv_pid" ] && return 0
        sleep 0.05
    done
    die "the receiver did not come up: $(cat "$tmp/receiver.err")"
}
stop_receiver() { kill "$recv_pid"; wait "$recv_pid" 2>/dev/null || true; recv_pid=""; }
metric() {
    curl -s --unix-socket "$tmp/run/agent.sock" http://agent/metrics |
        awk -v m="$1" '$1 == m {print $2}'
}
# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
    local secs=$1; shift
    local end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.1; done
    return 1
}
accepted_count() { if [ -f "$tmp/accepted" ]; then jq -s "map(select($1)) | length" "$tmp/accepted"; else echo 0; fi; }
# a notification as ft-agentd writes them, with VDE and generated_time T
body() {
    jq -cn --arg v "$1" --arg t "$2" '{notification: {type: "VM", hostname: "host-a",
        generated_time: $t, payload: {event: "LIFECYCLE",
        instance_uuid: "7e634d3e-23a5-580d-9e25-f5801813932f", vir_domain_event: $v}}}'
}
is_vde() { echo ".notification.payload.vir_domain_event == \"$1\""; }
# count_is N JQ-FILTER: N accepted notifications satisfy it
count_is() { [ "$(accepted_count "$2")" = "$1" ]; }

# ---- the token file ------------------------------------------------------
chmod 644 "$tmp/masakari.token"
rc=0; out=$("$agentd" --foreground --config "$tmp/agent.conf" 2>&1) || rc=$?
{ [ $rc = 2 ] && echo "$out" | grep -q "token-file $tmp/masakari.token: lets others read it"; } ||
    die "a 0644 token file: exit $rc, '$out'"
ok "a token file others can read stops the agent: exit 2, $out"
mv "$tmp/masakari.token" "$tmp/masakari.token.gone"
rc=0; out=$("$agentd" --foreground --config "$tmp/agent.conf" 2>&1) || rc=$?
{ [ $rc = 2 ] && echo "$out" | grep -q "token-file $tmp/masakari.token"; } || die "no token file: exit $rc, '$out'"
ok "a missing token file stops the agent: exit 2, $out"
mv "$tmp/masakari.token.gone" "$tmp/masakari.token"; chmod 600 "$tmp/masakari.token"

# ---- what a previous agent left in the outbox -------------------------------
mkdir -p "$outbox"
body STARTED_FAILOVER 2026-12-04T05:00:00.000001Z >"$outbox/00000000000000000001-0000-STARTED_FAILOVER-host-a.json"
body PROTECTION_LOST 2026-12-04T05:00:00.000002Z >"$outbox/.00000000000000000002-0000-PROTECTION_LOST-host-a.json.tmp"
body STOPPED_FAILED 2026-12-04T05:00:00.000003Z | head -c 60 >"$outbox/.00000000000000000003-0000-STOPPED_FAILED-host-a.json.tmp"
body STOPPED_FAILED 2026-12-04T05:00:00.000004Z | jq -c '.notification.uuid = "x"' \
    >"$outbox/00000000000000000004-0000-STOPPED_FAILED-host-a.json"
start_receiver 409,500,timeout
start_agent
wait_for 20 count_is 1 "$(is_vde PROTECTION_LOST)" ||
    die "the outbox was not delivered: $(cat "$tmp/rlog" 2>/dev/null)"
steps=$(jq -sc '[.[] | select(.body | contains("STARTED_FAILOVER")) | .step]' "$tmp/rlog")
[ "$steps" = '["409","500","timeout","202"]' ] || die "STARTED_FAILOVER's attempts: $steps"
order=$(jq -sc 'map(.notification.payload.vir_domain_event)' "$tmp/accepted")
[ "$order" = '["STARTED_FAILOVER","PROTECTION_LOST"]' ] || die "accepted: $order"
delays=$(sed -n 's/.*STARTED_FAILOVER-host-a.json.*attempt [0-9] failed: .*; retrying in \([0-9]*\) ms/\1/p' "$tmp/agent.log" | tr '\n' ' ' | sed 's/ $//')
[ "$delays" = "200 400 800" ] || die "retry delays '$delays', expected 200 400 800"
grep -q "attempt 3 failed: no answer within timeout-ms 700" "$tmp/agent.log" || die "the timeout was not logged"
grep -q "delivered 00000000000000000001-0000-STARTED_FAILOVER-host-a.json .*HTTP 202 after 4 attempt(s)" "$tmp/agent.log" ||
    die "no delivery after 4 attempts logged"
ok "the outbox sent at start, oldest first: STARTED_FAILOVER answered $steps (retried after $delays ms), then PROTECTION_LOST"
{ grep -q "recovered $outbox/00000000000000000002-0000-PROTECTION_LOST-host-a.json" "$tmp/agent.log" &&
    grep -q "removed the torn $outbox/.00000000000000000003" "$tmp/agent.log"; } ||
    die "temporary files: $(grep tmp "$tmp/agent.log")"
{ [ -f "$failed/00000000000000000004-0000-STOPPED_FAILED-host-a.json" ] &&
    grep -q 'notification has the member "uuid"' "$tmp/agent.log"; } || die "the bad file is not in failed/"
[ "$(accepted_count "$(is_vde STOPPED_FAILED)")" = 0 ] || die "a torn or bad file was sent"
ok "a complete temporary file sent, a torn one removed, a bad one moved to failed/ unsent"
[ -z "$(ls -A "$outbox")" ] || die "the outbox is not empty: $(ls -A "$outbox")"
[ "$(jq -s 'map(select(.violation)) | length' "$tmp/rlog")" = 0 ] || die "the receiver saw violations"
{ [ "$(metric ftagent_masakari_sent_total)" = 2 ] && [ "$(metric ftagent_masakari_retries_total)" = 3 ] &&
    [ "$(metric ftagent_masakari_failed_total)" = 1 ] && [ "$(metric ftagent_masakari_queued)" = 0 ]; } ||
    die "metrics: $(curl -s --unix-socket "$tmp/run/agent.sock" http://agent/metrics | grep masakari_ | grep -v '^#')"
ok "metrics: sent 2, retries 3, failed 1, queued 0; no violation at the receiver"
stop_agent
stop_receiver

# ---- refused: 400 (our bug) and 401 (the token) ------------------------------
: >"$tmp/accepted"
body STOPPED_FAILED 2026-12-04T05:00:01.000001Z >"$outbox/00000000000000000011-0000-STOPPED_FAILED-host-a.json"
body PROTECTION_LOST 2026-12-04T05:00:01.000002Z >"$outbox/00000000000000000012-0000-PROTECTION_LOST-host-a.json"
body STARTED_FAILOVER 2026-12-04T05:00:01.000003Z >"$outbox/00000000000000000013-0000-STARTED_FAILOVER-host-a.json"
start_receiver 400,dup
start_agent
wait_for 10 test -f "$failed/00000000000000000011-0000-STOPPED_FAILED-host-a.json" || die "400: not moved to failed/"
grep -q "00000000000000000011-0000-STOPPED_FAILED-host-a.json (LIFECYCLE/STOPPED_FAILED .*) refused: HTTP 400 Bad Request: {\"badRequest\"" "$tmp/agent.log" ||
    die "400: no warning with the status and body"
wait_for 10 test ! -f "$outbox/00000000000000000012-0000-PROTECTION_LOST-host-a.json" || die "dup: not removed"
grep -q "delivered 00000000000000000012-0000-PROTECTION_LOST-host-a.json .*HTTP 409 after 1 attempt(s) (a duplicate" "$tmp/agent.log" ||
    die "a 409 duplicate was not taken as delivered"
wait_for 10 count_is 1 "$(is_vde STARTED_FAILOVER)" || die "the third was not sent after the refusal"
ok "400: moved to failed/ with HTTP 400 and Masakari's reason logged; a 409 duplicate counts as delivered; the next one went on"
echo "not-the-token-$RANDOM" >"$tmp/masakari.token"
body STOPPED_FAILED 2026-12-04T05:00:01.000004Z >"$outbox/00000000000000000014-0000-STOPPED_FAILED-host-a.json"
# picked up by the rescan of an empty queue (every retry-max-ms), no restart
wait_for 10 test -f "$failed/00000000000000000014-0000-STOPPED_FAILED-host-a.json" || die "401: not moved to failed/"
grep -q "00000000000000000014.* refused: HTTP 401 Unauthorized: .*X-Auth-Token is not the expected token" "$tmp/agent.log" ||
    die "401: no warning with the status and body"
ok "401 (a token Masakari refuses): moved to failed/, the reason logged; a file put in outbox/ was found without a restart"
# the token renewed (read before every attempt), the notifications moved back
stop_receiver
echo "gAAAAABk-keystone-$RANDOM$RANDOM" >"$tmp/masakari.token.new"; chmod 600 "$tmp/masakari.token.new"
mv "$tmp/masakari.token.new" "$tmp/masakari.token"
start_receiver
mv "$failed/00000000000000000011-0000-STOPPED_FAILED-host-a.json" "$failed/00000000000000000014-0000-STOPPED_FAILED-host-a.json" "$outbox/"
wait_for 10 count_is 2 "$(is_vde STOPPED_FAILED)" || die "moved back: not delivered"
ok "a renewed token is read at the next attempt; notifications moved back from failed/ delivered"
stop_agent
stop_receiver

# ---- no receiver: kept across an agent restart, delivered once ------------------
: >"$tmp/accepted"
: >"$tmp/rlog"
body PROTECTION_LOST 2026-12-04T05:00:02.000001Z >"$outbox/00000000000000000021-0000-PROTECTION_LOST-host-a.json"
start_agent
wait_for 10 grep -q "00000000000000000021.*attempt 3 failed: .*; retrying" "$tmp/agent.log" ||
    die "no retries without a receiver"
[ "$(metric ftagent_masakari_queued)" = 1 ] || die "queued: $(metric ftagent_masakari_queued)"
ok "no receiver: $(grep -c "00000000000000000021.*attempt [0-9]* failed" "$tmp/agent.log") attempts failed ($(grep "00000000000000000021.*attempt 1 failed" "$tmp/agent.log" | sed 's/.*failed: //'))"
stop_agent
[ -f "$outbox/00000000000000000021-0000-PROTECTION_LOST-host-a.json" ] || die "the notification did not survive the kill"
start_receiver
start_agent
wait_for 10 count_is 1 "$(is_vde PROTECTION_LOST)" || die "not delivered after the restart"
sleep 2
[ "$(accepted_count true)" = 1 ] || die "delivered $(accepted_count true) times"
[ -z "$(ls -A "$outbox")" ] || die "the outbox is not empty"
ok "kept across kill -9 of the agent, delivered exactly once by the restarted one"
echo "$passed passed, 0 failed"
