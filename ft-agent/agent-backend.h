/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The VM backend: how an agent starts, adopts and ends the QEMU of a VM.
 * One backend now, "qemu" (backend-qemu.c): the agent runs QEMU itself,
 * the embedded default of the demo and the tests. A libvirt backend (its
 * own issue, docs/design.md "Standby under libvirt") implements the same
 * three calls with a libvirt domain: start = define + create the domain
 * (the standby's pool-mapped RAM backend and an extra QMP socket through
 * <qemu:commandline>), adopt = look the domain up by name, kill = destroy
 * it. Everything else (QMP, pidfd, the pool) is the same for both: the
 * backend hands back a pid and a QMP socket path.
 */
#pragma once

#include "agent.h"

G_BEGIN_DECLS

struct FtAgentBackend {
    const char *name;
    /*
     * Starts the VM's QEMU here. pool == NULL: a primary that boots;
     * otherwise a standby, paused (-S), its RAM block "ram" mapped from
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

const FtAgentBackend *ftagent_backend_find(const char *name, GError **error);

G_END_DECLS
