# shellcheck shell=bash
# A real libvirtd per test "host" (source after harness.sh; ft.sh and
# agent.sh are optional).
#
#   lv_need                       skip the test (exit 77) unless libvirtd,
#                                 virtlogd, virsh, nsenter and unshare are here
#   lv_up a|b                     host-X's libvirtd (after qft_net_up; with
#                                 LV_HOOK=ft-libvirt-hook: our hook): its own
#                                 mount namespace inside the host's netns, the
#                                 daemons started, the connection answering
#   lv_exec a|b CMD...            CMD inside host-X's net + mount namespaces
#   lv_virsh a|b ARGS...          virsh -c qemu:///system ARGS on host-X
#   lv_domain_xml NAME HOST [OPTIONS]   a domain XML for the Linux test guest
#                                 (ft_linux_guest first, or QFT_GUEST_DIR):
#                                 --mem MIB (256), --append ARGS (kernel),
#                                 --arg ARG (one more <qemu:arg>; repeat),
#                                 --xml SNIPPET (inside <domain>, e.g. metadata)
#   lv_serial NAME HOST           the domain's serial console file
#   lv_wait_serial NAME HOST REGEX SECONDS
#   lv_domain_log NAME HOST       /var/log/libvirt/qemu/NAME.log of host-X
#   lv_path HOST PATH             where host-X's PATH (under one of the
#                                 per-host directories below) is seen from
#                                 outside, e.g. lv_path a /run/qemu-ft/agent.sock
#   lv_down a|b                   kill host-X's daemons, its domains and holder
#                                 (the teardown does it for every host that is up)
#
# Each host gets, bind-mounted in its own mount namespace (libvirt's default
# paths, so both daemons run on one machine as on two):
#   /etc/libvirt        a copy of this machine's, with qemu.conf and
#                       libvirtd.conf set for the tests (below)
#   /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
#   /run/qemu-ft        the host's ft-agentd control socket lives here
#   /etc/qemu-ft        the host's agent configuration
# all from $QFT_RUN/X/libvirt/. /dev/shm and /tmp stay shared (the pool lives
# in /dev/shm; $QFT_RUN is in /tmp). The mount points are created on this
# machine when missing (empty directories, left in place: removing one would
# unmount it in a concurrent run's namespace).
#
# The namespace is held by a "holder" process (unshare --mount inside ip
# netns exec, then sleep); lv_exec enters it with nsenter. No systemd: the
# daemons are started with -d and their pid files are under /run/libvirt.
# No virtlockd: qemu.conf keeps libvirt's default lock manager (none), since
# an FT primary and its standby share the disk image on purpose.

lv_need() {
    local t lacking=""
    for t in libvirtd virtlogd virsh nsenter unshare; do
        command -v "$t" >/dev/null || lacking+=" $t"
    done
    [ -z "$lacking" ] ||
        qft_skip "libvirt is not installed (missing:$lacking): tools/setup installs libvirt 11 from bookworm-backports"
    [ -x "$QFT_QEMU" ] || qft_skip "QEMU not found at $QFT_QEMU: run tools/setup (or set QFT_QEMU_DIR)"
}

lv_host() {
    case "$1" in
        a|host-a) echo a ;;
        b|host-b) echo b ;;
        *) qft_die "unknown libvirt host '$1' (a or b)" ;;
    esac
}

lv_dir() { echo "$QFT_RUN/$(lv_host "$1")/libvirt"; }

lv_holder() {
    local f
    f=$(lv_dir "$1")/holder.pid
    [ -s "$f" ] || qft_die "host-$1 has no libvirtd namespace (lv_up $1 first)"
    cat "$f"
}

lv_exec() {
    local pid
    pid=$(lv_holder "$1"); shift
    nsenter --target "$pid" --mount --net -- "$@"
}

lv_virsh() {
    local h=$1; shift
    lv_exec "$h" virsh -q -c qemu:///system "$@"
}

# The per-host tree: a copy of /etc/libvirt with the test settings, and
# empty state directories.
lv_prepare() {
    local h=$1 d=$2 uuid
    mkdir -p "$d"/{run,lib,cache,log,qemu-ft-run,qemu-ft-etc}
    mkdir -p "$d"/lib/{qemu,boot,images} "$d"/cache/qemu "$d"/log/qemu
    cp -a /etc/libvirt "$d/etc" || qft_die "cannot copy /etc/libvirt"
    # No hook of this machine's: only the test's own (LV_HOOK).
    rm -rf "$d/etc/hooks"
    # LV_HOOK (ft-libvirt-hook): installed as qemu-ft's libvirt hook by
    # install-hook, before the daemon starts (libvirt looks for hooks then)
    if [ -n "${LV_HOOK:-}" ]; then
        DESTDIR="" "$QFT_TOP/libvirt-hooks/install-hook" --libvirt-dir "$d/etc" "$LV_HOOK" >/dev/null ||
            qft_die "install-hook of $LV_HOOK into $d/etc failed"
    fi
    # No network autostarts inside a test host (no dnsmasq, no firewall).
    rm -rf "$d/etc/qemu/networks/autostart" "$d/etc/qemu/autostart"
    # QEMU runs as root in libvirtd's own mount namespace (so it sees the
    # host's /run/qemu-ft and the shared /dev/shm), without cgroups (none
    # are usable in a netns: ip netns exec remounts /sys), without a
    # security driver or relabelling (our emulator and guest files are
    # root's). libvirt's default lock manager (none) stays.
    cat >>"$d/etc/qemu.conf" <<'EOF'

# ---- qemu-ft tests (tests/lib/libvirt.sh) ----
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
EOF
    # Unix sockets only, no TCP or TLS; a host UUID of its own (two daemons
    # on one machine would otherwise share the SMBIOS one, and migration
    # refuses "the same host"); warnings and errors to a file.
    uuid=$(cat /proc/sys/kernel/random/uuid)
    cat >>"$d/etc/libvirtd.conf" <<EOF

# ---- qemu-ft tests (tests/lib/libvirt.sh) ----
listen_tls = 0
listen_tcp = 0
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >>"$d/etc/virtlogd.conf" <<'EOF'

# ---- qemu-ft tests (tests/lib/libvirt.sh) ----
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
}

# The holder: the host's netns, a private mount namespace, the bind mounts,
# then sleep. It writes $d/holder.ready once the mounts are in place.
# shellcheck disable=SC2016  # expanded by the holder's bash, not here
lv_holder_script='
set -e
d=$1
mount --bind "$d/etc" /etc/libvirt
mount --bind "$d/run" /run/libvirt
mount --bind "$d/lib" /var/lib/libvirt
mount --bind "$d/cache" /var/cache/libvirt
mount --bind "$d/log" /var/log/libvirt
mount --bind "$d/qemu-ft-run" /run/qemu-ft
mount --bind "$d/qemu-ft-etc" /etc/qemu-ft
echo ok >"$d/holder.ready"
exec sleep infinity
'

lv_up() {
    local h d ns pid i m
    h=$(lv_host "$1")
    d=$(lv_dir "$h")
    ns=$(qft_ns "$h")
    [ -e "/run/netns/$ns" ] || qft_die "lv_up $h: no netns $ns (qft_net_up first)"
    [ ! -s "$d/holder.pid" ] || qft_die "lv_up $h: host-$h's libvirtd is already up"
    lv_prepare "$h" "$d"
    for m in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt \
             /run/qemu-ft /etc/qemu-ft; do
        mkdir -p "$m" || qft_die "cannot create the mount point $m"
    done
    lv_register_teardown
    # ip netns exec and unshare (without --fork) exec: $! is the holder
    ip netns exec "$ns" unshare --mount --propagation private -- \
        bash -c "$lv_holder_script" lv-holder "$d" >"$d/holder.log" 2>&1 &
    pid=$!
    disown "$pid"
    echo "$pid" >"$d/holder.pid"
    for i in $(seq 100); do
        [ -f "$d/holder.ready" ] && break
        kill -0 "$pid" 2>/dev/null || qft_die "host-$h's namespace holder exited: $(cat "$d/holder.log")"
        sleep 0.05
    done
    [ -f "$d/holder.ready" ] || qft_die "host-$h's namespace holder did not set up its mounts in 5 s"
    lv_exec "$h" virtlogd -d -p /run/libvirt/virtlogd.pid ||
        qft_die "host-$h: virtlogd -d failed: $(tail -n 5 "$d/log/virtlogd.log" 2>/dev/null)"
    lv_exec "$h" libvirtd -d -p /run/libvirt/libvirtd.pid ||
        qft_die "host-$h: libvirtd -d failed: $(tail -n 5 "$d/log/libvirtd.log" 2>/dev/null)"
    for i in $(seq 300); do
        [ -S "$d/run/libvirt-sock" ] && lv_virsh "$h" list --all >/dev/null 2>&1 && break
        sleep 0.1
    done
    lv_virsh "$h" list --all >/dev/null 2>"$d/virsh-list.err" ||
        qft_die "host-$h: libvirtd does not answer in 30 s: $(cat "$d/virsh-list.err"; tail -n 5 "$d/log/libvirtd.log" 2>/dev/null)"
    qft_log "libvirtd up on host-$h (pid $(cat "$d/run/libvirtd.pid"), state in $d)"
}

# lv_down HOST: the domains' QEMUs, the daemons and the holder killed (a
# pid file's process only if it is in the host's netns: never a stranger
# that reused a stale pid). The mounts go with the last process of the
# mount namespace.
lv_down() {
    local h d pids p pid i net
    h=$(lv_host "$1")
    d=$(lv_dir "$h")
    [ -s "$d/holder.pid" ] || return 0
    pids=$(cat "$d/holder.pid")
    net=$(readlink "/proc/$pids/ns/net" 2>/dev/null) || net=none
    for p in "$d"/run/qemu/*.pid "$d"/run/libvirtd.pid "$d"/run/virtlogd.pid; do
        [ -s "$p" ] || continue
        pid=$(cat "$p")
        [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$net" ] && pids+=" $pid"
    done
    # shellcheck disable=SC2086  # a list of pids
    kill -9 $pids 2>/dev/null || true
    for i in $(seq 50); do
        p=""
        for pid in $pids; do kill -0 "$pid" 2>/dev/null && p+=" $pid"; done
        [ -z "$p" ] && break
        sleep 0.1
    done
    rm -f "$d/holder.pid"
}

lv_teardown() {
    local h
    for h in a b; do
        [ -n "${QFT_RUN:-}" ] && [ -s "$QFT_RUN/$h/libvirt/holder.pid" ] && lv_down "$h"
    done
    return 0
}

lv_register_teardown() {
    local f
    for f in "${QFT_TEARDOWN_HOOKS[@]}"; do [ "$f" = lv_teardown ] && return 0; done
    QFT_TEARDOWN_HOOKS+=(lv_teardown)
}

lv_serial() { echo "$QFT_RUN/$(lv_host "$2")/serial-$1.log"; }

lv_domain_log() { echo "$(lv_dir "$2")/log/qemu/$1.log"; }

lv_path() {
    local d
    d=$(lv_dir "$1")
    case $2 in
        /etc/libvirt|/etc/libvirt/*) echo "$d/etc${2#/etc/libvirt}" ;;
        /run/libvirt|/run/libvirt/*) echo "$d/run${2#/run/libvirt}" ;;
        /var/lib/libvirt|/var/lib/libvirt/*) echo "$d/lib${2#/var/lib/libvirt}" ;;
        /var/cache/libvirt|/var/cache/libvirt/*) echo "$d/cache${2#/var/cache/libvirt}" ;;
        /var/log/libvirt|/var/log/libvirt/*) echo "$d/log${2#/var/log/libvirt}" ;;
        /run/qemu-ft|/run/qemu-ft/*) echo "$d/qemu-ft-run${2#/run/qemu-ft}" ;;
        /etc/qemu-ft|/etc/qemu-ft/*) echo "$d/qemu-ft-etc${2#/etc/qemu-ft}" ;;
        *) echo "$2" ;;   # shared with the machine (/tmp, /dev/shm, ...)
    esac
}

# lv_domain_xml NAME HOST [OPTIONS]: see the header. The guest contract's
# NIC on the host's tap0 (not managed by libvirt: the harness made it),
# virtio without vhost and without option ROM; the serial console into
# lv_serial's file; no disk, graphics, USB or balloon. -L points our QEMU at
# its firmware directory (it has no installed data dir).
lv_domain_xml() {
    local name=$1 h mem=256 append="" xml="" args=() a qargs=""
    h=$(lv_host "$2"); shift 2
    while [ $# -gt 0 ]; do
        case $1 in
            --mem) mem=$2; shift 2 ;;
            --append) append=$2; shift 2 ;;
            --arg) args+=("$2"); shift 2 ;;
            --xml) xml+=$2; shift 2 ;;
            *) qft_die "lv_domain_xml: unknown option $1" ;;
        esac
    done
    [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || qft_die "lv_domain_xml: bad domain name '$name'"
    : "${QFT_GUEST_DIR:?lv_domain_xml: ft_linux_guest (or QFT_GUEST_DIR) first}"
    mkdir -p "$QFT_RUN/$h"
    for a in -L "$QFT_FIRMWARE" "${args[@]}"; do
        a=${a//&/&amp;}; a=${a//</&lt;}; a=${a//\'/&apos;}
        qargs+="    <qemu:arg value='$a'/>
"
    done
    cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$QFT_GUEST_DIR/vmlinuz</kernel>
    <initrd>$QFT_GUEST_DIR/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet qft.ip=$QFT_GUEST_IP/24${append:+ $append}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$QFT_QEMU</emulator>
    <interface type='ethernet'>
      <mac address='$QFT_GUEST_MAC'/>
      <target dev='tap0' managed='no'/>
      <model type='virtio'/>
      <driver name='qemu'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='$(lv_serial "$name" "$h")'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
$xml  <qemu:commandline>
$qargs  </qemu:commandline>
</domain>
EOF
}

# lv_wait_serial NAME HOST REGEX SECONDS: bounded wait for a console line
# of a libvirt domain (fails early when the domain stops running).
lv_wait_serial() {
    local name=$1 h=$2 re=$3 secs=$4 i f st
    f=$(lv_serial "$name" "$h")
    for i in $(seq $((secs * 5))); do
        grep -qE "$re" "$f" 2>/dev/null && return 0
        if [ $((i % 10)) = 0 ]; then
            st=$(lv_virsh "$h" domstate "$name" 2>&1) || true
            case $st in
                running|paused) ;;
                *) qft_die "domain $name on host-$h is '$st' while waiting for /$re/: $(tail -n 5 "$(lv_domain_log "$name" "$h")" 2>/dev/null)" ;;
            esac
        fi
        sleep 0.2
    done
    qft_log "serial of $name on host-$h (last lines):"; tail -n 20 "$f" >&2 || true
    qft_die "no /$re/ on the serial console of $name (host-$h) within $secs s"
}
