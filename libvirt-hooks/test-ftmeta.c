/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FT element (ftmeta.h): every attribute's good and bad values, errors
 * naming element, attribute and value; parse(to_xml(m)) == m; and the
 * domain XML transformations on a sample domain: enable, disable, standby,
 * each idempotent, and each refusal naming what cannot be protected.
 * With FTMETA_TEST_OUT=DIR it also writes the sample, its FT-enabled and
 * its standby XML and the element there (tests/unit/ftmeta-xml-validate.sh
 * checks them with virt-xml-validate and xmllint).
 */
#include "qft-check.h"
#include <string.h>

#include "ftmeta.h"

#define NS "xmlns:ft=\"" FTMETA_NS "\""
#define QEMU_NS "xmlns:qemu=\"" FTMETA_QEMU_NS "\""

/* A domain as `virsh dumpxml --inactive` gives it, with a read-only disk,
 * two interfaces (the second with a user alias) and a user's own
 * <qemu:commandline>. */
static const char sample[] =
    "<domain type='qemu' " QEMU_NS ">\n"
    "  <name>vm0</name>\n"
    "  <uuid>6f1d2f4e-3b5a-4c1e-9d0e-2a7b8c9d0e1f</uuid>\n"
    "  <metadata>\n"
    "    <app:tag xmlns:app=\"http://example.org/app/1\">keep me</app:tag>\n"
    "  </metadata>\n"
    "  <memory unit='KiB'>262144</memory>\n"
    "  <currentMemory unit='KiB'>262144</currentMemory>\n"
    "  <vcpu placement='static'>1</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='pc-i440fx-10.0'>hvm</type>\n"
    "    <kernel>/var/cache/qemu-ft/guest/out/vmlinuz</kernel>\n"
    "    <initrd>/var/cache/qemu-ft/guest/out/initrd.gz</initrd>\n"
    "    <cmdline>console=ttyS0</cmdline>\n"
    "  </os>\n"
    "  <clock offset='utc'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <on_reboot>restart</on_reboot>\n"
    "  <on_crash>destroy</on_crash>\n"
    "  <devices>\n"
    "    <emulator>/usr/local/bin/qemu-system-x86_64</emulator>\n"
    "    <disk type='file' device='disk'>\n"
    "      <driver name='qemu' type='raw'/>\n"
    "      <source file='/var/lib/libvirt/images/ro.img'/>\n"
    "      <target dev='vda' bus='virtio'/>\n"
    "      <readonly/>\n"
    "    </disk>\n"
    "    <disk type='file' device='cdrom'>\n"
    "      <target dev='hdc' bus='ide'/>\n"
    "    </disk>\n"
    "    <interface type='ethernet'>\n"
    "      <mac address='52:54:00:12:34:56'/>\n"
    "      <target dev='ft-tap0' managed='no'/>\n"
    "      <model type='virtio'/>\n"
    "    </interface>\n"
    "    <interface type='bridge'>\n"
    "      <mac address='52:54:00:12:34:57'/>\n"
    "      <source bridge='br0'/>\n"
    "      <model type='e1000'/>\n"
    "      <alias name='ua-uplink'/>\n"
    "    </interface>\n"
    "    <interface type='network'>\n"
    "      <mac address='52:54:00:12:34:58'/>\n"
    "      <source network='default'/>\n"
    "      <model type='virtio'/>\n"
    "      <driver name='qemu' queues='2'/>\n"
    "    </interface>\n"
    "    <serial type='pty'>\n"
    "      <target port='0'/>\n"
    "    </serial>\n"
    "    <console type='pty'>\n"
    "      <target type='serial' port='0'/>\n"
    "    </console>\n"
    "    <memballoon model='none'/>\n"
    "  </devices>\n"
    "  <qemu:commandline>\n"
    "    <qemu:arg value='-global'/>\n"
    "    <qemu:arg value='kvm-pit.lost_tick_policy=discard'/>\n"
    "    <qemu:env name='QFT_USER' value='1'/>\n"
    "  </qemu:commandline>\n"
    "</domain>\n";

/* TEXT with FROM (which must occur) replaced by TO */
static char *subst(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);

    ck_assert_msg(at, "'%s' is not in the text", from);
    return g_strdup_printf("%.*s%s%s", (int)(at - text), text, to,
                           at + strlen(from));
}

/* *TEXT with FROM replaced by TO, in place */
static void replace(char **text, const char *from, const char *to)
{
    char *new = subst(*text, from, to);

    g_free(*text);
    *text = new;
}

static char *variant(const char *from, const char *to)
{
    return subst(sample, from, to);
}

static void has(const char *text, const char *needle)
{
    ck_assert_msg(text && strstr(text, needle), "'%s' lacks '%s'",
                  text ? text : "(null)", needle);
}

static void lacks(const char *text, const char *needle)
{
    ck_assert_msg(!strstr(text, needle), "'%s' has '%s'", text, needle);
}

static guint count(const char *text, const char *needle)
{
    guint n = 0;

    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static FtMeta *meta_of(const char *xml)
{
    g_autoptr(GError) error = NULL;
    FtMeta *m = ftmeta_parse(xml, &error);

    ck_assert_msg(m, "'%s' refused: %s", xml, error ? error->message : "");
    return m;
}

/* The element is refused with CODE and the message has every needle. */
static void refused(const char *xml, int code, const char *needle1,
                    const char *needle2)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtMeta) m = ftmeta_parse(xml, &error);

    ck_assert_msg(!m, "accepted: %s", xml);
    ck_assert_msg(g_error_matches(error, FTMETA_ERROR, code),
                  "'%s': code %d, want %d", error->message, error->code, code);
    has(error->message, needle1);
    if (needle2)
        has(error->message, needle2);
}

/* The sample as enable leaves its interfaces: all with name='qemu' */
static char *sample_qemu_nics(void)
{
    char *xml = variant("<model type='virtio'/>\n    </interface>",
                        "<model type='virtio'/><driver name='qemu'/>\n"
                        "    </interface>");

    replace(&xml, "<model type='e1000'/>",
            "<model type='e1000'/><driver name='qemu'/>");
    return xml;
}

static FtMeta *sample_meta(void)
{
    return meta_of("<ft:ft " NS " policy=\"protect\">"
                   "<ft:standby host=\"host-b\"/><ft:standby host=\"c.2\"/>"
                   "<ft:epoch min-ms=\"5\" max-ms=\"20\"/>"
                   "<ft:pool dir=\"/dev/shm/ft\"/></ft:ft>");
}

/* ---- the element --------------------------------------------------------- */

START_TEST(element_good)
{
    g_autoptr(FtMeta) m = sample_meta();
    g_autoptr(FtMeta) n = NULL, r = NULL, d = NULL;

    ck_assert_int_eq(m->policy, FTMETA_POLICY_PROTECT);
    ck_assert_str_eq(m->standby_hosts[0], "host-b");
    ck_assert_str_eq(m->standby_hosts[1], "c.2");
    ck_assert_ptr_null(m->standby_hosts[2]);
    ck_assert_uint_eq(m->epoch_min_ms, 5);
    ck_assert_uint_eq(m->epoch_max_ms, 20);
    ck_assert_str_eq(m->pool_dir, "/dev/shm/ft");

    /* notify needs no standby; nothing else set is 0 / NULL */
    n = meta_of("<ft:ft " NS " policy=\"notify\"/>");
    ck_assert_int_eq(n->policy, FTMETA_POLICY_NOTIFY);
    ck_assert_ptr_nonnull(n->standby_hosts);
    ck_assert_ptr_null(n->standby_hosts[0]);
    ck_assert_uint_eq(n->epoch_min_ms, 0);
    ck_assert_uint_eq(n->epoch_max_ms, 0);
    ck_assert_ptr_null(n->pool_dir);

    /* policy defaults to protect; whitespace, comments, any prefix; one
     * epoch bound alone; the extremes; 4 hosts of 27 characters */
    d = meta_of("<x:ft xmlns:x=\"" FTMETA_NS "\">\n  <!-- a note -->\n"
                "  <x:epoch max-ms=\"10000\"/>\n"
                "  <x:standby host=\"a\"/><x:standby host=\"b\"/>"
                "<x:standby host=\"c\"/>"
                "<x:standby host=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_\"/>\n</x:ft>");
    ck_assert_int_eq(d->policy, FTMETA_POLICY_PROTECT);
    ck_assert_uint_eq(d->epoch_min_ms, 0);
    ck_assert_uint_eq(d->epoch_max_ms, 10000);
    ck_assert_str_eq(d->standby_hosts[3], "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
    r = meta_of("<ft:ft " NS " policy=\"restart\"><ft:standby host=\"b\"/>"
                "<ft:epoch min-ms=\"1\"/></ft:ft>");
    ck_assert_int_eq(r->policy, FTMETA_POLICY_RESTART);
    ck_assert_uint_eq(r->epoch_min_ms, 1);
    ck_assert_uint_eq(r->epoch_max_ms, 0);
    /* the default namespace works as well as a prefix */
    ftmeta_free(meta_of("<ft xmlns=\"" FTMETA_NS "\" policy=\"notify\"/>"));
}
END_TEST

/* virDomainGetMetadata hands the element back without its namespace */
START_TEST(element_as_libvirt_returns_it)
{
    g_autoptr(FtMeta) a = sample_meta();
    g_autoptr(FtMeta) b = meta_of(
        "<ft policy=\"protect\">\n  <standby host=\"host-b\"/>\n"
        "  <standby host=\"c.2\"/>\n  <epoch min-ms=\"5\" max-ms=\"20\"/>\n"
        "  <pool dir=\"/dev/shm/ft\"/>\n</ft>\n");

    ck_assert(ftmeta_equal(a, b));
    /* but not a mix of the two */
    refused("<ft:ft " NS "><standby host=\"b\"/></ft:ft>",
            FTMETA_ERROR_INVALID, "<standby host=\"b\">",
            "not in namespace");
}
END_TEST

#define INV FTMETA_ERROR_INVALID
#define E(inner) "<ft:ft " NS " policy=\"protect\"><ft:standby host=\"b\"/>" \
                 inner "</ft:ft>"

START_TEST(element_bad_values)
{
    /* policy */
    refused("<ft:ft " NS " policy=\"protekt\"><ft:standby host=\"b\"/></ft:ft>",
            INV, "<ft:ft policy=\"protekt\">: policy \"protekt\" is not "
            "protect, restart or notify", NULL);
    refused("<ft:ft " NS " policy=\"\"/>", INV, "policy \"\"", NULL);
    refused("<ft:ft " NS " policy=\"protect\"/>", INV,
            "<ft:ft policy=\"protect\">", "policy protect needs at least one "
            "<ft:standby");
    refused("<ft:ft " NS "/>", INV, "policy protect needs", NULL);
    refused("<ft:ft " NS " policy=\"restart\"/>", INV,
            "policy restart needs at least one", NULL);
    refused("<ft:ft " NS " polcy=\"notify\"/>", INV,
            "unknown attribute polcy", "ft takes policy");
    refused("<ft:ft " NS " ft:policy=\"notify\"/>", INV,
            "unknown attribute ft:policy", NULL);

    /* standby */
    refused(E("<ft:standby/>"), INV, "<ft:standby>: attribute host is missing",
            NULL);
    refused(E("<ft:standby host=\"\"/>"), INV,
            "<ft:standby host=\"\">: host \"\" is not a host id", NULL);
    refused(E("<ft:standby host=\"b c\"/>"), INV,
            "<ft:standby host=\"b c\">: host \"b c\" is not a host id",
            "1 to 27 of A-Z a-z 0-9 _ . -");
    refused(E("<ft:standby host=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ_2\"/>"), INV,
            "host \"ABCDEFGHIJKLMNOPQRSTUVWXYZ_2\" is not a host id", NULL);
    refused(E("<ft:standby host=\"h/1\"/>"), INV, "is not a host id", NULL);
    refused(E("<ft:standby host=\"b\"/>"), INV,
            "<ft:standby host=\"b\">: host \"b\" is listed twice", NULL);
    refused(E("<ft:standby host=\"c\"/><ft:standby host=\"d\"/>"
              "<ft:standby host=\"e\"/><ft:standby host=\"f\"/>"), INV,
            "<ft:standby host=\"f\">: more than 4 standby hosts", NULL);
    refused(E("<ft:standby host=\"c\" port=\"7\"/>"), INV,
            "<ft:standby host=\"c\" port=\"7\">: unknown attribute port",
            "standby takes host");
    refused(E("<ft:standby host=\"c\">c</ft:standby>"), INV,
            "<ft:standby host=\"c\">: takes no content", NULL);

    /* epoch */
    refused(E("<ft:epoch min-ms=\"50\" max-ms=\"20\"/>"), INV,
            "ft metadata: <ft:epoch min-ms=\"50\" max-ms=\"20\">: min-ms must "
            "not exceed max-ms", NULL);
    refused(E("<ft:epoch min-ms=\"0\"/>"), INV,
            "<ft:epoch min-ms=\"0\">: min-ms \"0\" is not a whole number of "
            "milliseconds in 1..10000", NULL);
    refused(E("<ft:epoch max-ms=\"10001\"/>"), INV,
            "<ft:epoch max-ms=\"10001\">: max-ms \"10001\"", "1..10000");
    refused(E("<ft:epoch max-ms=\"20ms\"/>"), INV, "max-ms \"20ms\"", NULL);
    refused(E("<ft:epoch max-ms=\"-5\"/>"), INV, "max-ms \"-5\"", NULL);
    refused(E("<ft:epoch max-ms=\" 5\"/>"), INV, "max-ms \" 5\"", NULL);
    refused(E("<ft:epoch max-ms=\"+5\"/>"), INV, "max-ms \"+5\"", NULL);
    refused(E("<ft:epoch max-ms=\"99999999999999999999\"/>"), INV,
            "max-ms \"99999999999999999999\"", NULL);
    refused(E("<ft:epoch max-ms=\"\"/>"), INV, "max-ms \"\"", NULL);
    refused(E("<ft:epoch/>"), INV, "<ft:epoch>: needs min-ms or max-ms", NULL);
    refused(E("<ft:epoch max_ms=\"20\"/>"), INV,
            "<ft:epoch max_ms=\"20\">: unknown attribute max_ms",
            "epoch takes min-ms,max-ms");
    refused(E("<ft:epoch max-ms=\"20\"/><ft:epoch max-ms=\"30\"/>"), INV,
            "<ft:epoch max-ms=\"30\">: a second epoch element", NULL);

    /* pool */
    refused(E("<ft:pool/>"), INV, "<ft:pool>: attribute dir is missing", NULL);
    refused(E("<ft:pool dir=\"shm\"/>"), INV,
            "<ft:pool dir=\"shm\">: dir is not an absolute path", NULL);
    refused(E("<ft:pool dir=\"\"/>"), INV, "dir is empty", NULL);
    refused(E("<ft:pool dir=\"/dev/shm/../etc\"/>"), INV,
            "dir has a '.' or '..' component", NULL);
    refused(E("<ft:pool dir=\"/dev/&#9;shm\"/>"), INV,
            "<ft:pool dir=\"/dev/&#9;shm\">: dir contains a control character",
            NULL);
    refused(E("<ft:pool dir=\"/a\"/><ft:pool dir=\"/b\"/>"), INV,
            "<ft:pool dir=\"/b\">: a second pool element", NULL);
    refused(E("<ft:pool path=\"/dev/shm\"/>"), INV,
            "unknown attribute path", "pool takes dir");

    /* elements: a typo is refused, not ignored */
    refused(E("<ft:standbye host=\"c\"/>"), INV,
            "<ft:standbye host=\"c\">: unknown element",
            "ft takes standby, epoch and pool");
    refused(E("<x:epoch xmlns:x=\"urn:other\" max-ms=\"5\"/>"), INV,
            "<x:epoch max-ms=\"5\">: unknown element (not in namespace", NULL);
    refused(E("hello"), INV, "text \"hello\" inside: it takes only elements",
            NULL);
    refused("<ft:fault " NS "/>", INV, "<ft:fault>: not the FT element",
            "<ft:ft xmlns:ft=\"" FTMETA_NS "\">");

    /* the namespace version */
    refused("<ft:ft xmlns:ft=\"urn:qemu-ft:domain:2\" policy=\"notify\"/>",
            FTMETA_ERROR_NAMESPACE,
            "is in namespace \"urn:qemu-ft:domain:2\"",
            "this qemu-ft reads namespace \"" FTMETA_NS "\"");
    refused("<ft:ft xmlns:ft=\"http://qemu-ft.example/1\"/>",
            FTMETA_ERROR_NAMESPACE, "\"http://qemu-ft.example/1\"",
            "reads namespace \"urn:qemu-ft:domain:1\"");

    /* not XML */
    refused("<ft:ft " NS " policy=\"notify\">", FTMETA_ERROR_XML,
            "ft metadata: not well-formed XML: line 1", NULL);
    refused("", FTMETA_ERROR_XML, "not well-formed XML", NULL);
    refused(NULL, FTMETA_ERROR_XML, "ft metadata: no XML given", NULL);
    refused("<ft:ft policy=\"notify\"/>", FTMETA_ERROR_XML,
            "ft metadata: not well-formed XML: line 1: Namespace prefix ft",
            "not defined");
}
END_TEST

START_TEST(policy_names)
{
    g_autoptr(GError) error = NULL;
    FtMetaPolicy p = FTMETA_POLICY_NOTIFY;

    ck_assert_str_eq(ftmeta_policy_name(FTMETA_POLICY_PROTECT), "protect");
    ck_assert_str_eq(ftmeta_policy_name(FTMETA_POLICY_RESTART), "restart");
    ck_assert_str_eq(ftmeta_policy_name(FTMETA_POLICY_NOTIFY), "notify");
    ck_assert_ptr_null(ftmeta_policy_name((FtMetaPolicy)7));
    ck_assert(ftmeta_policy_from_name("restart", &p, &error));
    ck_assert_int_eq(p, FTMETA_POLICY_RESTART);
    ck_assert(!ftmeta_policy_from_name("Protect", &p, &error));
    has(error->message, "policy 'Protect' is not protect, restart or notify");
    ck_assert_int_eq(p, FTMETA_POLICY_RESTART);
}
END_TEST

START_TEST(round_trip)
{
    const char *const elements[] = {
        "<ft:ft " NS " policy=\"notify\"/>",
        "<ft:ft " NS " policy=\"restart\"><ft:standby host=\"b\"/></ft:ft>",
        "<ft:ft " NS "><ft:standby host=\"z\"/><ft:standby host=\"a\"/>"
        "<ft:epoch min-ms=\"7\"/></ft:ft>",
        "<ft:ft " NS " policy=\"notify\"><ft:epoch max-ms=\"10000\"/>"
        "<ft:pool dir=\"/mnt/cxl pool/&amp;&quot;'&lt;\"/></ft:ft>",
        NULL
    };
    g_autoptr(FtMeta) s = sample_meta();
    g_autofree char *sx = ftmeta_to_xml(s);
    g_autofree char *sxns = ftmeta_to_xml_ns(s);

    /* the one-line form virDomainSetMetadata gets: libvirt adds the
     * namespace (and fails if it is there already) */
    ck_assert_str_eq(sx, "<ft policy=\"protect\">"
                     "<standby host=\"host-b\"/><standby host=\"c.2\"/>"
                     "<epoch min-ms=\"5\" max-ms=\"20\"/>"
                     "<pool dir=\"/dev/shm/ft\"/></ft>");
    ck_assert_str_eq(sxns, "<ft:ft " NS " policy=\"protect\">"
                     "<ft:standby host=\"host-b\"/><ft:standby host=\"c.2\"/>"
                     "<ft:epoch min-ms=\"5\" max-ms=\"20\"/>"
                     "<ft:pool dir=\"/dev/shm/ft\"/></ft:ft>");
    for (const char *const *e = elements; *e; e++) {
        g_autoptr(FtMeta) m = meta_of(*e);
        g_autofree char *xml = ftmeta_to_xml(m);
        g_autofree char *xmlns = ftmeta_to_xml_ns(m);
        g_autoptr(FtMeta) back = meta_of(xml);
        g_autoptr(FtMeta) backns = meta_of(xmlns);
        g_autoptr(FtMeta) copy = ftmeta_copy(m);
        g_autofree char *again = ftmeta_to_xml(back);

        ck_assert_msg(ftmeta_equal(m, back), "%s -> %s", *e, xml);
        ck_assert_msg(ftmeta_equal(m, backns), "%s -> %s", *e, xmlns);
        ck_assert(ftmeta_equal(m, copy));
        ck_assert_str_eq(xml, again);
    }
    /* ftmeta_equal sees every field */
    {
        g_autoptr(FtMeta) t = ftmeta_copy(s);

        t->epoch_min_ms = 6;
        ck_assert(!ftmeta_equal(s, t));
        t->epoch_min_ms = 5;
        ck_assert(ftmeta_equal(s, t));
        g_free(t->standby_hosts[1]);
        t->standby_hosts[1] = g_strdup("c.3");
        ck_assert(!ftmeta_equal(s, t));
    }
}
END_TEST

START_TEST(validate_built_in_code)
{
    g_autoptr(FtMeta) m = ftmeta_new(FTMETA_POLICY_PROTECT);
    g_autoptr(GError) error = NULL;

    ck_assert(!ftmeta_validate(m, &error));
    has(error->message, "policy protect needs at least one");
    g_clear_error(&error);
    g_strfreev(m->standby_hosts);
    m->standby_hosts = g_strsplit("b", ",", -1);
    ck_assert_msg(ftmeta_validate(m, &error), "%s",
                  error ? error->message : "");
    m->epoch_min_ms = 50;
    m->epoch_max_ms = 20;
    ck_assert(!ftmeta_validate(m, &error));
    ck_assert_str_eq(error->message, "ft metadata: <ft:epoch min-ms=\"50\" "
                     "max-ms=\"20\">: min-ms must not exceed max-ms");
    g_clear_error(&error);
    m->epoch_min_ms = 0;
    m->epoch_max_ms = 10001;
    ck_assert(!ftmeta_validate(m, &error));
    has(error->message, "max-ms \"10001\"");
    g_clear_error(&error);
    m->epoch_max_ms = 0;
    g_free(m->standby_hosts[0]);
    m->standby_hosts[0] = g_strdup("b\001\"");
    ck_assert(!ftmeta_validate(m, &error));
    has(error->message, "<ft:standby host=\"b&#1;&quot;\">: host");
    g_clear_error(&error);
    g_free(m->standby_hosts[0]);
    m->standby_hosts[0] = g_strdup("b");
    m->pool_dir = g_strdup("relative/dir");
    ck_assert(!ftmeta_validate(m, &error));
    has(error->message, "<ft:pool dir=\"relative/dir\">: dir is not an "
        "absolute path");
    g_clear_error(&error);
    g_clear_pointer(&m->pool_dir, g_free);
    m->policy = (FtMetaPolicy)9;
    ck_assert(!ftmeta_validate(m, &error));
    has(error->message, "policy 9 is not");
    g_clear_error(&error);
    ck_assert(!ftmeta_validate(NULL, &error));
}
END_TEST

/* ---- the element in a domain --------------------------------------------- */

START_TEST(domain_metadata)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtMeta) none = ftmeta_from_domain_xml(sample, &error);
    g_autofree char *with = variant("</app:tag>\n",
        "</app:tag>\n<ft:ft " NS " policy=\"notify\"/>\n");
    g_autofree char *v2 = variant("</app:tag>\n",
        "</app:tag>\n<ft:ft xmlns:ft=\"urn:qemu-ft:domain:2\"/>\n");
    g_autofree char *bare = variant("</app:tag>\n",
        "</app:tag>\n<ft policy=\"notify\"/>\n");
    g_autofree char *two = variant("</app:tag>\n",
        "</app:tag>\n<ft:ft " NS " policy=\"notify\"/>"
        "<x:ft xmlns:x=\"" FTMETA_NS "\" policy=\"notify\"/>\n");
    g_autofree char *bad = variant("</app:tag>\n",
        "</app:tag>\n<ft:ft " NS " policy=\"nope\"/>\n");
    g_autoptr(FtMeta) m = NULL;

    ck_assert_ptr_null(none);
    ck_assert_ptr_null(error);
    m = ftmeta_from_domain_xml(with, &error);
    ck_assert_msg(m, "%s", error ? error->message : "");
    ck_assert_int_eq(m->policy, FTMETA_POLICY_NOTIFY);

    ck_assert_ptr_null(ftmeta_from_domain_xml(v2, &error));
    ck_assert(g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_NAMESPACE));
    has(error->message, "\"urn:qemu-ft:domain:2\"");
    has(error->message, "reads namespace \"" FTMETA_NS "\"");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_from_domain_xml(bare, &error));
    has(error->message, "<ft policy=\"notify\"> in <metadata> has no "
        "namespace (libvirt drops it)");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_from_domain_xml(two, &error));
    has(error->message, "a second element in namespace");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_from_domain_xml(bad, &error));
    has(error->message, "policy \"nope\"");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_from_domain_xml("<domain>", &error));
    ck_assert(g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_XML));
    has(error->message, "domain XML: not well-formed XML");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_from_domain_xml("<network/>", &error));
    has(error->message, "the root element is <network>, not <domain>");
}
END_TEST

START_TEST(domain_names)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *name = ftmeta_domain_name(sample, &error);
    g_autofree char *uuid = ftmeta_domain_uuid(sample, &error);
    g_autofree char *nouuid = variant(
        "  <uuid>6f1d2f4e-3b5a-4c1e-9d0e-2a7b8c9d0e1f</uuid>\n", "");
    g_auto(GStrv) ids = ftmeta_domain_netdev_ids(sample, &error);
    g_autofree char *first_alias = variant(
        "<target dev='ft-tap0' managed='no'/>",
        "<target dev='ft-tap0' managed='no'/><alias name='ua-a'/>");
    g_auto(GStrv) ids2 = NULL;

    ck_assert_str_eq(name, "vm0");
    ck_assert_str_eq(uuid, "6f1d2f4e-3b5a-4c1e-9d0e-2a7b8c9d0e1f");
    ck_assert_ptr_null(ftmeta_domain_uuid(nouuid, &error));
    has(error->message, "<domain> has no <uuid>");
    /* libvirt's aliases: net0, the user alias, then net1 */
    ck_assert_str_eq(ids[0], "hostnet0");
    ck_assert_str_eq(ids[1], "hostua-uplink");
    ck_assert_str_eq(ids[2], "hostnet1");
    ck_assert_ptr_null(ids[3]);
    ids2 = ftmeta_domain_netdev_ids(first_alias, &error);
    ck_assert_str_eq(ids2[0], "hostua-a");
    ck_assert_str_eq(ids2[2], "hostnet0");
}
END_TEST

static void memory_is(const char *value_and_unit, guint64 want)
{
    g_autofree char *xml = variant("<memory unit='KiB'>262144</memory>",
                                   value_and_unit);
    g_autoptr(GError) error = NULL;
    guint64 got = ftmeta_domain_memory_bytes(xml, &error);

    ck_assert_msg(got == want, "%s: %" G_GUINT64_FORMAT " bytes, want %"
                  G_GUINT64_FORMAT " (%s)", value_and_unit, got, want,
                  error ? error->message : "");
}

static void memory_refused(const char *value_and_unit, const char *needle)
{
    g_autofree char *xml = variant("<memory unit='KiB'>262144</memory>",
                                   value_and_unit);
    g_autoptr(GError) error = NULL;

    ck_assert_uint_eq(ftmeta_domain_memory_bytes(xml, &error), 0);
    ck_assert_msg(error, "%s accepted", value_and_unit);
    has(error->message, needle);
}

START_TEST(domain_memory)
{
    const guint64 M = 1024 * 1024;

    memory_is("<memory unit='KiB'>262144</memory>", 256 * M);
    memory_is("<memory>262144</memory>", 256 * M);
    memory_is("<memory unit='k'>1024</memory>", M);
    memory_is("<memory unit='b'>1</memory>", M);           /* up to 1 MiB */
    memory_is("<memory unit='bytes'>1048577</memory>", 2 * M);
    memory_is("<memory unit='M'>300</memory>", 300 * M);
    memory_is("<memory unit='MiB'>300</memory>", 300 * M);
    memory_is("<memory unit='mib'>300</memory>", 300 * M);
    memory_is("<memory unit='G'>1</memory>", 1024 * M);
    memory_is("<memory unit='GiB'>4</memory>", 4096 * M);
    memory_is("<memory unit='T'>1</memory>", 1024 * 1024 * M);
    memory_is("<memory unit='KB'>1000</memory>", M);
    /* 10^9 bytes = 976562.5 KiB -> 976563 KiB -> 954 MiB */
    memory_is("<memory unit='MB'>1000</memory>", 954 * M);
    memory_is("<memory unit='GB'>1</memory>", 954 * M);
    memory_is("<memory unit='KiB'> 262144\n</memory>", 256 * M);

    memory_refused("<memory unit='XiB'>1</memory>",
                   "<memory unit=\"XiB\">1</memory>: unknown unit \"XiB\"");
    memory_refused("<memory unit='MBs'>1</memory>", "unknown unit \"MBs\"");
    memory_refused("<memory unit='KiB'>12x</memory>",
                   "<memory unit=\"KiB\">12x</memory>: not a size");
    memory_refused("<memory unit='KiB'>-1</memory>", "not a size");
    memory_refused("<memory unit='KiB'>0</memory>", "no memory");
    memory_refused("<memory unit='KiB'></memory>", "no memory");
    memory_refused("<memory unit='EiB'>16</memory>", "too large");
    memory_refused("<memory unit='KiB'>99999999999999999999999</memory>",
                   "not a size");
    memory_refused("<currentMemory unit='KiB'>1</currentMemory>",
                   "<domain> has no <memory>");
}
END_TEST

/* ---- enable, disable, standby -------------------------------------------- */

static char *enabled(const char *xml, const FtMeta *meta)
{
    g_autoptr(GError) error = NULL;
    char *out = ftmeta_domain_enable(xml, meta, &error);

    ck_assert_msg(out, "enable refused: %s", error ? error->message : "");
    return out;
}

static char *disabled(const char *xml)
{
    g_autoptr(GError) error = NULL;
    char *out = ftmeta_domain_disable(xml, &error);

    ck_assert_msg(out, "disable refused: %s", error ? error->message : "");
    return out;
}

#define RAM_ARGS \
    "<qemu:arg value=\"-object\"/>\n" \
    "    <qemu:arg value=\"memory-backend-ram,id=ft-ram,size=268435456\"/>\n" \
    "    <qemu:arg value=\"-machine\"/>\n" \
    "    <qemu:arg value=\"memory-backend=ft-ram\"/>\n"
#define FILTER_ARGS \
    "    <qemu:arg value=\"-object\"/>\n" \
    "    <qemu:arg value=\"filter-ft,id=ft-net0,netdev=hostnet0," \
    "queue=all\"/>\n" \
    "    <qemu:arg value=\"-object\"/>\n" \
    "    <qemu:arg value=\"filter-ft,id=ft-ua-uplink,netdev=hostua-uplink," \
    "queue=all\"/>\n" \
    "    <qemu:arg value=\"-object\"/>\n" \
    "    <qemu:arg value=\"filter-ft,id=ft-net1,netdev=hostnet1,queue=all\"/>\n"

START_TEST(enable_sample)
{
    g_autoptr(FtMeta) meta = sample_meta();
    g_autofree char *on = enabled(sample, meta);
    g_autofree char *twice = enabled(on, meta);
    g_autoptr(GError) error = NULL;
    g_autoptr(FtMeta) back = ftmeta_from_domain_xml(on, &error);

    /* the element, beside the other application's */
    ck_assert_msg(back && ftmeta_equal(back, meta), "%s", on);
    has(on, "<app:tag xmlns:app=\"http://example.org/app/1\">keep me"
        "</app:tag>\n    <ft:ft " NS " policy=\"protect\">\n"
        "      <ft:standby host=\"host-b\"/>");
    /* the user's arguments and env first, then ours, in this order */
    has(on, "<qemu:commandline>\n"
        "    <qemu:arg value=\"-global\"/>\n"
        "    <qemu:arg value=\"kvm-pit.lost_tick_policy=discard\"/>\n"
        "    <qemu:env name=\"QFT_USER\" value=\"1\"/>\n    " RAM_ARGS
        FILTER_ARGS "  </qemu:commandline>\n</domain>\n");
    /* every interface off vhost; a driver the user set keeps its queues */
    ck_assert_uint_eq(count(on, "<driver name=\"qemu\"/>"), 2);
    has(on, "<driver name=\"qemu\" queues=\"2\"/>");
    ck_assert_uint_eq(count(on, "<qemu:commandline>"), 1);
    ck_assert_uint_eq(count(on, "xmlns:qemu="), 1);
    /* enable twice == enable once */
    ck_assert_str_eq(on, twice);
}
END_TEST

START_TEST(enable_replaces_and_adds_what_is_missing)
{
    g_autoptr(FtMeta) meta = sample_meta();
    g_autoptr(FtMeta) notify = ftmeta_new(FTMETA_POLICY_NOTIFY);
    g_autofree char *on = enabled(sample, meta);
    g_autofree char *renotify = enabled(on, notify);
    g_autofree char *direct = enabled(sample, notify);
    g_autofree char *bare = NULL, *bare_on = NULL, *bare_twice = NULL;
    g_autofree char *other = NULL, *other_on = NULL, *old_bad = NULL;
    g_autofree char *old_bad_on = NULL, *no_md = NULL;
    g_autoptr(FtMeta) back = ftmeta_from_domain_xml(renotify, NULL);

    /* a new element replaces the old one: the same as enabling once */
    ck_assert(back && back->policy == FTMETA_POLICY_NOTIFY);
    ck_assert_str_eq(renotify, direct);

    /* no <metadata>, no qemu namespace, no <qemu:commandline> at all */
    no_md = sample_qemu_nics();
    replace(&no_md, "  <metadata>\n    <app:tag xmlns:app=\"http://"
            "example.org/app/1\">keep me</app:tag>\n  </metadata>\n", "");
    bare = disabled(no_md);
    replace(&bare, " " QEMU_NS, "");
    replace(&bare, "  <qemu:commandline>\n"
            "    <qemu:arg value=\"-global\"/>\n"
            "    <qemu:arg value=\"kvm-pit.lost_tick_policy=discard\"/>\n"
            "    <qemu:env name=\"QFT_USER\" value=\"1\"/>\n"
            "  </qemu:commandline>\n", "");
    lacks(bare, "qemu:");
    lacks(bare, "<metadata>");
    bare_on = enabled(bare, meta);
    has(bare_on, "<uuid>6f1d2f4e-3b5a-4c1e-9d0e-2a7b8c9d0e1f</uuid>\n"
        "  <metadata>\n    <ft:ft " NS " policy=\"protect\">");
    has(bare_on, "<domain " QEMU_NS " type=\"qemu\">");
    has(bare_on, "<qemu:commandline>\n    " RAM_ARGS FILTER_ARGS
        "  </qemu:commandline>\n</domain>\n");
    bare_twice = enabled(bare_on, meta);
    ck_assert_str_eq(bare_on, bare_twice);
    {
        /* disabled again: the same document as before */
        g_autofree char *off = disabled(bare_on);

        ck_assert_str_eq(off, bare);
    }

    /* the qemu namespace under another prefix is found and used */
    other = variant("xmlns:qemu=", "xmlns:q=");
    while (strstr(other, "qemu:"))
        replace(&other, "qemu:", "q:");
    other_on = enabled(other, meta);
    has(other_on, "<q:arg value=\"memory-backend=ft-ram\"/>");
    lacks(other_on, "qemu:");

    /* a wrong element of ours is what enable replaces */
    old_bad = variant("</app:tag>\n", "</app:tag>\n<ft:ft " NS
                      " policy=\"nope\"><ft:bogus/></ft:ft>\n");
    old_bad_on = enabled(old_bad, meta);
    ck_assert_str_eq(old_bad_on, on);
}
END_TEST

START_TEST(disable_sample)
{
    g_autoptr(FtMeta) meta = sample_meta();
    /* the sample as it is after enable: interfaces with name='qemu' */
    g_autofree char *qemu_nics = sample_qemu_nics();
    g_autofree char *plain = NULL, *on = NULL, *off = NULL, *off2 = NULL;
    g_autofree char *standby = NULL, *standby_off = NULL;
    g_autoptr(GError) error = NULL;

    plain = disabled(qemu_nics);    /* not FT: the same, re-indented */
    on = enabled(qemu_nics, meta);
    off = disabled(on);
    off2 = disabled(off);
    ck_assert_str_eq(off, plain);
    ck_assert_str_eq(off, off2);
    lacks(off, "ft-ram");
    lacks(off, "filter-ft");
    lacks(off, FTMETA_NS);
    has(off, "<app:tag");
    has(off, "<qemu:arg value=\"kvm-pit.lost_tick_policy=discard\"/>");
    has(off, "<qemu:env name=\"QFT_USER\" value=\"1\"/>");
    ck_assert_ptr_null(ftmeta_from_domain_xml(off, &error));
    ck_assert_ptr_null(error);

    /* a standby's XML disables the same way */
    standby = ftmeta_domain_standby(on, "/dev/shm/vm0.pool", 4096, &error);
    ck_assert_msg(standby, "%s", error ? error->message : "");
    standby_off = disabled(standby);
    ck_assert_str_eq(standby_off, plain);
}
END_TEST

START_TEST(standby_sample)
{
    g_autoptr(FtMeta) meta = sample_meta();
    g_autofree char *on = enabled(sample, meta);
    g_autoptr(GError) error = NULL;
    g_autofree char *sb = ftmeta_domain_standby(on, "/dev/shm/vm0.pool",
                                                1052672, &error);
    g_autofree char *sb2 = NULL, *back = NULL, *comma = NULL, *not_ft = NULL;
    g_autoptr(FtMeta) sbmeta = NULL;

    ck_assert_msg(sb, "%s", error ? error->message : "");
    has(sb, "<qemu:arg value=\"-object\"/>\n    <qemu:arg value=\""
        "memory-backend-file,id=ft-ram,size=268435456,"
        "mem-path=/dev/shm/vm0.pool,offset=1052672,share=off\"/>\n"
        "    <qemu:arg value=\"-machine\"/>\n"
        "    <qemu:arg value=\"memory-backend=ft-ram\"/>\n" FILTER_ARGS);
    lacks(sb, "memory-backend-ram");
    ck_assert_uint_eq(count(sb, "id=ft-ram"), 1);
    sbmeta = ftmeta_from_domain_xml(sb, &error);
    ck_assert(sbmeta && ftmeta_equal(sbmeta, meta));
    /* idempotent; enable turns the standby's XML back into the primary's */
    sb2 = ftmeta_domain_standby(sb, "/dev/shm/vm0.pool", 1052672, &error);
    ck_assert_str_eq(sb, sb2);
    back = enabled(sb, meta);
    ck_assert_str_eq(back, on);

    /* a comma in the path is doubled for QEMU's option parser */
    comma = ftmeta_domain_standby(on, "/dev/shm/a,b", 0, &error);
    has(comma, "mem-path=/dev/shm/a,,b,offset=0,share=off");

    ck_assert_ptr_null(ftmeta_domain_standby(on, "pool", 0, &error));
    ck_assert(g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_INVALID));
    has(error->message, "standby of domain 'vm0': pool path 'pool' is not an "
        "absolute path");
    g_clear_error(&error);
    ck_assert_ptr_null(ftmeta_domain_standby(on, NULL, 0, &error));
    has(error->message, "pool path '' is empty");
    g_clear_error(&error);
    not_ft = disabled(on);
    ck_assert_ptr_null(ftmeta_domain_standby(not_ft, "/dev/shm/p", 0, &error));
    ck_assert(g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_NOT_ENABLED));
    has(error->message, "standby of domain 'vm0': it has no FT metadata");
    g_clear_error(&error);
}
END_TEST

/* ---- what cannot be protected -------------------------------------------- */

/* The sample with FROM -> TO is refused by enable and check with every
 * needle, and with the domain named. */
static void cannot(const char *from, const char *to, const char *needle1,
                   const char *needle2)
{
    g_autofree char *xml = variant(from, to);
    g_autoptr(FtMeta) meta = sample_meta();
    g_autoptr(GError) error = NULL, check_error = NULL;
    g_autofree char *out = ftmeta_domain_enable(xml, meta, &error);

    ck_assert_msg(!out, "enabled: %s", xml);
    ck_assert_msg(g_error_matches(error, FTMETA_ERROR,
                                  FTMETA_ERROR_UNSUPPORTED),
                  "'%s': code %d", error->message, error->code);
    has(error->message, "domain 'vm0' cannot be made fault tolerant: ");
    has(error->message, needle1);
    if (needle2)
        has(error->message, needle2);
    ck_assert(!ftmeta_domain_check(xml, &check_error));
    ck_assert_str_eq(error->message, check_error->message);
}

START_TEST(refusals)
{
    g_autoptr(GError) error = NULL;

    ck_assert_msg(ftmeta_domain_check(sample, &error), "%s",
                  error ? error->message : "");
    cannot("<domain type='qemu'", "<domain type='xen'",
           "<domain type=\"xen\">: qemu-ft", "QEMU domains only");
    cannot("<domain type='qemu'", "<domain", "QEMU domains only", NULL);
    cannot("arch='x86_64'", "arch='aarch64'",
           "<os><type arch=\"aarch64\" machine=\"pc-i440fx-10.0\">",
           "x86 guests");
    cannot("      <readonly/>\n", "",
           "<disk type=\"file\" device=\"disk\"> (target vda): a writable disk",
           "does not yet put disks under ft-disk");
    cannot("<disk type='file' device='cdrom'>", "<disk type='file' "
           "device='floppy'>", "(target hdc): a writable disk", NULL);
    cannot("<interface type='ethernet'>", "<interface type='user'>",
           "<interface type=\"user\"> (mac 52:54:00:12:34:56): user-mode",
           "tap-based type");
    cannot("<interface type='ethernet'>", "<interface type='vhostuser'>",
           "<interface type=\"vhostuser\"> (mac 52:54:00:12:34:56): vhost-user",
           NULL);
    cannot("<interface type='ethernet'>", "<interface type='mcast'>",
           "interface type \"mcast\" is not supported", NULL);
    cannot("<interface type='ethernet'>", "<interface type='hostdev'>",
           "a passed-through NIC", NULL);
    cannot("<interface type='ethernet'>", "<interface type='vdpa'>",
           "vDPA", NULL);
    cannot("<model type='e1000'/>", "<model type='virtio'/>"
           "<driver name='vhost' queues='2'/>",
           "<interface type=\"bridge\"><driver name=\"vhost\" queues=\"2\"> "
           "(mac 52:54:00:12:34:57): vhost-net", "past filter-ft");
    cannot("  <vcpu", "  <memoryBacking><hugepages/></memoryBacking>\n  <vcpu",
           "<memoryBacking><hugepages>: hugepages", NULL);
    cannot("  <vcpu", "  <memoryBacking><source type='memfd'/>"
           "</memoryBacking>\n  <vcpu",
           "<memoryBacking><source type=\"memfd\">", "private RAM");
    cannot("  <vcpu", "  <memoryBacking><source type='file'/>"
           "</memoryBacking>\n  <vcpu",
           "<memoryBacking><source type=\"file\">", NULL);
    cannot("  <vcpu", "  <memoryBacking><access mode='shared'/>"
           "</memoryBacking>\n  <vcpu",
           "<memoryBacking><access mode=\"shared\">: shared guest RAM", NULL);
    cannot("  <vcpu", "  <memoryBacking><locked/></memoryBacking>\n  <vcpu",
           "<memoryBacking><locked>", NULL);
    cannot("  <vcpu", "  <memoryBacking><allocation mode='immediate'/>"
           "</memoryBacking>\n  <vcpu",
           "<memoryBacking><allocation mode=\"immediate\">",
           "allocated twice");
    cannot("  <vcpu", "  <cpu><numa><cell id='0' cpus='0' memory='262144'/>"
           "</numa></cpu>\n  <vcpu",
           "<cpu><numa>: NUMA memory nodes", NULL);
    cannot("  <memory", "  <maxMemory slots='4' unit='KiB'>1048576"
           "</maxMemory>\n  <memory",
           "<maxMemory slots=\"4\" unit=\"KiB\">: memory hot-plug", NULL);
    cannot("    <serial", "    <hostdev mode='subsystem' type='pci'/>\n"
           "    <serial", "<hostdev mode=\"subsystem\" type=\"pci\">: a "
           "passed-through host device", NULL);
    cannot("    <serial", "    <memory model='dimm'><target><size unit='KiB'>"
           "131072</size></target></memory>\n    <serial",
           "<memory model=\"dimm\">: a memory device (hot-plug)", NULL);
    cannot("    <serial", "    <shmem name='ivshmem0'/>\n    <serial",
           "<shmem name=\"ivshmem0\">: memory shared", NULL);
    cannot("    <serial", "    <filesystem type='mount'><source dir='/srv'/>"
           "<target dir='srv'/></filesystem>\n    <serial",
           "<filesystem type=\"mount\"> (target ", "writable shared "
           "directory");
    cannot("    <serial", "    <filesystem type='mount'><driver "
           "type='virtiofs'/><source dir='/srv'/><target dir='srv'/>"
           "<readonly/></filesystem>\n    <serial", "virtiofs", NULL);
    cannot("    <cmdline>", "    <nvram>/var/lib/nvram/vm0.fd</nvram>\n"
           "    <cmdline>", "<os><nvram>: a writable UEFI variable store",
           NULL);
    cannot("  <os>", "  <os firmware='efi'>",
           "<os firmware=\"efi\">: UEFI with a variable store", NULL);
    cannot("    <cmdline>", "    <loader readonly='no' type='pflash'>"
           "/usr/share/OVMF/OVMF_CODE.fd</loader>\n    <cmdline>",
           "<os><loader readonly=\"no\" type=\"pflash\">: a writable firmware",
           NULL);
    /* everything at once, in one error */
    {
        g_autofree char *xml = variant("      <readonly/>\n", "");
        g_autofree char *xml2 = subst(xml, "<model type='e1000'/>",
                                      "<driver name='vhost'/>");
        g_autoptr(FtMeta) meta = sample_meta();

        ck_assert_ptr_null(ftmeta_domain_enable(xml2, meta, &error));
        has(error->message, "(target vda): a writable disk");
        has(error->message, "; <interface type=\"bridge\"><driver "
            "name=\"vhost\"> (mac 52:54:00:12:34:57)");
        g_clear_error(&error);
    }
    /* allowed: a stateless UEFI, a read-only share, private anonymous RAM */
    {
        g_autofree char *a = variant("  <os>", "  <os firmware='efi'>");
        g_autofree char *b = subst(a, "    <cmdline>",
                                   "    <loader stateless='yes'/>\n"
                                   "    <cmdline>");
        g_autofree char *c = subst(b, "  <vcpu",
            "  <memoryBacking><source type='anonymous'/><nosharepages/>"
            "<access mode='private'/></memoryBacking>\n  <vcpu");
        g_autofree char *d = subst(c, "    <serial",
            "    <filesystem type='mount'><source dir='/srv'/>"
            "<target dir='srv'/><readonly/></filesystem>\n    <serial");
        g_autofree char *e = subst(d, "<domain type='qemu'",
                                   "<domain type='kvm'");

        ck_assert_msg(ftmeta_domain_check(e, &error), "%s",
                      error ? error->message : "");
    }
    /* an invalid element is refused before the domain is looked at */
    {
        g_autoptr(FtMeta) bad = ftmeta_new(FTMETA_POLICY_RESTART);

        ck_assert_ptr_null(ftmeta_domain_enable(sample, bad, &error));
        ck_assert(g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_INVALID));
        has(error->message, "policy restart needs");
        g_clear_error(&error);
    }
    /* an element of another version is not replaced */
    {
        g_autofree char *v2 = variant("</app:tag>\n", "</app:tag>\n<ft:ft "
                                      "xmlns:ft=\"urn:qemu-ft:domain:2\"/>\n");
        g_autoptr(FtMeta) meta = sample_meta();

        ck_assert_ptr_null(ftmeta_domain_enable(v2, meta, &error));
        ck_assert(g_error_matches(error, FTMETA_ERROR,
                                  FTMETA_ERROR_NAMESPACE));
        g_clear_error(&error);
    }
    ck_assert_ptr_null(ftmeta_domain_disable("<domain", &error));
    has(error->message, "domain XML: not well-formed XML");
}
END_TEST

/* FTMETA_TEST_OUT=DIR: the sample, enabled and standby XML for
 * virt-xml-validate (tests/unit/ftmeta-xml-validate.sh) */
START_TEST(write_samples)
{
    const char *dir = g_getenv("FTMETA_TEST_OUT");
    g_autoptr(FtMeta) meta = sample_meta();
    g_autofree char *on = enabled(sample, meta);
    g_autoptr(GError) error = NULL;
    g_autofree char *sb = ftmeta_domain_standby(on, "/dev/shm/vm0.pool",
                                                1052672, &error);
    g_autofree char *elem = ftmeta_to_xml_ns(meta);
    g_autofree char *bare = ftmeta_to_xml(meta);
    const struct { const char *name, *text; } files[] = {
        { "domain.xml", sample }, { "domain-ft.xml", on },
        { "domain-standby.xml", sb }, { "element.xml", elem },
        { "element-bare.xml", bare },
    };

    if (!dir)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i].name, NULL);

        ck_assert_msg(g_file_set_contents(path, files[i].text, -1, &error),
                      "%s", error ? error->message : "");
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ftmeta");
    TCase *el = tcase_create("element");
    TCase *dom = tcase_create("domain");

    tcase_add_test(el, element_good);
    tcase_add_test(el, element_as_libvirt_returns_it);
    tcase_add_test(el, element_bad_values);
    tcase_add_test(el, policy_names);
    tcase_add_test(el, round_trip);
    tcase_add_test(el, validate_built_in_code);
    tcase_add_test(dom, domain_metadata);
    tcase_add_test(dom, domain_names);
    tcase_add_test(dom, domain_memory);
    tcase_add_test(dom, enable_sample);
    tcase_add_test(dom, enable_replaces_and_adds_what_is_missing);
    tcase_add_test(dom, disable_sample);
    tcase_add_test(dom, standby_sample);
    tcase_add_test(dom, refusals);
    tcase_add_test(dom, write_samples);
    suite_add_tcase(s, el);
    suite_add_tcase(s, dom);
    return qft_check_run(s);
}
