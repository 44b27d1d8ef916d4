/*
 * qemu-ft pool layout: the single source of truth for QEMU, the agent and
 * the tools.  QEMU's series carries a byte-identical copy as
 * include/migration/ftpool.h (a test compares them).
 *
 * The pool is one shared, coherent memory region (a CXL 3 shared-memory
 * device, DAX, or here a tmpfs file) mapped by the primary and the standby:
 *
 *   offset 0             superblock (FTPOOL_SB_SIZE): layout + commit word
 *   base_offset          base RAM image: every migratable RAMBlock at a
 *                        fixed offset (FTPOOL_BLOCK_ALIGN aligned)
 *   slot_offset[0]       journal slot A  \  header, page records, page data,
 *   slot_offset[1]       journal slot B  /  device state, disk records
 *   log_offset           in-flight I/O log: a ring of RX frame records
 *
 * All integers are little-endian, and the structures below are used in
 * place, so users must be little-endian hosts (x86-64, aarch64); each user
 * checks that at build time.  Offsets are from the start of the pool.
 * The commit word is the only field written after creation that decides
 * anything; it is one naturally aligned 64-bit word changed only by an
 * atomic compare-and-swap (see docs/design.md for the protocol).
 *
 * CRCs are CRC32C (Castagnoli, reflected, init 0xffffffff, final xor
 * 0xffffffff; "123456789" -> 0xe3069283), which is QEMU's
 * crc32c(0xffffffff, buf, len).
 *
 * Copyright (c) 2026 qemu-ft developers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef FTPOOL_H
#define FTPOOL_H

#include <stddef.h>
#include <stdint.h>

#define FTPOOL_MAGIC            "QEMUFTP1"      /* 8 bytes, no NUL */
#define FTPOOL_SLOT_MAGIC       "QFTSLOT1"      /* 8 bytes, no NUL */
#define FTPOOL_VERSION          3

#define FTPOOL_SB_SIZE          (64 * 1024)     /* superblock region */
#define FTPOOL_PAGE_SIZE        4096            /* unit of base and slots */
#define FTPOOL_BLOCK_ALIGN      (2 * 1024 * 1024) /* base blocks, slots */
#define FTPOOL_MAX_BLOCKS       32
#define FTPOOL_BLOCK_ID_LEN     256             /* = RAMBlock idstr */
#define FTPOOL_SLOT_HDR_SIZE    4096

/*
 * The commit word: {generation, retired, epoch, slot} in one uint64_t.
 *
 *   63          48  47  46                                   1  0
 *  +--------------+----+--------------------------------------+----+
 *  |  generation  |ret.|  committed epoch                     |slot|
 *  +--------------+----+--------------------------------------+----+
 *
 * epoch 0 means nothing is committed yet (the initial full sync of the base
 * image is still running); the slot bit is then 0 and meaningless.
 * Generation starts at 1 when the primary creates the pool; a promotion
 * increments it by CAS, which fences the primary: its next commit CAS fails.
 *
 * The retired bit is set by CAS, by the primary, when its protection ends
 * (ft-stop, a failure) and before it releases anything it held: from then
 * on output that the committed epoch does not contain may have left, so the
 * pool must never be promoted (ft-promote and ft-standby refuse it).  A
 * primary whose retire CAS finds a newer generation was fenced instead and
 * releases nothing.  Nothing clears the bit.
 */
#define FTPOOL_GEN_SHIFT        48
#define FTPOOL_GEN_MAX          0xffffULL
#define FTPOOL_COMMIT_RETIRED   (1ULL << 47)
#define FTPOOL_EPOCH_SHIFT      1
#define FTPOOL_EPOCH_MAX        ((1ULL << 46) - 1)

static inline uint64_t ftpool_commit_word(uint64_t generation,
                                          uint64_t epoch, unsigned slot)
{
    return (generation << FTPOOL_GEN_SHIFT) |
           ((epoch & FTPOOL_EPOCH_MAX) << FTPOOL_EPOCH_SHIFT) | (slot & 1);
}

static inline uint64_t ftpool_commit_generation(uint64_t word)
{
    return word >> FTPOOL_GEN_SHIFT;
}

static inline uint64_t ftpool_commit_epoch(uint64_t word)
{
    return (word >> FTPOOL_EPOCH_SHIFT) & FTPOOL_EPOCH_MAX;
}

static inline unsigned ftpool_commit_slot(uint64_t word)
{
    return word & 1;
}

static inline int ftpool_commit_retired(uint64_t word)
{
    return (word & FTPOOL_COMMIT_RETIRED) != 0;
}

/*
 * The disk-write intent (superblock disk_intent): 0 when no primary writes
 * the disk images, else ftpool_disk_intent(generation, epoch) while the
 * primary of that generation writes that committed epoch's disk writes to
 * the images.  With the commit word it forms a two-flag mutual exclusion
 * (both sides store, full fence, then load the other's word):
 *   primary: store the intent; fence; load the commit word; write one
 *            extent only while the word still has its generation (it
 *            re-checks before each extent); store 0 once it is done or it
 *            has fenced its images read-only.
 *   standby: bump the generation by CAS (a full fence); load the intent;
 *            activate the images only once it is 0 or names a newer
 *            generation, or once the old primary is known dead.
 * So either the primary sees the new generation before its next write, or
 * the standby sees the intent and waits for it.
 */
static inline uint64_t ftpool_disk_intent(uint64_t generation, uint64_t epoch)
{
    return ftpool_commit_word(generation, epoch, 1);
}

/* One RAMBlock's place in the base image. */
typedef struct FtPoolBlock {
    char idstr[FTPOOL_BLOCK_ID_LEN];    /* NUL-terminated RAMBlock idstr */
    uint64_t offset;                    /* in the pool, FTPOOL_BLOCK_ALIGN */
    uint64_t length;                    /* bytes (RAMBlock used_length) */
} FtPoolBlock;

/*
 * The superblock.  Everything before layout_crc is written once when the
 * primary creates the pool and is covered by layout_crc.  After it, on its
 * own cache line, the commit word; then advisory fields that no decision
 * depends on (statistics for tools).
 */
typedef struct FtPoolSuperblock {
    uint8_t  magic[8];                  /* FTPOOL_MAGIC */
    uint32_t version;                   /* FTPOOL_VERSION */
    uint32_t sb_size;                   /* FTPOOL_SB_SIZE */
    uint64_t pool_size;                 /* bytes the pool must have */
    uint32_t page_size;                 /* FTPOOL_PAGE_SIZE */
    uint32_t nr_blocks;                 /* used entries of blocks[] */
    uint8_t  vm_uuid[16];               /* the protected VM (-uuid) */
    uint64_t created_ns;                /* CLOCK_REALTIME at creation */

    uint64_t base_offset;               /* first byte of the base image */
    uint64_t base_size;                 /* bytes up to the last block end */

    uint64_t slot_offset[2];            /* slot A, slot B */
    uint64_t slot_size;                 /* bytes per slot */
    uint64_t slot_max_pages;            /* page capacity per slot */
    uint64_t slot_max_devstate;         /* device-state capacity per slot */
    uint64_t slot_max_disk;             /* disk-record capacity per slot */

    uint64_t log_offset;                /* in-flight I/O log, 0 if none */
    uint64_t log_size;                  /* FTPOOL_LOG_ALIGN multiple */

    uint8_t  reserved[120];             /* zero */

    FtPoolBlock blocks[FTPOOL_MAX_BLOCKS];

    uint32_t layout_crc;                /* CRC32C of bytes before it */
    uint32_t pad0;

    /* --- mutable, one cache line of its own --- */
    uint64_t commit __attribute__((aligned(64)));

    /* advisory statistics, written by the primary after a commit */
    uint64_t stat_applied_epoch;        /* slot of this epoch is in base */
    uint64_t stat_commit_ns;            /* CLOCK_REALTIME of last commit */
    uint64_t stat_last_pause_ns;        /* vCPU pause of the last epoch */
    uint64_t stat_last_dirty_pages;

    /* --- the disk-write intent, one cache line of its own --- */
    uint64_t disk_intent __attribute__((aligned(64)));

    /*
     * Advisory: why the pool was retired (NUL-terminated), written by the
     * primary before its retire CAS.
     */
    char retire_reason[192] __attribute__((aligned(64)));
} FtPoolSuperblock;

/*
 * A journal slot starts with this header (FTPOOL_SLOT_HDR_SIZE bytes),
 * followed by nr_pages page records at records_offset, the page data at
 * data_offset (record i's page at data_offset + i * page_size), the
 * device/vCPU state stream (qemu_save_device_state()) at devstate_offset
 * and the epoch's disk writes (FtPoolDiskRecords) at disk_offset.
 * Offsets in the header are from the start of the slot.
 *
 * A slot is written completely and flushed before the commit word names
 * it.  A slot the commit word does not name is ignored, whatever it holds
 * (it may be torn).  The slot the commit word names must match it exactly
 * (generation, epoch, index) and pass every CRC, or promotion refuses.
 */
typedef struct FtPoolSlotHeader {
    uint8_t  magic[8];                  /* FTPOOL_SLOT_MAGIC */
    uint64_t generation;
    uint64_t epoch;
    uint32_t slot;                      /* 0 = A, 1 = B */
    uint32_t page_size;
    uint64_t nr_pages;
    uint64_t records_offset;
    uint64_t data_offset;               /* FTPOOL_PAGE_SIZE aligned */
    uint64_t devstate_offset;
    uint64_t devstate_len;
    uint32_t records_crc;               /* CRC32C of the record array */
    uint32_t devstate_crc;              /* CRC32C of the device state */
    uint64_t pause_ns;                  /* how long vCPUs were stopped */
    uint64_t created_ns;                /* CLOCK_REALTIME when written */
    uint64_t log_start;                 /* log position and sequence    */
    uint64_t log_seq;                   /* number of the first record   */
                                        /* after this epoch's checkpoint */
    uint64_t disk_offset;               /* FtPoolDiskRecords of the epoch */
    uint64_t disk_len;                  /* bytes of them */
    uint64_t disk_records;
    uint32_t disk_crc;                  /* CRC32C of the disk_len bytes */
    uint8_t  reserved[12];              /* zero */
    uint32_t header_crc;                /* CRC32C of bytes before it */
    uint32_t pad0;
} FtPoolSlotHeader;

/* One dirty page in a slot: where it goes in the base image, and its CRC. */
typedef struct FtPoolPageRecord {
    uint64_t offset;                    /* pool offset in the base image */
    uint32_t data_crc;                  /* CRC32C of the page's data */
    uint32_t flags;                     /* zero */
} FtPoolPageRecord;

/*
 * One guest disk write of an epoch (QEMU's ft-disk filter): the data, if
 * any, follows the record, padded to FTPOOL_LOG_ALIGN.  The image of
 * each disk holds every epoch the primary applied; promotion redoes the
 * committed slot's records on it, in order (idempotent, like the pages).
 */
#define FTPOOL_DISK_ZERO        1       /* write zeroes; no data follows */

typedef struct FtPoolDiskRecord {
    uint32_t source;                    /* CRC32C of the ft-disk node name */
    uint32_t flags;                     /* FTPOOL_DISK_ZERO */
    uint64_t offset;                    /* bytes into the guest's disk */
    uint64_t len;                       /* bytes written */
    uint32_t data_crc;                  /* CRC32C of the data */
    uint32_t pad;                       /* zero */
} FtPoolDiskRecord;

/*
 * The in-flight I/O log (log_offset, log_size; both 0 when nothing is
 * logged) is a ring of records: an FtPoolLogRecord and its payload,
 * padded to FTPOOL_LOG_ALIGN.  A "log position" counts bytes since the
 * pool was created; the record at position p starts at pool offset
 * log_offset + p % log_size and never straddles the ring's end: where
 * the rest of the ring cannot hold it, the writer puts a WRAP record
 * (or, if not even a header fits, nothing) and goes on at the next
 * multiple of log_size.
 *
 * The primary logs every frame its host delivers to a guest NIC, in
 * arrival order, with sequence numbers 1, 2, ... (a WRAP record carries
 * the number of the record after it).  At each checkpoint the slot header
 * records the position and number of the first record that arrived after
 * it (log_start, log_seq).  Promotion from a slot replays the records
 * from its log_start on, in order, while each has the expected number
 * and passes its CRCs: the first that does not ends the log (it was
 * being written when the primary died, or is left from an older lap).
 * The primary never overwrites the records from the committed slot's
 * log_start on; a frame that finds the ring full reaches the guest
 * unlogged, as if lost on the wire, and is counted.
 */
#define FTPOOL_LOG_MAGIC        0x52544651u     /* "QFTR" little-endian */
#define FTPOOL_LOG_ALIGN        8
#define FTPOOL_LOG_RX           1       /* a frame for a guest NIC */
#define FTPOOL_LOG_WRAP         2       /* go on at the ring's start */

typedef struct FtPoolLogRecord {
    uint32_t magic;                     /* FTPOOL_LOG_MAGIC */
    uint16_t kind;                      /* FTPOOL_LOG_RX, FTPOOL_LOG_WRAP */
    uint16_t flags;                     /* zero */
    uint64_t seq;                       /* 1, 2, ... in arrival order */
    uint64_t epoch;                     /* the epoch it arrived in */
    uint32_t source;                    /* CRC32C of the netdev id */
    uint32_t len;                       /* payload bytes after the header */
    uint32_t data_crc;                  /* CRC32C of the payload */
    uint32_t header_crc;                /* CRC32C of the bytes before it */
} FtPoolLogRecord;

static inline uint64_t ftpool_log_record_size(uint32_t len)
{
    return (sizeof(FtPoolLogRecord) + (uint64_t)len + FTPOOL_LOG_ALIGN - 1) &
           ~(uint64_t)(FTPOOL_LOG_ALIGN - 1);
}

/* Bytes a disk record takes in the slot's disk area, its data included. */
static inline uint64_t ftpool_disk_record_size(uint32_t flags, uint64_t len)
{
    return sizeof(FtPoolDiskRecord) + ((flags & FTPOOL_DISK_ZERO) ? 0 :
           (len + FTPOOL_LOG_ALIGN - 1) & ~(uint64_t)(FTPOOL_LOG_ALIGN - 1));
}

_Static_assert(sizeof(FtPoolBlock) == 272, "FtPoolBlock layout");
_Static_assert(offsetof(FtPoolSuperblock, blocks) == 256,
               "FtPoolSuperblock header layout");
_Static_assert(offsetof(FtPoolSuperblock, layout_crc) ==
               256 + FTPOOL_MAX_BLOCKS * 272, "layout_crc offset");
_Static_assert(offsetof(FtPoolSuperblock, commit) % 64 == 0,
               "commit word on its own cache line");
_Static_assert(offsetof(FtPoolSuperblock, disk_intent) % 64 == 0 &&
               offsetof(FtPoolSuperblock, disk_intent) !=
               offsetof(FtPoolSuperblock, commit),
               "disk intent on its own cache line");
_Static_assert(sizeof(FtPoolSuperblock) <= FTPOOL_SB_SIZE,
               "superblock fits its region");
_Static_assert(offsetof(FtPoolSlotHeader, header_crc) == 152,
               "FtPoolSlotHeader layout");
_Static_assert(sizeof(FtPoolSlotHeader) <= FTPOOL_SLOT_HDR_SIZE,
               "slot header fits its page");
_Static_assert(sizeof(FtPoolPageRecord) == 16, "FtPoolPageRecord layout");
_Static_assert(sizeof(FtPoolLogRecord) == 40, "FtPoolLogRecord layout");
_Static_assert(sizeof(FtPoolDiskRecord) == 32, "FtPoolDiskRecord layout");

#endif /* FTPOOL_H */
