/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP connection: socket I/O, handshake, request/reply matching by id,
 * event delivery; synchronous and GMainLoop-driven. Framing and message
 * classification live in qmp-parser.c.
 */
#include <string.h>
#include <sys/un.h>

#include <gio/gunixsocketaddress.h>

#include "qmp-client.h"

#define READ_CHUNK_SIZE 65536

typedef enum {
    STATE_AWAITING_GREETING,
    STATE_NEGOTIATING,
    STATE_READY,
    STATE_CLOSED,
} ClientState;

/* One request in flight. Async ones own their GTask; sync ones live on the caller's stack. */
typedef struct {
    QftQmpClient *client;
    char *id;
    char *command;
    GTask *task;                /* NULL for a synchronous caller */
    GSource *timeout_source;
    GSource *cancel_source;
    gboolean done;              /* sync only: result or error is set */
    JsonNode *result;
    GError *error;
} Request;

struct _QftQmpClient {
    GObject parent_instance;

    GSocketConnection *connection;
    GSocket *socket;
    QftQmpParser *parser;
    ClientState state;
    JsonNode *greeting;
    GError *close_reason;

    guint64 last_id;
    GHashTable *requests;       /* id -> Request *, not owned */
    GHashTable *abandoned_ids;  /* ids whose caller gave up waiting */
    GQueue events;              /* JsonNode *, not yet taken by qft_qmp_wait_event */
    GByteArray *outgoing;       /* request bytes not yet written */

    GMainContext *context;      /* where the sources below run, once attached */
    GSource *read_source;
    GSource *write_source;

    GTask *connect_task;        /* during qft_qmp_client_connect_async */
    GSource *connect_timeout_source;
    GSource *connect_cancel_source;
};

enum {
    SIGNAL_EVENT,
    SIGNAL_CLOSED,
    N_SIGNALS,
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(QftQmpClient, qft_qmp_client, G_TYPE_OBJECT)

static void flush_outgoing_async(QftQmpClient *self);

/* ---- requests ---- */

static void request_free(Request *request)
{
    if (request->timeout_source != NULL) {
        g_source_destroy(request->timeout_source);
        g_source_unref(request->timeout_source);
    }
    if (request->cancel_source != NULL) {
        g_source_destroy(request->cancel_source);
        g_source_unref(request->cancel_source);
    }
    g_clear_object(&request->task);
    g_clear_pointer(&request->result, json_node_unref);
    g_clear_error(&request->error);
    g_free(request->id);
    g_free(request->command);
    g_free(request);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Request, request_free)

/*
 * Hands a request its outcome: result (owned) or error (owned). An async
 * request leaves the table and completes its task; a sync one is marked done
 * for its caller to pick up.
 */
static void complete_request(Request *request, JsonNode *result, GError *error)
{
    QftQmpClient *self = request->client;

    if (request->task == NULL) {
        request->done = TRUE;
        request->result = result;
        request->error = error;
        return;
    }
    g_hash_table_remove(self->requests, request->id);
    if (error != NULL) {
        g_task_return_error(request->task, error);
    } else {
        g_task_return_pointer(request->task, result, (GDestroyNotify) json_node_unref);
    }
    request_free(request);
}

/* The caller stopped waiting: a late reply to it will be dropped. */
static void abandon_request(Request *request, GError *reason)
{
    QftQmpClient *self = request->client;

    g_hash_table_add(self->abandoned_ids, g_strdup(request->id));
    complete_request(request, NULL, reason);
}

static char *serialize_request(const char *command, JsonObject *arguments, const char *id)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "execute");
    json_builder_add_string_value(builder, command);
    if (arguments != NULL) {
        JsonNode *node = json_node_alloc();

        json_node_init_object(node, arguments);
        json_builder_set_member_name(builder, "arguments");
        json_builder_add_value(builder, node);
    }
    json_builder_set_member_name(builder, "id");
    json_builder_add_string_value(builder, id);
    json_builder_end_object(builder);
    root = json_builder_get_root(builder);
    text = json_to_string(root, FALSE);
    return g_strconcat(text, "\n", NULL);
}

/* Registers a request and queues its bytes; the caller flushes them. */
static Request *start_request(QftQmpClient *self, const char *command, JsonObject *arguments,
                              GTask *task)
{
    Request *request = g_new0(Request, 1);
    g_autofree char *text = NULL;

    request->client = self;
    request->id = g_strdup_printf("qft-%" G_GUINT64_FORMAT, ++self->last_id);
    request->command = g_strdup(command);
    request->task = task ? g_object_ref(task) : NULL;
    text = serialize_request(command, arguments, request->id);
    g_byte_array_append(self->outgoing, (const guint8 *) text, (guint) strlen(text));
    g_hash_table_insert(self->requests, request->id, request);
    return request;
}

/* ---- closing ---- */

static void destroy_source(GSource **source)
{
    if (*source != NULL) {
        g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
    }
}

/*
 * Completes qft_qmp_client_connect_async, if one is under way, and drops the
 * reference the client held on itself while connecting.
 */
static void finish_connect(QftQmpClient *self, GError *error)
{
    g_autoptr(GTask) task = g_steal_pointer(&self->connect_task);

    if (task == NULL) {
        g_clear_error(&error);
        return;
    }
    destroy_source(&self->connect_timeout_source);
    destroy_source(&self->connect_cancel_source);
    if (error != NULL) {
        g_task_return_error(task, error);
    } else {
        g_task_return_pointer(task, g_object_ref(self), g_object_unref);
    }
    g_object_unref(self);
}

/* Ends the connection for `reason`: every waiter gets it; "closed" is emitted once. */
static void close_with_error(QftQmpClient *self, const GError *reason)
{
    g_autoptr(GList) requests = NULL;
    g_autoptr(GError) close_error = NULL;

    if (self->state == STATE_CLOSED) {
        return;
    }
    g_object_ref(self);
    self->state = STATE_CLOSED;
    self->close_reason = g_error_copy(reason);
    destroy_source(&self->read_source);
    destroy_source(&self->write_source);
    if (!g_io_stream_close(G_IO_STREAM(self->connection), NULL, &close_error)) {
        g_debug("closing the QMP socket: %s", close_error->message);
    }
    requests = g_hash_table_get_values(self->requests);
    for (GList *l = requests; l != NULL; l = l->next) {
        Request *request = l->data;

        if (request->task == NULL) {
            g_hash_table_remove(self->requests, request->id);
        }
        complete_request(request, NULL, g_error_copy(reason));
    }
    finish_connect(self, g_error_copy(reason));
    g_signal_emit(self, signals[SIGNAL_CLOSED], 0, reason);
    g_object_unref(self);
}

/* Closes on a protocol or I/O failure and passes the error on to the caller. */
static gboolean fail_connection(QftQmpClient *self, GError *reason, GError **error)
{
    close_with_error(self, reason);
    g_propagate_error(error, reason);
    return FALSE;
}

static gboolean check_open(QftQmpClient *self, GError **error)
{
    if (self->state == STATE_CLOSED) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED,
                    "QMP connection is closed: %s", self->close_reason->message);
        return FALSE;
    }
    return TRUE;
}

/* ---- incoming messages ---- */

static const char *message_kind_name(QftQmpMessageKind kind)
{
    switch (kind) {
    case QFT_QMP_MESSAGE_GREETING:
        return "a greeting";
    case QFT_QMP_MESSAGE_RETURN:
        return "a return reply";
    case QFT_QMP_MESSAGE_ERROR:
        return "an error reply";
    case QFT_QMP_MESSAGE_EVENT:
        return "an event";
    }
    g_assert_not_reached();
}

static void start_negotiation_async(QftQmpClient *self);

static gboolean handle_greeting(QftQmpClient *self, QftQmpMessage *message, GError **error)
{
    JsonObject *qmp = json_node_get_object(message->value);
    JsonNode *version = json_object_get_member(qmp, "version");
    JsonNode *capabilities = json_object_get_member(qmp, "capabilities");

    if (version == NULL || !JSON_NODE_HOLDS_OBJECT(version) ||
        capabilities == NULL || !JSON_NODE_HOLDS_ARRAY(capabilities)) {
        g_set_error_literal(error, QFT_QMP_ERROR, QFT_QMP_ERROR_BAD_GREETING,
                            "QMP greeting lacks a \"version\" object or a \"capabilities\" array");
        return FALSE;
    }
    self->greeting = json_node_ref(message->value);
    self->state = STATE_NEGOTIATING;
    if (self->connect_task != NULL) {
        start_negotiation_async(self);
    }
    return TRUE;
}

static Request *find_request_for_reply(QftQmpClient *self, QftQmpMessage *message)
{
    GHashTableIter iter;
    gpointer only_request;

    if (message->id != NULL) {
        return g_hash_table_lookup(self->requests, message->id);
    }
    /* QEMU answers a request it could not parse without an id. */
    if (g_hash_table_size(self->requests) != 1) {
        return NULL;
    }
    g_hash_table_iter_init(&iter, self->requests);
    g_hash_table_iter_next(&iter, NULL, &only_request);
    return only_request;
}

static gboolean handle_reply(QftQmpClient *self, QftQmpMessage *message, GError **error)
{
    Request *request = find_request_for_reply(self, message);

    if (request == NULL && message->id != NULL &&
        g_hash_table_remove(self->abandoned_ids, message->id)) {
        g_debug("QMP: dropping the late reply to request %s", message->id);
        return TRUE;
    }
    if (request == NULL) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_UNEXPECTED,
                    "QMP sent %s %s%s%s that matches no request in flight",
                    message_kind_name(message->kind),
                    message->id ? "with id '" : "without an id",
                    message->id ? message->id : "", message->id ? "'" : "");
        return FALSE;
    }
    if (message->kind == QFT_QMP_MESSAGE_ERROR) {
        complete_request(request, NULL,
                         qft_qmp_command_error_new(message->error_class, message->error_desc));
    } else {
        complete_request(request, json_node_ref(message->value), NULL);
    }
    return TRUE;
}

static void handle_event(QftQmpClient *self, QftQmpMessage *message)
{
    GQuark detail = g_quark_from_string(message->event);

    if (g_signal_has_handler_pending(self, signals[SIGNAL_EVENT], detail, FALSE)) {
        g_signal_emit(self, signals[SIGNAL_EVENT], detail, message->event, message->value);
    } else {
        g_queue_push_tail(&self->events, json_node_ref(message->value));
    }
}

static gboolean handle_message(QftQmpClient *self, QftQmpMessage *message, GError **error)
{
    if (self->state == STATE_AWAITING_GREETING) {
        if (message->kind == QFT_QMP_MESSAGE_EVENT) {
            /*
             * QEMU can flush an event it queued for the previous client of
             * this socket before the greeting: it is not this connection's.
             */
            g_debug("skipped an event (%s) sent before the QMP greeting: left "
                    "over from an earlier connection", message->event);
            return TRUE;
        }
        if (message->kind != QFT_QMP_MESSAGE_GREETING) {
            g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_BAD_GREETING,
                        "expected the QMP greeting, got %s", message_kind_name(message->kind));
            return FALSE;
        }
        return handle_greeting(self, message, error);
    }
    switch (message->kind) {
    case QFT_QMP_MESSAGE_GREETING:
        g_set_error_literal(error, QFT_QMP_ERROR, QFT_QMP_ERROR_UNEXPECTED,
                            "QMP sent a second greeting");
        return FALSE;
    case QFT_QMP_MESSAGE_EVENT:
        handle_event(self, message);
        return TRUE;
    case QFT_QMP_MESSAGE_RETURN:
    case QFT_QMP_MESSAGE_ERROR:
        return handle_reply(self, message, error);
    }
    g_assert_not_reached();
}

/* Handles every complete message buffered in the parser. */
static gboolean dispatch_messages(QftQmpClient *self, GError **error)
{
    while (self->state != STATE_CLOSED) {
        g_autoptr(GError) local_error = NULL;
        g_autoptr(QftQmpMessage) message = qft_qmp_parser_next(self->parser, &local_error);

        if (message == NULL && local_error == NULL) {
            break;
        }
        if (message == NULL && self->state == STATE_AWAITING_GREETING) {
            return fail_connection(self, g_error_new(QFT_QMP_ERROR, QFT_QMP_ERROR_BAD_GREETING,
                                                     "expected the QMP greeting: %s",
                                                     local_error->message), error);
        }
        if (message == NULL || !handle_message(self, message, &local_error)) {
            return fail_connection(self, g_steal_pointer(&local_error), error);
        }
    }
    return TRUE;
}

/* Reads what the socket has (without blocking) and dispatches it. */
static gboolean read_available(QftQmpClient *self, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    char buffer[READ_CHUNK_SIZE];
    gssize received;

    if (!check_open(self, error)) {
        return FALSE;
    }
    received = g_socket_receive_with_blocking(self->socket, buffer, sizeof(buffer), FALSE,
                                              NULL, &local_error);
    if (received < 0 && g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        return TRUE;
    }
    if (received < 0) {
        return fail_connection(self, g_error_new(QFT_QMP_ERROR, QFT_QMP_ERROR_IO,
                                                 "reading the QMP socket failed: %s",
                                                 local_error->message), error);
    }
    if (received == 0 && !qft_qmp_parser_finish(self->parser, &local_error)) {
        return fail_connection(self, g_steal_pointer(&local_error), error);
    }
    if (received == 0) {
        return fail_connection(self, g_error_new_literal(QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED,
                                                         "QEMU closed the QMP connection"),
                               error);
    }
    if (!qft_qmp_parser_feed(self->parser, buffer, (gsize) received, &local_error)) {
        return fail_connection(self, g_steal_pointer(&local_error), error);
    }
    return dispatch_messages(self, error);
}

/* ---- synchronous waiting ---- */

static gint64 deadline_after(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64) timeout_ms * 1000;
}

static gint64 microseconds_left(gint64 deadline)
{
    return deadline < 0 ? -1 : MAX(0, deadline - g_get_monotonic_time());
}

/*
 * Waits until the socket is ready for `condition` or the deadline passes.
 * `waiting_for` completes the timeout message ("... waiting for X").
 */
static gboolean wait_for_socket(QftQmpClient *self, GIOCondition condition, gint64 deadline,
                                int timeout_ms, const char *waiting_for, GError **error)
{
    g_autoptr(GError) local_error = NULL;

    if (g_socket_condition_timed_wait(self->socket, condition, microseconds_left(deadline),
                                      NULL, &local_error)) {
        return TRUE;
    }
    if (g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT,
                    "timed out after %d ms waiting for %s", timeout_ms, waiting_for);
        return FALSE;
    }
    return fail_connection(self, g_error_new(QFT_QMP_ERROR, QFT_QMP_ERROR_IO,
                                             "waiting on the QMP socket failed: %s",
                                             local_error->message), error);
}

/* Writes all queued request bytes, waiting for room until the deadline. */
static gboolean flush_outgoing(QftQmpClient *self, gint64 deadline, int timeout_ms,
                               GError **error)
{
    while (self->outgoing->len > 0) {
        g_autoptr(GError) local_error = NULL;
        gssize sent = g_socket_send_with_blocking(self->socket, (const char *) self->outgoing->data,
                                                  self->outgoing->len, FALSE, NULL, &local_error);

        if (sent < 0 && g_error_matches(local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            if (!wait_for_socket(self, G_IO_OUT, deadline, timeout_ms,
                                 "room to send to the QMP socket", error)) {
                return FALSE;
            }
            continue;
        }
        if (sent < 0) {
            return fail_connection(self, g_error_new(QFT_QMP_ERROR, QFT_QMP_ERROR_IO,
                                                     "writing to the QMP socket failed: %s",
                                                     local_error->message), error);
        }
        g_byte_array_remove_range(self->outgoing, 0, (guint) sent);
    }
    return TRUE;
}

/* Waits for readable bytes until the deadline, then reads and dispatches them. */
static gboolean receive_until(QftQmpClient *self, gint64 deadline, int timeout_ms,
                              const char *waiting_for, GError **error)
{
    return check_open(self, error) &&
           wait_for_socket(self, G_IO_IN, deadline, timeout_ms, waiting_for, error) &&
           read_available(self, error);
}

static gboolean await_reply(QftQmpClient *self, Request *request, gint64 deadline,
                            int timeout_ms, GError **error)
{
    g_autofree char *waiting_for = g_strdup_printf("the reply to '%s'", request->command);

    if (!flush_outgoing(self, deadline, timeout_ms, error)) {
        return FALSE;
    }
    while (!request->done) {
        if (!receive_until(self, deadline, timeout_ms, waiting_for, error)) {
            return FALSE;
        }
    }
    if (request->error != NULL) {
        g_propagate_error(error, g_steal_pointer(&request->error));
        return FALSE;
    }
    return TRUE;
}

static JsonNode *execute_until(QftQmpClient *self, const char *command, JsonObject *arguments,
                               gint64 deadline, int timeout_ms, GError **error)
{
    g_autoptr(Request) request = NULL;

    if (!check_open(self, error)) {
        return NULL;
    }
    request = start_request(self, command, arguments, NULL);
    if (!await_reply(self, request, deadline, timeout_ms, error)) {
        if (!request->done && self->state != STATE_CLOSED) {
            g_hash_table_add(self->abandoned_ids, g_strdup(request->id));
        }
        g_hash_table_remove(self->requests, request->id);
        return NULL;
    }
    g_hash_table_remove(self->requests, request->id);
    return g_steal_pointer(&request->result);
}

JsonNode *qft_qmp_execute(QftQmpClient *self, const char *command, JsonObject *arguments,
                          int timeout_ms, GError **error)
{
    g_return_val_if_fail(QFT_IS_QMP_CLIENT(self), NULL);
    g_return_val_if_fail(command != NULL, NULL);

    return execute_until(self, command, arguments, deadline_after(timeout_ms), timeout_ms, error);
}

static JsonNode *take_queued_event(QftQmpClient *self, const char *event_name)
{
    for (GList *l = self->events.head; l != NULL; l = l->next) {
        JsonObject *event = json_node_get_object(l->data);

        if (event_name == NULL ||
            g_str_equal(json_object_get_string_member(event, "event"), event_name)) {
            JsonNode *node = l->data;

            g_queue_delete_link(&self->events, l);
            return node;
        }
    }
    return NULL;
}

JsonNode *qft_qmp_wait_event(QftQmpClient *self, const char *event_name, int timeout_ms,
                             GError **error)
{
    gint64 deadline = deadline_after(timeout_ms);
    g_autofree char *waiting_for = NULL;
    JsonNode *event;

    g_return_val_if_fail(QFT_IS_QMP_CLIENT(self), NULL);

    waiting_for = event_name ? g_strdup_printf("event '%s'", event_name) : g_strdup("an event");
    while ((event = take_queued_event(self, event_name)) == NULL) {
        if (!receive_until(self, deadline, timeout_ms, waiting_for, error)) {
            return NULL;
        }
    }
    return event;
}

char *qft_qmp_execute_hmp(QftQmpClient *self, const char *command_line, int timeout_ms,
                          GError **error)
{
    g_autoptr(JsonObject) arguments = json_object_new();
    g_autoptr(JsonNode) output = NULL;

    json_object_set_string_member(arguments, "command-line", command_line);
    output = qft_qmp_execute(self, "human-monitor-command", arguments, timeout_ms, error);
    if (output == NULL) {
        return NULL;
    }
    if (!JSON_NODE_HOLDS_VALUE(output) || json_node_get_value_type(output) != G_TYPE_STRING) {
        g_set_error_literal(error, QFT_QMP_ERROR, QFT_QMP_ERROR_MALFORMED,
                            "human-monitor-command returned something other than a string");
        return NULL;
    }
    return g_strdup(json_node_get_string(output));
}

/* ---- connecting ---- */

static QftQmpClient *client_new(GSocketConnection *connection)
{
    QftQmpClient *self = g_object_new(QFT_TYPE_QMP_CLIENT, NULL);

    self->connection = g_object_ref(connection);
    self->socket = g_object_ref(g_socket_connection_get_socket(connection));
    g_socket_set_blocking(self->socket, FALSE);
    return self;
}

static GSocketAddress *unix_address(const char *socket_path, GError **error)
{
    if (strlen(socket_path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_CONNECT,
                    "QMP socket path is too long for a unix socket: %s", socket_path);
        return NULL;
    }
    return g_unix_socket_address_new(socket_path);
}

QftQmpClient *qft_qmp_client_connect(const char *socket_path, int timeout_ms, GError **error)
{
    gint64 deadline = deadline_after(timeout_ms);
    g_autoptr(GSocketClient) socket_client = g_socket_client_new();
    g_autoptr(GSocketAddress) address = NULL;
    g_autoptr(GSocketConnection) connection = NULL;
    g_autoptr(QftQmpClient) self = NULL;
    g_autoptr(JsonNode) negotiated = NULL;
    g_autoptr(GError) local_error = NULL;

    g_return_val_if_fail(socket_path != NULL, NULL);

    address = unix_address(socket_path, error);
    if (address == NULL) {
        return NULL;
    }
    connection = g_socket_client_connect(socket_client, G_SOCKET_CONNECTABLE(address), NULL,
                                         &local_error);
    if (connection == NULL) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_CONNECT,
                    "cannot connect to the QMP socket %s: %s", socket_path,
                    local_error->message);
        return NULL;
    }
    self = client_new(connection);
    while (self->state == STATE_AWAITING_GREETING) {
        if (!receive_until(self, deadline, timeout_ms, "the QMP greeting", error)) {
            return NULL;
        }
    }
    negotiated = execute_until(self, "qmp_capabilities", NULL, deadline, timeout_ms, error);
    if (negotiated == NULL) {
        g_prefix_error(error, "negotiating QMP capabilities: ");
        return NULL;
    }
    self->state = STATE_READY;
    return g_steal_pointer(&self);
}

/* ---- the main-loop side ---- */

static gboolean on_socket_readable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
    QftQmpClient *self = user_data;
    g_autoptr(GError) error = NULL;
    gboolean keep_reading;

    (void) socket;
    (void) condition;
    g_object_ref(self);
    if (!read_available(self, &error)) {
        g_debug("QMP connection ended: %s", error->message);
    }
    keep_reading = self->state != STATE_CLOSED;
    g_object_unref(self);
    return keep_reading ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean on_socket_writable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
    QftQmpClient *self = user_data;

    (void) socket;
    (void) condition;
    g_clear_pointer(&self->write_source, g_source_unref);
    flush_outgoing_async(self);
    return G_SOURCE_REMOVE;
}

/* Writes what the socket takes now; the rest when it becomes writable. */
static void flush_outgoing_async(QftQmpClient *self)
{
    g_autoptr(GError) error = NULL;

    if (self->write_source != NULL || self->state == STATE_CLOSED) {
        return;
    }
    if (flush_outgoing(self, 0, 0, &error) || self->state == STATE_CLOSED) {
        return;
    }
    self->write_source = g_socket_create_source(self->socket, G_IO_OUT, NULL);
    g_source_set_callback(self->write_source, G_SOURCE_FUNC(on_socket_writable), self, NULL);
    g_source_attach(self->write_source, self->context);
}

void qft_qmp_client_attach(QftQmpClient *self, GMainContext *context)
{
    g_return_if_fail(QFT_IS_QMP_CLIENT(self));

    if (self->context != NULL || self->state == STATE_CLOSED) {
        return;
    }
    self->context = context ? g_main_context_ref(context) : g_main_context_ref_thread_default();
    self->read_source = g_socket_create_source(self->socket, G_IO_IN, NULL);
    g_source_set_callback(self->read_source, G_SOURCE_FUNC(on_socket_readable), self, NULL);
    g_source_attach(self->read_source, self->context);
}

/*
 * Arms what can end an async wait early, in `context`: a timer (unless
 * timeout_ms < 0) and the cancellable (if any). The sources go to the
 * pointers given, for whoever completes the wait to destroy.
 */
static void watch_wait(GMainContext *context, int timeout_ms, GSourceFunc on_timeout,
                       GCancellable *cancellable, GCancellableSourceFunc on_cancelled,
                       gpointer data, GSource **timeout_source, GSource **cancel_source)
{
    if (timeout_ms >= 0) {
        *timeout_source = g_timeout_source_new((guint) timeout_ms);
        g_source_set_callback(*timeout_source, on_timeout, data, NULL);
        g_source_attach(*timeout_source, context);
    }
    if (cancellable != NULL) {
        *cancel_source = g_cancellable_source_new(cancellable);
        g_source_set_callback(*cancel_source, G_SOURCE_FUNC(on_cancelled), data, NULL);
        g_source_attach(*cancel_source, context);
    }
}

static gboolean on_request_timeout(gpointer user_data)
{
    Request *request = user_data;

    g_clear_pointer(&request->timeout_source, g_source_unref);
    abandon_request(request, g_error_new(QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT,
                                         "timed out waiting for the reply to '%s'",
                                         request->command));
    return G_SOURCE_REMOVE;
}

static gboolean on_request_cancelled(GCancellable *cancellable, gpointer user_data)
{
    Request *request = user_data;

    (void) cancellable;
    g_clear_pointer(&request->cancel_source, g_source_unref);
    abandon_request(request, g_error_new(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         "'%s' was cancelled", request->command));
    return G_SOURCE_REMOVE;
}

void qft_qmp_execute_async(QftQmpClient *self, const char *command, JsonObject *arguments,
                           int timeout_ms, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    g_autoptr(GError) error = NULL;
    Request *request;

    g_return_if_fail(QFT_IS_QMP_CLIENT(self));
    g_return_if_fail(command != NULL);

    task = g_task_new(self, cancellable, callback, user_data);
    g_task_set_source_tag(task, qft_qmp_execute_async);
    if (!check_open(self, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    qft_qmp_client_attach(self, NULL);
    request = start_request(self, command, arguments, task);
    watch_wait(self->context, timeout_ms, on_request_timeout, cancellable, on_request_cancelled,
               request, &request->timeout_source, &request->cancel_source);
    flush_outgoing_async(self);
}

JsonNode *qft_qmp_execute_finish(QftQmpClient *self, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == qft_qmp_execute_async, NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

static void on_capabilities_negotiated(GObject *source, GAsyncResult *result, gpointer user_data)
{
    QftQmpClient *self = QFT_QMP_CLIENT(source);
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) negotiated = qft_qmp_execute_finish(self, result, &error);

    (void) user_data;
    if (negotiated == NULL) {
        g_prefix_error(&error, "negotiating QMP capabilities: ");
        close_with_error(self, error);
        return;
    }
    self->state = STATE_READY;
    finish_connect(self, NULL);
}

static void start_negotiation_async(QftQmpClient *self)
{
    qft_qmp_execute_async(self, "qmp_capabilities", NULL, -1, NULL, on_capabilities_negotiated,
                          NULL);
}

static gboolean on_connect_timeout(gpointer user_data)
{
    QftQmpClient *self = user_data;
    g_autoptr(GError) error = g_error_new_literal(QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT,
                                                  self->state == STATE_AWAITING_GREETING
                                                  ? "timed out waiting for the QMP greeting"
                                                  : "timed out negotiating QMP capabilities");

    g_clear_pointer(&self->connect_timeout_source, g_source_unref);
    close_with_error(self, error);
    return G_SOURCE_REMOVE;
}

static gboolean on_connect_cancelled(GCancellable *cancellable, gpointer user_data)
{
    QftQmpClient *self = user_data;
    g_autoptr(GError) error = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                  "QMP connection was cancelled");

    (void) cancellable;
    g_clear_pointer(&self->connect_cancel_source, g_source_unref);
    close_with_error(self, error);
    return G_SOURCE_REMOVE;
}

typedef struct {
    char *socket_path;
    int timeout_ms;
} ConnectData;

static void connect_data_free(ConnectData *data)
{
    g_free(data->socket_path);
    g_free(data);
}

static void on_socket_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
    g_autoptr(GTask) task = user_data;
    ConnectData *data = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) connection =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
    GCancellable *cancellable = g_task_get_cancellable(task);
    QftQmpClient *self;

    if (connection == NULL) {
        g_task_return_new_error(task, QFT_QMP_ERROR, QFT_QMP_ERROR_CONNECT,
                                "cannot connect to the QMP socket %s: %s",
                                data->socket_path, error->message);
        return;
    }
    /* This reference keeps the client alive until finish_connect(). */
    self = client_new(connection);
    self->connect_task = g_steal_pointer(&task);
    qft_qmp_client_attach(self, g_task_get_context(self->connect_task));
    watch_wait(self->context, data->timeout_ms, on_connect_timeout, cancellable,
               on_connect_cancelled, self, &self->connect_timeout_source,
               &self->connect_cancel_source);
}

void qft_qmp_client_connect_async(const char *socket_path, int timeout_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GSocketClient) socket_client = g_socket_client_new();
    g_autoptr(GSocketAddress) address = NULL;
    g_autoptr(GError) error = NULL;
    ConnectData *data = g_new0(ConnectData, 1);

    g_return_if_fail(socket_path != NULL);

    g_task_set_source_tag(task, qft_qmp_client_connect_async);
    data->socket_path = g_strdup(socket_path);
    data->timeout_ms = timeout_ms;
    g_task_set_task_data(task, data, (GDestroyNotify) connect_data_free);
    address = unix_address(socket_path, &error);
    if (address == NULL) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_socket_client_connect_async(socket_client, G_SOCKET_CONNECTABLE(address), cancellable,
                                  on_socket_connected, g_steal_pointer(&task));
}

QftQmpClient *qft_qmp_client_connect_finish(GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
    g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == qft_qmp_client_connect_async,
                         NULL);

    return g_task_propagate_pointer(G_TASK(result), error);
}

/* ---- the object ---- */

JsonNode *qft_qmp_client_get_greeting(QftQmpClient *self)
{
    g_return_val_if_fail(QFT_IS_QMP_CLIENT(self), NULL);
    return self->greeting;
}

gboolean qft_qmp_client_is_closed(QftQmpClient *self)
{
    g_return_val_if_fail(QFT_IS_QMP_CLIENT(self), TRUE);
    return self->state == STATE_CLOSED;
}

void qft_qmp_client_close(QftQmpClient *self)
{
    g_autoptr(GError) reason = NULL;

    g_return_if_fail(QFT_IS_QMP_CLIENT(self));

    reason = g_error_new_literal(QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED,
                                 "the client closed the connection");
    close_with_error(self, reason);
}

static void qft_qmp_client_dispose(GObject *object)
{
    QftQmpClient *self = QFT_QMP_CLIENT(object);

    destroy_source(&self->read_source);
    destroy_source(&self->write_source);
    destroy_source(&self->connect_timeout_source);
    destroy_source(&self->connect_cancel_source);
    if (self->connection != NULL && self->state != STATE_CLOSED) {
        self->state = STATE_CLOSED;
        self->close_reason = g_error_new_literal(QFT_QMP_ERROR, QFT_QMP_ERROR_CLOSED,
                                                 "the client was released");
        g_io_stream_close(G_IO_STREAM(self->connection), NULL, NULL);
    }
    g_clear_object(&self->socket);
    g_clear_object(&self->connection);
    G_OBJECT_CLASS(qft_qmp_client_parent_class)->dispose(object);
}

static void qft_qmp_client_finalize(GObject *object)
{
    QftQmpClient *self = QFT_QMP_CLIENT(object);

    g_queue_clear_full(&self->events, (GDestroyNotify) json_node_unref);
    g_hash_table_unref(self->requests);
    g_hash_table_unref(self->abandoned_ids);
    g_byte_array_unref(self->outgoing);
    qft_qmp_parser_free(self->parser);
    g_clear_pointer(&self->greeting, json_node_unref);
    g_clear_error(&self->close_reason);
    g_clear_pointer(&self->context, g_main_context_unref);
    G_OBJECT_CLASS(qft_qmp_client_parent_class)->finalize(object);
}

static void qft_qmp_client_class_init(QftQmpClientClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = qft_qmp_client_dispose;
    object_class->finalize = qft_qmp_client_finalize;

    signals[SIGNAL_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass),
                                         G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 2,
                                         G_TYPE_STRING, JSON_TYPE_NODE);
    signals[SIGNAL_CLOSED] = g_signal_new("closed", G_TYPE_FROM_CLASS(klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void qft_qmp_client_init(QftQmpClient *self)
{
    self->parser = qft_qmp_parser_new(0);
    self->state = STATE_AWAITING_GREETING;
    self->requests = g_hash_table_new(g_str_hash, g_str_equal);
    self->abandoned_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    self->outgoing = g_byte_array_new();
    g_queue_init(&self->events);
}
