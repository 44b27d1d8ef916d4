/*
 * libftagent-proto: round trips, the wire layout byte by byte, every check a
 * receiver makes (before and after authentication), encode refusals, replay
 * rules and key files.
 *
 * Datagrams with a wrong type, sender or payload but a valid HMAC are built
 * here by hand, from docs/protocol.md's offsets, and signed here with GHmac:
 * the library's encoder refuses to make them.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ftagent-msg.h"

#define SENDER          "host-a.example_1"
#define INCARNATION     G_GUINT64_CONSTANT(1770000000123456789)
#define SEQ             G_GUINT64_CONSTANT(0x0102030405060708)
#define SENT_NS         G_GINT64_CONSTANT(1770000001987654321)

#define OFF_MAGIC       0
#define OFF_VERSION     4
#define OFF_TYPE        6
#define OFF_INCARNATION 8
#define OFF_SEQ         16
#define OFF_SENT_NS     24
#define OFF_SENDER      32
#define OFF_PAYLOAD_LEN 64
#define OFF_RESERVED    68
#define OFF_PAYLOAD     72

static FtAgentKey key;
static char *dir;

static void setup(void)
{
    memset(&key, 0, sizeof(key));
    key.len = 32;
    for (gsize i = 0; i < key.len; i++) {
        key.bytes[i] = i * 7 + 1;
    }
    dir = g_dir_make_tmp("test-ftagent-msg-XXXXXX", NULL);
    ck_assert(dir);
}

static void teardown(void)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        g_unlink(path);
    }
    g_rmdir(dir);
    g_clear_pointer(&dir, g_free);
}

/* ---- helpers ----------------------------------------------------------- */

static void put_le16(guint8 *p, guint16 v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static void put_le32(guint8 *p, guint32 v)
{
    put_le16(p, v);
    put_le16(p + 2, v >> 16);
}

static void put_le64(guint8 *p, guint64 v)
{
    put_le32(p, v);
    put_le32(p + 4, v >> 32);
}

static guint64 get_le(const guint8 *p, int bytes)
{
    guint64 v = 0;

    for (int i = bytes - 1; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* HMAC-SHA256 with @k over all of @d but its last 32 bytes, into them. */
static void sign(const FtAgentKey *k, guint8 *d, gsize len)
{
    g_autoptr(GHmac) h = g_hmac_new(G_CHECKSUM_SHA256, k->bytes, k->len);
    gsize out = FTAGENT_HMAC_LEN;

    g_hmac_update(h, d, len - FTAGENT_HMAC_LEN);
    g_hmac_get_digest(h, d + len - FTAGENT_HMAC_LEN, &out);
    ck_assert_uint_eq(out, FTAGENT_HMAC_LEN);
}

/* A signed datagram laid out by hand; exactly *len bytes are allocated. */
static guint8 *hand_datagram_n(guint type, const char *sender, gsize sender_len,
                               const char *payload, gsize payload_len,
                               gsize *len)
{
    gsize n = OFF_PAYLOAD + payload_len + FTAGENT_HMAC_LEN;
    guint8 *d = g_malloc0(n);

    memcpy(d + OFF_MAGIC, "FTAG", 4);
    put_le16(d + OFF_VERSION, 1);
    put_le16(d + OFF_TYPE, type);
    put_le64(d + OFF_INCARNATION, INCARNATION);
    put_le64(d + OFF_SEQ, SEQ);
    put_le64(d + OFF_SENT_NS, SENT_NS);
    memcpy(d + OFF_SENDER, sender, sender_len);
    put_le32(d + OFF_PAYLOAD_LEN, payload_len);
    put_le32(d + OFF_RESERVED, 0);
    memcpy(d + OFF_PAYLOAD, payload, payload_len);
    sign(&key, d, n);
    *len = n;
    return d;
}

static guint8 *hand_datagram(guint type, const char *sender,
                             const char *payload, gsize *len)
{
    return hand_datagram_n(type, sender, strlen(sender), payload,
                           strlen(payload), len);
}

static JsonObject *sample_payload(void)
{
    JsonObject *p = json_object_new();
    JsonArray *vms = json_array_new();
    JsonObject *vm = json_object_new();

    json_object_set_string_member(vm, "name", "vm1");
    json_object_set_string_member(vm, "role", "primary");
    json_object_set_int_member(vm, "epoch", G_GINT64_CONSTANT(1) << 40);
    json_array_add_object_element(vms, vm);
    json_object_set_string_member(p, "host", "host-a");
    json_object_set_array_member(p, "vms", vms);
    json_object_set_boolean_member(p, "flag", TRUE);
    return p;
}

static GBytes *encode_ok(const FtAgentKey *k, FtAgentMsgType type,
                         JsonObject *payload)
{
    g_autoptr(GError) err = NULL;
    GBytes *b = ftagent_msg_encode(k, type, SENDER, INCARNATION, SEQ, SENT_NS,
                                   payload, &err);

    ck_assert_msg(b, "%s", err ? err->message : "");
    return b;
}

/* An encoded sample message, copied to exactly *len bytes. */
static guint8 *sample_datagram(gsize *len)
{
    g_autoptr(JsonObject) p = sample_payload();
    g_autoptr(GBytes) b = encode_ok(&key, FTAGENT_MSG_HEARTBEAT, p);
    const void *data = g_bytes_get_data(b, len);

    return g_memdup2(data, *len);
}

static void assert_error(const GError *err, FtAgentError code,
                         const char *words)
{
    ck_assert_msg(err, "no error");
    ck_assert_msg(g_error_matches(err, FTAGENT_ERROR, code),
                  "code %d, not %d: %s", err->code, code, err->message);
    ck_assert_msg(strstr(err->message, words), "'%s' not in: %s", words,
                  err->message);
}

static void expect_refused(const guint8 *d, gsize len, FtAgentError code,
                           const char *words)
{
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;

    ck_assert(!ftagent_msg_decode(&key, d, len, &msg, &err));
    assert_error(err, code, words);
    ck_assert_ptr_null(msg.payload);
}

static void expect_encode_refused(const char *sender, JsonObject *payload,
                                  const char *words)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = ftagent_msg_encode(&key, FTAGENT_MSG_HEARTBEAT,
                                             sender, 1, 1, 0, payload, &err);

    ck_assert_ptr_null(b);
    assert_error(err, FTAGENT_ERROR_MALFORMED, words);
}

/* ---- round trip and layout -------------------------------------------- */

START_TEST(test_round_trip)
{
    FtAgentMsgType type = _i;
    g_autoptr(JsonObject) p = sample_payload();
    g_autoptr(GBytes) b = encode_ok(&key, type, p);
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    JsonObject *vm;
    gsize len;
    const guint8 *d = g_bytes_get_data(b, &len);

    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert_int_eq(msg.type, type);
    ck_assert_str_eq(msg.sender, SENDER);
    ck_assert_uint_eq(msg.incarnation, INCARNATION);
    ck_assert_uint_eq(msg.seq, SEQ);
    ck_assert_int_eq(msg.sent_ns, SENT_NS);
    ck_assert_str_eq(json_object_get_string_member(msg.payload, "host"),
                     "host-a");
    ck_assert(json_object_get_boolean_member(msg.payload, "flag"));
    vm = json_array_get_object_element(
        json_object_get_array_member(msg.payload, "vms"), 0);
    ck_assert_str_eq(json_object_get_string_member(vm, "name"), "vm1");
    ck_assert_str_eq(json_object_get_string_member(vm, "role"), "primary");
    ck_assert_int_eq(json_object_get_int_member(vm, "epoch"),
                     G_GINT64_CONSTANT(1) << 40);
}
END_TEST

START_TEST(test_null_payload_is_empty_object)
{
    g_autoptr(GBytes) b = encode_ok(&key, FTAGENT_MSG_LAST_GASP, NULL);
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    gsize len;
    const guint8 *d = g_bytes_get_data(b, &len);

    ck_assert_uint_eq(len, OFF_PAYLOAD + 2 + FTAGENT_HMAC_LEN);
    ck_assert(memcmp(d + OFF_PAYLOAD, "{}", 2) == 0);
    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(json_object_get_size(msg.payload), 0);
}
END_TEST

START_TEST(test_wire_layout)
{
    g_autoptr(JsonObject) p = json_object_new();
    g_autoptr(GBytes) b = NULL;
    g_autofree guint8 *hand = NULL;
    gsize len, hand_len;
    const guint8 *d;

    json_object_set_int_member(p, "a", 1);
    b = encode_ok(&key, FTAGENT_MSG_PROMOTED, p);
    d = g_bytes_get_data(b, &len);
    ck_assert_int_eq(FTAGENT_HEADER_LEN, OFF_PAYLOAD);
    ck_assert(memcmp(d + OFF_MAGIC, "FTAG", 4) == 0);
    ck_assert_uint_eq(get_le(d + OFF_VERSION, 2), 1);
    ck_assert_uint_eq(get_le(d + OFF_TYPE, 2), FTAGENT_MSG_PROMOTED);
    ck_assert_uint_eq(get_le(d + OFF_INCARNATION, 8), INCARNATION);
    ck_assert_uint_eq(get_le(d + OFF_SEQ, 8), SEQ);
    ck_assert_uint_eq(get_le(d + OFF_SENT_NS, 8), (guint64)SENT_NS);
    ck_assert_str_eq((const char *)d + OFF_SENDER, SENDER);
    for (gsize i = strlen(SENDER); i < FTAGENT_SENDER_LEN; i++) {
        ck_assert_uint_eq(d[OFF_SENDER + i], 0);
    }
    ck_assert_uint_eq(get_le(d + OFF_PAYLOAD_LEN, 4), 7);
    ck_assert_uint_eq(get_le(d + OFF_RESERVED, 4), 0);
    ck_assert(memcmp(d + OFF_PAYLOAD, "{\"a\":1}", 7) == 0);
    /* the same message built from the document, signed here: byte-equal */
    hand = hand_datagram(FTAGENT_MSG_PROMOTED, SENDER, "{\"a\":1}", &hand_len);
    ck_assert_uint_eq(len, hand_len);
    ck_assert(memcmp(d, hand, len) == 0);
}
END_TEST

START_TEST(test_type_names)
{
    ck_assert_str_eq(ftagent_msg_type_name(FTAGENT_MSG_HEARTBEAT), "heartbeat");
    ck_assert_str_eq(ftagent_msg_type_name(FTAGENT_MSG_QEMU_DIED), "qemu-died");
    ck_assert_str_eq(ftagent_msg_type_name(FTAGENT_MSG_LAST_GASP), "last-gasp");
    ck_assert_str_eq(ftagent_msg_type_name(FTAGENT_MSG_FAILOVER_REQUEST),
                     "failover-request");
    ck_assert_str_eq(ftagent_msg_type_name(FTAGENT_MSG_PROMOTED), "promoted");
    ck_assert_str_eq(ftagent_msg_type_name(0), "unknown");
    ck_assert_str_eq(ftagent_msg_type_name(99), "unknown");
}
END_TEST

START_TEST(test_sender_of_32_bytes)
{
    const char *name = "abcdefghijklmnopqrstuvwxyz012345";
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = ftagent_msg_encode(&key, FTAGENT_MSG_HEARTBEAT, name,
                                             1, 1, 0, NULL, &err);
    g_auto(FtAgentMsg) msg = { 0 };
    gsize len;
    const guint8 *d;

    ck_assert_uint_eq(strlen(name), FTAGENT_SENDER_LEN);
    ck_assert_msg(b, "%s", err ? err->message : "");
    d = g_bytes_get_data(b, &len);
    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert_str_eq(msg.sender, name);
}
END_TEST

START_TEST(test_largest_payload)
{
    /* {"x":"..."}: 8 bytes around the string */
    gsize n = FTAGENT_MAX_PAYLOAD - 8;
    g_autofree char *s = g_strnfill(n, 'a');
    g_autoptr(JsonObject) p = json_object_new();
    g_autoptr(GBytes) b = NULL;
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    gsize len;
    const guint8 *d;

    json_object_set_string_member(p, "x", s);
    b = encode_ok(&key, FTAGENT_MSG_HEARTBEAT, p);
    d = g_bytes_get_data(b, &len);
    ck_assert_uint_eq(len, FTAGENT_MAX_DATAGRAM);
    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(strlen(json_object_get_string_member(msg.payload, "x")),
                      n);
}
END_TEST

/* ---- encode refusals --------------------------------------------------- */

START_TEST(test_encode_oversize_payload)
{
    g_autofree char *s = g_strnfill(FTAGENT_MAX_PAYLOAD - 7, 'a');
    g_autoptr(JsonObject) p = json_object_new();

    json_object_set_string_member(p, "x", s);
    expect_encode_refused(SENDER, p, "more than the 8088");
}
END_TEST

START_TEST(test_encode_sender_with_slash)
{
    expect_encode_refused("host/a", NULL, "byte 0x2f at offset 4");
}
END_TEST

START_TEST(test_encode_sender_empty)
{
    expect_encode_refused("", NULL, "empty");
}
END_TEST

START_TEST(test_encode_sender_too_long)
{
    expect_encode_refused("abcdefghijklmnopqrstuvwxyz0123456", NULL,
                          "33 bytes, longer than 32");
}
END_TEST

START_TEST(test_encode_unknown_type)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) b = ftagent_msg_encode(&key, 0, SENDER, 1, 1, 0, NULL,
                                             &err);

    ck_assert_ptr_null(b);
    assert_error(err, FTAGENT_ERROR_MALFORMED, "unknown message type 0");
}
END_TEST

/* ---- framing, checked before authentication --------------------------- */

START_TEST(test_shorter_than_header_and_hmac)
{
    g_autofree guint8 *d = g_malloc0(FTAGENT_HEADER_LEN + FTAGENT_HMAC_LEN - 1);

    expect_refused(d, FTAGENT_HEADER_LEN + FTAGENT_HMAC_LEN - 1,
                   FTAGENT_ERROR_MALFORMED,
                   "datagram of 103 bytes, shorter than");
    expect_refused(d, 0, FTAGENT_ERROR_MALFORMED,
                   "datagram of 0 bytes, shorter than");
}
END_TEST

START_TEST(test_longer_than_max)
{
    g_autofree guint8 *d = g_malloc0(FTAGENT_MAX_DATAGRAM + 1);

    expect_refused(d, FTAGENT_MAX_DATAGRAM + 1, FTAGENT_ERROR_MALFORMED,
                   "datagram of 8193 bytes, longer than");
}
END_TEST

START_TEST(test_truncated_by_one)
{
    gsize len;
    g_autofree guint8 *full = sample_datagram(&len);
    /* an exact-size copy, so that ASan sees any read past the end */
    g_autofree guint8 *d = g_memdup2(full, len - 1);

    expect_refused(d, len - 1, FTAGENT_ERROR_MALFORMED, "payload bytes");
}
END_TEST

START_TEST(test_bad_magic)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    d[OFF_MAGIC] ^= 0x01;
    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, "bad magic 0x47415447");
}
END_TEST

START_TEST(test_version_2)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    put_le16(d + OFF_VERSION, 2);
    expect_refused(d, len, FTAGENT_ERROR_VERSION,
                   "version 2, this agent speaks 1");
}
END_TEST

START_TEST(test_payload_len_off_by_one)
{
    int delta = _i ? 1 : -1;
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);
    guint32 payload_len = get_le(d + OFF_PAYLOAD_LEN, 4);

    put_le32(d + OFF_PAYLOAD_LEN, payload_len + delta);
    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, "payload bytes");
}
END_TEST

START_TEST(test_reserved_nonzero)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    put_le32(d + OFF_RESERVED, 1);
    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, "reserved");
}
END_TEST

/* ---- authentication ---------------------------------------------------- */

START_TEST(test_flipped_payload_byte)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    d[OFF_PAYLOAD + 3] ^= 0x20;
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "HMAC mismatch");
}
END_TEST

START_TEST(test_flipped_header_byte)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    d[OFF_SEQ] ^= 0x01;
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "HMAC mismatch");
}
END_TEST

/* every byte of the HMAC counts, the last as much as the first */
START_TEST(test_flipped_hmac_byte)
{
    gsize len;
    g_autofree guint8 *d = sample_datagram(&len);

    d[len - FTAGENT_HMAC_LEN + _i] ^= 0x80;
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "HMAC mismatch");
}
END_TEST

START_TEST(test_wrong_key)
{
    FtAgentKey other = key;
    g_autoptr(GBytes) b = NULL;
    gsize len;
    const guint8 *d;

    other.bytes[0] ^= 1;
    b = encode_ok(&other, FTAGENT_MSG_QEMU_DIED, NULL);
    d = g_bytes_get_data(b, &len);
    expect_refused(d, len, FTAGENT_ERROR_AUTH,
                   "HMAC mismatch (sender '" SENDER "' claims type 2");
}
END_TEST

START_TEST(test_auth_message_sanitises_sender)
{
    gsize len;
    g_autofree guint8 *d = hand_datagram(FTAGENT_MSG_HEARTBEAT, "ev\nil",
                                         "{}", &len);

    d[len - 1] ^= 1;
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "sender 'ev?il'");
}
END_TEST

/* ---- content, checked after authentication ---------------------------- */

/* Unsigned garbage in the type, sender or payload is an AUTH failure: none
 * of them is looked at before the HMAC matches. */
START_TEST(test_content_checked_only_after_auth)
{
    static const struct {
        guint type;
        const char *sender, *payload;
    } forged[] = {
        { 99, SENDER, "{}" },
        { FTAGENT_MSG_HEARTBEAT, "bad/name", "{}" },
        { FTAGENT_MSG_HEARTBEAT, SENDER, "not json" },
    };
    gsize len;
    g_autofree guint8 *d = hand_datagram(forged[_i].type, forged[_i].sender,
                                         forged[_i].payload, &len);

    d[len - FTAGENT_HMAC_LEN] ^= 1;
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "HMAC mismatch");
}
END_TEST

static const guint bad_types[] = { 0, FTAGENT_MSG_TYPE_MAX + 1, 99, 0xffff };

START_TEST(test_unknown_type)
{
    g_autofree char *words = g_strdup_printf("unknown message type %u",
                                             bad_types[_i]);
    gsize len;
    g_autofree guint8 *d = hand_datagram(bad_types[_i], SENDER, "{}", &len);

    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, words);
}
END_TEST

START_TEST(test_hand_datagram_accepted)
{
    /* the control for the hand-built cases: right fields, it decodes */
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    gsize len;
    g_autofree guint8 *d = hand_datagram(FTAGENT_MSG_FAILOVER_REQUEST, SENDER,
                                         "{\"vm\":\"vm1\"}", &len);

    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert_int_eq(msg.type, FTAGENT_MSG_FAILOVER_REQUEST);
    ck_assert_str_eq(json_object_get_string_member(msg.payload, "vm"), "vm1");
}
END_TEST

static const struct {
    const char *sender;
    gsize len;
    const char *words;
} bad_senders[] = {
    { "host/a", 6, "byte 0x2f at offset 4" },
    { "", 0, "empty" },
    { "\0host-a", 7, "empty" },
    { "host a", 6, "byte 0x20" },
    { "h\xc3\xa9te", 5, "byte 0xc3" },
};

START_TEST(test_wire_sender_refused)
{
    gsize len;
    g_autofree guint8 *d = hand_datagram_n(FTAGENT_MSG_HEARTBEAT,
                                           bad_senders[_i].sender,
                                           bad_senders[_i].len, "{}", 2, &len);

    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, bad_senders[_i].words);
}
END_TEST

static const struct {
    const char *payload;
    gsize len;
    const char *words;
} bad_payloads[] = {
    { "[1]", 3, "payload is not a JSON object: it is an array" },
    { "not json", 8, "payload is not a JSON object" },
    { "", 0, "payload is not a JSON object" },
    { "{\"a\":", 5, "payload is not a JSON object" },
    { "42", 2, "payload is not a JSON object" },
    { "null", 4, "payload is not a JSON object" },
    { "{\"a\":\"x\0\"}", 10, "NUL byte at offset 7" },
    { "{\"a\":\"\xff\"}", 9, "not valid UTF-8 (offset 6)" },
};

START_TEST(test_payload_refused)
{
    gsize len;
    g_autofree guint8 *d = hand_datagram_n(FTAGENT_MSG_HEARTBEAT, SENDER,
                                           strlen(SENDER),
                                           bad_payloads[_i].payload,
                                           bad_payloads[_i].len, &len);

    expect_refused(d, len, FTAGENT_ERROR_MALFORMED, bad_payloads[_i].words);
}
END_TEST

START_TEST(test_unknown_members_kept)
{
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    gsize len;
    g_autofree guint8 *d = hand_datagram(FTAGENT_MSG_HEARTBEAT, SENDER,
                                         "{\"host\":\"b\",\"future\":[1,2]}",
                                         &len);

    ck_assert_msg(ftagent_msg_decode(&key, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    ck_assert(json_object_has_member(msg.payload, "future"));
}
END_TEST

/* ---- replay ------------------------------------------------------------ */

static FtAgentMsg msg_from(const char *sender, guint64 incarnation,
                           guint64 seq)
{
    FtAgentMsg m = { .type = FTAGENT_MSG_HEARTBEAT,
                     .incarnation = incarnation, .seq = seq };

    g_strlcpy(m.sender, sender, sizeof(m.sender));
    return m;
}

static void accept_ok(FtAgentReplay *r, const char *sender,
                      guint64 incarnation, guint64 seq)
{
    FtAgentMsg m = msg_from(sender, incarnation, seq);
    g_autoptr(GError) err = NULL;

    ck_assert_msg(ftagent_replay_accept(r, &m, &err), "%s",
                  err ? err->message : "");
}

static void accept_refused(FtAgentReplay *r, const char *sender,
                           guint64 incarnation, guint64 seq, const char *words)
{
    FtAgentMsg m = msg_from(sender, incarnation, seq);
    g_autoptr(GError) err = NULL;

    ck_assert(!ftagent_replay_accept(r, &m, &err));
    assert_error(err, FTAGENT_ERROR_REPLAYED, words);
}

START_TEST(test_replay_same_seq)
{
    g_autoptr(FtAgentReplay) r = ftagent_replay_new();

    accept_ok(r, "a", 100, 1);
    accept_ok(r, "a", 100, 2);
    accept_refused(r, "a", 100, 2,
                   "message from 'a' (incarnation 100, seq 2) is not above "
                   "the last accepted (100, 2): replayed or reordered");
}
END_TEST

START_TEST(test_replay_lower_seq)
{
    g_autoptr(FtAgentReplay) r = ftagent_replay_new();

    accept_ok(r, "a", 100, 5);
    accept_refused(r, "a", 100, 4, "(100, 5)");
    /* a refusal does not move the mark */
    accept_ok(r, "a", 100, 6);
}
END_TEST

START_TEST(test_replay_new_incarnation)
{
    g_autoptr(FtAgentReplay) r = ftagent_replay_new();

    accept_ok(r, "a", 100, 50);
    accept_ok(r, "a", 200, 1);
    accept_refused(r, "a", 100, 51, "(incarnation 100, seq 51)");
    accept_ok(r, "a", 200, 2);
}
END_TEST

START_TEST(test_replay_first_message_accepted)
{
    g_autoptr(FtAgentReplay) r = ftagent_replay_new();

    /* a receiver that (re)starts has no mark: anything goes first */
    accept_ok(r, "a", 0, 0);
    accept_refused(r, "a", 0, 0, "replayed");
}
END_TEST

START_TEST(test_replay_senders_independent)
{
    g_autoptr(FtAgentReplay) r = ftagent_replay_new();

    accept_ok(r, "a", 100, 10);
    /* below a's mark, but b has its own */
    accept_ok(r, "b", 50, 1);
    accept_refused(r, "b", 50, 1, "from 'b'");
    accept_ok(r, "a", 100, 11);
    accept_ok(r, "b", 50, 2);
}
END_TEST

/* ---- key file ---------------------------------------------------------- */

static char *write_key(const char *name, gsize len, mode_t mode)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree guint8 *bytes = g_malloc(len + 1);

    for (gsize i = 0; i < len; i++) {
        bytes[i] = i * 13 + 5;
    }
    ck_assert(g_file_set_contents(path, (const char *)bytes, len, NULL));
    ck_assert_int_eq(g_chmod(path, mode), 0);
    return path;
}

static void expect_key_refused(const char *path, const char *words)
{
    FtAgentKey k;
    g_autoptr(GError) err = NULL;

    ck_assert(!ftagent_key_load(path, &k, &err));
    assert_error(err, FTAGENT_ERROR_KEY, words);
    ck_assert_msg(strstr(err->message, path), "path not named: %s",
                  err->message);
    ck_assert_uint_eq(k.len, 0);
}

START_TEST(test_key_loaded)
{
    g_autofree char *path = write_key("key", 32, 0600);
    FtAgentKey k;
    g_autoptr(GError) err = NULL;

    ck_assert_msg(ftagent_key_load(path, &k, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(k.len, 32);
    for (gsize i = 0; i < 32; i++) {
        ck_assert_uint_eq(k.bytes[i], (guint8)(i * 13 + 5));
    }
}
END_TEST

START_TEST(test_key_size_bounds)
{
    g_autofree char *small = write_key("k16", 16, 0400);
    g_autofree char *large = write_key("k1024", 1024, 0600);
    g_autofree char *under = write_key("k15", 15, 0600);
    g_autofree char *over = write_key("k1025", 1025, 0600);
    FtAgentKey k;

    ck_assert(ftagent_key_load(small, &k, NULL));
    ck_assert_uint_eq(k.len, 16);
    ck_assert(ftagent_key_load(large, &k, NULL));
    ck_assert_uint_eq(k.len, 1024);
    expect_key_refused(under, "15 bytes; a key is 16 to 1024 bytes");
    expect_key_refused(over, "1025 bytes; a key is 16 to 1024 bytes");
}
END_TEST

START_TEST(test_key_mode_0644)
{
    g_autofree char *path = write_key("key", 32, 0644);

    expect_key_refused(path, "mode 0644 lets others read it; chmod 600 it");
}
END_TEST

START_TEST(test_key_group_readable)
{
    g_autofree char *path = write_key("key", 32, 0640);

    expect_key_refused(path, "mode 0640 lets others read it");
}
END_TEST

START_TEST(test_key_8_bytes)
{
    g_autofree char *path = write_key("key", 8, 0600);

    expect_key_refused(path, "8 bytes; a key is 16 to 1024 bytes");
}
END_TEST

START_TEST(test_key_missing)
{
    g_autofree char *path = g_build_filename(dir, "absent", NULL);

    expect_key_refused(path, "No such file or directory");
}
END_TEST

START_TEST(test_key_symlink)
{
    g_autofree char *target = write_key("key", 32, 0600);
    g_autofree char *link = g_build_filename(dir, "link", NULL);

    ck_assert_int_eq(symlink(target, link), 0);
    expect_key_refused(link, "symbolic link");
}
END_TEST

START_TEST(test_key_directory)
{
    g_autofree char *path = g_build_filename(dir, "sub", NULL);

    ck_assert_int_eq(g_mkdir(path, 0700), 0);
    expect_key_refused(path, "not a regular file");
}
END_TEST

/* A loaded key signs and verifies; the fixture's other key does not. */
START_TEST(test_key_interoperates)
{
    g_autofree char *path = write_key("key", 64, 0600);
    g_autoptr(GBytes) b = NULL;
    g_auto(FtAgentMsg) msg = { 0 };
    g_autoptr(GError) err = NULL;
    FtAgentKey k;
    gsize len;
    const guint8 *d;

    ck_assert(ftagent_key_load(path, &k, NULL));
    b = encode_ok(&k, FTAGENT_MSG_HEARTBEAT, NULL);
    d = g_bytes_get_data(b, &len);
    ck_assert_msg(ftagent_msg_decode(&k, d, len, &msg, &err), "%s",
                  err ? err->message : "");
    expect_refused(d, len, FTAGENT_ERROR_AUTH, "HMAC mismatch");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ftagent-msg");
    TCase *tc = tcase_create("msg");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_round_trip, FTAGENT_MSG_HEARTBEAT,
                        FTAGENT_MSG_TYPE_MAX + 1);
    tcase_add_test(tc, test_null_payload_is_empty_object);
    tcase_add_test(tc, test_wire_layout);
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_sender_of_32_bytes);
    tcase_add_test(tc, test_largest_payload);
    tcase_add_test(tc, test_encode_oversize_payload);
    tcase_add_test(tc, test_encode_sender_with_slash);
    tcase_add_test(tc, test_encode_sender_empty);
    tcase_add_test(tc, test_encode_sender_too_long);
    tcase_add_test(tc, test_encode_unknown_type);
    tcase_add_test(tc, test_shorter_than_header_and_hmac);
    tcase_add_test(tc, test_longer_than_max);
    tcase_add_test(tc, test_truncated_by_one);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_version_2);
    tcase_add_loop_test(tc, test_payload_len_off_by_one, 0, 2);
    tcase_add_test(tc, test_reserved_nonzero);
    tcase_add_test(tc, test_flipped_payload_byte);
    tcase_add_test(tc, test_flipped_header_byte);
    tcase_add_loop_test(tc, test_flipped_hmac_byte, 0, FTAGENT_HMAC_LEN);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_auth_message_sanitises_sender);
    tcase_add_loop_test(tc, test_content_checked_only_after_auth, 0, 3);
    tcase_add_loop_test(tc, test_unknown_type, 0, G_N_ELEMENTS(bad_types));
    tcase_add_test(tc, test_hand_datagram_accepted);
    tcase_add_loop_test(tc, test_wire_sender_refused, 0,
                        G_N_ELEMENTS(bad_senders));
    tcase_add_loop_test(tc, test_payload_refused, 0,
                        G_N_ELEMENTS(bad_payloads));
    tcase_add_test(tc, test_unknown_members_kept);
    tcase_add_test(tc, test_replay_same_seq);
    tcase_add_test(tc, test_replay_lower_seq);
    tcase_add_test(tc, test_replay_new_incarnation);
    tcase_add_test(tc, test_replay_first_message_accepted);
    tcase_add_test(tc, test_replay_senders_independent);
    tcase_add_test(tc, test_key_loaded);
    tcase_add_test(tc, test_key_size_bounds);
    tcase_add_test(tc, test_key_mode_0644);
    tcase_add_test(tc, test_key_group_readable);
    tcase_add_test(tc, test_key_8_bytes);
    tcase_add_test(tc, test_key_missing);
    tcase_add_test(tc, test_key_symlink);
    tcase_add_test(tc, test_key_directory);
    tcase_add_test(tc, test_key_interoperates);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
