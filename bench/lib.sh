# shellcheck shell=bash
# Shared start of the benchmarks that drive the Linux test guest (sourced):
#   bench_linux_setup BUILD_DIR
# Exports QFT_QMP, sets $client (qft-counter-client) and $guest (the built
# guest), sources the test harness and ft helpers, and brings up the netns
# hosts (qft_init, qft_net_up: torn down when the script exits).
bench_linux_setup() {
    local build=$1
    export QFT_QMP=$build/tools/qmp/qft-qmp
    # shellcheck disable=SC2034  # used by the sourcing script
    client=$build/tools/counter-client/qft-counter-client
    guest=/var/cache/qemu-ft/guest/out
    "$top/tests/guest/linux/build-guest.sh" "$guest" >/dev/null
    # shellcheck source=../tests/lib/harness.sh
    source "$top/tests/lib/harness.sh"
    # shellcheck source=../tests/lib/ft.sh
    source "$top/tests/lib/ft.sh"
    qft_init
    qft_net_up
}
