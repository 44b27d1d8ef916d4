/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The planned switchover (POST /v1/vms/NAME/switchover, virt-ft
 * ft-failover): move a protected VM to its standby losing nothing.
 *
 *   prepare  the primary pauses ("stop"); the agent waits until an epoch
 *            that began after the pause is committed (the commit word's
 *            epoch two past the one at the pause: the one in flight at the
 *            pause may hold state from before it). Everything the guest
 *            sent is then released and in the pool; the standby has it all.
 *   commit   the primary is ended (a planned kill) and its death report
 *            says "resume": the standby promotes the paused checkpoint and
 *            runs it on. From the kill on, nothing can be undone.
 *   abort    before commit: the primary runs on ("cont"), protected as
 *            before. A prepared switchover that gets neither within the
 *            switchover timeout aborts by itself, so a lost client never
 *            leaves the VM paused.
 *
 * A VM that was paused before (a user's stop) stays paused throughout.
 */
#include <libsoup/soup.h>

#include "agent-backend.h"
#include "agent-pool.h"
#include "agent-rest.h"

/* The timeouts, from the one knob: the wait for the commit after the
 * pause is the lease (lease-ms: a primary that commits nothing for that
 * long is failing); a prepared switchover waits 250 epochs, >= 5 s. */
static guint prepared_timeout_ms(FtAgentVm *vm)
{
    return MAX(5000, 250 * vm->agent->config->epoch_ms);
}

static guint64 committed_epoch(FtAgentVm *vm)
{
    return vm->lease ? ftpool_commit_epoch(ftagent_lease_sample(vm->lease))
                     : 0;
}

static void finish_request(FtAgentVm *vm, guint status, JsonObject *reply,
                           const char *error_text)
{
    SoupServerMessage *msg = vm->switchover_msg;

    if (!msg) {
        return;
    }
    vm->switchover_msg = NULL;
    if (error_text) {
        ftagent_rest_reply_error(msg, status, error_text);
    } else {
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);

        json_node_set_object(n, reply);
        ftagent_rest_reply_json(msg, status, n);
    }
    soup_server_message_unpause(msg);
    g_object_unref(msg);
}

static gboolean resume(FtAgentVm *vm, GError **error)
{
    g_autoptr(JsonNode) r = NULL;

    if (!vm->qmp) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                    "vm %s: no QMP connection", vm->name);
        return FALSE;
    }
    r = qft_qmp_execute(vm->qmp, "cont", NULL,
                        vm->agent->config->qmp_timeout_ms, error);
    return r != NULL;
}

static gboolean was_running(FtAgentVm *vm)
{
    g_autoptr(JsonNode) r = vm->qmp ?
        qft_qmp_execute(vm->qmp, "query-status", NULL,
                        vm->agent->config->qmp_timeout_ms, NULL) : NULL;

    return r && JSON_NODE_HOLDS_OBJECT(r) &&
           json_object_get_boolean_member_with_default(
               json_node_get_object(r), "running", FALSE);
}

static void do_abort(FtAgentVm *vm, const char *why)
{
    g_autoptr(GError) error = NULL;

    g_clear_handle_id(&vm->switchover_timer, g_source_remove);
    vm->switchover_prepared = FALSE;
    g_message("vm %s: switchover aborted (%s): the primary runs on here",
              vm->name, why);
    if (vm->switchover_was_running && !resume(vm, &error)) {
        g_warning("vm %s: resuming after the aborted switchover: %s",
                  vm->name, error->message);
    }
}

static gboolean on_prepared_timeout(gpointer data)
{
    FtAgentVm *vm = data;

    vm->switchover_timer = 0;
    do_abort(vm, "neither commit nor abort within the switchover timeout");
    return G_SOURCE_REMOVE;
}

static gboolean on_wait_commit(gpointer data)
{
    FtAgentVm *vm = data;
    guint64 epoch = committed_epoch(vm);
    g_autoptr(JsonObject) reply = NULL;
    if (vm->role != FTAGENT_LOCAL_PRIMARY ||
        g_strcmp0(vm->status, "protected") != 0) {
        g_autofree char *t = g_strdup_printf(
            "vm %s: protection ended while preparing the switchover "
            "(status %s)", vm->name, vm->status);

        vm->switchover_timer = 0;
        do_abort(vm, t);
        finish_request(vm, SOUP_STATUS_CONFLICT, NULL, t);
        return G_SOURCE_REMOVE;
    }
    if (epoch >= vm->switchover_epoch + 2) {
        vm->switchover_timer = 0;
        vm->switchover_prepared = TRUE;
        vm->switchover_epoch = epoch;
        g_message("vm %s: switchover prepared: paused, epoch %" G_GUINT64_FORMAT
                  " committed", vm->name, epoch);
        reply = json_object_new();
        json_object_set_string_member(reply, "phase", "prepared");
        json_object_set_int_member(reply, "epoch", epoch);
        json_object_set_int_member(reply, "timeout-ms",
                                   prepared_timeout_ms(vm));
        finish_request(vm, SOUP_STATUS_OK, g_steal_pointer(&reply), NULL);
        vm->switchover_timer = g_timeout_add(prepared_timeout_ms(vm),
                                             on_prepared_timeout, vm);
        return G_SOURCE_REMOVE;
    }
    if (g_get_monotonic_time() > vm->switchover_deadline) {
        g_autofree char *t = g_strdup_printf(
            "vm %s: no epoch was committed within lease-ms (%u ms) of the "
            "pause: switchover aborted, the primary runs on", vm->name,
            vm->agent->config->lease_ms);

        vm->switchover_timer = 0;
        do_abort(vm, "no commit after the pause");
        finish_request(vm, SOUP_STATUS_CONFLICT, NULL, t);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean prepare(FtAgentVm *vm, SoupServerMessage *msg, GError **error)
{
    g_autoptr(JsonNode) r = NULL;

    if (vm->switchover_prepared || vm->switchover_msg) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    "vm %s: a switchover is already %s", vm->name,
                    vm->switchover_prepared ? "prepared" : "being prepared");
        return FALSE;
    }
    if (g_strcmp0(ftagent_vm_protection(vm), "protected") != 0 ||
        vm->role != FTAGENT_LOCAL_PRIMARY) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "vm %s: no switchover: protection here is '%s' (the "
                    "primary's host, protected by a standby, is needed)",
                    vm->name, ftagent_vm_protection(vm));
        return FALSE;
    }
    vm->switchover_was_running = was_running(vm);
    if (vm->switchover_was_running) {
        r = qft_qmp_execute(vm->qmp, "stop", NULL,
                            vm->agent->config->qmp_timeout_ms, error);
        if (!r) {
            g_prefix_error(error, "vm %s: pausing for the switchover: ",
                           vm->name);
            return FALSE;
        }
    }
    vm->switchover_epoch = committed_epoch(vm);
    vm->switchover_deadline = g_get_monotonic_time() +
                              vm->agent->config->lease_ms * 1000ll;
    vm->switchover_msg = g_object_ref(msg);
    soup_server_message_pause(msg);
    g_message("vm %s: switchover: paused at epoch %" G_GUINT64_FORMAT
              "; waiting for a commit after the pause", vm->name,
              vm->switchover_epoch);
    vm->switchover_timer = g_timeout_add(MAX(1, vm->agent->config->epoch_ms /
                                                2), on_wait_commit, vm);
    return TRUE;
}

gboolean ftagent_switchover(FtAgentVm *vm, const char *phase,
                            gpointer rest_msg, GError **error)
{
    SoupServerMessage *msg = rest_msg;

    if (g_str_equal(phase, "prepare")) {
        return prepare(vm, msg, error);
    }
    if (g_str_equal(phase, "abort")) {
        if (!vm->switchover_prepared && !vm->switchover_msg) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "vm %s: no switchover is prepared here", vm->name);
            return FALSE;
        }
        do_abort(vm, "requested");
        finish_request(vm, SOUP_STATUS_CONFLICT, NULL,
                       "the switchover was aborted");
        return TRUE;
    }
    if (g_str_equal(phase, "commit")) {
        if (!vm->switchover_prepared) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "vm %s: no switchover is prepared here (prepare "
                        "first)", vm->name);
            return FALSE;
        }
        g_clear_handle_id(&vm->switchover_timer, g_source_remove);
        vm->switchover_prepared = FALSE;
        vm->switchover_resume = vm->switchover_was_running;
        vm->pending_source = FTAGENT_SOURCE_OPERATOR;
        g_free(vm->pending_reason);
        vm->pending_reason = g_strdup("planned switchover");
        g_message("vm %s: switchover committed at epoch %" G_GUINT64_FORMAT
                  ": ending the paused primary", vm->name,
                  committed_epoch(vm));
        vm->agent->backend->kill(vm);
        return TRUE;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "phase '%s': one of prepare, commit, abort", phase);
    return FALSE;
}

void ftagent_switchover_clear(FtAgentVm *vm)
{
    g_clear_handle_id(&vm->switchover_timer, g_source_remove);
    vm->switchover_prepared = FALSE;
    finish_request(vm, SOUP_STATUS_CONFLICT, NULL,
                   "the primary ended during the switchover");
}
