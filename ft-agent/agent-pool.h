/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lease through the pool: the agent maps a VM's pool read-only and
 * samples its commit word. A primary that still commits is alive, whatever
 * the heartbeat says (docs/design.md, "When the agent promotes").
 */
#pragma once

#include <glib.h>

#include "ftpool-lib.h"

G_BEGIN_DECLS

typedef struct FtAgentLease {
    FtPool *pool;
    guint64 word;               /* the commit word last sampled */
    gint64 changed_at;          /* monotonic us when it last changed */
} FtAgentLease;

FtAgentLease *ftagent_lease_open(const char *path, GError **error);
void ftagent_lease_free(FtAgentLease *lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtAgentLease, ftagent_lease_free)

/* Reads the word now; returns it. */
guint64 ftagent_lease_sample(FtAgentLease *lease);
/* The word did not change for ms milliseconds (sampling meanwhile). */
gboolean ftagent_lease_quiet_for(FtAgentLease *lease, guint ms);
/* Offset of the RAM block block_id (the main RAM backend: the backend's
 * ram_block) in the pool. */
gboolean ftagent_pool_ram_offset(const char *path, const char *block_id,
                                 guint64 *offset, GError **error);

G_END_DECLS
