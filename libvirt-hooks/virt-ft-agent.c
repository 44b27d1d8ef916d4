/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agentd's REST API on its control socket, as a client (virt-ft-agent.h).
 */
#include <gio/gunixsocketaddress.h>
#include <libsoup/soup.h>

#include "agent-config.h"       /* FTAGENT_DEFAULT_CONFIG */
#include "virt-ft-agent.h"

#define DEFAULT_SOCKET "/run/qemu-ft/agent.sock"

G_DEFINE_QUARK(virt-ft-agent-error-quark, virt_ft_agent_error)
G_DEFINE_QUARK(virt-ft-agent-http-error-quark, virt_ft_agent_http_error)

struct VirtFtAgent {
    char *socket_path;
    guint timeout_ms;
    SoupSession *session;
};

VirtFtAgent *virt_ft_agent_new(const char *socket_path, guint timeout_ms)
{
    VirtFtAgent *agent = g_new0(VirtFtAgent, 1);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(socket_path);

    agent->socket_path = g_strdup(socket_path);
    agent->timeout_ms = timeout_ms;
    agent->session = soup_session_new_with_options(
        "remote-connectable", addr, "user-agent", "virt-ft", NULL);
    return agent;
}

void virt_ft_agent_free(VirtFtAgent *agent)
{
    if (agent) {
        g_clear_object(&agent->session);
        g_free(agent->socket_path);
        g_free(agent);
    }
}

const char *virt_ft_agent_socket(const VirtFtAgent *agent)
{
    return agent->socket_path;
}

void virt_ft_agent_set_timeout(VirtFtAgent *agent, guint timeout_ms)
{
    agent->timeout_ms = timeout_ms;
}

typedef struct Request {
    GBytes *reply;
    GError *error;
    gboolean done, timed_out;
    GCancellable *cancel;
} Request;

static void request_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Request *r = data;

    r->reply = soup_session_send_and_read_finish(SOUP_SESSION(source), res,
                                                 &r->error);
    r->done = TRUE;
}

static gboolean request_timeout(gpointer data)
{
    Request *r = data;

    r->timed_out = TRUE;
    g_cancellable_cancel(r->cancel);
    return G_SOURCE_REMOVE;
}

/* The answer's body as a JSON object; NULL with ERROR if it is not one. */
static JsonObject *parse_object(const char *what, GBytes *bytes,
                                GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    JsonNode *root;
    g_autoptr(GError) local = NULL;

    if (len == 0) {
        return json_object_new();
    }
    if (!json_parser_load_from_data(parser, data, len, &local)) {
        g_set_error(error, VIRT_FT_AGENT_ERROR, VIRT_FT_AGENT_ERROR_MALFORMED,
                    "%s: the answer is not JSON: %s", what, local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, VIRT_FT_AGENT_ERROR, VIRT_FT_AGENT_ERROR_MALFORMED,
                    "%s: the answer is not a JSON object", what);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

JsonObject *virt_ft_agent_call(VirtFtAgent *agent, const char *method,
                               const char *path, JsonNode *body,
                               GError **error)
{
    g_autofree char *uri = g_strconcat("http://localhost", path, NULL);
    g_autofree char *what = g_strdup_printf("ft-agentd at %s: %s %s",
                                            agent->socket_path, method, path);
    g_autoptr(SoupMessage) msg = soup_message_new(method, uri);
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    Request r = { .cancel = cancel };
    GSource *timer;
    guint status;
    JsonObject *answer;

    if (!msg) {
        g_set_error(error, VIRT_FT_AGENT_ERROR, VIRT_FT_AGENT_ERROR_MALFORMED,
                    "%s: not a valid request path", what);
        return NULL;
    }
    if (body) {
        char *text = json_to_string(body, FALSE);
        gsize len = strlen(text);
        g_autoptr(GBytes) bytes = g_bytes_new_take(text, len);

        soup_message_set_request_body_from_bytes(msg, "application/json",
                                                 bytes);
    }
    timer = g_timeout_source_new(agent->timeout_ms);
    g_source_set_callback(timer, request_timeout, &r, NULL);
    g_source_attach(timer, NULL);
    soup_session_send_and_read_async(agent->session, msg, G_PRIORITY_DEFAULT,
                                     cancel, request_done, &r);
    while (!r.done) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    if (!r.reply) {
        if (r.timed_out) {
            g_set_error(error, VIRT_FT_AGENT_ERROR,
                        VIRT_FT_AGENT_ERROR_TIMEOUT,
                        "%s: no answer within %u ms", what, agent->timeout_ms);
        } else if (r.error->domain == G_IO_ERROR) {
            g_set_error(error, VIRT_FT_AGENT_ERROR,
                        VIRT_FT_AGENT_ERROR_UNREACHABLE,
                        "cannot reach ft-agentd at %s: %s",
                        agent->socket_path, r.error->message);
        } else {
            g_set_error(error, VIRT_FT_AGENT_ERROR,
                        VIRT_FT_AGENT_ERROR_MALFORMED, "%s: %s", what,
                        r.error->message);
        }
        g_clear_error(&r.error);
        return NULL;
    }
    status = soup_message_get_status(msg);
    answer = parse_object(what, r.reply, status >= 200 && status < 300 ?
                          error : NULL);
    g_bytes_unref(r.reply);
    if (status >= 200 && status < 300) {
        return answer;
    }
    {
        const char *text = answer ?
            json_object_get_string_member_with_default(answer, "error", NULL) :
            NULL;

        g_set_error(error, VIRT_FT_AGENT_HTTP_ERROR, (int)status,
                    "%s: HTTP %u: %s", what, status,
                    text ? text : soup_status_get_phrase(status) ?
                    soup_status_get_phrase(status) : "(no reason)");
    }
    g_clear_pointer(&answer, json_object_unref);
    return NULL;
}

char *virt_ft_agent_socket_default(char **note)
{
    const char *env = g_getenv("FT_AGENT_SOCKET");
    const char *conf = g_getenv("FT_AGENT_CONFIG");
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *sock = NULL, *run_dir = NULL;

    if (env && *env) {
        return g_strdup(env);
    }
    if (!conf || !*conf) {
        conf = FTAGENT_DEFAULT_CONFIG;
    }
    if (!g_file_test(conf, G_FILE_TEST_EXISTS)) {
        return g_strdup(DEFAULT_SOCKET);
    }
    if (!g_key_file_load_from_file(kf, conf, G_KEY_FILE_NONE, &error)) {
        if (note) {
            *note = g_strdup_printf("%s: %s (using %s)", conf, error->message,
                                    DEFAULT_SOCKET);
        }
        return g_strdup(DEFAULT_SOCKET);
    }
    sock = g_key_file_get_string(kf, "agent", "control-socket", NULL);
    if (sock && *sock) {
        return g_steal_pointer(&sock);
    }
    run_dir = g_key_file_get_string(kf, "agent", "run-dir", NULL);
    if (run_dir && *run_dir) {
        return g_build_filename(run_dir, "agent.sock", NULL);
    }
    return g_strdup(DEFAULT_SOCKET);
}
