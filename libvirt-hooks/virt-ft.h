/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-ft: the virsh-style command line of qemu-ft (virt-ft(1)).
 *
 *   virt-ft [-c URI] [--agent-socket PATH] [-q] [-h] [-v] COMMAND [ARGS...]
 *   virt-ft [OPTIONS] 'COMMAND ARGS; COMMAND ARGS'
 *
 * Each command is a VirtFtCmdDef (its options, its help and a handler) in
 * its own file; virt-ft-args.c parses a command's arguments the way virsh
 * does (--name VALUE, --name=VALUE, the leading data options also without
 * their name), virt-ft-help.c prints the help, virt-ft-conn.c holds the
 * libvirt connection, virt-ft-agent.c talks to the local ft-agentd.
 * A handler returns FALSE with a GError; main prints it as "error: ..." on
 * stderr and exits 1 (virsh's convention).
 */
#pragma once

#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "ftmeta.h"
#include "virt-ft-agent.h"

G_BEGIN_DECLS

#define VIRT_FT_ERROR (virt_ft_error_quark())
GQuark virt_ft_error_quark(void);
typedef enum {
    VIRT_FT_ERROR_USAGE,        /* a bad command line */
    VIRT_FT_ERROR_LIBVIRT,      /* libvirt refused: its message is included */
    VIRT_FT_ERROR_FAILED,       /* anything else */
} VirtFtError;

typedef enum {
    VIRT_FT_OPT_BOOL,           /* --name */
    VIRT_FT_OPT_STRING,         /* --name VALUE */
    VIRT_FT_OPT_UINT,           /* --name N, in [min, max] */
    VIRT_FT_OPT_STRV,           /* --name VALUE, repeatable */
} VirtFtOptType;

enum {
    VIRT_FT_OPT_REQUIRED = 1 << 0,
    VIRT_FT_OPT_POSITIONAL = 1 << 1,    /* may be given without --name */
};

typedef struct VirtFtOptDef {
    const char *name;           /* without the dashes */
    VirtFtOptType type;
    guint flags;
    const char *metavar;        /* "DOMAIN", "HOST", ... (not for BOOL) */
    guint min, max;             /* VIRT_FT_OPT_UINT only */
    const char *help;
} VirtFtOptDef;

/* the DOMAIN argument of most commands: --domain, or the first bare word */
#define VIRT_FT_OPT_DOMAIN \
    { "domain", VIRT_FT_OPT_STRING, \
      VIRT_FT_OPT_REQUIRED | VIRT_FT_OPT_POSITIONAL, "DOMAIN", 0, 0, \
      "domain name, id or uuid" }

typedef struct VirtFtCtl VirtFtCtl;
typedef struct VirtFtArgs VirtFtArgs;
typedef gboolean (*VirtFtHandler)(VirtFtCtl *ctl, VirtFtArgs *args,
                                  GError **error);

typedef struct VirtFtCmdDef {
    const char *name;
    VirtFtHandler run;
    const VirtFtOptDef *opts;   /* terminated by { NULL } */
    const char *summary;        /* one line, for "virt-ft help" */
    const char *description;    /* a paragraph, for "virt-ft help NAME" */
} VirtFtCmdDef;

struct VirtFtCtl {
    char *uri;                  /* -c; NULL: LIBVIRT_DEFAULT_URI or qemu:///system */
    virConnectPtr conn;         /* opened by the first command that needs it */
    char *agent_socket;         /* --agent-socket, FT_AGENT_SOCKET, ... */
    VirtFtAgent *agent;
    gboolean quiet;             /* -q: no informational lines */
};

/* ---- the commands (one file each) ---- */
extern const VirtFtCmdDef virt_ft_cmd_enable, virt_ft_cmd_disable,
    virt_ft_cmd_list, virt_ft_cmd_status, virt_ft_cmd_failover,
    virt_ft_cmd_help;
/* NULL-terminated, in the order "virt-ft help" lists them */
extern const VirtFtCmdDef *const virt_ft_commands[];
const VirtFtCmdDef *virt_ft_command_find(const char *name);

/* ---- virt-ft-args.c ---- */
/* Parses ARGV (the command's arguments, without its name) against DEF. */
VirtFtArgs *virt_ft_args_parse(const VirtFtCmdDef *def, char **argv,
                               GError **error);
void virt_ft_args_free(VirtFtArgs *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VirtFtArgs, virt_ft_args_free)
gboolean virt_ft_args_has(VirtFtArgs *args, const char *name);
const char *virt_ft_args_string(VirtFtArgs *args, const char *name);
guint virt_ft_args_uint(VirtFtArgs *args, const char *name, guint fallback);
/* the values of a repeatable option, NULL-terminated; NULL if not given */
const char *const *virt_ft_args_strv(VirtFtArgs *args, const char *name);
/* Splits a command string ("ft-list --all; ft-status web1") into commands,
 * each a NULL-terminated argv; quotes and backslashes work as in virsh. */
GPtrArray *virt_ft_split_commands(const char *text, GError **error);

/* ---- virt-ft-help.c ---- */
void virt_ft_print_usage(FILE *out);
void virt_ft_print_command_help(const VirtFtCmdDef *def, FILE *out);

/* ---- virt-ft-main.c: output conventions ---- */
void virt_ft_info(VirtFtCtl *ctl, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void virt_ft_warn(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* "Key:" padded like virsh dominfo, then the value */
void virt_ft_print_field(const char *key, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);

/* ---- virt-ft-conn.c: libvirt ---- */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
virConnectPtr virt_ft_conn(VirtFtCtl *ctl, GError **error);
/* By id, UUID or name, like virsh. */
virDomainPtr virt_ft_lookup_domain(VirtFtCtl *ctl, const char *name,
                                   GError **error);
/* Sets ERROR from libvirt's last error: "WHAT: libvirt's message". */
void virt_ft_set_libvirt_error(GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
/* The FT metadata of DOM's persistent definition (of its live one for a
 * transient domain); NULL without error if it has none. */
FtMeta *virt_ft_domain_meta(virDomainPtr dom, gboolean live, GError **error);
char *virt_ft_domain_uuid(virDomainPtr dom);
/* "protect, standby host-b, host-c" */
char *virt_ft_meta_summary(const FtMeta *meta);

/* ---- the agent, with virt-ft's wording of its failures ---- */
VirtFtAgent *virt_ft_agent(VirtFtCtl *ctl);
/* METHOD PATH for VM NAME (escaped): /v1/vms/NAME[/SUFFIX] */
JsonObject *virt_ft_agent_vm_call(VirtFtCtl *ctl, const char *method,
                                  const char *name, const char *suffix,
                                  JsonNode *body, GError **error);
gboolean virt_ft_agent_unreachable(const GError *error);
/* A member of an answer: NULL / FALSE when absent or of another type. */
const char *virt_ft_json_string(JsonObject *o, const char *name);
gboolean virt_ft_json_int(JsonObject *o, const char *name, gint64 *value);
gboolean virt_ft_agent_not_found(const GError *error);

G_END_DECLS
