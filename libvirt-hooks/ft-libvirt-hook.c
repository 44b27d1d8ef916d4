/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-libvirt-hook: libvirt's QEMU hook for qemu-ft, installed as
 * /etc/libvirt/hooks/qemu.d/qemu-ft (libvirt-hooks/install-hook).
 *
 * libvirt runs it as "HOOK DOMAIN OP SUB-OP EXTRA" with the domain XML on
 * stdin and waits for it while it holds the domain (and, for some
 * operations, the driver) locked. So the hook never calls libvirt (that
 * would deadlock) and never makes libvirt wait: it reads the XML (libxml2,
 * ftmeta_from_domain_xml), exits 0 at once for a domain without FT
 * metadata and for the agent's own standby domains (their RAM maps a
 * pool: the agent is inside that libvirt call and knows), and for an FT
 * domain posts {"domain", "uuid", "op", "sub-op", "extra"} of the
 * operations the agent acts on (started, stopped, release, reconnect,
 * migrate) to the local ft-agentd (POST /v1/libvirt/hook on its control
 * socket), waiting for the HTTP status and no more, 1 s at most in all.
 * The agent acts on the event later, on its own, through libvirt. Whatever
 * happens to that post (no agent, a timeout, an error status) is logged on
 * stderr, which libvirt logs, and the hook exits 0: a missing agent must
 * never stop a domain from starting or stopping. A 409 (Conflict) to an
 * operation libvirt lets a hook refuse is obeyed (exit 1, the agent's
 * reason).
 *
 * A start of a domain that runs on another host is refused at "prepare"
 * (exit 1) from a file the agent keeps beside its control socket,
 * NAME.elsewhere, without asking the agent: a second copy would be a
 * split brain.
 *
 * Live migration: op "migrate" (run on the destination host before an
 * incoming migration) of a domain whose policy is protect exits 1, which
 * makes libvirt refuse the migration. Such a domain is protected by a host
 * pair: its pool is on the pooled memory those two hosts share and its
 * standby is a paused QEMU on the other one, mapping that pool. A primary
 * live-migrated to a third host would checkpoint nowhere (the pool is not
 * mapped there) and leave a standby that would fail over to stale state;
 * `virt-ft ft-failover` moves the domain to its standby host instead,
 * losing no output. Domains with policy restart or notify have no standby
 * QEMU: they migrate, and the agent is told.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ftmeta.h"
#include "virt-ft-agent.h"

#define HOOK_TIMEOUT_MS 1000
#define MAX_XML_BYTES (64u << 20)

static char *read_stdin(GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[65536];
    ssize_t n;

    if (isatty(STDIN_FILENO)) {
        return g_string_free(g_steal_pointer(&s), FALSE);
    }
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        "reading the domain XML on stdin: %s",
                        g_strerror(errno));
            return NULL;
        }
        if (s->len + n > MAX_XML_BYTES) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                        "the domain XML on stdin is larger than %u MiB",
                        MAX_XML_BYTES >> 20);
            return NULL;
        }
        g_string_append_len(s, buf, n);
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static JsonNode *event_json(const char *domain, const char *uuid,
                            const char *op, const char *sub_op,
                            const char *extra)
{
    g_autoptr(JsonBuilder) b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    json_builder_add_string_value(b, domain);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, uuid ? uuid : "");
    json_builder_set_member_name(b, "op");
    json_builder_add_string_value(b, op);
    json_builder_set_member_name(b, "sub-op");
    json_builder_add_string_value(b, sub_op);
    json_builder_set_member_name(b, "extra");
    json_builder_add_string_value(b, extra);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* the operations whose hook failure makes libvirt refuse them */
static gboolean refusable(const char *op)
{
    return g_str_equal(op, "prepare") || g_str_equal(op, "start") ||
           g_str_equal(op, "restore") || g_str_equal(op, "migrate");
}

/* The hook's exit status: 1 only when the agent refused OP. */
static int tell_agent(const char *domain, const char *uuid, const char *op,
                      const char *sub_op, const char *extra)
{
    g_autofree char *note = NULL;
    g_autofree char *path = virt_ft_agent_socket_default(&note);
    g_autoptr(VirtFtAgent) agent = virt_ft_agent_new(path, HOOK_TIMEOUT_MS);
    g_autoptr(JsonNode) body = event_json(domain, uuid, op, sub_op, extra);
    g_autoptr(JsonObject) answer = NULL;
    g_autoptr(GError) error = NULL;

    if (note) {
        fprintf(stderr, "qemu-ft: the agent configuration %s\n", note);
    }
    answer = virt_ft_agent_call(agent, "POST", "/v1/libvirt/hook", body,
                                &error);
    if (!answer && refusable(op) &&
        g_error_matches(error, VIRT_FT_AGENT_HTTP_ERROR, 409)) {
        fprintf(stderr, "qemu-ft: ft-agentd refuses %s of domain '%s': %s\n",
                op, domain, error->message);
        return 1;
    }
    if (!answer) {
        fprintf(stderr, "qemu-ft: domain '%s' %s %s: cannot tell ft-agentd: "
                "%s; the domain goes on (the agent finds the domain when it "
                "starts)\n", domain, op, sub_op, error->message);
    }
    return 0;
}

/*
 * The agent's own standby: its live XML maps the RAM from a pool
 * (ftmeta_domain_standby). The agent started it and knows; telling it
 * would only make libvirt wait (the agent is inside that very libvirt
 * call), so the hook stays silent.
 */
static gboolean is_agents_standby(const char *xml)
{
    return strstr(xml, "memory-backend-file,id=" FTMETA_RAM_ID ",") != NULL;
}

/*
 * While the VM runs on another host, the agent keeps NAME.elsewhere
 * beside its control socket (the host's name and the generation). A start
 * here would be a second copy of a running VM: refused, without asking
 * the agent (a file read cannot make libvirt wait).
 */
static int refuse_second_copy(const char *domain)
{
    g_autofree char *note = NULL;
    g_autofree char *sock = virt_ft_agent_socket_default(&note);
    g_autofree char *dir = g_path_get_dirname(sock);
    g_autofree char *path = g_strdup_printf("%s/%s.elsewhere", dir, domain);
    g_autofree char *text = NULL;
    g_auto(GStrv) words = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return 0;
    }
    words = g_strsplit(g_strstrip(text), " ", 2);
    fprintf(stderr, "qemu-ft: domain '%s' runs on %s (generation %s): "
            "refusing to start a second copy here (%s)\n", domain,
            words[0] ? words[0] : "?", words[0] && words[1] ? words[1] : "?",
            path);
    return 1;
}

/* What the agent acts on: a start it did not make (adopt and protect),
 * the end of a domain (logged), a libvirtd that reconnected. */
static gboolean told(const char *op)
{
    return g_str_equal(op, "started") || g_str_equal(op, "stopped") ||
           g_str_equal(op, "release") || g_str_equal(op, "reconnect") ||
           g_str_equal(op, "migrate");
}

static void usage(FILE *out)
{
    fprintf(out, "usage: ft-libvirt-hook DOMAIN OP SUB-OP EXTRA < DOMAIN-XML\n"
            "libvirt's QEMU hook for qemu-ft; installed as "
            "/etc/libvirt/hooks/qemu.d/qemu-ft\n");
}

int main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(FtMeta) meta = NULL;
    g_autofree char *xml = NULL, *uuid = NULL;
    const char *domain, *op, *sub_op, *extra;

    if (argc == 2 && (g_str_equal(argv[1], "--help") ||
                      g_str_equal(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 3 || argc > 5) {
        usage(stderr);
        return 1;
    }
    domain = argv[1];
    op = argv[2];
    sub_op = argc > 3 ? argv[3] : "-";
    extra = argc > 4 ? argv[4] : "-";
    xml = read_stdin(&error);
    if (!xml) {
        fprintf(stderr, "qemu-ft: domain '%s' %s: %s\n", domain, op,
                error->message);
        return 0;
    }
    if (!*g_strstrip(xml)) {
        return 0;               /* no domain XML: nothing of ours */
    }
    meta = ftmeta_from_domain_xml(xml, &error);
    if (!meta && !error) {
        return 0;               /* not fault tolerant */
    }
    if (!meta && g_error_matches(error, FTMETA_ERROR, FTMETA_ERROR_XML)) {
        fprintf(stderr, "qemu-ft: domain '%s' %s: stdin is no domain XML: %s\n",
                domain, op, error->message);
        return 0;
    }
    if (g_str_equal(op, "migrate")) {
        if (!meta) {
            fprintf(stderr, "qemu-ft: %s has invalid FT metadata (%s): "
                    "refusing its migration\n", domain, error->message);
            return 1;
        }
        if (meta->policy == FTMETA_POLICY_PROTECT) {
            fprintf(stderr, "qemu-ft: %s is fault tolerant; migrate it with "
                    "virt-ft ft-failover (its pool and its standby belong to "
                    "the hosts that protect it)\n", domain);
            return 1;
        }
    }
    if (is_agents_standby(xml)) {
        return 0;
    }
    if (!meta) {
        fprintf(stderr, "qemu-ft: domain '%s' has invalid FT metadata: %s%s\n",
                domain, error->message, told(op) ? "; telling ft-agentd" : "");
    }
    if (g_str_equal(op, "prepare") && g_str_equal(sub_op, "begin") &&
        refuse_second_copy(domain)) {
        return 1;
    }
    if (!told(op)) {
        return 0;
    }
    uuid = ftmeta_domain_uuid(xml, NULL);
    return tell_agent(domain, uuid, op, sub_op, extra);
}
