/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Local control (docs/agent.md): a REST API on rest-listen (bearer token
 * from token-file) and on the control socket (a Unix socket of mode 0600:
 * its permission is the authentication), and GET /metrics in Prometheus
 * text format.
 *
 *   GET  /v1/status                 agent, peers, VMs
 *   GET  /v1/vms/NAME               one VM with its failover timelines
 *   POST /v1/vms/NAME/failover      operator request {"detail": "..."}
 *   POST /v1/vms/NAME/switchover    planned switchover {"phase":
 *                                   "prepare"|"commit"|"abort"}
 *   POST /v1/vms/NAME/reload        re-read the domain's FT metadata
 *   POST /v1/libvirt/hook           a libvirt hook's report (ft-libvirt-hook)
 *   POST /v1/events/ras             RAS event intake (rasdaemon-style)
 *                                   {"severity": "uncorrected"|"corrected",
 *                                    "kind": "memory", "detail": "..."}
 *   GET  /metrics
 */
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>
#include <sys/stat.h>

#include "agent-backend.h"
#include "agent-notify.h"
#include "agent-pool.h"
#include "agent-rest.h"
#include "backend-libvirt.h"

typedef struct FtAgentRest FtAgentRest;
struct FtAgentRest {
    SoupServer *server;
};

gint64 ftagent_now_real_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

/* ---- status --------------------------------------------------------------- */

JsonNode *ftagent_status_json(FtAgent *agent)
{
    JsonObject *o = json_object_new();
    JsonArray *peers = json_array_new(), *vms = json_array_new();
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    GHashTableIter it;
    gpointer value;

    json_object_set_string_member(o, "host", agent->config->host_id);
    json_object_set_int_member(o, "incarnation", agent->incarnation);
    json_object_set_int_member(o, "epoch-ms", agent->config->epoch_ms);
    g_hash_table_iter_init(&it, agent->peers);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentPeer *p = value;
        JsonObject *po = json_object_new();

        json_object_set_string_member(po, "host", p->config->id);
        json_object_set_boolean_member(po, "alive",
                                       ftagent_peer_alive(agent,
                                                          p->config->id));
        json_object_set_int_member(po, "last-heard-ns", p->last_heard_real);
        json_array_add_object_element(peers, po);
    }
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        json_array_add_object_element(vms, ftagent_vm_to_json(value));
    }
    json_object_set_array_member(o, "peers", peers);
    json_object_set_array_member(o, "vms", vms);
    json_node_take_object(n, o);
    return n;
}

/* ---- metrics -------------------------------------------------------------- */

static const char *drop_reasons[] = {
    [FTAGENT_ERROR_KEY] = "key", [FTAGENT_ERROR_MALFORMED] = "malformed",
    [FTAGENT_ERROR_VERSION] = "version", [FTAGENT_ERROR_AUTH] = "auth",
    [FTAGENT_ERROR_REPLAYED] = "replayed",
};

static void metric_vm(GString *s, FtAgent *agent, FtAgentVm *vm)
{
    guint64 word = vm->lease ? ftagent_lease_sample(vm->lease) : 0;
    double age = vm->lease ? (g_get_monotonic_time() -
                              vm->lease->changed_at) / 1e6 : 0;

    g_string_append_printf(s, "ftagent_vm_info{vm=\"%s\",role=\"%s\","
                           "status=\"%s\",protection=\"%s\",primary=\"%s\"} 1\n",
                           vm->name, ftagent_local_role_name(vm->role),
                           vm->status, ftagent_vm_protection(vm),
                           vm->primary_host);
    g_string_append_printf(s, "ftagent_vm_protected{vm=\"%s\"} %d\n", vm->name,
                           g_str_equal(ftagent_vm_protection(vm), "protected"));
    g_string_append_printf(s, "ftagent_vm_epoch{vm=\"%s\"} %" G_GUINT64_FORMAT
                           "\n", vm->name, ftpool_commit_epoch(word));
    g_string_append_printf(s, "ftagent_vm_generation{vm=\"%s\"} %"
                           G_GUINT64_FORMAT "\n", vm->name, vm->generation);
    g_string_append_printf(s, "ftagent_vm_commit_age_seconds{vm=\"%s\"} %.6f\n",
                           vm->name, age);
    g_string_append_printf(s, "ftagent_vm_checkpoint_pause_seconds{vm=\"%s\"} "
                           "%.9f\n", vm->name, vm->last_pause_ns / 1e9);
    g_string_append_printf(s, "ftagent_vm_sync_done_bytes{vm=\"%s\"} %"
                           G_GUINT64_FORMAT "\n", vm->name, vm->sync_done);
    g_string_append_printf(s, "ftagent_vm_sync_total_bytes{vm=\"%s\"} %"
                           G_GUINT64_FORMAT "\n", vm->name, vm->sync_total);
    g_string_append_printf(s, "ftagent_vm_failovers_total{vm=\"%s\"} %"
                           G_GUINT64_FORMAT "\n", vm->name, vm->failovers);
    g_string_append_printf(s, "ftagent_vm_standby_deaths_total{vm=\"%s\"} %u\n",
                           vm->name, vm->standby_deaths);
    (void)agent;
}

char *ftagent_metrics_text(FtAgent *agent)
{
    GString *s = g_string_new(NULL);
    GHashTableIter it;
    gpointer value;

    g_string_append(s, "# HELP ftagent_vm_info The VM's local role, QEMU "
                    "status and protection state.\n# TYPE ftagent_vm_info gauge\n");
    g_string_append(s, "# HELP ftagent_vm_epoch The pool's committed epoch.\n"
                    "# TYPE ftagent_vm_epoch gauge\n"
                    "# HELP ftagent_vm_commit_age_seconds Time since the "
                    "commit word last changed.\n"
                    "# TYPE ftagent_vm_commit_age_seconds gauge\n"
                    "# HELP ftagent_vm_checkpoint_pause_seconds The last "
                    "checkpoint's pause.\n"
                    "# TYPE ftagent_vm_checkpoint_pause_seconds gauge\n"
                    "# TYPE ftagent_vm_protected gauge\n"
                    "# HELP ftagent_vm_sync_done_bytes Initial sync: bytes "
                    "of RAM copied into the pool so far (of "
                    "sync_total_bytes).\n"
                    "# TYPE ftagent_vm_sync_done_bytes gauge\n"
                    "# TYPE ftagent_vm_sync_total_bytes gauge\n"
                    "# TYPE ftagent_vm_generation gauge\n"
                    "# TYPE ftagent_vm_failovers_total counter\n"
                    "# TYPE ftagent_vm_standby_deaths_total counter\n");
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        metric_vm(s, agent, value);
    }
    g_string_append(s, "# HELP ftagent_notification_latency_seconds Fault "
                    "(as its reporter saw it) to this agent knowing, per "
                    "source.\n# TYPE ftagent_notification_latency_seconds "
                    "summary\n# TYPE ftagent_notification_latency_last_seconds "
                    "gauge\n# TYPE ftagent_notification_latency_max_seconds "
                    "gauge\n");
    for (int i = FTAGENT_SOURCE_QEMU_DEATH; i < FTAGENT_SOURCE__MAX; i++) {
        const FtAgentLatency *l = &agent->latency[i];
        const char *src = ftagent_source_name(i);

        g_string_append_printf(s, "ftagent_notification_latency_seconds_count"
                               "{source=\"%s\"} %" G_GUINT64_FORMAT "\n",
                               src, l->count);
        g_string_append_printf(s, "ftagent_notification_latency_seconds_sum"
                               "{source=\"%s\"} %.9f\n", src, l->sum_ns / 1e9);
        g_string_append_printf(s, "ftagent_notification_latency_last_seconds"
                               "{source=\"%s\"} %.9f\n", src, l->last_ns / 1e9);
        g_string_append_printf(s, "ftagent_notification_latency_max_seconds"
                               "{source=\"%s\"} %.9f\n", src, l->max_ns / 1e9);
    }
    g_string_append(s, "# HELP ftagent_peer_dropped_total Peer datagrams "
                    "dropped, by reason; none was acted on.\n"
                    "# TYPE ftagent_peer_dropped_total counter\n");
    for (int i = FTAGENT_ERROR_MALFORMED; i <= FTAGENT_ERROR_REPLAYED; i++) {
        g_string_append_printf(s, "ftagent_peer_dropped_total{reason=\"%s\"} %"
                               G_GUINT64_FORMAT "\n", drop_reasons[i],
                               agent->dropped[i]);
    }
    g_string_append_printf(s, "# TYPE ftagent_peer_messages_total counter\n"
                           "ftagent_peer_messages_total{direction=\"in\"} %"
                           G_GUINT64_FORMAT "\n"
                           "ftagent_peer_messages_total{direction=\"out\"} %"
                           G_GUINT64_FORMAT "\n", agent->received, agent->sent);
    g_string_append_printf(s, "# HELP ftagent_suspicions_total Heartbeat lost "
                           "while the pool advanced: no promotion.\n"
                           "# TYPE ftagent_suspicions_total counter\n"
                           "ftagent_suspicions_total %" G_GUINT64_FORMAT "\n",
                           agent->suspicions);
    g_string_append_printf(s, "# TYPE ftagent_ras_events_total counter\n"
                           "ftagent_ras_events_total %" G_GUINT64_FORMAT "\n",
                           agent->ras_events);
    ftagent_notify_metrics(agent, s);
    return g_string_free(s, FALSE);
}

/* ---- RAS intake ------------------------------------------------------------- */

gboolean ftagent_ras_event(FtAgent *agent, JsonObject *event, GError **error)
{
    const char *severity = json_object_get_string_member_with_default(
        event, "severity", NULL);
    const char *detail = json_object_get_string_member_with_default(
        event, "detail", "memory error");
    gint64 at = json_object_get_int_member_with_default(
        event, "detected-ns", ftagent_now_real_ns());
    GHashTableIter it;
    gpointer value;

    if (g_strcmp0(severity, "uncorrected") != 0 &&
        g_strcmp0(severity, "corrected") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "RAS event: severity '%s' is neither \"uncorrected\" nor "
                    "\"corrected\"", severity ? severity : "(missing)");
        return FALSE;
    }
    agent->ras_events++;
    ftagent_latency_record(agent, FTAGENT_SOURCE_RAS, at,
                           ftagent_now_real_ns());
    g_message("RAS event: %s %s", severity, detail);
    if (g_str_equal(severity, "corrected")) {
        return TRUE;            /* counted; nothing is lost */
    }
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;
        g_autoptr(GError) local = NULL;

        if (vm->role == FTAGENT_LOCAL_PRIMARY) {
            if (!ftagent_vm_request_failover(vm, FTAGENT_SOURCE_RAS, detail,
                                             &local)) {
                g_warning("%s", local->message);
            }
        } else if (vm->role == FTAGENT_LOCAL_STANDBY) {
            g_message("vm %s: replacing the standby after a RAS event here",
                      vm->name);
            agent->backend->kill(vm);
        }
    }
    return TRUE;
}

/* ---- HTTP ----------------------------------------------------------------- */

void ftagent_rest_reply_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
    g_autofree char *text = json_to_string(node, TRUE);

    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY,
                                     text, strlen(text));
}

void ftagent_rest_reply_error(SoupServerMessage *msg, guint status,
                        const char *text)
{
    g_autoptr(JsonObject) o = json_object_new();
    g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(o, "error", text);
    json_node_set_object(n, o);
    ftagent_rest_reply_json(msg, status, n);
}

static gboolean authorized(FtAgent *agent, SoupServerMessage *msg)
{
    GSocketAddress *local = soup_server_message_get_local_address(msg);
    const char *h;
    g_autofree char *want = NULL;

    if (local && G_IS_UNIX_SOCKET_ADDRESS(local)) {
        return TRUE;            /* the control socket: mode 0600 */
    }
    h = soup_message_headers_get_one(
        soup_server_message_get_request_headers(msg), "Authorization");
    want = g_strdup_printf("Bearer %s", agent->token);
    if (!h || strlen(h) != strlen(want)) {
        return FALSE;
    }
    /* constant time: the comparison tells nothing about a near miss */
    {
        guchar diff = 0;

        for (gsize i = 0; want[i]; i++) {
            diff |= (guchar)h[i] ^ (guchar)want[i];
        }
        return diff == 0;
    }
}

static JsonObject *body_object(SoupServerMessage *msg, GError **error)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    if (!body->length) {
        return json_object_new();
    }
    if (!json_parser_load_from_data(parser, body->data, body->length, error)) {
        g_prefix_error(error, "request body: ");
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "request body: not a JSON object");
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static void handle_vm(FtAgent *agent, SoupServerMessage *msg,
                      const char *method, const char *rest)
{
    g_auto(GStrv) parts = g_strsplit(rest, "/", 2);
    FtAgentVm *vm = g_hash_table_lookup(agent->vms, parts[0]);
    g_autoptr(GError) error = NULL;

    if (!vm) {
        g_autofree char *t = g_strdup_printf("no vm '%s' here", parts[0]);

        ftagent_rest_reply_error(msg, SOUP_STATUS_NOT_FOUND, t);
        return;
    }
    if (!parts[1] && g_str_equal(method, "GET")) {
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        JsonObject *o = ftagent_vm_to_json(vm);

        json_object_set_array_member(o, "timelines",
                                     ftagent_failover_timelines_json(vm));
        json_node_take_object(n, o);
        ftagent_rest_reply_json(msg, SOUP_STATUS_OK, n);
    } else if (parts[1] && g_str_equal(parts[1], "failover") &&
               g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = body_object(msg, &error);

        if (!body) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
            return;
        }
        const char *detail = json_object_get_string_member_with_default(
            body, "detail", "operator request");

        if (json_object_get_boolean_member_with_default(body,
                                                        "old-primary-dead",
                                                        FALSE)) {
            if (vm->role != FTAGENT_LOCAL_STANDBY) {
                ftagent_rest_reply_error(msg, SOUP_STATUS_CONFLICT,
                            "old-primary-dead is told to the standby's host");
                return;
            }
            ftagent_failover_primary_dead(vm, FTAGENT_SOURCE_OPERATOR, detail,
                vm->lease ? ftpool_commit_epoch(vm->lease->word) : 0,
                ftagent_now_real_ns());
        } else if (!ftagent_vm_request_failover(vm, FTAGENT_SOURCE_OPERATOR,
                                                detail, &error)) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_CONFLICT, error->message);
            return;
        }
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, ftagent_vm_to_json(vm));
        ftagent_rest_reply_json(msg, SOUP_STATUS_ACCEPTED, n);
    } else if (parts[1] && g_str_equal(parts[1], "switchover") &&
               g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = body_object(msg, &error);
        const char *phase = body ? json_object_get_string_member_with_default(
            body, "phase", NULL) : NULL;

        if (!body || !phase) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                error ? error->message
                      : "request body: \"phase\" (prepare, commit, abort) "
                        "is required");
            return;
        }
        if (!g_str_equal(phase, "prepare") && !g_str_equal(phase, "commit") &&
            !g_str_equal(phase, "abort")) {
            g_autofree char *t = g_strdup_printf(
                "request body: phase '%s': one of prepare, commit, abort",
                phase);

            ftagent_rest_reply_error(msg, SOUP_STATUS_BAD_REQUEST, t);
            return;
        }
        if (!ftagent_switchover(vm, phase, msg, &error)) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_CONFLICT,
                                     error->message);
            return;
        }
        if (!g_str_equal(phase, "prepare")) {
            g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
            JsonObject *o = json_object_new();

            json_object_set_string_member(o, "phase",
                g_str_equal(phase, "commit") ? "committed" : "aborted");
            json_object_set_int_member(o, "epoch", vm->lease ?
                ftpool_commit_epoch(vm->lease->word) : vm->epoch);
            json_node_take_object(n, o);
            ftagent_rest_reply_json(msg, g_str_equal(phase, "commit")
                                         ? SOUP_STATUS_ACCEPTED
                                         : SOUP_STATUS_OK, n);
        }
        /* prepare: answered when the epoch after the pause is committed */
    } else if (parts[1] && g_str_equal(parts[1], "reload") &&
               g_str_equal(method, "POST")) {
        if (!ftagent_libvirt_reload(agent, vm->name, &error)) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_CONFLICT,
                                     error->message);
            return;
        }
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, ftagent_vm_to_json(vm));
        ftagent_rest_reply_json(msg, SOUP_STATUS_ACCEPTED, n);
    } else {
        ftagent_rest_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such resource or method");
    }
}

/* POST /v1/vms/NAME/reload for a domain the agent does not know yet */
static gboolean reload_new(FtAgent *agent, SoupServerMessage *msg,
                           const char *method, const char *rest)
{
    g_auto(GStrv) parts = g_strsplit(rest, "/", 2);
    g_autoptr(GError) error = NULL;
    FtAgentVm *vm;

    if (g_hash_table_lookup(agent->vms, parts[0]) || !parts[1] ||
        !g_str_equal(parts[1], "reload") || !g_str_equal(method, "POST")) {
        return FALSE;
    }
    if (!ftagent_libvirt_reload(agent, parts[0], &error)) {
        ftagent_rest_reply_error(msg, agent->libvirt ? SOUP_STATUS_NOT_FOUND
                                                     : SOUP_STATUS_CONFLICT,
                                 error->message);
        return TRUE;
    }
    vm = g_hash_table_lookup(agent->vms, parts[0]);
    if (!vm) {
        g_autofree char *t = g_strdup_printf(
            "domain %s has no FT metadata (virt-ft ft-enable)", parts[0]);

        ftagent_rest_reply_error(msg, SOUP_STATUS_NOT_FOUND, t);
        return TRUE;
    }
    g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, ftagent_vm_to_json(vm));
    ftagent_rest_reply_json(msg, SOUP_STATUS_ACCEPTED, n);
    return TRUE;
}

static void handler(SoupServer *server, SoupServerMessage *msg,
                    const char *path, GHashTable *query, gpointer data)
{
    FtAgent *agent = data;
    const char *method = soup_server_message_get_method(msg);
    g_autoptr(GError) error = NULL;

    (void)server;
    (void)query;
    if (!authorized(agent, msg)) {
        ftagent_rest_reply_error(msg, SOUP_STATUS_UNAUTHORIZED,
                    "missing or wrong bearer token (token-file)");
        return;
    }
    if (g_str_equal(path, "/metrics") && g_str_equal(method, "GET")) {
        g_autofree char *text = ftagent_metrics_text(agent);

        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, "text/plain; version=0.0.4",
                                         SOUP_MEMORY_COPY, text, strlen(text));
    } else if (g_str_equal(path, "/v1/status") && g_str_equal(method, "GET")) {
        g_autoptr(JsonNode) n = ftagent_status_json(agent);

        ftagent_rest_reply_json(msg, SOUP_STATUS_OK, n);
    } else if (g_str_has_prefix(path, "/v1/vms/")) {
        if (!reload_new(agent, msg, method, path + strlen("/v1/vms/"))) {
            handle_vm(agent, msg, method, path + strlen("/v1/vms/"));
        }
    } else if (g_str_equal(path, "/v1/libvirt/hook") &&
               g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = body_object(msg, &error);

        if (!body || !ftagent_libvirt_hook(agent, body, &error)) {
            ftagent_rest_reply_error(msg, !body ||
                                     g_error_matches(error, G_IO_ERROR,
                                                     G_IO_ERROR_INVALID_DATA)
                                     ? SOUP_STATUS_BAD_REQUEST
                                     : SOUP_STATUS_CONFLICT,
                                     error->message);
            return;
        }
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        JsonObject *o = json_object_new();

        json_object_set_boolean_member(o, "queued", TRUE);
        json_node_take_object(n, o);
        ftagent_rest_reply_json(msg, SOUP_STATUS_ACCEPTED, n);
    } else if (g_str_equal(path, "/v1/events/ras") &&
               g_str_equal(method, "POST")) {
        g_autoptr(JsonObject) body = body_object(msg, &error);

        if (!body || !ftagent_ras_event(agent, body, &error)) {
            ftagent_rest_reply_error(msg, SOUP_STATUS_BAD_REQUEST, error->message);
            return;
        }
        g_autoptr(JsonNode) n = json_node_new(JSON_NODE_OBJECT);
        JsonObject *o = json_object_new();

        json_object_set_boolean_member(o, "accepted", TRUE);
        json_node_take_object(n, o);
        ftagent_rest_reply_json(msg, SOUP_STATUS_ACCEPTED, n);
    } else {
        ftagent_rest_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such resource or method");
    }
}

static gboolean listen_unix(SoupServer *server, const char *path,
                            GError **error)
{
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

    unlink(path);
    sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                        G_SOCKET_PROTOCOL_DEFAULT, error);
    if (!sock || !g_socket_bind(sock, addr, TRUE, error) ||
        chmod(path, 0600) < 0 || !g_socket_listen(sock, error) ||
        !soup_server_listen_socket(server, sock, 0, error)) {
        if (error && !*error) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "chmod: %s",
                        g_strerror(errno));
        }
        g_prefix_error(error, "control socket %s: ", path);
        return FALSE;
    }
    return TRUE;
}

gboolean ftagent_rest_start(FtAgent *agent, GError **error)
{
    const FtAgentConfig *c = agent->config;
    FtAgentRest *rest = g_new0(FtAgentRest, 1);

    agent->rest = rest;
    rest->server = soup_server_new("server-header", "ft-agentd", NULL);
    soup_server_add_handler(rest->server, NULL, handler, agent, NULL);
    if (!listen_unix(rest->server, c->control_socket, error)) {
        return FALSE;
    }
    if (c->rest_address && *c->rest_address) {
        g_autoptr(GInetAddress) a = g_inet_address_new_from_string(
            c->rest_address);
        g_autoptr(GSocketAddress) sa = a ?
            g_inet_socket_address_new(a, c->rest_port) : NULL;

        if (!sa || !soup_server_listen(rest->server, sa, 0, error)) {
            if (!sa) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "rest-listen: '%s' is no IP address",
                            c->rest_address);
            }
            g_prefix_error(error, "REST %s:%u: ", c->rest_address,
                           c->rest_port);
            return FALSE;
        }
    }
    return TRUE;
}

void ftagent_rest_stop(FtAgent *agent)
{
    if (agent->rest) {
        soup_server_disconnect(agent->rest->server);
        g_clear_object(&agent->rest->server);
        g_clear_pointer(&agent->rest, g_free);
        unlink(agent->config->control_socket);
    }
}
