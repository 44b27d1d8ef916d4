#!/bin/sh
# /init of the Linux test guest (busybox sh).
# Kernel command line: qft.ip=ADDR/PREFIX (default 198.18.0.10/24),
# qft.gw=ADDR (optional), qft.disk=DEVICE (optional: ext4, mounted on /data;
# the counter service then logs to /data/counter.log and fsyncs each value,
# and port 7001 takes qft-disk-io requests: see disk-io.sh), qft.dirty=MIB
# (optional: dirty-ram writes every page of MIB MiB over and over and prints
# "qft-dirty: N pages/s" each second).
# Prints "qft-guest: ready ip=... service=7000" once the service listens,
# and restarts the service whenever it exits. A guest that cannot keep the
# contract (a module that does not load, no eth0, a bad address, a disk that
# does not mount) prints "qft-guest: error: ..." and powers off instead of
# serving without it.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1

fail() {
    echo "qft-guest: error: $*"
    sync
    poweroff -f
    sleep 1000000
}

ip=198.18.0.10/24 gw='' disk='' dirty=''
read -r cmdline </proc/cmdline
for arg in $cmdline; do
    case $arg in
        qft.ip=*) ip=${arg#qft.ip=} ;;
        qft.gw=*) gw=${arg#qft.gw=} ;;
        qft.disk=*) disk=${arg#qft.disk=} ;;
        qft.dirty=*) dirty=${arg#qft.dirty=} ;;
    esac
done

case $ip in
    */*) ;;
    *) fail "qft.ip=$ip: want ADDRESS/PREFIX" ;;
esac

while read -r m; do
    insmod "/lib/modules/$m.ko" || fail "insmod $m failed"
done </etc/modules.order

ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link show eth0 >/dev/null 2>&1 || fail "no eth0 (is there a virtio-net NIC?)"
ip addr add "$ip" dev eth0 || fail "cannot set qft.ip=$ip on eth0"
ip link set eth0 up || fail "cannot bring eth0 up"
if [ -n "$gw" ]; then
    ip route add default via "$gw" || fail "cannot route via qft.gw=$gw"
fi

log=
if [ -n "$disk" ]; then
    i=0
    while [ ! -b "$disk" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    [ -b "$disk" ] || fail "qft.disk=$disk is not a block device"
    mount -t ext4 "$disk" /data || fail "cannot mount qft.disk=$disk (ext4) on /data"
    log="--log /data/counter.log"
    # Disk requests for tests (qft-disk-io): bursts of writes, checksums.
    nc -ll -p 7001 -e /bin/qft-disk-io &
fi

if [ -n "$dirty" ]; then
    dirty-ram "$dirty" &
fi

ready=
while :; do
    # shellcheck disable=SC2086
    counter-service --port 7000 $log &
    pid=$!
    while [ -z "$ready" ] && kill -0 $pid 2>/dev/null; do
        if netstat -ltn 2>/dev/null | grep -q ':7000 '; then
            echo "qft-guest: ready ip=${ip%/*} service=7000"
            ready=1
        else
            sleep 0.1
        fi
    done
    wait $pid
    echo "qft-guest: counter-service exited ($?), restarting"
    sleep 1
done
