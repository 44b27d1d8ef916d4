# shellcheck shell=bash
# ft-agentd end to end: two agents in the harness's netns hosts, the Linux
# guest under their protection, a counter client, captures on both taps.
#
#   source tests/lib/agent.sh     (after harness.sh and ft.sh)
#   agent_net_up                  the harness topology plus a management
#                                 link host-a <-> host-b (10.99.0.0/24) that
#                                 the agents' peer protocol uses
#   agent_configs GUEST_DIR DISK  key, token, one agent.conf per host
#                                 (QFT_AGENT_EXTRA_CONF: text appended to
#                                 each, e.g. a [masakari] group)
#   agent_pair_up GUEST_DIR DISK  the above, both agents, protected, guest up
#   agent_start a|b / agent_kill a|b
#   agent_api a|b PATH [curl args]   REST through the control socket
#   agent_vm a|b                  the VM's JSON on that agent
#   agent_wait a|b JQ-EXPR SECONDS
#   agent_client_start / agent_client_check   the counter service check
#   agent_capture_start / agent_one_primary   "exactly one primary"
#
# The VM is "$QFT_TAG-vm" (its pools are /dev/shm/$QFT_TAG-vm-*, removed by
# the teardown): its first host is host-a. Timeouts come from QFT_EPOCH_MS
# (the agents' epoch-ms, default 20).

QFT_EPOCH_MS=${QFT_EPOCH_MS:-20}
AGENT_MGMT_A=10.99.0.1
AGENT_MGMT_B=10.99.0.2
AGENT_BIN=${QFT_AGENTD:?QFT_AGENTD (the ft-agentd binary) is not set}
AGENT_SEND=${QFT_AGENT_SEND:?QFT_AGENT_SEND (ft-agent-send) is not set}

agent_net_up() {
    qft_net_up
    ip -n "$(qft_ns a)" link add mgmt0 type veth peer name mgmt0 netns "$(qft_ns b)"
    ip -n "$(qft_ns a)" addr add $AGENT_MGMT_A/24 dev mgmt0
    ip -n "$(qft_ns b)" addr add $AGENT_MGMT_B/24 dev mgmt0
    ip -n "$(qft_ns a)" link set mgmt0 up
    ip -n "$(qft_ns b)" link set mgmt0 up
}

# agent_link a|b up|down: the host's links (management and service uplink)
agent_mgmt_link() { ip -n "$(qft_ns a)" link set mgmt0 "$1"; }
agent_host_links() {
    ip -n "$(qft_ns "$1")" link set mgmt0 "$2"
    ip -n "$(qft_ns fabric)" link set "port-$1" "$2"
}

agent_configs() {
    local guest=$1 disk=$2 h a guest_args=""
    # The Linux test guest's arguments (ft_linux_args), each single-quoted
    # for the agent's shell-style qemu-args; no -m: the agent sets the RAM
    QFT_GUEST_DIR=$guest ft_linux_args --mem none --disk /dev/vda
    for a in "${FT_LINUX_ARGS[@]}"; do guest_args+="'$a' "; done
    head -c 32 /dev/urandom >"$QFT_RUN/peer.key"
    chmod 600 "$QFT_RUN/peer.key"
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$QFT_RUN/rest.token"
    chmod 600 "$QFT_RUN/rest.token"
    for h in a b; do
        mkdir -p "$QFT_RUN/$h"
        cat >"$QFT_RUN/$h/agent.conf" <<EOF
[agent]
host = host-$h
epoch-ms = $QFT_EPOCH_MS
# tests: 10 epochs, not the default 5 (QFT_AGENT_TIMEOUT_EPOCHS; the bench
# uses 5): two TCG guests and two ASan agents share 2 cores here, and a
# 100-300 ms stall of a whole "host" was seen; a failover it causes is safe
# but not the one a test injects
peer-timeout-ms = $((QFT_EPOCH_MS * ${QFT_AGENT_TIMEOUT_EPOCHS:-10}))
lease-ms = $((QFT_EPOCH_MS * ${QFT_AGENT_TIMEOUT_EPOCHS:-10}))
state-dir = $QFT_RUN/$h/state
run-dir = $QFT_RUN/$h/run
pool-dir = /dev/shm
key-file = $QFT_RUN/peer.key
token-file = $QFT_RUN/rest.token
rest-listen = 127.0.0.1:7080
qemu = $QFT_QEMU
qemu-firmware = $QFT_FIRMWARE

[host:host-a]
peer-address = $AGENT_MGMT_A:7070

[host:host-b]
peer-address = $AGENT_MGMT_B:7070

[vm:$QFT_TAG-vm]
hosts = host-a;host-b
memory = 256M
qemu-args = $guest_args-display none -nodefaults -no-user-config -serial file:$QFT_RUN/$h/serial.log $(ft_disk_args raw "$disk" ftdisk)
${QFT_AGENT_EXTRA_CONF:-}
EOF
    done
}

agent_start() {
    local h=$1
    # not through qft_in: $! must be the agent itself (ip netns exec execs
    # it), not a subshell that a kill -9 would end while the agent lives on
    ip netns exec "$(qft_ns "$h")" "$AGENT_BIN" --foreground \
        --config "$QFT_RUN/$h/agent.conf" >>"$QFT_RUN/$h/agent.log" 2>&1 &
    echo $! >"$QFT_RUN/$h/agent.pid"
    disown $!
    local i
    for i in $(seq 100); do
        [ -S "$QFT_RUN/$h/run/agent.sock" ] && return 0
        kill -0 "$(cat "$QFT_RUN/$h/agent.pid")" 2>/dev/null ||
            qft_die "ft-agentd on host-$h exited at start: $(tail -n 5 "$QFT_RUN/$h/agent.log")"
        sleep 0.1
    done
    qft_die "ft-agentd on host-$h did not open its control socket in 10 s"
}

# agent_pair_up GUEST_DIR DISK: configurations, both agents, and waits
# until host-a's primary is protected by host-b's standby and the guest's
# service is up
agent_pair_up() {
    local guest=$1 disk=$2
    agent_configs "$guest" "$disk"
    agent_start a
    agent_start b
    agent_wait a '.role == "primary" and .protection == "protected"' 240
    agent_wait b '.role == "standby" and .status == "standby"' 30
    for _ in $(seq 600); do
        grep -q 'qft-guest: ready' "$QFT_RUN/a/serial.log" 2>/dev/null && return 0
        sleep 0.5
    done
    qft_die "the guest did not come up on host-a"
}

agent_kill() { kill -9 "$(cat "$QFT_RUN/$1/agent.pid")" 2>/dev/null || true; }

agent_api() {
    local h=$1 path=$2; shift 2
    curl -sS --unix-socket "$QFT_RUN/$h/run/agent.sock" "$@" "http://agent$path"
}

agent_vm() { agent_api "$1" "/v1/vms/$QFT_TAG-vm"; }

# agent_metric HOST 'NAME{LABELS}': the sample's value from GET /metrics
agent_metric() {
    agent_api "$1" /metrics | awk -v m="$2" '$1 == m {print $2; found = 1} END {if (!found) print "missing"}'
}

# agent_wait HOST JQ-EXPR SECONDS: until the VM's JSON on HOST satisfies it
agent_wait() {
    local h=$1 expr=$2 secs=$3 end v
    end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$end" ]; do
        v=$(agent_vm "$h" 2>/dev/null) || v=
        [ -n "$v" ] && echo "$v" | jq -e "$expr" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    qft_die "host-$h: vm0 never satisfied '$expr' in $secs s: $(agent_vm "$h" 2>&1 | jq -c 'del(.timelines)' 2>/dev/null)"
}

agent_qemu_pid() { agent_vm "$1" | jq -r '."qemu-pid"'; }

# The counter client, reconnecting across the failover; acks logged. Its
# deadline (the whole run) is only a backstop: the waits below bound a test.
agent_client_start() {
    local client=$1
    qft_in client "$client" --host "$QFT_GUEST_IP" --count 100000000 --timeout-ms 2000 \
        --reconnect --deadline-ms 900000 --log "$QFT_RUN/acks" --json \
        >"$QFT_RUN/client.json" 2>"$QFT_RUN/client.err" &
    AGENT_CLIENT_PID=$!
}

agent_client_acks() { if [ -f "$QFT_RUN/acks" ]; then wc -l <"$QFT_RUN/acks"; else echo 0; fi; }

# Waits until the client got N more answers than it had (or dies).
agent_client_more() {
    local n=$1 secs=$2 base end
    base=$(agent_client_acks); end=$(( $(date +%s) + secs ))
    while [ "$(date +%s)" -lt "$end" ]; do
        [ $(( $(agent_client_acks) - base )) -ge "$n" ] && return 0
        kill -0 "$AGENT_CLIENT_PID" 2>/dev/null || break
        sleep 0.1
    done
    qft_die "the client got fewer than $n more answers in $secs s: $(tail -c 300 "$QFT_RUN/client.err")"
}

# No acknowledged value lost on the wire (the client checks that every
# answer is above the last acknowledged one). A violation ends the client
# at once with its own exit status; one still running when it is stopped
# here saw none.
agent_client_check() {
    kill "$AGENT_CLIENT_PID" 2>/dev/null || true
    ft_client_wait "$AGENT_CLIENT_PID"
    # shellcheck disable=SC2154  # set by ft_client_wait (ft.sh)
    if [ "$ft_client_rc" = "$QFT_COUNTER_VIOLATION" ]; then
        qft_die "an acknowledged value was lost: $(head -c 300 "$QFT_RUN/client.err")"
    fi
}

# Captures of the frames each QEMU sent (-Q in: into the host from its
# tap), on both taps (one clock: one machine).
agent_capture_start() {
    local h
    for h in a b; do
        qft_in "$h" tcpdump -i tap0 -Q in -nn -U -tt -l "ether src $QFT_GUEST_MAC" \
            >"$QFT_RUN/$h/tap.txt" 2>/dev/null &
        echo $! >"$QFT_RUN/$h/tcpdump.pid"
        disown $!
    done
    sleep 1
}

agent_capture_stop() {
    local h
    for h in a b; do kill "$(cat "$QFT_RUN/$h/tcpdump.pid")" 2>/dev/null || true; done
    sleep 0.5
}

# agent_one_primary OLD NEW: no frame left the old primary's tap after the
# first frame from the new one's (and the new one sent some).
agent_one_primary() {
    local old=$1 new=$2 first last
    first=$(awk 'NR == 1 {print $1}' "$QFT_RUN/$new/tap.txt")
    [ -n "$first" ] || qft_die "no frame from the guest on host-$new's tap0"
    last=$(awk '{t = $1} END {print t}' "$QFT_RUN/$old/tap.txt")
    if [ -n "$last" ] && awk -v a="$last" -v b="$first" 'BEGIN {exit !(a > b)}'; then
        qft_die "two primaries: host-$old's tap0 carried a frame at $last, after host-$new's first at $first"
    fi
    echo "host-$new first frame $first, host-$old last ${last:-none}"
}

# agent_end HOST: ends everything: the agents first (nothing restarts or
# fails over), then the primary on HOST ends its protection cleanly through
# its operator QMP socket (ft-stop writes the journaled writes of its last
# commits to the images, which a kill -9 would leave to a promotion's redo)
# and quits, then every process of both hosts
agent_end() {
    local h=$1 ops pid i
    ops=$(agent_vm "$h" | jq -r '."ops-qmp" // empty')
    pid=$(agent_qemu_pid "$h")
    kill -9 "$(cat "$QFT_RUN/a/agent.pid")" "$(cat "$QFT_RUN/b/agent.pid")" 2>/dev/null || true
    [ -n "$ops" ] || qft_die "host-$h's agent names no operator QMP socket"
    "$QFT_QMP" "$ops" ft-stop >/dev/null || qft_die "ft-stop on host-$h's primary failed"
    ft_qmp_quit "$ops" "$pid" "host-$h's primary QEMU"
    for h in a b; do
        for i in $(ip netns pids "$(qft_ns $h)"); do kill -9 "$i" 2>/dev/null || true; done
    done
    sleep 0.5
}

# The guest's disk holds every acknowledged value (after every QEMU ended).
agent_disk_check() {
    local disk=$1 missing
    ft_disk_log raw "$disk" "$QFT_RUN/disk.log"
    awk '{print $2}' "$QFT_RUN/acks" | sort >"$QFT_RUN/acked"
    missing=$(sort "$QFT_RUN/disk.log" | comm -23 "$QFT_RUN/acked" - | wc -l)
    [ "$missing" = 0 ] || qft_die "$missing acknowledged values are missing from the guest's disk"
}
