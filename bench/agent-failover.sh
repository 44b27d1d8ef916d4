#!/usr/bin/env bash
# Benchmark: automatic failover by ft-agentd, per fault source (not a test:
# no assertion). Two agents protect the Linux guest (256 MiB, 20 ms epochs,
# counter service under one closed-loop client); the VM is failed over back
# and forth between the hosts, the sources interleaved in one run:
#   qemu-death   kill -9 of the primary QEMU (the pidfd path)
#   silent-host  the primary's host loses its links and its processes at
#                once (heartbeat loss + a pool that stopped); the host comes
#                back and its agent is restarted before the next round
# Each round reads host-side failover timelines (fault, detected, fenced,
# running, announced) and the client's first answer after the fault, then
# waits for re-protection on a new pool before the next round.
#   bench/agent-failover.sh [BUILD_DIR]        (default: build)
#   QFT_BENCH_RUNS=N   rounds per source (default 15)
# Output: a Markdown section on stdout (paste into docs/benchmarks.md).
set -euo pipefail
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=$(readlink -f "${1:-$top/build}")
runs=${QFT_BENCH_RUNS:-15}
export QFT_AGENT_TIMEOUT_EPOCHS=5     # the agent's defaults, not the tests' 10
export QFT_QEMU_DIR=${QFT_QEMU_DIR:-$("$top/tools/setup" | tail -n1)}
# shellcheck source=lib.sh
source "$top/bench/lib.sh"
bench_setup "$build" linux agent
disk=$QFT_RUN/disk.raw
ft_disk_make raw "$disk"
agent_pair_up "$guest" "$disk"
agent_capture_start      # the guest's frames on both taps, for a post-mortem
agent_client_start "$client"
agent_client_more 50 60
out=$QFT_RUN/rounds.txt
: >"$out"
other() { [ "$1" = a ] && echo b || echo a; }
primary=a
failovers=0
for i in $(seq $((2 * runs))); do
    source_name=qemu-death
    [ $((i % 2)) = 0 ] && source_name=silent-host
    standby=$(other $primary)
    agent_wait "$primary" '.role == "primary" and .protection == "protected"' 240
    agent_wait "$standby" '.role == "standby" and .status == "standby"' 60
    agent_client_more 20 60
    pid=$(agent_qemu_pid "$primary")
    want=$(( $(agent_vm "$standby" | jq -r .failovers) + 1 ))
    injected=$(date +%s%N)
    if [ $source_name = qemu-death ]; then
        kill -9 "$pid"
    else
        agent_host_links "$primary" down
        kill -9 "$(cat "$QFT_RUN/$primary/agent.pid")" "$pid"
    fi
    failovers=$((failovers + 1))
    # silent-host: promoted, or waiting for the disk intent of a primary
    # killed inside its disk apply until its host's agent is back
    agent_wait "$standby" "(.role == \"primary\" and .failovers == $want) or .status == \"promoting\"" 30
    waited=$(agent_vm "$standby" | jq -r '.status == "promoting"')
    if [ $source_name = silent-host ]; then
        agent_host_links "$primary" up
        agent_start "$primary"
    fi
    agent_wait "$standby" ".role == \"primary\" and .failovers == $want" 30
    tl=$(agent_vm "$standby" | jq -c '.timelines[-1]')
    fault=$(echo "$tl" | jq -r '."fault-ns"')
    agent_client_more 1 30
    first=
    for _ in $(seq 50); do
        # the new primary's first answer: after the CAS (an earlier one came
        # from the old primary before its links went down)
        first=$(awk -v f="$(echo "$tl" | jq -r '."fenced-ns"')" '$1 * 1000 > f {printf "%.0f", $1 * 1000; exit}' "$QFT_RUN/acks")
        [ -n "$first" ] && break; sleep 0.1
    done
    echo "$tl" | jq -r --arg src "$source_name" --arg first "$first" --arg injected "$injected" --arg waited "$waited" \
        '[$src, .source, ."detected-ns" - ."fault-ns", ."fenced-ns" - ."fault-ns",
          ."running-ns" - ."fault-ns", ."announced-ns" - ."fault-ns",
          (($first | tonumber) - ($injected | tonumber)), (.error // "-"), $waited] | @tsv' >>"$out"
    primary=$standby
    echo "round $i ($source_name): $(tail -n1 "$out")" >&2
done
agent_client_check

stats() { # COLUMN SOURCE -> "p50 p99" in ms
    awk -F'\t' -v c="$1" -v s="$2" '$1 == s && $9 == "false" {print $c / 1e6}' "$out" | sort -g |
        awk '{a[NR] = $1} END {p = int(NR * 0.99 + 0.999); if (p > NR) p = NR;
             printf "%.1f / %.1f", a[int((NR + 1) / 2)], a[p]}'
}
cat <<EOF
### Automatic failover by ft-agentd, per fault source ($(date -u +%F), $(nproc) cores, TCG)

\`QFT_BENCH_RUNS=$runs bench/agent-failover.sh\`: the Linux guest (256 MiB,
20 ms epochs, one closed-loop client), failed over back and forth between
two netns hosts, the sources interleaved; each round re-protects on a new
pool before the next. Timeline steps from the fault as the agents saw it
(qemu-death: the pidfd's exit; silent-host: the last heartbeat heard); the
first client answer from the moment the script injected the fault (the
kill, or the links going down) to the first answer after the CAS. In ms, p50 / p99 over n rounds.
peer-timeout-ms and lease-ms are 100 (5 epochs), so silent-host detection
waits them out by design.

| source | n | detected | fenced (CAS) | running | announced | first client answer |
|---|---|---|---|---|---|---|
EOF
for s in qemu-death silent-host; do
    n=$(awk -F'\t' -v s="$s" '$1 == s && $9 == "false"' "$out" | wc -l)
    held=$(awk -F'\t' -v s="$s" '$1 == s && $9 == "true"' "$out" | wc -l)
    wrong=$(awk -F'\t' -v s="$s" '$1 == s && ($2 != s || $8 != "-")' "$out" | wc -l)
    echo "| $s | $n | $(stats 3 $s) | $(stats 4 $s) | $(stats 5 $s) | $(stats 6 $s) | $(stats 7 $s) |"
    [ "$wrong" = 0 ] || echo "| ($s: $wrong rounds recorded another source or an error) | | | | | | |"
    [ "$held" = 0 ] || echo "| ($s: $held more rounds killed the primary inside its disk apply: promotion waited for its host's return, as designed; not in the figures) | | | | | | |"
done
echo
echo "No acknowledged value was lost in any round (the client's check over all $failovers failovers)."
