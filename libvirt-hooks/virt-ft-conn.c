/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-ft's two connections, opened by the first command that needs each:
 * libvirt (-c URI, like virsh) and the local ft-agentd (its control
 * socket); domain lookup and FT metadata through libvirt.
 */
#include "virt-ft.h"

/* requests of virt-ft: a switchover's prepare waits for an epoch commit */
#define AGENT_TIMEOUT_MS 30000

void virt_ft_set_libvirt_error(GError **error, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    const char *why = virGetLastErrorMessage();
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_LIBVIRT, "%s: %s", what,
                why ? why : "unknown libvirt error");
}

virConnectPtr virt_ft_conn(VirtFtCtl *ctl, GError **error)
{
    const char *uri = ctl->uri;

    if (ctl->conn) {
        return ctl->conn;
    }
    if (!uri) {
        uri = g_getenv("LIBVIRT_DEFAULT_URI");
    }
    if (!uri || !*uri) {
        uri = "qemu:///system";
    }
    ctl->conn = virConnectOpenAuth(uri, virConnectAuthPtrDefault, 0);
    if (!ctl->conn) {
        virt_ft_set_libvirt_error(error, "failed to connect to the "
                                  "hypervisor (%s)", uri);
    }
    return ctl->conn;
}

virDomainPtr virt_ft_lookup_domain(VirtFtCtl *ctl, const char *name,
                                   GError **error)
{
    virConnectPtr conn = virt_ft_conn(ctl, error);
    virDomainPtr dom = NULL;
    guint64 id;

    if (!conn) {
        return NULL;
    }
    /* virsh's order: an id, a UUID, a name */
    if (g_ascii_string_to_unsigned(name, 10, 0, G_MAXINT, &id, NULL)) {
        dom = virDomainLookupByID(conn, (int)id);
    }
    if (!dom && strlen(name) == VIR_UUID_STRING_BUFLEN - 1 &&
        g_uuid_string_is_valid(name)) {
        dom = virDomainLookupByUUIDString(conn, name);
    }
    if (!dom) {
        dom = virDomainLookupByName(conn, name);
    }
    if (!dom) {
        virt_ft_set_libvirt_error(error, "failed to get domain '%s'", name);
    }
    return dom;
}

char *virt_ft_domain_uuid(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(dom, uuid) < 0) {
        return g_strdup("-");
    }
    return g_strdup(uuid);
}

FtMeta *virt_ft_domain_meta(virDomainPtr dom, gboolean live, GError **error)
{
    unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
    g_autofree char *xml = NULL;
    virErrorPtr err;
    FtMeta *meta;

    if (live || virDomainIsPersistent(dom) != 1) {
        flags = VIR_DOMAIN_AFFECT_LIVE;
    }
    xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, FTMETA_NS,
                               flags);
    if (!xml) {
        err = virGetLastError();
        if (err && err->code == VIR_ERR_NO_DOMAIN_METADATA) {
            virResetLastError();
            return NULL;
        }
        virt_ft_set_libvirt_error(error, "domain '%s': cannot read its FT "
                                  "metadata", virDomainGetName(dom));
        return NULL;
    }
    meta = ftmeta_parse(xml, error);
    if (!meta) {
        g_prefix_error(error, "domain '%s': its FT metadata is invalid: ",
                       virDomainGetName(dom));
    }
    return meta;
}

char *virt_ft_meta_summary(const FtMeta *meta)
{
    GString *s = g_string_new(ftmeta_policy_name(meta->policy));

    if (meta->standby_hosts && meta->standby_hosts[0]) {
        g_autofree char *hosts = g_strjoinv(", ", meta->standby_hosts);

        g_string_append_printf(s, ", standby %s", hosts);
    }
    return g_string_free(s, FALSE);
}

/* ---- the agent ------------------------------------------------------------ */

VirtFtAgent *virt_ft_agent(VirtFtCtl *ctl)
{
    if (!ctl->agent) {
        g_autofree char *note = NULL;

        if (!ctl->agent_socket) {
            ctl->agent_socket = virt_ft_agent_socket_default(&note);
            if (note) {
                virt_ft_warn("the agent configuration %s", note);
            }
        }
        ctl->agent = virt_ft_agent_new(ctl->agent_socket, AGENT_TIMEOUT_MS);
    }
    return ctl->agent;
}

JsonObject *virt_ft_agent_vm_call(VirtFtCtl *ctl, const char *method,
                                  const char *name, const char *suffix,
                                  JsonNode *body, GError **error)
{
    g_autofree char *escaped = g_uri_escape_string(name, NULL, FALSE);
    g_autofree char *path = g_strconcat("/v1/vms/", escaped,
                                        suffix ? "/" : NULL, suffix, NULL);

    return virt_ft_agent_call(virt_ft_agent(ctl), method, path, body, error);
}

gboolean virt_ft_agent_unreachable(const GError *error)
{
    return g_error_matches(error, VIRT_FT_AGENT_ERROR,
                           VIRT_FT_AGENT_ERROR_UNREACHABLE) ||
           g_error_matches(error, VIRT_FT_AGENT_ERROR,
                           VIRT_FT_AGENT_ERROR_TIMEOUT);
}

gboolean virt_ft_agent_not_found(const GError *error)
{
    return g_error_matches(error, VIRT_FT_AGENT_HTTP_ERROR, 404);
}

const char *virt_ft_json_string(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_STRING) {
        return NULL;
    }
    return json_node_get_string(n);
}

gboolean virt_ft_json_int(JsonObject *o, const char *name, gint64 *value)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) ||
        json_node_get_value_type(n) != G_TYPE_INT64) {
        return FALSE;
    }
    *value = json_node_get_int(n);
    return TRUE;
}
