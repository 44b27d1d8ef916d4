/*
 * The in-flight I/O log (ftpool.h, "in-flight I/O log"): append records
 * (tests, tools) and read the records a promotion replays, by the core's
 * writer and reader (ftpool-core.h), which are QEMU's.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "ftpool-lib.h"

void ftpool_log_writer_init(FtPoolLogWriter *w, FtPool *pool)
{
    w->pool = pool;
    ftpool_log_cursor_init(&w->c);
}

gboolean ftpool_log_append(FtPoolLogWriter *w, uint32_t source,
                           const void *buf, uint32_t len, GError **error)
{
    const FtPoolSuperblock *sb = w->pool->sb;
    uint8_t *at;

    if (!sb->log_size) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "the pool has no I/O log");
        return FALSE;
    }
    at = ftpool_log_reserve(sb, w->pool->map, &w->c, len);
    if (!at) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_FULL,
                    "the I/O log is full (%" PRIu64 " of %" PRIu64 " bytes "
                    "in use, a record of %" PRIu64 ")", w->c.head - w->c.tail,
                    sb->log_size, ftpool_log_record_size(len));
        return FALSE;
    }
    memcpy(at, buf, len);
    ftpool_log_seal(sb, w->pool->map, &w->c, source, len);
    return TRUE;
}

GPtrArray *ftpool_log_read(FtPool *pool, uint64_t start, uint64_t seq,
                           uint64_t after_epoch, FtPoolLogEnd *end)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    FtPoolLogReader r = {
        .start = start, .pos = start, .seq = seq, .after_epoch = after_epoch,
    };
    FtPoolLogRecord rec;
    const uint8_t *payload;

    while (ftpool_log_next(pool->sb, pool->map, &r, &rec, &payload, end)) {
        FtPoolLogEntry *e = g_malloc(sizeof(*e) + rec.len);

        e->offset = (uint64_t)(payload - pool->map) - sizeof(rec);
        e->seq = rec.seq;
        e->epoch = rec.epoch;
        e->source = rec.source;
        e->len = rec.len;
        memcpy(e->data, payload, rec.len);
        g_ptr_array_add(out, e);
    }
    return out;
}

GPtrArray *ftpool_log_pending(FtPool *pool, FtPoolLogEnd *end, GError **error)
{
    FtPoolVerifyReport r;
    FtPoolLogReader rd;

    if (!ftpool_verify_committed(pool, &r, error)) {
        return NULL;
    }
    ftpool_log_reader_init(&rd, ftpool_slot_header(pool, r.slot));
    return ftpool_log_read(pool, rd.start, rd.seq, rd.after_epoch, end);
}
