/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agentd configuration: a GKeyFile (/etc/qemu-ft/agent.conf), every key
 * documented with its default in ft-agentd(8) and agent.conf.example.
 * A bad value is refused with an error naming file, group, key and value.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FTAGENT_DEFAULT_CONFIG "/etc/qemu-ft/agent.conf"

#define FTAGENT_CONFIG_ERROR (ftagent_config_error_quark())
GQuark ftagent_config_error_quark(void);

typedef enum {
    FTAGENT_CONFIG_ERROR_PARSE,     /* not a key file */
    FTAGENT_CONFIG_ERROR_MISSING,   /* a required key or group is absent */
    FTAGENT_CONFIG_ERROR_INVALID,   /* a value is out of range or malformed */
    FTAGENT_CONFIG_ERROR_UNKNOWN,   /* an unknown group or key (a typo) */
} FtAgentConfigError;

typedef struct FtAgentHostConfig {
    char *id;                   /* [host:ID] */
    char *peer_address;         /* peer-address's host part (IPv4/IPv6 literal) */
    guint16 peer_port;          /* peer-address's port, default 7070 */
} FtAgentHostConfig;

typedef struct FtAgentVmConfig {
    char *name;                 /* [vm:NAME]: [A-Za-z0-9_.-]{1,31} */
    char **hosts;               /* hosts=: 1st the initial primary, then the
                                 * standby candidates in order; >= 2, each a
                                 * [host:ID]; NULL-terminated */
    guint64 memory_bytes;       /* memory= e.g. 256M, 2G (bytes, K, M, G) */
    char **qemu_args;           /* qemu-args= split like a shell (g_shell_parse_argv) */
    char *policy;               /* policy = protect (default), restart or
                                 * notify: what recovers it (notify: one
                                 * host is enough) */
    char *uuid;                 /* uuid = the instance UUID told to the
                                 * cloud API (lower case); NULL: derived
                                 * from the name (agent-notify-body.h) */
} FtAgentVmConfig;

/* [masakari]: OpenStack Masakari notifications (agent-notify.h). */
typedef struct FtAgentMasakariConfig {
    char *url;                  /* url = http(s)://.../v1/PROJECT/notifications;
                                 * "" (the default): notifications off */
    char *token_file;           /* token-file=/etc/qemu-ft/masakari.token */
    guint timeout_ms;           /* timeout-ms = max(2000, 100 * epoch-ms) */
    guint retry_first_ms;       /* retry-first-ms = max(200, 25 * epoch-ms) */
    guint retry_max_ms;         /* retry-max-ms = 60000 (>= retry-first-ms) */
} FtAgentMasakariConfig;

typedef struct FtAgentConfig {
    char *path;                 /* the file it came from, or "<data>" */
    char *host_id;              /* [agent] host, required, a [host:ID] */
    char *backend;              /* [agent] backend=qemu or libvirt */
    char *libvirt_uri;          /* libvirt-uri=qemu:///system */
    guint epoch_ms;             /* [agent] epoch-ms=20 (1..10000): the knob */
    char *trigger;              /* trigger=output (or timer): ft-start's */
    guint heartbeat_ms;         /* heartbeat-ms = max(1, epoch-ms / 4) */
    guint peer_timeout_ms;      /* peer-timeout-ms = 5 * epoch-ms */
    guint lease_ms;             /* lease-ms = 5 * epoch-ms */
    guint qmp_timeout_ms;       /* qmp-timeout-ms = max(1000, 50 * epoch-ms) */
    guint respawn_ms;           /* respawn-ms = max(200, 25 * epoch-ms) */
    char *state_dir;            /* state-dir=/var/lib/qemu-ft */
    char *run_dir;              /* run-dir=/run/qemu-ft */
    char *pool_dir;             /* pool-dir=/dev/shm */
    char *key_file;             /* key-file=/etc/qemu-ft/peer.key */
    char *control_socket;       /* control-socket=/run/qemu-ft/agent.sock */
    char *rest_address;         /* rest-listen=127.0.0.1:7080; "" = none */
    guint16 rest_port;
    char *token_file;           /* token-file=/etc/qemu-ft/rest.token */
    char *qemu_binary;          /* qemu=/usr/bin/qemu-system-x86_64 */
    char *qemu_firmware;        /* qemu-firmware= (-L DIR if set), default "" */
    GPtrArray *hosts;           /* FtAgentHostConfig*, >= 2 */
    GPtrArray *vms;             /* FtAgentVmConfig*, may be empty */
    FtAgentMasakariConfig masakari;
} FtAgentConfig;

FtAgentConfig *ftagent_config_load(const char *path, GError **error);
FtAgentConfig *ftagent_config_load_data(const char *data, gsize len,
                                        GError **error);
void ftagent_config_free(FtAgentConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtAgentConfig, ftagent_config_free)

const FtAgentHostConfig *ftagent_config_host(const FtAgentConfig *config,
                                             const char *id);
const FtAgentVmConfig *ftagent_config_vm(const FtAgentConfig *config,
                                         const char *name);

G_END_DECLS
