/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "libvirt" backend (docs/libvirt.md, "How the agent drives libvirt").
 *
 * VMs: every persistent domain of this host's libvirt whose XML carries
 * the FT metadata element (ftmeta.h); read at start, again on
 * POST /v1/vms/NAME/reload (virt-ft ft-enable / ft-disable) and when a
 * hook reports a domain the agent does not know. A domain is defined on
 * each of its hosts (the primary's and the standby candidates'), as for
 * libvirt migration.
 *
 * Primary: libvirt starts it (virsh start, autostart); the hook tells the
 * agent, which adopts it (pid from libvirt's pid file, QMP through the
 * monitor passthrough) and protects it. Standby: the agent creates the
 * domain from its persistent definition with the RAM backend mapped from
 * the pool (ftmeta_domain_standby), paused; the persistent definition is
 * left as it was, so the promoted VM is an ordinary running domain that
 * boots normally the next time. Ending a QEMU (a fence, a standby
 * replaced) is SIGKILL through its pidfd, not virDomainDestroy: destroy
 * sends SIGTERM first, and a QEMU that exits cleanly retires its pool,
 * which a planned failover must not do.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "agent-backend.h"
#include "backend-libvirt.h"
#include "ftmeta.h"

struct FtAgentLibvirt {
    virConnectPtr conn;
    GThread *event_thread;
    gint quit;
    int wake_timer;
    GPtrArray *configs;         /* FtAgentVmConfig* of the domains */
};

/* The per-VM libvirt side. */
struct FtAgentDomain {
    char *uuid;
    FtMeta *meta;
    FtAgentQmpProxy *proxy;
};

static void domain_free(struct FtAgentDomain *d)
{
    if (d) {
        ftagent_qmp_proxy_free(d->proxy);
        ftmeta_free(d->meta);
        g_free(d->uuid);
        g_free(d);
    }
}

static void vm_config_free(FtAgentVmConfig *c)
{
    g_free(c->name);
    g_strfreev(c->hosts);
    g_strfreev(c->qemu_args);
    g_free(c->policy);
    g_free(c->uuid);
    g_free(c);
}

static void set_libvirt_error(GError **error, const char *what,
                              const char *name)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "domain %s: %s: %s",
                name, what, virGetLastErrorMessage());
}

static gpointer event_thread(gpointer data)
{
    struct FtAgentLibvirt *lv = data;

    while (!g_atomic_int_get(&lv->quit)) {
        if (virEventRunDefaultImpl() < 0) {
            g_warning("libvirt event loop: %s", virGetLastErrorMessage());
            g_usleep(100000);
        }
    }
    return NULL;
}

static void wake_noop(int timer, void *opaque)
{
    (void)timer;
    (void)opaque;
}

static void on_libvirt_error(void *data, virErrorPtr err)
{
    /* reported through GError where it matters; keep stderr clean */
    (void)data;
    g_debug("libvirt: %s", err->message);
}

static virDomainPtr lookup(FtAgent *agent, const char *name, GError **error)
{
    virDomainPtr dom = virDomainLookupByName(agent->libvirt->conn, name);

    if (!dom) {
        set_libvirt_error(error, "not found in libvirt", name);
    }
    return dom;
}

/* The pid of a running domain's QEMU, from libvirt's pid file. */
static gint domain_pid(const char *name, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.pid",
                                            FTAGENT_LIBVIRT_PID_DIR, name);
    g_autofree char *text = NULL;
    gint64 pid;

    if (!g_file_get_contents(path, &text, NULL, error)) {
        g_prefix_error(error, "domain %s: its QEMU pid: ", name);
        return -1;
    }
    pid = g_ascii_strtoll(g_strstrip(text), NULL, 10);
    if (pid <= 1 || pid > G_MAXINT) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "domain %s: %s holds no pid ('%s')", name, path, text);
        return -1;
    }
    return (gint)pid;
}

/* The VM's hosts: the standby candidates, this host first when it is not
 * one of them (it is where the domain starts, the first primary). */
static char **vm_hosts(FtAgent *agent, const FtMeta *meta)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    const char *me = agent->config->host_id;

    if (!g_strv_contains((const char *const *)meta->standby_hosts, me)) {
        g_strv_builder_add(b, me);
    }
    g_strv_builder_addv(b, (const char **)meta->standby_hosts);
    return g_strv_builder_end(b);
}

static gboolean valid_vm_name(const char *name)
{
    gsize n = strlen(name);

    if (n == 0 || n > 31) {
        return FALSE;
    }
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("_.-", *p)) {
            return FALSE;
        }
    }
    return TRUE;
}

static void apply_meta(FtAgentVm *vm, FtMeta *meta)
{
    FtAgentPolicy old = vm->policy;
    gboolean known = vm->domain->meta != NULL && !vm->disabled;

    vm->policy = meta->policy == FTMETA_POLICY_RESTART
                 ? FTAGENT_POLICY_RESTART
                 : meta->policy == FTMETA_POLICY_NOTIFY
                 ? FTAGENT_POLICY_NOTIFY : FTAGENT_POLICY_PROTECT;
    vm->disabled = FALSE;
    vm->epoch_ms = meta->epoch_max_ms;
    vm->min_gap_us = meta->epoch_min_ms * 1000;
    g_free(vm->pool_dir);
    vm->pool_dir = g_strdup(meta->pool_dir);
    ftmeta_free(vm->domain->meta);
    vm->domain->meta = meta;
    if (known) {
        ftagent_vm_policy_changed(vm, old);
    }
}

/* Adds or updates the VM of domain dom (FT metadata in its inactive XML);
 * returns it, or NULL with *error unset when the domain is not FT. */
static FtAgentVm *load_domain(FtAgent *agent, virDomainPtr dom,
                              GError **error)
{
    struct FtAgentLibvirt *lv = agent->libvirt;
    const char *name = virDomainGetName(dom);
    g_autofree char *xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    g_autoptr(FtMeta) meta = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    FtAgentVm *vm;
    FtAgentVmConfig *c;
    guint64 memory;

    if (!xml) {
        set_libvirt_error(error, "its XML", name);
        return NULL;
    }
    meta = ftmeta_from_domain_xml(xml, error);
    if (!meta) {
        if (error && *error) {
            g_prefix_error(error, "domain %s: ", name);
        }
        return NULL;
    }
    if (!valid_vm_name(name)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "domain %s: an FT domain's name must be 1 to 31 of "
                    "[A-Za-z0-9_.-] (it names pools and peer messages)",
                    name);
        return NULL;
    }
    memory = ftmeta_domain_memory_bytes(xml, error);
    if (!memory) {
        return NULL;
    }
    vm = g_hash_table_lookup(agent->vms, name);
    if (vm && !vm->domain) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "domain %s: a [vm:%s] of the configuration has the same "
                    "name", name, name);
        return NULL;
    }
    if (virDomainGetUUIDString(dom, uuid) < 0) {
        set_libvirt_error(error, "its UUID", name);
        return NULL;
    }
    if (!vm) {
        c = g_new0(FtAgentVmConfig, 1);
        c->name = g_strdup(name);
        c->hosts = vm_hosts(agent, meta);
        c->memory_bytes = memory;
        c->qemu_args = g_new0(char *, 1);
        c->policy = g_strdup(ftmeta_policy_name(meta->policy));
        c->uuid = g_strdup(uuid);
        g_ptr_array_add(lv->configs, c);
        vm = ftagent_vm_new(agent, c);
        vm->domain = g_new0(struct FtAgentDomain, 1);
        vm->domain->uuid = g_strdup(uuid);
        g_hash_table_insert(agent->vms, vm->name, vm);
        g_autofree char *hosts = g_strjoinv(",", c->hosts);

        g_message("vm %s: FT domain %s (policy %s, hosts %s)", name, uuid,
                  ftmeta_policy_name(meta->policy), hosts);
    } else {
        /* the hosts may have changed (ft-enable again) */
        c = (FtAgentVmConfig *)vm->config;
        g_strfreev(c->hosts);
        c->hosts = vm_hosts(agent, meta);
        c->memory_bytes = memory;
        g_free(c->policy);
        c->policy = g_strdup(ftmeta_policy_name(meta->policy));
    }
    apply_meta(vm, g_steal_pointer(&meta));
    return vm;
}

/* A standby's live XML maps its RAM from a pool (ftmeta_domain_standby) */
static gboolean is_standby_xml(const char *live_xml)
{
    return strstr(live_xml, "memory-backend-file,id=" FTAGENT_LIBVIRT_RAM_ID
                  ",") != NULL;
}

typedef struct FtAgentRetry {
    FtAgent *agent;
    char *name;
    guint tries;
} FtAgentRetry;

static void take_running(FtAgent *agent, FtAgentVm *vm, virDomainPtr dom);

static gboolean retry_take(gpointer data)
{
    FtAgentRetry *r = data;
    FtAgentVm *vm = g_hash_table_lookup(r->agent->vms, r->name);
    virDomainPtr dom = vm ? virDomainLookupByName(r->agent->libvirt->conn,
                                                  r->name) : NULL;

    if (dom) {
        take_running(r->agent, vm, dom);
        virDomainFree(dom);
    }
    g_free(r->name);
    g_free(r);
    return G_SOURCE_REMOVE;
}

/* A running FT domain that nobody adopted yet: libvirt started it. */
static void take_running(FtAgent *agent, FtAgentVm *vm, virDomainPtr dom)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *live = NULL;
    int state = 0, reason = 0;
    gint pid;

    if (vm->role != FTAGENT_LOCAL_NONE || virDomainIsActive(dom) != 1) {
        return;
    }
    if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
        state == VIR_DOMAIN_PAUSED && reason == VIR_DOMAIN_PAUSED_STARTING_UP) {
        /* still starting (the started hook can come first): look again */
        FtAgentRetry *r = g_new0(FtAgentRetry, 1);

        r->agent = agent;
        r->name = g_strdup(vm->name);
        g_timeout_add(MAX(10, agent->config->epoch_ms), retry_take, r);
        return;
    }
    live = virDomainGetXMLDesc(dom, 0);
    if (live && is_standby_xml(live)) {
        g_warning("vm %s: a standby domain runs here that no agent state "
                  "names (a previous agent's?): not adopted; it is replaced "
                  "when the primary protects again", vm->name);
        return;
    }
    pid = domain_pid(vm->name, &error);
    if (pid < 0 || !ftagent_vm_manager_started(vm, pid, &error)) {
        g_warning("vm %s: the running domain is not adopted: %s", vm->name,
                  error->message);
    }
}

static gboolean lv_open(FtAgent *agent, GError **error)
{
    struct FtAgentLibvirt *lv = g_new0(struct FtAgentLibvirt, 1);
    const char *uri = agent->config->libvirt_uri;
    virDomainPtr *doms = NULL;
    int n;

    agent->libvirt = lv;
    lv->configs = g_ptr_array_new_with_free_func(
        (GDestroyNotify)vm_config_free);
    lv->wake_timer = -1;
    virSetErrorFunc(NULL, on_libvirt_error);
    if (virEventRegisterDefaultImpl() < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libvirt event loop: %s", virGetLastErrorMessage());
        return FALSE;
    }
    /* keeps virEventRunDefaultImpl() returning, so the thread can stop */
    lv->wake_timer = virEventAddTimeout(500, wake_noop, NULL, NULL);
    lv->event_thread = g_thread_new("libvirt-events", event_thread, lv);
    lv->conn = virConnectOpen(uri);
    if (!lv->conn) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                    "libvirt-uri %s: cannot connect: %s (is libvirtd "
                    "running?)", uri, virGetLastErrorMessage());
        return FALSE;
    }
    if (virConnectSetKeepAlive(lv->conn, 5, 3) < 0) {
        g_debug("libvirt keepalive: %s", virGetLastErrorMessage());
    }
    n = virConnectListAllDomains(lv->conn, &doms,
                                 VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
    if (n < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "libvirt-uri %s: listing domains: %s", uri,
                    virGetLastErrorMessage());
        return FALSE;
    }
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) local = NULL;

        if (!load_domain(agent, doms[i], &local) && local) {
            /* one bad domain must not hide the others */
            g_warning("%s (not protected)", local->message);
        }
    }
    g_message("libvirt %s: %u FT domain(s)", uri, lv->configs->len);
    for (int i = 0; i < n; i++) {
        virDomainFree(doms[i]);
    }
    free(doms);
    return TRUE;
}

/* After the state is loaded: running domains not adopted from it. */
void ftagent_libvirt_take_running(FtAgent *agent)
{
    GHashTableIter it;
    gpointer value;

    if (!agent->libvirt) {
        return;
    }
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;
        virDomainPtr dom;

        if (!vm->domain || vm->role != FTAGENT_LOCAL_NONE) {
            continue;
        }
        dom = virDomainLookupByName(agent->libvirt->conn, vm->name);
        if (dom) {
            take_running(agent, vm, dom);
            virDomainFree(dom);
        }
    }
}

static void lv_close(FtAgent *agent)
{
    struct FtAgentLibvirt *lv = agent->libvirt;
    GHashTableIter it;
    gpointer value;

    if (!lv) {
        return;
    }
    if (agent->vms) {
        g_hash_table_iter_init(&it, agent->vms);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            FtAgentVm *vm = value;

            g_clear_pointer(&vm->domain, domain_free);
        }
    }
    if (lv->conn) {
        virConnectClose(lv->conn);
    }
    g_atomic_int_set(&lv->quit, 1);
    if (lv->event_thread) {
        g_thread_join(lv->event_thread);
    }
    if (lv->wake_timer >= 0) {
        virEventRemoveTimeout(lv->wake_timer);
    }
    /* the VMs point at the configs: the agent frees the VMs first */
    g_ptr_array_unref(lv->configs);
    g_free(lv);
    agent->libvirt = NULL;
}

static gboolean new_proxy(FtAgentVm *vm, virDomainPtr dom, const char *role,
                          GError **error)
{
    g_autofree char *path = g_strdup_printf(
        "%s/%s-%s-%" G_GINT64_FORMAT ".qmp", vm->agent->config->run_dir,
        vm->name, role, ftagent_now_real_ns());
    /* the old one first: libvirt takes one event callback per domain */
    g_clear_pointer(&vm->domain->proxy, ftagent_qmp_proxy_free);
    vm->domain->proxy = ftagent_qmp_proxy_new(vm->agent->libvirt->conn, dom,
                                              path, error);
    if (!vm->domain->proxy) {
        return FALSE;
    }
    g_free(vm->qmp_path);
    vm->qmp_path = g_strdup(path);
    return TRUE;
}

static gboolean lv_start(FtAgentVm *vm, const char *pool, guint64 ram_offset,
                         GError **error)
{
    virDomainPtr dom = lookup(vm->agent, vm->name, error);
    virDomainPtr live = NULL;
    gboolean ok = FALSE;

    if (!dom) {
        return FALSE;
    }
    if (pool) {
        g_autofree char *xml = virDomainGetXMLDesc(dom,
            VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
        g_autofree char *standby = xml ?
            ftmeta_domain_standby(xml, pool, ram_offset, error) : NULL;

        if (!xml) {
            set_libvirt_error(error, "its XML", vm->name);
            goto out;
        }
        if (!standby) {
            goto out;
        }
        g_message("vm %s: creating the standby domain (paused, RAM from %s "
                  "at %" G_GUINT64_FORMAT ")", vm->name, pool, ram_offset);
        live = virDomainCreateXML(vm->agent->libvirt->conn, standby,
                                  VIR_DOMAIN_START_PAUSED);
        if (!live) {
            set_libvirt_error(error, "creating the standby", vm->name);
            goto out;
        }
    } else {
        /* a cold boot of the persistent definition (policy restart) */
        g_message("vm %s: starting the domain (cold restart)", vm->name);
        if (virDomainCreate(dom) < 0) {
            set_libvirt_error(error, "starting", vm->name);
            goto out;
        }
        live = dom;
        virDomainRef(live);
    }
    vm->pid = domain_pid(vm->name, error);
    ok = vm->pid > 0 && new_proxy(vm, live, pool ? "standby" : "primary",
                                  error);
    if (!ok && pool) {
        /* not watched yet: end it here (a standby: nothing to retire) */
        virDomainDestroy(live);
        vm->pid = 0;
    }
out:
    if (live) {
        virDomainFree(live);
    }
    virDomainFree(dom);
    return ok;
}

/* vm->pid is the QEMU of the domain: libvirt's pid file and its command
 * line (-name guest=NAME,...) say so. Then a new QMP proxy for it. */
static gboolean lv_adopt(FtAgentVm *vm, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", vm->pid);
    g_autofree char *want = g_strdup_printf("guest=%s,", vm->name);
    g_autofree char *cmdline = NULL;
    virDomainPtr dom;
    gsize len = 0, i;
    gboolean named = FALSE, ok;
    gint pid;

    if (!vm->domain) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "vm %s: no libvirt domain of that name has FT metadata",
                    vm->name);
        return FALSE;
    }
    pid = domain_pid(vm->name, error);
    if (pid < 0) {
        return FALSE;
    }
    if (pid != vm->pid) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "vm %s: libvirt's QEMU is pid %d, not %d", vm->name, pid,
                    vm->pid);
        return FALSE;
    }
    if (!g_file_get_contents(path, &cmdline, &len, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "vm %s: QEMU pid %d is gone", vm->name, vm->pid);
        return FALSE;
    }
    for (i = 0; i < len && !named; i += strlen(cmdline + i) + 1) {
        named = g_str_has_prefix(cmdline + i, want) ||
                g_str_equal(cmdline + i, want);
    }
    if (!named) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "vm %s: pid %d is not its QEMU (no -name %s)", vm->name,
                    vm->pid, want);
        return FALSE;
    }
    if (vm->domain->proxy && vm->qmp_path &&
        g_str_equal(ftagent_qmp_proxy_path(vm->domain->proxy),
                    vm->qmp_path)) {
        return TRUE;        /* the second check of ftagent_vm_adopt() */
    }
    dom = lookup(vm->agent, vm->name, error);
    if (!dom) {
        return FALSE;
    }
    ok = new_proxy(vm, dom, ftagent_local_role_name(vm->role), error);
    virDomainFree(dom);
    return ok;
}

static void lv_kill(FtAgentVm *vm)
{
    if (vm->pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, vm->pidfd, SIGKILL, NULL, 0);
    }
}

const FtAgentBackend ftagent_backend_libvirt = {
    .name = "libvirt",
    .ram_block = FTAGENT_LIBVIRT_RAM_ID,
    .boots = FALSE,
    .open = lv_open,
    .close = lv_close,
    .start = lv_start,
    .adopt = lv_adopt,
    .kill = lv_kill,
};

/*
 * Did libvirt end the domain on purpose (virsh destroy, shutdown, save,
 * migrate) rather than lose it? libvirt marks a QEMU that died without a
 * SHUTDOWN event "crashed". Waits (bounded) for libvirt to see the exit.
 */
gboolean ftagent_libvirt_stopped_on_purpose(FtAgentVm *vm)
{
    virDomainPtr dom = vm->agent->libvirt ?
        virDomainLookupByName(vm->agent->libvirt->conn, vm->name) : NULL;
    gint64 deadline = g_get_monotonic_time() +
                      MIN(2000, 100 * vm->agent->config->epoch_ms) * 1000ll;
    int state = VIR_DOMAIN_RUNNING, reason = 0;

    if (!dom) {
        return FALSE;
    }
    while (virDomainGetState(dom, &state, &reason, 0) == 0 &&
           state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED &&
           g_get_monotonic_time() < deadline) {
        g_usleep(5000);
    }
    virDomainFree(dom);
    g_message("vm %s: libvirt says the domain is %s (reason %d)", vm->name,
              state == VIR_DOMAIN_SHUTOFF ? "shut off" : "not shut off",
              reason);
    return state == VIR_DOMAIN_SHUTOFF &&
           (reason == VIR_DOMAIN_SHUTOFF_SHUTDOWN ||
            reason == VIR_DOMAIN_SHUTOFF_DESTROYED ||
            reason == VIR_DOMAIN_SHUTOFF_SAVED ||
            reason == VIR_DOMAIN_SHUTOFF_MIGRATED ||
            reason == VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT);
}

static gboolean reload_later(gpointer data)
{
    FtAgentRetry *r = data;
    g_autoptr(GError) error = NULL;

    if (!ftagent_libvirt_reload(r->agent, r->name, &error)) {
        g_warning("libvirt hook for %s: %s", r->name, error->message);
    }
    g_free(r->name);
    g_free(r);
    return G_SOURCE_REMOVE;
}

const char *ftagent_libvirt_uuid(FtAgentVm *vm)
{
    return vm->domain ? vm->domain->uuid : NULL;
}

gboolean ftagent_libvirt_reload(FtAgent *agent, const char *name,
                                GError **error)
{
    virDomainPtr dom;
    FtAgentVm *vm;
    g_autoptr(GError) local = NULL;

    if (!agent->libvirt) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "this agent's backend is %s: its VMs come from the "
                    "configuration, not libvirt", agent->backend->name);
        return FALSE;
    }
    dom = lookup(agent, name, error);
    if (!dom) {
        return FALSE;
    }
    vm = load_domain(agent, dom, &local);
    if (!vm && local) {
        virDomainFree(dom);
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!vm) {
        FtAgentVm *old = g_hash_table_lookup(agent->vms, name);

        if (old && old->domain) {
            ftagent_vm_unprotect(old, "its FT metadata was removed "
                                      "(virt-ft ft-disable)");
        }
    } else {
        take_running(agent, vm, dom);
    }
    virDomainFree(dom);
    return TRUE;
}

gboolean ftagent_libvirt_hook(FtAgent *agent, JsonObject *event,
                              GError **error)
{
    const char *name = json_object_get_string_member_with_default(
        event, "domain", NULL);
    const char *op = json_object_get_string_member_with_default(event, "op",
                                                                NULL);
    const char *sub = json_object_get_string_member_with_default(
        event, "sub-op", "-");
    FtAgentVm *vm;

    if (!name || !op) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "hook report: \"domain\" and \"op\" (strings) are "
                    "required");
        return FALSE;
    }
    if (!agent->libvirt) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "hook report for %s: this agent's backend is %s, not "
                    "libvirt", name, agent->backend->name);
        return FALSE;
    }
    g_message("libvirt hook: domain %s %s %s", name, op, sub);
    vm = g_hash_table_lookup(agent->vms, name);
    if (g_str_equal(op, "started")) {
        /* Later, not while answering: libvirt holds the domain until the
         * hook returns, and the hook waits for this answer. Also a domain
         * ft-enabled without a reload. */
        FtAgentRetry *r = g_new0(FtAgentRetry, 1);

        r->agent = agent;
        r->name = g_strdup(name);
        g_idle_add(reload_later, r);
        return TRUE;
    }
    if (vm && (g_str_equal(op, "stopped") || g_str_equal(op, "release")) &&
        vm->role == FTAGENT_LOCAL_PRIMARY && !vm->ending) {
        g_message("vm %s: libvirt stopped the domain (%s %s); its pidfd "
                  "tells how it ended", name, op, sub);
    }
    return TRUE;
}
