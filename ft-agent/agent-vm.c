/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-VM life cycle on one agent: boot the primary once (never again: a VM
 * that ran may have been promoted elsewhere), keep it protected on a pool
 * (a new pool after a promotion), pre-create the standby on the standby
 * host, watch the local QEMU with a pidfd, adopt what a previous agent
 * started.
 */
#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-backend.h"
#include "agent-notify.h"
#include "agent-pool.h"
#include "backend-libvirt.h"

const char *ftagent_local_role_name(FtAgentLocalRole role)
{
    switch (role) {
    case FTAGENT_LOCAL_PRIMARY: return "primary";
    case FTAGENT_LOCAL_STANDBY: return "standby";
    case FTAGENT_LOCAL_NONE: break;
    }
    return "none";
}

const char *ftagent_policy_name(FtAgentPolicy policy)
{
    switch (policy) {
    case FTAGENT_POLICY_RESTART: return "restart";
    case FTAGENT_POLICY_NOTIFY: return "notify";
    case FTAGENT_POLICY_PROTECT: break;
    }
    return "protect";
}

static const char *me(FtAgentVm *vm)
{
    return vm->agent->config->host_id;
}

FtAgentVm *ftagent_vm_new(FtAgent *agent, const FtAgentVmConfig *config)
{
    FtAgentVm *vm = g_new0(FtAgentVm, 1);

    vm->agent = agent;
    vm->config = config;
    vm->name = g_strdup(config->name);
    vm->primary_host = g_strdup(config->hosts[0]);
    vm->pidfd = -1;
    vm->status = g_strdup("none");
    vm->timelines = g_ptr_array_new_with_free_func(
        (GDestroyNotify)ftagent_timeline_free);
    vm->policy = g_strcmp0(config->policy, "restart") == 0
                 ? FTAGENT_POLICY_RESTART
                 : g_strcmp0(config->policy, "notify") == 0
                 ? FTAGENT_POLICY_NOTIFY : FTAGENT_POLICY_PROTECT;
    return vm;
}

static void close_local(FtAgentVm *vm)
{
    g_clear_handle_id(&vm->pidfd_watch, g_source_remove);
    if (vm->pidfd >= 0) {
        close(vm->pidfd);
        vm->pidfd = -1;
    }
    if (vm->qmp) {
        g_signal_handlers_disconnect_by_data(vm->qmp, vm);
        qft_qmp_client_close(vm->qmp);
        g_clear_object(&vm->qmp);
    }
    g_clear_pointer(&vm->lease, ftagent_lease_free);
}

void ftagent_vm_free(FtAgentVm *vm)
{
    close_local(vm);
    g_free(vm->name);
    g_free(vm->primary_host);
    g_free(vm->qmp_path);
    g_free(vm->pool);
    g_free(vm->old_pool);
    g_free(vm->status);
    g_free(vm->peer_status);
    g_free(vm->peer_pool);
    g_free(vm->pending_reason);
    g_free(vm->pool_dir);
    ftagent_switchover_clear(vm);
    g_ptr_array_unref(vm->timelines);
    g_free(vm);
}

static void set_status(FtAgentVm *vm, const char *status)
{
    if (g_strcmp0(vm->status, status) != 0) {
        g_message("vm %s: %s %s", vm->name,
                  ftagent_local_role_name(vm->role), status);
        g_free(vm->status);
        vm->status = g_strdup(status);
    }
}

void ftagent_vm_set_primary(FtAgentVm *vm, const char *host,
                            guint64 generation)
{
    if (g_strcmp0(vm->primary_host, host) != 0) {
        g_message("vm %s: primary now on %s (generation %" G_GUINT64_FORMAT
                  ")", vm->name, host, generation);
        g_free(vm->primary_host);
        vm->primary_host = g_strdup(host);
        g_clear_pointer(&vm->peer_status, g_free);
        g_clear_pointer(&vm->peer_pool, g_free);
    }
    vm->generation = MAX(vm->generation, generation);
    vm->ever_started = TRUE;
}

/* The local QEMU is gone, or no longer ours to run. */
void ftagent_vm_drop_local(FtAgentVm *vm)
{
    close_local(vm);
    vm->role = FTAGENT_LOCAL_NONE;
    vm->pid = 0;
    g_clear_pointer(&vm->pool, g_free);
    g_clear_pointer(&vm->old_pool, g_free);
    set_status(vm, "none");
    ftagent_state_save(vm->agent);
}

/* ---- QMP ------------------------------------------------------------- */

static void update_from_query(FtAgentVm *vm, JsonObject *info)
{
    const char *status = json_object_get_string_member_with_default(
        info, "status", "none");

    vm->epoch = json_object_get_int_member_with_default(info, "epoch", 0);
    vm->sync_done = json_object_get_int_member_with_default(info,
                                                            "sync-done", 0);
    vm->sync_total = json_object_get_int_member_with_default(info,
                                                             "sync-total", 0);
    vm->last_pause_ns = json_object_get_int_member_with_default(
        info, "last-pause-ns", 0);
    set_status(vm, status);
}

/*
 * A standby must be able to promote at any moment: one that does not
 * answer query-ft within qmp-timeout-ms (frozen, wedged) or that left the
 * standby state is ended, and its pidfd replaces it after respawn-ms;
 * protection says "no-standby" on the primary's host meanwhile.
 */
static void standby_unhealthy(FtAgentVm *vm, const char *why)
{
    if (vm->role != FTAGENT_LOCAL_STANDBY || vm->failing_over ||
        vm->promote_timeline || vm->ending) {
        return;
    }
    g_warning("vm %s: the standby (pid %d) is unhealthy (%s): replacing it",
              vm->name, vm->pid, why);
    vm->agent->backend->kill(vm);
}

/* A query-ft in flight, and the state serial it was issued under: a
 * reply that overtook a state change (ft-start, ft-promote, answered
 * synchronously meanwhile) is stale and dropped. */
typedef struct FtAgentQuery {
    FtAgentVm *vm;
    guint64 serial;
} FtAgentQuery;

static void on_query_ft(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autofree FtAgentQuery *q = data;
    FtAgentVm *vm = q->vm;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) info = qft_qmp_execute_finish(QFT_QMP_CLIENT(source),
                                                      res, &error);

    if (!info) {
        if (g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT) &&
            vm->qmp == QFT_QMP_CLIENT(source) &&
            q->serial == vm->state_serial) {
            standby_unhealthy(vm, error->message);
        } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_debug("vm %s: query-ft: %s", vm->name, error->message);
        }
        return;
    }
    if (vm->qmp == QFT_QMP_CLIENT(source) && q->serial == vm->state_serial &&
        JSON_NODE_HOLDS_OBJECT(info)) {
        update_from_query(vm, json_node_get_object(info));
        if (vm->role == FTAGENT_LOCAL_STANDBY &&
            g_strcmp0(vm->status, "standby") != 0) {
            g_autofree char *why = g_strdup_printf("query-ft status '%s'",
                                                   vm->status);

            standby_unhealthy(vm, why);
        }
    }
}

static void query_ft(FtAgentVm *vm)
{
    vm->last_query = g_get_monotonic_time();
    if (vm->qmp && !qft_qmp_client_is_closed(vm->qmp)) {
        FtAgentQuery *q = g_new0(FtAgentQuery, 1);

        q->vm = vm;
        q->serial = vm->state_serial;
        qft_qmp_execute_async(vm->qmp, "query-ft", NULL,
                              vm->agent->config->qmp_timeout_ms, NULL,
                              on_query_ft, q);
    }
}

static void on_qmp_event(QftQmpClient *client, const char *name,
                         JsonNode *event, gpointer data)
{
    FtAgentVm *vm = data;
    JsonObject *o = json_node_get_object(event);
    JsonObject *d = json_object_get_object_member(o, "data");

    (void)client;
    if (g_str_equal(name, "FT_STATE_CHANGE") && d) {
        /* not the event's status: it may predate a synchronous command's
         * reply already acted on; a fresh query-ft tells */
        query_ft(vm);
    } else if (g_str_equal(name, "FT_FENCED")) {
        g_message("vm %s: fenced by a promotion elsewhere: ending the old "
                  "primary here", vm->name);
        set_status(vm, "fenced");
    }
}

static gboolean connect_qmp(FtAgentVm *vm, GError **error)
{
    vm->qmp = qft_qmp_client_connect(vm->qmp_path,
                                     vm->agent->config->qmp_timeout_ms, error);
    if (!vm->qmp) {
        g_prefix_error(error, "vm %s: QMP %s: ", vm->name, vm->qmp_path);
        return FALSE;
    }
    g_signal_connect(vm->qmp, "event::FT_STATE_CHANGE",
                     G_CALLBACK(on_qmp_event), vm);
    g_signal_connect(vm->qmp, "event::FT_FENCED", G_CALLBACK(on_qmp_event),
                     vm);
    qft_qmp_client_attach(vm->qmp, NULL);
    return TRUE;
}

static JsonNode *qmp(FtAgentVm *vm, const char *command, JsonObject *args,
                     GError **error)
{
    JsonNode *r;

    if (!vm->qmp) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "vm %s: no QMP connection", vm->name);
        return NULL;
    }
    r = qft_qmp_execute(vm->qmp, command, args,
                        vm->agent->config->qmp_timeout_ms, error);
    if (!r) {
        g_prefix_error(error, "vm %s: %s: ", vm->name, command);
    }
    return r;
}

/* ---- the pidfd --------------------------------------------------------- */

static char *exit_text(FtAgentVm *vm)
{
    siginfo_t info = { 0 };

    if (syscall(SYS_waitid, P_PIDFD, vm->pidfd, &info, WEXITED | WNOHANG,
                NULL) < 0) {
        return g_strdup("exited");       /* adopted: not our child */
    }
    if (info.si_code == CLD_EXITED) {
        return g_strdup_printf("status %d", info.si_status);
    }
    return g_strdup_printf("signal %d", info.si_status);
}

static gboolean on_pidfd(gint fd, GIOCondition cond, gpointer data)
{
    FtAgentVm *vm = data;
    g_autofree char *exit = NULL;

    (void)fd;
    (void)cond;
    vm->pidfd_watch = 0;
    exit = exit_text(vm);
    ftagent_vm_local_died(vm, exit);
    return G_SOURCE_REMOVE;
}

static gboolean watch_pid(FtAgentVm *vm, GError **error)
{
    vm->pidfd = syscall(SYS_pidfd_open, vm->pid, 0);
    if (vm->pidfd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "vm %s: pidfd_open(%d): %s", vm->name, vm->pid,
                    g_strerror(errno));
        return FALSE;
    }
    vm->pidfd_watch = g_unix_fd_add(vm->pidfd, G_IO_IN, on_pidfd, vm);
    return TRUE;
}

/* qemu-died (docs/protocol.md) for the local primary, to every peer;
 * word: the pool's commit word read after the exit. */
static void tell_death(FtAgentVm *vm, guint64 word, const char *exit,
                       FtAgentSource source, const char *detail)
{
    g_autoptr(JsonObject) p = json_object_new();

    json_object_set_string_member(p, "vm", vm->name);
    json_object_set_int_member(p, "pid", vm->pid);
    json_object_set_int_member(p, "generation",
                               ftpool_commit_generation(word));
    json_object_set_int_member(p, "epoch", ftpool_commit_epoch(word));
    json_object_set_int_member(p, "detected-ns", ftagent_now_real_ns());
    json_object_set_string_member(p, "exit", exit);
    json_object_set_string_member(p, "pool", vm->pool ? vm->pool : "");
    json_object_set_string_member(p, "reason", ftagent_source_name(source));
    if (detail) {
        json_object_set_string_member(p, "detail", detail);
    }
    if (vm->switchover_resume) {
        /* a planned switchover: the promoted VM runs on (the checkpoint
         * holds the pause the switchover made) */
        json_object_set_boolean_member(p, "resume", TRUE);
    }
    ftagent_peer_broadcast(vm->agent, FTAGENT_MSG_QEMU_DIED, p);
}

/* The primary's QEMU exited: tell the standby's host at once (the hot path:
 * no QMP, no disk before the datagram). */
static const char *standby_host(FtAgentVm *vm);

static gboolean stopped_on_purpose(FtAgentVm *vm, const char *exit)
{
    if (vm->domain) {
        return ftagent_libvirt_stopped_on_purpose(vm);
    }
    return g_str_equal(exit, "status 0");    /* quit, guest poweroff */
}

void ftagent_vm_local_died(FtAgentVm *vm, const char *exit)
{
    if (vm->role == FTAGENT_LOCAL_PRIMARY && vm->ending) {
        g_message("vm %s: the fenced or superseded primary (pid %d) %s",
                  vm->name, vm->pid, exit);
    } else if (vm->role == FTAGENT_LOCAL_PRIMARY &&
               vm->policy != FTAGENT_POLICY_PROTECT && !vm->disabled &&
               stopped_on_purpose(vm, exit)) {
        g_message("vm %s: the primary (pid %d) was stopped on purpose (%s): "
                  "nothing to recover", vm->name, vm->pid, exit);
    } else if (vm->role == FTAGENT_LOCAL_PRIMARY &&
               vm->policy == FTAGENT_POLICY_NOTIFY && !vm->disabled) {
        g_warning("vm %s: the primary QEMU (pid %d) %s; policy notify: "
                  "telling the cloud API only", vm->name, vm->pid, exit);
        ftagent_notify_cannot_recover(vm, me(vm), "policy notify");
    } else if (vm->role == FTAGENT_LOCAL_PRIMARY) {
        tell_death(vm, vm->lease ? ftagent_lease_sample(vm->lease) : 0, exit,
                   vm->pending_source ? vm->pending_source
                                      : FTAGENT_SOURCE_QEMU_DEATH,
                   vm->pending_reason);
        g_message("vm %s: primary QEMU (pid %d) %s; told the peers", vm->name,
                  vm->pid, exit);
    } else if (vm->role == FTAGENT_LOCAL_STANDBY) {
        vm->standby_deaths++;
        vm->respawn_after = g_get_monotonic_time() +
                            vm->agent->config->respawn_ms * 1000ll;
        g_warning("vm %s: standby QEMU (pid %d) %s: the VM is unprotected "
                  "until a new standby is attached", vm->name, vm->pid, exit);
    }
    vm->pending_source = FTAGENT_SOURCE_NONE;
    vm->ending = FALSE;
    vm->switchover_resume = FALSE;
    ftagent_switchover_clear(vm);
    g_clear_pointer(&vm->pending_reason, g_free);
    ftagent_vm_drop_local(vm);
}

/*
 * A restarted agent found its primary QEMU gone (the host came back): say
 * so, as the pidfd would have. A standby whose promotion waits for that
 * primary's disk intent may go on; one whose pool still advances (another
 * QEMU commits) ignores it, as every death report.
 */
void ftagent_vm_report_dead(FtAgentVm *vm, const char *why)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentLease) lease = ftagent_lease_open(vm->pool, &error);

    tell_death(vm, lease ? ftagent_lease_sample(lease) : 0,
               "found dead by the restarted agent", FTAGENT_SOURCE_QEMU_DEATH,
               why);
    g_message("vm %s: the primary QEMU (pid %d) of pool %s is gone; told "
              "the peers", vm->name, vm->pid, vm->pool);
}

/* ---- starting ----------------------------------------------------------- */

static char *new_pool_path(FtAgentVm *vm)
{
    return g_strdup_printf("%s/%s-%s-%" G_GINT64_FORMAT ".pool",
                           vm->pool_dir ? vm->pool_dir
                                        : vm->agent->config->pool_dir,
                           vm->name, me(vm), ftagent_now_real_ns());
}

static gboolean protect(FtAgentVm *vm, GError **error)
{
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) r = NULL;
    g_autofree char *pool = new_pool_path(vm);
    guint epoch_ms = vm->epoch_ms ? vm->epoch_ms : vm->agent->config->epoch_ms;

    json_object_set_string_member(args, "pool", pool);
    json_object_set_int_member(args, "epoch-ms", epoch_ms);
    json_object_set_string_member(args, "trigger",
                                  vm->agent->config->trigger);
    if (vm->min_gap_us) {
        json_object_set_int_member(args, "min-gap-us", vm->min_gap_us);
    }
    vm->state_serial++;
    r = qmp(vm, "ft-start", args, error);
    if (!r) {
        return FALSE;
    }
    g_clear_pointer(&vm->lease, ftagent_lease_free);
    vm->lease = ftagent_lease_open(pool, error);
    if (!vm->lease) {
        return FALSE;
    }
    g_free(vm->pool);
    vm->pool = g_steal_pointer(&pool);
    g_message("vm %s: protecting on %s (epoch-ms %u)", vm->name, vm->pool,
              epoch_ms);
    set_status(vm, "syncing");
    ftagent_state_save(vm->agent);
    return TRUE;
}

static gboolean start_local(FtAgentVm *vm, FtAgentLocalRole role,
                            const char *pool, GError **error)
{
    guint64 offset = 0;

    if (pool && !ftagent_pool_ram_offset(pool, vm->agent->backend->ram_block,
                                         &offset, error)) {
        return FALSE;
    }
    if (!vm->agent->backend->start(vm, pool, offset, error) ||
        !watch_pid(vm, error)) {
        return FALSE;
    }
    vm->role = role;
    if (!connect_qmp(vm, error)) {
        return FALSE;
    }
    return TRUE;
}

/*
 * The first boot. Until ft-start created a pool nothing can ever be
 * promoted from this run, so a failed boot is retried (after respawn-ms)
 * like a VM restart; once a pool exists the VM counts as started and is
 * never booted again by this agent.
 */
static void boot_primary(FtAgentVm *vm)
{
    g_autoptr(GError) error = NULL;

    vm->generation = 1;
    vm->respawn_after = g_get_monotonic_time() +
                        vm->agent->config->respawn_ms * 1000ll;
    if (!start_local(vm, FTAGENT_LOCAL_PRIMARY, NULL, &error) ||
        (vm->policy == FTAGENT_POLICY_PROTECT && !protect(vm, &error))) {
        vm->boot_failures++;
        g_warning("vm %s: boot %u failed, retrying in %u ms: %s", vm->name,
                  vm->boot_failures, vm->agent->config->respawn_ms,
                  error->message);
        if (vm->pidfd >= 0) {
            vm->agent->backend->kill(vm);   /* its pidfd drops it */
        } else {
            ftagent_vm_drop_local(vm);
        }
        return;
    }
    vm->ever_started = TRUE;
    ftagent_state_save(vm->agent);
}

static void start_standby(FtAgentVm *vm, const char *pool)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) r = NULL;

    vm->respawn_after = g_get_monotonic_time() +
                        vm->agent->config->respawn_ms * 1000ll;
    if (!start_local(vm, FTAGENT_LOCAL_STANDBY, pool, &error)) {
        goto fail;
    }
    json_object_set_string_member(args, "pool", pool);
    r = qmp(vm, "ft-standby", args, &error);
    if (!r) {
        goto fail;
    }
    vm->state_serial++;         /* a query-ft from before says "none" */
    vm->lease = ftagent_lease_open(pool, &error);
    if (!vm->lease) {
        goto fail;
    }
    vm->pool = g_strdup(pool);
    set_status(vm, "standby");
    ftagent_state_save(vm->agent);
    return;

fail:
    g_warning("vm %s: standby on %s: %s", vm->name, pool, error->message);
    vm->agent->backend->kill(vm);
}

/*
 * The VM's manager (libvirt) started its QEMU here, pid: adopt it as the
 * primary and protect it. Refused when the VM runs elsewhere (a second
 * copy must never run: the hook refuses such a start before it happens,
 * this is the check behind it) or when something already runs here (the
 * agent's own standby or cold restart, reported by the hook too).
 */
gboolean ftagent_vm_manager_started(FtAgentVm *vm, gint pid, GError **error)
{
    if (vm->role != FTAGENT_LOCAL_NONE) {
        return TRUE;
    }
    if (g_strcmp0(vm->primary_host, me(vm)) != 0 && vm->ever_started) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "vm %s: it runs on %s (generation %" G_GUINT64_FORMAT
                    "): ending the copy started here (pid %d)", vm->name,
                    vm->primary_host, vm->generation, pid);
        kill(pid, SIGKILL);
        return FALSE;
    }
    vm->pid = pid;
    vm->role = FTAGENT_LOCAL_PRIMARY;
    if (!vm->agent->backend->adopt(vm, error) || !watch_pid(vm, error) ||
        !connect_qmp(vm, error)) {
        ftagent_vm_drop_local(vm);
        return FALSE;
    }
    g_free(vm->primary_host);
    vm->primary_host = g_strdup(me(vm));
    vm->generation = MAX(vm->generation, 1);
    vm->ever_started = TRUE;
    g_message("vm %s: adopted the primary its manager started (pid %d, "
              "policy %s)", vm->name, pid, ftagent_policy_name(vm->policy));
    if (vm->policy == FTAGENT_POLICY_PROTECT && !protect(vm, error)) {
        return FALSE;       /* the tick retries after respawn-ms */
    }
    ftagent_state_save(vm->agent);
    return TRUE;
}

/*
 * Policy restart: the primary on another host died (its agent said so) and
 * this host is the first candidate: boot the VM here from its definition,
 * one generation on. Nothing of the old run survives but its disks.
 */
void ftagent_vm_cold_restart(FtAgentVm *vm, const char *from,
                             const char *why)
{
    g_autoptr(GError) error = NULL;

    if (vm->role != FTAGENT_LOCAL_NONE || vm->disabled ||
        g_strcmp0(standby_host(vm), me(vm)) != 0) {
        g_message("vm %s: %s reports it dead (%s); not this host's to "
                  "restart", vm->name, from, why);
        return;
    }
    g_message("vm %s: %s reports it dead (%s): cold restart here (policy "
              "restart)", vm->name, from, why);
    if (!start_local(vm, FTAGENT_LOCAL_PRIMARY, NULL, &error)) {
        g_warning("vm %s: cold restart failed: %s", vm->name,
                  error->message);
        if (vm->pidfd >= 0) {
            vm->agent->backend->kill(vm);
        } else {
            ftagent_vm_drop_local(vm);
        }
        ftagent_notify_cannot_recover(vm, from, error->message);
        return;
    }
    g_free(vm->primary_host);
    vm->primary_host = g_strdup(me(vm));
    vm->generation++;
    vm->ever_started = TRUE;
    vm->failovers++;
    ftagent_state_save(vm->agent);
}

/* Protection ends here: the primary's pool is retired (ft-stop), a
 * standby is ended. The VM itself runs on. */
static void end_protection(FtAgentVm *vm)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) r = NULL;

    if (vm->role == FTAGENT_LOCAL_PRIMARY && vm->pool) {
        vm->state_serial++;
        r = qmp(vm, "ft-stop", NULL, &error);
        if (!r) {
            g_warning("vm %s: ft-stop: %s", vm->name, error->message);
        }
        g_clear_pointer(&vm->pool, g_free);
        g_clear_pointer(&vm->lease, ftagent_lease_free);
        set_status(vm, "none");
    } else if (vm->role == FTAGENT_LOCAL_STANDBY) {
        vm->ending = TRUE;
        vm->agent->backend->kill(vm);
    }
    ftagent_state_save(vm->agent);
}

/* FT was disabled: protection ends for good, the VM runs on as an
 * ordinary one and the agent leaves it alone. */
void ftagent_vm_unprotect(FtAgentVm *vm, const char *why)
{
    g_message("vm %s: no longer fault tolerant: %s", vm->name, why);
    end_protection(vm);
    vm->disabled = TRUE;
}

/* The policy changed (ft-enable again): from protect, protection ends;
 * to protect, the tick protects the running primary. */
void ftagent_vm_policy_changed(FtAgentVm *vm, FtAgentPolicy old)
{
    if (old == vm->policy) {
        return;
    }
    g_message("vm %s: policy %s -> %s", vm->name, ftagent_policy_name(old),
              ftagent_policy_name(vm->policy));
    if (old == FTAGENT_POLICY_PROTECT) {
        end_protection(vm);
    }
}

/* The host that should hold the standby: the first of the VM's hosts,
 * other than the primary's, that is alive (this one always is). */
static const char *standby_host(FtAgentVm *vm)
{
    for (char **h = vm->config->hosts; *h; h++) {
        if (g_strcmp0(*h, vm->primary_host) == 0) {
            continue;
        }
        if (g_str_equal(*h, me(vm)) || ftagent_peer_alive(vm->agent, *h)) {
            return *h;
        }
    }
    return NULL;
}

const char *ftagent_vm_protection(FtAgentVm *vm)
{
    if (vm->disabled) {
        return "disabled";
    }
    if (g_strcmp0(vm->primary_host, me(vm)) != 0) {
        return vm->role == FTAGENT_LOCAL_STANDBY ? "standby" : "remote";
    }
    if (vm->role != FTAGENT_LOCAL_PRIMARY) {
        return "down";
    }
    if (vm->policy == FTAGENT_POLICY_NOTIFY) {
        return "notify-only";
    }
    if (vm->policy == FTAGENT_POLICY_RESTART) {
        /* a host to boot it on is alive */
        return standby_host(vm) ? "cold-standby" : "no-standby";
    }
    if (g_strcmp0(vm->status, "protected") != 0) {
        return g_strcmp0(vm->status, "syncing") == 0 ? "syncing"
                                                     : "unprotected";
    }
    if (g_strcmp0(vm->peer_status, "standby") == 0 &&
        g_strcmp0(vm->peer_pool, vm->pool) == 0) {
        return "protected";
    }
    return "no-standby";
}

/*
 * NAME.elsewhere, beside the control socket, exists while the VM runs on
 * another host (a peer
 * that is alive says it runs the primary): the libvirt hook refuses to
 * start a second copy here (ft-libvirt-hook reads it; it must not ask the
 * agent, which may be busy in a libvirt call). Holds the host's name.
 */
static void update_elsewhere(FtAgentVm *vm)
{
    g_autofree char *path = NULL, *dir = NULL;
    gboolean elsewhere = vm->domain && vm->ever_started &&
                         g_strcmp0(vm->primary_host, me(vm)) != 0 &&
                         ftagent_peer_alive(vm->agent, vm->primary_host) &&
                         vm->primary_running;

    if (elsewhere == vm->elsewhere_written) {
        return;
    }
    dir = g_path_get_dirname(vm->agent->config->control_socket);
    path = g_strdup_printf("%s/%s.elsewhere", dir, vm->name);
    if (elsewhere) {
        g_autofree char *text = g_strdup_printf(
            "%s %" G_GUINT64_FORMAT "\n", vm->primary_host, vm->generation);
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents(path, text, -1, &error)) {
            g_warning("vm %s: %s", vm->name, error->message);
            return;
        }
    } else if (unlink(path) < 0 && errno != ENOENT) {
        g_warning("vm %s: removing %s: %s", vm->name, path,
                  g_strerror(errno));
        return;
    }
    vm->elsewhere_written = elsewhere;
}

void ftagent_vm_tick(FtAgentVm *vm)
{
    update_elsewhere(vm);
    g_autoptr(GError) error = NULL;
    gboolean mine = g_strcmp0(vm->primary_host, me(vm)) == 0;

    if (vm->failing_over || vm->disabled) {
        return;
    }
    switch (vm->role) {
    case FTAGENT_LOCAL_NONE:
        if (mine && !vm->ever_started && vm->agent->backend->boots &&
            g_get_monotonic_time() >= vm->respawn_after) {
            boot_primary(vm);
        } else if (!mine && vm->policy == FTAGENT_POLICY_PROTECT &&
                   vm->peer_pool &&
                   g_strcmp0(vm->peer_status, "protected") == 0 &&
                   g_strcmp0(standby_host(vm), me(vm)) == 0 &&
                   g_get_monotonic_time() >= vm->respawn_after) {
            start_standby(vm, vm->peer_pool);
        }
        break;
    case FTAGENT_LOCAL_PRIMARY:
        if (g_get_monotonic_time() - vm->last_query >
            vm->agent->config->respawn_ms * 1000ll) {
            query_ft(vm);
        }
        if (vm->resume_after_promotion && mine &&
            g_strcmp0(vm->status, "standby") != 0) {
            /* a planned switchover paused the old primary: run on */
            g_autoptr(JsonNode) r = NULL;

            vm->resume_after_promotion = FALSE;
            r = qmp(vm, "cont", NULL, &error);
            if (!r) {
                g_warning("vm %s: resuming after the switchover: %s",
                          vm->name, error->message);
                g_clear_error(&error);
            } else {
                g_message("vm %s: running on after the planned switchover",
                          vm->name);
            }
        }
        if (g_strcmp0(vm->status, "fenced") == 0 || !mine) {
            if (!vm->ending) {
                g_message("vm %s: the local primary is fenced or superseded; "
                          "ending it", vm->name);
                vm->ending = TRUE;
                vm->agent->backend->kill(vm);
            }
        } else if (vm->policy == FTAGENT_POLICY_PROTECT &&
                   (g_strcmp0(vm->status, "promoted") == 0 ||
                    g_strcmp0(vm->status, "none") == 0 ||
                    g_strcmp0(vm->status, "failed") == 0) &&
                   g_get_monotonic_time() >= vm->respawn_after) {
            vm->respawn_after = g_get_monotonic_time() +
                                vm->agent->config->respawn_ms * 1000ll;
            /* Re-protection: a new pool (the old one is this VM's RAM). */
            if (!protect(vm, &error)) {
                g_warning("vm %s: re-protection: %s", vm->name,
                          error->message);
            }
        }
        break;
    case FTAGENT_LOCAL_STANDBY:
        if (mine) {
            break;      /* promoting: agent-failover.c */
        }
        if (g_get_monotonic_time() - vm->last_query >
            vm->agent->config->respawn_ms * 1000ll) {
            query_ft(vm);       /* the health check */
        }
        if (vm->lease && ftpool_commit_retired(vm->lease->word) &&
            !vm->ending) {
            /* ft-stop, ft-disable, a clean exit: never promoted */
            g_message("vm %s: the pool %s was retired: ending its standby",
                      vm->name, vm->pool);
            vm->ending = TRUE;
            vm->agent->backend->kill(vm);
        } else if (vm->peer_pool && g_strcmp0(vm->peer_pool, vm->pool) != 0 &&
            vm->peer_status) {
            g_message("vm %s: the primary protects on a new pool %s; "
                      "replacing the standby of %s", vm->name, vm->peer_pool,
                      vm->pool);
            vm->agent->backend->kill(vm);
        }
        break;
    }
}

/* A heartbeat's entry for this VM from host. */
void ftagent_vm_on_heartbeat(FtAgentVm *vm, const char *host, JsonObject *v)
{
    const char *role = json_object_get_string_member_with_default(v, "role",
                                                                  "none");
    guint64 generation = json_object_get_int_member_with_default(
        v, "generation", 0);

    if (g_strcmp0(host, vm->primary_host) == 0 ||
        (g_str_equal(role, "primary") && generation > vm->generation)) {
        vm->primary_running = g_str_equal(role, "primary");
    }
    if (g_str_equal(role, "primary") && generation > vm->generation) {
        if (vm->role == FTAGENT_LOCAL_PRIMARY) {
            g_message("vm %s: %s runs it at generation %" G_GUINT64_FORMAT
                      ", above ours", vm->name, host, generation);
        }
        ftagent_vm_set_primary(vm, host, generation);
    }
    if (g_strcmp0(vm->primary_host, me(vm)) == 0
        ? g_strcmp0(host, standby_host(vm)) == 0
        : g_strcmp0(host, vm->primary_host) == 0) {
        g_free(vm->peer_status);
        vm->peer_status = g_strdup(json_object_get_string_member_with_default(
            v, "status", "none"));
        g_free(vm->peer_pool);
        vm->peer_pool = g_strdup(json_object_get_string_member_with_default(
            v, "pool", ""));
        if (!*vm->peer_pool) {
            g_clear_pointer(&vm->peer_pool, g_free);
        }
    }
}

gboolean ftagent_vm_request_failover(FtAgentVm *vm, FtAgentSource source,
                                     const char *detail, GError **error)
{
    if (vm->role == FTAGENT_LOCAL_PRIMARY) {
        /* A planned fence: end the primary; its death report carries the
         * reason and the standby promotes from the last commit. */
        if (!vm->lease || ftpool_commit_epoch(ftagent_lease_sample(vm->lease))
                          == 0 ||
            g_strcmp0(ftagent_vm_protection(vm), "protected") != 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "vm %s: not failing over: protection is '%s' (a "
                        "standby attached to a committed pool is needed)",
                        vm->name, ftagent_vm_protection(vm));
            return FALSE;
        }
        vm->pending_source = source;
        g_free(vm->pending_reason);
        vm->pending_reason = g_strdup(detail);
        g_message("vm %s: failover requested (%s: %s): ending the primary",
                  vm->name, ftagent_source_name(source), detail);
        vm->agent->backend->kill(vm);
        return TRUE;
    }
    if (vm->role == FTAGENT_LOCAL_STANDBY) {
        g_autoptr(JsonObject) p = json_object_new();

        if (!ftagent_peer_alive(vm->agent, vm->primary_host)) {
            ftagent_failover_fault(vm, source, detail, ftagent_now_real_ns());
            return TRUE;
        }
        json_object_set_string_member(p, "vm", vm->name);
        json_object_set_string_member(p, "reason", ftagent_source_name(source));
        json_object_set_string_member(p, "detail", detail);
        json_object_set_int_member(p, "detected-ns", ftagent_now_real_ns());
        ftagent_peer_send(vm->agent, vm->primary_host,
                          FTAGENT_MSG_FAILOVER_REQUEST, p);
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "vm %s: neither its primary nor its standby runs on %s",
                vm->name, me(vm));
    return FALSE;
}

/* ---- adopting what a previous agent started ------------------------------ */

gboolean ftagent_vm_adopt(FtAgentVm *vm, GError **error)
{
    if (!vm->agent->backend->adopt(vm, error) || !watch_pid(vm, error)) {
        return FALSE;
    }
    /* The pidfd is ours now: check again that it is the same process. */
    if (!vm->agent->backend->adopt(vm, error) || !connect_qmp(vm, error)) {
        return FALSE;
    }
    if (vm->pool) {
        vm->lease = ftagent_lease_open(vm->pool, error);
        if (!vm->lease) {
            return FALSE;
        }
    }
    query_ft(vm);
    g_message("vm %s: adopted the %s QEMU (pid %d, pool %s)", vm->name,
              ftagent_local_role_name(vm->role), vm->pid,
              vm->pool ? vm->pool : "none");
    return TRUE;
}

JsonObject *ftagent_vm_to_json(FtAgentVm *vm)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", vm->name);
    json_object_set_string_member(o, "role", ftagent_local_role_name(vm->role));
    json_object_set_string_member(o, "status", vm->status);
    json_object_set_string_member(o, "protection", ftagent_vm_protection(vm));
    json_object_set_string_member(o, "primary-host", vm->primary_host);
    json_object_set_int_member(o, "generation", vm->generation);
    json_object_set_int_member(o, "epoch", vm->lease ?
        ftpool_commit_epoch(ftagent_lease_sample(vm->lease)) : vm->epoch);
    json_object_set_string_member(o, "pool", vm->pool ? vm->pool : "");
    json_object_set_int_member(o, "qemu-pid", vm->pid);
    if (vm->pid && vm->qmp_path && g_str_has_suffix(vm->qmp_path, ".qmp")) {
        g_autofree char *ops = g_strdup_printf(
            "%.*s.ops.qmp", (int)strlen(vm->qmp_path) - 4, vm->qmp_path);

        json_object_set_string_member(o, "ops-qmp", ops);   /* backend-qemu */
    }
    json_object_set_int_member(o, "sync-done", vm->sync_done);
    json_object_set_int_member(o, "sync-total", vm->sync_total);
    json_object_set_int_member(o, "last-pause-ns", vm->last_pause_ns);
    json_object_set_int_member(o, "standby-deaths", vm->standby_deaths);
    json_object_set_int_member(o, "boot-failures", vm->boot_failures);
    json_object_set_int_member(o, "failovers", vm->failovers);
    json_object_set_string_member(o, "peer-status",
                                  vm->peer_status ? vm->peer_status : "");
    json_object_set_string_member(o, "policy", ftagent_policy_name(vm->policy));
    json_object_set_string_member(o, "backend", vm->agent->backend->name);
    if (ftagent_libvirt_uuid(vm)) {
        json_object_set_string_member(o, "domain-uuid",
                                      ftagent_libvirt_uuid(vm));
    }
    /* since the commit word last changed, as this agent sampled it */
    json_object_set_int_member(o, "last-commit-age-ns", vm->lease ?
        (g_get_monotonic_time() - vm->lease->changed_at) * 1000 : 0);
    json_object_set_string_member(o, "standby-host",
        g_strcmp0(vm->primary_host, me(vm)) == 0
        ? (standby_host(vm) ? standby_host(vm) : "")
        : (vm->role == FTAGENT_LOCAL_STANDBY ? me(vm) : ""));
    json_object_set_boolean_member(o, "switchover-prepared",
                                   vm->switchover_prepared);
    return o;
}
