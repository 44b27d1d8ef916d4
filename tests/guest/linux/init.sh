#!/bin/sh
# /init of the Linux test guest (busybox sh).
# Kernel command line: qft.ip=ADDR/PREFIX (default 198.18.0.10/24),
# qft.gw=ADDR (optional), qft.disk=DEVICE (optional: ext4, mounted on /data;
# the counter service then logs to /data/counter.log and fsyncs each value).
# Prints "qft-guest: ready ip=... service=7000" once the service listens,
# and restarts the service whenever it exits.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1

ip=198.18.0.10/24 gw= disk=
for arg in $(cat /proc/cmdline); do
    case $arg in
        qft.ip=*) ip=${arg#qft.ip=} ;;
        qft.gw=*) gw=${arg#qft.gw=} ;;
        qft.disk=*) disk=${arg#qft.disk=} ;;
    esac
done

while read -r m; do
    insmod "/lib/modules/$m.ko" 2>/dev/null || echo "qft-guest: insmod $m failed"
done </etc/modules.order

ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip addr add "$ip" dev eth0 || echo "qft-guest: no eth0"
ip link set eth0 up
[ -n "$gw" ] && ip route add default via "$gw"

log=
if [ -n "$disk" ]; then
    i=0
    while [ ! -b "$disk" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if mount -t ext4 "$disk" /data; then
        log="--log /data/counter.log"
    else
        echo "qft-guest: cannot mount $disk on /data"
    fi
fi

ready=
while :; do
    # shellcheck disable=SC2086
    counter-service --port 7000 $log &
    pid=$!
    i=0
    while [ -z "$ready" ] && [ $i -lt 50 ]; do
        if netstat -ltn 2>/dev/null | grep -q ':7000 '; then
            echo "qft-guest: ready ip=${ip%/*} service=7000"
            ready=1
        fi
        sleep 0.1; i=$((i + 1))
    done
    wait $pid
    echo "qft-guest: counter-service exited ($?), restarting"
    sleep 1
done
