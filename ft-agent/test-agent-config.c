/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * agent.conf: the defaults derived from epoch-ms, explicit values, and every
 * bad value refused with an error naming the group, the key and the value.
 * Each bad file differs from the good one in one line.
 */
#include "qft-check.h"
#include <string.h>

#include "agent-config.h"

#define HOSTS \
    "[host:a]\npeer-address = 10.0.0.1\n" \
    "[host:b]\npeer-address = [fd00::2]:7171\n"
#define VM \
    "[vm:vm0]\nhosts = a;b\nmemory = 256M\n" \
    "qemu-args = -machine pc -kernel '/boot/vm linuz' -nodefaults\n"

static FtAgentConfig *load(const char *text, GError **error)
{
    return ftagent_config_load_data(text, strlen(text), error);
}

/* The good file with one substitution: "FROM" -> "TO" (FROM must occur). */
static char *variant(const char *from, const char *to)
{
    const char *good = "[agent]\nhost = a\nepoch-ms = 20\n" HOSTS VM;
    const char *at = strstr(good, from);

    ck_assert_msg(at, "'%s' is not in the good file", from);
    return g_strdup_printf("%.*s%s%s", (int)(at - good), good, to,
                           at + strlen(from));
}

/* The variant is refused with code, and the message has every needle. */
static void refused(const char *from, const char *to, int code,
                    const char *needle1, const char *needle2)
{
    g_autofree char *text = variant(from, to);
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);

    ck_assert_msg(cfg == NULL, "accepted: %s", text);
    ck_assert_msg(g_error_matches(error, FTAGENT_CONFIG_ERROR, code),
                  "'%s': code %d, want %d", error->message, error->code, code);
    ck_assert_msg(strstr(error->message, needle1), "'%s' lacks '%s'",
                  error->message, needle1);
    ck_assert_msg(!needle2 || strstr(error->message, needle2),
                  "'%s' lacks '%s'", error->message, needle2);
}

START_TEST(good_file_defaults)
{
    g_autofree char *text = variant("epoch-ms = 20\n", "");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);
    const FtAgentVmConfig *vm;
    const FtAgentHostConfig *b;

    ck_assert_msg(cfg, "%s", error ? error->message : "");
    ck_assert_str_eq(cfg->host_id, "a");
    ck_assert_str_eq(cfg->backend, "qemu");
    ck_assert_uint_eq(cfg->epoch_ms, 20);
    ck_assert_uint_eq(cfg->heartbeat_ms, 5);
    ck_assert_uint_eq(cfg->peer_timeout_ms, 100);
    ck_assert_uint_eq(cfg->lease_ms, 100);
    ck_assert_uint_eq(cfg->qmp_timeout_ms, 1000);
    ck_assert_uint_eq(cfg->respawn_ms, 500);
    ck_assert_str_eq(cfg->state_dir, "/var/lib/qemu-ft");
    ck_assert_str_eq(cfg->run_dir, "/run/qemu-ft");
    ck_assert_str_eq(cfg->control_socket, "/run/qemu-ft/agent.sock");
    ck_assert_str_eq(cfg->pool_dir, "/dev/shm");
    ck_assert_str_eq(cfg->rest_address, "127.0.0.1");
    ck_assert_uint_eq(cfg->rest_port, 7080);
    ck_assert_str_eq(cfg->key_file, "/etc/qemu-ft/peer.key");
    ck_assert_str_eq(cfg->token_file, "/etc/qemu-ft/rest.token");
    ck_assert_str_eq(cfg->qemu_binary, "/usr/bin/qemu-system-x86_64");
    ck_assert_uint_eq(cfg->hosts->len, 2);
    b = ftagent_config_host(cfg, "b");
    ck_assert_ptr_nonnull(b);
    ck_assert_str_eq(b->peer_address, "fd00::2");
    ck_assert_uint_eq(b->peer_port, 7171);
    ck_assert_uint_eq(ftagent_config_host(cfg, "a")->peer_port, 7070);
    vm = ftagent_config_vm(cfg, "vm0");
    ck_assert_ptr_nonnull(vm);
    ck_assert_str_eq(vm->hosts[0], "a");
    ck_assert_str_eq(vm->hosts[1], "b");
    ck_assert_ptr_null(vm->hosts[2]);
    ck_assert_uint_eq(vm->memory_bytes, 256ull << 20);
    ck_assert_str_eq(vm->qemu_args[3], "/boot/vm linuz");
    ck_assert_str_eq(vm->policy, "protect");
    ck_assert_ptr_null(vm->uuid);
    ck_assert_ptr_null(ftagent_config_vm(cfg, "vm1"));
    ck_assert_str_eq(cfg->libvirt_uri, "qemu:///system");
    /* no [masakari] group: notifications off, the defaults all the same */
    ck_assert_str_eq(cfg->masakari.url, "");
    ck_assert_str_eq(cfg->masakari.token_file, "/etc/qemu-ft/masakari.token");
    ck_assert_uint_eq(cfg->masakari.timeout_ms, 2000);
    ck_assert_uint_eq(cfg->masakari.retry_first_ms, 500);
    ck_assert_uint_eq(cfg->masakari.retry_max_ms, 60000);
}
END_TEST

/* Every timeout follows the one knob. */
START_TEST(timeouts_follow_epoch_ms)
{
    g_autofree char *text = variant("epoch-ms = 20", "epoch-ms = 100");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);

    ck_assert_msg(cfg, "%s", error ? error->message : "");
    ck_assert_uint_eq(cfg->heartbeat_ms, 25);
    ck_assert_uint_eq(cfg->peer_timeout_ms, 500);
    ck_assert_uint_eq(cfg->lease_ms, 500);
    ck_assert_uint_eq(cfg->qmp_timeout_ms, 5000);
    ck_assert_uint_eq(cfg->respawn_ms, 2500);
    ck_assert_uint_eq(cfg->masakari.timeout_ms, 10000);
    ck_assert_uint_eq(cfg->masakari.retry_first_ms, 2500);
    ck_assert_uint_eq(cfg->masakari.retry_max_ms, 60000);
}
END_TEST

START_TEST(explicit_values_win)
{
    g_autofree char *text = variant("epoch-ms = 20\n",
        "epoch-ms = 20\nheartbeat-ms = 7\npeer-timeout-ms = 70\n"
        "lease-ms = 90\nqmp-timeout-ms = 3000\nrespawn-ms = 1500\n"
        "rest-listen =\nstate-dir = /srv/ft\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);

    ck_assert_msg(cfg, "%s", error ? error->message : "");
    ck_assert_uint_eq(cfg->heartbeat_ms, 7);
    ck_assert_uint_eq(cfg->peer_timeout_ms, 70);
    ck_assert_uint_eq(cfg->lease_ms, 90);
    ck_assert_uint_eq(cfg->qmp_timeout_ms, 3000);
    ck_assert_uint_eq(cfg->respawn_ms, 1500);
    ck_assert_str_eq(cfg->rest_address, "");
    ck_assert_str_eq(cfg->state_dir, "/srv/ft");
}
END_TEST

/* The libvirt backend's keys, a VM's policy and uuid, [masakari]. */
#define MASAKARI_URL "https://ha.example.org:15868/v1/0123abcd/notifications"
START_TEST(libvirt_policy_and_masakari)
{
    g_autofree char *text = variant("epoch-ms = 20\n",
        "epoch-ms = 20\nbackend = libvirt\n"
        "libvirt-uri = qemu+ssh://root@b/system\n"
        "[masakari]\nurl = " MASAKARI_URL "\n"
        "token-file = /etc/keystone/ft.token\ntimeout-ms = 3000\n"
        "retry-first-ms = 100\nretry-max-ms = 800\n"
        "[vm:one]\nhosts = b\nmemory = 64M\nqemu-args = -nodefaults\n"
        "policy = notify\nuuid = 6BA7B811-9DAD-11D1-80B4-00C04FD430C8\n"
        "[vm:two]\nhosts = b;a\nmemory = 64M\nqemu-args = -nodefaults\n"
        "policy = restart\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);
    const FtAgentVmConfig *one, *two;

    ck_assert_msg(cfg, "%s", error ? error->message : "");
    ck_assert_str_eq(cfg->backend, "libvirt");
    ck_assert_str_eq(cfg->libvirt_uri, "qemu+ssh://root@b/system");
    ck_assert_str_eq(cfg->masakari.url, MASAKARI_URL);
    ck_assert_str_eq(cfg->masakari.token_file, "/etc/keystone/ft.token");
    ck_assert_uint_eq(cfg->masakari.timeout_ms, 3000);
    ck_assert_uint_eq(cfg->masakari.retry_first_ms, 100);
    ck_assert_uint_eq(cfg->masakari.retry_max_ms, 800);
    one = ftagent_config_vm(cfg, "one");
    two = ftagent_config_vm(cfg, "two");
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_nonnull(two);
    ck_assert_str_eq(one->policy, "notify");
    ck_assert_str_eq(one->hosts[0], "b");
    ck_assert_ptr_null(one->hosts[1]);
    ck_assert_str_eq(one->uuid, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
    ck_assert_str_eq(two->policy, "restart");
    ck_assert_ptr_null(two->uuid);
    ck_assert_str_eq(ftagent_config_vm(cfg, "vm0")->policy, "protect");
}
END_TEST

/* retry-max-ms follows a larger retry-first-ms; an empty url is "off". */
START_TEST(masakari_defaults_follow)
{
    g_autofree char *text = variant("[host:a]",
        "[masakari]\nurl =\nretry-first-ms = 90000\n[host:a]");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load(text, &error);

    ck_assert_msg(cfg, "%s", error ? error->message : "");
    ck_assert_str_eq(cfg->masakari.url, "");
    ck_assert_uint_eq(cfg->masakari.retry_first_ms, 90000);
    ck_assert_uint_eq(cfg->masakari.retry_max_ms, 90000);
}
END_TEST

START_TEST(bad_values_name_key_and_value)
{
    int inv = FTAGENT_CONFIG_ERROR_INVALID, mis = FTAGENT_CONFIG_ERROR_MISSING;
    int unk = FTAGENT_CONFIG_ERROR_UNKNOWN;

    refused("epoch-ms = 20", "epoch-ms = 0", inv, "[agent] epoch-ms = '0'",
            "1..10000");
    refused("epoch-ms = 20", "epoch-ms = 20ms", inv,
            "[agent] epoch-ms = '20ms'", "milliseconds");
    refused("epoch-ms = 20", "epoch-ms = 20\nheartbeat-ms = 100", inv,
            "[agent] heartbeat-ms = '100'", "peer-timeout-ms (100)");
    refused("epoch-ms = 20", "epoch-ms = 20\nepoch_ms = 30", unk,
            "[agent] epoch_ms = '30'", "unknown key");
    refused("epoch-ms = 20", "epoch-ms = 20\nstate-dir = var/lib", inv,
            "[agent] state-dir = 'var/lib'", "absolute");
    refused("epoch-ms = 20", "epoch-ms = 20\nbackend = xen", inv,
            "[agent] backend = 'xen'", "unknown backend (qemu or libvirt)");
    refused("epoch-ms = 20", "epoch-ms = 20\nlibvirt-uri = system", inv,
            "[agent] libvirt-uri = 'system'", "libvirt connection URI");
    refused("epoch-ms = 20", "epoch-ms = 20\nlibvirt-uri =", inv,
            "[agent] libvirt-uri = ''", "libvirt connection URI");
    refused("epoch-ms = 20", "epoch-ms = 20\nlibvirt-uri = qemu:// system",
            inv, "[agent] libvirt-uri = 'qemu:// system'",
            "libvirt connection URI");
    refused("memory = 256M", "memory = 256M\npolicy = maybe", inv,
            "[vm:vm0] policy = 'maybe'", "protect, restart or notify");
    refused("memory = 256M", "memory = 256M\npolicy = Protect", inv,
            "[vm:vm0] policy = 'Protect'", "protect, restart or notify");
    refused("memory = 256M", "memory = 256M\nuuid = 1234", inv,
            "[vm:vm0] uuid = '1234'", "not a UUID");
    refused("memory = 256M",
            "memory = 256M\nuuid = 6ba7b811-9dad-11d1-80b4-00c04fd430cg", inv,
            "[vm:vm0] uuid = '6ba7b811-9dad-11d1-80b4-00c04fd430cg'",
            "not a UUID");
    refused("hosts = a;b", "hosts = a\npolicy = restart", inv,
            "[vm:vm0] hosts = 'a'", "one is enough for policy notify");
    refused("memory = 256M", "memory = 256M\nstandby = b", unk,
            "[vm:vm0] standby = 'b'", "unknown key");
    refused("[host:a]", "[masakari]\nurl = ftp://h/v1/p/notifications\n"
            "[host:a]", inv, "[masakari] url = 'ftp://h/v1/p/notifications'",
            "http:// or https://");
    refused("[host:a]", "[masakari]\nurl = 127.0.0.1:15868/v1\n[host:a]",
            inv, "[masakari] url = '127.0.0.1:15868/v1'", NULL);
    refused("[host:a]", "[masakari]\nurl = notifications\n[host:a]",
            inv, "[masakari] url = 'notifications'", NULL);
    refused("[host:a]", "[masakari]\nurl = http:///v1/p/notifications\n"
            "[host:a]", inv, "[masakari] url = 'http:///v1/p/notifications'",
            "no host");
    refused("[host:a]", "[masakari]\nurl = http://admin:pw@h/v1/p\n"
            "[host:a]", inv, "[masakari] url = 'http://admin:pw@h/v1/p'",
            "token-file");
    refused("[host:a]", "[masakari]\nurl = http://h/v1/p#x\n[host:a]", inv,
            "[masakari] url = 'http://h/v1/p#x'", "fragment");
    refused("[host:a]", "[masakari]\nurl = http://h/v1/my project\n"
            "[host:a]", inv, "[masakari] url = 'http://h/v1/my project'",
            "white space");
    refused("[host:a]", "[masakari]\ntoken-file = keystone.token\n[host:a]",
            inv, "[masakari] token-file = 'keystone.token'", "absolute");
    refused("[host:a]", "[masakari]\ntimeout-ms = 0\n[host:a]", inv,
            "[masakari] timeout-ms = '0'", "1..600000");
    refused("[host:a]", "[masakari]\ntimeout-ms = 2s\n[host:a]", inv,
            "[masakari] timeout-ms = '2s'", "milliseconds");
    refused("[host:a]", "[masakari]\nretry-first-ms = 1000\n"
            "retry-max-ms = 999\n[host:a]", inv,
            "[masakari] retry-max-ms = '999'", "retry-first-ms (1000)");
    refused("[host:a]", "[masakari]\nretry-max-ms = -1\n[host:a]", inv,
            "[masakari] retry-max-ms = '-1'", "milliseconds");
    refused("[host:a]", "[masakari]\ntoken = abc\n[host:a]", unk,
            "[masakari] token = 'abc'", "unknown key");
    refused("[host:a]", "[masakari ]\n[host:a]", unk, "[masakari ]",
            "unknown group (agent, masakari,");
    refused("epoch-ms = 20", "epoch-ms = 20\ntrigger = sometimes", inv,
            "[agent] trigger = 'sometimes'", "must be output or timer");
    refused("epoch-ms = 20", "epoch-ms = 20\nrest-listen = localhost:80", inv,
            "[agent] rest-listen = 'localhost:80'", "IP address");
    refused("host = a\n", "", mis, "[agent] host", "required");
    refused("host = a", "host = c", inv, "[agent] host = 'c'",
            "no [host:c] group");
    refused("[agent]", "[agnet]", unk, "[agnet]", "unknown group");
    refused("10.0.0.1\n", "10.0.0.1:70000\n", inv,
            "[host:a] peer-address = '10.0.0.1:70000'", "1..65535");
    refused("10.0.0.1\n", "10.0.0.300\n", inv,
            "[host:a] peer-address = '10.0.0.300'", "IP address");
    refused("[host:b]", "[host:b.oob]", inv, "[host:b.oob]", "'.oob'");
    refused("[host:b]", "[host:bbbbbbbbbbbbbbbbbbbbbbbbbbbb]", inv,
            "[host:bbbbbbbbbbbbbbbbbbbbbbbbbbbb]", "1..27");
    refused("[host:b]\npeer-address = [fd00::2]:7171\n", "", mis,
            "[host:ID]", "two hosts");
    refused("hosts = a;b", "hosts = a;c", inv, "[vm:vm0] hosts = 'a;c'",
            "no [host:c]");
    refused("hosts = a;b", "hosts = a;a", inv, "[vm:vm0] hosts = 'a;a'",
            "twice");
    refused("hosts = a;b", "hosts = a", inv, "[vm:vm0] hosts = 'a'",
            "at least two hosts");
    refused("memory = 256M", "memory = 256Q", inv,
            "[vm:vm0] memory = '256Q'", "not a size");
    refused("memory = 256M", "memory = 1M", inv, "[vm:vm0] memory = '1M'",
            "2M..1T");
    refused("memory = 256M\n", "", mis, "[vm:vm0] memory", "required");
    refused("-nodefaults", "-nodefaults -qmp stdio", inv,
            "[vm:vm0] qemu-args = ", "'-qmp' is the agent's");
    refused("-nodefaults", "-object memory-backend-ram,id=ram,size=1G", inv,
            "[vm:vm0] qemu-args = ", "id=ram");
    refused("-nodefaults", "-append 'open", inv, "[vm:vm0] qemu-args = ",
            NULL);
    refused("[vm:vm0]", "[vm:v/m]", inv, "[vm:v/m]", "VM name");
}
END_TEST

START_TEST(not_a_key_file)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg = load("host = a\n", &error);

    ck_assert_ptr_null(cfg);
    ck_assert(g_error_matches(error, FTAGENT_CONFIG_ERROR,
                              FTAGENT_CONFIG_ERROR_PARSE));
    ck_assert_ptr_nonnull(strstr(error->message, "<data>"));
}
END_TEST

START_TEST(missing_file_is_named)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) cfg =
        ftagent_config_load("/nonexistent/agent.conf", &error);

    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(strstr(error->message, "/nonexistent/agent.conf"));
}
END_TEST

/* agent.conf.example documents every key with its default: uncommenting
 * every "#key = value" line changes nothing. */
START_TEST(example_documents_the_defaults)
{
    const char *path = g_getenv("FTAGENT_CONF_EXAMPLE");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) open = g_string_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) a = NULL, b = NULL;
    const char *keys[] = {
        "backend", "epoch-ms", "trigger", "heartbeat-ms", "peer-timeout-ms",
        "lease-ms",
        "qmp-timeout-ms", "respawn-ms", "state-dir", "run-dir", "pool-dir",
        "key-file", "token-file", "control-socket", "rest-listen", "qemu",
        "qemu-firmware", "libvirt-uri", "policy", "uuid",
        /* [masakari]; its token-file is the second one */
        "url", "token-file", "timeout-ms", "retry-first-ms", "retry-max-ms",
        NULL,
    };
    const FtAgentVmConfig *va, *vb;
    guint uncommented = 0;

    ck_assert_msg(path, "FTAGENT_CONF_EXAMPLE is not set");
    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    a = ftagent_config_load(path, &error);
    ck_assert_msg(a, "%s", error ? error->message : "");
    lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *line = *l;

        if (line[0] == '#' && g_ascii_islower(line[1]) &&
            strstr(line, " =")) {
            line++;
            uncommented++;
        }
        g_string_append_printf(open, "%s\n", line);
    }
    for (const char **k = keys; *k; k++) {
        g_autofree char *want = g_strdup_printf("\n%s =", *k);

        ck_assert_msg(strstr(open->str, want), "the example lacks key %s",
                      *k);
    }
    ck_assert_uint_eq(uncommented, g_strv_length((char **)keys));
    b = ftagent_config_load_data(open->str, open->len, &error);
    ck_assert_msg(b, "%s", error ? error->message : "");
    ck_assert_str_eq(a->backend, b->backend);
    ck_assert_uint_eq(a->epoch_ms, b->epoch_ms);
    ck_assert_str_eq(a->trigger, b->trigger);
    ck_assert_uint_eq(a->heartbeat_ms, b->heartbeat_ms);
    ck_assert_uint_eq(a->peer_timeout_ms, b->peer_timeout_ms);
    ck_assert_uint_eq(a->lease_ms, b->lease_ms);
    ck_assert_uint_eq(a->qmp_timeout_ms, b->qmp_timeout_ms);
    ck_assert_uint_eq(a->respawn_ms, b->respawn_ms);
    ck_assert_str_eq(a->state_dir, b->state_dir);
    ck_assert_str_eq(a->run_dir, b->run_dir);
    ck_assert_str_eq(a->pool_dir, b->pool_dir);
    ck_assert_str_eq(a->key_file, b->key_file);
    ck_assert_str_eq(a->token_file, b->token_file);
    ck_assert_str_eq(a->control_socket, b->control_socket);
    ck_assert_str_eq(a->rest_address, b->rest_address);
    ck_assert_uint_eq(a->rest_port, b->rest_port);
    ck_assert_str_eq(a->qemu_binary, b->qemu_binary);
    ck_assert_str_eq(a->qemu_firmware, b->qemu_firmware);
    ck_assert_str_eq(a->libvirt_uri, b->libvirt_uri);
    ck_assert_str_eq(a->masakari.url, b->masakari.url);
    ck_assert_str_eq(a->masakari.token_file, b->masakari.token_file);
    ck_assert_uint_eq(a->masakari.timeout_ms, b->masakari.timeout_ms);
    ck_assert_uint_eq(a->masakari.retry_first_ms, b->masakari.retry_first_ms);
    ck_assert_uint_eq(a->masakari.retry_max_ms, b->masakari.retry_max_ms);
    va = g_ptr_array_index(a->vms, 0);
    vb = g_ptr_array_index(b->vms, 0);
    ck_assert_str_eq(va->policy, vb->policy);
    ck_assert_ptr_eq(va->uuid, NULL);
    ck_assert_ptr_eq(vb->uuid, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent-config");
    TCase *tc = tcase_create("config");

    tcase_add_test(tc, good_file_defaults);
    tcase_add_test(tc, timeouts_follow_epoch_ms);
    tcase_add_test(tc, explicit_values_win);
    tcase_add_test(tc, libvirt_policy_and_masakari);
    tcase_add_test(tc, masakari_defaults_follow);
    tcase_add_test(tc, bad_values_name_key_and_value);
    tcase_add_test(tc, not_a_key_file);
    tcase_add_test(tc, missing_file_is_named);
    tcase_add_test(tc, example_documents_the_defaults);
    suite_add_tcase(s, tc);
    return qft_check_run(s);
}
