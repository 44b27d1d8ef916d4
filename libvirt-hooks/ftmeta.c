/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FT element of a domain's <metadata> (docs/libvirt.md "The FT
 * element", schema docs/ft-metadata.rng):
 *
 *   <ft:ft xmlns:ft="urn:qemu-ft:domain:1" policy="protect">
 *     <ft:standby host="host-b"/>
 *     <ft:epoch min-ms="5" max-ms="20"/>
 *     <ft:pool dir="/dev/shm"/>
 *   </ft:ft>
 *
 * Parsed with libxml2; anything not in the schema is refused with an error
 * naming the element, the attribute and the value, so that a typo is never
 * silently ignored.
 */
#include <string.h>

#include <libxml/parser.h>

#include "ftmeta-private.h"

G_DEFINE_QUARK(ftmeta-error-quark, ftmeta_error)

#define VALUE_SHOWN_MAX 80

xmlDoc *ftmeta_xml_parse(const char *xml, const char *what, GError **error)
{
    xmlParserCtxt *ctxt;
    xmlDoc *doc;
    size_t len;

    if (!xml) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML, "%s: no XML given",
                    what);
        return NULL;
    }
    len = strlen(xml);
    if (len > G_MAXINT) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "%s: %zu bytes of XML is too long", what, len);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "%s: cannot create an XML parser", what);
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    /* an undeclared prefix is only a namespace error to libxml2 */
    if (!doc || !xmlDocGetRootElement(doc) || !ctxt->nsWellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strdup(e && e->message ? e->message
                                                        : "no element");

        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "%s: not well-formed XML: line %d: %s", what,
                    e ? e->line : 0, g_strstrip(msg));
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

static void append_qname(GString *s, const xmlNs *ns, const xmlChar *name)
{
    if (ns && ns->prefix)
        g_string_append_printf(s, "%s:", (const char *)ns->prefix);
    g_string_append(s, (const char *)name);
}

/* VALUE as an attribute value between double quotes, cut if long */
static void append_value(GString *s, const char *value)
{
    size_t n = 0;

    for (const char *p = value; *p; p++, n++) {
        if (n == VALUE_SHOWN_MAX) {
            g_string_append(s, "...");
            return;
        }
        switch (*p) {
        case '"':
            g_string_append(s, "&quot;");
            break;
        case '&':
            g_string_append(s, "&amp;");
            break;
        case '<':
            g_string_append(s, "&lt;");
            break;
        default:
            if ((unsigned char)*p < 0x20)
                g_string_append_printf(s, "&#%d;", *p);
            else
                g_string_append_c(s, *p);
        }
    }
}

char *ftmeta_xml_describe(const xmlNode *node)
{
    GString *s = g_string_new("<");

    append_qname(s, node->ns, node->name);
    for (const xmlAttr *a = node->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);

        g_string_append_c(s, ' ');
        append_qname(s, a->ns, a->name);
        g_string_append(s, "=\"");
        append_value(s, v ? (const char *)v : "");
        g_string_append_c(s, '"');
        xmlFree(v);
    }
    g_string_append_c(s, '>');
    return g_string_free(s, FALSE);
}

char *ftmeta_xml_prop(const xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(node, BAD_CAST name);
    char *copy = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return copy;
}

const char *ftmeta_path_problem(const char *path)
{
    g_auto(GStrv) parts = NULL;

    if (!path || !*path)
        return "is empty";
    if (path[0] != '/')
        return "is not an absolute path";
    if (strlen(path) >= 4096)
        return "is longer than 4095 bytes";
    if (!g_utf8_validate(path, -1, NULL))
        return "is not valid UTF-8";
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return "contains a control character";
    parts = g_strsplit(path, "/", -1);
    for (char **p = parts; *p; p++)
        if (!strcmp(*p, ".") || !strcmp(*p, ".."))
            return "has a '.' or '..' component";
    return NULL;
}

gboolean ftmeta_host_id_valid(const char *host)
{
    size_t n;

    if (!host)
        return FALSE;
    n = strlen(host);
    if (n < 1 || n > FTMETA_HOST_ID_MAX)
        return FALSE;
    for (const char *p = host; *p; p++)
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
            return FALSE;
    return TRUE;
}

static const char *const policy_names[] = {
    [FTMETA_POLICY_PROTECT] = "protect",
    [FTMETA_POLICY_RESTART] = "restart",
    [FTMETA_POLICY_NOTIFY] = "notify",
};

const char *ftmeta_policy_name(FtMetaPolicy policy)
{
    if ((guint)policy >= G_N_ELEMENTS(policy_names))
        return NULL;
    return policy_names[policy];
}

gboolean ftmeta_policy_from_name(const char *name, FtMetaPolicy *policy,
                                 GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++) {
        if (name && !strcmp(name, policy_names[i])) {
            *policy = (FtMetaPolicy)i;
            return TRUE;
        }
    }
    g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                "policy '%s' is not protect, restart or notify",
                name ? name : "");
    return FALSE;
}

FtMeta *ftmeta_new(FtMetaPolicy policy)
{
    FtMeta *meta = g_new0(FtMeta, 1);

    meta->policy = policy;
    meta->standby_hosts = g_new0(char *, 1);
    return meta;
}

void ftmeta_free(FtMeta *meta)
{
    if (!meta)
        return;
    g_strfreev(meta->standby_hosts);
    g_free(meta->pool_dir);
    g_free(meta);
}

FtMeta *ftmeta_copy(const FtMeta *meta)
{
    FtMeta *copy = g_new0(FtMeta, 1);

    *copy = *meta;
    copy->standby_hosts = meta->standby_hosts
        ? g_strdupv(meta->standby_hosts) : g_new0(char *, 1);
    copy->pool_dir = g_strdup(meta->pool_dir);
    return copy;
}

gboolean ftmeta_equal(const FtMeta *a, const FtMeta *b)
{
    const char *const empty[] = { NULL };
    const char *const *ha, *const *hb;

    if (!a || !b)
        return a == b;
    ha = a->standby_hosts ? (const char *const *)a->standby_hosts : empty;
    hb = b->standby_hosts ? (const char *const *)b->standby_hosts : empty;
    return a->policy == b->policy && g_strv_equal(ha, hb) &&
           a->epoch_min_ms == b->epoch_min_ms &&
           a->epoch_max_ms == b->epoch_max_ms &&
           g_strcmp0(a->pool_dir, b->pool_dir) == 0;
}

/* ---- parsing ---------------------------------------------------------- */

static gboolean invalid(GError **error, const char *what, const char *fmt,
                        ...) G_GNUC_PRINTF(3, 4);

static gboolean invalid(GError **error, const char *what, const char *fmt,
                        ...)
{
    g_autofree char *detail = NULL;
    va_list ap;

    va_start(ap, fmt);
    detail = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                "ft metadata: %s: %s", what, detail);
    return FALSE;
}

/* Every attribute of NODE is one of KNOWN (a comma-separated list). */
static gboolean check_attributes(const xmlNode *node, const char *what,
                                 const char *known, GError **error)
{
    g_auto(GStrv) names = g_strsplit(known, ",", -1);

    for (const xmlAttr *a = node->properties; a; a = a->next) {
        g_autoptr(GString) qname = g_string_new(NULL);

        if (!a->ns && g_strv_contains((const char *const *)names,
                                      (const char *)a->name))
            continue;
        append_qname(qname, a->ns, a->name);
        return invalid(error, what, "unknown attribute %s (%s takes %s)",
                       qname->str, (const char *)node->name,
                       *known ? known : "none");
    }
    return TRUE;
}

/* NODE has no element or text inside (comments are fine). */
static gboolean check_empty(const xmlNode *node, const char *what,
                            GError **error)
{
    for (const xmlNode *c = node->children; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
            continue;
        if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c))
            continue;
        return invalid(error, what, "takes no content");
    }
    return TRUE;
}

/* "5" -> 5: digits only, 1..FTMETA_EPOCH_MS_MAX */
static gboolean parse_ms(const xmlNode *node, const char *what,
                         const char *name, guint *ms, GError **error)
{
    g_autofree char *v = ftmeta_xml_prop(node, name);
    guint64 n = 0;
    gboolean ok = v && *v && strlen(v) <= 5;

    for (const char *p = v; ok && *p; p++) {
        ok = g_ascii_isdigit(*p);
        n = n * 10 + (guint64)(*p - '0');
    }
    if (!v) {
        *ms = 0;
        return TRUE;
    }
    if (!ok || n < 1 || n > FTMETA_EPOCH_MS_MAX)
        return invalid(error, what,
                       "%s \"%s\" is not a whole number of milliseconds "
                       "in 1..%u", name, v, FTMETA_EPOCH_MS_MAX);
    *ms = (guint)n;
    return TRUE;
}

static gboolean parse_standby(const xmlNode *node, const char *what,
                              GPtrArray *hosts, GError **error)
{
    g_autofree char *host = ftmeta_xml_prop(node, "host");

    if (!check_attributes(node, what, "host", error) ||
        !check_empty(node, what, error))
        return FALSE;
    if (!host)
        return invalid(error, what, "attribute host is missing");
    if (!ftmeta_host_id_valid(host))
        return invalid(error, what,
                       "host \"%s\" is not a host id (1 to %d of "
                       "A-Z a-z 0-9 _ . -)", host, FTMETA_HOST_ID_MAX);
    for (guint i = 0; i < hosts->len; i++)
        if (!strcmp(hosts->pdata[i], host))
            return invalid(error, what, "host \"%s\" is listed twice",
                           host);
    if (hosts->len == FTMETA_MAX_STANDBYS)
        return invalid(error, what, "more than %d standby hosts",
                       FTMETA_MAX_STANDBYS);
    g_ptr_array_add(hosts, g_steal_pointer(&host));
    return TRUE;
}

static gboolean parse_epoch(const xmlNode *node, const char *what,
                            FtMeta *meta, GError **error)
{
    if (!check_attributes(node, what, "min-ms,max-ms", error) ||
        !check_empty(node, what, error) ||
        !parse_ms(node, what, "min-ms", &meta->epoch_min_ms, error) ||
        !parse_ms(node, what, "max-ms", &meta->epoch_max_ms, error))
        return FALSE;
    if (!meta->epoch_min_ms && !meta->epoch_max_ms)
        return invalid(error, what,
                       "needs min-ms or max-ms (or leave the element out)");
    if (meta->epoch_min_ms && meta->epoch_max_ms &&
        meta->epoch_min_ms > meta->epoch_max_ms)
        return invalid(error, what, "min-ms must not exceed max-ms");
    return TRUE;
}

static gboolean parse_pool(const xmlNode *node, const char *what,
                           FtMeta *meta, GError **error)
{
    g_autofree char *dir = ftmeta_xml_prop(node, "dir");
    const char *problem;

    if (!check_attributes(node, what, "dir", error) ||
        !check_empty(node, what, error))
        return FALSE;
    if (!dir)
        return invalid(error, what, "attribute dir is missing");
    problem = ftmeta_path_problem(dir);
    if (problem)
        return invalid(error, what, "dir %s", problem);
    meta->pool_dir = g_steal_pointer(&dir);
    return TRUE;
}

static gboolean same_ns(const xmlNode *a, const xmlNode *b)
{
    if (!a->ns || !b->ns)
        return a->ns == b->ns;
    return xmlStrEqual(a->ns->href, b->ns->href);
}

FtMeta *ftmeta_from_node(const xmlNode *root, GError **error)
{
    g_autofree char *what = ftmeta_xml_describe(root);
    g_autofree char *policy = NULL;
    g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(FtMeta) meta = ftmeta_new(FTMETA_POLICY_PROTECT);
    gboolean have_epoch = FALSE, have_pool = FALSE;

    if (root->ns && !xmlStrEqual(root->ns->href, BAD_CAST FTMETA_NS)) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_NAMESPACE,
                    "ft metadata: %s is in namespace \"%s\"; this qemu-ft "
                    "reads namespace \"%s\" (xmlns:%s=\"%s\")", what,
                    (const char *)root->ns->href, FTMETA_NS, FTMETA_PREFIX,
                    FTMETA_NS);
        return NULL;
    }
    if (!xmlStrEqual(root->name, BAD_CAST "ft")) {
        invalid(error, what, "not the FT element <%s:ft xmlns:%s=\"%s\">",
                FTMETA_PREFIX, FTMETA_PREFIX, FTMETA_NS);
        return NULL;
    }
    if (!check_attributes(root, what, "policy", error))
        return NULL;
    policy = ftmeta_xml_prop(root, "policy");
    if (policy && !ftmeta_policy_from_name(policy, &meta->policy, NULL)) {
        invalid(error, what, "policy \"%s\" is not protect, restart or "
                "notify", policy);
        return NULL;
    }

    for (const xmlNode *c = root->children; c; c = c->next) {
        g_autofree char *cwhat = NULL;
        gboolean ok;

        if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE ||
            (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)))
            continue;
        if (c->type != XML_ELEMENT_NODE) {
            g_autofree char *text = (char *)xmlNodeGetContent(c);

            invalid(error, what, "text \"%.40s\" inside: it takes only "
                    "elements", text ? g_strstrip(text) : "");
            return NULL;
        }
        cwhat = ftmeta_xml_describe(c);
        if (!same_ns(c, root)) {
            invalid(error, cwhat, "unknown element (not in namespace "
                    "\"%s\")", FTMETA_NS);
            return NULL;
        }
        if (xmlStrEqual(c->name, BAD_CAST "standby")) {
            ok = parse_standby(c, cwhat, hosts, error);
        } else if (xmlStrEqual(c->name, BAD_CAST "epoch")) {
            ok = have_epoch ? invalid(error, cwhat, "a second epoch element")
                            : parse_epoch(c, cwhat, meta, error);
            have_epoch = TRUE;
        } else if (xmlStrEqual(c->name, BAD_CAST "pool")) {
            ok = have_pool ? invalid(error, cwhat, "a second pool element")
                           : parse_pool(c, cwhat, meta, error);
            have_pool = TRUE;
        } else {
            ok = invalid(error, cwhat, "unknown element (ft takes standby, "
                         "epoch and pool)");
        }
        if (!ok)
            return NULL;
    }

    if (meta->policy != FTMETA_POLICY_NOTIFY && hosts->len == 0) {
        invalid(error, what, "policy %s needs at least one <%s:standby "
                "host=\"...\"/>", ftmeta_policy_name(meta->policy),
                FTMETA_PREFIX);
        return NULL;
    }
    g_strfreev(meta->standby_hosts);
    g_ptr_array_add(hosts, NULL);
    meta->standby_hosts = (char **)g_ptr_array_free(g_steal_pointer(&hosts),
                                                    FALSE);
    return g_steal_pointer(&meta);
}

FtMeta *ftmeta_parse(const char *element_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = ftmeta_xml_parse(element_xml, "ft metadata",
                                             error);

    if (!doc)
        return NULL;
    return ftmeta_from_node(xmlDocGetRootElement(doc), error);
}

/* ---- writing ---------------------------------------------------------- */

xmlNode *ftmeta_to_node(const FtMeta *meta, xmlDoc *doc, gboolean with_ns)
{
    xmlNode *root = xmlNewDocNode(doc, NULL, BAD_CAST "ft", NULL);
    xmlNs *ns = with_ns ? xmlNewNs(root, BAD_CAST FTMETA_NS,
                                   BAD_CAST FTMETA_PREFIX) : NULL;
    const char *policy = ftmeta_policy_name(meta->policy);

    xmlSetNs(root, ns);
    xmlNewProp(root, BAD_CAST "policy", BAD_CAST(policy ? policy : "?"));
    for (char **h = meta->standby_hosts; h && *h; h++) {
        xmlNode *c = xmlNewChild(root, ns, BAD_CAST "standby", NULL);

        xmlNewProp(c, BAD_CAST "host", BAD_CAST *h);
    }
    if (meta->epoch_min_ms || meta->epoch_max_ms) {
        xmlNode *c = xmlNewChild(root, ns, BAD_CAST "epoch", NULL);
        char num[16];

        if (meta->epoch_min_ms) {
            g_snprintf(num, sizeof(num), "%u", meta->epoch_min_ms);
            xmlNewProp(c, BAD_CAST "min-ms", BAD_CAST num);
        }
        if (meta->epoch_max_ms) {
            g_snprintf(num, sizeof(num), "%u", meta->epoch_max_ms);
            xmlNewProp(c, BAD_CAST "max-ms", BAD_CAST num);
        }
    }
    if (meta->pool_dir) {
        xmlNode *c = xmlNewChild(root, ns, BAD_CAST "pool", NULL);

        xmlNewProp(c, BAD_CAST "dir", BAD_CAST meta->pool_dir);
    }
    return root;
}

static char *to_xml(const FtMeta *meta, gboolean with_ns)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc(BAD_CAST "1.0");
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();
    xmlNode *root = ftmeta_to_node(meta, doc, with_ns);

    xmlDocSetRootElement(doc, root);
    /* one line: libvirt keeps the blanks of what virDomainSetMetadata
     * gets, so indentation would end up inside the domain XML */
    xmlNodeDump(buf, doc, root, 0, 0);
    return g_strdup((const char *)xmlBufferContent(buf));
}

/* virDomainSetMetadata(VIR_DOMAIN_METADATA_ELEMENT, xml, key, uri) adds the
 * namespace itself (virXMLInjectNamespace: xmlNewNs(key, uri) on the
 * element), and fails with "failed to create a new XML namespace" if the
 * element already declares prefix KEY: so it gets the element without. */
char *ftmeta_to_xml(const FtMeta *meta)
{
    return to_xml(meta, FALSE);
}

char *ftmeta_to_xml_ns(const FtMeta *meta)
{
    return to_xml(meta, TRUE);
}

gboolean ftmeta_validate(const FtMeta *meta, GError **error)
{
    g_autofree char *xml = NULL;
    g_autoptr(FtMeta) back = NULL;
    const char *problem;

    if (!meta) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                    "ft metadata: none given");
        return FALSE;
    }
    if (!ftmeta_policy_name(meta->policy)) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                    "ft metadata: policy %d is not protect, restart or "
                    "notify", (int)meta->policy);
        return FALSE;
    }
    /* what XML cannot carry first; then the one set of rules, ftmeta_parse */
    for (char **h = meta->standby_hosts; h && *h; h++) {
        if (!ftmeta_host_id_valid(*h)) {
            g_autoptr(GString) s = g_string_new(NULL);

            append_value(s, *h);
            g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                        "ft metadata: <%s:standby host=\"%s\">: host \"%s\" "
                        "is not a host id (1 to %d of A-Z a-z 0-9 _ . -)",
                        FTMETA_PREFIX, s->str, s->str, FTMETA_HOST_ID_MAX);
            return FALSE;
        }
    }
    if (meta->pool_dir && (problem = ftmeta_path_problem(meta->pool_dir))) {
        g_autoptr(GString) s = g_string_new(NULL);

        append_value(s, meta->pool_dir);
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                    "ft metadata: <%s:pool dir=\"%s\">: dir %s",
                    FTMETA_PREFIX, s->str, problem);
        return FALSE;
    }
    xml = ftmeta_to_xml_ns(meta);
    back = ftmeta_parse(xml, error);
    return back != NULL;
}
