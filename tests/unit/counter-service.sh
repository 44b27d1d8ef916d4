#!/usr/bin/env bash
# The guest's counter service, built for the host and run on loopback:
#   counter-service.sh COUNTER_SERVICE COUNTER_CLIENT
# - one global counter across connections, answered in order;
# - --log: each value appended before the answer, resumed after a restart,
#   a torn last line cut off (never glued to the next value), a corrupt log
#   refused with the line named;
# - a line longer than 256 bytes gets an error line and a closed connection.
# Negative control: two clients sharing the counter make the client's
# ordering rule fire (exit 3, the violation status, both values named), so
# a passing run means something.
set -euo pipefail
service=$1 client=$2
tmp=$(mktemp -d /tmp/counter-service.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }

start() { # NAME ARGS... -> sets $port; the service's output in $tmp/NAME.out
    local name=$1
    shift
    : >"$tmp/$name.out"     # exists before the background job opens it
    "$service" --port 0 "$@" >"$tmp/$name.out" 2>&1 &
    spid=$!
    pids+=("$spid")
    for _ in $(seq 100); do
        port=$(sed -n 's/^counter-service: listening on \([0-9]*\),.*/\1/p' "$tmp/$name.out")
        [ -n "$port" ] && return 0
        kill -0 "$spid" 2>/dev/null || die "$name: the service exited: $(cat "$tmp/$name.out")"
        sleep 0.05
    done
    die "$name: the service did not listen within 5 s"
}
stop() { kill "$spid"; wait "$spid" 2>/dev/null || true; }
count() { # N -> JSON
    "$client" --host 127.0.0.1 --port "$port" --count "$1" --timeout-ms 2000 --json
}
expect() { # JSON FIRST LAST
    if [ "$(jq -r '.acknowledged' <<<"$1")" != "$(($3 - $2 + 1))" ] ||
       [ "$(jq -r '.first_value' <<<"$1")" != "$2" ] ||
       [ "$(jq -r '.last_value' <<<"$1")" != "$3" ]; then
        die "expected values $2..$3, got $1"
    fi
}

log=$tmp/counter.log
start logged --log "$log"
expect "$(count 20)" 1 20
expect "$(count 5)" 21 25
[ "$(cat "$log")" = "$(seq 1 25)" ] || die "the log does not hold 1..25"
ok "one counter across connections; the log holds each answered value"

# Two connections at once, interleaved by hand: one global counter.
exec 3<>"/dev/tcp/127.0.0.1/$port" 4<>"/dev/tcp/127.0.0.1/$port"
echo a >&3; read -r a <&3
echo b >&4; read -r b <&4
echo c >&3; read -r c <&3
exec 3>&- 4>&-
[ "$a $b $c" = "26 27 28" ] || die "interleaved connections got $a $b $c, expected 26 27 28"
ok "two open connections share the counter: 26 27 28"

# A line over 256 bytes: error line, closed connection, nothing counted.
exec 3<>"/dev/tcp/127.0.0.1/$port"
head -c 300 /dev/zero | tr '\0' x >&3
read -r answer <&3 || true
[[ $answer == error:* ]] || die "a 300-byte line got '$answer', not an error line"
read -r more <&3 2>/dev/null && die "the connection stayed open after the error (read '$more')"
exec 3>&-
expect "$(count 1)" 29 29
ok "a 300-byte line: '$answer', connection closed, not counted"
stop

# Restart with a torn last line: resume from the last complete value, and
# the next value starts on its own line (not "3030").
printf '30' >>"$log"
start torn --log "$log"
grep -q 'dropping a torn last line' "$tmp/torn.out" || die "no message about the torn line: $(cat "$tmp/torn.out")"
expect "$(count 3)" 30 32
[ "$(cat "$log")" = "$(seq 1 32)" ] || die "after the torn line the log is not 1..32: $(tail -n 3 "$log" | tr '\n' ' ')"
ok "restart after a torn last line: resumes at 30, log 1..32"
stop

# A corrupt line in the middle: refused, the line named, the log untouched.
sed -i '10s/.*/1x/' "$log"
cp "$log" "$tmp/before"
if "$service" --port 0 --log "$log" >"$tmp/corrupt.out" 2>&1; then
    die "the service started on a corrupt log"
fi
grep -q 'line 10 .*corrupt log' "$tmp/corrupt.out" || die "corrupt log: message does not name line 10: $(cat "$tmp/corrupt.out")"
cmp -s "$log" "$tmp/before" || die "the service changed a corrupt log"
sed -i '10s/.*/5/' "$log"
"$service" --port 0 --log "$log" >"$tmp/desc.out" 2>&1 && die "the service started on a log going backwards"
grep -q 'line 10 ' "$tmp/desc.out" || die "a decreasing log: message does not name line 10: $(cat "$tmp/desc.out")"
ok "a corrupt or decreasing log is refused, naming line 10: $(head -n1 "$tmp/corrupt.out")"

# Bad arguments.
for args in "--port 70000" "--port x" "--port" "--bogus"; do
    # shellcheck disable=SC2086
    if "$service" $args >/dev/null 2>&1; then die "counter-service $args was accepted"; fi
done
ok "bad arguments are refused"

# The client's --reconnect: the service dies and comes back (same port,
# same log) while a client counts; the client reconnects and counts on, and
# its --log holds each acknowledged value once, increasing.
start before --log "$log.2"
p0=$port
"$client" --host 127.0.0.1 --port "$p0" --count 1000 --timeout-ms 1000 --reconnect \
    --deadline-ms 30000 --json --log "$tmp/client.log" >"$tmp/reconnect.json" &
cpid=$!
pids+=("$cpid")
for _ in $(seq 100); do [ "$(wc -l <"$log.2")" -ge 300 ] && break; sleep 0.05; done
stop
"$service" --port "$p0" --log "$log.2" >"$tmp/after.out" 2>&1 &
spid=$!
pids+=("$spid")
wait "$cpid" || die "the reconnecting client failed: $(cat "$tmp/reconnect.json")"
r=$(cat "$tmp/reconnect.json")
if [ "$(jq -r '.acknowledged' <<<"$r")" != 1000 ] || [ "$(jq -r '.violations' <<<"$r")" != 0 ] ||
   [ "$(jq -r '.reconnects' <<<"$r")" -lt 1 ]; then
    die "reconnect run: $r"
fi
[ "$(wc -l <"$tmp/client.log")" = 1000 ] || die "the client log has $(wc -l <"$tmp/client.log") lines, not 1000"
awk 'NR > 1 && ($1 < t || $2 <= v) { exit 1 } { t = $1; v = $2 }' "$tmp/client.log" ||
    die "the client log is not increasing"
ok "--reconnect across a service restart: $(jq -c '{acknowledged, reconnects, last_value}' <<<"$r")"
stop

# --deadline-ms bounds a client that never gets an answer; usage errors exit 2.
t0=$(date +%s%N)
set +e
"$client" --host 127.0.0.1 --port "$p0" --count 5 --timeout-ms 200 --reconnect --deadline-ms 700 --json >"$tmp/dl.json" 2>/dev/null
rc=$?
set -e
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc != 1 ] || [ "$(jq -r '.acknowledged' "$tmp/dl.json")" != 0 ]; then
    die "deadline run: exit $rc, $(cat "$tmp/dl.json")"
fi
[ $ms -lt 5000 ] || die "a 700 ms deadline took $ms ms"
ok "--deadline-ms 700 with nothing serving: exit 1 (incomplete, no violation) after $ms ms"
for args in "--count 1" "--host 127.0.0.1 --count 0" "--host nowhere" "--host 127.0.0.1 --port 0" \
            "--host 127.0.0.1 --timeout-ms 0" "--host 127.0.0.1 --bogus" "--host 127.0.0.1 extra"; do
    set +e
    # shellcheck disable=SC2086
    "$client" $args >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc = 2 ] || die "qft-counter-client $args exited $rc, not 2"
done
ok "client usage errors exit 2"

# Negative control: a second client counting on the same service makes the
# first one see gaps; its rule must fire and name both values.
start shared
"$client" --host 127.0.0.1 --port "$port" --count 100000000 --timeout-ms 2000 >/dev/null 2>&1 &
pids+=($!)
sleep 0.3
set +e
msg=$("$client" --host 127.0.0.1 --port "$port" --count 100000 --timeout-ms 2000 2>&1 >/dev/null)
rc=$?
set -e
[ $rc = 3 ] || die "control: a client sharing the counter exited $rc, not 3 (a violation): $msg"
[[ $msg =~ answer\ ([0-9]+)\ after\ ([0-9]+) ]] || die "control: the violation does not name both values: $msg"
ok "control: a shared counter makes the client exit 3 (violation): $msg"
echo "$passed passed, 0 failed"
