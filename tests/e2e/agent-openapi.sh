#!/usr/bin/env bash
# The agent's REST API against its OpenAPI description (issue 20): two
# agents on the netns hosts protect the Linux guest (tests/lib/agent.sh),
# and tools/openapi-check exercises every operation of docs/openapi.yaml on
# host-a (the primary's agent) through its control socket and through TCP
# (rest-listen 127.0.0.1:7080 inside host-a's namespace, bearer token), and
# on host-b (the standby's agent) the same two ways: every status code it
# gets must be documented, every body must validate against the documented
# schema (objects the agent produces admit no undocumented member), every
# route of the server must be in the spec and nothing else must answer.
# Failover and switchover commit are exercised in their error forms only;
# then one real operator failover on host-b (the checker's --disruptive
# failover) and its timeline, validated on host-b, and host-a's view after
# it.
# Controls: the same check on a copy of the spec with one VM member removed
# must fail naming that member, and on one with a member added that the
# agent never sends must fail naming it.
#   agent-openapi.sh GUEST_DIR
set -euo pipefail
guest=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/harness.sh
source "$top/tests/lib/harness.sh"
# shellcheck source=../lib/ft.sh
source "$top/tests/lib/ft.sh"
# shellcheck source=../lib/agent.sh
source "$top/tests/lib/agent.sh"
py=/usr/bin/python3
spec=$top/docs/openapi.yaml
"$py" -c 'import yaml, jsonschema' 2>/dev/null ||
    qft_skip "$py with python3-yaml and python3-jsonschema is needed (tools/setup installs them)"
ft_linux_guest "$guest" mkfs.ext4 jq curl
qft_init
passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

# check NAME HOST ARGS...: tools/openapi-check against HOST's agent, its
# report in $QFT_RUN/NAME.txt (printed); fails the test, not the script
check() {
    local name=$1 h=$2 rc=0; shift 2
    qft_in "$h" "$top/tools/openapi-check" --spec "${SPEC:-$spec}" \
        --source "$top/ft-agent/agent-rest.c" "$@" >"$QFT_RUN/$name.txt" 2>&1 || rc=$?
    sed "s/^/    /" "$QFT_RUN/$name.txt"
    return $rc
}
socket_of() { echo "$QFT_RUN/$1/run/agent.sock"; }
tcp=(--url http://127.0.0.1:7080 --token-file "$QFT_RUN/rest.token")

"$py" "$top/tools/openapi-check" --spec "$spec" --lint >"$QFT_RUN/lint.txt" 2>&1 ||
    qft_die "docs/openapi.yaml is not a sound OpenAPI document: $(cat "$QFT_RUN/lint.txt")"
ok "docs/openapi.yaml: $(tail -n1 "$QFT_RUN/lint.txt")"

agent_net_up
disk=$QFT_RUN/disk.raw
ft_disk_make raw "$disk"
agent_pair_up "$guest" "$disk"
ok "protected by the agents: primary on host-a, standby on host-b"

summary() { grep -o '[0-9]* checks, [0-9]* mismatches' "$QFT_RUN/$1.txt" || echo "no summary"; }
# the first mismatches' labels (the whole report is printed above)
mismatches() {
    sed -n 's/^#  - \([^:]*\):.*/\1/p' "$QFT_RUN/$1.txt" | head -n 4 | paste -sd ';' -
}
# api_check NAME WHAT HOST ARGS...: one run of the checker, one result
api_check() {
    local name=$1 what=$2; shift 2
    if check "$name" "$@"; then
        ok "$what: the API matches the spec ($(summary "$name"))"
    else
        not_ok "$what: mismatches with the spec ($(summary "$name"), listed above): $(mismatches "$name") ..."
    fi
}
api_check a-socket "host-a (primary), control socket" a --socket "$(socket_of a)"
api_check a-tcp "host-a (primary), TCP" a "${tcp[@]}"
api_check b-socket "host-b (standby), control socket" b --socket "$(socket_of b)"
api_check b-tcp "host-b (standby), TCP" b "${tcp[@]}"

# Controls: the check must catch a spec that drifted from the server.
# mutate OUT PYTHON: a copy of the spec, VmMembers (m) changed by PYTHON
mutate() {
    "$py" - "$spec" "$1" "$2" <<'EOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
m = doc["components"]["schemas"]["VmMembers"]
exec(sys.argv[3])
yaml.safe_dump(doc, open(sys.argv[2], "w", encoding="utf-8"), sort_keys=False)
EOF
}
control() {   # NAME WHAT EXPECTED-TEXT PYTHON
    local name=$1 what=$2 expected=$3 rc=0
    mutate "$QFT_RUN/$name.yaml" "$4"
    SPEC=$QFT_RUN/$name.yaml check "$name" a --socket "$(socket_of a)" --quiet >/dev/null || rc=$?
    if [ "$rc" = 1 ] && grep -qF "$expected" "$QFT_RUN/$name.txt"; then
        ok "control: $what: the check fails (exit 1) reporting \"$expected\" at $(grep -F -m1 "$expected" "$QFT_RUN/$name.txt" | sed 's/^FAIL \([^:]*\):.*/\1/')"
    else
        not_ok "control: $what: exit $rc, '$expected' not reported: $(tail -n 3 "$QFT_RUN/$name.txt")"
    fi
}
control spec-minus-member "the spec without VM member qemu-pid" \
    "members not in the spec: qemu-pid" \
    'del m["properties"]["qemu-pid"]; m["required"].remove("qemu-pid")'
control spec-plus-member "the spec with a required VM member the agent never sends" \
    "'never-sent' is a required property" \
    'm["properties"]["never-sent"] = {"type": "string"}; m["required"].append("never-sent")'

# One real failover, on the standby's host: its 202, then the timeline it
# records there (the Timeline schema), then host-a's view after it.
api_check b-failover "host-b: a real operator failover, its timeline" b \
    --socket "$(socket_of b)" --disruptive failover --expect-timeline 60
agent_wait b '.role == "primary"' 30
api_check a-after "host-a after the failover, control socket" a --socket "$(socket_of a)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
