/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM backend: how an agent starts, adopts and ends the QEMU of a VM.
 * Two backends:
 *   "qemu" (backend-qemu.c): the agent runs QEMU itself, the VMs come from
 *     the configuration's [vm:NAME] groups; the embedded default of the
 *     demo and most tests.
 *   "libvirt" (backend-libvirt.c, docs/libvirt.md): the VMs are the libvirt
 *     domains of this host whose XML carries the FT metadata element;
 *     libvirt starts the primary (virsh start: the hook tells the agent,
 *     which adopts and protects it), the agent creates the standby domain
 *     paused with its RAM mapped from the pool (<qemu:commandline>), QMP
 *     goes through libvirt's monitor passthrough, served to the agent on a
 *     private socket (backend-libvirt-qmp.c).
 * Everything else (QMP client, pidfd, the pool) is the same for both: the
 * backend hands back a pid and a QMP socket path.
 */
#pragma once

#include "agent.h"

G_BEGIN_DECLS

struct FtAgentBackend {
    const char *name;
    /* The id of the main RAM backend, the pool's RAM block that the
     * standby maps: "ram" (qemu), "ft-ram" (libvirt, ftmeta.h). */
    const char *ram_block;
    /* TRUE: the agent boots a VM's first primary itself. FALSE: the VM's
     * manager does (libvirt: virsh start) and tells the agent. */
    gboolean boots;
    /* Optional: connect, add the backend's VMs to agent->vms. */
    gboolean (*open)(FtAgent *agent, GError **error);
    void (*close)(FtAgent *agent);
    /*
     * Starts the VM's QEMU here. pool == NULL: a primary that boots;
     * otherwise a standby, paused, its RAM block ram_block mapped from
     * the pool's base image at ram_offset (share=off). Sets vm->pid and
     * vm->qmp_path; the QMP socket exists when it returns TRUE.
     */
    gboolean (*start)(FtAgentVm *vm, const char *pool, guint64 ram_offset,
                      GError **error);
    /* Checks that vm->pid still is the QEMU started with vm->qmp_path. */
    gboolean (*adopt)(FtAgentVm *vm, GError **error);
    /* Ends the local QEMU at once (a planned fence: nothing uncommitted
     * was ever released, so nothing is lost). */
    void (*kill)(FtAgentVm *vm);
};

extern const FtAgentBackend ftagent_backend_qemu;
extern const FtAgentBackend ftagent_backend_libvirt;

const FtAgentBackend *ftagent_backend_find(const char *name, GError **error);

G_END_DECLS
