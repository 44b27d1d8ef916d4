# shellcheck shell=bash
# qemu-ft test helpers for protected VMs (source after harness.sh).
#
#   ft_qmp NAME CMD [JSON]         qft-qmp on NAME's QMP socket
#   ft_qmp_ev NAME CMD [JSON] --wait-event EV   on NAME's event socket
#   ft_wait_status NAME STATUS SECS
#   ft_vm_quit NAME [SECS]         QMP quit, then wait until the QEMU is gone
#   ft_qmp_quit SOCKET PID WHAT [SECS]  the same for a QEMU not started by
#                                  qft_vm_start (an agent's)
#
# The pool, read only through ftpool-inspect --json (QFT_INSPECT; the
# layout is proto/ftpool.h's, parsed in libftpool alone):
#   ft_pool_json POOL              ftpool-inspect --json
#   ft_pool_get POOL JQ-EXPR       one value of it (jq -r)
#   ft_pool_block_offset POOL [ID] pool offset of base block ID (default
#                                  ram; a number is an index)
#   ft_pool_commit POOL            the commit word, decoded: "GEN EPOCH SLOT"
#                                  (SLOT 0 = A, 1 = B)
#   flip FILE OFFSET               XOR one byte with 0x01 (corruption tests;
#                                  OFFSET from ft_pool_get)
#
# Protected VMs:
#   ft_protect NAME POOL [MEMBERS [SECS]]  ft-start (epoch-ms 20 unless
#                                  MEMBERS, extra JSON members, set it), then
#                                  wait until protected (SECS, default 60)
#   ft_primary_start NAME HOST POOL MEM [OPTIONS] QEMU-ARGS...
#                                  QEMU with its RAM (memory-backend-ram) and
#                                  an event socket, protected by ft_protect;
#                                  options: --ready REGEX SECS (wait for the
#                                  serial line before ft-start), --ft MEMBERS,
#                                  --wait SECS
#   ft_standby_start NAME HOST POOL MEM [OPTIONS] QEMU-ARGS...
#                                  paused standby (-S) whose RAM maps the
#                                  pool's base image, attached with
#                                  ft-standby; options: --share on (a bad
#                                  control), --own-ram (its RAM not from the
#                                  pool: a control), --no-attach (no
#                                  ft-standby: the test expects its refusal)
#   ft_kill_dead NAME              kill -9 NAME's QEMU and wait until it is gone
#   ft_promote_dead NAME [JSON-MEMBERS]  ft-promote after ft_kill_dead of the
#                                  primary: old-primary-dead, as an agent
#                                  that saw the pidfd report the exit would
#   ft_bootblock_disk IMG NAME     the bootblock boot disk under ft-disk (a
#                                  copy per test, shared by primary and standby)
#
# The Linux test guest:
#   ft_linux_guest DIR TOOLS...    the tools on PATH (else the test is skipped,
#                                  exit 77, naming them) and the Linux test
#                                  guest built into DIR (QFT_GUEST_DIR)
#   ft_linux_args [OPTIONS]        its QEMU arguments into the array
#                                  FT_LINUX_ARGS: -machine, -m, kernel,
#                                  initrd, -append, the tap NIC and its
#                                  filter-ft; options: --mem SIZE (256M;
#                                  "none": no -m), --filter QUEUE (all;
#                                  "none": no filter-ft), --disk DEV
#                                  (qft.disk=DEV), --append ARGS, --ram
#                                  (-object memory-backend-ram: unprotected)
#   ft_client_wait PID             wait for a qft-counter-client in the
#                                  background; its exit status in
#                                  $ft_client_rc ($QFT_COUNTER_VIOLATION: an
#                                  acknowledged value was lost)
#
# Needs QFT_QMP (the qft-qmp binary).

: "${QFT_QMP:?QFT_QMP must point to qft-qmp}"

ft_qmp() {
    local name=$1; shift
    "$QFT_QMP" --timeout-ms "${FT_QMP_TIMEOUT:-30000}" "$QFT_RUN/$name.qmp" "$@"
}

ft_qmp_ev() {
    local name=$1; shift
    "$QFT_QMP" --timeout-ms "${FT_QMP_TIMEOUT:-30000}" "$QFT_RUN/$name-ev.qmp" "$@"
}

# The second QMP socket (events) for qft_vm_start.
ft_ev_args() {
    echo "-qmp unix:$QFT_RUN/$1-ev.qmp,server=on,wait=off"
}

ft_wait_status() {
    local name=$1 want=$2 secs=$3 i st
    for i in $(seq $((secs * 10))); do
        st=$(ft_qmp "$name" query-ft | jq -r .status)
        [ "$st" = "$want" ] && return 0
        [ "$st" = failed ] && qft_die "$name: ft failed: $(ft_qmp "$name" query-ft | jq -r .error)"
        sleep 0.1
    done
    qft_die "$name: ft status is '$st', not '$want' after $secs s"
}

# XOR one byte of FILE at OFFSET with 0x01.
flip() {
    local b
    b=$(od -An -t u1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

ft_pool_json() {
    : "${QFT_INSPECT:?QFT_INSPECT must point to ftpool-inspect}"
    "$QFT_INSPECT" --json "$1" || qft_die "ftpool-inspect --json $1 failed"
}

ft_pool_get() {
    local v
    v=$(ft_pool_json "$1" | jq -r "$2") || qft_die "ftpool-inspect --json $1: no '$2'"
    echo "$v"
}

ft_pool_block_offset() {
    local id=${2:-ram} v
    if [[ $id =~ ^[0-9]+$ ]]; then
        v=$(ft_pool_get "$1" ".blocks[$id].offset // empty")
    else
        v=$(ft_pool_get "$1" ".blocks[] | select(.id == \"$id\") | .offset")
    fi
    [ -n "$v" ] || qft_die "$1: no base block $id"
    echo "$v"
}

ft_pool_commit() {
    ft_pool_get "$1" '.commit | "\(.generation) \(.epoch) \(."slot-index")"'
}

ft_linux_guest() {
    local dir=$1
    shift
    qft_need "$@"
    "$QFT_TOP/tests/guest/linux/build-guest.sh" "$dir" >/dev/null || qft_die "building the guest into $dir failed"
    QFT_GUEST_DIR=$dir
}

ft_linux_args() {
    local mem=256M filter=all disk="" extra="" ram=""
    while [ $# -gt 0 ]; do
        case $1 in
            --mem) mem=$2; shift 2 ;;
            --filter) filter=$2; shift 2 ;;
            --disk) disk=$2; shift 2 ;;
            --append) extra=$2; shift 2 ;;
            --ram) ram=1; shift ;;
            *) qft_die "ft_linux_args: unknown option $1" ;;
        esac
    done
    : "${QFT_GUEST_DIR:?ft_linux_guest first}"
    local -a nic_args
    read -r -a nic_args <<<"$(qft_nic_args)"
    FT_LINUX_ARGS=(-machine "pc,memory-backend=ram" -accel tcg)
    [ "$mem" = none ] || FT_LINUX_ARGS+=(-m "$mem")
    FT_LINUX_ARGS+=(-smp 1
        -kernel "$QFT_GUEST_DIR/vmlinuz" -initrd "$QFT_GUEST_DIR/initramfs.cpio.gz"
        -append "console=ttyS0 quiet qft.ip=$QFT_GUEST_IP/24${disk:+ qft.disk=$disk}${extra:+ $extra}"
        "${nic_args[@]}")
    [ "$filter" = none ] || FT_LINUX_ARGS+=(-object "filter-ft,id=ft0,netdev=n0,queue=$filter")
    [ -z "$ram" ] || FT_LINUX_ARGS+=(-object "memory-backend-ram,id=ram,size=$mem")
}

# qft-counter-client's exit status for a violation (an answer that breaks
# its ordering rule: an acknowledged value lost)
# shellcheck disable=SC2034  # used by the sourcing scripts
QFT_COUNTER_VIOLATION=3
# shellcheck disable=SC2034  # ft_client_rc is read by the caller
ft_client_wait() {
    ft_client_rc=0
    wait "$1" || ft_client_rc=$?
}

ft_kill_dead() {
    local pid
    pid=$(qft_vm_pid "$1")
    kill -9 "$pid" 2>/dev/null || true
    ft_wait_gone "$pid" 5 || qft_die "$1 (pid $pid) still alive 5 s after kill -9"
}

# ft_wait_gone PID SECS: until the process is gone (0), or 1 after SECS;
# a zombie of ours counts as gone: its memory and files are
ft_wait_gone() {
    local pid=$1 secs=$2
    for _ in $(seq $((secs * 20))); do
        [ -e "/proc/$pid" ] || return 0
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
    return 1
}

ft_promote_dead() {
    local name=$1 extra=${2:-}
    ft_qmp "$name" ft-promote "{\"old-primary-dead\": true${extra:+, $extra}}"
}

ft_bootblock_disk() {
    local img=$1 name=$2 copy
    copy=$QFT_RUN/bootblock-$name.img
    [ -f "$copy" ] || cp "$img" "$copy"
    echo "-blockdev driver=file,node-name=bbfile,filename=$copy,locking=off" \
         "-blockdev driver=raw,node-name=bbraw,file=bbfile" \
         "-blockdev driver=ft-disk,node-name=bbdisk,file=bbraw" \
         "-device ide-hd,drive=bbdisk,bus=ide.0"
}

ft_protect() {
    local name=$1 pool=$2 extra=${3:-} secs=${4:-60} ms='"epoch-ms": 20, '
    [[ $extra == *'"epoch-ms"'* ]] && ms=
    ft_qmp "$name" ft-start "{${ms}\"pool\": \"$pool\"${extra:+, $extra}}" >/dev/null ||
        qft_die "$name: ft-start on $pool refused"
    ft_wait_status "$name" protected "$secs"
}

ft_primary_start() {
    local name=$1 host=$2 pool=$3 mem=$4 ready="" ready_secs="" extra="" secs=60
    shift 4
    while :; do
        case ${1:-} in
            --ready) ready=$2 ready_secs=$3; shift 3 ;;
            --ft) extra=$2; shift 2 ;;
            --wait) secs=$2; shift 2 ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    # shellcheck disable=SC2046
    qft_vm_start "$name" "$host" "$@" -object "memory-backend-ram,id=ram,size=$mem" $(ft_ev_args "$name")
    [ -z "$ready" ] || qft_wait_serial "$name" "$ready" "$ready_secs"
    ft_protect "$name" "$pool" "$extra" "$secs"
}

ft_standby_start() {
    local name=$1 host=$2 pool=$3 mem=$4 share=off attach=1 ram=pool ram_arg
    shift 4
    while :; do
        case ${1:-} in
            --share) share=$2; shift 2 ;;
            --own-ram) ram=own; shift ;;
            --no-attach) attach=""; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    if [ "$ram" = own ]; then
        ram_arg="memory-backend-ram,id=ram,size=$mem"
    else
        ram_arg="memory-backend-file,id=ram,size=$mem,mem-path=$pool,offset=$(ft_pool_block_offset "$pool" ram),share=$share"
    fi
    qft_vm_start "$name" "$host" "$@" -S -object "$ram_arg"
    [ -z "$attach" ] || ft_qmp "$name" ft-standby "{\"pool\": \"$pool\"}" >/dev/null ||
        qft_die "$name: ft-standby on $pool refused"
}

ft_qmp_quit() {
    local sock=$1 pid=$2 what=$3 secs=${4:-10}
    "$QFT_QMP" --timeout-ms 10000 "$sock" quit >/dev/null 2>&1 || true
    ft_wait_gone "$pid" "$secs" || qft_die "$what (pid $pid) still runs $secs s after QMP quit"
}

ft_vm_quit() {
    ft_qmp_quit "$QFT_RUN/$1.qmp" "$(qft_vm_pid "$1")" "QEMU $1" "${2:-10}"
}

# --- guest disks under ft-disk (issue 5) ---
#   ft_disk_make FMT PATH          64 MiB ext4 image, raw or qcow2
#   ft_disk_args FMT PATH [ftdisk] -blockdev ... -device virtio-blk-pci args;
#                                  with "ftdisk" the format node sits under an
#                                  ft-disk filter (locking=off: the pool's
#                                  generation, not a file lock, decides who
#                                  writes; the standby opens the image too)
#   ft_disk_log FMT PATH OUT       the guest's /counter.log after e2fsck of a
#                                  copy (the journal replayed), one value a line
#   ft_qcow2_check PATH WHAT       qemu-img check: corruption fails the test;
#                                  leaked clusters alone (exit 3: a writer
#                                  killed inside an allocation, no data lost)
#                                  are reported, not failed
QFT_QEMU_IMG=${QFT_QEMU_IMG:-$QFT_QEMU_DIR/bin/qemu-img}

ft_disk_make() {
    local fmt=$1 path=$2
    rm -f "$path" "$path.raw"
    truncate -s 64M "$path.raw"
    mkfs.ext4 -q -F "$path.raw" || qft_die "mkfs.ext4 $path failed"
    if [ "$fmt" = qcow2 ]; then
        "$QFT_QEMU_IMG" convert -f raw -O qcow2 "$path.raw" "$path" || qft_die "qemu-img convert $path failed"
        rm -f "$path.raw"
    else
        mv "$path.raw" "$path"
    fi
}

ft_disk_args() {
    local fmt=$1 path=$2 filter=${3:-} top=fmt0
    local a="-blockdev driver=file,node-name=file0,filename=$path,locking=off"
    a+=" -blockdev driver=$fmt,node-name=fmt0,file=file0"
    if [ "$filter" = ftdisk ]; then
        a+=" -blockdev driver=ft-disk,node-name=disk0,file=fmt0"
        top=disk0
    fi
    echo "$a -device virtio-blk-pci,drive=$top"
}

ft_qcow2_check() {
    local img=$1 what=$2 out rc=0
    out=$("$QFT_QEMU_IMG" check "$img" 2>&1) || rc=$?
    case $rc in
        0) ;;
        3) echo "# $what: qemu-img check: $(echo "$out" | grep -m1 -i 'leaked clusters' || echo 'leaked clusters'), no corruption" ;;
        *) qft_die "$what: qemu-img check of $img failed (exit $rc): $(echo "$out" | head -n 5 | tr '\n' ' ')" ;;
    esac
}

ft_disk_log() {
    local fmt=$1 path=$2 out=$3 tmp
    tmp=$(mktemp -p "$QFT_RUN" disk-XXXXXX.raw)
    "$QFT_QEMU_IMG" convert -U -f "$fmt" -O raw "$path" "$tmp" || qft_die "qemu-img convert of $path failed"
    e2fsck -fy "$tmp" >"$tmp.fsck" 2>&1 || [ $? -le 1 ] || qft_die "e2fsck of $path failed: $(tail -n 3 "$tmp.fsck")"
    debugfs -R 'cat /counter.log' "$tmp" 2>/dev/null | tr -d '\r' >"$out"
    rm -f "$tmp" "$tmp.fsck"
}
