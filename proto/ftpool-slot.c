/*
 * Journal slots: write one (tests, tools), classify, verify the committed
 * one exactly as QEMU's promotion does, apply it to the base image.
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

void ftpool_slot_writer_begin(FtPoolSlotWriter *w, FtPool *pool,
                              unsigned slot, uint64_t generation,
                              uint64_t epoch)
{
    FtPoolSlotHeader *hdr = ftpool_slot_header(pool, slot);
    uint8_t *base = (uint8_t *)hdr;

    memset(w, 0, sizeof(*w));
    w->pool = pool;
    w->slot = slot & 1;
    memset(hdr->magic, 0, 8);       /* being rewritten: no header now */
    memcpy(w->hdr.magic, FTPOOL_SLOT_MAGIC, 8);
    w->hdr.generation = generation;
    w->hdr.epoch = epoch;
    w->hdr.slot = w->slot;
    w->hdr.page_size = FTPOOL_PAGE_SIZE;
    w->hdr.records_offset = (uint8_t *)ftpool_slot_records(pool, slot) - base;
    w->hdr.data_offset = ftpool_slot_data(pool, slot) - base;
    w->hdr.devstate_offset = ftpool_slot_devstate(pool, slot) - base;
    w->hdr.disk_offset = ftpool_slot_disk(pool, slot) - base;
}

gboolean ftpool_slot_writer_add_disk(FtPoolSlotWriter *w, uint32_t source,
                                     uint64_t offset, const void *data,
                                     uint64_t len, GError **error)
{
    FtPoolDiskRecord r = { .source = source, .offset = offset, .len = len };
    uint64_t size = ftpool_disk_record_size(data ? 0 : FTPOOL_DISK_ZERO, len);
    uint8_t *at = ftpool_slot_disk(w->pool, w->slot) + w->hdr.disk_len;

    if (w->hdr.disk_len + size > w->pool->sb->slot_max_disk) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "slot %c's disk area is full (%" PRIu64 " bytes)",
                    'A' + w->slot, w->pool->sb->slot_max_disk);
        return FALSE;
    }
    if (data) {
        memcpy(at + sizeof(r), data, len);
        r.data_crc = crc(data, len);
    } else {
        r.flags = FTPOOL_DISK_ZERO;
    }
    memcpy(at, &r, sizeof(r));
    w->hdr.disk_len += size;
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
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "slot %c is full (%" PRIu64 " pages)", 'A' + w->slot, n);
        return FALSE;
    }
    memcpy(data + n * FTPOOL_PAGE_SIZE, page, FTPOOL_PAGE_SIZE);
    rec[n].offset = offset;
    rec[n].data_crc = crc(page, FTPOOL_PAGE_SIZE);
    rec[n].flags = 0;
    w->hdr.nr_pages++;
    return TRUE;
}

gboolean ftpool_slot_writer_set_devstate(FtPoolSlotWriter *w, const void *buf,
                                         size_t len, GError **error)
{
    if (len > w->pool->sb->slot_max_devstate) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
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
    FtPoolSlotHeader *hdr = ftpool_slot_header(w->pool, w->slot);
    FtPoolPageRecord *rec = ftpool_slot_records(w->pool, w->slot);

    w->hdr.records_crc = crc(rec, w->hdr.nr_pages * sizeof(*rec));
    w->hdr.devstate_crc = crc(ftpool_slot_devstate(w->pool, w->slot),
                              w->hdr.devstate_len);
    w->hdr.disk_crc = crc(ftpool_slot_disk(w->pool, w->slot),
                          w->hdr.disk_len);
    w->hdr.created_ns = g_get_real_time() * 1000;
    w->hdr.header_crc = crc(&w->hdr, offsetof(FtPoolSlotHeader, header_crc));
    ftpool_flush(rec, w->hdr.nr_pages * sizeof(*rec));
    ftpool_flush(ftpool_slot_data(w->pool, w->slot),
                 w->hdr.nr_pages * FTPOOL_PAGE_SIZE);
    memcpy(hdr, &w->hdr, sizeof(w->hdr));
    ftpool_flush(hdr, sizeof(*hdr));
}

static gboolean header_valid(const FtPoolSlotHeader *h)
{
    return !memcmp(h->magic, FTPOOL_SLOT_MAGIC, 8) &&
           crc(h, offsetof(FtPoolSlotHeader, header_crc)) == h->header_crc;
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
    if (!header_valid(&h)) {
        return FTPOOL_SLOT_TORN;
    }
    return h.epoch > epoch ? FTPOOL_SLOT_PENDING : FTPOOL_SLOT_OLDER;
}

static const FtPoolBlock *block_of(FtPool *pool, uint64_t offset)
{
    for (unsigned i = 0; i < pool->sb->nr_blocks; i++) {
        const FtPoolBlock *b = &pool->sb->blocks[i];

        if (offset >= b->offset && offset < b->offset + b->length) {
            return b;
        }
    }
    return NULL;
}

gboolean ftpool_verify_committed(FtPool *pool, FtPoolVerifyReport *out,
                                 GError **error)
{
    const FtPoolSuperblock *sb = pool->sb;
    uint64_t word = ftpool_load_commit(pool);
    unsigned slot = ftpool_commit_slot(word);
    char name = 'A' + slot;
    uint64_t epoch = ftpool_commit_epoch(word);
    const uint8_t *base = (const uint8_t *)ftpool_slot_header(pool, slot);
    const FtPoolPageRecord *rec;
    FtPoolSlotHeader h;
    uint64_t end = sb->slot_size;
    uint32_t c;

    if (epoch == 0) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_NOTHING_COMMITTED,
                    "nothing committed yet (the primary has not finished "
                    "copying its RAM)");
        return FALSE;
    }
    if (ftpool_commit_retired(word)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_RETIRED,
                    "pool retired at epoch %" PRIu64 " (%.*s): output after "
                    "that epoch may have left the primary, so it must never "
                    "be promoted", epoch, (int)sizeof(sb->retire_reason),
                    sb->retire_reason[0] ? sb->retire_reason : "no reason");
        return FALSE;
    }
    memcpy(&h, base, sizeof(h));
    if (memcmp(h.magic, FTPOOL_SLOT_MAGIC, 8)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_SLOT_MAGIC,
                    "committed slot %c (epoch %" PRIu64 ") has no slot header",
                    name, epoch);
        return FALSE;
    }
    c = crc(&h, offsetof(FtPoolSlotHeader, header_crc));
    if (c != h.header_crc) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_HEADER_CRC,
                    "committed slot %c (epoch %" PRIu64 "): header CRC mismatch "
                    "(stored 0x%08x, computed 0x%08x)", name, epoch,
                    h.header_crc, c);
        return FALSE;
    }
    /*
     * A promotion bumps the word's generation without rewriting the slot:
     * the header's generation may be older than the word's, never newer;
     * epoch and slot index must match exactly.
     */
    if (h.epoch != epoch || h.slot != slot ||
        h.generation > ftpool_commit_generation(word)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_SLOT_MISMATCH,
                    "committed slot %c holds generation %" PRIu64 " epoch %"
                    PRIu64 " slot %u, the commit word names generation %"
                    PRIu64 " epoch %" PRIu64 " slot %u", name, h.generation,
                    h.epoch, h.slot, ftpool_commit_generation(word), epoch,
                    slot);
        return FALSE;
    }
    if (h.page_size != FTPOOL_PAGE_SIZE || h.nr_pages > sb->slot_max_pages ||
        h.records_offset < FTPOOL_SLOT_HDR_SIZE ||
        h.records_offset + h.nr_pages * sizeof(*rec) > end ||
        h.data_offset % FTPOOL_PAGE_SIZE ||
        h.data_offset + h.nr_pages * FTPOOL_PAGE_SIZE > end ||
        h.devstate_len > sb->slot_max_devstate ||
        h.devstate_offset + h.devstate_len > end ||
        h.disk_len > sb->slot_max_disk || h.disk_offset > end ||
        h.disk_len > end - h.disk_offset) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_SLOT_BOUNDS,
                    "committed slot %c: %" PRIu64 " pages, %" PRIu64
                    " bytes of device state or %" PRIu64 " bytes of disk "
                    "records do not fit the slot", name, h.nr_pages,
                    h.devstate_len, h.disk_len);
        return FALSE;
    }
    rec = (const FtPoolPageRecord *)(base + h.records_offset);
    c = crc(rec, h.nr_pages * sizeof(*rec));
    if (c != h.records_crc) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_RECORDS_CRC,
                    "committed slot %c: page records CRC mismatch (stored "
                    "0x%08x, computed 0x%08x)", name, h.records_crc, c);
        return FALSE;
    }
    for (uint64_t i = 0; i < h.nr_pages; i++) {
        const FtPoolBlock *b = block_of(pool, rec[i].offset);
        const uint8_t *page = base + h.data_offset + i * FTPOOL_PAGE_SIZE;

        if (!b || rec[i].offset % FTPOOL_PAGE_SIZE) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_RECORD_OFFSET,
                        "committed slot %c record %" PRIu64 ": offset 0x%"
                        PRIx64 " is not a page of the base image", name, i,
                        rec[i].offset);
            return FALSE;
        }
        c = crc(page, FTPOOL_PAGE_SIZE);
        if (c != rec[i].data_crc) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_PAGE_CRC,
                        "committed slot %c record %" PRIu64 ": page CRC "
                        "mismatch at base offset 0x%" PRIx64 " (block %s + 0x%"
                        PRIx64 "): stored 0x%08x, computed 0x%08x", name, i,
                        rec[i].offset, b->idstr, rec[i].offset - b->offset,
                        rec[i].data_crc, c);
            return FALSE;
        }
    }
    c = crc(base + h.devstate_offset, h.devstate_len);
    if (c != h.devstate_crc) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_DEVSTATE_CRC,
                    "committed slot %c: device state CRC mismatch (%" PRIu64
                    " bytes; stored 0x%08x, computed 0x%08x)", name,
                    h.devstate_len, h.devstate_crc, c);
        return FALSE;
    }
    c = crc(base + h.disk_offset, h.disk_len);
    if (c != h.disk_crc) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_DISK_CRC,
                    "committed slot %c: disk records CRC mismatch (%" PRIu64
                    " records, %" PRIu64 " bytes; stored 0x%08x, computed "
                    "0x%08x)", name, h.disk_records, h.disk_len, h.disk_crc,
                    c);
        return FALSE;
    }
    if (out) {
        out->disk_records = h.disk_records;
        out->disk_len = h.disk_len;
        out->generation = ftpool_commit_generation(word);
        out->epoch = epoch;
        out->slot = slot;
        out->nr_pages = h.nr_pages;
        out->devstate_len = h.devstate_len;
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
    if (!header_valid(h) || h->nr_pages > pool->sb->slot_max_pages) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_HEADER_CRC,
                    "slot %c has no valid header", 'A' + (slot & 1));
        return FALSE;
    }
    for (uint64_t i = 0; i < h->nr_pages; i++) {
        if (!block_of(pool, rec[i].offset) || rec[i].offset % FTPOOL_PAGE_SIZE) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_RECORD_OFFSET,
                        "slot %c record %" PRIu64 ": offset 0x%" PRIx64
                        " is not a page of the base image", 'A' + (slot & 1),
                        i, rec[i].offset);
            return FALSE;
        }
        memcpy(pool->map + rec[i].offset, data + i * FTPOOL_PAGE_SIZE,
               FTPOOL_PAGE_SIZE);
    }
    ftpool_flush(pool->map, 0);
    return TRUE;
}
