/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-list: the fault tolerant domains, a table like virsh list's: the
 * libvirt domains with FT metadata (running ones; with --all also the shut
 * off ones) joined with the local ft-agentd's VMs (GET /v1/status) by
 * domain UUID, else by name; VMs the agent protects that are no libvirt
 * domain here (the qemu backend) are listed too.
 */
#include "virt-ft.h"

enum { COL_NAME, COL_POLICY, COL_ROLE, COL_PROTECTION, COL_EPOCH,
       COL_STANDBY, N_COLS };
static const char *const headers[N_COLS] = {
    "Name", "Policy", "Role", "Protection", "Epoch", "Standby",
};

typedef struct Row {
    char *cell[N_COLS];
} Row;

static void row_free(gpointer data)
{
    Row *row = data;

    for (int i = 0; i < N_COLS; i++) {
        g_free(row->cell[i]);
    }
    g_free(row);
}

static gint row_compare(gconstpointer a, gconstpointer b)
{
    const Row *x = *(Row *const *)a, *y = *(Row *const *)b;

    return g_strcmp0(x->cell[COL_NAME], y->cell[COL_NAME]);
}

/* virsh's table: a leading space, columns 3 spaces apart, a dashed rule */
static void print_table(GPtrArray *rows)
{
    gsize width[N_COLS], rule = 0;

    for (int c = 0; c < N_COLS; c++) {
        width[c] = g_utf8_strlen(headers[c], -1);
        for (guint r = 0; r < rows->len; r++) {
            Row *row = g_ptr_array_index(rows, r);

            width[c] = MAX(width[c],
                           (gsize)g_utf8_strlen(row->cell[c], -1));
        }
        rule += width[c] + 3;
    }
    for (gint r = -1; r < (gint)rows->len; r++) {
        g_autoptr(GString) line = g_string_new(" ");

        for (int c = 0; c < N_COLS; c++) {
            const char *cell = r < 0 ? headers[c] :
                ((Row *)g_ptr_array_index(rows, r))->cell[c];

            g_string_append(line, cell);
            if (c < N_COLS - 1) {
                for (gsize n = (gsize)g_utf8_strlen(cell, -1); n < width[c] + 3;
                     n++) {
                    g_string_append_c(line, ' ');
                }
            }
        }
        printf("%s\n", line->str);
        if (r < 0) {
            for (gsize n = 0; n < rule; n++) {
                putchar('-');
            }
            putchar('\n');
        }
    }
    putchar('\n');
}

static char *int_cell(JsonObject *vm, const char *member)
{
    gint64 v;

    return virt_ft_json_int(vm, member, &v) ?
        g_strdup_printf("%" G_GINT64_FORMAT, v) : g_strdup("-");
}

static char *str_cell(const char *s)
{
    return g_strdup(s && *s ? s : "-");
}

/* The agent's VMs, by name and by domain UUID; NULL (after a warning) when
 * the agent cannot tell. */
static JsonArray *agent_vms(VirtFtCtl *ctl, JsonObject **status)
{
    g_autoptr(GError) error = NULL;
    JsonNode *vms;

    *status = virt_ft_agent_call(virt_ft_agent(ctl), "GET", "/v1/status",
                                 NULL, &error);
    if (!*status) {
        virt_ft_warn("%s: the protection of the domains is unknown",
                     error->message);
        return NULL;
    }
    vms = json_object_get_member(*status, "vms");
    if (!vms || !JSON_NODE_HOLDS_ARRAY(vms)) {
        virt_ft_warn("ft-agentd at %s: GET /v1/status has no \"vms\" array: "
                     "the protection of the domains is unknown",
                     virt_ft_agent_socket(virt_ft_agent(ctl)));
        return NULL;
    }
    return json_node_get_array(vms);
}

/* The agent's VM for DOM, marked used in USED. */
static JsonObject *agent_vm_for(JsonArray *vms, gboolean *used,
                                const char *name, const char *uuid)
{
    guint n = vms ? json_array_get_length(vms) : 0;

    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < n; i++) {
            JsonNode *node = json_array_get_element(vms, i);
            JsonObject *vm = JSON_NODE_HOLDS_OBJECT(node) ?
                json_node_get_object(node) : NULL;
            const char *key = virt_ft_json_string(vm, pass ? "name" :
                                                  "domain-uuid");

            if (!used[i] && key && g_str_equal(key, pass ? name : uuid)) {
                used[i] = TRUE;
                return vm;
            }
        }
    }
    return NULL;
}

static Row *make_row(const char *name, const FtMeta *meta, JsonObject *vm,
                     const char *missing)
{
    Row *row = g_new0(Row, 1);
    const char *standby = virt_ft_json_string(vm, "standby-host");

    row->cell[COL_NAME] = g_strdup(name);
    row->cell[COL_POLICY] = str_cell(meta ? ftmeta_policy_name(meta->policy) :
                                     virt_ft_json_string(vm, "policy"));
    row->cell[COL_ROLE] = str_cell(virt_ft_json_string(vm, "role"));
    row->cell[COL_PROTECTION] = vm ?
        str_cell(virt_ft_json_string(vm, "protection")) : g_strdup(missing);
    row->cell[COL_EPOCH] = int_cell(vm, "epoch");
    if (standby && *standby) {
        row->cell[COL_STANDBY] = g_strdup(standby);
    } else if (meta && meta->standby_hosts && meta->standby_hosts[0]) {
        row->cell[COL_STANDBY] = g_strjoinv(",", meta->standby_hosts);
    } else {
        row->cell[COL_STANDBY] = g_strdup("-");
    }
    return row;
}

static gboolean cmd_list(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    g_autoptr(GError) conn_error = NULL;
    virConnectPtr conn = virt_ft_conn(ctl, &conn_error);
    gboolean all = virt_ft_args_has(args, "all");
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(row_free);
    g_autoptr(JsonObject) status = NULL;
    g_autofree gboolean *used = NULL;
    virDomainPtr *doms = NULL;
    JsonArray *vms;
    int n;

    vms = agent_vms(ctl, &status);
    if (!conn && !vms) {
        g_propagate_error(error, g_steal_pointer(&conn_error));
        return FALSE;
    }
    if (!conn) {
        /* the qemu backend needs no libvirt: list what the agent has */
        virt_ft_warn("%s: the agent's VMs only", conn_error->message);
        n = 0;
    } else if ((n = virConnectListAllDomains(conn, &doms, all ? 0 :
                                         VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
        virt_ft_set_libvirt_error(error, "failed to list domains");
        return FALSE;
    }
    used = g_new0(gboolean, vms ? json_array_get_length(vms) + 1 : 1);
    for (int i = 0; i < n; i++) {
        g_autoptr(GError) bad = NULL;
        g_autoptr(FtMeta) meta = virt_ft_domain_meta(doms[i], FALSE, &bad);
        g_autofree char *uuid = virt_ft_domain_uuid(doms[i]);
        const char *name = virDomainGetName(doms[i]);
        JsonObject *vm = agent_vm_for(vms, used, name, uuid);
        gboolean active = virDomainIsActive(doms[i]) == 1;

        if (bad) {
            virt_ft_warn("%s", bad->message);
        }
        if (meta || bad || vm) {
            Row *row = make_row(name, meta, vm, !vms ? "unknown" :
                                active ? "unmanaged" : "shut off");

            if (bad) {
                g_free(row->cell[COL_POLICY]);
                row->cell[COL_POLICY] = g_strdup("invalid");
            }
            g_ptr_array_add(rows, row);
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    for (guint i = 0; vms && i < json_array_get_length(vms); i++) {
        JsonNode *node = json_array_get_element(vms, i);
        JsonObject *vm = JSON_NODE_HOLDS_OBJECT(node) ?
            json_node_get_object(node) : NULL;
        const char *name = virt_ft_json_string(vm, "name");

        if (!used[i] && name) {
            g_ptr_array_add(rows, make_row(name, NULL, vm, "-"));
        }
    }
    g_ptr_array_sort(rows, row_compare);
    if (virt_ft_args_has(args, "name")) {
        for (guint i = 0; i < rows->len; i++) {
            printf("%s\n", ((Row *)g_ptr_array_index(rows, i))->cell[COL_NAME]);
        }
        putchar('\n');
    } else {
        print_table(rows);
    }
    return TRUE;
}

static const VirtFtOptDef list_opts[] = {
    { "all", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "also the domains that are not running" },
    { "name", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0, "list the names only" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_list = {
    .name = "ft-list",
    .run = cmd_list,
    .opts = list_opts,
    .summary = "list fault tolerant domains",
    .description = "Lists the fault tolerant domains (running ones; with "
        "--all also the others) with their policy and what the local "
        "ft-agentd says of them: this host's role, the protection, the "
        "committed epoch and the standby host. Protection 'unmanaged' is a "
        "running FT domain the agent does not protect; 'unknown': the "
        "agent cannot be reached.",
};
