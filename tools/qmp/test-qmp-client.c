/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the QMP connection against a scripted fake QMP server: a
 * thread serving one connection on a unix socket in a temporary directory,
 * sending exactly the bytes each test scripts, well-formed or not.
 */
#include "qft-check.h"
#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "qmp-client.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 10}, " \
                 "\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define TIMEOUT_MS 5000

/* ---- the fake server ---- */

typedef struct {
    GSocket *socket;
    GString *input;
    GString *problems;      /* what went wrong on the server side */
} FakePeer;

typedef void (*ServeFunc)(FakePeer *peer);

typedef struct {
    char *dir;
    char *path;
    GSocket *listener;
    GThread *thread;
    ServeFunc serve;
    FakePeer peer;
} FakeServer;

static void peer_problem(FakePeer *peer, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void peer_problem(FakePeer *peer, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    g_string_append_vprintf(peer->problems, format, args);
    g_string_append_c(peer->problems, '\n');
    va_end(args);
}

static void peer_send_bytes(FakePeer *peer, const char *data, gsize size)
{
    g_autoptr(GError) error = NULL;

    while (size > 0) {
        gssize sent = g_socket_send(peer->socket, data, size, NULL, &error);

        if (sent < 0) {
            peer_problem(peer, "server send: %s", error->message);
            return;
        }
        data += sent;
        size -= (gsize) sent;
    }
}

static void peer_send(FakePeer *peer, const char *text)
{
    peer_send_bytes(peer, text, strlen(text));
}

/* One line from the client, without its "\n"; NULL at EOF. */
static char *peer_read_line(FakePeer *peer)
{
    for (;;) {
        char *newline = memchr(peer->input->str, '\n', peer->input->len);
        char buffer[4096];
        gssize received;

        if (newline != NULL) {
            char *line = g_strndup(peer->input->str, (gsize) (newline - peer->input->str));

            g_string_erase(peer->input, 0, newline - peer->input->str + 1);
            return line;
        }
        received = g_socket_receive(peer->socket, buffer, sizeof(buffer), NULL, NULL);
        if (received <= 0) {
            return NULL;
        }
        g_string_append_len(peer->input, buffer, received);
    }
}

/* Reads a request, checks it runs `command`, returns its id (NULL on a problem). */
static char *peer_expect(FakePeer *peer, const char *command, JsonNode **arguments)
{
    g_autofree char *line = peer_read_line(peer);
    g_autoptr(JsonNode) root = line ? json_from_string(line, NULL) : NULL;
    JsonObject *request;

    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        peer_problem(peer, "expected a '%s' request, got %s", command, line ? line : "EOF");
        return NULL;
    }
    request = json_node_get_object(root);
    if (g_strcmp0(json_object_get_string_member_with_default(request, "execute", ""),
                  command) != 0) {
        peer_problem(peer, "expected a '%s' request, got %s", command, line);
        return NULL;
    }
    if (arguments != NULL && json_object_has_member(request, "arguments")) {
        *arguments = json_node_copy(json_object_get_member(request, "arguments"));
    }
    return g_strdup(json_object_get_string_member_with_default(request, "id", ""));
}

static void peer_reply(FakePeer *peer, const char *id, const char *return_json)
{
    g_autofree char *reply = g_strdup_printf("{\"return\": %s, \"id\": \"%s\"}\r\n",
                                             return_json, id ? id : "");

    peer_send(peer, reply);
}

static void peer_handshake(FakePeer *peer)
{
    g_autofree char *id = NULL;

    peer_send(peer, GREETING);
    id = peer_expect(peer, "qmp_capabilities", NULL);
    peer_reply(peer, id, "{}");
}

/* Waits for the client to hang up, so the server does not close first. */
static void peer_wait_for_hangup(FakePeer *peer)
{
    g_autofree char *line = peer_read_line(peer);

    if (line != NULL) {
        peer_problem(peer, "expected the client to hang up, got %s", line);
    }
}

static gpointer serve_one_connection(gpointer data)
{
    FakeServer *server = data;
    g_autoptr(GError) error = NULL;

    server->peer.socket = g_socket_accept(server->listener, NULL, &error);
    if (server->peer.socket == NULL) {
        peer_problem(&server->peer, "accept: %s", error->message);
        return NULL;
    }
    g_socket_set_timeout(server->peer.socket, 10);
    server->serve(&server->peer);
    g_socket_close(server->peer.socket, NULL);
    return NULL;
}

static FakeServer *fake_server_start(ServeFunc serve)
{
    FakeServer *server = g_new0(FakeServer, 1);
    g_autoptr(GSocketAddress) address = NULL;
    g_autoptr(GError) error = NULL;

    server->dir = g_dir_make_tmp("test-qmp-XXXXXX", &error);
    ck_assert_msg(server->dir != NULL, "%s", error ? error->message : "");
    server->path = g_build_filename(server->dir, "qmp.sock", NULL);
    server->serve = serve;
    server->peer.input = g_string_new(NULL);
    server->peer.problems = g_string_new(NULL);
    address = g_unix_socket_address_new(server->path);
    server->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                    G_SOCKET_PROTOCOL_DEFAULT, &error);
    ck_assert_msg(server->listener != NULL, "%s", error ? error->message : "");
    ck_assert(g_socket_bind(server->listener, address, FALSE, NULL));
    ck_assert(g_socket_listen(server->listener, NULL));
    g_socket_set_timeout(server->listener, 10);
    server->thread = g_thread_new("fake-qmp", serve_one_connection, server);
    return server;
}

/* Joins the server and fails the test on anything the server saw go wrong. */
static void fake_server_finish(FakeServer *server)
{
    g_thread_join(server->thread);
    ck_assert_msg(server->peer.problems->len == 0, "fake server: %s", server->peer.problems->str);
    g_clear_object(&server->peer.socket);
    g_object_unref(server->listener);
    g_string_free(server->peer.input, TRUE);
    g_string_free(server->peer.problems, TRUE);
    g_unlink(server->path);
    g_rmdir(server->dir);
    g_free(server->path);
    g_free(server->dir);
    g_free(server);
}

static QftQmpClient *connect_or_fail(FakeServer *server)
{
    g_autoptr(GError) error = NULL;
    QftQmpClient *qmp = qft_qmp_client_connect(server->path, TIMEOUT_MS, &error);

    ck_assert_msg(qmp != NULL, "connect: %s", error ? error->message : "");
    return qmp;
}

static void assert_error(const GError *error, GQuark domain, int code, const char *says)
{
    ck_assert_msg(error != NULL, "expected an error saying '%s'", says);
    ck_assert_msg(error->domain == domain && error->code == code,
                  "wrong error (%s, %d): %s", g_quark_to_string(error->domain), error->code,
                  error->message);
    ck_assert_msg(strstr(error->message, says) != NULL, "'%s' does not say '%s'",
                  error->message, says);
}

/* ---- synchronous use ---- */

static void serve_status_with_events(FakePeer *peer)
{
    g_autofree char *id = NULL;
    g_autoptr(JsonNode) arguments = NULL;

    peer_handshake(peer);
    id = peer_expect(peer, "query-status", &arguments);
    if (arguments == NULL || !JSON_NODE_HOLDS_OBJECT(arguments) ||
        !json_object_get_boolean_member_with_default(json_node_get_object(arguments),
                                                     "verbose", FALSE)) {
        peer_problem(peer, "query-status came without its arguments");
    }
    /* Two events before the reply, the reply split over three writes. */
    peer_send(peer, "{\"event\": \"RESUME\", \"timestamp\": {\"seconds\": 1}}\r\n"
                    "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 2}}\r\n{\"ret");
    g_usleep(20000);
    peer_send(peer, "urn\": {\"status\": \"paused\", \"running\": false}, \"id\": ");
    g_usleep(20000);
    {
        g_autofree char *tail = g_strdup_printf("\"%s\"}\r\n", id);

        peer_send(peer, tail);
    }
    g_usleep(20000);
    peer_send(peer, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false}}\r\n");
    peer_wait_for_hangup(peer);
}

START_TEST(test_execute_with_events_interleaved)
{
    FakeServer *server = fake_server_start(serve_status_with_events);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) status = NULL;
    g_autoptr(JsonNode) shutdown = NULL;
    g_autoptr(JsonNode) resume = NULL;
    g_autoptr(JsonNode) stop = NULL;
    g_autoptr(GError) error = NULL;

    json_object_set_boolean_member(arguments, "verbose", TRUE);
    status = qft_qmp_execute(qmp, "query-status", arguments, TIMEOUT_MS, &error);
    ck_assert_msg(status != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(json_object_get_string_member(json_node_get_object(status), "status"),
                     "paused");
    /* SHUTDOWN comes from the socket; RESUME and STOP were queued and stay queued. */
    shutdown = qft_qmp_wait_event(qmp, "SHUTDOWN", TIMEOUT_MS, &error);
    ck_assert_msg(shutdown != NULL, "%s", error ? error->message : "");
    resume = qft_qmp_wait_event(qmp, NULL, 0, &error);
    ck_assert_msg(resume != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(json_object_get_string_member(json_node_get_object(resume), "event"),
                     "RESUME");
    stop = qft_qmp_wait_event(qmp, "STOP", 0, &error);
    ck_assert_msg(stop != NULL, "%s", error ? error->message : "");
    ck_assert_int_eq(json_object_get_int_member(
                         json_object_get_object_member(json_node_get_object(stop), "timestamp"),
                         "seconds"), 2);
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

/*
 * QEMU can flush an event it queued for the previous client to the next
 * one before the greeting: the client skips it and it is not queued.
 */
static void serve_stale_event_then_greeting(FakePeer *peer)
{
    peer_send(peer, "{\"event\": \"FT_FAULT_POINT\", \"data\": {\"epoch\": 7}, "
                    "\"timestamp\": {\"seconds\": 1}}\r\n");
    peer_handshake(peer);
    peer_wait_for_hangup(peer);
}

START_TEST(test_stale_event_before_greeting)
{
    FakeServer *server = fake_server_start(serve_stale_event_then_greeting);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(JsonNode) event = NULL;
    g_autoptr(GError) error = NULL;

    event = qft_qmp_wait_event(qmp, NULL, 0, &error);
    ck_assert_msg(event == NULL, "the event sent before the greeting was queued");
    assert_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT, "");
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

static void serve_command_error_then_hmp(FakePeer *peer)
{
    g_autofree char *bad = NULL;
    g_autofree char *hmp = NULL;
    g_autoptr(JsonNode) arguments = NULL;
    g_autofree char *reply = NULL;

    peer_handshake(peer);
    bad = peer_expect(peer, "no-such-command", NULL);
    reply = g_strdup_printf("{\"id\": \"%s\", \"error\": {\"class\": \"CommandNotFound\", "
                            "\"desc\": \"The command no-such-command has not been found\"}}\n",
                            bad);
    peer_send(peer, reply);
    hmp = peer_expect(peer, "human-monitor-command", &arguments);
    if (arguments == NULL || g_strcmp0(json_object_get_string_member_with_default(
                                           json_node_get_object(arguments), "command-line", ""),
                                       "info status") != 0) {
        peer_problem(peer, "human-monitor-command without command-line 'info status'");
    }
    peer_reply(peer, hmp, "\"VM status: paused (prelaunch)\\r\\n\"");
    peer_wait_for_hangup(peer);
}

START_TEST(test_command_error_keeps_the_connection)
{
    FakeServer *server = fake_server_start(serve_command_error_then_hmp);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) result = qft_qmp_execute(qmp, "no-such-command", NULL, TIMEOUT_MS, &error);
    g_autofree char *output = NULL;

    ck_assert_ptr_null(result);
    assert_error(error, QFT_QMP_COMMAND_ERROR, QFT_QMP_COMMAND_ERROR_COMMAND_NOT_FOUND,
                 "QMP error CommandNotFound: The command no-such-command has not been found");
    ck_assert_str_eq(qft_qmp_command_error_get_class(error), "CommandNotFound");
    g_clear_error(&error);
    output = qft_qmp_execute_hmp(qmp, "info status", TIMEOUT_MS, &error);
    ck_assert_msg(output != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(output, "VM status: paused (prelaunch)\r\n");
    ck_assert(!qft_qmp_client_is_closed(qmp));
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

/* A timed-out request's late reply is dropped; the next request gets its own. */
static void serve_late_reply(FakePeer *peer)
{
    g_autofree char *slow = NULL;
    g_autofree char *fast = NULL;

    peer_handshake(peer);
    slow = peer_expect(peer, "slow", NULL);
    fast = peer_expect(peer, "fast", NULL);
    peer_reply(peer, slow, "\"late\"");
    peer_reply(peer, fast, "\"fast\"");
    peer_wait_for_hangup(peer);
}

START_TEST(test_timeout_then_late_reply)
{
    FakeServer *server = fake_server_start(serve_late_reply);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) slow = qft_qmp_execute(qmp, "slow", NULL, 100, &error);
    g_autoptr(JsonNode) fast = NULL;

    ck_assert_ptr_null(slow);
    assert_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT,
                 "timed out after 100 ms waiting for the reply to 'slow'");
    g_clear_error(&error);
    fast = qft_qmp_execute(qmp, "fast", NULL, TIMEOUT_MS, &error);
    ck_assert_msg(fast != NULL, "%s", error ? error->message : "");
    ck_assert_str_eq(json_node_get_string(fast), "fast");
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

static void serve_no_events(FakePeer *peer)
{
    peer_handshake(peer);
    peer_wait_for_hangup(peer);
}

START_TEST(test_wait_event_times_out)
{
    FakeServer *server = fake_server_start(serve_no_events);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) event = qft_qmp_wait_event(qmp, "STOP", 150, &error);

    ck_assert_ptr_null(event);
    assert_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT, "waiting for event 'STOP'");
    ck_assert(!qft_qmp_client_is_closed(qmp));
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

/* QEMU answers a request it cannot parse without an id: it goes to the only request. */
static void serve_reply_without_id(FakePeer *peer)
{
    g_autofree char *id = NULL;

    peer_handshake(peer);
    id = peer_expect(peer, "query-name", NULL);
    peer_send(peer, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error\"}}\n");
    peer_wait_for_hangup(peer);
}

START_TEST(test_reply_without_id)
{
    FakeServer *server = fake_server_start(serve_reply_without_id);
    g_autoptr(QftQmpClient) qmp = connect_or_fail(server);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) result = qft_qmp_execute(qmp, "query-name", NULL, TIMEOUT_MS, &error);

    ck_assert_ptr_null(result);
    assert_error(error, QFT_QMP_COMMAND_ERROR, QFT_QMP_COMMAND_ERROR_GENERIC_ERROR,
                 "QMP error GenericError: JSON parse error");
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

START_TEST(test_connect_to_nothing)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("test-qmp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "absent.sock", NULL);
    g_autoptr(QftQmpClient) qmp = qft_qmp_client_connect(path, TIMEOUT_MS, &error);
    g_autofree char *long_path = g_strnfill(200, 'x');

    ck_assert_ptr_null(qmp);
    assert_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_CONNECT, "cannot connect to the QMP socket");
    ck_assert_msg(strstr(error->message, path) != NULL, "%s", error->message);
    g_clear_error(&error);
    qmp = qft_qmp_client_connect(long_path, TIMEOUT_MS, &error);
    ck_assert_ptr_null(qmp);
    assert_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_CONNECT, "too long");
    g_rmdir(dir);
}
END_TEST

/* ---- bad peers: each script, and the error the client must report ---- */

typedef enum {
    FAIL_AT_CONNECT,        /* the handshake fails */
    FAIL_AT_EXECUTE,        /* the handshake passes; a 'query-status' fails */
} FailurePoint;

static const struct {
    const char *name;
    FailurePoint at;
    const char *send;       /* after the greeting / after the request; NULL: nothing */
    gboolean greet;
    int code;
    const char *says;
} bad_peers[] = {
    { "no greeting", FAIL_AT_CONNECT, NULL, FALSE, QFT_QMP_ERROR_TIMED_OUT,
      "waiting for the QMP greeting" },
    { "greeting not JSON", FAIL_AT_CONNECT, "SSH-2.0-OpenSSH_9.2\r\n", FALSE,
      QFT_QMP_ERROR_BAD_GREETING, "expected the QMP greeting: QMP message is not JSON" },
    { "reply instead of greeting", FAIL_AT_CONNECT, "{\"return\": {}}\n", FALSE,
      QFT_QMP_ERROR_BAD_GREETING, "expected the QMP greeting, got a return reply" },
    { "greeting without version", FAIL_AT_CONNECT, "{\"QMP\": {\"capabilities\": []}}\n", FALSE,
      QFT_QMP_ERROR_BAD_GREETING, "lacks a \"version\" object" },
    { "closed before greeting", FAIL_AT_CONNECT, "", FALSE, QFT_QMP_ERROR_CLOSED,
      "QEMU closed the QMP connection" },
    { "EOF in the greeting", FAIL_AT_CONNECT, "{\"QMP\": {\"vers", FALSE,
      QFT_QMP_ERROR_TRUNCATED, "closed in the middle of a message" },
    { "reply not JSON", FAIL_AT_EXECUTE, "{\"return\": }\n", TRUE, QFT_QMP_ERROR_NOT_JSON,
      "QMP message is not JSON" },
    { "reply not an object", FAIL_AT_EXECUTE, "[\"return\"]\n", TRUE, QFT_QMP_ERROR_NOT_OBJECT,
      "JSON but an array, not an object" },
    { "reply with neither return nor error", FAIL_AT_EXECUTE, "{\"id\": \"qft-2\"}\n", TRUE,
      QFT_QMP_ERROR_MALFORMED, "neither \"return\", \"error\"" },
    { "reply to nobody", FAIL_AT_EXECUTE, "{\"return\": {}, \"id\": \"qft-99\"}\n", TRUE,
      QFT_QMP_ERROR_UNEXPECTED, "with id 'qft-99' that matches no request" },
    { "second greeting", FAIL_AT_EXECUTE, GREETING, TRUE, QFT_QMP_ERROR_UNEXPECTED,
      "second greeting" },
    { "EOF mid-reply", FAIL_AT_EXECUTE, "{\"return\": {\"status\": ", TRUE,
      QFT_QMP_ERROR_TRUNCATED, "closed in the middle of a message (22 bytes" },
    { "closed", FAIL_AT_EXECUTE, "", TRUE, QFT_QMP_ERROR_CLOSED,
      "QEMU closed the QMP connection" },
    { "oversized reply", FAIL_AT_EXECUTE, "", TRUE, QFT_QMP_ERROR_TOO_LARGE,
      "exceeds the limit of 16777216 bytes" },
};

static int bad_peer_index;

static void serve_bad_peer(FakePeer *peer)
{
    typeof(bad_peers[0]) *script = &bad_peers[bad_peer_index];

    if (script->at == FAIL_AT_EXECUTE) {
        g_autofree char *id = NULL;

        peer_handshake(peer);
        id = peer_expect(peer, "query-status", NULL);
    }
    if (script->send != NULL) {
        peer_send(peer, script->send);
    }
    if (script->code == QFT_QMP_ERROR_TOO_LARGE) {
        /* One byte over the limit: the client fails on the last byte, after our send. */
        g_autofree char *blob = g_malloc(QFT_QMP_MAX_MESSAGE_SIZE + 1);

        memset(blob, ' ', QFT_QMP_MAX_MESSAGE_SIZE + 1);
        blob[0] = '"';
        peer_send_bytes(peer, blob, QFT_QMP_MAX_MESSAGE_SIZE + 1);
    }
    if (script->send == NULL || script->code == QFT_QMP_ERROR_TOO_LARGE ||
        script->code == QFT_QMP_ERROR_UNEXPECTED || script->code == QFT_QMP_ERROR_NOT_JSON ||
        script->code == QFT_QMP_ERROR_NOT_OBJECT || script->code == QFT_QMP_ERROR_MALFORMED ||
        script->code == QFT_QMP_ERROR_BAD_GREETING) {
        /* Keep the connection open: the client must fail on what it got, not on EOF. */
        peer_wait_for_hangup(peer);
    }
}

START_TEST(test_bad_peer)
{
    typeof(bad_peers[0]) *script = &bad_peers[_i];
    FakeServer *server;
    g_autoptr(QftQmpClient) qmp = NULL;
    g_autoptr(JsonNode) result = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) after = NULL;

    bad_peer_index = _i;
    server = fake_server_start(serve_bad_peer);
    if (script->at == FAIL_AT_CONNECT) {
        qmp = qft_qmp_client_connect(server->path, 300, &error);
        ck_assert_msg(qmp == NULL, "%s: connected", script->name);
        assert_error(error, QFT_QMP_ERROR, script->code, script->says);
    } else {
        qmp = connect_or_fail(server);
        result = qft_qmp_execute(qmp, "query-status", NULL, TIMEOUT_MS, &error);
        ck_assert_msg(result == NULL, "%s: execute succeeded", script->name);
        assert_error(error, QFT_QMP_ERROR, script->code, script->says);
        /* A protocol error closes the connection and says why afterwards. */
        ck_assert(qft_qmp_client_is_closed(qmp));
        ck_assert_ptr_null(qft_qmp_execute(qmp, "query-status", NULL, TIMEOUT_MS, &after));
        assert_error(after, QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED, script->says);
    }
    g_clear_object(&qmp);
    fake_server_finish(server);
}
END_TEST

static void serve_capabilities_refused(FakePeer *peer)
{
    g_autofree char *id = NULL;
    g_autofree char *reply = NULL;

    peer_send(peer, GREETING);
    id = peer_expect(peer, "qmp_capabilities", NULL);
    reply = g_strdup_printf("{\"error\": {\"class\": \"GenericError\", \"desc\": "
                            "\"Capabilities negotiation is already complete\"}, \"id\": \"%s\"}\n",
                            id);
    peer_send(peer, reply);
    peer_wait_for_hangup(peer);
}

START_TEST(test_capabilities_refused)
{
    FakeServer *server = fake_server_start(serve_capabilities_refused);
    g_autoptr(GError) error = NULL;
    g_autoptr(QftQmpClient) qmp = qft_qmp_client_connect(server->path, TIMEOUT_MS, &error);

    ck_assert_ptr_null(qmp);
    assert_error(error, QFT_QMP_COMMAND_ERROR, QFT_QMP_COMMAND_ERROR_GENERIC_ERROR,
                 "negotiating QMP capabilities: QMP error GenericError: Capabilities");
    fake_server_finish(server);
}
END_TEST

/* ---- asynchronous use ---- */

typedef struct {
    GMainLoop *loop;
    QftQmpClient *qmp;
    GPtrArray *results;     /* char *, in completion order */
    GPtrArray *events;      /* char * event names seen by the handler */
    GError *closed_reason;
} AsyncRun;

/* Replies in reverse order, sends an event in between, then hangs up. */
static void serve_async(FakePeer *peer)
{
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *ignored = NULL;

    peer_handshake(peer);
    first = peer_expect(peer, "first", NULL);
    second = peer_expect(peer, "second", NULL);
    ignored = peer_expect(peer, "never-answered", NULL);
    peer_reply(peer, second, "\"two\"");
    peer_send(peer, "{\"event\": \"STOP\", \"timestamp\": {}}\n"
                    "{\"event\": \"RESUME\", \"timestamp\": {}}\n");
    peer_reply(peer, first, "\"one\"");
}

static void on_stop_event(QftQmpClient *qmp, const char *name, JsonNode *event, gpointer data)
{
    AsyncRun *run = data;

    (void) qmp;
    ck_assert(JSON_NODE_HOLDS_OBJECT(event));
    g_ptr_array_add(run->events, g_strdup(name));
}

static void on_closed(QftQmpClient *qmp, const GError *reason, gpointer data)
{
    AsyncRun *run = data;

    (void) qmp;
    run->closed_reason = g_error_copy(reason);
    g_main_loop_quit(run->loop);
}

static void on_executed(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncRun *run = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) value = qft_qmp_execute_finish(QFT_QMP_CLIENT(source), result, &error);

    g_ptr_array_add(run->results, value ? json_to_string(value, FALSE) : g_strdup(error->message));
}

static void on_connected(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncRun *run = data;
    g_autoptr(GError) error = NULL;

    (void) source;
    run->qmp = qft_qmp_client_connect_finish(result, &error);
    ck_assert_msg(run->qmp != NULL, "%s", error ? error->message : "");
    ck_assert_ptr_nonnull(qft_qmp_client_get_greeting(run->qmp));
    g_signal_connect(run->qmp, "event::STOP", G_CALLBACK(on_stop_event), run);
    g_signal_connect(run->qmp, "closed", G_CALLBACK(on_closed), run);
    qft_qmp_execute_async(run->qmp, "first", NULL, TIMEOUT_MS, NULL, on_executed, run);
    qft_qmp_execute_async(run->qmp, "second", NULL, TIMEOUT_MS, NULL, on_executed, run);
    qft_qmp_execute_async(run->qmp, "never-answered", NULL, -1, NULL, on_executed, run);
}

START_TEST(test_async_round_trip)
{
    FakeServer *server = fake_server_start(serve_async);
    AsyncRun run = {
        .loop = g_main_loop_new(NULL, FALSE),
        .results = g_ptr_array_new_with_free_func(g_free),
        .events = g_ptr_array_new_with_free_func(g_free),
    };
    g_autoptr(JsonNode) resume = NULL;
    g_autoptr(GError) error = NULL;

    qft_qmp_client_connect_async(server->path, TIMEOUT_MS, NULL, on_connected, &run);
    g_main_loop_run(run.loop);
    /* Let the idle-dispatched completions run. */
    while (g_main_context_iteration(NULL, FALSE)) {
    }
    ck_assert_uint_eq(run.results->len, 3);
    ck_assert_str_eq(run.results->pdata[0], "\"two\"");
    ck_assert_str_eq(run.results->pdata[1], "\"one\"");
    ck_assert_msg(strstr(run.results->pdata[2], "QEMU closed the QMP connection") != NULL,
                  "%s", (char *) run.results->pdata[2]);
    ck_assert_uint_eq(run.events->len, 1);
    ck_assert_str_eq(run.events->pdata[0], "STOP");
    assert_error(run.closed_reason, QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED, "QEMU closed");
    /* RESUME had no handler: it was queued, not lost. */
    resume = qft_qmp_wait_event(run.qmp, "RESUME", 0, &error);
    ck_assert_msg(resume != NULL, "%s", error ? error->message : "");
    fake_server_finish(server);
    g_object_unref(run.qmp);
    g_ptr_array_unref(run.results);
    g_ptr_array_unref(run.events);
    g_error_free(run.closed_reason);
    g_main_loop_unref(run.loop);
}
END_TEST

static void serve_silence_after_request(FakePeer *peer)
{
    g_autofree char *slow = NULL;
    g_autofree char *cancelled = NULL;

    peer_handshake(peer);
    slow = peer_expect(peer, "slow", NULL);
    cancelled = peer_expect(peer, "cancelled", NULL);
    peer_wait_for_hangup(peer);
}

static void on_async_done(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncRun *run = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) value = qft_qmp_execute_finish(QFT_QMP_CLIENT(source), result, &error);

    ck_assert_ptr_null(value);
    g_ptr_array_add(run->results, g_strdup(error->message));
    if (run->results->len == 2) {
        g_main_loop_quit(run->loop);
    }
}

START_TEST(test_async_timeout_and_cancel)
{
    FakeServer *server = fake_server_start(serve_silence_after_request);
    g_autoptr(GCancellable) cancellable = g_cancellable_new();
    AsyncRun run = {
        .loop = g_main_loop_new(NULL, FALSE),
        .results = g_ptr_array_new_with_free_func(g_free),
    };

    run.qmp = connect_or_fail(server);
    qft_qmp_execute_async(run.qmp, "slow", NULL, 100, NULL, on_async_done, &run);
    qft_qmp_execute_async(run.qmp, "cancelled", NULL, -1, cancellable, on_async_done, &run);
    g_cancellable_cancel(cancellable);
    g_main_loop_run(run.loop);
    ck_assert_uint_eq(run.results->len, 2);
    ck_assert_msg(strstr(run.results->pdata[0], "cancel") != NULL, "%s",
                  (char *) run.results->pdata[0]);
    ck_assert_str_eq(run.results->pdata[1], "timed out waiting for the reply to 'slow'");
    ck_assert(!qft_qmp_client_is_closed(run.qmp));
    g_clear_object(&run.qmp);
    fake_server_finish(server);
    g_ptr_array_unref(run.results);
    g_main_loop_unref(run.loop);
}
END_TEST

static void on_connect_failed(GObject *source, GAsyncResult *result, gpointer data)
{
    AsyncRun *run = data;
    g_autoptr(GError) error = NULL;

    (void) source;
    ck_assert_ptr_null(qft_qmp_client_connect_finish(result, &error));
    g_ptr_array_add(run->results, g_strdup(error->message));
    g_main_loop_quit(run->loop);
}

static void serve_garbage_greeting(FakePeer *peer)
{
    peer_send(peer, "[]\n");
    peer_wait_for_hangup(peer);
}

START_TEST(test_async_connect_bad_greeting)
{
    FakeServer *server = fake_server_start(serve_garbage_greeting);
    AsyncRun run = {
        .loop = g_main_loop_new(NULL, FALSE),
        .results = g_ptr_array_new_with_free_func(g_free),
    };

    qft_qmp_client_connect_async(server->path, TIMEOUT_MS, NULL, on_connect_failed, &run);
    g_main_loop_run(run.loop);
    ck_assert_uint_eq(run.results->len, 1);
    ck_assert_msg(strstr(run.results->pdata[0], "expected the QMP greeting: QMP message is JSON "
                         "but an array") != NULL, "%s", (char *) run.results->pdata[0]);
    fake_server_finish(server);
    g_ptr_array_unref(run.results);
    g_main_loop_unref(run.loop);
}
END_TEST

static void serve_silence(FakePeer *peer)
{
    peer_wait_for_hangup(peer);
}

START_TEST(test_async_connect_timeout)
{
    FakeServer *server = fake_server_start(serve_silence);
    AsyncRun run = {
        .loop = g_main_loop_new(NULL, FALSE),
        .results = g_ptr_array_new_with_free_func(g_free),
    };

    qft_qmp_client_connect_async(server->path, 200, NULL, on_connect_failed, &run);
    g_main_loop_run(run.loop);
    ck_assert_uint_eq(run.results->len, 1);
    ck_assert_str_eq(run.results->pdata[0], "timed out waiting for the QMP greeting");
    fake_server_finish(server);
    g_ptr_array_unref(run.results);
    g_main_loop_unref(run.loop);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *suite = suite_create("qmp-client");
    TCase *sync = tcase_create("sync");
    TCase *bad = tcase_create("bad-peers");
    TCase *async = tcase_create("async");

    tcase_add_test(sync, test_execute_with_events_interleaved);
    tcase_add_test(sync, test_stale_event_before_greeting);
    tcase_add_test(sync, test_command_error_keeps_the_connection);
    tcase_add_test(sync, test_timeout_then_late_reply);
    tcase_add_test(sync, test_wait_event_times_out);
    tcase_add_test(sync, test_reply_without_id);
    tcase_add_test(sync, test_connect_to_nothing);
    tcase_add_test(sync, test_capabilities_refused);
    tcase_set_timeout(sync, 30);
    suite_add_tcase(suite, sync);

    tcase_add_loop_test(bad, test_bad_peer, 0, G_N_ELEMENTS(bad_peers));
    tcase_set_timeout(bad, 60);
    suite_add_tcase(suite, bad);

    tcase_add_test(async, test_async_round_trip);
    tcase_add_test(async, test_async_timeout_and_cancel);
    tcase_add_test(async, test_async_connect_bad_greeting);
    tcase_add_test(async, test_async_connect_timeout);
    tcase_set_timeout(async, 30);
    suite_add_tcase(suite, async);
    return suite;
}

int main(void)
{
    return qft_check_run(client_suite());
}
