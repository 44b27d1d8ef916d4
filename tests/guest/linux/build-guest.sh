#!/usr/bin/env bash
# Builds the Linux test guest, reproducibly, from Debian packages:
#   build-guest.sh OUTDIR
# OUTDIR gets vmlinuz, initramfs.cpio.gz and manifest.txt. Same inputs (the
# two .debs, this script, init, counter-service.c, dirty-ram.c,
# SOURCE_DATE_EPOCH) give a byte-identical initramfs; a rerun with unchanged
# inputs does nothing.
#
# The guest: Debian bookworm's linux-image-6.1.0-*-amd64-unsigned (newest in
# the archive, cached), busybox-static, the virtio/ext4 modules, /init (see
# init.sh), the static counter service (counter-service.c) and memory
# dirtier (dirty-ram.c).
# Env: QFT_GUEST_CACHE (default /var/cache/qemu-ft/guest), SOURCE_DATE_EPOCH
# (default 1700000000), QFT_GUEST_FORCE=1 rebuilds even if up to date.
set -euo pipefail
umask 022   # file modes in the initramfs must not depend on the caller
out=${1:?usage: build-guest.sh OUTDIR}
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
cache=${QFT_GUEST_CACHE:-/var/cache/qemu-ft/guest}
epoch=${SOURCE_DATE_EPOCH:-1700000000}
step=start
die() { echo "build-guest.sh: $step: $*" >&2; exit 1; }
work=
on_exit() {
    local rc=$?
    [ -z "$work" ] || rm -rf "$work"
    [ $rc = 0 ] || echo "build-guest.sh: step \"$step\" failed (exit $rc)" >&2
}
trap on_exit EXIT

step="host tools"
# tool -> Debian package; whatever is missing is installed (apt).
need=()
for tp in dpkg-deb:dpkg depmod:kmod cpio:cpio gzip:gzip xz:xz-utils gcc:gcc \
          flock:util-linux sha256sum:coreutils; do
    command -v "${tp%%:*}" >/dev/null || need+=("${tp#*:}")
done
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
    echo "build-guest.sh: installing ${need[*]}" >&2
    apt_log=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" 2>&1) ||
        die "apt-get install ${need[*]} failed: $(echo "$apt_log" | tail -n3)"
fi

# One build per OUTDIR at a time (tests and the demo share the cache).
mkdir -p "$out" "$cache/debs" || die "cannot create $out or $cache/debs"
exec 9>"$out/.lock"
flock 9 || die "cannot lock $out/.lock"

step="find packages"
kpkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
       awk '{print $1}' | sort -V | tail -n1)
[ -n "$kpkg" ] || die "no linux-image-6.1.0-*-amd64-unsigned in the apt sources (run tools/setup)"

step="download packages"
cached_deb() { # PACKAGE VERSION -> its .deb in the cache, if there
    local m
    m=$(compgen -G "$cache/debs/${1}_*${2#*:}_amd64.deb" | head -n1 || true)
    echo "$m"
}
fetch() { # PACKAGE -> path of its .deb in the cache
    local p=$1 v f dl_log
    v=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
    if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        die "$p has no candidate version in the apt sources"
    fi
    f=$(cached_deb "$p" "$v")
    if [ -z "$f" ]; then
        dl_log=$(cd "$cache/debs" && apt-get download -q "$p=$v" 2>&1) ||
            die "apt-get download $p=$v failed: $(echo "$dl_log" | tail -n2)"
        f=$(cached_deb "$p" "$v")
        [ -n "$f" ] || die "apt-get download $p=$v left no .deb in $cache/debs"
    fi
    echo "$f"
}
kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

step="check inputs"
inputs=$(cd "$here" && sha256sum "$kdeb" "$bdeb" build-guest.sh init.sh disk-io.sh counter-service.c dirty-ram.c |
         sed "s|$cache/debs/||"
         echo "SOURCE_DATE_EPOCH=$epoch"
         # The host tools that shape the output bytes.
         echo "tools gcc $(gcc -dumpfullversion) $(dpkg-query -W -f '${Package} ${Version} ' libc6-dev cpio gzip 2>/dev/null)")
if [ "${QFT_GUEST_FORCE:-0}" != 1 ] && [ -f "$out/manifest.txt" ] &&
   [ -f "$out/vmlinuz" ] && [ -f "$out/initramfs.cpio.gz" ] &&
   [ "$(sed -n '/^# inputs/,/^# outputs/p' "$out/manifest.txt" | sed '1d;$d')" = "$inputs" ] &&
   (cd "$out" && sed -n '/^# outputs/,$p' manifest.txt | sed 1d | sha256sum -c --quiet >/dev/null 2>&1); then
    echo "guest up to date in $out"
    exit 0
fi

work=$(mktemp -d /tmp/build-guest.XXXXXX)

step="unpack kernel"
dpkg-deb -x "$kdeb" "$work/k"
kver=$(ls "$work/k/lib/modules")
[ -f "$work/k/boot/vmlinuz-$kver" ] || die "no /boot/vmlinuz-$kver in $kdeb"
depmod -b "$work/k" "$kver" || die "depmod -b failed"

step="unpack busybox"
dpkg-deb -x "$bdeb" "$work/b"
[ -x "$work/b/bin/busybox" ] || die "no /bin/busybox in $bdeb"

step="compile counter-service"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/counter-service" "$here/counter-service.c" ||
    die "gcc -static failed (is libc6-dev installed?)"

step="compile dirty-ram"
gcc -static -O2 -Wall -Wextra -Werror -o "$work/dirty-ram" "$here/dirty-ram.c" ||
    die "gcc -static failed (is libc6-dev installed?)"

step="assemble initramfs"
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,data,etc,lib/modules}
cp "$work/b/bin/busybox" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
install -m 0755 "$here/init.sh" "$root/init"
install -m 0755 "$here/disk-io.sh" "$root/bin/qft-disk-io"
install -m 0755 "$work/counter-service" "$root/bin/counter-service"
install -m 0755 "$work/dirty-ram" "$root/bin/dirty-ram"
# Modules in load order, with what modules.dep says they need first.
want="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net virtio_blk crc16 crc32c_generic mbcache jbd2 ext4"
moddir=$work/k/lib/modules/$kver
: >"$root/etc/modules.order"
declare -A have=()
add_module() { # NAME
    local name=$1 rel dep deps
    [ -n "${have[$name]:-}" ] && return 0
    rel=$(grep -E "(^|/)${name//_/[-_]}\.ko(\.xz)?:" "$moddir/modules.dep" | head -n1 | cut -d: -f1 || true)
    if [ -z "$rel" ]; then
        if grep -qE "(^|/)${name//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
            have[$name]=builtin
            return 0
        fi
        die "module $name is neither in modules.dep nor built in"
    fi
    read -ra deps <<<"$(grep -E "^$rel:" "$moddir/modules.dep" | cut -d: -f2)"
    for dep in "${deps[@]}"; do
        add_module "$(basename "${dep%.xz}" .ko)"
    done
    have[$name]=1
    local f=$root/lib/modules/$name.ko
    case $rel in
        *.xz) xz -dc "$moddir/$rel" >"$f" ;;
        *) cp "$moddir/$rel" "$f" ;;
    esac
    echo "$name" >>"$root/etc/modules.order"
}
for m in $want; do add_module "$m"; done

step="pack initramfs"
find "$root" -exec touch -h -d "@$epoch" {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) |
    gzip -n -9 >"$work/initramfs.cpio.gz"

step="write outputs"
# Written beside the old ones, then renamed: a reader never sees half a file.
cp "$work/k/boot/vmlinuz-$kver" "$out/.vmlinuz.new"
cp "$work/initramfs.cpio.gz" "$out/.initramfs.cpio.gz.new"
{
    echo "# qemu-ft Linux test guest (tests/guest/linux/build-guest.sh)"
    echo "kernel $kver ($(basename "$kdeb"))"
    echo "busybox $(basename "$bdeb")"
    echo "modules $(tr '\n' ' ' <"$root/etc/modules.order")"
    echo "# inputs"
    echo "$inputs"
    echo "# outputs"
    sha256sum "$work/k/boot/vmlinuz-$kver" | sed 's|  .*|  vmlinuz|'
    sha256sum "$work/initramfs.cpio.gz" | sed 's|  .*|  initramfs.cpio.gz|'
} >"$out/.manifest.txt.new"
mv -f "$out/.vmlinuz.new" "$out/vmlinuz"
mv -f "$out/.initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
mv -f "$out/.manifest.txt.new" "$out/manifest.txt"
echo "guest built in $out: kernel $kver, initramfs $(stat -c %s "$out/initramfs.cpio.gz") bytes"
