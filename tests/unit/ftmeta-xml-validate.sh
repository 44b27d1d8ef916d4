#!/usr/bin/env bash
# The FT element's schema and libvirt's own, without libvirtd:
#   ftmeta-xml-validate.sh TEST_FTMETA FTMETA_TOOL FT_METADATA_RNG
# (a) docs/ft-metadata.rng (xmllint --relaxng) accepts good elements and
#     refuses bad ones, and the C parser (ftmeta-tool show) agrees on every
#     sample; what a schema cannot say (min-ms > max-ms, a host twice, a
#     '..' in dir) only the parser refuses;
# (b) a domain XML made fault tolerant by ftmeta-tool enable, and its
#     standby's XML, pass libvirt's virt-xml-validate (domain schema), as
#     does the unit test's sample; a broken one does not (control);
#     the FT element inside them passes docs/ft-metadata.rng;
# (c) libvirt itself takes the namespace urn:qemu-ft:domain:1: through its
#     in-process test driver (virsh -c test:///default, no daemon) the FT
#     domain defines with --validate, `virsh metadata` shows the element
#     (namespace stripped, as virDomainGetMetadata returns it) and parses,
#     `virsh metadata --set` takes ftmeta-tool element's output.
set -euo pipefail
test_ftmeta=$1 tool=$2 rng=$3
for t in xmllint virt-xml-validate virsh; do
    command -v $t >/dev/null || {
        echo "SKIP: missing tool $t (tools/setup installs libxml2-utils and libvirt-clients)"
        exit 77
    }
done
tmp=$(mktemp -d /tmp/ftmeta-xml.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
ns='xmlns:ft="urn:qemu-ft:domain:1"'

FTMETA_TEST_OUT=$tmp CK_VERBOSITY=silent "$test_ftmeta" ||
    die "test-ftmeta failed while writing the samples"
for f in domain.xml domain-ft.xml domain-standby.xml element.xml element-bare.xml; do
    [ -s "$tmp/$f" ] || die "test-ftmeta wrote no $f"
done

# The parser's verdict on an element: put it in a domain, ftmeta-tool show.
parser_accepts() { # ELEMENT
    printf '<domain type="qemu"><name>x</name><metadata>%s</metadata></domain>\n' "$1" >"$tmp/wrap.xml"
    "$tool" show "$tmp/wrap.xml" >/dev/null 2>"$tmp/parser.err"
}
schema_accepts() { # ELEMENT
    printf '%s\n' "$1" >"$tmp/el.xml"
    xmllint --noout --relaxng "$rng" "$tmp/el.xml" >"$tmp/xmllint.out" 2>&1
}

# ---- (a) the schema, and the parser agreeing with it ------------------------
good=(
    "$(cat "$tmp/element.xml")"
    "<ft:ft $ns policy=\"notify\"/>"
    "<ft:ft $ns><ft:standby host=\"b\"/></ft:ft>"
    "<ft:ft $ns policy=\"restart\"><ft:epoch max-ms=\"10000\"/><ft:standby host=\"a.b-c_d\"/></ft:ft>"
    "<ft:ft $ns policy=\"protect\"><ft:pool dir=\"/mnt/cxl0\"/><ft:standby host=\"b\"/><ft:epoch min-ms=\"1\"/><ft:standby host=\"c\"/></ft:ft>"
    "<ft:ft $ns><ft:standby host=\"a\"/><ft:standby host=\"b\"/><ft:standby host=\"c\"/><ft:standby host=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_\"/></ft:ft>"
    "<ft xmlns=\"urn:qemu-ft:domain:1\" policy=\"notify\"><epoch min-ms=\"5\" max-ms=\"5\"/></ft>"
)
for el in "${good[@]}"; do
    schema_accepts "$el" || die "the schema refuses a good element: $el: $(cat "$tmp/xmllint.out")"
    parser_accepts "$el" || die "the parser refuses a good element: $el: $(cat "$tmp/parser.err")"
done
ok "${#good[@]} good elements pass docs/ft-metadata.rng and the parser"

bad=(
    "<ft:ft $ns policy=\"protekt\"><ft:standby host=\"b\"/></ft:ft>"
    "<ft:ft $ns polcy=\"notify\"/>"
    "<ft:ft $ns policy=\"notify\"><ft:standby/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:standby host=\"b c\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:standby host=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_2\"/></ft:ft>"
    "<ft:ft $ns><ft:standby host=\"a\"/><ft:standby host=\"b\"/><ft:standby host=\"c\"/><ft:standby host=\"d\"/><ft:standby host=\"e\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:standbye host=\"b\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch min-ms=\"0\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch max-ms=\"10001\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch max-ms=\"20ms\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch max-ms=\"+20\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch max_ms=\"20\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:epoch max-ms=\"20\"/><ft:epoch max-ms=\"30\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:pool dir=\"dev/shm\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:pool/></ft:ft>"
    "<ft:ft $ns policy=\"notify\"><ft:pool dir=\"/a\"/><ft:pool dir=\"/b\"/></ft:ft>"
    "<ft:ft $ns policy=\"notify\">text</ft:ft>"
    "<ft:ft xmlns:ft=\"urn:qemu-ft:domain:2\" policy=\"notify\"/>"
)
for el in "${bad[@]}"; do
    if schema_accepts "$el"; then die "the schema accepts a bad element: $el"; fi
    if parser_accepts "$el"; then die "the parser accepts a bad element: $el"; fi
done
ok "${#bad[@]} bad elements refused by docs/ft-metadata.rng and by the parser"

only_parser=(
    "<ft:ft $ns policy=\"notify\"><ft:epoch min-ms=\"50\" max-ms=\"20\"/></ft:ft>|min-ms must not exceed max-ms"
    "<ft:ft $ns><ft:standby host=\"b\"/><ft:standby host=\"b\"/></ft:ft>|listed twice"
    "<ft:ft $ns policy=\"restart\"/>|policy restart needs at least one"
    "<ft:ft $ns policy=\"notify\"><ft:pool dir=\"/dev/shm/../etc\"/></ft:ft>|'..' component"
)
for pair in "${only_parser[@]}"; do
    el=${pair%|*} want=${pair##*|}
    schema_accepts "$el" || die "the schema refuses what only the parser should: $el"
    if parser_accepts "$el"; then die "the parser accepts $el"; fi
    grep -qF -- "$want" "$tmp/parser.err" || die "$el: '$(cat "$tmp/parser.err")' lacks '$want'"
done
ok "${#only_parser[@]} rules beyond the schema: the parser refuses them, naming the rule"

# ---- (b) libvirt's own schema -------------------------------------------------
"$tool" enable --policy protect --standby host-b --standby host-c \
    --epoch-min 5 --epoch-max 20 --pool-dir /dev/shm "$tmp/domain.xml" >"$tmp/tool-ft.xml" ||
    die "ftmeta-tool enable refused the sample"
"$tool" standby --pool /dev/shm/vm0.pool --offset 1052672 "$tmp/tool-ft.xml" >"$tmp/tool-standby.xml" ||
    die "ftmeta-tool standby refused the FT sample"
for f in domain.xml domain-ft.xml domain-standby.xml tool-ft.xml tool-standby.xml; do
    out=$(virt-xml-validate "$tmp/$f" domain 2>&1) || die "virt-xml-validate $f: $out"
    echo "    $out"
done
grep -q 'memory-backend-ram,id=ft-ram,size=268435456' "$tmp/tool-ft.xml" || die "no ft-ram in tool-ft.xml"
grep -q 'mem-path=/dev/shm/vm0.pool,offset=1052672,share=off' "$tmp/tool-standby.xml" ||
    die "no pool-mapped ft-ram in tool-standby.xml"
ok "the FT-enabled and the standby domain XML pass libvirt's virt-xml-validate"

# control: virt-xml-validate does look inside <qemu:commandline>
sed 's|<qemu:arg value="-machine"/>|<qemu:arg/>|' "$tmp/tool-ft.xml" >"$tmp/broken.xml"
cmp -s "$tmp/broken.xml" "$tmp/tool-ft.xml" && die "control: the sed changed nothing"
if virt-xml-validate "$tmp/broken.xml" domain >/dev/null 2>&1; then
    die "control: virt-xml-validate accepts a <qemu:arg> without a value"
fi
ok "control: a <qemu:arg> without value fails virt-xml-validate"

# the FT element inside the enabled domain passes our schema
for f in tool-ft.xml tool-standby.xml; do
    xmllint --xpath '//*[local-name()="ft" and namespace-uri()="urn:qemu-ft:domain:1"]' \
        "$tmp/$f" >"$tmp/inner.xml" || die "no FT element in $f"
    xmllint --noout --relaxng "$rng" "$tmp/inner.xml" >"$tmp/xmllint.out" 2>&1 ||
        die "the FT element of $f fails docs/ft-metadata.rng: $(cat "$tmp/xmllint.out")"
done
ok "the FT element inside them passes docs/ft-metadata.rng"

# the tool round-trips: show prints what enable was given, disable undoes it
show=$("$tool" show "$tmp/tool-ft.xml")
want=$'policy protect\nstandby host-b\nstandby host-c\nepoch-min-ms 5\nepoch-max-ms 20\npool-dir /dev/shm'
[ "$show" = "$want" ] || die "ftmeta-tool show: '$show'"
"$tool" disable "$tmp/tool-standby.xml" >"$tmp/off.xml"
if grep -qE 'ft-ram|filter-ft|urn:qemu-ft' "$tmp/off.xml"; then die "disable left FT in: $(cat "$tmp/off.xml")"; fi
rc=0; "$tool" show "$tmp/off.xml" 2>/dev/null || rc=$?
[ $rc = 3 ] || die "ftmeta-tool show of a disabled domain: exit $rc, want 3"
virt-xml-validate "$tmp/off.xml" domain >/dev/null || die "the disabled XML fails virt-xml-validate"
ok "ftmeta-tool show/disable: the settings back, then none (exit 3), still valid"

# ---- (c) libvirt's metadata API, through its test driver ------------------------
uri=urn:qemu-ft:domain:1
sed -e "s/ type=\"qemu\">/ type=\"test\">/" "$tmp/tool-ft.xml" >"$tmp/test-driver.xml"
grep -q 'type="test"' "$tmp/test-driver.xml" || die "could not make a test-driver domain"
element=$("$tool" element --policy notify --standby host-d --epoch-max 30)
virsh -q -c test:///default "define --validate $tmp/test-driver.xml; \
    metadata vm0 --uri $uri; \
    metadata vm0 --uri $uri --key ft --set '$element' --config; \
    metadata vm0 --uri $uri --config; \
    dumpxml vm0 --inactive" >"$tmp/virsh.out" 2>&1 || die "virsh (test driver): $(cat "$tmp/virsh.out")"
# the first <ft> ... </ft> is the element as defined, the second as set
awk '/^<ft /{n++} n==1' "$tmp/virsh.out" | sed '/^<\/ft>/q' >"$tmp/got1.xml"
awk '/^<ft /{n++} n==2' "$tmp/virsh.out" | sed '/^<\/ft>/q' >"$tmp/got2.xml"
printf '<domain type="qemu"><name>x</name><metadata>%s</metadata></domain>\n' \
    "$(sed 's|<ft |<ft xmlns="urn:qemu-ft:domain:1" |' "$tmp/got1.xml")" >"$tmp/got1-domain.xml"
show1=$("$tool" show "$tmp/got1-domain.xml") || die "the element virsh metadata shows does not parse: $(cat "$tmp/got1.xml")"
[ "$show1" = "$want" ] || die "virsh metadata shows '$show1', want '$want'"
grep -q '<standby host="host-d"/>' "$tmp/got2.xml" || die "virsh metadata --set did not take: $(cat "$tmp/virsh.out")"
grep -q "<ft:ft xmlns:ft=\"$uri\" policy=\"notify\">" "$tmp/virsh.out" ||
    die "the set element is not in the domain XML as <ft:ft xmlns:ft=...>: $(cat "$tmp/virsh.out")"
ok "libvirt (test driver) defines the FT domain with --validate; virsh metadata --uri $uri shows it, --set takes ftmeta-tool element"

echo "# $passed checks passed"
