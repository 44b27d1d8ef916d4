#!/usr/bin/env bash
# qft-qmp against a real QEMU: commands, their errors, events, timeouts.
#   qmp-cli.sh QFT_QMP
# Env: QFT_QEMU_DIR (default /var/cache/qemu-ft/qemu) with bin/ and firmware/.
#
# QEMU runs paused (-S) with two QMP sockets: a QMP socket serves one client
# at a time, so an event waiter sits on the second one while commands go to
# the first. Checks exit statuses and outputs, not timings. Negative controls:
# an unknown command, a socket nobody serves, an event that never comes and
# malformed arguments must each fail with their own exit status.
# The QEMU and the run dir are removed on every exit path (trap).
set -euo pipefail
qft_qmp=${1:?usage: qmp-cli.sh QFT_QMP}
qemu_dir=${QFT_QEMU_DIR:-/var/cache/qemu-ft/qemu}
qemu=$qemu_dir/bin/qemu-system-x86_64

die() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

[ -x "$qft_qmp" ] || die "no qft-qmp at $qft_qmp"
[ -x "$qemu" ] || { echo "SKIP: no QEMU at $qemu (set QFT_QEMU_DIR, or run tools/setup)" >&2; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is missing (apt-get install jq)" >&2; exit 77; }

run_dir=$(mktemp -d /tmp/qmp-cli.XXXXXX)
qemu_pid=
waiter_pid=
cleanup() {
    local pid
    for pid in "$waiter_pid" "$qemu_pid"; do
        [ -n "$pid" ] || continue
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cmd_sock=$run_dir/cmd.sock
event_sock=$run_dir/event.sock
"$qemu" -L "$qemu_dir/firmware" -machine pc -accel tcg -display none -nodefaults -S \
    -qmp "unix:$cmd_sock,server=on,wait=off" \
    -qmp "unix:$event_sock,server=on,wait=off" \
    2>"$run_dir/qemu.err" &
qemu_pid=$!
for _ in $(seq 100); do
    [ -S "$cmd_sock" ] && [ -S "$event_sock" ] && break
    kill -0 "$qemu_pid" 2>/dev/null || die "QEMU exited: $(cat "$run_dir/qemu.err")"
    sleep 0.1
done
[ -S "$cmd_sock" ] || die "QEMU made no QMP socket in 10 s"

# expect_status STATUS CMD...: runs CMD, checks its exit status; output in $out, $err.
expect_status() {
    local want=$1 got=0
    shift
    out=$("$@" 2>"$run_dir/stderr") || got=$?
    err=$(cat "$run_dir/stderr")
    [ "$got" = "$want" ] || die "$* exited $got, expected $want; stdout: $out; stderr: $err"
}

expect_status 0 "$qft_qmp" "$cmd_sock" query-status
[ "$(jq -r .status <<<"$out")/$(jq -r .running <<<"$out")" = prelaunch/false ] ||
    die "query-status before cont: $out"
[ "$(wc -l <<<"$out")" = 1 ] || die "return value not printed as one compact line: $out"
ok "query-status: $out"

expect_status 0 "$qft_qmp" "$cmd_sock" cont
[ "$out" = "{}" ] || die "cont returned $out"
expect_status 0 "$qft_qmp" "$cmd_sock" query-status
[ "$(jq -r .running <<<"$out")" = true ] || die "not running after cont: $out"
ok "cont: the VM runs ($out)"

# A waiter on the second socket; stop and cont until it has seen a STOP
# (it may still be connecting when the first STOP goes out).
"$qft_qmp" "$event_sock" --wait-event STOP --timeout-ms 60000 >"$run_dir/waiter.out" &
waiter_pid=$!
for _ in $(seq 100); do
    kill -0 "$waiter_pid" 2>/dev/null || break
    expect_status 0 "$qft_qmp" "$cmd_sock" stop
    expect_status 0 "$qft_qmp" "$cmd_sock" cont
    sleep 0.1
done
waiter_status=0
wait "$waiter_pid" || waiter_status=$?
waiter_pid=
[ "$waiter_status" = 0 ] || die "the --wait-event STOP waiter exited $waiter_status"
[ "$(jq -r .event "$run_dir/waiter.out")" = STOP ] || die "waiter printed $(cat "$run_dir/waiter.out")"
jq -e '.timestamp.seconds > 0' "$run_dir/waiter.out" >/dev/null || die "STOP without a timestamp"
ok "--wait-event STOP on a second monitor: $(cat "$run_dir/waiter.out")"

# Command and event in one session: the event may come before the reply.
expect_status 0 "$qft_qmp" "$cmd_sock" stop --wait-event STOP
[ "$(sed -n 1p <<<"$out")" = "{}" ] || die "stop --wait-event STOP: first line $out"
[ "$(sed -n 2p <<<"$out" | jq -r .event)" = STOP ] || die "stop --wait-event STOP: $out"
expect_status 0 "$qft_qmp" "$cmd_sock" query-status
[ "$(jq -r .status <<<"$out")" = paused ] || die "not paused after stop: $out"
ok "stop --wait-event STOP: reply, then the event; the VM is paused"

expect_status 0 "$qft_qmp" "$cmd_sock" --hmp 'info status'
[ "$out" = "VM status: paused" ] || die "--hmp 'info status' printed '$out'"
ok "--hmp 'info status': $out"

expect_status 0 "$qft_qmp" "$cmd_sock" qom-get '{"path": "/machine", "property": "type"}'
[ "$out" = '"pc-i440fx-10.0-machine"' ] || die "qom-get with arguments returned $out"
ok "a command with JSON arguments: qom-get -> $out"

# Negative controls.
expect_status 1 "$qft_qmp" "$cmd_sock" no-such-cmd
[ -z "$out" ] || die "no-such-cmd printed '$out' on stdout"
[[ $err == "qft-qmp: no-such-cmd: CommandNotFound: "* ]] || die "no-such-cmd said: $err"
ok "no-such-cmd -> exit 1: $err"

expect_status 1 "$qft_qmp" "$cmd_sock" qom-get '{"path": "/nowhere", "property": "type"}'
[[ $err == "qft-qmp: qom-get: DeviceNotFound: "* ]] || die "qom-get /nowhere said: $err"
ok "qom-get /nowhere -> exit 1: $err"

expect_status 3 "$qft_qmp" "$event_sock" --wait-event NEVER_HAPPENS --timeout-ms 300
[[ $err == *"timed out after 300 ms waiting for event 'NEVER_HAPPENS'"* ]] || die "timeout said: $err"
ok "--wait-event with nothing coming -> exit 3: $err"

expect_status 2 "$qft_qmp" "$cmd_sock" query-status '[1, 2]'
ok "arguments that are not a JSON object -> exit 2: $err"
expect_status 2 "$qft_qmp" "$cmd_sock" query-status '{"broken'
ok "arguments that are not JSON -> exit 2: $err"
expect_status 2 "$qft_qmp" "$run_dir/nobody.sock" query-status
[[ $err == *"cannot connect to the QMP socket $run_dir/nobody.sock"* ]] || die "no socket said: $err"
ok "a socket nobody serves -> exit 2: $err"

# After quit, QEMU is gone and so is the socket's server.
expect_status 0 "$qft_qmp" "$cmd_sock" quit
wait "$qemu_pid" || die "QEMU exited with status $? after quit"
qemu_pid=
expect_status 2 "$qft_qmp" "$cmd_sock" query-status
ok "quit: QEMU exited; connecting afterwards -> exit 2: $err"

echo "$passed passed, 0 failed"
