/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A client of ft-agentd's REST API on its control socket (docs/agent.md
 * "REST API"): libsoup-3 over a Unix socket, JSON bodies (json-glib), a
 * bound on the whole request. Used by virt-ft and by the libvirt hook.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The agent could not be asked, or answered nonsense. */
#define VIRT_FT_AGENT_ERROR (virt_ft_agent_error_quark())
GQuark virt_ft_agent_error_quark(void);
typedef enum {
    VIRT_FT_AGENT_ERROR_UNREACHABLE,    /* no socket, refused, reset */
    VIRT_FT_AGENT_ERROR_TIMEOUT,        /* no answer within the bound */
    VIRT_FT_AGENT_ERROR_MALFORMED,      /* the answer is not a JSON object */
} VirtFtAgentError;

/* The agent answered with an HTTP error status: the code is the status
 * (400, 404, 409, ...), the message the agent's {"error": ...}. */
#define VIRT_FT_AGENT_HTTP_ERROR (virt_ft_agent_http_error_quark())
GQuark virt_ft_agent_http_error_quark(void);

typedef struct VirtFtAgent VirtFtAgent;

/* TIMEOUT_MS bounds each request from connect to the last byte read. */
VirtFtAgent *virt_ft_agent_new(const char *socket_path, guint timeout_ms);
void virt_ft_agent_free(VirtFtAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtFtAgent, virt_ft_agent_free)
const char *virt_ft_agent_socket(const VirtFtAgent *agent);
void virt_ft_agent_set_timeout(VirtFtAgent *agent, guint timeout_ms);

/* METHOD PATH with BODY (may be NULL): the answer's JSON object on a 2xx
 * status (an empty object for an empty body). The default main context
 * runs while it waits, so its sources (signal handlers) are dispatched. */
JsonObject *virt_ft_agent_call(VirtFtAgent *agent, const char *method,
                               const char *path, JsonNode *body,
                               GError **error);

/* Where the local agent's control socket is: $FT_AGENT_SOCKET, else the
 * control-socket (or run-dir/agent.sock) of the agent's configuration
 * ($FT_AGENT_CONFIG, default /etc/qemu-ft/agent.conf) if that file
 * exists, else /run/qemu-ft/agent.sock. A configuration that cannot be
 * read sets *NOTE to why (the default is used). */
char *virt_ft_agent_socket_default(char **note);

G_END_DECLS
