# shellcheck shell=bash
# qemu-ft test helpers for protected VMs (source after harness.sh).
#
#   ft_qmp NAME CMD [JSON]         qft-qmp on NAME's QMP socket
#   ft_qmp_ev NAME CMD [JSON] --wait-event EV   on NAME's event socket
#   ft_wait_status NAME STATUS SECS
#   ft_pool_block_offset POOL N    pool offset of base block N (superblock)
#   ft_pool_commit POOL            the commit word, decoded: "GEN EPOCH SLOT"
#   flip FILE OFFSET               XOR one byte with 0x01 (corruption tests)
#   ft_start_bootblock_pair ...    see below
#   ft_standby_start NAME HOST POOL MEM ARGS...  paused standby on the pool
#   ft_kill_dead NAME              kill -9 NAME's QEMU and wait until it is gone
#   ft_promote_dead NAME [JSON-MEMBERS]  ft-promote after ft_kill_dead of the
#                                  primary: old-primary-dead, as an agent
#                                  that saw the pidfd report the exit would
#   ft_bootblock_disk IMG NAME     the bootblock boot disk under ft-disk (a
#                                  copy per test, shared by primary and standby)
#   ft_pool_json POOL              ftpool-inspect --json (needs QFT_INSPECT)
#   ft_linux_guest DIR TOOLS...    the tools on PATH and the Linux test guest
#                                  built into DIR, or the test fails naming it
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

# Little-endian u64 at byte OFFSET of FILE.
ft_u64_at() {
    od -An -t u8 -j "$2" -N 8 "$1" | tr -d ' '
}

# proto/ftpool.h: blocks[] starts at 256; each FtPoolBlock is 272 bytes
# (idstr[256], offset, length).
ft_pool_block_offset() {
    ft_u64_at "$1" $((256 + $2 * 272 + 256))
}

# The commit word sits at the first 64-byte boundary after layout_crc
# (offset 256 + 32 * 272 + 8 = 8968 -> 9024): generation, bit 47 retired,
# epoch in bits 1..46, slot.
ft_pool_commit() {
    local w
    w=$(ft_u64_at "$1" 9024)
    echo "$((w >> 48)) $(((w >> 1) & ((1 << 46) - 1))) $((w & 1))"
}

ft_pool_json() {
    : "${QFT_INSPECT:?QFT_INSPECT must point to ftpool-inspect}"
    "$QFT_INSPECT" --json "$1"
}

ft_linux_guest() {
    local dir=$1 t
    shift
    for t in "$@"; do
        command -v "$t" >/dev/null || qft_die "missing tool: $t (tools/setup installs it)"
    done
    "$QFT_TOP/tests/guest/linux/build-guest.sh" "$dir" >/dev/null || qft_die "building the guest failed"
}

ft_kill_dead() {
    local pid i
    pid=$(qft_vm_pid "$1")
    kill -9 "$pid" 2>/dev/null || true
    for i in $(seq 100); do
        [ -e "/proc/$pid" ] || return 0
        # a zombie of ours counts as dead: its memory and files are gone
        [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
        sleep 0.05
    done
    qft_die "$1 (pid $pid) still alive 5 s after kill -9"
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

# ft_standby_start NAME HOST POOL MEM QEMU-ARGS...: a paused standby (-S)
# whose RAM maps the pool's base image (share=off), attached with ft-standby.
ft_standby_start() {
    local name=$1 host=$2 pool=$3 mem=$4 off
    shift 4
    off=$(ft_pool_block_offset "$pool" 0)
    qft_vm_start "$name" "$host" "$@" -S \
        -object "memory-backend-file,id=ram,size=$mem,mem-path=$pool,offset=$off,share=off"
    ft_qmp "$name" ft-standby "{\"pool\": \"$pool\"}" >/dev/null
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

ft_disk_log() {
    local fmt=$1 path=$2 out=$3 tmp
    tmp=$(mktemp -p "$QFT_RUN" disk-XXXXXX.raw)
    "$QFT_QEMU_IMG" convert -U -f "$fmt" -O raw "$path" "$tmp" || qft_die "qemu-img convert of $path failed"
    e2fsck -fy "$tmp" >"$tmp.fsck" 2>&1 || [ $? -le 1 ] || qft_die "e2fsck of $path failed: $(tail -n 3 "$tmp.fsck")"
    debugfs -R 'cat /counter.log' "$tmp" 2>/dev/null | tr -d '\r' >"$out"
    rm -f "$tmp" "$tmp.fsck"
}
