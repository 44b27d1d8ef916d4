/*
 * The in-flight I/O log (ftpool.h, "in-flight I/O log"): append records
 * (tests, tools) and read the records a promotion replays, with the rules
 * QEMU's promotion uses (migration/ft-rxlog.c).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "ftpool-lib.h"

static uint32_t crc(const void *buf, size_t len)
{
    return ftpool_crc32c(0xffffffff, buf, len);
}

const char *ftpool_log_end_name(FtPoolLogEnd end)
{
    static const char *const names[] = {
        [FTPOOL_LOG_END_NONE] = "no log",
        [FTPOOL_LOG_END_MAGIC] = "no record",
        [FTPOOL_LOG_END_SEQ] = "older record",
        [FTPOOL_LOG_END_HEADER_CRC] = "torn header",
        [FTPOOL_LOG_END_BAD] = "bad record",
        [FTPOOL_LOG_END_DATA_CRC] = "torn payload",
        [FTPOOL_LOG_END_LAP] = "one lap read",
    };

    return end < G_N_ELEMENTS(names) && names[end] ? names[end] : "?";
}

void ftpool_log_writer_init(FtPoolLogWriter *w, FtPool *pool)
{
    memset(w, 0, sizeof(*w));
    w->pool = pool;
    w->seq = 1;
    w->epoch = 1;
}

static uint8_t *log_at(FtPool *pool, uint64_t pos)
{
    return pool->map + pool->sb->log_offset + pos % pool->sb->log_size;
}

gboolean ftpool_log_append(FtPoolLogWriter *w, uint32_t source,
                           const void *buf, uint32_t len, GError **error)
{
    const FtPoolSuperblock *sb = w->pool->sb;
    uint64_t need = ftpool_log_record_size(len);
    uint64_t off, waste;
    FtPoolLogRecord r = { 0 };

    if (!sb->log_size) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "the pool has no I/O log");
        return FALSE;
    }
    off = w->head % sb->log_size;
    waste = sb->log_size - off < need ? sb->log_size - off : 0;
    if (need > sb->log_size || w->head + waste + need - w->tail > sb->log_size) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "the I/O log is full (%" PRIu64 " of %" PRIu64 " bytes "
                    "in use, a record of %" PRIu64 ")", w->head - w->tail,
                    sb->log_size, need);
        return FALSE;
    }
    r.magic = FTPOOL_LOG_MAGIC;
    r.seq = w->seq;
    r.epoch = w->epoch;
    if (waste) {
        if (waste >= sizeof(r)) {
            r.kind = FTPOOL_LOG_WRAP;
            r.header_crc = crc(&r, offsetof(FtPoolLogRecord, header_crc));
            memcpy(log_at(w->pool, w->head), &r, sizeof(r));
        }
        w->head += waste;
    }
    r.kind = FTPOOL_LOG_RX;
    r.source = source;
    r.len = len;
    r.data_crc = crc(buf, len);
    r.header_crc = crc(&r, offsetof(FtPoolLogRecord, header_crc));
    memcpy(log_at(w->pool, w->head) + sizeof(r), buf, len);
    memcpy(log_at(w->pool, w->head), &r, sizeof(r));
    ftpool_flush(log_at(w->pool, w->head), need);
    w->head += need;
    w->seq++;
    return TRUE;
}

GPtrArray *ftpool_log_read(FtPool *pool, uint64_t start, uint64_t seq,
                           uint64_t after_epoch, FtPoolLogEnd *end)
{
    const FtPoolSuperblock *sb = pool->sb;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    uint64_t pos = start;

    *end = FTPOOL_LOG_END_NONE;
    if (!sb->log_size) {
        return out;
    }
    for (;;) {
        uint64_t off = pos % sb->log_size;
        FtPoolLogRecord r;
        FtPoolLogEntry *e;

        if (pos - start >= sb->log_size) {
            *end = FTPOOL_LOG_END_LAP;
            break;
        }
        if (sb->log_size - off < sizeof(r)) {
            pos += sb->log_size - off;
            continue;
        }
        memcpy(&r, log_at(pool, pos), sizeof(r));
        if (r.magic != FTPOOL_LOG_MAGIC) {
            *end = FTPOOL_LOG_END_MAGIC;
            break;
        }
        if (r.header_crc != crc(&r, offsetof(FtPoolLogRecord, header_crc))) {
            *end = FTPOOL_LOG_END_HEADER_CRC;
            break;
        }
        if (r.seq != seq) {
            *end = FTPOOL_LOG_END_SEQ;
            break;
        }
        if (r.kind == FTPOOL_LOG_WRAP && off) {
            pos += sb->log_size - off;
            continue;
        }
        if (r.kind != FTPOOL_LOG_RX || r.flags || r.epoch <= after_epoch ||
            r.len > sb->log_size - off - sizeof(r)) {
            *end = FTPOOL_LOG_END_BAD;
            break;
        }
        e = g_malloc(sizeof(*e) + r.len);
        e->seq = r.seq;
        e->epoch = r.epoch;
        e->source = r.source;
        e->len = r.len;
        memcpy(e->data, log_at(pool, pos) + sizeof(r), r.len);
        if (crc(e->data, e->len) != r.data_crc) {
            g_free(e);
            *end = FTPOOL_LOG_END_DATA_CRC;
            break;
        }
        g_ptr_array_add(out, e);
        pos += ftpool_log_record_size(r.len);
        seq++;
    }
    return out;
}

GPtrArray *ftpool_log_pending(FtPool *pool, FtPoolLogEnd *end, GError **error)
{
    FtPoolVerifyReport r;
    const FtPoolSlotHeader *h;

    if (!ftpool_verify_committed(pool, &r, error)) {
        return NULL;
    }
    h = ftpool_slot_header(pool, r.slot);
    return ftpool_log_read(pool, h->log_start, h->log_seq, r.epoch, end);
}
