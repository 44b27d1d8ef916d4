/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-enable and ft-disable: the domain's persistent XML made fault
 * tolerant (or ordinary again) by ftmeta_domain_enable/_disable, defined
 * through libvirt, then the local ft-agentd asked to re-read it
 * (POST /v1/vms/NAME/reload). The XML is the truth: an agent that is not
 * running picks the domain up when it starts.
 */
#include "virt-ft.h"

/* The inactive XML, with the secrets a define must keep. */
static char *inactive_xml(virDomainPtr dom, GError **error)
{
    char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE |
                                    VIR_DOMAIN_XML_SECURE);

    if (!xml) {
        virt_ft_set_libvirt_error(error, "failed to get the XML of domain "
                                  "'%s'", virDomainGetName(dom));
    }
    return xml;
}

/* --print-xml: XML on stdout (*DEFINED FALSE); else defined through
 * libvirt. */
static gboolean print_or_define(VirtFtCtl *ctl, VirtFtArgs *args,
                                const char *name, const char *xml,
                                gboolean *defined, GError **error)
{
    virDomainPtr def;

    *defined = FALSE;
    if (virt_ft_args_has(args, "print-xml")) {
        printf("%s%s", xml, g_str_has_suffix(xml, "\n") ? "" : "\n");
        return TRUE;
    }
    def = virDomainDefineXML(ctl->conn, xml);
    if (!def) {
        virt_ft_set_libvirt_error(error, "failed to define domain '%s'", name);
        return FALSE;
    }
    virDomainFree(def);
    *defined = TRUE;
    return TRUE;
}

/* Tells the agent; whatever it answers, the XML change stands. */
static void agent_reload(VirtFtCtl *ctl, const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) answer = virt_ft_agent_vm_call(ctl, "POST", name,
                                                         "reload", NULL,
                                                         &error);
    const char *text;

    if (!answer) {
        if (virt_ft_agent_unreachable(error)) {
            virt_ft_warn("%s; the domain XML holds the change and the agent "
                         "picks it up when it starts", error->message);
        } else {
            virt_ft_warn("the agent did not reload domain '%s': %s", name,
                         error->message);
        }
        return;
    }
    text = virt_ft_json_string(answer, "message");
    if (!text) {
        text = virt_ft_json_string(answer, "detail");
    }
    if (text) {
        virt_ft_info(ctl, "ft-agentd: %s", text);
    } else if (virt_ft_json_string(answer, "protection")) {
        virt_ft_info(ctl, "ft-agentd: domain '%s' reloaded (role %s, "
                     "protection %s; see 'virt-ft ft-status %s')", name,
                     virt_ft_json_string(answer, "role") ?
                     virt_ft_json_string(answer, "role") : "-",
                     virt_ft_json_string(answer, "protection"), name);
    } else {
        virt_ft_info(ctl, "ft-agentd: reload of domain '%s' accepted", name);
    }
}

/* The FT settings: the domain's current ones, changed by the options. */
static FtMeta *settings(VirtFtArgs *args, const FtMeta *old, GError **error)
{
    g_autoptr(FtMeta) meta = old ? ftmeta_copy(old) :
        ftmeta_new(FTMETA_POLICY_PROTECT);
    const char *policy = virt_ft_args_string(args, "policy");
    const char *const *hosts = virt_ft_args_strv(args, "standby-host");
    const char *pool = virt_ft_args_string(args, "pool-dir");

    if (policy && !ftmeta_policy_from_name(policy, &meta->policy, error)) {
        g_prefix_error(error, "option --policy: ");
        return NULL;
    }
    if (hosts) {
        guint n = g_strv_length((char **)hosts);

        if (n > FTMETA_MAX_STANDBYS) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                        "option --standby-host given %u times: at most %d "
                        "standby hosts", n, FTMETA_MAX_STANDBYS);
            return NULL;
        }
        for (guint i = 0; i < n; i++) {
            if (!ftmeta_host_id_valid(hosts[i])) {
                g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                            "option --standby-host: '%s' is not a host id "
                            "(1..%d of A-Z a-z 0-9 _ . -)", hosts[i],
                            FTMETA_HOST_ID_MAX);
                return NULL;
            }
        }
        g_strfreev(meta->standby_hosts);
        meta->standby_hosts = g_strdupv((char **)hosts);
    }
    meta->epoch_min_ms = virt_ft_args_uint(args, "epoch-min-ms",
                                           meta->epoch_min_ms);
    meta->epoch_max_ms = virt_ft_args_uint(args, "epoch-max-ms",
                                           meta->epoch_max_ms);
    if (pool) {
        if (!g_path_is_absolute(pool)) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                        "option --pool-dir: '%s' is not an absolute path",
                        pool);
            return NULL;
        }
        g_free(meta->pool_dir);
        meta->pool_dir = g_strdup(pool);
    }
    if (meta->policy != FTMETA_POLICY_NOTIFY &&
        (!meta->standby_hosts || !meta->standby_hosts[0])) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "policy '%s' needs a standby host: give --standby-host",
                    ftmeta_policy_name(meta->policy));
        return NULL;
    }
    if (meta->epoch_min_ms && meta->epoch_max_ms &&
        meta->epoch_min_ms > meta->epoch_max_ms) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "epoch-min-ms %u is above epoch-max-ms %u",
                    meta->epoch_min_ms, meta->epoch_max_ms);
        return NULL;
    }
    if (!ftmeta_validate(meta, error)) {
        g_prefix_error(error, "invalid FT settings: ");
        return NULL;
    }
    return g_steal_pointer(&meta);
}

static gboolean cmd_enable(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    g_autoptr(virDomain) dom = virt_ft_lookup_domain(
        ctl, virt_ft_args_string(args, "domain"), error);
    g_autofree char *xml = NULL, *ft_xml = NULL, *summary = NULL;
    g_autoptr(FtMeta) old = NULL, meta = NULL;
    g_autoptr(GError) bad = NULL;
    gboolean defined;
    const char *name;

    if (!dom || !(xml = inactive_xml(dom, error))) {
        return FALSE;
    }
    name = virDomainGetName(dom);
    old = ftmeta_from_domain_xml(xml, &bad);
    if (bad) {
        virt_ft_warn("domain '%s': replacing its invalid FT metadata (%s)",
                     name, bad->message);
    }
    meta = settings(args, old, error);
    if (!meta) {
        g_prefix_error(error, "domain '%s': ", name);
        return FALSE;
    }
    ft_xml = ftmeta_domain_enable(xml, meta, error);
    if (!ft_xml) {
        if (!g_error_matches(*error, FTMETA_ERROR,
                             FTMETA_ERROR_UNSUPPORTED)) {
            /* (that one names the domain and says it cannot be) */
            g_prefix_error(error, "cannot make domain '%s' fault tolerant: ",
                           name);
        }
        return FALSE;
    }
    if (!print_or_define(ctl, args, name, ft_xml, &defined, error)) {
        return FALSE;
    }
    if (!defined) {
        return TRUE;            /* --print-xml */
    }
    summary = virt_ft_meta_summary(meta);
    if (old) {
        virt_ft_info(ctl, "Domain '%s' FT settings %s (policy %s)", name,
                     ftmeta_equal(old, meta) ? "unchanged" : "updated",
                     summary);
    } else {
        virt_ft_info(ctl, "Domain '%s' is now fault tolerant (policy %s)",
                     name, summary);
    }
    if (virDomainIsActive(dom) == 1) {
        virt_ft_info(ctl, "Domain '%s' is running: the FT QEMU arguments "
                     "take effect at its next start", name);
    }
    agent_reload(ctl, name);
    return TRUE;
}

static gboolean cmd_disable(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    g_autoptr(virDomain) dom = virt_ft_lookup_domain(
        ctl, virt_ft_args_string(args, "domain"), error);
    g_autofree char *xml = NULL, *plain = NULL;
    g_autoptr(FtMeta) old = NULL;
    g_autoptr(GError) bad = NULL;
    gboolean defined;
    const char *name;

    if (!dom || !(xml = inactive_xml(dom, error))) {
        return FALSE;
    }
    name = virDomainGetName(dom);
    old = ftmeta_from_domain_xml(xml, &bad);
    if (!old && !bad) {
        virt_ft_info(ctl, "Domain '%s' is not fault tolerant: nothing to do",
                     name);
        return TRUE;
    }
    plain = ftmeta_domain_disable(xml, error);
    if (!plain) {
        g_prefix_error(error, "domain '%s': ", name);
        return FALSE;
    }
    if (!print_or_define(ctl, args, name, plain, &defined, error)) {
        return FALSE;
    }
    if (!defined) {
        return TRUE;            /* --print-xml */
    }
    virt_ft_info(ctl, "Domain '%s' is no longer fault tolerant", name);
    if (virDomainIsActive(dom) == 1) {
        virt_ft_info(ctl, "Domain '%s' is running: its QEMU keeps the FT "
                     "arguments until its next start", name);
    }
    agent_reload(ctl, name);
    return TRUE;
}

static const VirtFtOptDef enable_opts[] = {
    VIRT_FT_OPT_DOMAIN,
    { "standby-host", VIRT_FT_OPT_STRV, 0, "HOST", 0, 0,
      "a standby host (repeat for up to 4, in order of preference); "
      "required for the policies protect and restart" },
    { "policy", VIRT_FT_OPT_STRING, 0, "POLICY", 0, 0,
      "protect (standby failover, the default), restart (cold restart on a "
      "standby host) or notify (only tell the cloud API)" },
    { "epoch-min-ms", VIRT_FT_OPT_UINT, 0, "N", 1, FTMETA_EPOCH_MS_MAX,
      "least gap between output-triggered checkpoints (ms)" },
    { "epoch-max-ms", VIRT_FT_OPT_UINT, 0, "N", 1, FTMETA_EPOCH_MS_MAX,
      "the epoch timer: the longest epoch (ms)" },
    { "pool-dir", VIRT_FT_OPT_STRING, 0, "DIR", 0, 0,
      "directory on the shared pool memory (default: the agent's pool-dir)" },
    { "print-xml", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "print the fault tolerant XML instead of defining it" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_enable = {
    .name = "ft-enable",
    .run = cmd_enable,
    .opts = enable_opts,
    .summary = "make a domain fault tolerant",
    .description = "Adds the FT metadata (standby hosts, policy, epoch "
        "bounds, pool directory) and the FT QEMU arguments to the domain's "
        "persistent XML, refusing what a checkpoint cannot cover, and asks "
        "the local ft-agentd to reload the domain. On a domain that is "
        "already fault tolerant, the options given change its settings and "
        "the others are kept. A running domain gets the FT QEMU arguments at "
        "its next start.",
};

static const VirtFtOptDef disable_opts[] = {
    VIRT_FT_OPT_DOMAIN,
    { "print-xml", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "print the ordinary XML instead of defining it" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_disable = {
    .name = "ft-disable",
    .run = cmd_disable,
    .opts = disable_opts,
    .summary = "make a domain ordinary again",
    .description = "Removes the FT metadata and the FT QEMU arguments from "
        "the domain's persistent XML and asks the local ft-agentd to reload "
        "the domain. A domain that is not fault tolerant is left alone.",
};
