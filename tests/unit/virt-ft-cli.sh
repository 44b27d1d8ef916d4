#!/usr/bin/env bash
# virt-ft(1) and the libvirt hook, without a guest:
#   virt-ft-cli.sh VIRT_FT FT_LIBVIRT_HOOK FT_AGENTD MAN_PAGE COMPLETION INSTALL_HOOK
# - virt-ft against libvirt's test driver (test:///default, and a node file
#   with a QEMU domain): ft-enable refuses what FT cannot cover naming it,
#   ft-enable / ft-list / ft-status / ft-disable in one command string, the
#   warning when no agent listens, each bad argument exit 1 "error: ..."
#   naming it, help listing every command;
# - against a real ft-agentd (qemu backend): ft-status of a domain the agent
#   does not know, of a VM it knows (--json too), ft-list joining both, the
#   agent's refusal of a reload and of a switchover;
# - the man page is lint-clean and names every command and option; the bash
#   completion sources and completes commands, options, values, domains;
# - ft-libvirt-hook: no FT metadata -> exit 0 touching nothing; FT domain
#   without agent -> exit 0 with a message; migrate of a protect domain ->
#   exit 1; the JSON it posts (a socket listener), its 1 s bound, the agent
#   configuration's control socket, the agent's 409 refusing a start;
#   install-hook with DESTDIR.
# "A && B || die": die whenever A or B fails, as meant.
# shellcheck disable=SC2015
set -euo pipefail
virt_ft=$1 hook=$2 agentd=$3 man=$4 completion=$5 install_hook=$6
tmp=$(mktemp -d /tmp/virt-ft-cli.XXXXXX)
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
for t in python3 virsh; do
    command -v $t >/dev/null || { echo "SKIP: missing tool $t (tools/setup installs it)"; exit 77; }
done
export LIBVIRT_DEFAULT_URI=test:///default
unset FT_AGENT_SOCKET
export FT_AGENT_CONFIG=$tmp/no-agent.conf
nosock=$tmp/none.sock

# run WORDS...: sets rc, out (stdout), err (stderr)
run() {
    rc=0
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    out=$(cat "$tmp/out") err=$(cat "$tmp/err")
}
# fails DESCRIPTION PATTERN WORDS...: exit 1, one "error:" naming PATTERN,
# nothing on stdout
fails() {
    local what=$1 pattern=$2
    shift 2
    run "$@"
    [ $rc = 1 ] || die "$what: exit $rc (want 1): $err"
    grep -q '^error: ' <<<"$err" || die "$what: no 'error:' line: '$err'"
    grep -q -- "$pattern" <<<"$err" || die "$what: the error does not name '$pattern': '$err'"
    [ -z "$out" ] || die "$what: stdout not empty: '$out'"
    ok "$what: $(grep '^error:' <<<"$err" | head -1)"
}

# the options "virt-ft help COMMAND" lists
help_opts() {
    "$virt_ft" help "$1" | sed -n 's/^    \(--[a-z-]*\) .*/\1/p; s/^    \[\(--[a-z-]*\)\].*/\1/p'
}

# ---- help, version ----------------------------------------------------------
commands="ft-enable ft-disable ft-list ft-status ft-failover help"
run "$virt_ft" help
[ $rc = 0 ] || die "help: exit $rc"
for c in $commands; do
    grep -q "^    $c " <<<"$out" || die "help does not list $c: $out"
done
ok "help lists every command"
for c in $commands; do
    run "$virt_ft" help "$c"
    [ $rc = 0 ] && grep -q "^    $c - " <<<"$out" && grep -q SYNOPSIS <<<"$out" ||
        die "help $c: exit $rc, '$out'"
    run "$virt_ft" "$c" --help
    [ $rc = 0 ] && grep -q "^    $c - " <<<"$out" || die "$c --help: exit $rc"
done
ok "help COMMAND and COMMAND --help describe each command"
run "$virt_ft" -h
[ $rc = 0 ] && grep -q -- '--connect=URI' <<<"$out" || die "-h: exit $rc"
run "$virt_ft" -v
[ $rc = 0 ] && [[ $out =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "-v: exit $rc, '$out'"
ok "-h and -v: $out"

# ---- bad arguments ------------------------------------------------------------
fails "no command" "no command" "$virt_ft"
fails "an unknown command" "'ft-nosuch'" "$virt_ft" ft-nosuch
fails "help of an unknown command" "'ft-nosuch'" "$virt_ft" help ft-nosuch
fails "an unknown program option" "'-z'" "$virt_ft" -z ft-list
fails "-c without its URI" "'-c' requires an argument" "$virt_ft" -c
fails "a missing domain" "requires <domain> option" "$virt_ft" ft-status
fails "an unknown command option" "doesn't support option --bogus" "$virt_ft" ft-list --bogus
fails "a short command option" "doesn't support option -x" "$virt_ft" ft-list -x
fails "a value for a flag" "--all takes no value" "$virt_ft" ft-list --all=yes
fails "extra data" "unexpected data 'web2'" "$virt_ft" ft-status web1 web2
fails "an option without its value" "--policy requires a value" "$virt_ft" ft-enable test --policy
fails "an option given twice" "--policy given more than once" \
    "$virt_ft" ft-enable test --policy protect --policy notify
fails "a bad policy" "option --policy:.*maybe" "$virt_ft" ft-enable test --policy maybe --standby-host b
fails "a non-numeric epoch" "--epoch-min-ms: 'soon'" "$virt_ft" ft-enable test --standby-host b --epoch-min-ms soon
fails "an epoch of 0" "--epoch-max-ms: '0' is not a number in 1..10000" \
    "$virt_ft" ft-enable test --standby-host b --epoch-max-ms 0
fails "an epoch above 10000" "--epoch-max-ms: '10001'" "$virt_ft" ft-enable test --standby-host b --epoch-max-ms 10001
fails "a bad host id" "'host b' is not a host id" "$virt_ft" ft-enable test --standby-host 'host b'
fails "five standby hosts" "given 5 times: at most 4" "$virt_ft" ft-enable test \
    --standby-host b --standby-host c --standby-host d --standby-host e --standby-host f
fails "a relative pool directory" "--pool-dir: 'shm' is not an absolute path" \
    "$virt_ft" ft-enable test --standby-host b --pool-dir shm
fails "an unterminated quote" "unterminated ' quote" "$virt_ft" "ft-status 'test"
fails "abort and commit together" "--abort and --commit are mutually exclusive" \
    "$virt_ft" ft-failover test --abort --commit
fails "ft-failover without a terminal or --force" "not a terminal: give --force" \
    "$virt_ft" -a "$nosock" ft-failover test
fails "an unknown domain" "failed to get domain 'nosuch'" "$virt_ft" ft-status nosuch
fails "a bad connection URI" "failed to connect to the hypervisor (bogus:///x)" \
    "$virt_ft" -c bogus:///x -a "$nosock" ft-list

# ---- the test driver: test:///default has "test", of type 'test' with a disk --
fails "ft-enable of a domain FT cannot cover" "type 'kvm' or 'qemu'.*writable disk" \
    "$virt_ft" -a "$nosock" ft-enable test --standby-host host-b
fails "a protect domain without a standby host" "policy 'protect' needs a standby host" \
    "$virt_ft" -a "$nosock" ft-enable test
run "$virt_ft" -a "$nosock" ft-disable test
[ $rc = 0 ] && grep -q "Domain 'test' is not fault tolerant: nothing to do" <<<"$out" ||
    die "ft-disable of a plain domain: exit $rc, '$out' '$err'"
ok "ft-disable of a domain that is not fault tolerant: $out"
run "$virt_ft" -a "$nosock" ft-list --all
[ $rc = 0 ] || die "ft-list without FT domains: exit $rc"
[ "$(sed -n 1p <<<"$out")" = " Name   Policy   Role   Protection   Epoch   Standby" ] &&
    [[ $(sed -n 2p <<<"$out") =~ ^-{54}$ ]] && [ "$(wc -l <<<"$out")" = 2 ] ||
    die "ft-list without FT domains: '$out'"
grep -q "^warning: cannot reach ft-agentd at $nosock" <<<"$err" ||
    die "ft-list: no warning about the agent: '$err'"
ok "ft-list without FT domains: the header and the rule; $err"

# A node of the test driver with a QEMU domain FT can cover (web1) and one
# that is fault tolerant already (db1).
cat >"$tmp/node.xml" <<'EOF'
<node>
  <domain type='qemu'>
    <name>web1</name>
    <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
    <memory unit='MiB'>256</memory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64' machine='pc'>hvm</type></os>
    <devices>
      <interface type='network'>
        <source network='default'/>
        <mac address='52:54:00:00:00:01'/>
        <model type='virtio'/>
      </interface>
    </devices>
  </domain>
  <domain type='qemu'>
    <name>db1</name>
    <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa1</uuid>
    <metadata>
      <ft:ft xmlns:ft='urn:qemu-ft:domain:1' policy='restart'>
        <ft:standby host='host-c'/>
        <ft:standby host='host-d'/>
      </ft:ft>
    </metadata>
    <memory unit='MiB'>128</memory>
    <vcpu>1</vcpu>
    <os><type arch='x86_64' machine='pc'>hvm</type></os>
    <devices/>
  </domain>
</node>
EOF
node=test://$tmp/node.xml

run "$virt_ft" -c "$node" -a "$nosock" ft-enable web1 --standby-host host-b --print-xml
[ $rc = 0 ] && grep -q '<ft:ft xmlns:ft="urn:qemu-ft:domain:1" policy="protect">' <<<"$out" &&
    grep -q 'filter-ft,id=ft-net0,netdev=hostnet0,queue=all' <<<"$out" &&
    grep -q 'memory-backend-ram,id=ft-ram,size=268435456' <<<"$out" ||
    die "ft-enable --print-xml: exit $rc, '$out' '$err'"
ok "ft-enable --print-xml: the metadata, ft-ram and filter-ft"

# one connection for the whole sequence: the test driver forgets a define
# when its connection closes
run "$virt_ft" -c "$node" -a "$nosock" "ft-enable web1 --standby-host host-b \
    --standby-host host-c --epoch-min-ms 2 --epoch-max-ms 10 --pool-dir /dev/shm; \
    ft-list; ft-status web1; ft-enable web1 --policy notify; ft-status web1; \
    ft-disable web1; ft-list --all --name"
grep -q "^Domain 'web1' is now fault tolerant (policy protect, standby host-b, host-c)$" <<<"$out" ||
    die "ft-enable: '$out'"
grep -q "^Domain 'web1' is running: the FT QEMU arguments take effect at its next start$" <<<"$out" ||
    die "ft-enable of a running domain: '$out'"
grep -q "^warning: cannot reach ft-agentd at $nosock.*the agent picks it up when it starts$" <<<"$err" ||
    die "ft-enable without an agent: no warning: '$err'"
grep -Eq '^ web1   protect   -      unknown      -       host-b,host-c$' <<<"$out" ||
    die "ft-list after ft-enable: '$out'"
grep -Eq '^ db1    restart   -      unknown      -       host-c,host-d$' <<<"$out" ||
    die "ft-list: db1: '$out'"
grep -q '^Policy:          protect$' <<<"$out" && grep -q '^Protection:      unknown$' <<<"$out" &&
    grep -q '^Pending:         FT enabled at the next start of the domain$' <<<"$out" ||
    die "ft-status after ft-enable: '$out'"
grep -q "^error: cannot reach ft-agentd at $nosock.*is ft-agentd running?" <<<"$err" ||
    die "ft-status without an agent: '$err'"
grep -q "^Domain 'web1' FT settings updated (policy notify, standby host-b, host-c)$" <<<"$out" &&
    grep -q '^Policy:          notify$' <<<"$out" || die "ft-enable --policy notify: '$out'"
grep -q "^Domain 'web1' is no longer fault tolerant$" <<<"$out" || die "ft-disable: '$out'"
[ "$(tail -n 1 <<<"$out")" = db1 ] && [ "$(tail -n 2 <<<"$out" | head -n 1)" != web1 ] || die "ft-list --all --name after ft-disable: '$out'"
[ $rc = 0 ] || die "the command string: exit $rc (its last command succeeded)"
ok "ft-enable, ft-list, ft-status, ft-enable again, ft-disable in one command string"
run "$virt_ft" -c "$node" -a "$nosock" "ft-status web1; ft-list --all --name"
[ $rc = 0 ] || die "a command string whose last command succeeds: exit $rc"
run "$virt_ft" -c "$node" -a "$nosock" "ft-list --all --name; ft-status web1"
[ $rc = 1 ] || die "a command string whose last command fails: exit $rc"
ok "a command string exits with its last command's status"
fails "ft-status of a domain without FT metadata" "domain 'web1' is not fault tolerant" \
    "$virt_ft" -c "$node" -a "$nosock" ft-status web1

# ---- a real ft-agentd: qemu backend; it knows VM "x" (its primary is b) -----
head -c 32 /dev/urandom >"$tmp/key"; chmod 600 "$tmp/key"
echo "token-$RANDOM-$RANDOM-0123456789" >"$tmp/token"; chmod 600 "$tmp/token"
port=$((20000 + RANDOM % 20000))
cat >"$tmp/agent.conf" <<EOF
[agent]
host = a
state-dir = $tmp/state
run-dir = $tmp/state/run
key-file = $tmp/key
token-file = $tmp/token
rest-listen =
[host:a]
peer-address = 127.0.0.1:$port
[host:b]
peer-address = 127.0.0.1:$((port + 1))
[vm:x]
hosts = b;a
memory = 64M
qemu-args = -nodefaults
EOF
sock=$tmp/state/run/agent.sock
"$agentd" --foreground --config "$tmp/agent.conf" >"$tmp/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || die "no control socket: $(cat "$tmp/agent.log")"

run "$virt_ft" -c "$node" -a "$sock" ft-status db1
[ $rc = 1 ] && grep -q '^Name:            db1$' <<<"$out" && grep -q '^Policy:          restart$' <<<"$out" &&
    grep -q "^error: domain 'db1' is not known to the agent (.*no vm 'db1' here)$" <<<"$err" ||
    die "ft-status of a domain the agent does not know: exit $rc, '$out' '$err'"
ok "ft-status of a domain the agent does not know: exit 1, $err"
fails "ft-status --json of a domain the agent does not know" "no vm 'db1' here" \
    "$virt_ft" -c "$node" -a "$sock" ft-status db1 --json
run "$virt_ft" -c "$node" -a "$sock" ft-status x
[ $rc = 0 ] && grep -q '^State:           (no libvirt domain here)$' <<<"$out" &&
    grep -q '^Role:            none$' <<<"$out" && grep -q '^Protection:      remote$' <<<"$out" &&
    grep -q '^Primary host:    b$' <<<"$out" && grep -q '^Health:          runs on b$' <<<"$out" &&
    grep -q '^Epoch:           0$' <<<"$out" && grep -q '^Last commit age: ' <<<"$out" ||
    die "ft-status of the agent's VM: exit $rc, '$out' '$err'"
for k in Name UUID State Policy Role Protection "FT status" Epoch "Last commit age" \
         "Primary host" "Standby host" Generation Failovers Health; do
    grep -q "^$k: " <<<"$out" || die "ft-status has no '$k:' line: '$out'"
done
ok "ft-status of a VM of the agent: every field"
run "$virt_ft" -a "$sock" ft-status x --json
[ $rc = 0 ] && python3 -c 'import json,sys; o = json.load(sys.stdin); assert o["name"] == "x" and o["protection"] == "remote", o' <<<"$out" ||
    die "ft-status --json: exit $rc, '$out' '$err'"
ok "ft-status --json: the agent's object"
FT_AGENT_SOCKET=$sock run "$virt_ft" -c "$node" ft-list --all
[ $rc = 0 ] && [ -z "$err" ] && grep -Eq '^ x      protect   none   remote       0       -$' <<<"$out" &&
    grep -Eq '^ db1    restart   -      unmanaged    -       host-c,host-d$' <<<"$out" ||
    die "ft-list with an agent: exit $rc, '$out' '$err'"
ok "ft-list joins libvirt and the agent (\$FT_AGENT_SOCKET)"
run "$virt_ft" -c bogus:///x -a "$sock" ft-status x
[ $rc = 0 ] && grep -q '^Protection:      remote$' <<<"$out" &&
    grep -q "^warning: failed to connect to the hypervisor (bogus:///x).*the agent's view only$" <<<"$err" ||
    die "ft-status without libvirt: exit $rc, '$out' '$err'"
run "$virt_ft" -c bogus:///x -a "$sock" ft-list --name
[ $rc = 0 ] && [ "$out" = x ] && grep -q "the agent's VMs only$" <<<"$err" ||
    die "ft-list without libvirt: exit $rc, '$out' '$err'"
ok "without libvirt (the qemu backend): ft-status and ft-list show the agent's view, with a warning"
printf '[agent]\ncontrol-socket = %s\n' "$sock" >"$tmp/agent-sock.conf"
FT_AGENT_CONFIG=$tmp/agent-sock.conf run "$virt_ft" -c "$node" ft-list --name
[ $rc = 0 ] && grep -qx x <<<"$out" || die "the agent configuration's control socket: '$out' '$err'"
ok "the control socket from the agent's configuration"
run "$virt_ft" -c "$node" -a "$sock" ft-enable web1 --standby-host host-b
[ $rc = 0 ] && grep -q "^warning: the agent did not reload domain 'web1': .*HTTP 409" <<<"$err" ||
    die "ft-enable with a qemu-backend agent: exit $rc, '$out' '$err'"
ok "ft-enable: the agent's refusal to reload is a warning: $err"
fails "ft-failover of a VM that is not protected here" "not protected (protection remote)" \
    "$virt_ft" -a "$sock" ft-failover x --force
fails "ft-failover of a VM the agent does not know" "not known to the agent" \
    "$virt_ft" -a "$sock" ft-failover db1 --force
fails "ft-failover --abort without a prepared switchover" "HTTP 409" \
    "$virt_ft" -a "$sock" ft-failover x --abort
kill -0 "${pids[0]}" || die "the agent died: $(cat "$tmp/agent.log")"

# ---- the man page ----------------------------------------------------------------
if command -v groff >/dev/null && command -v man >/dev/null; then
    groff -man -ww -z "$man" 2>"$tmp/lint" && [ ! -s "$tmp/lint" ] || die "man page lint: $(cat "$tmp/lint")"
    text=$(MANWIDTH=200 man -l "$man" 2>/dev/null | col -b)
    for c in $commands; do
        grep -q -- "$c" <<<"$text" || die "the man page does not name $c"
        for o in $(help_opts "$c"); do
            grep -q -- "$o" <<<"$text" || die "the man page does not name $c's option $o"
        done
    done
    for s in "EXIT STATUS" EXAMPLES FILES "SEE ALSO" "virsh(1)" "ft-agentd(8)" \
             --connect --agent-socket FT_AGENT_SOCKET LIBVIRT_DEFAULT_URI \
             /etc/libvirt/hooks/qemu.d/qemu-ft; do
        grep -q -- "$s" <<<"$text" || die "the man page has no '$s'"
    done
    ok "the man page is lint-clean and names every command and option"
else
    echo "skip - man page rendering: groff or man missing"
fi

# ---- bash completion ----------------------------------------------------------
# complete LINE: the completions of LINE (the last word may be empty). With
# $bc (the bash-completion package's library) the words are split as
# readline splits them (also at : and =) and _init_completion rejoins them;
# without, at blanks only, as bash does for a script on its own.
complete_line() {
    PATH="$(dirname "$virt_ft"):$PATH" bash --norc --noprofile -c '
        if [ -n "$3" ]; then source "$3" || exit 5; fi
        source "$1" || exit 3
        [ "$(type -t virt-ft)" = file ] || exit 4
        COMP_LINE=$2 COMP_POINT=${#2} COMP_WORDS=()
        read -ra blank_words <<<"$2"
        for w in "${blank_words[@]}"; do
            while [ -n "$3" ] && [[ $w =~ ^([^:=]*)([:=])(.*)$ ]]; do
                [ -z "${BASH_REMATCH[1]}" ] || COMP_WORDS+=("${BASH_REMATCH[1]}")
                COMP_WORDS+=("${BASH_REMATCH[2]}")
                w=${BASH_REMATCH[3]}
            done
            [ -z "$w" ] || COMP_WORDS+=("$w")
        done
        [[ $2 == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _virt_ft
        printf "%s\n" "${COMPREPLY[@]}"' _ "$completion" "$1" "$bc"
}
bash --norc --noprofile -c 'source "$1" && complete -p virt-ft' _ "$completion" >/dev/null ||
    die "the completion does not source"
modes=("")
bc_lib=/usr/share/bash-completion/bash_completion
if [ -r "$bc_lib" ]; then
    modes+=("$bc_lib")
else
    echo "skip - completion with the bash-completion package: $bc_lib missing"
fi
for bc in "${modes[@]}"; do
    how=${bc:+with bash-completion}
    how=${how:-without bash-completion}
    [ "$(complete_line 'virt-ft ft-' | sort | tr '\n' ' ')" = \
      "ft-disable ft-enable ft-failover ft-list ft-status " ] ||
        die "command completion ($how): $(complete_line 'virt-ft ft-')"
    [ "$(complete_line 'virt-ft -c test:///default h')" = help ] || die "a command after -c URI ($how)"
    [ "$(complete_line 'virt-ft --connect=test:///default ft-l')" = ft-list ] ||
        die "a command after --connect=URI ($how): $(complete_line 'virt-ft --connect=test:///default ft-l')"
    [ "$(complete_line 'virt-ft ft-enable web1 --policy ' | tr '\n' ' ')" = "protect restart notify " ] ||
        die "--policy values ($how): $(complete_line 'virt-ft ft-enable web1 --policy ')"
    for c in $commands; do
        want=$( { help_opts "$c"; echo --help; } | sort -u | tr '\n' ' ')
        got=$(complete_line "virt-ft $c --" | sort -u | tr '\n' ' ')
        [ "$want" = "$got" ] || die "completion of $c's options ($how): '$got', help says '$want'"
    done
    got=$(complete_line "virt-ft -c $node -a $nosock ft-status " | tr '\n' ' ')
    [ "$got" = "db1 " ] || die "FT domain completion ($how): '$got'"
    got=$(complete_line "virt-ft -c $node ft-enable w" | tr '\n' ' ')
    [ "$got" = "web1 " ] || die "domain completion for ft-enable ($how): '$got'"
    ok "bash completion $how: commands, each command's options, --policy, domain names"
done

# ---- ft-libvirt-hook -------------------------------------------------------------
plain_xml=$(virsh -c test:///default dumpxml test)
ft_xml() { # POLICY
    cat <<EOF
<domain type='qemu'>
  <name>web1</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <metadata>
    <ft:ft xmlns:ft='urn:qemu-ft:domain:1' policy='$1'><ft:standby host='host-b'/></ft:ft>
  </metadata>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
EOF
}
hook_run() { # STDIN ARGS...
    local in=$1
    shift
    rc=0
    "$hook" "$@" <<<"$in" >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(cat "$tmp/out") err=$(cat "$tmp/err")
}
export FT_AGENT_SOCKET=$nosock
hook_run "$plain_xml" test start begin -
[ $rc = 0 ] && [ -z "$out$err" ] || die "hook, plain domain: exit $rc, '$out' '$err'"
ok "hook: a domain without FT metadata: exit 0, nothing said or sent"
hook_run "$(ft_xml protect)" web1 started begin -
[ $rc = 0 ] && grep -q "^qemu-ft: domain 'web1' started begin: cannot tell ft-agentd: cannot reach ft-agentd at $nosock" <<<"$err" ||
    die "hook, FT domain without agent: exit $rc, '$err'"
ok "hook: an FT domain without agent: exit 0, $err"
hook_run "$(ft_xml protect)" web1 migrate begin -
[ $rc = 1 ] && grep -q "^qemu-ft: web1 is fault tolerant; migrate it with virt-ft ft-failover" <<<"$err" ||
    die "hook, migrate of a protect domain: exit $rc, '$err'"
ok "hook: migrate of a protect domain refused: $err"
hook_run "$(ft_xml notify)" web1 migrate begin -
[ $rc = 0 ] || die "hook, migrate of a notify domain: exit $rc, '$err'"
ok "hook: migrate of a notify domain allowed"
hook_run "$(ft_xml sometimes)" web1 start begin -
[ $rc = 0 ] && grep -q "invalid FT metadata" <<<"$err" || die "hook, invalid metadata: exit $rc, '$err'"
hook_run "$(ft_xml sometimes)" web1 migrate begin -
[ $rc = 1 ] && grep -q "invalid FT metadata.*refusing its migration" <<<"$err" ||
    die "hook, migrate with invalid metadata: exit $rc, '$err'"
ok "hook: invalid FT metadata is named; start goes on, migrate is refused"
hook_run "not xml" web1 start begin -
[ $rc = 0 ] && grep -q "stdin is no domain XML" <<<"$err" || die "hook, not XML: exit $rc, '$err'"
hook_run "" web1 start begin -
[ $rc = 0 ] && [ -z "$err" ] || die "hook, empty stdin: exit $rc, '$err'"
hook_run "" web1
[ $rc = 1 ] && grep -q "^usage: ft-libvirt-hook" <<<"$err" || die "hook without an op: exit $rc, '$err'"
ok "hook: stdin not XML, empty stdin, a missing op"

# A listener on a Unix socket: records each request (request line, body)
# and answers 202, or (silent) never answers.
cat >"$tmp/listen.py" <<'EOF'
import json, os, socket, sys
path, log, mode = sys.argv[1:4]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(8)
open(log + ".ready", "w").close()
held = []
while True:
    c, _ = srv.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    length = 0
    for h in lines[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
    while len(body) < length:
        body += c.recv(65536)
    with open(log, "a") as f:
        f.write(json.dumps({"request": lines[0], "body": body.decode()}) + "\n")
    if mode == "silent":
        held.append(c)
        continue
    status, answer = b"202 Accepted", b'{"queued": true}'
    if mode == "refuse":
        status, answer = b"409 Conflict", b'{"error": "vm web1 runs on host-a"}'
    c.sendall(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(answer)) + answer)
    c.close()
EOF
listen() { # NAME MODE
    python3 "$tmp/listen.py" "$tmp/$1.sock" "$tmp/$1.log" "$2" &
    pids+=($!)
    for _ in $(seq 100); do [ -e "$tmp/$1.log.ready" ] && break; sleep 0.05; done
    [ -e "$tmp/$1.log.ready" ] || die "the listener $1 did not start"
}
listen ok answer
FT_AGENT_SOCKET=$tmp/ok.sock hook_run "$(ft_xml protect)" web1 started begin -
[ $rc = 0 ] && [ -z "$err" ] || die "hook with a listener: exit $rc, '$err'"
python3 - "$tmp/ok.log" <<'EOF' || die "the hook's request: $(cat "$tmp/ok.log")"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 1, reqs
assert reqs[0]["request"] == "POST /v1/libvirt/hook HTTP/1.1", reqs[0]
body = json.loads(reqs[0]["body"])
want = {"domain": "web1", "uuid": "4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
        "op": "started", "sub-op": "begin", "extra": "-"}
assert body == want, body
EOF
ok "hook: posts {domain, uuid, op, sub-op, extra} to POST /v1/libvirt/hook"
printf '[agent]\nrun-dir = %s\n' "$tmp/rundir" >"$tmp/hook-agent.conf"
mkdir -p "$tmp/rundir"
ln -s "$tmp/ok.sock" "$tmp/rundir/agent.sock"
(unset FT_AGENT_SOCKET; FT_AGENT_CONFIG=$tmp/hook-agent.conf hook_run "$(ft_xml restart)" web1 stopped end -
 [ $rc = 0 ] && [ -z "$err" ]) || die "hook, the agent configuration's run-dir: '$(cat "$tmp/err")'"
[ "$(wc -l <"$tmp/ok.log")" = 2 ] && tail -n1 "$tmp/ok.log" |
    python3 -c 'import json, sys; assert json.loads(json.loads(sys.stdin.read())["body"])["op"] == "stopped"' ||
    die "hook via run-dir: $(cat "$tmp/ok.log")"
ok "hook: the agent's socket from its configuration (run-dir/agent.sock)"
listen refuse refuse
FT_AGENT_SOCKET=$tmp/refuse.sock hook_run "$(ft_xml restart)" web1 started begin -
[ $rc = 0 ] && grep -q "cannot tell ft-agentd: .*HTTP 409" <<<"$err" ||
    die "hook, a 409 to started: exit $rc, '$err'"
ok "hook: the agent's 409 to started is logged, the domain goes on"
# a second copy: the agent's NAME.elsewhere beside its control socket
FT_AGENT_SOCKET=$tmp/refuse.sock hook_run "$(ft_xml protect)" web1 prepare begin -
[ $rc = 0 ] && [ -z "$err" ] || die "hook, prepare without NAME.elsewhere: exit $rc, '$err'"
echo "host-a 3" >"$tmp/web1.elsewhere"
FT_AGENT_SOCKET=$tmp/refuse.sock hook_run "$(ft_xml protect)" web1 prepare begin -
[ $rc = 1 ] && grep -q "^qemu-ft: domain 'web1' runs on host-a (generation 3): refusing to start a second copy here" <<<"$err" ||
    die "hook, prepare with NAME.elsewhere: exit $rc, '$err'"
ok "hook: a start while the agent says the VM runs elsewhere is refused: $err"
standby_xml=$(ft_xml protect | sed "s|</domain>|<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='memory-backend-file,id=ft-ram,size=1,mem-path=/dev/shm/p,offset=0,share=off'/></qemu:commandline></domain>|")
before=$(wc -l <"$tmp/refuse.log")
FT_AGENT_SOCKET=$tmp/refuse.sock hook_run "$standby_xml" web1 prepare begin -
[ $rc = 0 ] && [ -z "$err" ] || die "hook, the agent's standby with NAME.elsewhere: exit $rc, '$err'"
FT_AGENT_SOCKET=$tmp/refuse.sock hook_run "$standby_xml" web1 started begin -
[ $rc = 0 ] && [ -z "$err" ] && [ "$(wc -l <"$tmp/refuse.log")" = "$before" ] ||
    die "hook, the agent's standby: exit $rc, '$err', or it was posted"
rm "$tmp/web1.elsewhere"
ok "hook: the agent's own standby domain (RAM from a pool) is neither refused nor reported"
listen silent silent
start=$(date +%s%N)
FT_AGENT_SOCKET=$tmp/silent.sock hook_run "$(ft_xml protect)" web1 started begin -
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 0 ] && grep -q "no answer within 1000 ms" <<<"$err" && [ $ms -lt 5000 ] ||
    die "hook, an agent that does not answer: exit $rc after $ms ms, '$err'"
ok "hook: an agent that never answers: exit 0 after $ms ms, $err"
FT_AGENT_SOCKET=$sock hook_run "$(ft_xml protect)" web1 started begin -
[ $rc = 0 ] && grep -q "cannot tell ft-agentd: .*HTTP 4" <<<"$err" ||
    die "hook, a qemu-backend agent: exit $rc, '$err'"
ok "hook: the real agent (qemu backend) refuses: exit 0, $err"
unset FT_AGENT_SOCKET

# ---- install-hook ---------------------------------------------------------------
DESTDIR=$tmp/root "$install_hook" "$hook" >/dev/null
cmp "$hook" "$tmp/root/etc/libvirt/hooks/qemu.d/qemu-ft" &&
    [ -x "$tmp/root/etc/libvirt/hooks/qemu.d/qemu-ft" ] || die "install-hook with DESTDIR"
"$install_hook" --libvirt-dir "$tmp/host-a/etc/libvirt" "$hook" >/dev/null
[ -x "$tmp/host-a/etc/libvirt/hooks/qemu.d/qemu-ft" ] || die "install-hook --libvirt-dir"
rc=0; err=$("$install_hook" --libvirt-dir etc/libvirt "$hook" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "not an absolute path" <<<"$err" || die "install-hook, a relative dir: $rc '$err'"
rc=0; err=$("$install_hook" "$tmp/nohook" 2>&1) || rc=$?
[ $rc = 1 ] && grep -q "$tmp/nohook.*not an executable" <<<"$err" || die "install-hook, no binary: $rc '$err'"
ok "install-hook: DESTDIR, --libvirt-dir, bad arguments named"

kill -0 "${pids[0]}" || die "the agent died: $(cat "$tmp/agent.log")"
echo "$passed passed, 0 failed"
