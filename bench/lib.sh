# shellcheck shell=bash
# Shared start of the benchmarks (sourced; $top is the checkout):
#   bench_setup BUILD_DIR [linux] [agent]
# Exports QFT_QMP and QFT_INSPECT, sets $client (qft-counter-client),
# sources the test harness and ft helpers (tests/lib), and brings up the
# netns hosts (qft_init, qft_net_up: torn down when the script exits).
#   linux   also builds the Linux test guest (ft_linux_guest) into $guest
#           (QFT_GUEST_DIR, default /var/cache/qemu-ft/guest/out)
#   agent   also sources tests/lib/agent.sh with the build's ft-agentd and
#           ft-agent-send, and adds the agents' management link
#           (agent_net_up instead of qft_net_up)
# A missing build product ends the script (exit 2, "build first").
#   bench_linux_setup BUILD_DIR     = bench_setup BUILD_DIR linux
bench_setup() {
    local build=$1 want linux="" agent=""
    shift
    for want in "$@"; do
        case $want in
            linux) linux=1 ;;
            agent) agent=1 ;;
            *) echo "bench_setup: unknown part $want" >&2; exit 2 ;;
        esac
    done
    export QFT_QMP=$build/tools/qmp/qft-qmp QFT_INSPECT=$build/proto/ftpool-inspect
    # shellcheck disable=SC2034  # used by the sourcing script
    client=$build/tools/counter-client/qft-counter-client
    [ -x "$QFT_QMP" ] && [ -x "$QFT_INSPECT" ] && [ -x "$client" ] ||
        { echo "build first: meson compile -C $build" >&2; exit 2; }
    # shellcheck source=../tests/lib/harness.sh
    source "$top/tests/lib/harness.sh"
    # shellcheck source=../tests/lib/ft.sh
    source "$top/tests/lib/ft.sh"
    if [ -n "$linux" ]; then
        # shellcheck disable=SC2034  # used by the sourcing script
        guest=${QFT_GUEST_DIR:-/var/cache/qemu-ft/guest/out}
        ft_linux_guest "$guest" jq
    fi
    if [ -n "$agent" ]; then
        export QFT_AGENTD=$build/ft-agent/ft-agentd QFT_AGENT_SEND=$build/ft-agent/ft-agent-send
        [ -x "$QFT_AGENTD" ] && [ -x "$QFT_AGENT_SEND" ] ||
            { echo "build first: meson compile -C $build" >&2; exit 2; }
        # shellcheck source=../tests/lib/agent.sh
        source "$top/tests/lib/agent.sh"
    fi
    qft_init
    if [ -n "$agent" ]; then agent_net_up; else qft_net_up; fi
}

bench_linux_setup() {
    bench_setup "$1" linux
}
