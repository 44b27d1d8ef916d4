/*
 * libftpool: read, validate, write and dump qemu-ft pools (proto/ftpool.h)
 * outside QEMU: for the agent, the tools and the tests.  Every rule (layout,
 * checks, CRC, slot and log formats) is the core's (ftpool-core.h), which
 * QEMU compiles byte for byte: the checks are QEMU's, in the same words.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FTPOOL_LIB_H
#define FTPOOL_LIB_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ftpool-core.h"

#define FTPOOL_ERROR (ftpool_error_quark())
GQuark ftpool_error_quark(void);


typedef struct FtPool {
    char *path;
    int fd;
    uint8_t *map;
    uint64_t size;
    gboolean writable;
    FtPoolSuperblock *sb;
} FtPool;

typedef enum {
    FTPOOL_SLOT_EMPTY,              /* no slot magic */
    FTPOOL_SLOT_COMMITTED,          /* named by the commit word */
    FTPOOL_SLOT_OLDER,              /* valid, an older epoch */
    FTPOOL_SLOT_PENDING,            /* valid, newer, never committed */
    FTPOOL_SLOT_TORN,               /* magic but a broken header */
} FtPoolSlotState;


typedef struct FtPoolVerifyReport {
    uint64_t generation;            /* of the commit word */
    uint64_t epoch;
    unsigned slot;
    uint64_t nr_pages;
    uint64_t devstate_len;
    uint64_t disk_records;
    uint64_t disk_len;
} FtPoolVerifyReport;

typedef struct FtPoolSlotWriter {
    FtPool *pool;
    unsigned slot;
    FtPoolSlotHeader hdr;
} FtPoolSlotWriter;

/* A core FtPoolFault as a GError, its message after @prefix (may be NULL). */
gboolean ftpool_set_fault(GError **error, const FtPoolFault *f,
                          const char *prefix);

FtPool *ftpool_create(const char *path, const FtPoolSpec *spec, GError **error);
FtPool *ftpool_open(const char *path, gboolean writable, GError **error);
void ftpool_close(FtPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtPool, ftpool_close)

/* The superblock checks alone (used by open). */
gboolean ftpool_check_superblock(const FtPoolSuperblock *sb, uint64_t file_size,
                                 GError **error);

uint64_t ftpool_load_commit(FtPool *pool);
uint64_t ftpool_load_disk_intent(FtPool *pool);
gboolean ftpool_cas_commit(FtPool *pool, uint64_t expected, uint64_t desired,
                           uint64_t *actual);

FtPoolSlotHeader *ftpool_slot_header(FtPool *pool, unsigned slot);
FtPoolPageRecord *ftpool_slot_records(FtPool *pool, unsigned slot);
uint8_t *ftpool_slot_data(FtPool *pool, unsigned slot);
uint8_t *ftpool_slot_devstate(FtPool *pool, unsigned slot);
uint8_t *ftpool_slot_disk(FtPool *pool, unsigned slot);
const FtPoolBlock *ftpool_find_block(FtPool *pool, const char *idstr);
const char *ftpool_slot_state_name(FtPoolSlotState state);
FtPoolSlotState ftpool_slot_state(FtPool *pool, unsigned slot);

void ftpool_slot_writer_begin(FtPoolSlotWriter *w, FtPool *pool,
                              unsigned slot, uint64_t generation,
                              uint64_t epoch);
gboolean ftpool_slot_writer_add_page(FtPoolSlotWriter *w, uint64_t offset,
                                     const void *page, GError **error);
gboolean ftpool_slot_writer_set_devstate(FtPoolSlotWriter *w, const void *buf,
                                         size_t len, GError **error);
/* A disk write (FtPoolDiskRecord); @data NULL writes zeroes. */
gboolean ftpool_slot_writer_add_disk(FtPoolSlotWriter *w, uint32_t source,
                                     uint64_t offset, const void *data,
                                     uint64_t len, GError **error);
void ftpool_slot_writer_finish(FtPoolSlotWriter *w);

gboolean ftpool_verify_committed(FtPool *pool, FtPoolVerifyReport *out,
                                 GError **error);
gboolean ftpool_apply_slot(FtPool *pool, unsigned slot, GError **error);

/* SHA-256 of the committed image (base + committed slot), hex. */
char *ftpool_digest_committed(FtPool *pool, GPtrArray *per_block,
                              GError **error);
gboolean ftpool_export_block(FtPool *pool, const char *idstr,
                             const char *path, GError **error);

/*
 * The in-flight I/O log.  A writer appends RX records as the primary does
 * (tests, tools); it never overwrites what lies past @tail.  Set
 * FtPoolSlotWriter.hdr.log_start/log_seq from a writer's head/seq at a
 * checkpoint.
 */
typedef struct FtPoolLogWriter {
    FtPool *pool;
    FtPoolLogCursor c;              /* head, tail, seq, epoch (the core's) */
} FtPoolLogWriter;


typedef struct FtPoolLogEntry {
    uint64_t offset;                /* pool offset of its FtPoolLogRecord */
    uint64_t seq;
    uint64_t epoch;
    uint32_t source;
    uint32_t len;
    uint8_t data[];
} FtPoolLogEntry;

void ftpool_log_writer_init(FtPoolLogWriter *w, FtPool *pool);
gboolean ftpool_log_append(FtPoolLogWriter *w, uint32_t source,
                           const void *buf, uint32_t len, GError **error);
/* Copies of the records from @start on (FtPoolLogEntry). */
GPtrArray *ftpool_log_read(FtPool *pool, uint64_t start, uint64_t seq,
                           uint64_t after_epoch, FtPoolLogEnd *end);
/* What a promotion from the committed slot would replay. */
GPtrArray *ftpool_log_pending(FtPool *pool, FtPoolLogEnd *end, GError **error);

/*
 * The pool as ftpool-inspect --json prints it.  Besides the decoded
 * superblock, commit word and slot headers it gives the pool offset of
 * everything a test reads or corrupts, so that no shell test spells the
 * layout: "superblock-offsets" (each superblock field), blocks[].offset
 * (the block's base image) and .entry-offset (its FtPoolBlock), commit
 * {offset, word (hex), slot-index}, and per slot its "header-offsets"
 * (each header field) and the regions its header names (records-offset,
 * records-bytes, data-offset, devstate-offset, disk-offset,
 * log-start-offset; null where the header is not valid).
 */
JsonNode *ftpool_to_json(FtPool *pool, gboolean verify);
/*
 * The records a promotion from the committed slot would replay, as
 * {"records": [{seq, epoch, source, len, offset, data-offset, data (hex)}],
 * "end": why}; offset and data-offset are the pool offsets of the record's
 * header and of its payload.
 */
JsonNode *ftpool_log_to_json(FtPool *pool, GError **error);

#endif
