/*
 * libftagent-proto: the peer messages of ftagent.h. Encoding, the checks a
 * receiver makes before and after authentication, and replay protection.
 *
 * A datagram is untrusted until its HMAC matches: before that only its
 * fixed-size framing (size, magic, version, lengths, reserved) is looked at,
 * from a copy of the header; the sender name, the type and the JSON payload
 * are interpreted only once the datagram is known to come from a key holder.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftagent-msg.h"

#define KEY_MIN_LEN     16
#define KEY_MAX_LEN     ((gsize)sizeof(((FtAgentKey *)NULL)->bytes))
#define DATAGRAM_MIN    ((gsize)FTAGENT_HEADER_LEN + FTAGENT_HMAC_LEN)
#define PAYLOAD_MAX     ((gsize)FTAGENT_MAX_PAYLOAD)

G_DEFINE_QUARK(ftagent-error-quark, ftagent_error)

/* ---- key file ---------------------------------------------------------- */

static gboolean key_check_stat(const char *path, const struct stat *st,
                               GError **error)
{
    if (!S_ISREG(st->st_mode)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "key file %s: not a regular file", path);
        return FALSE;
    }
    if (st->st_mode & 077) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "key file %s: mode %04o lets others read it; chmod 600 it",
                    path, (unsigned)(st->st_mode & 07777));
        return FALSE;
    }
    if (st->st_size < KEY_MIN_LEN || (guint64)st->st_size > KEY_MAX_LEN) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "key file %s: %jd bytes; a key is %d to %d bytes", path,
                    (intmax_t)st->st_size, KEY_MIN_LEN, (int)KEY_MAX_LEN);
        return FALSE;
    }
    return TRUE;
}

/* Reads exactly @len bytes (the size fstat reported). */
static gboolean key_read(const char *path, int fd, guint8 *buf, gsize len,
                         GError **error)
{
    gsize done = 0;

    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                        "key file %s: %s", path, g_strerror(errno));
            return FALSE;
        }
        if (n == 0) {
            g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                        "key file %s: %zu bytes read, %zu expected; did it "
                        "change while being read?", path, done, len);
            return FALSE;
        }
        done += n;
    }
    return TRUE;
}

static const char *key_open_error(int err)
{
    /* O_NOFOLLOW: a symlink in the last component fails with ELOOP */
    return err == ELOOP ? "is a symbolic link; name the key file itself"
                        : g_strerror(err);
}

gboolean ftagent_key_load(const char *path, FtAgentKey *key, GError **error)
{
    struct stat st;
    gboolean ok;
    int fd;

    g_return_val_if_fail(path && key, FALSE);
    memset(key, 0, sizeof(*key));
    /* O_NONBLOCK: a FIFO planted at @path must not hang the open */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "key file %s: %s", path, key_open_error(errno));
        return FALSE;
    }
    if (fstat(fd, &st) < 0) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "key file %s: %s", path, g_strerror(errno));
        ok = FALSE;
    } else {
        ok = key_check_stat(path, &st, error) &&
             key_read(path, fd, key->bytes, st.st_size, error);
    }
    close(fd);
    if (!ok) {
        memset(key, 0, sizeof(*key));
        return FALSE;
    }
    key->len = st.st_size;
    return TRUE;
}

/* ---- shared pieces ----------------------------------------------------- */

const char *ftagent_msg_type_name(FtAgentMsgType type)
{
    switch (type) {
    case FTAGENT_MSG_HEARTBEAT:
        return "heartbeat";
    case FTAGENT_MSG_QEMU_DIED:
        return "qemu-died";
    case FTAGENT_MSG_LAST_GASP:
        return "last-gasp";
    case FTAGENT_MSG_FAILOVER_REQUEST:
        return "failover-request";
    case FTAGENT_MSG_PROMOTED:
        return "promoted";
    }
    return "unknown";
}

static gboolean type_known(guint type)
{
    return type >= FTAGENT_MSG_HEARTBEAT && type <= FTAGENT_MSG_TYPE_MAX;
}

static gboolean check_type(guint type, GError **error)
{
    if (!type_known(type)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "unknown message type %u (this agent knows %d to %d)",
                    type, FTAGENT_MSG_HEARTBEAT, FTAGENT_MSG_TYPE_MAX);
        return FALSE;
    }
    return TRUE;
}

static gboolean sender_char_ok(guchar c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* @name is @len bytes, no NUL among them. */
static gboolean check_sender(const char *name, gsize len, GError **error)
{
    if (len == 0) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "sender name is empty");
        return FALSE;
    }
    if (len > FTAGENT_SENDER_LEN) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "sender name is %zu bytes, longer than %d", len,
                    FTAGENT_SENDER_LEN);
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if (!sender_char_ok(name[i])) {
            g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                        "sender name has byte 0x%02x at offset %zu, outside "
                        "[A-Za-z0-9_.-]", (guchar)name[i], i);
            return FALSE;
        }
    }
    return TRUE;
}

static void compute_hmac(const FtAgentKey *key, const guint8 *data, gsize len,
                         guint8 out[FTAGENT_HMAC_LEN])
{
    g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, key->bytes,
                                       key->len);
    gsize out_len = FTAGENT_HMAC_LEN;

    g_hmac_update(hmac, data, len);
    g_hmac_get_digest(hmac, out, &out_len);
    g_assert(out_len == FTAGENT_HMAC_LEN);
}

/* Every byte is compared, so the time taken says nothing about where a
 * forged HMAC first differs. */
static gboolean hmac_equal(const guint8 *a, const guint8 *b)
{
    volatile guint8 diff = 0;

    for (gsize i = 0; i < FTAGENT_HMAC_LEN; i++) {
        diff |= a[i] ^ b[i];
    }
    return diff == 0;
}

/* ---- encode ------------------------------------------------------------ */

static char *payload_to_json(JsonObject *payload)
{
    g_autoptr(JsonNode) node = NULL;

    if (!payload) {
        return g_strdup("{}");
    }
    node = json_node_new(JSON_NODE_OBJECT);
    json_node_set_object(node, payload);
    return json_to_string(node, FALSE);
}

static gboolean check_payload_out(const char *json, gsize len, GError **error)
{
    if (len > PAYLOAD_MAX) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload is %zu bytes of JSON, more than the %zu that fit "
                    "a datagram", len, PAYLOAD_MAX);
        return FALSE;
    }
    if (!g_utf8_validate_len(json, len, NULL)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload is not valid UTF-8");
        return FALSE;
    }
    return TRUE;
}

static void header_fill(FtAgentWireHeader *h, FtAgentMsgType type,
                        const char *sender, guint64 incarnation, guint64 seq,
                        gint64 sent_ns, gsize payload_len)
{
    memset(h, 0, sizeof(*h));
    h->magic = GUINT32_TO_LE(FTAGENT_MAGIC);
    h->version = GUINT16_TO_LE(FTAGENT_VERSION);
    h->type = GUINT16_TO_LE(type);
    h->incarnation = GUINT64_TO_LE(incarnation);
    h->seq = GUINT64_TO_LE(seq);
    h->sent_ns = GINT64_TO_LE(sent_ns);
    memcpy(h->sender, sender, strlen(sender));
    h->payload_len = GUINT32_TO_LE(payload_len);
    h->reserved = 0;
}

GBytes *ftagent_msg_encode(const FtAgentKey *key, FtAgentMsgType type,
                           const char *sender, guint64 incarnation, guint64 seq,
                           gint64 sent_ns, JsonObject *payload, GError **error)
{
    g_autofree char *json = NULL;
    guint8 hmac[FTAGENT_HMAC_LEN];
    FtAgentWireHeader h;
    GByteArray *dgram;
    gsize json_len;

    g_return_val_if_fail(key && sender, NULL);
    if (!check_type(type, error) ||
        !check_sender(sender, strlen(sender), error)) {
        return NULL;
    }
    json = payload_to_json(payload);
    json_len = strlen(json);
    if (!check_payload_out(json, json_len, error)) {
        return NULL;
    }
    header_fill(&h, type, sender, incarnation, seq, sent_ns, json_len);
    dgram = g_byte_array_sized_new(DATAGRAM_MIN + json_len);
    g_byte_array_append(dgram, (const guint8 *)&h, sizeof(h));
    g_byte_array_append(dgram, (const guint8 *)json, json_len);
    compute_hmac(key, dgram->data, dgram->len, hmac);
    g_byte_array_append(dgram, hmac, sizeof(hmac));
    return g_byte_array_free_to_bytes(dgram);
}

/* ---- decode: framing, before authentication ---------------------------- */

static gboolean check_size(gsize len, GError **error)
{
    if (len < DATAGRAM_MIN) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "datagram of %zu bytes, shorter than a header and an HMAC "
                    "(%zu)", len, DATAGRAM_MIN);
        return FALSE;
    }
    if (len > FTAGENT_MAX_DATAGRAM) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "datagram of %zu bytes, longer than the maximum %d", len,
                    FTAGENT_MAX_DATAGRAM);
        return FALSE;
    }
    return TRUE;
}

static gboolean check_framing(const FtAgentWireHeader *h, gsize len,
                              GError **error)
{
    guint32 magic = GUINT32_FROM_LE(h->magic);
    guint version = GUINT16_FROM_LE(h->version);
    guint32 payload_len = GUINT32_FROM_LE(h->payload_len);
    gsize expected = len - DATAGRAM_MIN;

    if (magic != FTAGENT_MAGIC) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "bad magic 0x%08" PRIx32 ", expected 0x%08x", magic,
                    FTAGENT_MAGIC);
        return FALSE;
    }
    if (version != FTAGENT_VERSION) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_VERSION,
                    "version %u, this agent speaks %d", version,
                    FTAGENT_VERSION);
        return FALSE;
    }
    if (payload_len != expected) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "header says %" PRIu32 " payload bytes, the datagram of "
                    "%zu bytes has %zu", payload_len, len, expected);
        return FALSE;
    }
    if (h->reserved != 0) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "reserved field is 0x%08" PRIx32 ", not 0",
                    GUINT32_FROM_LE(h->reserved));
        return FALSE;
    }
    return TRUE;
}

/* The unauthenticated sender name, fit for a log line: no more than
 * FTAGENT_SENDER_LEN bytes, anything outside the legal set shown as '?'. */
static char *claimed_sender(const FtAgentWireHeader *h)
{
    char *name = g_strndup(h->sender, FTAGENT_SENDER_LEN);

    for (char *p = name; *p; p++) {
        if (!sender_char_ok(*p)) {
            *p = '?';
        }
    }
    return name;
}

static gboolean authenticate(const FtAgentKey *key, const guint8 *data,
                             gsize len, const FtAgentWireHeader *h,
                             GError **error)
{
    gsize signed_len = len - FTAGENT_HMAC_LEN;
    guint8 want[FTAGENT_HMAC_LEN];
    g_autofree char *sender = NULL;

    compute_hmac(key, data, signed_len, want);
    if (hmac_equal(want, data + signed_len)) {
        return TRUE;
    }
    sender = claimed_sender(h);
    g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_AUTH,
                "HMAC mismatch (sender '%s' claims type %u, incarnation "
                "%" G_GUINT64_FORMAT ", seq %" G_GUINT64_FORMAT "): a "
                "different key, or the datagram was altered", sender,
                GUINT16_FROM_LE(h->type), GUINT64_FROM_LE(h->incarnation),
                GUINT64_FROM_LE(h->seq));
    return FALSE;
}

/* ---- decode: content, after authentication ----------------------------- */

/* The name ends at its first NUL, or fills all FTAGENT_SENDER_LEN bytes. */
static gboolean check_wire_sender(const FtAgentWireHeader *h, GError **error)
{
    return check_sender(h->sender, strnlen(h->sender, FTAGENT_SENDER_LEN),
                        error);
}

static gboolean check_payload_text(const char *text, gsize len, GError **error)
{
    const char *end;

    /* with an explicit length, g_utf8_validate_len also stops at a NUL */
    if (g_utf8_validate_len(text, len, &end)) {
        return TRUE;
    }
    if (*end == '\0') {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload has a NUL byte at offset %td", end - text);
    } else {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload is not valid UTF-8 (offset %td)", end - text);
    }
    return FALSE;
}

static const char *json_kind(JsonNode *node)
{
    if (!node) {
        return "empty";
    }
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_OBJECT:
        return "an object";
    case JSON_NODE_ARRAY:
        return "an array";
    case JSON_NODE_NULL:
        return "null";
    case JSON_NODE_VALUE:
        break;
    }
    return "a scalar";
}

static JsonObject *parse_payload(const char *text, gsize len, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!json_parser_load_from_data(parser, text, len, &local)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload is not a JSON object: %s", local->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "payload is not a JSON object: it is %s",
                    json_kind(root));
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

static void msg_fill(FtAgentMsg *msg, const FtAgentWireHeader *h,
                     JsonObject *payload)
{
    memset(msg, 0, sizeof(*msg));
    msg->type = GUINT16_FROM_LE(h->type);
    msg->incarnation = GUINT64_FROM_LE(h->incarnation);
    msg->seq = GUINT64_FROM_LE(h->seq);
    msg->sent_ns = GINT64_FROM_LE(h->sent_ns);
    memcpy(msg->sender, h->sender, strnlen(h->sender, FTAGENT_SENDER_LEN));
    msg->payload = payload;
}

/* On success *msg is overwritten (whatever it held is not released). */
gboolean ftagent_msg_decode(const FtAgentKey *key, const guint8 *data, gsize len,
                            FtAgentMsg *msg, GError **error)
{
    const char *text = (const char *)data + FTAGENT_HEADER_LEN;
    FtAgentWireHeader h;
    JsonObject *payload;

    g_return_val_if_fail(key && msg && (data || !len), FALSE);
    if (!check_size(len, error)) {
        return FALSE;
    }
    memcpy(&h, data, sizeof(h));
    if (!check_framing(&h, len, error) ||
        !authenticate(key, data, len, &h, error) ||
        !check_type(GUINT16_FROM_LE(h.type), error) ||
        !check_wire_sender(&h, error) ||
        !check_payload_text(text, len - DATAGRAM_MIN, error)) {
        return FALSE;
    }
    payload = parse_payload(text, len - DATAGRAM_MIN, error);
    if (!payload) {
        return FALSE;
    }
    msg_fill(msg, &h, payload);
    return TRUE;
}

void ftagent_msg_clear(FtAgentMsg *msg)
{
    g_clear_pointer(&msg->payload, json_object_unref);
    memset(msg, 0, sizeof(*msg));
}

/* ---- replay ------------------------------------------------------------ */

typedef struct ReplayMark {
    guint64 incarnation;
    guint64 seq;
} ReplayMark;

struct FtAgentReplay {
    GHashTable *last;           /* sender -> ReplayMark of the last accepted */
};

FtAgentReplay *ftagent_replay_new(void)
{
    FtAgentReplay *replay = g_new0(FtAgentReplay, 1);

    replay->last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         g_free);
    return replay;
}

void ftagent_replay_free(FtAgentReplay *replay)
{
    if (replay) {
        g_hash_table_destroy(replay->last);
        g_free(replay);
    }
}

static gboolean mark_above(const FtAgentMsg *msg, const ReplayMark *last)
{
    return msg->incarnation > last->incarnation ||
           (msg->incarnation == last->incarnation && msg->seq > last->seq);
}

gboolean ftagent_replay_accept(FtAgentReplay *replay, const FtAgentMsg *msg,
                               GError **error)
{
    ReplayMark *last = g_hash_table_lookup(replay->last, msg->sender);

    if (last && !mark_above(msg, last)) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_REPLAYED,
                    "message from '%s' (incarnation %" G_GUINT64_FORMAT
                    ", seq %" G_GUINT64_FORMAT ") is not above the last "
                    "accepted (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                    "): replayed or reordered", msg->sender, msg->incarnation,
                    msg->seq, last->incarnation, last->seq);
        return FALSE;
    }
    if (!last) {
        last = g_new(ReplayMark, 1);
        g_hash_table_insert(replay->last, g_strdup(msg->sender), last);
    }
    last->incarnation = msg->incarnation;
    last->seq = msg->seq;
    return TRUE;
}
