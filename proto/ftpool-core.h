/*
 * qemu-ft pool rules: the one implementation of what ftpool.h describes.
 *
 * Creating a layout, checking a superblock, the CRC and the flush, where a
 * slot's areas lie, sealing a slot and verifying the committed one, writing
 * and reading disk records and the in-flight I/O log: QEMU's series and
 * libftpool (the agent, ftpool-inspect, the tests) both run this code.
 * QEMU carries byte-identical copies of this header
 * (include/migration/ftpool-core.h) and of ftpool-core.c.inc
 * (migration/ftpool-core.c.inc); a test compares them.
 *
 * The core allocates nothing, does no I/O and uses no library: a check that
 * fails fills an FtPoolFault (a code and a message naming what is wrong)
 * that QEMU wraps in an Error and libftpool in a GError.  Pointers into the
 * pool are computed from a superblock that passed ftpool_sb_check().
 *
 * Copyright (c) 2026 qemu-ft developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef FTPOOL_CORE_H
#define FTPOOL_CORE_H

#include <stdbool.h>
#include "ftpool.h"

typedef enum FtPoolError {
    FTPOOL_ERROR_IO,                /* open, stat, map, write */
    FTPOOL_ERROR_TOO_SHORT,         /* file shorter than the layout */
    FTPOOL_ERROR_MAGIC,
    FTPOOL_ERROR_VERSION,
    FTPOOL_ERROR_LAYOUT_CRC,
    FTPOOL_ERROR_LAYOUT,            /* sizes, blocks, slots out of bounds */
    FTPOOL_ERROR_NOTHING_COMMITTED,
    FTPOOL_ERROR_RETIRED,           /* protection ended: never promotable */
    FTPOOL_ERROR_SLOT_MAGIC,        /* committed slot has no header */
    FTPOOL_ERROR_HEADER_CRC,
    FTPOOL_ERROR_SLOT_MISMATCH,     /* header != commit word */
    FTPOOL_ERROR_SLOT_BOUNDS,       /* pages/devstate do not fit */
    FTPOOL_ERROR_RECORDS_CRC,
    FTPOOL_ERROR_RECORD_OFFSET,     /* a record outside the base image */
    FTPOOL_ERROR_PAGE_CRC,
    FTPOOL_ERROR_DEVSTATE_CRC,
    FTPOOL_ERROR_DISK_CRC,
    FTPOOL_ERROR_NOT_FOUND,         /* no such block */
    FTPOOL_ERROR_INVALID,           /* bad argument */
    FTPOOL_ERROR_PROMOTED,          /* generation > 1: serves no standby */
    FTPOOL_ERROR_DISK_RECORD,       /* a disk record that makes no sense */
    FTPOOL_ERROR_FULL,              /* a slot area or the log is full */
} FtPoolError;

#define FTPOOL_FAULT_MAX        480

typedef struct FtPoolFault {
    FtPoolError code;
    char msg[FTPOOL_FAULT_MAX];     /* no trailing period, no pool path */
} FtPoolFault;

/* CRC32C with QEMU's convention: ftpool_crc32c(0xffffffff, buf, len). */
uint32_t ftpool_crc32c(uint32_t crc, const void *buf, size_t len);
/* The same, byte at a time (the reference the fast path is tested on). */
uint32_t ftpool_crc32c_table(uint32_t crc, const void *buf, size_t len);
/* CRC32C of a name: the source id of a netdev or an ft-disk node. */
uint32_t ftpool_source_id(const char *name);

/*
 * The one flush of the pool (docs/design.md, "Memory model and flush"): a
 * full fence, which is all coherent memory needs.  Non-coherent memory is
 * refused: @flush_env (the FTPOOL_FLUSH variable, may be NULL) must be
 * unset, empty or "coherent".
 */
void ftpool_flush(const void *addr, size_t len);
bool ftpool_check_coherent(const char *flush_env, FtPoolFault *f);

/* One RAM block of the base image, as the creator describes it. */
typedef struct FtPoolBlockSpec {
    const char *idstr;
    uint64_t length;
} FtPoolBlockSpec;

typedef struct FtPoolSpec {
    const FtPoolBlockSpec *blocks;
    unsigned nr_blocks;
    uint64_t slot_max_pages;        /* 0: every page of every block */
    uint64_t slot_max_devstate;
    uint64_t log_size;              /* 0: no in-flight I/O log */
    uint64_t slot_max_disk;
    uint8_t vm_uuid[16];
} FtPoolSpec;

/*
 * A new pool's superblock (commit word generation 1, nothing committed),
 * created at @created_ns (CLOCK_REALTIME); sb->pool_size is the size of
 * the file to create.
 */
bool ftpool_layout_init(FtPoolSuperblock *sb, const FtPoolSpec *spec,
                        uint64_t created_ns, FtPoolFault *f);
uint32_t ftpool_layout_crc(const FtPoolSuperblock *sb);
/* Every check of a superblock read from a file of @file_size bytes. */
bool ftpool_sb_check(const FtPoolSuperblock *sb, uint64_t file_size,
                     FtPoolFault *f);

/* Where a slot's areas start, in bytes from the slot's start. */
uint64_t ftpool_slot_records_at(const FtPoolSuperblock *sb);
uint64_t ftpool_slot_data_at(const FtPoolSuperblock *sb);
uint64_t ftpool_slot_devstate_at(const FtPoolSuperblock *sb);
uint64_t ftpool_slot_disk_at(const FtPoolSuperblock *sb);

const FtPoolBlock *ftpool_find_block_sb(const FtPoolSuperblock *sb,
                                        const char *idstr);
/*
 * The block whose page @offset (a pool offset) is: page aligned and the
 * whole page inside the block's page-rounded extent.  NULL otherwise.
 */
const FtPoolBlock *ftpool_page_block(const FtPoolSuperblock *sb,
                                     uint64_t offset);

/*
 * Refusals by the commit word alone, the same words wherever they apply:
 * promotable = something committed and not retired; attachable (a new
 * standby) = not retired and never promoted (generation 1).
 */
bool ftpool_check_promotable(const FtPoolSuperblock *sb, uint64_t word,
                             FtPoolFault *f);
bool ftpool_check_attachable(const FtPoolSuperblock *sb, uint64_t word,
                             FtPoolFault *f);

/*
 * Writing a slot.  Begin marks it as being rewritten (no header); the
 * caller fills page data and records (offset, flags 0), the device state
 * and the disk records at the slot's areas and the header's generation,
 * epoch, nr_pages, devstate_len, disk_len, disk_records, log_start,
 * log_seq, pause_ns and created_ns.  Seal computes every CRC (each page's
 * too), flushes every area, then writes the header last and flushes it:
 * after seal the slot may be named by the commit word.
 */
void ftpool_slot_begin(const FtPoolSuperblock *sb, uint8_t *map,
                       unsigned slot);
void ftpool_slot_seal(const FtPoolSuperblock *sb, uint8_t *map,
                      unsigned slot, FtPoolSlotHeader *hdr);

/* A slot's header is a header: its magic and its CRC. */
bool ftpool_slot_header_valid(const FtPoolSlotHeader *h);

/* The committed slot, checked completely; pointers into the pool. */
typedef struct FtPoolCommitted {
    uint64_t word;
    unsigned slot;
    const FtPoolSlotHeader *hdr;
    const FtPoolPageRecord *records;
    const uint8_t *data;
    const uint8_t *devstate;
    const uint8_t *disk;
} FtPoolCommitted;

/*
 * Check the slot that @word names as promotion needs it: promotable, the
 * header matches the word, every area fits, every CRC (records, each
 * page, device state, disk area) and every disk record.  The message
 * names the slot, the record, the offset and the CRCs.
 */
bool ftpool_verify_committed_slot(const FtPoolSuperblock *sb,
                                  const uint8_t *map, uint64_t word,
                                  FtPoolCommitted *out, FtPoolFault *f);

/*
 * Disk records (FtPoolDiskRecord) in a slot's disk area of @cap bytes.
 * Put appends one at *@len (@data NULL: write zeroes); false, nothing
 * written, if it does not fit.  Next reads the record at *@off (record
 * number @index, for messages), checking its shape and its data CRC:
 * 1 and *@off advanced, 0 at the end, -1 with @f filled.
 */
bool ftpool_disk_put(uint8_t *area, uint64_t cap, uint64_t *len,
                     uint32_t source, uint64_t offset, const void *data,
                     uint64_t bytes, FtPoolFault *f);
int ftpool_disk_next(const uint8_t *area, uint64_t len, uint64_t *off,
                     uint64_t index, FtPoolDiskRecord *rec,
                     const uint8_t **data, FtPoolFault *f);

/*
 * The in-flight I/O log.  A writer's cursor: the log position of the next
 * record, the first position still needed (the committed slot's
 * log_start: never overwritten), the next sequence number and the epoch
 * the next records arrive in.
 */
typedef struct FtPoolLogCursor {
    uint64_t head;
    uint64_t tail;
    uint64_t seq;
    uint64_t epoch;
} FtPoolLogCursor;

void ftpool_log_cursor_init(FtPoolLogCursor *c);
/*
 * Room for a record with @len payload bytes at the head (a WRAP record is
 * written first where the ring's rest cannot hold it): the address for
 * the payload, or NULL, nothing written, when the ring cannot take it
 * without overwriting the tail.
 */
uint8_t *ftpool_log_reserve(const FtPoolSuperblock *sb, uint8_t *map,
                            FtPoolLogCursor *c, uint64_t len);
/* The payload is in place: flush it, write the header last, advance. */
void ftpool_log_seal(const FtPoolSuperblock *sb, uint8_t *map,
                     FtPoolLogCursor *c, uint32_t source, uint32_t len);

/* Why reading the log stopped: each is the normal end of a log. */
typedef enum FtPoolLogEnd {
    FTPOOL_LOG_END_NONE,            /* the pool has no log */
    FTPOOL_LOG_END_MAGIC,           /* no record here */
    FTPOOL_LOG_END_SEQ,             /* a record of an older lap */
    FTPOOL_LOG_END_HEADER_CRC,      /* header being written */
    FTPOOL_LOG_END_BAD,             /* a header that makes no sense */
    FTPOOL_LOG_END_DATA_CRC,        /* payload being written */
    FTPOOL_LOG_END_LAP,             /* the whole ring was read */
} FtPoolLogEnd;

const char *ftpool_log_end_name(FtPoolLogEnd end);

/* A reader from a slot's log_start/log_seq, past the slot's epoch. */
typedef struct FtPoolLogReader {
    uint64_t start;
    uint64_t pos;
    uint64_t seq;
    uint64_t after_epoch;
} FtPoolLogReader;

void ftpool_log_reader_init(FtPoolLogReader *r, const FtPoolSlotHeader *h);
/*
 * The next record a promotion replays: true with its header and its
 * payload (in the pool, CRC checked; a record's payload is complete
 * before its header and is never rewritten while a reader may use it),
 * false at the end of the log with the reason in *@end.
 */
bool ftpool_log_next(const FtPoolSuperblock *sb, const uint8_t *map,
                     FtPoolLogReader *r, FtPoolLogRecord *rec,
                     const uint8_t **payload, FtPoolLogEnd *end);

#endif /* FTPOOL_CORE_H */
