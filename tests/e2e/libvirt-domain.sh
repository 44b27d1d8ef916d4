#!/usr/bin/env bash
# A real libvirtd per test host drives OUR patched QEMU (issue 20, the
# environment of Must show item 6).
#   libvirt-domain.sh GUEST_DIR COUNTER_CLIENT QFT_QMP
# host-a's libvirtd defines and starts the Linux test guest as a TCG domain
# (<emulator> = our build, NIC on host-a's tap0); its counter service answers
# the client namespace; our QMP command query-ft answers through libvirt's
# monitor passthrough; the domain is destroyed. Then the FT RAM layout that
# the agent's libvirt backend relies on (docs/design.md, "Standby under
# libvirt"): a primary whose RAM block is "ft-ram" (memory-backend-ram via
# <qemu:commandline>) boots and serves; on host-b, whose libvirtd runs at the
# same time with its own state, a standby created --paused with ft-ram mapped
# from a /dev/shm file (share=off) stays paused with the file mapped.
# Controls: without our -machine memory-backend the RAM block is libvirt's
# pc.ram; host-b's daemon does not see host-a's domains.
set -euo pipefail
guest=$1 client=$2 QFT_QMP=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
# shellcheck source=../lib/libvirt.sh
source "$top/tests/lib/libvirt.sh"
lv_need
ft_linux_guest "$guest" jq
[ -x "$client" ] || qft_die "no client at $client"

qft_init
qft_net_up
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

run_client() { # COUNT -> JSON summary on stdout
    qft_in client "$client" --host "$QFT_GUEST_IP" --port 7000 --count "$1" --json
}
check_run() { # JSON COUNT FIRST
    local acked first last
    acked=$(echo "$1" | jq -r '.acknowledged')
    first=$(echo "$1" | jq -r '.first_value')
    last=$(echo "$1" | jq -r '.last_value')
    [ "$acked" = "$2" ] || qft_die "acknowledged $acked of $2: $1"
    [ "$first" = "$3" ] || qft_die "first value $first, expected $3: $1"
    [ "$last" = "$(($3 + $2 - 1))" ] || qft_die "last value $last, expected $(($3 + $2 - 1)): $1"
}
# qmp HOST DOMAIN JSON -> the "return" member (fails on an error reply)
qmp() {
    local out
    out=$(lv_virsh "$1" qemu-monitor-command "$2" "$3") || qft_die "qemu-monitor-command $2 $3 on host-$1 failed"
    echo "$out" | jq -e '.return' || qft_die "$3 on $2: no return: $out"
}
ramblocks() { lv_virsh "$1" qemu-monitor-command --hmp "$2" 'info ramblock'; }
qemu_pid() { cat "$(lv_dir "$1")/run/qemu/$2.pid"; }

vm=$QFT_TAG-vm
lv_up a

# ---- a plain domain ------------------------------------------------------
lv_domain_xml "$vm" a >"$QFT_RUN/vm.xml"
lv_virsh a define "$QFT_RUN/vm.xml" >/dev/null
lv_virsh a start "$vm" >/dev/null
pid=$(qemu_pid a "$vm")
[ "$(readlink "/proc/$pid/exe")" = "$(readlink -f "$QFT_QEMU")" ] ||
    qft_die "the domain's QEMU is $(readlink "/proc/$pid/exe"), not our build $QFT_QEMU"
ok "host-a's libvirtd started $vm on our QEMU (pid $pid)"
[ "$(readlink "/proc/$pid/ns/net")" = "$(lv_exec a readlink /proc/self/ns/net)" ] ||
    qft_die "the domain's QEMU is not in host-a's netns"
ifl=$(lv_virsh a domiflist "$vm")
grep -q 'tap0.*virtio' <<<"$ifl" || qft_die "$vm is not on tap0: $ifl"
lv_wait_serial "$vm" a 'qft-guest: ready' 180
out=$(run_client 100)
check_run "$out" 100 1
ok "its counter service answers $(qft_ns client) over host-a's tap0: values 1..100"
ft=$(qmp a "$vm" '{"execute":"query-ft"}')
echo "$ft" | jq -e 'has("role") and has("status") and has("epoch")' >/dev/null ||
    qft_die "query-ft through libvirt: unexpected reply $ft"
ok "query-ft through libvirt's monitor passthrough: $(echo "$ft" | jq -c '{role, status}')"
blocks=$(ramblocks a "$vm")
grep -qE '^ *pc\.ram ' <<<"$blocks" ||
    qft_die "control: without our -machine memory-backend the RAM block should be pc.ram: $blocks"
ok "control: libvirt's own RAM backend is pc.ram"
lv_virsh a destroy "$vm" >/dev/null
st=$(lv_virsh a domstate "$vm")
[ "$st" = "shut off" ] || qft_die "after destroy $vm is '$st'"
ft_wait_gone "$pid" 10 || qft_die "$vm's QEMU (pid $pid) still runs after virsh destroy"
ok "virsh destroy: $vm is shut off and its QEMU gone"

# ---- an FT primary: RAM block ft-ram, filter-ft on hostnet0, ft-start ------
mem=$((256 * 1024 * 1024))
pvm=$QFT_TAG-primary
pool=/dev/shm/$QFT_TAG-pool
ft_args=(--arg -machine --arg memory-backend=ft-ram
         --arg -object --arg "filter-ft,id=ft-net0,netdev=hostnet0,queue=all")
lv_domain_xml "$pvm" a --arg -object --arg "memory-backend-ram,id=ft-ram,size=$mem" \
    "${ft_args[@]}" >"$QFT_RUN/primary.xml"
lv_virsh a define "$QFT_RUN/primary.xml" >/dev/null
lv_virsh a start "$pvm" >/dev/null
lv_wait_serial "$pvm" a 'qft-guest: ready' 180
out=$(run_client 50)
check_run "$out" 50 1
blocks=$(ramblocks a "$pvm")
grep -qE "^ *ft-ram .*0x0*10000000 " <<<"$blocks" ||
    qft_die "no 256 MiB RAM block ft-ram in the primary: $blocks"
ok "-machine memory-backend=ft-ram via <qemu:commandline>: the guest boots on RAM block ft-ram and serves"
log=$(cat "$(lv_domain_log "$pvm" a)")
grep -q 'tainted: custom-argv' <<<"$log" || qft_die "no custom-argv taint in $(lv_domain_log "$pvm" a)"
ok "libvirt taints it custom-argv (in /var/log/libvirt/qemu/$pvm.log)"
qmp a "$pvm" "{\"execute\":\"ft-start\",\"arguments\":{\"pool\":\"$pool\",\"epoch-ms\":20}}" >/dev/null
for _ in $(seq 300); do
    st=$(qmp a "$pvm" '{"execute":"query-ft"}' | jq -r .status)
    [ "$st" = protected ] && break
    [ "$st" != failed ] || qft_die "ft-start failed: $(qmp a "$pvm" '{"execute":"query-ft"}')"
    sleep 0.2
done
[ "$st" = protected ] || qft_die "the primary is '$st', not protected, 60 s after ft-start"
off=$(ft_pool_block_offset "$pool" ft-ram)
ok "ft-start through libvirt: protected, pool $pool with base block ft-ram at offset $off"
# libvirt's own -object memory-backend-ram,id=pc.ram stays on its command
# line, unused: a RAM block without a name that is not migratable, so the
# checkpoint leaves it out of the pool.
ids=$(ft_pool_get "$pool" '[.blocks[].id] | join(" ")')
[ "$(ft_pool_get "$pool" '[.blocks[] | select(.id == "" or .id == "pc.ram")] | length')" = 0 ] ||
    qft_die "the pool holds libvirt's unused RAM block: $ids"
ok "the pool's base blocks: $ids (not libvirt's unused pc.ram)"

# ---- host-b: its own libvirtd, a paused standby on the pool ---------------
lv_up b
[ "$(lv_exec a readlink /proc/self/ns/mnt)" != "$(lv_exec b readlink /proc/self/ns/mnt)" ] ||
    qft_die "host-a and host-b share a mount namespace"
list_b=$(lv_virsh b list --all --name)
if grep -qx "$pvm" <<<"$list_b"; then qft_die "host-b's libvirtd lists host-a's $pvm"; fi
ok "control: host-b's libvirtd (running beside host-a's) does not see host-a's domains"
host_uuid() {
    local caps
    caps=$(lv_virsh "$1" capabilities)
    sed -n '/<uuid>/{s:.*<uuid>\(.*\)</uuid>.*:\1:p;q}' <<<"$caps"
}
uuid_a=$(host_uuid a) uuid_b=$(host_uuid b)
if [ -z "$uuid_a" ] || [ "$uuid_a" = "$uuid_b" ]; then qft_die "host UUIDs: a '$uuid_a', b '$uuid_b'"; fi
ok "two daemons, two host UUIDs ($uuid_a, $uuid_b)"
lv_domain_xml "$vm" b >"$QFT_RUN/vm-b.xml"
lv_virsh b define "$QFT_RUN/vm-b.xml" >/dev/null
st=$(lv_virsh b domstate "$vm") || qft_die "host-b: $vm not defined"
[ "$st" = "shut off" ] || qft_die "host-b: $vm is '$st', not shut off"
ok "host-b's libvirtd defines the same domain $vm"

svm=$QFT_TAG-standby
lv_domain_xml "$svm" b --arg -object \
    --arg "memory-backend-file,id=ft-ram,size=$mem,mem-path=$pool,offset=$off,share=off" \
    "${ft_args[@]}" >"$QFT_RUN/standby.xml"
lv_virsh b create --paused "$QFT_RUN/standby.xml" >/dev/null
st=$(lv_virsh b domstate "$svm")
[ "$st" = paused ] || qft_die "the standby is '$st', not paused"
spid=$(qemu_pid b "$svm")
grep -qF "$pool" "/proc/$spid/maps" || qft_die "the standby's QEMU does not map $pool"
blocks=$(ramblocks b "$svm")
grep -qE "^ *ft-ram " <<<"$blocks" || qft_die "no RAM block ft-ram in the standby: $blocks"
ok "virsh create --paused: the standby is paused with ft-ram mapped from $pool (share=off, offset $off)"
qmp b "$svm" "{\"execute\":\"ft-standby\",\"arguments\":{\"pool\":\"$pool\"}}" >/dev/null
ft=$(qmp b "$svm" '{"execute":"query-ft"}')
[ "$(jq -r .status <<<"$ft")" = standby ] || qft_die "after ft-standby: $ft"
out=$(run_client 100)
check_run "$out" 100 51
[ "$(lv_virsh b domstate "$svm")" = paused ] || qft_die "the standby did not stay paused"
[ ! -s "$(lv_serial "$svm" b)" ] || qft_die "the paused standby wrote to its console: $(head -c 200 "$(lv_serial "$svm" b)")"
ok "ft-standby attaches it; it stays paused (nothing on its console) while the primary serves 51..150"

# ---- failover by hand: the standby domain takes over ------------------------
ppid=$(qemu_pid a "$pvm")
kill -9 "$ppid"
ft_wait_gone "$ppid" 10 || qft_die "the primary's QEMU survived kill -9"
pr=$(qmp b "$svm" '{"execute":"ft-promote","arguments":{"old-primary-dead":true}}')
out=$(qft_in client "$client" --host "$QFT_GUEST_IP" --port 7000 --count 100 --timeout-ms 10000 --json) ||
    qft_die "the promoted guest did not answer: $out"
check_run "$out" 100 151
ok "kill -9 of the primary's QEMU, ft-promote (epoch $(jq -r .epoch <<<"$pr")): the standby serves on, 151..250"
for _ in $(seq 50); do
    st=$(lv_virsh b domstate "$svm" --reason)
    [ "$st" = "running (unpaused)" ] && break
    sleep 0.1
done
[ "$st" = "running (unpaused)" ] || qft_die "host-b's libvirtd reports the promoted domain '$st'"
st_a=$(lv_virsh a domstate "$pvm" --reason)
[ "$st_a" = "shut off (crashed)" ] || qft_die "host-a's libvirtd reports the killed primary '$st_a'"
ok "libvirt: the promoted domain is '$st' on host-b, the killed primary '$st_a' on host-a"
lv_virsh b destroy "$svm" >/dev/null
list_b=$(lv_virsh b list --all --name)
if grep -qx "$svm" <<<"$list_b"; then qft_die "transient $svm still listed after destroy"; fi
ok "destroyed, the transient standby is gone"
echo "$passed passed, 0 failed"
