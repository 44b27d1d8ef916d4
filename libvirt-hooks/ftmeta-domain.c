/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domain XML transformations of ftmeta.h (docs/libvirt.md "What
 * ft-enable changes"): ft-enable adds the FT element, the ft-ram RAM
 * backend and a filter-ft per interface through <qemu:commandline>, and
 * forces the interfaces off vhost; ft-disable takes that out again; the
 * standby's XML maps ft-ram from the pool. Before changing anything,
 * everything a checkpoint cannot cover is refused, all of it in one error.
 */
#include <string.h>

#include "ftmeta-private.h"

#define MIB (G_GUINT64_CONSTANT(1) << 20)

/* The QEMU argument values ft-enable and ft-standby write (and only those
 * are taken out again): a backend or filter id of ours comes right after
 * the type. */
#define RAM_OBJECT_PREFIX "memory-backend-ram,id=" FTMETA_RAM_ID ","
#define FILE_OBJECT_PREFIX "memory-backend-file,id=" FTMETA_RAM_ID ","
#define MACHINE_VALUE "memory-backend=" FTMETA_RAM_ID
#define FILTER_PREFIX "filter-ft,id=ft-"

static gboolean is_element(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !n->ns &&
           xmlStrEqual(n->name, BAD_CAST name);
}

static gboolean in_ns(const xmlNode *n, const char *href)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           xmlStrEqual(n->ns->href, BAD_CAST href);
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNode *c = parent->children; c; c = c->next)
        if (is_element(c, name))
            return c;
    return NULL;
}

static gboolean prop_is(const xmlNode *n, const char *name, const char *value)
{
    g_autofree char *v = n ? ftmeta_xml_prop(n, name) : NULL;

    return v && !strcmp(v, value);
}

static char *text_of(const xmlNode *n)
{
    xmlChar *t = xmlNodeGetContent(n);
    char *s = g_strstrip(g_strdup(t ? (const char *)t : ""));

    xmlFree(t);
    return s;
}

static xmlDoc *domain_parse(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = ftmeta_xml_parse(xml, "domain XML", error);
    xmlNode *root;

    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!is_element(root, "domain")) {
        g_autofree char *what = ftmeta_xml_describe(root);

        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "domain XML: the root element is %s, not <domain>", what);
        return NULL;
    }
    return g_steal_pointer(&doc);
}

static char *dump(xmlDoc *doc)
{
    g_autoptr(xmlBuffer) buf = xmlBufferCreate();

    xmlNodeDump(buf, doc, xmlDocGetRootElement(doc), 0, 1);
    return g_strdup_printf("%s\n", (const char *)xmlBufferContent(buf));
}

static const char *domain_name_of(const xmlNode *dom, char **to_free)
{
    xmlNode *n = child(dom, "name");

    *to_free = n ? text_of(n) : NULL;
    return *to_free && **to_free ? *to_free : "(unnamed)";
}

/* ---- names, memory, netdevs ------------------------------------------- */

static char *domain_text(const char *domain_xml, const char *name,
                         GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    xmlNode *n;
    g_autofree char *t = NULL;

    if (!doc)
        return NULL;
    n = child(xmlDocGetRootElement(doc), name);
    t = n ? text_of(n) : NULL;
    if (!t || !*t) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "domain XML: <domain> has no <%s>", name);
        return NULL;
    }
    return g_steal_pointer(&t);
}

char *ftmeta_domain_name(const char *domain_xml, GError **error)
{
    return domain_text(domain_xml, "name", error);
}

char *ftmeta_domain_uuid(const char *domain_xml, GError **error)
{
    return domain_text(domain_xml, "uuid", error);
}

/* libvirt's scaled integer units (virScaleInteger): case-insensitive
 * b/byte/bytes; k, KiB (1024) and KB (1000), and so on up to E. */
static guint64 unit_scale(const char *unit)
{
    static const char order[] = "kmgtpe";
    const char *at;
    guint64 base, scale = 1;

    if (!unit || !*unit)
        return 1024;    /* <memory>'s default unit: KiB */
    if (!g_ascii_strcasecmp(unit, "b") || !g_ascii_strcasecmp(unit, "byte") ||
        !g_ascii_strcasecmp(unit, "bytes"))
        return 1;
    if (!unit[1] || !g_ascii_strcasecmp(unit + 1, "iB"))
        base = 1024;
    else if (g_ascii_tolower(unit[1]) == 'b' && !unit[2])
        base = 1000;
    else
        return 0;
    at = strchr(order, g_ascii_tolower(unit[0]));
    if (!at || !unit[0])
        return 0;
    for (const char *p = order; p <= at; p++)
        scale *= base;
    return scale;
}

static gboolean memory_of(const xmlNode *dom, guint64 *bytes, GError **error)
{
    xmlNode *mem = child(dom, "memory");
    g_autofree char *what = NULL, *text = NULL, *unit = NULL;
    guint64 n = 0, scale, kib;

    if (!mem) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "domain XML: <domain> has no <memory>");
        return FALSE;
    }
    what = ftmeta_xml_describe(mem);
    text = text_of(mem);
    unit = ftmeta_xml_prop(mem, "unit");
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p) || n > (G_MAXUINT64 - 9) / 10) {
            g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                        "domain XML: %s%s</memory>: not a size", what, text);
            return FALSE;
        }
        n = n * 10 + (guint64)(*p - '0');
    }
    scale = unit_scale(unit);
    if (!scale) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "domain XML: %s%s</memory>: unknown unit \"%s\"", what,
                    text, unit);
        return FALSE;
    }
    if (!*text || n == 0 || n > G_MAXUINT64 / scale / 2) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_XML,
                    "domain XML: %s%s</memory>: %s", what, text,
                    *text && n ? "too large" : "no memory");
        return FALSE;
    }
    /* libvirt keeps KiB and gives QEMU the size rounded up to whole MiB
     * (qemuDomainAlignMemorySizes, x86); QEMU wants the backend that size */
    kib = (n * scale + 1023) / 1024;
    *bytes = (kib + 1023) / 1024 * MIB;
    return TRUE;
}

guint64 ftmeta_domain_memory_bytes(const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    guint64 bytes = 0;

    if (!doc || !memory_of(xmlDocGetRootElement(doc), &bytes, error))
        return 0;
    return bytes;
}

static GPtrArray *interfaces_of(const xmlNode *dom)
{
    GPtrArray *ifaces = g_ptr_array_new();
    xmlNode *devices = child(dom, "devices");

    for (xmlNode *c = devices ? devices->children : NULL; c; c = c->next)
        if (is_element(c, "interface"))
            g_ptr_array_add(ifaces, c);
    return ifaces;
}

static gboolean has_netdev(const xmlNode *iface)
{
    g_autofree char *type = ftmeta_xml_prop(iface, "type");

    return !type || strcmp(type, "hostdev") != 0;
}

/* The device alias libvirt gives each interface that has a netdev
 * (qemuAssignDeviceNetAlias): a user alias (<alias name='ua-...'/>) as it
 * is, otherwise net<N>, N one above the highest net<N> given so far. */
static GPtrArray *net_aliases(const xmlNode *dom)
{
    g_autoptr(GPtrArray) ifaces = interfaces_of(dom);
    GPtrArray *aliases = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < ifaces->len; i++) {
        xmlNode *alias = child(ifaces->pdata[i], "alias");

        g_ptr_array_add(aliases, alias ? ftmeta_xml_prop(alias, "name") : NULL);
    }
    for (guint i = 0; i < ifaces->len; i++) {
        guint64 next = 0;

        if (aliases->pdata[i] || !has_netdev(ifaces->pdata[i]))
            continue;
        for (guint j = 0; j < ifaces->len; j++) {
            const char *a = aliases->pdata[j];
            guint64 k;

            if (a && g_str_has_prefix(a, "net") &&
                g_ascii_string_to_unsigned(a + 3, 10, 0, G_MAXINT, &k, NULL) &&
                k >= next)
                next = k + 1;
        }
        aliases->pdata[i] = g_strdup_printf("net%" G_GUINT64_FORMAT, next);
    }
    for (guint i = ifaces->len; i-- > 0;)
        if (!has_netdev(ifaces->pdata[i]))
            g_ptr_array_remove_index(aliases, i);
    return aliases;
}

char **ftmeta_domain_netdev_ids(const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    g_autoptr(GPtrArray) aliases = NULL;
    GPtrArray *ids;

    if (!doc)
        return NULL;
    aliases = net_aliases(xmlDocGetRootElement(doc));
    ids = g_ptr_array_new();
    for (guint i = 0; i < aliases->len; i++)
        g_ptr_array_add(ids, g_strconcat("host", aliases->pdata[i], NULL));
    g_ptr_array_add(ids, NULL);
    return (char **)g_ptr_array_free(ids, FALSE);
}

/* ---- what cannot be protected ------------------------------------------- */

static void refuse(GPtrArray *why, const xmlNode *outer, const xmlNode *node,
                   const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* "<outer><node> (id): reason" */
static void refuse(GPtrArray *why, const xmlNode *outer, const xmlNode *node,
                   const char *fmt, ...)
{
    g_autofree char *o = outer ? ftmeta_xml_describe(outer) : g_strdup("");
    g_autofree char *n = ftmeta_xml_describe(node);
    g_autofree char *reason = NULL;
    va_list ap;

    va_start(ap, fmt);
    reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(why, g_strdup_printf("%s%s%s", o, n, reason));
}

/* " (target vda)", " (mac 52:54:00:...)": which device of several */
static char *device_id(const xmlNode *dev)
{
    xmlNode *target = child(dev, "target"), *mac = child(dev, "mac");
    g_autofree char *t = target ? ftmeta_xml_prop(target, "dev") : NULL;
    g_autofree char *dir = target ? ftmeta_xml_prop(target, "dir") : NULL;
    g_autofree char *m = mac ? ftmeta_xml_prop(mac, "address") : NULL;

    if (is_element(dev, "interface") && m)
        return g_strdup_printf(" (mac %s)", m);
    if (t || dir)
        return g_strdup_printf(" (target %s)", t ? t : dir);
    return g_strdup("");
}

static void check_memory(GPtrArray *why, const xmlNode *dom)
{
    xmlNode *mb = child(dom, "memoryBacking");
    xmlNode *max = child(dom, "maxMemory");
    xmlNode *numa = child(child(dom, "cpu"), "numa");

    if (max)
        refuse(why, NULL, max, ": memory hot-plug: a hot-plugged DIMM is RAM "
               "outside " FTMETA_RAM_ID ", which no checkpoint covers");
    if (numa && child(numa, "cell"))
        refuse(why, child(dom, "cpu"), numa, ": NUMA memory nodes give each "
               "node its own RAM backend; FT maps one, " FTMETA_RAM_ID);
    for (xmlNode *n = mb ? mb->children : NULL; n; n = n->next) {
        if (is_element(n, "hugepages"))
            refuse(why, mb, n, ": hugepages: " FTMETA_RAM_ID " is ordinary "
                   "RAM on the primary and the pool's base image, mapped "
                   "copy-on-write, on the standby");
        else if (is_element(n, "source") && !prop_is(n, "type", "anonymous"))
            refuse(why, mb, n, ": file or memfd guest RAM is shared with other "
                   "processes, which change it behind QEMU's dirty log; "
                   FTMETA_RAM_ID " is private RAM");
        else if (is_element(n, "access") && prop_is(n, "mode", "shared"))
            refuse(why, mb, n, ": shared guest RAM changes behind QEMU's dirty "
                   "log (vhost-user, virtiofs); " FTMETA_RAM_ID " is private");
        else if (is_element(n, "locked"))
            refuse(why, mb, n, ": locking all guest memory would fault in the "
                   "standby's private copy of the whole pool image (and "
                   "libvirt's own RAM backend, which " FTMETA_RAM_ID
                   " replaces)");
        else if (is_element(n, "allocation") &&
                 prop_is(n, "mode", "immediate"))
            refuse(why, mb, n, ": libvirt would preallocate its own RAM "
                   "backend, which " FTMETA_RAM_ID " replaces: the guest RAM "
                   "would be allocated twice");
    }
}

static void check_os(GPtrArray *why, const xmlNode *dom)
{
    xmlNode *os = child(dom, "os");
    xmlNode *type = child(os, "type"), *loader = child(os, "loader");
    xmlNode *nvram = child(os, "nvram");
    g_autofree char *arch = type ? ftmeta_xml_prop(type, "arch") : NULL;

    if (arch && strcmp(arch, "x86_64") && strcmp(arch, "i686"))
        refuse(why, os, type, ": qemu-ft protects x86 guests (x86_64, i686) "
               "only");
    if (nvram)
        refuse(why, os, nvram, ": a writable UEFI variable store (pflash) is "
               "a writable disk outside ft-disk; use a stateless loader "
               "(<loader stateless='yes'>) or BIOS");
    else if (prop_is(os, "firmware", "efi") &&
             !prop_is(loader, "stateless", "yes"))
        refuse(why, NULL, os, ": UEFI with a variable store (libvirt adds a "
               "writable <nvram> pflash outside ft-disk); use "
               "<loader stateless='yes'> or BIOS");
    if (loader && prop_is(loader, "readonly", "no"))
        refuse(why, os, loader, ": a writable firmware flash is a writable "
               "disk outside ft-disk");
}

static void check_interface(GPtrArray *why, const xmlNode *iface)
{
    g_autofree char *type = ftmeta_xml_prop(iface, "type");
    g_autofree char *id = device_id(iface);
    xmlNode *driver = child(iface, "driver");
    const char *t = type ? type : "";

    if (!strcmp(t, "vhostuser"))
        refuse(why, NULL, iface, "%s: vhost-user moves the packets in another "
               "process, where filter-ft cannot hold output until its epoch "
               "commits", id);
    else if (!strcmp(t, "vdpa"))
        refuse(why, NULL, iface, "%s: vDPA moves the packets in hardware, "
               "past filter-ft", id);
    else if (!strcmp(t, "hostdev"))
        refuse(why, NULL, iface, "%s: a passed-through NIC: its state is in no "
               "checkpoint and its packets pass no filter-ft", id);
    else if (!strcmp(t, "user"))
        refuse(why, NULL, iface, "%s: user-mode networking keeps the guest's "
               "connections in QEMU or passt, outside any checkpoint; use a "
               "tap-based type (ethernet, bridge, network, direct)", id);
    else if (strcmp(t, "ethernet") && strcmp(t, "bridge") &&
             strcmp(t, "network") && strcmp(t, "direct"))
        refuse(why, NULL, iface, "%s: interface type \"%s\" is not supported: "
               "qemu-ft protects tap-based interfaces (ethernet, bridge, "
               "network, direct)", id, t);
    else if (driver && prop_is(driver, "name", "vhost"))
        refuse(why, iface, driver, "%s: vhost-net moves the packets in the "
               "kernel, past filter-ft, which must hold every output packet "
               "until its epoch commits; drop name='vhost' (ft-enable sets "
               "name='qemu')", id);
}

static void check_devices(GPtrArray *why, const xmlNode *dom)
{
    xmlNode *devices = child(dom, "devices");

    for (xmlNode *d = devices ? devices->children : NULL; d; d = d->next) {
        g_autofree char *id = NULL;

        if (d->type != XML_ELEMENT_NODE)
            continue;
        id = device_id(d);
        if (is_element(d, "disk")) {
            if (!prop_is(d, "device", "cdrom") && !child(d, "readonly"))
                refuse(why, NULL, d, "%s: a writable disk: qemu-ft under "
                       "libvirt does not yet put disks under ft-disk, so the "
                       "disk would keep writes of epochs that never commit; "
                       "make it <readonly/> or detach it", id);
        } else if (is_element(d, "interface")) {
            check_interface(why, d);
        } else if (is_element(d, "filesystem")) {
            if (prop_is(child(d, "driver"), "type", "virtiofs"))
                refuse(why, NULL, d, "%s: virtiofs is vhost-user and needs "
                       "shared guest RAM", id);
            else if (!child(d, "readonly"))
                refuse(why, NULL, d, "%s: a writable shared directory: its "
                       "writes reach the host at once, outside any epoch; "
                       "make it <readonly/>", id);
        } else if (is_element(d, "hostdev")) {
            refuse(why, NULL, d, "%s: a passed-through host device: its state "
                   "is in no checkpoint (and it blocks migration)", id);
        } else if (is_element(d, "memory")) {
            refuse(why, NULL, d, "%s: a memory device (hot-plug) is RAM "
                   "outside " FTMETA_RAM_ID, id);
        } else if (is_element(d, "shmem")) {
            refuse(why, NULL, d, "%s: memory shared with other processes is "
                   "in no checkpoint", id);
        }
    }
}

/* NULL if the domain can be protected, else everything that stops it. */
static char *problems_of(const xmlNode *dom)
{
    g_autoptr(GPtrArray) why = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *type = ftmeta_xml_prop(dom, "type");

    if (!type || (strcmp(type, "kvm") && strcmp(type, "qemu")))
        refuse(why, NULL, dom, ": qemu-ft protects QEMU domains only (type "
               "'kvm' or 'qemu')");
    check_os(why, dom);
    check_memory(why, dom);
    check_devices(why, dom);
    if (!why->len)
        return NULL;
    g_ptr_array_add(why, NULL);
    return g_strjoinv("; ", (char **)why->pdata);
}

static gboolean check_doc(const xmlNode *dom, GError **error)
{
    g_autofree char *problems = problems_of(dom);
    g_autofree char *name = NULL;
    guint64 bytes;

    if (problems) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_UNSUPPORTED,
                    "domain '%s' cannot be made fault tolerant: %s",
                    domain_name_of(dom, &name), problems);
        return FALSE;
    }
    return memory_of(dom, &bytes, error);
}

gboolean ftmeta_domain_check(const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);

    return doc && check_doc(xmlDocGetRootElement(doc), error);
}

/* ---- the FT element in <metadata> ------------------------------------- */

/* Our element, or NULL (error unset) if there is none. A namespace-less
 * <ft> (libvirt drops it) or one of another urn:qemu-ft: version is an
 * error: it is meant for us, so it must not be ignored. */
static gboolean find_element(const xmlNode *dom, xmlNode **found,
                             GError **error)
{
    xmlNode *md = child(dom, "metadata");

    *found = NULL;
    for (xmlNode *c = md ? md->children : NULL; c; c = c->next) {
        g_autofree char *what = NULL;

        if (c->type != XML_ELEMENT_NODE)
            continue;
        what = ftmeta_xml_describe(c);
        if (in_ns(c, FTMETA_NS)) {
            if (*found) {
                g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                            "ft metadata: %s: a second element in namespace "
                            "\"%s\" (libvirt keeps only the first)", what,
                            FTMETA_NS);
                return FALSE;
            }
            *found = c;
        } else if (c->ns && c->ns->href &&
                   g_str_has_prefix((const char *)c->ns->href,
                                    "urn:qemu-ft:")) {
            g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_NAMESPACE,
                        "ft metadata: %s is in namespace \"%s\"; this "
                        "qemu-ft reads namespace \"%s\"", what,
                        (const char *)c->ns->href, FTMETA_NS);
            return FALSE;
        } else if (!c->ns && xmlStrEqual(c->name, BAD_CAST "ft")) {
            g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                        "ft metadata: %s in <metadata> has no namespace "
                        "(libvirt drops it): write <%s:ft xmlns:%s=\"%s\">",
                        what, FTMETA_PREFIX, FTMETA_PREFIX, FTMETA_NS);
            return FALSE;
        }
    }
    return TRUE;
}

FtMeta *ftmeta_from_domain_xml(const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    xmlNode *el;

    if (!doc || !find_element(xmlDocGetRootElement(doc), &el, error) || !el)
        return NULL;
    return ftmeta_from_node(el, error);
}

/* ---- taking ours out, putting ours in ---------------------------------- */

static gboolean ours(const char *opt, const char *value)
{
    if (!opt || !value)
        return FALSE;
    if (!strcmp(opt, "-machine"))
        return !strcmp(value, MACHINE_VALUE);
    if (!strcmp(opt, "-object"))
        return g_str_has_prefix(value, RAM_OBJECT_PREFIX) ||
               g_str_has_prefix(value, FILE_OBJECT_PREFIX) ||
               g_str_has_prefix(value, FILTER_PREFIX "net") ||
               g_str_has_prefix(value, FILTER_PREFIX "ua-");
    return FALSE;
}

static void unlink_free(xmlNode *n)
{
    xmlUnlinkNode(n);
    xmlFreeNode(n);
}

static gboolean has_element_child(const xmlNode *n)
{
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return TRUE;
    return FALSE;
}

static gboolean ns_used(const xmlNode *n, const xmlNs *ns)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns == ns)
            return TRUE;
        for (const xmlAttr *a = n->properties; a; a = a->next)
            if (a->ns == ns)
                return TRUE;
        if (ns_used(n->children, ns))
            return TRUE;
    }
    return FALSE;
}

/* Everything ft-enable and ft-standby add (and a namespace-less <ft> that
 * libvirt would drop), except the interfaces' driver: the user may have
 * set name='qemu' as well. Containers left empty go. */
static void strip(xmlNode *dom)
{
    xmlNode *md = child(dom, "metadata"), *next;

    for (xmlNode *c = md ? md->children : NULL; c; c = next) {
        next = c->next;
        if (in_ns(c, FTMETA_NS) || is_element(c, "ft"))
            unlink_free(c);
    }
    if (md && !has_element_child(md))
        unlink_free(md);

    for (xmlNode *cmd = dom->children; cmd; cmd = next) {
        g_autoptr(GPtrArray) args = g_ptr_array_new();

        next = cmd->next;
        if (!in_ns(cmd, FTMETA_QEMU_NS) ||
            !xmlStrEqual(cmd->name, BAD_CAST "commandline"))
            continue;
        for (xmlNode *a = cmd->children; a; a = a->next)
            if (in_ns(a, FTMETA_QEMU_NS) &&
                xmlStrEqual(a->name, BAD_CAST "arg"))
                g_ptr_array_add(args, a);
        for (guint i = 0; i + 1 < args->len; i++) {
            g_autofree char *opt = ftmeta_xml_prop(args->pdata[i], "value");
            g_autofree char *val = ftmeta_xml_prop(args->pdata[i + 1],
                                                   "value");

            if (ours(opt, val)) {
                unlink_free(args->pdata[i]);
                unlink_free(args->pdata[i + 1]);
                i++;
            }
        }
        if (!has_element_child(cmd))
            unlink_free(cmd);
    }

    for (xmlNs **link = &dom->nsDef; *link;) {
        xmlNs *ns = *link;

        if (ns->href && xmlStrEqual(ns->href, BAD_CAST FTMETA_QEMU_NS) &&
            !ns_used(dom, ns)) {
            *link = ns->next;
            ns->next = NULL;
            xmlFreeNs(ns);
        } else {
            link = &ns->next;
        }
    }
}

static xmlNode *metadata_element(xmlNode *dom)
{
    static const char *const before[] = { "name", "uuid", "genid", "title",
                                          "description" };
    xmlNode *md = child(dom, "metadata"), *after = NULL;

    if (md)
        return md;
    md = xmlNewDocNode(dom->doc, NULL, BAD_CAST "metadata", NULL);
    for (xmlNode *c = dom->children; c; c = c->next)
        for (guint i = 0; i < G_N_ELEMENTS(before); i++)
            if (is_element(c, before[i]))
                after = c;
    if (after)
        return xmlAddNextSibling(after, md);
    if (dom->children)
        return xmlAddPrevSibling(dom->children, md);
    return xmlAddChild(dom, md);
}

static xmlNode *commandline_element(xmlNode *dom)
{
    xmlNs *ns;

    for (xmlNode *c = dom->children; c; c = c->next)
        if (in_ns(c, FTMETA_QEMU_NS) &&
            xmlStrEqual(c->name, BAD_CAST "commandline"))
            return c;
    ns = xmlSearchNsByHref(dom->doc, dom, BAD_CAST FTMETA_QEMU_NS);
    if (!ns) {
        xmlNs *taken = xmlSearchNs(dom->doc, dom, BAD_CAST "qemu");

        ns = xmlNewNs(dom, BAD_CAST FTMETA_QEMU_NS,
                      BAD_CAST(taken ? "qemu-libvirt" : "qemu"));
    }
    return xmlNewChild(dom, ns, BAD_CAST "commandline", NULL);
}

static void add_arg(xmlNode *cmd, const char *value)
{
    xmlNode *a = xmlNewChild(cmd, cmd->ns, BAD_CAST "arg", NULL);

    xmlNewProp(a, BAD_CAST "value", BAD_CAST value);
}

static char *qemu_opt_escape(const char *s)
{
    GString *out = g_string_new(NULL);

    for (; *s; s++) {
        if (*s == ',')
            g_string_append_c(out, ',');
        g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

/* META's element, the ft-ram backend (RAM_OBJECT the -object value), a
 * filter-ft per interface, every interface off vhost. */
static void add(xmlNode *dom, const FtMeta *meta, const char *ram_object)
{
    g_autoptr(GPtrArray) aliases = net_aliases(dom);
    g_autoptr(GPtrArray) ifaces = interfaces_of(dom);
    xmlNode *cmd;

    xmlAddChild(metadata_element(dom), ftmeta_to_node(meta, dom->doc, TRUE));
    cmd = commandline_element(dom);
    add_arg(cmd, "-object");
    add_arg(cmd, ram_object);
    add_arg(cmd, "-machine");
    add_arg(cmd, MACHINE_VALUE);
    for (guint i = 0; i < aliases->len; i++) {
        g_autofree char *filter = g_strdup_printf(
            FILTER_PREFIX "%s,netdev=host%s,queue=all",
            (const char *)aliases->pdata[i], (const char *)aliases->pdata[i]);

        add_arg(cmd, "-object");
        add_arg(cmd, filter);
    }
    for (guint i = 0; i < ifaces->len; i++) {
        xmlNode *driver = child(ifaces->pdata[i], "driver");

        if (!driver)
            driver = xmlNewChild(ifaces->pdata[i], NULL, BAD_CAST "driver",
                                 NULL);
        if (!xmlHasProp(driver, BAD_CAST "name"))
            xmlSetProp(driver, BAD_CAST "name", BAD_CAST "qemu");
    }
}

char *ftmeta_domain_enable(const char *domain_xml, const FtMeta *meta,
                           GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    g_autoptr(GError) scan_error = NULL;
    g_autofree char *ram = NULL;
    xmlNode *dom, *old;
    guint64 bytes;

    if (!doc)
        return NULL;
    dom = xmlDocGetRootElement(doc);
    if (!ftmeta_validate(meta, error) || !check_doc(dom, error) ||
        !memory_of(dom, &bytes, error))
        return NULL;
    /* an element of ours that is wrong is what enable replaces; one of
     * another version is not ours to replace */
    if (!find_element(dom, &old, &scan_error) &&
        g_error_matches(scan_error, FTMETA_ERROR, FTMETA_ERROR_NAMESPACE)) {
        g_propagate_error(error, g_steal_pointer(&scan_error));
        return NULL;
    }
    strip(dom);
    ram = g_strdup_printf(RAM_OBJECT_PREFIX "size=%" G_GUINT64_FORMAT, bytes);
    add(dom, meta, ram);
    return dump(doc);
}

char *ftmeta_domain_disable(const char *domain_xml, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);

    if (!doc)
        return NULL;
    strip(xmlDocGetRootElement(doc));
    return dump(doc);
}

char *ftmeta_domain_standby(const char *domain_xml, const char *pool_path,
                            guint64 ram_offset, GError **error)
{
    g_autoptr(xmlDoc) doc = domain_parse(domain_xml, error);
    g_autoptr(FtMeta) meta = NULL;
    g_autofree char *ram = NULL, *pool = NULL, *name = NULL;
    const char *problem = ftmeta_path_problem(pool_path);
    xmlNode *dom, *el;
    guint64 bytes;

    if (!doc)
        return NULL;
    dom = xmlDocGetRootElement(doc);
    if (problem) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_INVALID,
                    "standby of domain '%s': pool path '%s' %s",
                    domain_name_of(dom, &name), pool_path ? pool_path : "",
                    problem);
        return NULL;
    }
    if (!find_element(dom, &el, error))
        return NULL;
    if (!el) {
        g_set_error(error, FTMETA_ERROR, FTMETA_ERROR_NOT_ENABLED,
                    "standby of domain '%s': it has no FT metadata "
                    "(<%s:ft xmlns:%s=\"%s\"> in <metadata>): ft-enable it "
                    "first", domain_name_of(dom, &name), FTMETA_PREFIX,
                    FTMETA_PREFIX, FTMETA_NS);
        return NULL;
    }
    meta = ftmeta_from_node(el, error);
    if (!meta || !check_doc(dom, error) || !memory_of(dom, &bytes, error))
        return NULL;
    strip(dom);
    pool = qemu_opt_escape(pool_path);
    ram = g_strdup_printf(FILE_OBJECT_PREFIX "size=%" G_GUINT64_FORMAT
                          ",mem-path=%s,offset=%" G_GUINT64_FORMAT
                          ",share=off", bytes, pool, ram_offset);
    add(dom, meta, ram);
    return dump(doc);
}
