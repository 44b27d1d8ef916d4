/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state-dir/state.json: which VMs run here, in which role, on which pool,
 * at which generation. Written atomically (rename) at every change; read at
 * start so that a restarted agent adopts its running QEMUs without
 * disturbing them, and never boots again a VM that ran (it may have been
 * promoted elsewhere meanwhile).
 */
#include <errno.h>

#include "agent.h"

#define FTAGENT_STATE_VERSION 1

static JsonObject *vm_state(FtAgentVm *vm)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "primary-host", vm->primary_host);
    json_object_set_int_member(o, "generation", vm->generation);
    json_object_set_boolean_member(o, "ever-started", vm->ever_started);
    json_object_set_string_member(o, "role", ftagent_local_role_name(vm->role));
    json_object_set_int_member(o, "pid", vm->pid);
    json_object_set_string_member(o, "qmp", vm->qmp_path ? vm->qmp_path : "");
    json_object_set_string_member(o, "pool", vm->pool ? vm->pool : "");
    json_object_set_string_member(o, "old-pool",
                                  vm->old_pool ? vm->old_pool : "");
    json_object_set_string_member(o, "status", vm->status);
    return o;
}

void ftagent_state_save(FtAgent *agent)
{
    g_autoptr(JsonObject) root = json_object_new();
    g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    JsonObject *vms = json_object_new();
    GHashTableIter it;
    gpointer value;

    if (!agent->state_path) {
        return;
    }
    json_object_set_int_member(root, "version", FTAGENT_STATE_VERSION);
    json_object_set_string_member(root, "host", agent->config->host_id);
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;

        json_object_set_object_member(vms, vm->name, vm_state(vm));
    }
    json_object_set_object_member(root, "vms", vms);
    json_node_set_object(node, root);
    text = json_to_string(node, TRUE);
    if (!g_file_set_contents_full(agent->state_path, text, -1,
                                  G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  &error)) {
        g_critical("state %s not saved: %s", agent->state_path,
                   error->message);
    }
}

static const char *str(JsonObject *o, const char *key)
{
    const char *s = json_object_get_string_member_with_default(o, key, "");

    return *s ? s : NULL;
}

static void load_vm(FtAgentVm *vm, JsonObject *o)
{
    g_autoptr(GError) error = NULL;
    const char *role = str(o, "role");

    g_free(vm->primary_host);
    vm->primary_host = g_strdup(str(o, "primary-host") ?: vm->config->hosts[0]);
    vm->generation = json_object_get_int_member_with_default(o, "generation",
                                                             0);
    vm->ever_started = json_object_get_boolean_member_with_default(
        o, "ever-started", FALSE);
    if (!role || g_str_equal(role, "none")) {
        return;
    }
    vm->role = g_str_equal(role, "primary") ? FTAGENT_LOCAL_PRIMARY
                                            : FTAGENT_LOCAL_STANDBY;
    vm->pid = json_object_get_int_member_with_default(o, "pid", 0);
    vm->qmp_path = g_strdup(str(o, "qmp"));
    vm->pool = g_strdup(str(o, "pool"));
    vm->old_pool = g_strdup(str(o, "old-pool"));
    g_free(vm->status);
    vm->status = g_strdup(str(o, "status") ?: "none");
    if (vm->pid <= 0 || !vm->qmp_path || !ftagent_vm_adopt(vm, &error)) {
        g_warning("vm %s: not adopting the %s of the previous agent: %s",
                  vm->name, role, error ? error->message : "no pid or QMP");
        if (vm->role == FTAGENT_LOCAL_PRIMARY && vm->pool) {
            /* a standby may be waiting for its disk intent: it is dead */
            ftagent_vm_report_dead(vm, error ? error->message : "gone");
        }
        ftagent_vm_drop_local(vm);
    }
}

gboolean ftagent_state_load(FtAgent *agent, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonObject *root, *vms;
    JsonNode *n;

    agent->state_path = g_build_filename(agent->config->state_dir,
                                         "state.json", NULL);
    if (!g_file_test(agent->state_path, G_FILE_TEST_EXISTS)) {
        return TRUE;
    }
    if (!json_parser_load_from_file(parser, agent->state_path, &local)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "state %s: %s (move it away to start afresh: the agent "
                    "will then boot the VMs whose first host it is)",
                    agent->state_path, local->message);
        return FALSE;
    }
    n = json_parser_get_root(parser);
    root = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    if (!root ||
        json_object_get_int_member_with_default(root, "version", 0) !=
        FTAGENT_STATE_VERSION ||
        g_strcmp0(json_object_get_string_member_with_default(root, "host", ""),
                  agent->config->host_id) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "state %s: not a version %d state of host %s",
                    agent->state_path, FTAGENT_STATE_VERSION,
                    agent->config->host_id);
        return FALSE;
    }
    vms = json_object_get_object_member(root, "vms");
    if (vms) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, agent->vms);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            FtAgentVm *vm = value;
            JsonNode *v = json_object_get_member(vms, vm->name);

            if (v && JSON_NODE_HOLDS_OBJECT(v)) {
                load_vm(vm, json_node_get_object(v));
            }
        }
    }
    return TRUE;
}
