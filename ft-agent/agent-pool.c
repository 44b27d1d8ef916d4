/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The lease through the pool: its commit word, sampled read-only. */
#include "agent-pool.h"

FtAgentLease *ftagent_lease_open(const char *path, GError **error)
{
    FtPool *pool = ftpool_open(path, FALSE, error);
    FtAgentLease *lease;

    if (!pool) {
        return NULL;
    }
    lease = g_new0(FtAgentLease, 1);
    lease->pool = pool;
    lease->word = ftpool_load_commit(pool);
    lease->changed_at = g_get_monotonic_time();
    return lease;
}

void ftagent_lease_free(FtAgentLease *lease)
{
    if (lease) {
        ftpool_close(lease->pool);
        g_free(lease);
    }
}

guint64 ftagent_lease_sample(FtAgentLease *lease)
{
    guint64 word = ftpool_load_commit(lease->pool);

    if (word != lease->word) {
        lease->word = word;
        lease->changed_at = g_get_monotonic_time();
    }
    return word;
}

gboolean ftagent_lease_quiet_for(FtAgentLease *lease, guint ms)
{
    ftagent_lease_sample(lease);
    return g_get_monotonic_time() - lease->changed_at >= (gint64)ms * 1000;
}

gboolean ftagent_pool_ram_offset(const char *path, const char *block_id,
                                 guint64 *offset, GError **error)
{
    g_autoptr(FtPool) pool = ftpool_open(path, FALSE, error);
    const FtPoolBlock *block;

    if (!pool) {
        return FALSE;
    }
    block = ftpool_find_block(pool, block_id);
    if (!block) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                    "pool %s has no RAM block \"%s\": the VM's main RAM "
                    "must be the backend the agent adds (id=%s)", path,
                    block_id, block_id);
        return FALSE;
    }
    *offset = block->offset;
    return TRUE;
}
