/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agent-send: sends one authenticated peer message (docs/protocol.md),
 * as a host's watchdog, BMC or panic notifier would:
 *
 *   ft-agent-send [--config FILE] last-gasp HOST [REASON]
 *   ft-agent-send [--config FILE] failover-request HOST VM [DETAIL]
 *
 * The sender is "HOST.oob", HOST the configuration's [agent] host: the
 * host's out-of-band sender, with a replay sequence of its own (the agent's
 * is untouched); the key is the key-file.
 */
#include <gio/gio.h>
#include <stdio.h>

#include "agent-config.h"
#include "ftagent-msg.h"

static gint64 now_ns(void)
{
    return g_get_real_time() * 1000;
}

static gboolean send_message(const FtAgentConfig *c, const char *to,
                             FtAgentMsgType type, JsonObject *payload,
                             GError **error)
{
    const FtAgentHostConfig *h = ftagent_config_host(c, to);
    FtAgentKey key;
    g_autoptr(GBytes) d = NULL;
    g_autofree char *sender = NULL;
    g_autoptr(GInetAddress) a = NULL;
    g_autoptr(GSocketAddress) sa = NULL;
    g_autoptr(GSocket) s = NULL;
    gsize len;
    const char *data;

    if (!h) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "no [host:%s] in %s", to, c->path);
        return FALSE;
    }
    if (!ftagent_key_load(c->key_file, &key, error)) {
        return FALSE;
    }
    /* a fresh incarnation: a one-shot sender is a new "boot" each time */
    sender = g_strconcat(c->host_id, FTAGENT_OOB_SUFFIX, NULL);
    d = ftagent_msg_encode(&key, type, sender, now_ns(), 1, now_ns(),
                           payload, error);
    if (!d) {
        return FALSE;
    }
    a = g_inet_address_new_from_string(h->peer_address);
    sa = g_inet_socket_address_new(a, h->peer_port);
    s = g_socket_new(g_socket_address_get_family(sa), G_SOCKET_TYPE_DATAGRAM,
                     G_SOCKET_PROTOCOL_UDP, error);
    data = g_bytes_get_data(d, &len);
    return s && g_socket_send_to(s, sa, data, len, NULL, error) >= 0;
}

int main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;   /* GOption does not free a default */
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
          "configuration file", "FILE" },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "last-gasp HOST [REASON] | failover-request HOST VM [DETAIL]");
    g_autoptr(GError) error = NULL;
    g_autoptr(FtAgentConfig) c = NULL;
    g_autoptr(JsonObject) p = json_object_new();
    FtAgentMsgType type;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "ft-agent-send: %s\n", error->message);
        return 2;
    }
    if (!config_path) {
        config_path = g_strdup(FTAGENT_DEFAULT_CONFIG);
    }
    c = ftagent_config_load(config_path, &error);
    if (!c) {
        fprintf(stderr, "ft-agent-send: %s\n", error->message);
        return 2;
    }
    json_object_set_int_member(p, "detected-ns", now_ns());
    if (argc >= 3 && g_str_equal(argv[1], "last-gasp")) {
        type = FTAGENT_MSG_LAST_GASP;
        json_object_set_string_member(p, "reason", argc > 3 ? argv[3] : "panic");
    } else if (argc >= 4 && g_str_equal(argv[1], "failover-request")) {
        type = FTAGENT_MSG_FAILOVER_REQUEST;
        json_object_set_string_member(p, "vm", argv[3]);
        json_object_set_string_member(p, "reason", "operator");
        json_object_set_string_member(p, "detail",
                                      argc > 4 ? argv[4] : "ft-agent-send");
    } else {
        g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);

        fprintf(stderr, "%s", help);
        return 2;
    }
    if (!send_message(c, argv[2], type, p, &error)) {
        fprintf(stderr, "ft-agent-send: %s\n", error->message);
        return 1;
    }
    return 0;
}
