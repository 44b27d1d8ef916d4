#!/usr/bin/env bash
# Kill the protected primary at random moments -- also inside its commit,
# stopped there by a test-only fault point -- promote the standby, and check:
#   - the restored RAM's digest equals the digest the primary recorded for
#     that epoch before committing it (x-digest-log);
#   - the restored epoch is not older than the last one the primary reported
#     committed, and at a fault point it is exactly the epoch the protocol
#     says (before the commit word: the previous epoch; after it: this one);
#   - the restored RAM image in the pool satisfies the bootblock's memory
#     invariant with every vCPU having written (qft-ramcheck --cpus N);
#   - the promoted guest keeps running: every vCPU's sweep counter advances.
# Phases: running (random kill), copy, flush, commit, committed, apply;
# the histogram is printed and a phase never hit fails the test.
#
#   - ftpool-inspect (libftpool, outside QEMU) verifies the pool and computes
#     the same digest of the committed image;
#   ft-kill-promote.sh BOOTBLOCK_IMG QFT_QMP QFT_RAMCHECK FTPOOL_INSPECT [ITERATIONS]
# Env: FT_SMP="1 4" (vCPU counts, alternated), FT_SEED (random seed).
# Negative controls (the checks can fail): a digest from another epoch does
# not match, and a RAM image with one flipped byte fails qft-ramcheck.
set -euo pipefail
img=$1 QFT_QMP=$2 ramcheck=$3 inspect=$4 iterations=${5:-52}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
[ -f "$img" ] || qft_die "no bootblock image at $img"
[ -x "$ramcheck" ] || qft_die "no qft-ramcheck at $ramcheck"
qft_need jq

read -r -a smps <<<"${FT_SMP:-1 4}"
RANDOM=${FT_SEED:-$$}
echo "# seed ${FT_SEED:-$$}, $iterations iterations, -smp ${smps[*]}"
mem=32M
mem_bytes=$((32 << 20))
phases=(running copy flush commit committed apply)
declare -A hits=()
for p in "${phases[@]}"; do hits[$p]=0; done

qft_init
qft_net_up

guest_args() { # SMP
    echo "-machine pc,memory-backend=ram -m $mem -smp $1 -accel tcg,thread=multi" \
         "$(ft_bootblock_disk "$img" kp)"
}

ramcheck_sweeps() { # IMAGE SMP -> "c0 c1 ..." (fails the test if broken)
    local out
    out=$("$ramcheck" --cpus "$2" --json "$1") ||
        qft_die "qft-ramcheck on $1: $(echo "$out" | jq -r '.error // .')"
    echo "$out" | jq -r '.sweeps | map(tostring) | join(" ")'
}

all_advanced() { # "a0 a1 .." "b0 b1 .."
    local -a a b
    local i
    read -r -a a <<<"$1"; read -r -a b <<<"$2"
    [ "${#a[@]}" = "${#b[@]}" ] || return 1
    for i in "${!a[@]}"; do
        [ "${b[$i]}" -gt "${a[$i]}" ] || return 1
    done
}

passed=0
iteration() { # I SMP PHASE
    local i=$1 smp=$2 phase=$3
    local p=p$i s=s$i pool=/dev/shm/$QFT_TAG-pool-$i digests=$QFT_RUN/digests-$i
    local last fault_epoch='' out restored digest before after

    # The default trigger (output) everywhere but the first iteration: the
    # bootblock guest sends no output, so its epochs end at epoch-ms either way.
    # shellcheck disable=SC2046
    ft_primary_start $p a "$pool" $mem --ready 'S' 30 \
        --ft "\"x-digest-log\": \"$digests\"$([ "$i" = 1 ] && echo ', "trigger": "timer"')" \
        $(guest_args "$smp")
    # shellcheck disable=SC2046
    ft_standby_start $s b "$pool" $mem $(guest_args "$smp")
    sleep "0.$((RANDOM % 6 + 2))"

    last=$(ft_qmp $p query-ft | jq -r .epoch)
    if [ "$phase" = running ]; then
        sleep "0.$((RANDOM % 30))"
        last=$(ft_qmp $p query-ft | jq -r .epoch)
        sleep "0.0$((RANDOM % 10))"
    else
        out=$(ft_qmp_ev $p x-ft-fault-point "{\"point\": \"$phase\", \"skip\": $((RANDOM % 3))}" \
              --wait-event FT_FAULT_POINT | tail -n1)
        fault_epoch=$(echo "$out" | jq -r .data.epoch)
        [ "$(echo "$out" | jq -r .data.point)" = "$phase" ] || qft_die "fault point event: $out"
        if [ "$phase" != copy ]; then   # the copy point holds the BQL
            last=$(FT_QMP_TIMEOUT=2000 ft_qmp $p query-ft | jq -r .epoch)
        fi
    fi
    ft_kill_dead $p

    out=$(ft_promote_dead $s '"x-digest": true') ||
        qft_die "iteration $i ($phase): promotion refused: $(ft_qmp $s query-ft | jq -r .error)"
    restored=$(echo "$out" | jq -r .epoch)
    digest=$(echo "$out" | jq -r .digest)

    [ "$restored" -ge "$last" ] ||
        qft_die "iteration $i ($phase): restored epoch $restored is older than $last, which the primary reported committed"
    case $phase in
        copy|flush|commit)
            [ "$restored" = $((fault_epoch - 1)) ] ||
                qft_die "iteration $i: killed at '$phase' of epoch $fault_epoch (not committed), restored $restored instead of $((fault_epoch - 1))" ;;
        committed|apply)
            [ "$restored" = "$fault_epoch" ] ||
                qft_die "iteration $i: killed at '$phase' of epoch $fault_epoch (committed), restored $restored" ;;
    esac
    grep -qx "epoch $restored generation 1 sha256 $digest" "$digests" ||
        qft_die "iteration $i ($phase): the restored RAM's digest $digest is not the one the primary recorded for epoch $restored: $(grep "^epoch $restored " "$digests" || echo none)"
    if [ "$i" = 1 ]; then
        # Control: the digest of another epoch must not match this one.
        if grep "^epoch $((restored - 1)) " "$digests" | grep -q " $digest\$"; then
            qft_die "control: epochs $((restored - 1)) and $restored have the same digest: the digest check cannot tell epochs apart"
        fi
    fi

    # libftpool agrees: the committed image (base + slot) has that digest.
    out=$("$inspect" --digest "$pool") || qft_die "iteration $i: ftpool-inspect: $out"
    [ "$(echo "$out" | awk '/^sha256/ {print $2}')" = "$digest" ] ||
        qft_die "iteration $i: ftpool-inspect's digest of the committed image differs from QEMU's: $(echo "$out" | tail -n1)"
    # The restored image of the guest's RAM block.
    "$inspect" --export-block ram --output "$QFT_RUN/restored.img" "$pool" >/dev/null
    before=$(ramcheck_sweeps "$QFT_RUN/restored.img" "$smp")
    if [ "$i" = 1 ]; then
        # Control: one flipped byte in the region must fail the checker.
        printf '\x5a' | dd of="$QFT_RUN/restored.img" bs=1 seek=$((3 << 20 | 1234)) conv=notrunc status=none
        if "$ramcheck" --cpus "$smp" "$QFT_RUN/restored.img" >/dev/null 2>&1; then
            qft_die "control: qft-ramcheck accepted an image with a flipped byte"
        fi
    fi
    # The promoted guest runs on: every vCPU's counter advances.
    sleep 0.5
    ft_qmp $s stop >/dev/null
    ft_qmp $s pmemsave "{\"val\": 0, \"size\": $mem_bytes, \"filename\": \"$QFT_RUN/running.img\"}" >/dev/null
    after=$(ramcheck_sweeps "$QFT_RUN/running.img" "$smp")
    all_advanced "$before" "$after" ||
        qft_die "iteration $i ($phase): the promoted guest did not run on: sweeps $before at restore, $after later"

    kill -9 "$(qft_vm_pid $s)"
    rm -f "$pool" "$digests" "$QFT_RUN"/*.img
    hits[$phase]=$((hits[$phase] + 1))
    passed=$((passed + 1))
    echo "ok $i - $([ "$i" = 1 ] && echo "trigger=timer" || echo "trigger=output (default)"), smp $smp, killed at '$phase'${fault_epoch:+ of epoch $fault_epoch}, last reported $last, restored epoch $restored, sweeps $before -> $after"
}

for i in $(seq "$iterations"); do
    smp=${smps[$((i % ${#smps[@]}))]}
    phase=${phases[$(((i - 1) % ${#phases[@]}))]}
    iteration "$i" "$smp" "$phase"
done

echo "# kill phase histogram:"
missing=0
for p in "${phases[@]}"; do
    echo "#   $p: ${hits[$p]}"
    [ "${hits[$p]}" -gt 0 ] || missing=1
done
[ "$missing" = 0 ] || qft_die "a kill phase was never hit"
echo "$passed passed, 0 failed"
