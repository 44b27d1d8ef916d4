/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "libvirt" backend (backend-libvirt.c) and its QMP proxy
 * (backend-libvirt-qmp.c); docs/libvirt.md tells how the agent drives
 * libvirt.
 */
#pragma once

#include <libvirt/libvirt.h>

#include "agent.h"

G_BEGIN_DECLS

/* The main RAM backend's id in an FT domain (ftmeta_domain_enable) */
#define FTAGENT_LIBVIRT_RAM_ID "ft-ram"

/* libvirt's qemu driver keeps each running domain's pid here (system) */
#define FTAGENT_LIBVIRT_PID_DIR "/run/libvirt/qemu"

typedef struct FtAgentQmpProxy FtAgentQmpProxy;

/* Serves QMP for dom on a new unix socket at path (0600). */
FtAgentQmpProxy *ftagent_qmp_proxy_new(virConnectPtr conn, virDomainPtr dom,
                                       const char *path, GError **error);
const char *ftagent_qmp_proxy_path(FtAgentQmpProxy *p);
void ftagent_qmp_proxy_free(FtAgentQmpProxy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtAgentQmpProxy, ftagent_qmp_proxy_free)

/* (Re)reads domain name's FT metadata: adds, updates or (metadata gone)
 * unprotects the VM. */
gboolean ftagent_libvirt_reload(FtAgent *agent, const char *name,
                                GError **error);
/* A libvirt hook's report (POST /v1/libvirt/hook). */
gboolean ftagent_libvirt_hook(FtAgent *agent, JsonObject *event,
                              GError **error);
/* After the state is loaded: adopts running FT domains it did not name. */
void ftagent_libvirt_take_running(FtAgent *agent);
/* libvirt ended the domain on purpose (destroy, shutdown, ...), not a
 * crash: waits a bounded time for libvirt to see the exit. */
gboolean ftagent_libvirt_stopped_on_purpose(FtAgentVm *vm);
/* The VM's libvirt domain UUID, or NULL (qemu backend). */
const char *ftagent_libvirt_uuid(FtAgentVm *vm);

G_END_DECLS
