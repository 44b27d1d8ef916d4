# shellcheck shell=bash
# qemu-ft test harness: "hosts" as network namespaces on this machine.
#
#   source tests/lib/harness.sh
#   qft_init            # run dir, unique tag, teardown trap on every exit path
#                       # (not root, or no iproute2: the test is skipped, 77)
#   qft_need TOOL...    # skip the test (exit 77) naming the missing tools
#   qft_skip WHY        # skip the test (exit 77) saying why
#   qft_net_up          # namespaces, bridges, veths, taps (topology below)
#   qft_vm_start NAME HOST ARGS...   # QEMU in host "a" or "b", QMP + serial
#   qft_wait_serial NAME REGEX SECONDS
#   qft_in client CMD...             # run a command in a namespace
#
# Topology (all names carry the run's tag, so runs never collide):
#
#   ns TAG-client            ns TAG-fabric (the switch)        ns TAG-host-a
#   eth0 198.18.0.1 ---veth--- port-c   [sw0]   port-a ---veth--- up0 ]
#                                       |                         tap0 ] br0 198.18.0.2
#                                       port-b                     (QEMU on host-a)
#                                         \---veth--- ns TAG-host-b: up0+tap0 in br0 198.18.0.3
#
# The protected VM answers on 198.18.0.10 (guest contract, tests/guest/linux);
# a standby on host-b has the same MAC and IP. Addresses are from
# 198.18.0.0/15, the range reserved for network benchmarks.
#
# Teardown kills every process in our namespaces, deletes the namespaces
# (which destroys their links and taps), and removes the run dir and the
# /dev/shm files named after the tag. It runs on EXIT, INT, TERM and HUP and
# is idempotent. QFT_KEEP=1 skips it (debugging only; the teardown test uses
# it as its negative control). A library with more to stop first (daemons in
# their own mount namespaces: tests/lib/libvirt.sh) appends a function name
# to QFT_TEARDOWN_HOOKS; the teardown calls each before anything else.

QFT_TOP=${QFT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
QFT_QEMU_DIR=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
QFT_QEMU=${QFT_QEMU:-$QFT_QEMU_DIR/bin/qemu-system-x86_64}
QFT_FIRMWARE=${QFT_FIRMWARE:-$QFT_QEMU_DIR/firmware}

QFT_NET_CLIENT_IP=198.18.0.1
QFT_NET_HOST_A_IP=198.18.0.2
QFT_NET_HOST_B_IP=198.18.0.3
QFT_GUEST_IP=198.18.0.10
QFT_GUEST_MAC=52:54:00:12:34:56
QFT_TEARDOWN_HOOKS=()

qft_log() { echo "[$(date +%T.%3N)] $*" >&2; }
qft_die() { echo "FAIL: $*" >&2; exit 1; }
# meson's "skipped" status: a missing tool or privilege, not a failure
qft_skip() { echo "SKIP: $*" >&2; exit 77; }
qft_need() {
    local t lacking=""
    for t in "$@"; do
        command -v "$t" >/dev/null || lacking+=" $t"
    done
    [ -z "$lacking" ] || qft_skip "missing tool(s):$lacking (tools/setup installs them)"
}

qft_ns() {
    case "$1" in
        a|host-a) echo "$QFT_TAG-host-a" ;;
        b|host-b) echo "$QFT_TAG-host-b" ;;
        client) echo "$QFT_TAG-client" ;;
        fabric) echo "$QFT_TAG-fabric" ;;
        *) qft_die "unknown host '$1' (a, b, client, fabric)" ;;
    esac
}

qft_in() {
    local ns
    ns=$(qft_ns "$1"); shift
    ip netns exec "$ns" "$@"
}

qft_init() {
    [ "$(id -u)" = 0 ] || qft_skip "the harness needs root (network namespaces, taps)"
    command -v ip >/dev/null || qft_skip "iproute2 (ip) is missing: run tools/setup"
    QFT_TAG=${QFT_TAG:-qft$$}
    QFT_RUN=$(mktemp -d "/tmp/$QFT_TAG.XXXXXX")
    QFT_NAMESPACES=()
    export QFT_TAG QFT_RUN
    trap 'qft_teardown' EXIT
    trap 'qft_log "interrupted"; exit 130' INT
    trap 'qft_log "terminated"; exit 143' TERM HUP
}

qft_netns_add() {
    ip netns add "$1" || qft_die "ip netns add $1 failed"
    QFT_NAMESPACES+=("$1")
    ip -n "$1" link set lo up
}

# Creates the topology above. Idempotent per run.
qft_net_up() {
    local sw a b c h
    sw=$(qft_ns fabric); a=$(qft_ns a); b=$(qft_ns b); c=$(qft_ns client)
    for h in "$sw" "$a" "$b" "$c"; do qft_netns_add "$h"; done
    ip -n "$sw" link add sw0 type bridge
    ip -n "$sw" link set sw0 up
    for h in a b; do
        local ns ip
        ns=$(qft_ns $h)
        [ $h = a ] && ip=$QFT_NET_HOST_A_IP || ip=$QFT_NET_HOST_B_IP
        ip -n "$ns" link add up0 type veth peer name "port-$h" netns "$sw"
        ip -n "$sw" link set "port-$h" master sw0 up
        ip -n "$ns" link add br0 type bridge
        ip -n "$ns" link set up0 master br0 up
        ip -n "$ns" tuntap add dev tap0 mode tap vnet_hdr
        ip -n "$ns" link set tap0 master br0 up
        ip -n "$ns" addr add "$ip/24" dev br0
        ip -n "$ns" link set br0 up
    done
    ip -n "$c" link add eth0 type veth peer name port-c netns "$sw"
    ip -n "$sw" link set port-c master sw0 up
    ip -n "$c" addr add "$QFT_NET_CLIENT_IP/24" dev eth0
    ip -n "$c" link set eth0 up
    qft_log "network up: $sw (switch), $a, $b, $c"
}

# qft_vm_start NAME HOST QEMU-ARGS...
# Starts QEMU inside the host's namespace with QMP at $QFT_RUN/NAME.qmp and
# the serial console in $QFT_RUN/NAME.serial; its pid goes to NAME.pid.
qft_vm_start() {
    local name=$1 host=$2; shift 2
    [ -x "$QFT_QEMU" ] || qft_skip "QEMU not found at $QFT_QEMU: run tools/setup (or set QFT_QEMU_DIR)"
    local ns
    ns=$(qft_ns "$host")
    ip netns exec "$ns" "$QFT_QEMU" -L "$QFT_FIRMWARE" -name "$QFT_TAG-$name" \
        -display none -nodefaults -no-user-config \
        -qmp "unix:$QFT_RUN/$name.qmp,server=on,wait=off" \
        -serial "file:$QFT_RUN/$name.serial" \
        "$@" >"$QFT_RUN/$name.log" 2>&1 &
    echo $! >"$QFT_RUN/$name.pid"
    disown $!   # its death at teardown is expected, not a job to report
    local i
    for i in $(seq 100); do
        [ -S "$QFT_RUN/$name.qmp" ] && return 0
        kill -0 "$(cat "$QFT_RUN/$name.pid")" 2>/dev/null ||
            qft_die "QEMU $name exited at start: $(tail -n 5 "$QFT_RUN/$name.log")"
        sleep 0.1
    done
    qft_die "QEMU $name did not open its QMP socket in 10 s"
}

qft_vm_pid() { cat "$QFT_RUN/$1.pid"; }

# Tap-attached virtio-net NIC args for the guest contract's MAC.
qft_nic_args() {
    echo "-netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=off" \
         "-device virtio-net-pci,netdev=n0,mac=$QFT_GUEST_MAC,romfile="
}

# qft_wait_serial NAME REGEX SECONDS: bounded wait for a console line.
qft_wait_serial() {
    local name=$1 re=$2 secs=$3 i pid
    pid=$(qft_vm_pid "$name")
    for i in $(seq $((secs * 10))); do
        grep -qE "$re" "$QFT_RUN/$name.serial" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || qft_die "QEMU $name died while waiting for /$re/: $(tail -n 5 "$QFT_RUN/$name.log"; grep -m3 "qft-guest: error" "$QFT_RUN/$name.serial" 2>/dev/null)"
        sleep 0.1
    done
    qft_log "serial of $name (last lines):"; tail -n 20 "$QFT_RUN/$name.serial" >&2 || true
    qft_die "no /$re/ on the serial console of $name within $secs s"
}

# Everything this run may have left: namespaces (with their links, taps and
# mounts under /run/netns), processes inside them, the run dir, /dev/shm files.
qft_teardown() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ "${QFT_KEEP:-0}" = 1 ]; then
        qft_log "QFT_KEEP=1: leaving $QFT_TAG's namespaces and $QFT_RUN in place"
        return $rc
    fi
    local ns pids hook
    for hook in "${QFT_TEARDOWN_HOOKS[@]}"; do
        "$hook" || qft_log "teardown: $hook failed"
    done
    # Our own background jobs (clients, waiters) first, then the namespaces.
    pids=$(jobs -p 2>/dev/null || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$QFT_TAG-" || true); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null
    done
    # Processes die asynchronously; a namespace with a live process keeps its links.
    local i
    for i in $(seq 50); do
        pids=""
        for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$QFT_TAG-" || true); do
            pids+=$(ip netns pids "$ns" 2>/dev/null || true)
        done
        [ -z "$pids" ] && break
        sleep 0.1
    done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$QFT_TAG-" || true); do
        ip netns del "$ns" 2>/dev/null || qft_log "teardown: could not delete netns $ns"
    done
    rm -f /dev/shm/"$QFT_TAG"-* 2>/dev/null || true
    [ -n "${QFT_RUN:-}" ] && [ -d "$QFT_RUN" ] && rm -rf "$QFT_RUN"
    return $rc
}

# qft_leftovers TAG: prints whatever a run with TAG left behind (one line per
# item); prints nothing when the run cleaned up completely.
qft_leftovers() {
    local tag=$1
    ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$tag-" | sed 's/^/netns /'
    ip -o link show 2>/dev/null | grep -F "$tag" | sed 's/^/link /'
    grep -F "/run/netns/$tag-" /proc/mounts | sed 's/^/mount /'
    pgrep -af -- "-name (guest=)?$tag-" | sed 's/^/process /'
    ls -d /dev/shm/"$tag"-* 2>/dev/null | sed 's/^/shm /'
    ls -d /tmp/"$tag".* 2>/dev/null | sed 's/^/rundir /'
    return 0
}
