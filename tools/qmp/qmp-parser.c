/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QMP framing and message classification; see qmp-parser.h. */
#include <string.h>

#include "qmp-error.h"
#include "qmp-parser.h"

/* How much of an offending message an error quotes. */
#define EXCERPT_SIZE 120

struct _QftQmpParser {
    GByteArray *buffer;
    gsize max_message_size;
    gsize consumed;         /* bytes at the front already taken as lines */
    gsize scanned;          /* no '\n' in [consumed, scanned) */
    gsize tail_start;       /* start of the last, unterminated line */
    gboolean overflowed;    /* a message exceeded the limit: no resync */
};

/* Quotes the start of a message, bytes outside printable ASCII escaped. */
static char *excerpt(const char *text, gsize length)
{
    GString *quoted = g_string_new("'");
    gsize shown = MIN(length, (gsize) EXCERPT_SIZE);

    for (gsize i = 0; i < shown; i++) {
        guchar c = (guchar) text[i];

        if (c == '\'' || c == '\\') {
            g_string_append_printf(quoted, "\\%c", c);
        } else if (c >= 0x20 && c < 0x7f) {
            g_string_append_c(quoted, (char) c);
        } else {
            g_string_append_printf(quoted, "\\x%02x", c);
        }
    }
    g_string_append(quoted, length > shown ? "'..." : "'");
    return g_string_free(quoted, FALSE);
}

static const char *json_kind_name(JsonNode *node)
{
    switch (json_node_get_node_type(node)) {
    case JSON_NODE_OBJECT:
        return "an object";
    case JSON_NODE_ARRAY:
        return "an array";
    case JSON_NODE_NULL:
        return "null";
    case JSON_NODE_VALUE:
        break;
    }
    switch (json_node_get_value_type(node)) {
    case G_TYPE_STRING:
        return "a string";
    case G_TYPE_BOOLEAN:
        return "a boolean";
    default:
        return "a number";
    }
}

void qft_qmp_message_free(QftQmpMessage *message)
{
    if (message == NULL) {
        return;
    }
    g_clear_pointer(&message->root, json_node_unref);
    g_free(message->id);
    g_free(message);
}

static char *reply_id(JsonObject *object)
{
    JsonNode *id = json_object_get_member(object, "id");

    if (id == NULL) {
        return NULL;
    }
    if (JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_STRING) {
        return g_strdup(json_node_get_string(id));
    }
    return json_to_string(id, FALSE);
}

/* Fills in the kind-specific fields; FALSE if the object is no QMP message. */
static gboolean classify(QftQmpMessage *message, JsonObject *object,
                         const char *text, gsize length, GError **error)
{
    g_autofree char *quoted = NULL;
    JsonNode *greeting = json_object_get_member(object, "QMP");
    JsonNode *event = json_object_get_member(object, "event");
    JsonNode *ret = json_object_get_member(object, "return");
    JsonNode *err = json_object_get_member(object, "error");
    const char *problem = NULL;

    if (greeting != NULL) {
        message->kind = QFT_QMP_MESSAGE_GREETING;
        message->value = greeting;
        if (!JSON_NODE_HOLDS_OBJECT(greeting)) {
            problem = "a greeting whose \"QMP\" member is not an object";
        }
    } else if (event != NULL) {
        message->kind = QFT_QMP_MESSAGE_EVENT;
        message->value = message->root;
        message->event = json_object_get_string_member_with_default(object, "event", NULL);
        if (!JSON_NODE_HOLDS_VALUE(event) || json_node_get_value_type(event) != G_TYPE_STRING) {
            problem = "an event whose \"event\" member is not a string";
        }
    } else if (ret != NULL && err != NULL) {
        problem = "a reply with both \"return\" and \"error\"";
    } else if (ret != NULL) {
        message->kind = QFT_QMP_MESSAGE_RETURN;
        message->value = ret;
        message->id = reply_id(object);
    } else if (err != NULL) {
        JsonObject *details = JSON_NODE_HOLDS_OBJECT(err) ? json_node_get_object(err) : NULL;
        JsonNode *error_class = details ? json_object_get_member(details, "class") : NULL;
        JsonNode *desc = details ? json_object_get_member(details, "desc") : NULL;

        message->kind = QFT_QMP_MESSAGE_ERROR;
        message->id = reply_id(object);
        if (details == NULL) {
            problem = "an error reply whose \"error\" member is not an object";
        } else if (error_class == NULL || !JSON_NODE_HOLDS_VALUE(error_class) ||
                   json_node_get_value_type(error_class) != G_TYPE_STRING ||
                   desc == NULL || !JSON_NODE_HOLDS_VALUE(desc) ||
                   json_node_get_value_type(desc) != G_TYPE_STRING) {
            problem = "an error reply without string \"class\" and \"desc\"";
        } else {
            message->error_class = json_node_get_string(error_class);
            message->error_desc = json_node_get_string(desc);
        }
    } else {
        problem = "an object with neither \"return\", \"error\", \"event\" nor \"QMP\"";
    }

    if (problem != NULL) {
        quoted = excerpt(text, length);
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_MALFORMED,
                    "malformed QMP message: %s: %s", problem, quoted);
        return FALSE;
    }
    return TRUE;
}

QftQmpMessage *qft_qmp_message_parse(const char *text, gsize length, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(QftQmpMessage) message = g_new0(QftQmpMessage, 1);
    g_autoptr(GError) json_error = NULL;
    g_autofree char *quoted = NULL;
    JsonNode *root;

    if (length > G_MAXSSIZE) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TOO_LARGE,
                    "QMP message of %" G_GSIZE_FORMAT " bytes is too large", length);
        return NULL;
    }
    if (!json_parser_load_from_data(parser, text, (gssize) length, &json_error)) {
        quoted = excerpt(text, length);
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_JSON,
                    "QMP message is not JSON (%s): %s", json_error->message, quoted);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (root == NULL) {
        g_set_error_literal(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_JSON,
                            "QMP message is not JSON: it is empty");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        quoted = excerpt(text, length);
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_OBJECT,
                    "QMP message is JSON but %s, not an object: %s",
                    json_kind_name(root), quoted);
        return NULL;
    }
    message->root = json_node_ref(root);
    if (!classify(message, json_node_get_object(root), text, length, error)) {
        return NULL;
    }
    return g_steal_pointer(&message);
}

QftQmpParser *qft_qmp_parser_new(gsize max_message_size)
{
    QftQmpParser *parser = g_new0(QftQmpParser, 1);

    parser->buffer = g_byte_array_new();
    parser->max_message_size = max_message_size ? max_message_size : QFT_QMP_MAX_MESSAGE_SIZE;
    return parser;
}

void qft_qmp_parser_free(QftQmpParser *parser)
{
    if (parser == NULL) {
        return;
    }
    g_byte_array_unref(parser->buffer);
    g_free(parser);
}

static void set_too_large(const QftQmpParser *parser, GError **error)
{
    g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TOO_LARGE,
                "QMP message exceeds the limit of %" G_GSIZE_FORMAT " bytes",
                parser->max_message_size);
}

/* Drops the lines already taken, so the buffer holds only what is pending. */
static void drop_consumed(QftQmpParser *parser)
{
    if (parser->consumed == 0) {
        return;
    }
    g_byte_array_remove_range(parser->buffer, 0, (guint) parser->consumed);
    parser->scanned -= parser->consumed;
    parser->tail_start -= parser->consumed;
    parser->consumed = 0;
}

gboolean qft_qmp_parser_feed(QftQmpParser *parser, const void *data, gsize size,
                             GError **error)
{
    const guint8 *last_newline;

    if (parser->overflowed) {
        set_too_large(parser, error);
        return FALSE;
    }
    drop_consumed(parser);
    if (size > G_MAXUINT - parser->buffer->len) {
        parser->overflowed = TRUE;
        set_too_large(parser, error);
        return FALSE;
    }
    last_newline = size ? memrchr(data, '\n', size) : NULL;
    if (last_newline != NULL) {
        parser->tail_start = parser->buffer->len + (gsize) (last_newline - (const guint8 *) data) + 1;
    }
    g_byte_array_append(parser->buffer, data, (guint) size);
    if (parser->buffer->len - parser->tail_start > parser->max_message_size) {
        parser->overflowed = TRUE;
        set_too_large(parser, error);
        return FALSE;
    }
    return TRUE;
}

static gboolean is_blank(const char *text, gsize length)
{
    for (gsize i = 0; i < length; i++) {
        if (!g_ascii_isspace(text[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

QftQmpMessage *qft_qmp_parser_next(QftQmpParser *parser, GError **error)
{
    for (;;) {
        const char *base = (const char *) parser->buffer->data;
        const char *line = base + parser->consumed;
        const char *newline = NULL;
        gsize length;

        if (parser->scanned < parser->buffer->len) {
            newline = memchr(base + parser->scanned, '\n', parser->buffer->len - parser->scanned);
        }
        if (newline == NULL) {
            parser->scanned = parser->buffer->len;
            return NULL;
        }
        length = (gsize) (newline - line);
        parser->consumed = parser->scanned = (gsize) (newline - base) + 1;
        if (length > 0 && line[length - 1] == '\r') {
            length--;
        }
        if (length > parser->max_message_size) {
            set_too_large(parser, error);
            return NULL;
        }
        if (!is_blank(line, length)) {
            return qft_qmp_message_parse(line, length, error);
        }
    }
}

gsize qft_qmp_parser_get_pending_size(const QftQmpParser *parser)
{
    return parser->buffer->len - parser->consumed;
}

gboolean qft_qmp_parser_finish(QftQmpParser *parser, GError **error)
{
    const char *base = (const char *) parser->buffer->data;
    gsize start = MAX(parser->consumed, parser->tail_start);
    gsize partial = parser->buffer->len - start;

    if (parser->overflowed) {
        set_too_large(parser, error);
        return FALSE;
    }
    if (partial > 0 && !is_blank(base + start, partial)) {
        g_autofree char *quoted = excerpt(base + start, partial);

        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TRUNCATED,
                    "QMP connection closed in the middle of a message "
                    "(%" G_GSIZE_FORMAT " bytes without a line end): %s",
                    partial, quoted);
        return FALSE;
    }
    return TRUE;
}
