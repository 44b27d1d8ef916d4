#!/usr/bin/env bash
# ft-start refuses every configuration a checkpoint cannot cover, naming the
# device or object, and the VM keeps running unprotected and unharmed (no
# pool file, status none). Each case is the accepted baseline (bootblock
# guest, boot disk under ft-disk, NIC under filter-ft) with one change:
# a NIC without filter-ft, a writable disk not under ft-disk, an ft-disk in
# an iothread, an ft-disk device that reports ENOSPC to the guest instead of
# stopping (werror=report: the journal's back-pressure needs the stop), shared guest RAM (share=on, memfd), memory hot-plug (maxmem),
# a migration blocker (ivshmem in peer mode). Control: the baseline itself
# is protected. Then a device hot-plugged after ft-start that brings a RAM
# block (e1000 with its option ROM) ends the protection with the block named,
# and the pool is retired (never promotable).
#   ft-refuse.sh BOOTBLOCK_IMG QFT_QMP
set -euo pipefail
img=$1 QFT_QMP=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
[ -f "$img" ] || qft_die "no bootblock image at $img"
qft_need jq

qft_init
qft_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

ram="-object memory-backend-ram,id=ram,size=32M"
nic="$(qft_nic_args)"
filter="-object filter-ft,id=ft0,netdev=n0,queue=all"
base() { echo "-machine pc,memory-backend=ram -m 32M -smp 1 -accel tcg $(ft_bootblock_disk "$img" rf)"; }
extra=$QFT_RUN/extra.raw
truncate -s 8M "$extra"

# refused NAME WANT QEMU-ARGS...
refused() {
    local n=$1 want=$2 pool out
    shift 2
    pool=/dev/shm/$QFT_TAG-$n.pool
    qft_vm_start "$n" a "$@"
    if out=$(ft_qmp "$n" ft-start "{\"pool\": \"$pool\", \"epoch-ms\": 20}" 2>&1); then
        qft_die "$n: ft-start accepted a configuration it cannot protect"
    fi
    echo "$out" | grep -qF "$want" || qft_die "$n: expected '$want', got: $out"
    [ ! -e "$pool" ] || qft_die "$n: a refused ft-start left the pool $pool"
    [ "$(ft_qmp "$n" query-status | jq -r .status)" = running ] || qft_die "$n: the VM does not run after the refusal"
    [ "$(ft_qmp "$n" query-ft | jq -r .status)" = none ] || qft_die "$n: ft status after the refusal: $(ft_qmp "$n" query-ft | jq -r .status)"
    ft_kill_dead "$n"
    ok "$n: ft-start refused, VM running unprotected: ${out#*GenericError: }"
}

# shellcheck disable=SC2046,SC2086
refused nic-no-filter "NIC virtio-net-pci.0: its netdev n0 has no filter-ft" $(base) $ram $nic
# shellcheck disable=SC2046,SC2086
refused disk-no-ftdisk "(node d1raw) is writable and not under an ft-disk node" $(base) $ram $nic $filter \
    -blockdev driver=file,node-name=d1file,filename="$extra" -blockdev driver=raw,node-name=d1raw,file=d1file \
    -device virtio-blk-pci,drive=d1raw,id=d1
# shellcheck disable=SC2046,SC2086
refused disk-iothread "runs in an iothread" $(base) $ram $nic $filter -object iothread,id=io0 \
    -blockdev driver=file,node-name=d1file,filename="$extra" -blockdev driver=raw,node-name=d1raw,file=d1file \
    -blockdev driver=ft-disk,node-name=d1,file=d1raw -device virtio-blk-pci,drive=d1,id=d1,iothread=io0
# shellcheck disable=SC2046,SC2086
refused disk-werror-report "does not stop the VM on ENOSPC" $(base) $ram $nic $filter \
    -blockdev driver=file,node-name=d1file,filename="$extra" -blockdev driver=raw,node-name=d1raw,file=d1file \
    -blockdev driver=ft-disk,node-name=d1,file=d1raw -device virtio-blk-pci,drive=d1,id=d1,werror=report
# shellcheck disable=SC2046,SC2086
refused ram-share-on "RAM block ram is shared" $(base) $nic $filter \
    -object memory-backend-file,id=ram,size=32M,mem-path="$QFT_RUN/ram.file",share=on
# shellcheck disable=SC2046,SC2086
refused ram-memfd "RAM block ram is shared" $(base) $nic $filter -object memory-backend-memfd,id=ram,size=32M
# shellcheck disable=SC2046,SC2086
refused maxmem "can hot-plug memory (-m maxmem=" $(base | sed 's/-m 32M/-m 32M,slots=1,maxmem=64M/') $ram $nic $filter
# shellcheck disable=SC2046,SC2086
refused blocker "Migration is disabled when using feature 'peer mode' in device 'ivshmem'" $(base) $ram $nic $filter \
    -object memory-backend-file,id=shm,size=1M,mem-path="$QFT_RUN/shm.file",share=on -device ivshmem-plain,memdev=shm
if [ -e /dev/vhost-net ]; then
    # shellcheck disable=SC2046,SC2086
    refused vhost "uses vhost" $(base) $ram $filter \
        -netdev tap,id=n0,ifname=tap0,script=no,downscript=no,vhost=on \
        -device virtio-net-pci,netdev=n0,mac=$QFT_GUEST_MAC,romfile=
else
    echo "# vhost: no /dev/vhost-net on this host, the vhost-net case is not run"
fi

# Control: the baseline is protected. Then a hot-plugged NIC with an option
# ROM brings a RAM block the pool lacks: protection fails naming it, the pool
# is retired first.
pool=/dev/shm/$QFT_TAG-ctl.pool
# shellcheck disable=SC2046,SC2086
ft_primary_start ctl a "$pool" 32M $(base) $nic $filter
ok "control: the baseline configuration is protected"
ft_qmp ctl device_add '{"driver": "e1000", "id": "hot0"}' >/dev/null || qft_die "device_add e1000 failed"
for _ in $(seq 100); do
    [ "$(ft_qmp ctl query-ft | jq -r .status)" = failed ] && break
    sleep 0.1
done
info=$(ft_qmp ctl query-ft)
[ "$(echo "$info" | jq -r .status)" = failed ] || qft_die "hot-plug: protection went on with a RAM block outside the pool: $info"
echo "$info" | jq -r .error | grep -q "RAM block .*e1000.rom appeared after ft-start" || qft_die "hot-plug: error $(echo "$info" | jq -r .error)"
j=$(ft_pool_json "$pool")
[ "$(echo "$j" | jq -r .commit.retired)" = true ] || qft_die "hot-plug: the failed protection's pool is not retired: $(echo "$j" | jq -c .commit)"
[ "$(ft_qmp ctl query-status | jq -r .status)" = running ] || qft_die "hot-plug: the VM stopped"
ok "hot-plug: protection failed (\"$(echo "$info" | jq -r .error)\"), the pool retired ($(echo "$j" | jq -r '."retire-reason"' | cut -c1-60)...), the VM runs on"
ft_kill_dead ctl
rm -f "$pool"
echo "$passed passed, 0 failed"
