#!/bin/sh
# /bin/qft-disk-io of the Linux test guest: one request per connection on
# port 7001 (busybox nc -ll -e), only with qft.disk=, answered on one line:
#   write MIB [DELAY]  after DELAY seconds (default 0), MIB MiB of random
#              data into /data/burst (O_DIRECT, 8 MiB a write), fsynced:
#              "wrote MIB sha256 HEX" (HEX of what was written)
#   sum        the page cache dropped, /data/burst as the disk holds it:
#              "sum sha256 HEX"
# Anything else: "error: ...".
read -r cmd arg delay || exit 0
case $cmd in
write)
    case $arg in
        ''|*[!0-9]*) echo "error: write wants a size in MiB, got '$arg'"; exit 0 ;;
    esac
    case ${delay:-0} in
        *[!0-9]*) echo "error: write wants a delay in seconds, got '$delay'"; exit 0 ;;
    esac
    sleep "${delay:-0}"
    # Random data staged in RAM, then written with O_DIRECT in 8 MiB
    # writes: each reaches the disk as several requests at once.
    if ! err=$(dd if=/dev/urandom of=/burst-src bs=1M count="$arg" 2>&1); then
        echo "error: staging the data failed: $err" | tr '\n' ' '; echo
    elif ! err=$(dd if=/burst-src of=/data/burst bs=8M oflag=direct conv=fsync 2>&1); then
        echo "error: writing /data/burst failed: $err" | tr '\n' ' '; echo
    else
        echo "wrote $arg sha256 $(sha256sum </burst-src | cut -d' ' -f1)"
    fi
    rm -f /burst-src
    ;;
sum)
    sync
    echo 3 >/proc/sys/vm/drop_caches
    echo "sum sha256 $(sha256sum </data/burst | cut -d' ' -f1)"
    ;;
*)
    echo "error: unknown request '$cmd' (write MIB, sum)"
    ;;
esac
