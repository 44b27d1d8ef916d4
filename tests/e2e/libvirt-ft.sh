#!/usr/bin/env bash
# FT under libvirt, end to end (issue 20, Must show items 2-4 and 6): a real
# libvirtd per netns host drives our QEMU, ft-agentd uses its libvirt
# backend, the hook hands the domain's start to the agent, virt-ft enables
# and shows protection and switches over.
#   libvirt-ft.sh GUEST_DIR COUNTER_CLIENT
# Steps (each checked):
#   1. the domain is defined on both hosts; virt-ft ft-enable on each (one
#      before its agent starts, one after: the reload path); virsh metadata
#      shows the element; `virsh start` on host-a: the hook tells host-a's
#      agent, which protects it; host-b's agent creates the standby domain
#      (paused); virt-ft ft-status says protected on host-a.
#   2. kill -9 of the primary QEMU: host-b's standby domain takes over and is
#      an ordinary running libvirt domain; ft-status on host-b says so; no
#      acknowledged counter value lost; protection comes back (a standby
#      domain on host-a).
#   3. virt-ft ft-failover --force on host-b: planned switchover back to
#      host-a, no acknowledged value lost, the guest runs on (not paused).
#   4. an aborted switchover (virt-ft ft-failover --prepare-only, then
#      --abort): the primary runs on, protected; a restarted agent adopts
#      it; virt-ft ft-failover refuses
#      without a tty and without --force.
#   5. (no acknowledged counter value lost over steps 2-4)
#   6. policy restart: protection ends (pool retired, standby ended);
#      `virsh start` on host-b while the VM runs on host-a: the hook refuses;
#      after kill -9 the domain boots afresh on host-b (a new counter).
#   7. policy notify: after kill -9 nothing restarts; the Masakari receiver
#      got one LIFECYCLE/STOPPED_FAILED for the domain's UUID (and the
#      failover of step 2 as STARTED_FAILOVER).
set -euo pipefail
guest=$1 client=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
# shellcheck source=../lib/agent.sh
source "$top/tests/lib/agent.sh"
# shellcheck source=../lib/libvirt.sh
source "$top/tests/lib/libvirt.sh"
VIRT_FT=${QFT_VIRT_FT:?QFT_VIRT_FT (virt-ft) is not set}
HOOK=${QFT_LIBVIRT_HOOK:?QFT_LIBVIRT_HOOK (ft-libvirt-hook) is not set}
lv_need
ft_linux_guest "$guest" jq curl
[ -x "$client" ] || qft_die "no client at $client"

qft_init
# on a failure: the agents' logs and the domains' QEMU logs, before the
# teardown removes them
lvft_logs() {
    local h f keep=${QFT_LOG_DIR:-/tmp}/$QFT_TAG-logs
    [ -f "$QFT_RUN/passed" ] && return 0
    mkdir -p "$keep"
    for h in a b; do
        for f in "$QFT_RUN/$h/agent.log" "$(lv_domain_log "$vm" $h)" \
                 "$(lv_dir $h)/log/libvirtd.log"; do
            [ -f "$f" ] && cp "$f" "$keep/host-$h-$(basename "$f")"
        done
    done
    echo "logs of the failed run kept in $keep" >&2
}
QFT_TEARDOWN_HOOKS=(lvft_logs "${QFT_TEARDOWN_HOOKS[@]}")
agent_net_up
vm=$QFT_TAG-vm
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
other() { [ "$1" = a ] && echo b || echo a; }

# ---- the hosts: libvirtd with our hook, the domain, the agents -------------
export LV_HOOK=$HOOK
lv_up a
lv_up b

uuid=$(cat /proc/sys/kernel/random/uuid)
head -c 32 /dev/urandom >"$QFT_RUN/peer.key"; chmod 600 "$QFT_RUN/peer.key"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$QFT_RUN/rest.token"
chmod 600 "$QFT_RUN/rest.token"
echo "masakari-test-token" >"$QFT_RUN/masakari.token"; chmod 600 "$QFT_RUN/masakari.token"
for h in a b; do
    mkdir -p "$QFT_RUN/$h/state"
    cat >"$(lv_dir $h)/qemu-ft-etc/agent.conf" <<EOF
[agent]
host = host-$h
backend = libvirt
libvirt-uri = qemu:///system
epoch-ms = $QFT_EPOCH_MS
peer-timeout-ms = $((QFT_EPOCH_MS * 10))
lease-ms = $((QFT_EPOCH_MS * 10))
state-dir = $QFT_RUN/$h/state
run-dir = /run/qemu-ft
pool-dir = /dev/shm
key-file = $QFT_RUN/peer.key
token-file = $QFT_RUN/rest.token
rest-listen =

[host:host-a]
peer-address = $AGENT_MGMT_A:7070

[host:host-b]
peer-address = $AGENT_MGMT_B:7070

[masakari]
url = http://$AGENT_MGMT_A:15868/v1/qft-project/notifications
token-file = $QFT_RUN/masakari.token
EOF
    # one VM, one UUID on both hosts (as for migration)
    lv_domain_xml "$vm" $h --xml "  <uuid>$uuid</uuid>
" >"$QFT_RUN/$h/vm.xml"
    lv_virsh $h define "$QFT_RUN/$h/vm.xml" >/dev/null
done
[ "$(lv_virsh b domuuid "$vm" | head -n1)" = "$uuid" ] || qft_die "host-b's domain has another UUID"

# the cloud API (Masakari) on host-a's management address
qft_in a /usr/bin/python3 "$top/tools/masakari-receiver" --bind "$AGENT_MGMT_A" \
    --token-file "$QFT_RUN/masakari.token" --project qft-project \
    --accepted "$QFT_RUN/masakari.jsonl" --log "$QFT_RUN/masakari-requests.jsonl" \
    >"$QFT_RUN/masakari.log" 2>&1 &
disown $!

vft() { local h=$1; shift; lv_exec "$h" "$VIRT_FT" "$@"; }
api() { local h=$1 path=$2; shift 2; curl -sS --unix-socket "$(lv_dir "$h")/qemu-ft-run/agent.sock" "$@" "http://agent$path"; }
vmj() { api "$1" "/v1/vms/$vm"; }
wait_vm() { # HOST JQ SECONDS
    local i
    for i in $(seq $(($3 * 10))); do
        vmj "$1" 2>/dev/null | jq -e "$2" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    qft_die "host-$1: $vm never satisfied '$2' in $3 s: $(vmj "$1" 2>&1 | jq -c 'del(.timelines)' 2>/dev/null)"
}
agent_up() {
    local h=$1 i
    lv_exec "$h" "$QFT_AGENTD" --foreground --config /etc/qemu-ft/agent.conf \
        >>"$QFT_RUN/$h/agent.log" 2>&1 &
    echo $! >"$QFT_RUN/$h/agent.pid"
    disown $!
    for i in $(seq 100); do
        [ -S "$(lv_dir "$h")/qemu-ft-run/agent.sock" ] && return 0
        kill -0 "$(cat "$QFT_RUN/$h/agent.pid")" 2>/dev/null ||
            qft_die "ft-agentd on host-$h exited: $(tail -n 5 "$QFT_RUN/$h/agent.log")"
        sleep 0.1
    done
    qft_die "ft-agentd on host-$h has no control socket after 10 s"
}
domstate() { lv_virsh "$1" domstate "$vm" 2>/dev/null | head -n1; }
wait_domstate() { # HOST STATE SECONDS
    local i
    for i in $(seq $(($3 * 10))); do
        [ "$(domstate "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    qft_die "domain $vm on host-$1 is '$(domstate "$1")', not '$2', after $3 s"
}
primary_pid() { vmj "$1" | jq -r '."qemu-pid"'; }

# ---- 1. enable, start, protected -------------------------------------------
vft a ft-enable "$vm" --standby-host host-b >"$QFT_RUN/enable-a.txt" ||
    qft_die "virt-ft ft-enable on host-a failed: $(cat "$QFT_RUN/enable-a.txt")"
meta=$(lv_virsh a metadata "$vm" urn:qemu-ft:domain:1)
grep -q 'standby host="host-b"' <<<"$meta" || qft_die "virsh metadata does not show the FT element: $meta"
ok "virt-ft ft-enable on host-a; virsh metadata shows the element"
agent_up a
agent_up b
vft b ft-enable "$vm" --standby-host host-a >"$QFT_RUN/enable-b.txt" ||
    qft_die "virt-ft ft-enable on host-b failed: $(cat "$QFT_RUN/enable-b.txt")"
wait_vm b '.policy == "protect" and ."domain-uuid" != null' 10
ok "virt-ft ft-enable on host-b with its agent running: the agent reloaded it"

lv_virsh a start "$vm" >/dev/null
wait_vm a '.role == "primary" and .protection == "protected"' 300
wait_vm b '.role == "standby" and .status == "standby"' 30
[ "$(domstate b)" = paused ] || qft_die "host-b's standby domain is '$(domstate b)', not paused"
lv_wait_serial "$vm" a 'qft-guest: ready' 300
status=$(vft a ft-status "$vm")
grep -Eq '^Protection: +protected' <<<"$status" || qft_die "ft-status on host-a: $status"
grep -Eq '^Role: +primary' <<<"$status" || qft_die "ft-status on host-a: $status"
ok "virsh start -> hook -> agent: protected on host-a, standby domain paused on host-b"
for h in a b; do
    /usr/bin/python3 "$top/tools/openapi-check" --spec "$top/docs/openapi.yaml" \
        --socket "$(lv_dir $h)/qemu-ft-run/agent.sock" --vm "$vm" --quiet \
        >"$QFT_RUN/openapi-$h.txt" 2>&1 ||
        qft_die "host-$h's libvirt-backend agent does not answer as docs/openapi.yaml says: $(tail -n 20 "$QFT_RUN/openapi-$h.txt")"
done
wait_vm a '.protection == "protected"' 30
ok "both agents (libvirt backend) answer as docs/openapi.yaml says"

# ---- 2. kill the primary's QEMU ----------------------------------------------
agent_client_start "$client"
agent_client_more 30 120
kill -9 "$(primary_pid a)"
wait_vm b '.role == "primary"' 60
agent_client_more 30 120
wait_domstate b running 10
info=$(lv_virsh b dominfo "$vm")
grep -Eq '^Persistent: +yes' <<<"$info" ||
    qft_die "the promoted domain is not host-b's persistent domain: $info"
status=$(vft b ft-status "$vm")
grep -Eq '^Role: +primary' <<<"$status" || qft_die "ft-status on host-b after the failover: $status"
ok "kill -9 of host-a's QEMU: host-b's domain runs it ($(vmj b | jq -c '.timelines[-1] | {source, epoch}'))"
wait_vm b '.protection == "protected"' 300
wait_vm a '.role == "standby" and .status == "standby"' 30
[ "$(domstate a)" = paused ] || qft_die "host-a's new standby domain is '$(domstate a)'"
ok "protected again: a standby domain on host-a"

# ---- 3. planned switchover back ------------------------------------------------
vft b ft-failover "$vm" --force >"$QFT_RUN/switchover.txt" 2>&1 ||
    qft_die "virt-ft ft-failover --force failed: $(cat "$QFT_RUN/switchover.txt")"
wait_vm a '.role == "primary"' 60
agent_client_more 30 120
wait_domstate a running 10
ok "virt-ft ft-failover --force on host-b: the VM runs on host-a, not paused ($(tail -n1 "$QFT_RUN/switchover.txt"))"
wait_vm a '.protection == "protected"' 300

# ---- 4. an aborted switchover ---------------------------------------------------
vft a ft-failover "$vm" --force --prepare-only >"$QFT_RUN/prepare.txt" 2>&1 ||
    qft_die "virt-ft ft-failover --prepare-only: $(cat "$QFT_RUN/prepare.txt")"
vmj a | jq -e '."switchover-prepared"' >/dev/null || qft_die "the agent has no prepared switchover: $(vmj a | jq -c 'del(.timelines)')"
[ "$(domstate a)" = paused ] || qft_die "a prepared switchover leaves the primary '$(domstate a)', not paused"
vft a ft-failover "$vm" --abort >"$QFT_RUN/abort.txt" 2>&1 ||
    qft_die "virt-ft ft-failover --abort: $(cat "$QFT_RUN/abort.txt")"
wait_domstate a running 10
agent_client_more 30 60
wait_vm a '.role == "primary" and .protection == "protected" and (."switchover-prepared" | not)' 30
ok "a prepared switchover ($(head -n1 "$QFT_RUN/prepare.txt")), aborted: host-a runs on, protected"
# an agent restart adopts the running primary (its QMP proxy anew)
pid=$(primary_pid a)
kill -9 "$(cat "$QFT_RUN/a/agent.pid")"
agent_up a
wait_vm a '.role == "primary" and .protection == "protected"' 30
[ "$(primary_pid a)" = "$pid" ] || qft_die "the restarted agent runs another QEMU ($(primary_pid a), not $pid)"
agent_client_more 30 60
ok "host-a's agent killed and restarted: it adopted the primary (pid $pid), still protected"
if vft a ft-failover "$vm" </dev/null >"$QFT_RUN/notty.txt" 2>&1; then
    qft_die "virt-ft ft-failover without a tty or --force went ahead"
fi
grep -q '^error:' "$QFT_RUN/notty.txt" || qft_die "no error: line: $(cat "$QFT_RUN/notty.txt")"
ok "virt-ft ft-failover without a tty and without --force refuses: $(head -n1 "$QFT_RUN/notty.txt")"

agent_client_check
ok "no acknowledged counter value lost across the failover and both switchovers"

# ---- 6. policy restart ------------------------------------------------------------
wait_vm b '.role == "standby" and .status == "standby"' 60
vft a ft-enable "$vm" --standby-host host-b --policy restart >/dev/null
vft b ft-enable "$vm" --standby-host host-a --policy restart >/dev/null
wait_vm a '.policy == "restart" and .protection == "cold-standby"' 30
wait_vm b '.role == "none"' 30
wait_domstate b "shut off" 10
ok "policy restart: protection ended, the standby domain on host-b ended"
if lv_virsh b start "$vm" >"$QFT_RUN/second.txt" 2>&1; then
    qft_die "virsh start on host-b while the VM runs on host-a was not refused"
fi
grep -q 'host-a' "$QFT_RUN/second.txt" || qft_die "the refusal does not name host-a: $(cat "$QFT_RUN/second.txt")"
ok "virsh start on host-b while it runs on host-a: refused by the hook ($(grep -o 'qemu-ft.*' "$QFT_RUN/second.txt" | head -n1))"
: >"$(lv_serial "$vm" b)"
kill -9 "$(primary_pid a)"
wait_vm b '.role == "primary"' 60
wait_domstate b running 10
lv_wait_serial "$vm" b 'qft-guest: ready' 300
out=$(qft_in client "$client" --host "$QFT_GUEST_IP" --port 7000 --count 3 --json)
[ "$(jq -r .first_value <<<"$out")" = 1 ] || qft_die "the cold-restarted guest does not count afresh: $out"
ok "kill -9: host-b booted the domain afresh (policy restart); its counter starts at 1"

# ---- 7. policy notify --------------------------------------------------------------
vft a ft-enable "$vm" --standby-host host-b --policy notify >/dev/null
vft b ft-enable "$vm" --standby-host host-a --policy notify >/dev/null
wait_vm b '.policy == "notify" and .protection == "notify-only"' 30
kill -9 "$(primary_pid b)"
for _ in $(seq 100); do
    [ -s "$QFT_RUN/masakari.jsonl" ] && grep -q STOPPED_FAILED "$QFT_RUN/masakari.jsonl" && break
    sleep 0.1
done
sleep 2
[ "$(domstate a)" = "shut off" ] || qft_die "policy notify: host-a runs the domain ('$(domstate a)')"
[ "$(domstate b)" = "shut off" ] || qft_die "policy notify: host-b runs the domain ('$(domstate b)')"
jq -s -e --arg u "$uuid" 'map(select(.notification.payload.vir_domain_event == "STOPPED_FAILED" and
        .notification.payload.instance_uuid == $u and .notification.hostname == "host-b")) | length == 1' \
    "$QFT_RUN/masakari.jsonl" >/dev/null ||
    qft_die "no STOPPED_FAILED for $uuid from host-b: $(cat "$QFT_RUN/masakari.jsonl" 2>/dev/null)"
jq -s -e --arg u "$uuid" 'map(select(.notification.payload.vir_domain_event == "STARTED_FAILOVER" and
        .notification.payload.instance_uuid == $u and .notification.hostname == "host-a")) | length >= 1' \
    "$QFT_RUN/masakari.jsonl" >/dev/null ||
    qft_die "no STARTED_FAILOVER for the failover of step 2: $(cat "$QFT_RUN/masakari.jsonl" 2>/dev/null)"
ok "policy notify: nothing restarted; Masakari got STOPPED_FAILED for $uuid (and STARTED_FAILOVER for step 2)"

touch "$QFT_RUN/passed"
echo "$passed checks passed"
