/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Masakari notification bodies, their check, the retry schedule and the
 * name-based UUID (agent-notify-body.h). The schema is Masakari's
 * masakari/api/openstack/ha/schemas/notifications.py and payload.py.
 */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <time.h>

#include "agent-notify-body.h"

char *ftagent_notify_time(gint64 realtime_us)
{
    time_t secs = realtime_us / G_USEC_PER_SEC;
    int us = realtime_us % G_USEC_PER_SEC;
    struct tm tm;

    if (us < 0) {
        us += G_USEC_PER_SEC;
        secs--;
    }
    gmtime_r(&secs, &tm);
    return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

char *ftagent_notify_body(const char *event, const char *vir_domain_event,
                          const char *hostname, const char *instance_uuid,
                          gint64 realtime_us)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *when = ftagent_notify_time(realtime_us);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "notification");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, "VM");
    json_builder_set_member_name(b, "hostname");
    json_builder_add_string_value(b, hostname);
    json_builder_set_member_name(b, "generated_time");
    json_builder_add_string_value(b, when);
    json_builder_set_member_name(b, "payload");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "instance_uuid");
    json_builder_add_string_value(b, instance_uuid);
    json_builder_set_member_name(b, "vir_domain_event");
    json_builder_add_string_value(b, vir_domain_event);
    json_builder_end_object(b);
    json_builder_end_object(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

gboolean ftagent_notify_hostname_valid(const char *hostname)
{
    gsize n = strlen(hostname);

    if (n < 1 || n > 255) {
        return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isalnum(hostname[i]) && !strchr("-._", hostname[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean bad(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gboolean bad(GError **error, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "not a Masakari VM notification: %s", what);
    return FALSE;
}

/* Exactly the members @names (and "payload" where @payload), each of
 * @names a string of 1..255 characters. */
static gboolean exact_strings(JsonObject *o, const char *where,
                              const char *const *names, gboolean payload,
                              GError **error)
{
    g_autoptr(GList) members = json_object_get_members(o);

    for (GList *l = members; l; l = l->next) {
        if (!g_strv_contains(names, l->data) &&
            !(payload && g_str_equal(l->data, "payload"))) {
            return bad(error, "%s has the member \"%s\" (not in Masakari's "
                       "schema)", where, (const char *)l->data);
        }
    }
    for (const char *const *n = names; *n; n++) {
        JsonNode *v = json_object_get_member(o, *n);
        const char *s;

        if (!v) {
            return bad(error, "%s lacks \"%s\"", where, *n);
        }
        if (!JSON_NODE_HOLDS_VALUE(v) ||
            json_node_get_value_type(v) != G_TYPE_STRING) {
            return bad(error, "%s.%s is not a string", where, *n);
        }
        s = json_node_get_string(v);
        if (!*s || g_utf8_strlen(s, -1) > 255) {
            return bad(error, "%s.%s is not 1..255 characters", where, *n);
        }
    }
    return TRUE;
}

/* YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM|-HH:MM), which GDateTime parses */
static gboolean iso8601(const char *s)
{
    g_autoptr(GDateTime) dt = NULL;

    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
        s[13] != ':' || s[16] != ':') {
        return FALSE;
    }
    dt = g_date_time_new_from_iso8601(s, NULL);
    return dt != NULL;
}

gboolean ftagent_notify_body_check(const char *body, gsize len,
                                   GError **error)
{
    static const char *const top[] = { "type", "hostname", "generated_time",
                                       NULL };
    static const char *const vm[] = { "event", "instance_uuid",
                                      "vir_domain_event", NULL };
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) local = NULL;
    JsonNode *root, *n, *payload;
    JsonObject *o, *no;

    if (!json_parser_load_from_data(p, body, len, &local)) {
        return bad(error, "%s", local->message);
    }
    root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return bad(error, "not a JSON object");
    }
    o = json_node_get_object(root);
    n = json_object_get_member(o, "notification");
    if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
        return bad(error, "no \"notification\" object");
    }
    if (json_object_get_size(o) != 1) {
        return bad(error, "members beside \"notification\"");
    }
    no = json_node_get_object(n);
    if (!exact_strings(no, "notification", top, TRUE, error)) {
        return FALSE;
    }
    if (!g_str_equal(json_object_get_string_member(no, "type"), "VM")) {
        return bad(error, "type \"%s\" (VM)",
                   json_object_get_string_member(no, "type"));
    }
    if (!ftagent_notify_hostname_valid(
            json_object_get_string_member(no, "hostname"))) {
        return bad(error, "hostname \"%s\" is not [a-zA-Z0-9-._]{1,255}",
                   json_object_get_string_member(no, "hostname"));
    }
    if (!iso8601(json_object_get_string_member(no, "generated_time"))) {
        return bad(error, "generated_time \"%s\" is not ISO 8601",
                   json_object_get_string_member(no, "generated_time"));
    }
    payload = json_object_get_member(no, "payload");
    if (!payload) {
        return bad(error, "notification lacks \"payload\"");
    }
    if (!JSON_NODE_HOLDS_OBJECT(payload)) {
        return bad(error, "notification.payload is not an object");
    }
    if (!exact_strings(json_node_get_object(payload), "payload", vm, FALSE,
                       error)) {
        return FALSE;
    }
    if (!g_uuid_string_is_valid(json_object_get_string_member(
            json_node_get_object(payload), "instance_uuid"))) {
        return bad(error, "instance_uuid \"%s\" is not a UUID",
                   json_object_get_string_member(
                       json_node_get_object(payload), "instance_uuid"));
    }
    return TRUE;
}

guint ftagent_notify_backoff_ms(guint first_ms, guint max_ms, guint retry)
{
    guint64 d = MAX(first_ms, 1);

    for (guint i = 1; i < retry && d < max_ms; i++) {
        d *= 2;
    }
    return MIN(d, (guint64)max_ms);
}

char *ftagent_notify_name_uuid(const char *vm_name)
{
    /* RFC 4122 appendix C: NameSpace_URL 6ba7b811-9dad-11d1-80b4-00c04fd430c8 */
    static const guint8 ns_url[16] = {
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
        0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
    };
    g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
    g_autofree char *name = g_strconcat("urn:qemu-ft:vm:", vm_name, NULL);
    guint8 d[20];
    gsize dlen = sizeof(d);

    g_checksum_update(sha1, ns_url, sizeof(ns_url));
    g_checksum_update(sha1, (const guchar *)name, strlen(name));
    g_checksum_get_digest(sha1, d, &dlen);
    d[6] = (d[6] & 0x0f) | 0x50;        /* version 5 */
    d[8] = (d[8] & 0x3f) | 0x80;        /* the RFC 4122 variant */
    return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                           "%02x%02x%02x%02x%02x%02x",
                           d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7],
                           d[8], d[9], d[10], d[11], d[12], d[13], d[14],
                           d[15]);
}
