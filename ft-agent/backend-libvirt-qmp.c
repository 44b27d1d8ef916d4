/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP through libvirt: libvirt owns a domain's monitor socket, so the
 * agent reaches the QEMU through libvirt-qemu's monitor passthrough
 * (virDomainQemuMonitorCommand, virConnectDomainQemuMonitorEventRegister).
 * To keep one QMP client in the agent for both backends, this file serves
 * a private unix socket per domain that speaks QMP: a greeting, the
 * capabilities handshake, and every other command forwarded to libvirt,
 * its reply sent back under the caller's id; QMP events arrive through
 * libvirt's event loop and are written to the socket as QEMU would.
 *
 * One thread per proxy reads commands and runs them (libvirt calls block);
 * events come from the backend's libvirt event thread; a mutex keeps the
 * two writers' messages whole. The socket is 0600 in run-dir.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "backend-libvirt.h"

struct FtAgentQmpProxy {
    char *name;                 /* the domain's, for messages */
    char *path;
    virDomainPtr dom;
    int listen_fd;
    int client_fd;              /* -1: none; guarded by lock */
    int event_id;               /* libvirt callback id, -1: none */
    GMutex lock;
    GThread *thread;
    gboolean quit;
};

static void write_message(FtAgentQmpProxy *p, int fd, JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);
    g_autofree char *line = g_strconcat(text, "\r\n", NULL);
    gsize len = strlen(line), done = 0;

    g_mutex_lock(&p->lock);
    while (fd >= 0 && fd == p->client_fd && done < len) {
        ssize_t n = write(fd, line + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;      /* the reader sees the hangup */
        }
        done += n;
    }
    g_mutex_unlock(&p->lock);
}

static JsonNode *error_reply(const char *cls, const char *desc)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, cls);
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static JsonNode *greeting(void)
{
    g_autoptr(JsonParser) parser = json_parser_new();

    json_parser_load_from_data(parser,
        "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 0, \"minor\": 0, "
        "\"micro\": 0}, \"package\": \"libvirt monitor passthrough\"}, "
        "\"capabilities\": []}}", -1, NULL);
    return json_node_copy(json_parser_get_root(parser));
}

/* One command line from the client: its reply, under its id. */
static JsonNode *run_command(FtAgentQmpProxy *p, const char *line)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(JsonNode) forward = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *cmd = NULL;
    char *reply = NULL;
    JsonNode *root, *id = NULL, *out = NULL;
    JsonObject *o;
    const char *execute;

    if (!json_parser_load_from_data(parser, line, -1, &error) ||
        !(root = json_parser_get_root(parser)) ||
        !JSON_NODE_HOLDS_OBJECT(root)) {
        return error_reply("GenericError", "QMP input is not a JSON object");
    }
    o = json_node_get_object(root);
    id = json_object_get_member(o, "id");
    execute = json_object_get_string_member_with_default(o, "execute", NULL);
    if (!execute) {
        out = error_reply("GenericError", "QMP input lacks \"execute\"");
    } else if (g_str_equal(execute, "qmp_capabilities")) {
        out = json_node_init_object(json_node_alloc(), json_object_new());
        json_object_set_object_member(json_node_get_object(out), "return",
                                      json_object_new());
    } else {
        /* libvirt adds its own id: forward execute + arguments only */
        JsonObject *f = json_object_new();

        json_object_set_string_member(f, "execute", execute);
        if (json_object_has_member(o, "arguments")) {
            json_object_set_member(f, "arguments", json_node_copy(
                json_object_get_member(o, "arguments")));
        }
        forward = json_node_init_object(json_node_alloc(), f);
        json_object_unref(f);
        cmd = json_to_string(forward, FALSE);
        if (virDomainQemuMonitorCommand(p->dom, cmd, &reply, 0) < 0) {
            g_autofree char *desc = g_strdup_printf(
                "libvirt monitor passthrough for domain %s: %s", p->name,
                virGetLastErrorMessage());

            out = error_reply("GenericError", desc);
        } else {
            g_autoptr(JsonParser) rp = json_parser_new();
            JsonNode *r;

            if (json_parser_load_from_data(rp, reply, -1, NULL) &&
                (r = json_parser_get_root(rp)) && JSON_NODE_HOLDS_OBJECT(r) &&
                (json_object_has_member(json_node_get_object(r), "return") ||
                 json_object_has_member(json_node_get_object(r), "error"))) {
                out = json_node_copy(r);
                json_object_remove_member(json_node_get_object(out), "id");
            } else {
                g_autofree char *desc = g_strdup_printf(
                    "libvirt passed back no QMP reply for domain %s: %.200s",
                    p->name, reply);

                out = error_reply("GenericError", desc);
            }
            free(reply);
        }
    }
    if (id) {
        json_object_set_member(json_node_get_object(out), "id",
                               json_node_copy(id));
    }
    return out;
}

static void serve_client(FtAgentQmpProxy *p, int fd)
{
    g_autoptr(GString) in = g_string_new(NULL);
    g_autoptr(JsonNode) hello = greeting();
    char buf[4096];

    write_message(p, fd, hello);
    while (!p->quit) {
        ssize_t n = read(fd, buf, sizeof(buf));
        char *nl;

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        g_string_append_len(in, buf, n);
        while ((nl = memchr(in->str, '\n', in->len))) {
            g_autofree char *line = g_strndup(in->str, nl - in->str);

            g_string_erase(in, 0, nl - in->str + 1);
            g_strstrip(line);
            if (*line) {
                g_autoptr(JsonNode) reply = run_command(p, line);

                write_message(p, fd, reply);
            }
        }
        if (in->len > 1024 * 1024) {
            g_warning("domain %s: QMP proxy: a command of over 1 MiB without "
                      "a newline: closing the connection", p->name);
            return;
        }
    }
}

static gpointer proxy_thread(gpointer data)
{
    FtAgentQmpProxy *p = data;

    while (!p->quit) {
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            break;      /* shut down */
        }
        g_mutex_lock(&p->lock);
        if (p->client_fd >= 0) {
            /* QEMU serves one client per monitor: so do we */
            g_mutex_unlock(&p->lock);
            close(fd);
            continue;
        }
        p->client_fd = fd;
        g_mutex_unlock(&p->lock);
        serve_client(p, fd);
        g_mutex_lock(&p->lock);
        p->client_fd = -1;
        g_mutex_unlock(&p->lock);
        close(fd);
    }
    return NULL;
}

static void on_monitor_event(virConnectPtr conn, virDomainPtr dom,
                             const char *event, long long seconds,
                             unsigned int micros, const char *details,
                             void *opaque)
{
    FtAgentQmpProxy *p = opaque;
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) node = NULL;
    JsonNode *data = NULL;
    int fd;

    (void)conn;
    (void)dom;
    if (details && json_parser_load_from_data(parser, details, -1, NULL)) {
        data = json_parser_get_root(parser);
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "data");
    if (data && JSON_NODE_HOLDS_OBJECT(data)) {
        json_builder_add_value(b, json_node_copy(data));
    } else {
        json_builder_begin_object(b);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_int_value(b, seconds);
    json_builder_set_member_name(b, "microseconds");
    json_builder_add_int_value(b, micros);
    json_builder_end_object(b);
    json_builder_end_object(b);
    node = json_builder_get_root(b);
    g_mutex_lock(&p->lock);
    fd = p->client_fd;
    g_mutex_unlock(&p->lock);
    if (fd >= 0) {
        write_message(p, fd, node);
    }
}

FtAgentQmpProxy *ftagent_qmp_proxy_new(virConnectPtr conn, virDomainPtr dom,
                                       const char *path, GError **error)
{
    g_autoptr(FtAgentQmpProxy) p = g_new0(FtAgentQmpProxy, 1);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    g_mutex_init(&p->lock);
    p->name = g_strdup(virDomainGetName(dom));
    p->path = g_strdup(path);
    p->client_fd = -1;
    p->event_id = -1;
    p->listen_fd = -1;
    virDomainRef(dom);
    p->dom = dom;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "domain %s: QMP proxy socket path %s is too long",
                    p->name, path);
        return NULL;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0 ||
        bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0600) < 0 || listen(p->listen_fd, 4) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "domain %s: QMP proxy socket %s: %s", p->name, path,
                    g_strerror(errno));
        return NULL;
    }
    p->event_id = virConnectDomainQemuMonitorEventRegister(
        conn, dom, NULL, on_monitor_event, p, NULL, 0);
    if (p->event_id < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "domain %s: cannot receive its QMP events through "
                    "libvirt: %s", p->name, virGetLastErrorMessage());
        return NULL;
    }
    p->thread = g_thread_new("qmp-proxy", proxy_thread, p);
    return g_steal_pointer(&p);
}

const char *ftagent_qmp_proxy_path(FtAgentQmpProxy *p)
{
    return p->path;
}

void ftagent_qmp_proxy_free(FtAgentQmpProxy *p)
{
    if (!p) {
        return;
    }
    p->quit = TRUE;
    if (p->event_id >= 0) {
        virConnectDomainQemuMonitorEventDeregister(virDomainGetConnect(p->dom),
                                                   p->event_id);
    }
    if (p->listen_fd >= 0) {
        shutdown(p->listen_fd, SHUT_RDWR);
    }
    g_mutex_lock(&p->lock);
    if (p->client_fd >= 0) {
        shutdown(p->client_fd, SHUT_RDWR);
    }
    g_mutex_unlock(&p->lock);
    if (p->thread) {
        g_thread_join(p->thread);
    }
    if (p->listen_fd >= 0) {
        close(p->listen_fd);
        unlink(p->path);
    }
    virDomainFree(p->dom);
    g_mutex_clear(&p->lock);
    g_free(p->name);
    g_free(p->path);
    g_free(p);
}
