/*
 * Journal slots: write one (tests, tools), classify, verify the committed
 * one and apply it to the base image, by the core's rules (ftpool-core.h),
 * which are QEMU's.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "ftpool-lib.h"

void ftpool_slot_writer_begin(FtPoolSlotWriter *w, FtPool *pool,
                              unsigned slot, uint64_t generation,
                              uint64_t epoch)
{
    memset(w, 0, sizeof(*w));
    w->pool = pool;
    w->slot = slot & 1;
    ftpool_slot_begin(pool->sb, pool->map, w->slot);
    w->hdr.generation = generation;
    w->hdr.epoch = epoch;
}

gboolean ftpool_slot_writer_add_disk(FtPoolSlotWriter *w, uint32_t source,
                                     uint64_t offset, const void *data,
                                     uint64_t len, GError **error)
{
    FtPoolFault f;

    if (!ftpool_disk_put(ftpool_slot_disk(w->pool, w->slot),
                         w->pool->sb->slot_max_disk, &w->hdr.disk_len, source,
                         offset, data, len, &f)) {
        return ftpool_set_fault(error, &f, NULL);
    }
    w->hdr.disk_records++;
    return TRUE;
}

gboolean ftpool_slot_writer_add_page(FtPoolSlotWriter *w, uint64_t offset,
                                     const void *page, GError **error)
{
    FtPoolPageRecord *rec = ftpool_slot_records(w->pool, w->slot);
    uint8_t *data = ftpool_slot_data(w->pool, w->slot);
    uint64_t n = w->hdr.nr_pages;

    if (n >= w->pool->sb->slot_max_pages) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_FULL,
                    "slot %c is full (%" PRIu64 " pages)", 'A' + w->slot, n);
        return FALSE;
    }
    memcpy(data + n * FTPOOL_PAGE_SIZE, page, FTPOOL_PAGE_SIZE);
    rec[n].offset = offset;
    rec[n].flags = 0;
    w->hdr.nr_pages++;
    return TRUE;
}

gboolean ftpool_slot_writer_set_devstate(FtPoolSlotWriter *w, const void *buf,
                                         size_t len, GError **error)
{
    if (len > w->pool->sb->slot_max_devstate) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_FULL,
                    "device state of %zu bytes exceeds the slot's %" PRIu64,
                    len, w->pool->sb->slot_max_devstate);
        return FALSE;
    }
    memcpy(ftpool_slot_devstate(w->pool, w->slot), buf, len);
    w->hdr.devstate_len = len;
    return TRUE;
}

void ftpool_slot_writer_finish(FtPoolSlotWriter *w)
{
    w->hdr.created_ns = g_get_real_time() * 1000;
    ftpool_slot_seal(w->pool->sb, w->pool->map, w->slot, &w->hdr);
}

FtPoolSlotState ftpool_slot_state(FtPool *pool, unsigned slot)
{
    FtPoolSlotHeader h;
    uint64_t word = ftpool_load_commit(pool);
    uint64_t epoch = ftpool_commit_epoch(word);

    memcpy(&h, ftpool_slot_header(pool, slot), sizeof(h));
    if (epoch && ftpool_commit_slot(word) == (slot & 1)) {
        return FTPOOL_SLOT_COMMITTED;
    }
    if (!memcmp(h.magic, (uint8_t[8]){ 0 }, 8)) {
        return FTPOOL_SLOT_EMPTY;
    }
    if (!ftpool_slot_header_valid(&h)) {
        return FTPOOL_SLOT_TORN;
    }
    return h.epoch > epoch ? FTPOOL_SLOT_PENDING : FTPOOL_SLOT_OLDER;
}

gboolean ftpool_verify_committed(FtPool *pool, FtPoolVerifyReport *out,
                                 GError **error)
{
    uint64_t word = ftpool_load_commit(pool);
    FtPoolCommitted c;
    FtPoolFault f;

    if (!ftpool_verify_committed_slot(pool->sb, pool->map, word, &c, &f)) {
        return ftpool_set_fault(error, &f, NULL);
    }
    if (out) {
        out->generation = ftpool_commit_generation(word);
        out->epoch = ftpool_commit_epoch(word);
        out->slot = c.slot;
        out->nr_pages = c.hdr->nr_pages;
        out->devstate_len = c.hdr->devstate_len;
        out->disk_records = c.hdr->disk_records;
        out->disk_len = c.hdr->disk_len;
    }
    return TRUE;
}

gboolean ftpool_apply_slot(FtPool *pool, unsigned slot, GError **error)
{
    const FtPoolSlotHeader *h = ftpool_slot_header(pool, slot);
    const FtPoolPageRecord *rec = ftpool_slot_records(pool, slot);
    const uint8_t *data = ftpool_slot_data(pool, slot);

    if (!pool->writable) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "%s is open read-only", pool->path);
        return FALSE;
    }
    if (!ftpool_slot_header_valid(h) ||
        h->nr_pages > pool->sb->slot_max_pages) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_HEADER_CRC,
                    "slot %c has no valid header", 'A' + (slot & 1));
        return FALSE;
    }
    for (uint64_t i = 0; i < h->nr_pages; i++) {
        if (!ftpool_page_block(pool->sb, rec[i].offset)) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_RECORD_OFFSET,
                        "slot %c record %" PRIu64 ": offset 0x%" PRIx64
                        " is not a page of the base image", 'A' + (slot & 1),
                        i, rec[i].offset);
            return FALSE;
        }
    }
    for (uint64_t i = 0; i < h->nr_pages; i++) {
        memcpy(pool->map + rec[i].offset, data + i * FTPOOL_PAGE_SIZE,
               FTPOOL_PAGE_SIZE);
    }
    ftpool_flush(pool->map, 0);
    return TRUE;
}
