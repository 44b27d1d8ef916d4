/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Masakari notifications, the pure part (agent-notify-body.h): the body has
 * exactly the members of Masakari's schema with string values, the time is
 * ISO 8601 UTC with microseconds, the check refuses each way a body can be
 * wrong (one change from a good body each), the retry schedule doubles up
 * to its cap, the name-based UUID is RFC 4122 version 5 (the expected
 * values are python3's uuid.uuid5(uuid.NAMESPACE_URL, "urn:qemu-ft:vm:"
 * + NAME)).
 */
#include "qft-check.h"
#include <json-glib/json-glib.h>
#include <string.h>

#include "agent-notify-body.h"

/* 2026-12-04T05:00:00Z */
#define T0_US (1796360400ll * G_USEC_PER_SEC)
#define UUID0 "7e634d3e-23a5-580d-9e25-f5801813932f"

static char *good_body(void)
{
    return ftagent_notify_body(FTAGENT_NOTIFY_LIFECYCLE,
                               FTAGENT_NOTIFY_STARTED_FAILOVER, "host-a",
                               UUID0, T0_US + 123456);
}

/* The members of an object, sorted, joined with ",". */
static char *members(JsonObject *o)
{
    g_autoptr(GList) l = g_list_sort(json_object_get_members(o),
                                     (GCompareFunc)strcmp);
    g_autoptr(GString) s = g_string_new(NULL);

    for (GList *i = l; i; i = i->next) {
        g_string_append_printf(s, "%s%s", s->len ? "," : "",
                               (const char *)i->data);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

START_TEST(body_is_masakaris_schema)
{
    g_autofree char *body = good_body();
    g_autoptr(JsonParser) p = json_parser_new();
    g_autofree char *top = NULL, *nm = NULL, *pm = NULL;
    JsonObject *o, *n, *pl;
    g_autoptr(GError) error = NULL;

    ck_assert_msg(json_parser_load_from_data(p, body, -1, &error), "%s",
                  error ? error->message : "");
    o = json_node_get_object(json_parser_get_root(p));
    top = members(o);
    ck_assert_str_eq(top, "notification");
    n = json_object_get_object_member(o, "notification");
    nm = members(n);
    ck_assert_str_eq(nm, "generated_time,hostname,payload,type");
    ck_assert_str_eq(json_object_get_string_member(n, "type"), "VM");
    ck_assert_str_eq(json_object_get_string_member(n, "hostname"), "host-a");
    ck_assert_str_eq(json_object_get_string_member(n, "generated_time"),
                     "2026-12-04T05:00:00.123456Z");
    pl = json_object_get_object_member(n, "payload");
    pm = members(pl);
    ck_assert_str_eq(pm, "event,instance_uuid,vir_domain_event");
    ck_assert_str_eq(json_object_get_string_member(pl, "event"), "LIFECYCLE");
    ck_assert_str_eq(json_object_get_string_member(pl, "instance_uuid"),
                     UUID0);
    ck_assert_str_eq(json_object_get_string_member(pl, "vir_domain_event"),
                     "STARTED_FAILOVER");
    ck_assert_msg(ftagent_notify_body_check(body, strlen(body), &error),
                  "%s", error ? error->message : "");
}
END_TEST

START_TEST(time_is_iso8601_utc_microseconds)
{
    g_autofree char *a = ftagent_notify_time(T0_US);
    g_autofree char *b = ftagent_notify_time(T0_US + 999999);
    g_autofree char *c = ftagent_notify_time(0);
    g_autofree char *d = ftagent_notify_time(-1);

    ck_assert_str_eq(a, "2026-12-04T05:00:00.000000Z");
    ck_assert_str_eq(b, "2026-12-04T05:00:00.999999Z");
    ck_assert_str_eq(c, "1970-01-01T00:00:00.000000Z");
    ck_assert_str_eq(d, "1969-12-31T23:59:59.999999Z");
}
END_TEST

/* The good body with one substitution is refused, the error naming why. */
static void refused(const char *from, const char *to, const char *needle)
{
    g_autofree char *good = good_body();
    const char *at = strstr(good, from);
    g_autofree char *bad = NULL;
    g_autoptr(GError) error = NULL;

    ck_assert_msg(at, "'%s' is not in %s", from, good);
    bad = g_strdup_printf("%.*s%s%s", (int)(at - good), good, to,
                          at + strlen(from));
    ck_assert_msg(!ftagent_notify_body_check(bad, strlen(bad), &error),
                  "accepted: %s", bad);
    ck_assert_msg(strstr(error->message, needle), "'%s' lacks '%s' (%s)",
                  error->message, needle, bad);
}

START_TEST(check_refuses_every_deviation)
{
    refused("{\"notification\"", "{\"extra\":1,\"notification\"",
            "beside \"notification\"");
    refused("\"type\":\"VM\"", "\"type\":\"VM\",\"id\":\"1\"",
            "the member \"id\"");
    refused("\"event\":\"LIFECYCLE\"",
            "\"event\":\"LIFECYCLE\",\"host_name\":\"a\"",
            "the member \"host_name\"");
    refused("\"type\":\"VM\",", "", "lacks \"type\"");
    refused("\"hostname\":\"host-a\",", "", "lacks \"hostname\"");
    refused("\"hostname\":\"host-a\"", "\"host_name\":\"host-a\"",
            "the member \"host_name\"");
    refused("\"event\":\"LIFECYCLE\",", "", "lacks \"event\"");
    refused("\"type\":\"VM\"", "\"type\":\"COMPUTE_HOST\"", "type");
    refused("\"type\":\"VM\"", "\"type\":1", "not a string");
    refused("\"hostname\":\"host-a\"", "\"hostname\":\"host a\"",
            "hostname \"host a\"");
    refused("\"hostname\":\"host-a\"", "\"hostname\":\"\"", "1..255");
    refused("2026-12-04T05:00:00.123456Z", "2026-12-04 05:00:00",
            "not ISO 8601");
    refused("2026-12-04T05:00:00.123456Z", "yesterday", "not ISO 8601");
    refused(UUID0, "vm0", "not a UUID");
    refused("\"instance_uuid\":\"" UUID0 "\"", "\"instance_uuid\":null",
            "not a string");
    refused("\"vir_domain_event\":\"STARTED_FAILOVER\"",
            "\"vir_domain_event\":[\"STARTED_FAILOVER\"]", "not a string");
    refused("\"payload\":{", "\"payload\":[{", "");
    refused("{\"notification\"", "[{\"notification\"", "");
}
END_TEST

START_TEST(backoff_doubles_to_its_cap)
{
    /* epoch-ms 20: retry-first-ms 500, retry-max-ms 60000 */
    static const guint want[] = { 500, 1000, 2000, 4000, 8000, 16000, 32000,
                                  60000, 60000 };

    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        ck_assert_uint_eq(ftagent_notify_backoff_ms(500, 60000, i + 1),
                          want[i]);
    }
    ck_assert_uint_eq(ftagent_notify_backoff_ms(500, 60000, 0), 500);
    ck_assert_uint_eq(ftagent_notify_backoff_ms(500, 60000, 100000), 60000);
    ck_assert_uint_eq(ftagent_notify_backoff_ms(3000000, 3600000, 64),
                      3600000);
    ck_assert_uint_eq(ftagent_notify_backoff_ms(800, 800, 5), 800);
}
END_TEST

START_TEST(name_uuid_is_version_5)
{
    g_autofree char *a = ftagent_notify_name_uuid("vm0");
    g_autofree char *b = ftagent_notify_name_uuid("web1");
    g_autofree char *c = ftagent_notify_name_uuid("qft123-vm");

    ck_assert_str_eq(a, UUID0);
    ck_assert_str_eq(b, "2c75381c-210f-5c21-ae6d-9cdeb1d41b1b");
    ck_assert_str_eq(c, "0acc56f6-39bd-5d77-8c42-0889b7dd354e");
    ck_assert(g_uuid_string_is_valid(a));
}
END_TEST

START_TEST(hostname_pattern)
{
    g_autofree char *long_name = g_strnfill(256, 'a');

    ck_assert(ftagent_notify_hostname_valid("compute-1.example_org"));
    ck_assert(!ftagent_notify_hostname_valid(""));
    ck_assert(!ftagent_notify_hostname_valid("a b"));
    ck_assert(!ftagent_notify_hostname_valid("a/b"));
    ck_assert(!ftagent_notify_hostname_valid(long_name));
    long_name[255] = 0;
    ck_assert(ftagent_notify_hostname_valid(long_name));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent-notify");
    TCase *tc = tcase_create("body");

    tcase_add_test(tc, body_is_masakaris_schema);
    tcase_add_test(tc, time_is_iso8601_utc_microseconds);
    tcase_add_test(tc, check_refuses_every_deviation);
    tcase_add_test(tc, backoff_doubles_to_its_cap);
    tcase_add_test(tc, name_uuid_is_version_5);
    tcase_add_test(tc, hostname_pattern);
    suite_add_tcase(s, tc);
    return qft_check_run(s);
}
