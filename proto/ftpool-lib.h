/*
 * libftpool: read, validate, write and dump qemu-ft pools (proto/ftpool.h)
 * outside QEMU: for the agent, the tools and the tests.  The checks are the
 * ones QEMU's promotion makes (migration/ft-pool.c), with the same words.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef FTPOOL_LIB_H
#define FTPOOL_LIB_H

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ftpool.h"

#define FTPOOL_ERROR (ftpool_error_quark())
GQuark ftpool_error_quark(void);

typedef enum {
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
} FtPoolError;

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

typedef struct FtPoolBlockSpec {
    const char *idstr;
    uint64_t length;
} FtPoolBlockSpec;

typedef struct FtPoolSpec {
    const FtPoolBlockSpec *blocks;
    unsigned nr_blocks;
    uint64_t slot_max_pages;        /* 0: every page of every block */
    uint64_t slot_max_devstate;
    uint64_t log_size;
    uint64_t slot_max_disk;
    uint8_t vm_uuid[16];
} FtPoolSpec;

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

uint32_t ftpool_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t ftpool_crc32c_table(uint32_t crc, const void *buf, size_t len);
void ftpool_flush(const void *addr, size_t len);

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
    uint64_t head;                  /* log position of the next record */
    uint64_t tail;                  /* first position still needed */
    uint64_t seq;                   /* number of the next record */
    uint64_t epoch;                 /* epoch the next records arrive in */
} FtPoolLogWriter;

/* Why reading the log stopped: each is the normal end of a log. */
typedef enum {
    FTPOOL_LOG_END_NONE,            /* the pool has no log */
    FTPOOL_LOG_END_MAGIC,           /* no record here */
    FTPOOL_LOG_END_SEQ,             /* a record of an older lap */
    FTPOOL_LOG_END_HEADER_CRC,      /* header being written */
    FTPOOL_LOG_END_BAD,             /* a header that makes no sense */
    FTPOOL_LOG_END_DATA_CRC,        /* payload being written */
    FTPOOL_LOG_END_LAP,             /* the whole ring was read */
} FtPoolLogEnd;

typedef struct FtPoolLogEntry {
    uint64_t seq;
    uint64_t epoch;
    uint32_t source;
    uint32_t len;
    uint8_t data[];
} FtPoolLogEntry;

void ftpool_log_writer_init(FtPoolLogWriter *w, FtPool *pool);
gboolean ftpool_log_append(FtPoolLogWriter *w, uint32_t source,
                           const void *buf, uint32_t len, GError **error);
const char *ftpool_log_end_name(FtPoolLogEnd end);
/* Copies of the records from @start on (FtPoolLogEntry). */
GPtrArray *ftpool_log_read(FtPool *pool, uint64_t start, uint64_t seq,
                           uint64_t after_epoch, FtPoolLogEnd *end);
/* What a promotion from the committed slot would replay. */
GPtrArray *ftpool_log_pending(FtPool *pool, FtPoolLogEnd *end, GError **error);

JsonNode *ftpool_to_json(FtPool *pool, gboolean verify);
/*
 * The records a promotion from the committed slot would replay, as
 * {"records": [{seq, epoch, source, len, data (hex)}], "end": why}.
 */
JsonNode *ftpool_log_to_json(FtPool *pool, GError **error);

#endif
