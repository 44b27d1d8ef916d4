/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP framing and message classification, on plain byte buffers.
 *
 * QEMU writes one JSON object per line ("\r\n" or "\n"); this is what
 * `-qmp ...` gives unless pretty=on is set, which this parser does not
 * support. The parser owns no socket: feed it whatever a read returned (any
 * split, several messages at once), then take complete messages out.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The longest message (one line, without its line end) we accept. */
#define QFT_QMP_MAX_MESSAGE_SIZE ((gsize) 16 * 1024 * 1024)

typedef enum {
    QFT_QMP_MESSAGE_GREETING,   /* {"QMP": {...}} */
    QFT_QMP_MESSAGE_RETURN,     /* {"return": ..., "id": ...} */
    QFT_QMP_MESSAGE_ERROR,      /* {"error": {"class": ..., "desc": ...}, "id": ...} */
    QFT_QMP_MESSAGE_EVENT,      /* {"event": "NAME", "data": ..., "timestamp": ...} */
} QftQmpMessageKind;

typedef struct {
    QftQmpMessageKind kind;
    JsonNode *root;             /* the whole message (owned) */
    /*
     * The reply's "id": the string itself when it is a JSON string, the
     * compact JSON text otherwise, NULL without one. Replies only.
     */
    char *id;
    /*
     * Borrowed from root, valid while the message lives:
     * GREETING: value = the "QMP" object; RETURN: value = the "return" member;
     * ERROR: error_class, error_desc; EVENT: event = its name, value = root.
     */
    JsonNode *value;
    const char *event;
    const char *error_class;
    const char *error_desc;
} QftQmpMessage;

/* Classifies one message (no line end needed). */
QftQmpMessage *qft_qmp_message_parse(const char *text, gsize length, GError **error);
void qft_qmp_message_free(QftQmpMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QftQmpMessage, qft_qmp_message_free)

typedef struct _QftQmpParser QftQmpParser;

/* max_message_size: 0 means QFT_QMP_MAX_MESSAGE_SIZE. */
QftQmpParser *qft_qmp_parser_new(gsize max_message_size);
void qft_qmp_parser_free(QftQmpParser *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QftQmpParser, qft_qmp_parser_free)

/*
 * Appends bytes from the peer. Fails with QFT_QMP_ERROR_TOO_LARGE as soon as
 * an unterminated message exceeds the limit; the stream cannot be resynced
 * after that, so every later call fails the same way.
 */
gboolean qft_qmp_parser_feed(QftQmpParser *parser, const void *data, gsize size,
                             GError **error);

/*
 * The next complete message. NULL with *error unset: nothing complete yet.
 * NULL with *error set: the next line was malformed; it has been consumed.
 * Blank lines are skipped.
 */
QftQmpMessage *qft_qmp_parser_next(QftQmpParser *parser, GError **error);

/*
 * The peer closed the stream: fails with QFT_QMP_ERROR_TRUNCATED if part
 * of a message is still buffered (complete lines should be taken first).
 */
gboolean qft_qmp_parser_finish(QftQmpParser *parser, GError **error);

/* Bytes buffered that are not yet taken as messages. */
gsize qft_qmp_parser_get_pending_size(const QftQmpParser *parser);

G_END_DECLS
