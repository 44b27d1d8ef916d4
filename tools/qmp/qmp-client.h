/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A QMP client: one connection to a QEMU monitor socket.
 *
 * Synchronous use (tests, CLI):
 *
 *   g_autoptr(QftQmpClient) qmp = qft_qmp_client_connect(path, 5000, &error);
 *   g_autoptr(JsonNode) status = qft_qmp_execute(qmp, "query-status", NULL, 5000, &error);
 *   g_autoptr(JsonNode) stop = qft_qmp_wait_event(qmp, "STOP", 5000, &error);
 *
 * Asynchronous use (a daemon's GMainLoop): qft_qmp_client_connect_async(),
 * qft_qmp_execute_async(), and the "event" and "closed" signals. Replies are
 * matched to requests by "id", so any number of requests may be in flight.
 *
 * Events: each event goes to the "event" signal handlers if one is connected
 * for it ("event" or "event::NAME"); otherwise it is queued until
 * qft_qmp_wait_event() takes it. Nothing is dropped.
 *
 * Timeouts are in milliseconds: -1 waits without limit; 0 does not wait
 * (sync calls then only use what is already buffered or readable).
 *
 * Errors: QFT_QMP_COMMAND_ERROR when QEMU answers with an "error" reply,
 * QFT_QMP_ERROR for everything else (qmp-error.h). Any protocol violation
 * (malformed message, unknown reply id, EOF) closes the connection: later
 * calls fail with QFT_QMP_ERROR_CLOSED naming the reason. A timeout does not
 * close it; a late reply to a request given up on is dropped.
 *
 * A client is used from one thread; the async API and the signals run in
 * the GMainContext that was thread-default when the client started reading
 * (connect_async, the first execute_async, or qft_qmp_client_attach()).
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "qmp-error.h"
#include "qmp-parser.h"

G_BEGIN_DECLS

#define QFT_QMP_DEFAULT_TIMEOUT_MS 30000

#define QFT_TYPE_QMP_CLIENT (qft_qmp_client_get_type())
G_DECLARE_FINAL_TYPE(QftQmpClient, qft_qmp_client, QFT, QMP_CLIENT, GObject)

/*
 * Connects to the unix socket at socket_path, reads and checks the greeting
 * and negotiates capabilities ("qmp_capabilities"), all within timeout_ms.
 */
QftQmpClient *qft_qmp_client_connect(const char *socket_path, int timeout_ms, GError **error);

/*
 * Runs `command` (arguments may be NULL) and returns its "return" value.
 * Events arriving meanwhile are delivered or queued (see above).
 */
JsonNode *qft_qmp_execute(QftQmpClient *client, const char *command, JsonObject *arguments,
                          int timeout_ms, GError **error);

/*
 * Returns the next event named event_name (any event if NULL), whole
 * ({"event": ..., "data": ..., "timestamp": ...}): the oldest queued one,
 * or the first to arrive within timeout_ms.
 */
JsonNode *qft_qmp_wait_event(QftQmpClient *client, const char *event_name, int timeout_ms,
                             GError **error);

/* Runs an HMP command line through human-monitor-command; returns its output. */
char *qft_qmp_execute_hmp(QftQmpClient *client, const char *command_line, int timeout_ms,
                          GError **error);

/* The asynchronous counterparts; callbacks run in the thread-default context. */
void qft_qmp_client_connect_async(const char *socket_path, int timeout_ms,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data);
QftQmpClient *qft_qmp_client_connect_finish(GAsyncResult *result, GError **error);

void qft_qmp_execute_async(QftQmpClient *client, const char *command, JsonObject *arguments,
                           int timeout_ms, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
JsonNode *qft_qmp_execute_finish(QftQmpClient *client, GAsyncResult *result, GError **error);

/*
 * Starts reading the socket from `context` (NULL: the thread-default one),
 * so that events reach the "event" signal as they arrive. Done implicitly
 * by connect_async and execute_async. A client reads from one context only.
 *
 * Signals:
 *   "event" (detailed by the event name):
 *       void handler(QftQmpClient *client, const char *name, JsonNode *event, gpointer data)
 *   "closed": the connection ended (EOF, protocol error, qft_qmp_client_close()):
 *       void handler(QftQmpClient *client, const GError *reason, gpointer data)
 */
void qft_qmp_client_attach(QftQmpClient *client, GMainContext *context);

/* The greeting's "QMP" object: {"version": ..., "capabilities": [...]}. */
JsonNode *qft_qmp_client_get_greeting(QftQmpClient *client);

gboolean qft_qmp_client_is_closed(QftQmpClient *client);

/* Closes the connection; requests in flight fail with QFT_QMP_ERROR_CLOSED. */
void qft_qmp_client_close(QftQmpClient *client);

G_END_DECLS
