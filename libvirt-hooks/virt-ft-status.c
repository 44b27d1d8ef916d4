/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-status DOMAIN: one domain's fault tolerance, "Key: value" lines like
 * virsh dominfo, from libvirt (name, UUID, state, FT metadata) and the
 * local ft-agentd (GET /v1/vms/NAME: role, protection, epoch, ...);
 * --json prints the agent's object as it is.
 */
#include "virt-ft.h"

static const char *state_name(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING: return "running";
    case VIR_DOMAIN_BLOCKED: return "idle";
    case VIR_DOMAIN_PAUSED: return "paused";
    case VIR_DOMAIN_SHUTDOWN: return "in shutdown";
    case VIR_DOMAIN_SHUTOFF: return "shut off";
    case VIR_DOMAIN_CRASHED: return "crashed";
    case VIR_DOMAIN_PMSUSPENDED: return "pmsuspended";
    default: return "no state";
    }
}

static const char *str_or(JsonObject *vm, const char *member,
                          const char *fallback)
{
    const char *s = virt_ft_json_string(vm, member);

    return s && *s ? s : fallback;
}

static void print_int(JsonObject *vm, const char *key, const char *member)
{
    gint64 v;

    if (virt_ft_json_int(vm, member, &v)) {
        virt_ft_print_field(key, "%" G_GINT64_FORMAT, v);
    } else {
        virt_ft_print_field(key, "-");
    }
}

/* One line on whether a failover would work now, with what is wrong. */
static char *health(JsonObject *vm)
{
    const char *given = virt_ft_json_string(vm, "health");
    const char *p = str_or(vm, "protection", "unknown");
    const char *peer = virt_ft_json_string(vm, "peer-status");
    GString *s = g_string_new(NULL);
    gint64 done = 0, total = 0, deaths = 0, boots = 0;

    if (given) {
        g_string_append(s, given);
    } else if (g_str_equal(p, "protected")) {
        g_string_append(s, "ok");
    } else if (g_str_equal(p, "syncing")) {
        virt_ft_json_int(vm, "sync-done", &done);
        virt_ft_json_int(vm, "sync-total", &total);
        g_string_append_printf(s, "syncing: %" G_GINT64_FORMAT "%% of the "
                               "RAM copied into the pool",
                               total > 0 ? done * 100 / total : 0);
    } else if (g_str_equal(p, "no-standby")) {
        g_string_append(s, "degraded: no standby");
    } else if (g_str_equal(p, "standby")) {
        g_string_append_printf(s, "ok: the standby of %s",
                               str_or(vm, "primary-host", "the primary"));
    } else if (g_str_equal(p, "remote")) {
        g_string_append_printf(s, "runs on %s",
                               str_or(vm, "primary-host", "another host"));
    } else if (g_str_equal(p, "down")) {
        g_string_append(s, "down: the VM is not running");
    } else {
        g_string_append_printf(s, "%s: a fault now would not fail over", p);
    }
    if (peer && *peer) {
        g_string_append_printf(s, "; peer: %s", peer);
    }
    if (virt_ft_json_int(vm, "standby-deaths", &deaths) && deaths > 0) {
        g_string_append_printf(s, "; %" G_GINT64_FORMAT " standby deaths",
                               deaths);
    }
    if (virt_ft_json_int(vm, "boot-failures", &boots) && boots > 0) {
        g_string_append_printf(s, "; %" G_GINT64_FORMAT " boot failures",
                               boots);
    }
    return g_string_free(s, FALSE);
}

static void print_agent_fields(JsonObject *vm, const FtMeta *meta)
{
    g_autofree char *h = health(vm);
    g_autofree char *standby = NULL;
    gint64 age;

    virt_ft_print_field("Role", "%s", str_or(vm, "role", "-"));
    virt_ft_print_field("Protection", "%s", str_or(vm, "protection", "-"));
    virt_ft_print_field("FT status", "%s", str_or(vm, "status", "-"));
    print_int(vm, "Epoch", "epoch");
    if (virt_ft_json_int(vm, "last-commit-age-ns", &age)) {
        virt_ft_print_field("Last commit age", "%.1f ms", age / 1e6);
    } else {
        virt_ft_print_field("Last commit age", "-");
    }
    virt_ft_print_field("Primary host", "%s", str_or(vm, "primary-host", "-"));
    if (!virt_ft_json_string(vm, "standby-host") && meta &&
        meta->standby_hosts && meta->standby_hosts[0]) {
        standby = g_strjoinv(", ", meta->standby_hosts);
    }
    virt_ft_print_field("Standby host", "%s",
                        standby ? standby : str_or(vm, "standby-host", "-"));
    print_int(vm, "Generation", "generation");
    print_int(vm, "Failovers", "failovers");
    virt_ft_print_field("Health", "%s", h);
}

/* What libvirt knows of DOM; *PENDING: its persistent XML and its running
 * one differ in being fault tolerant. */
static void print_domain_fields(virDomainPtr dom, const FtMeta *meta,
                                JsonObject *vm, gboolean *pending)
{
    g_autofree char *uuid = virt_ft_domain_uuid(dom);
    int state = VIR_DOMAIN_NOSTATE, reason;

    if (virDomainGetState(dom, &state, &reason, 0) < 0) {
        state = VIR_DOMAIN_NOSTATE;
    }
    virt_ft_print_field("Name", "%s", virDomainGetName(dom));
    virt_ft_print_field("UUID", "%s", uuid);
    virt_ft_print_field("State", "%s", state_name(state));
    virt_ft_print_field("Policy", "%s", meta ?
                        ftmeta_policy_name(meta->policy) :
                        str_or(vm, "policy", "-"));
    /* ft-enable changes the persistent XML: a running domain follows it
     * at its next start */
    *pending = FALSE;
    if (virDomainIsActive(dom) == 1 && virDomainIsPersistent(dom) == 1) {
        g_autoptr(FtMeta) live = virt_ft_domain_meta(dom, TRUE, NULL);

        *pending = !live != !meta;
    }
}

static gboolean cmd_status(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    const char *arg = virt_ft_args_string(args, "domain");
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(GError) lookup = NULL, agent_error = NULL;
    g_autoptr(JsonObject) vm = NULL;
    g_autoptr(FtMeta) meta = NULL;
    const char *name = arg;
    gboolean pending = FALSE;

    /* without libvirt (the qemu backend), what the agent says */
    dom = virt_ft_lookup_domain(ctl, arg, &lookup);
    if (dom) {
        name = virDomainGetName(dom);
    }
    vm = virt_ft_agent_vm_call(ctl, "GET", name, NULL, NULL, &agent_error);
    if (!dom && !vm) {
        /* neither a domain here nor a VM of the agent */
        g_propagate_error(error, g_steal_pointer(&lookup));
        return FALSE;
    }
    if (!ctl->conn) {
        virt_ft_warn("%s: the agent's view only", lookup->message);
    }
    if (virt_ft_args_has(args, "json")) {
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *text = NULL;

        if (!vm) {
            g_propagate_error(error, g_steal_pointer(&agent_error));
            return FALSE;
        }
        node = json_node_init_object(json_node_alloc(), vm);
        text = json_to_string(node, TRUE);
        printf("%s\n", text);
        return TRUE;
    }
    if (dom) {
        meta = virt_ft_domain_meta(dom, FALSE, error);
        if (!meta && *error) {
            return FALSE;
        }
        if (!meta && !vm) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                        "domain '%s' is not fault tolerant (it has no FT "
                        "metadata: see 'virt-ft help ft-enable')", name);
            return FALSE;
        }
        print_domain_fields(dom, meta, vm, &pending);
    } else {
        virt_ft_print_field("Name", "%s", name);
        virt_ft_print_field("UUID", "%s", str_or(vm, "domain-uuid", "-"));
        virt_ft_print_field("State", "%s", "(no libvirt domain here)");
        virt_ft_print_field("Policy", "%s", str_or(vm, "policy", "-"));
    }
    if (vm) {
        print_agent_fields(vm, meta);
    } else {
        virt_ft_print_field("Protection", "unknown");
    }
    if (vm && json_object_get_boolean_member_with_default(
            vm, "switchover-prepared", FALSE)) {
        virt_ft_print_field("Switchover", "prepared: the primary is paused "
                            "(virt-ft ft-failover %s --commit or --abort)",
                            name);
    }
    if (pending) {
        virt_ft_print_field("Pending", "%s at the next start of the domain",
                            meta ? "FT enabled" : "FT disabled");
    }
    if (!vm) {
        if (virt_ft_agent_not_found(agent_error)) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                        "domain '%s' is not known to the agent (%s)", name,
                        agent_error->message);
        } else if (virt_ft_agent_unreachable(agent_error)) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                        "%s: is ft-agentd running? (virt-ft --agent-socket, "
                        "$FT_AGENT_SOCKET)", agent_error->message);
        } else {
            g_propagate_error(error, g_steal_pointer(&agent_error));
        }
        return FALSE;
    }
    return TRUE;
}

static const VirtFtOptDef status_opts[] = {
    VIRT_FT_OPT_DOMAIN,
    { "json", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "print the agent's JSON object of the VM" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_status = {
    .name = "ft-status",
    .run = cmd_status,
    .opts = status_opts,
    .summary = "fault tolerance of a domain",
    .description = "Prints the domain's FT policy and what the local "
        "ft-agentd says of it: this host's role, the protection, the "
        "committed epoch and the age of its commit, the primary and standby "
        "hosts, the pool's generation, the failovers and the protection's "
        "health. Fails (exit 1) when the agent cannot be asked or does not "
        "know the domain.",
};
