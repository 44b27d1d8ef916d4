/*
 * Pool files: create, open and validate, the commit word, slot addresses.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ftpool-lib.h"

G_DEFINE_QUARK(ftpool-error-quark, ftpool_error)

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static gboolean overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static uint32_t layout_crc(const FtPoolSuperblock *sb)
{
    return ftpool_crc32c(0xffffffff, sb, offsetof(FtPoolSuperblock, layout_crc));
}

static uint64_t records_bytes(const FtPoolSuperblock *sb)
{
    return align_up(sb->slot_max_pages * sizeof(FtPoolPageRecord),
                    FTPOOL_PAGE_SIZE);
}

gboolean ftpool_check_superblock(const FtPoolSuperblock *sb, uint64_t file_size,
                                 GError **error)
{
    uint32_t crc;

    if (memcmp(sb->magic, FTPOOL_MAGIC, 8)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_MAGIC,
                    "bad magic (not a pool)");
        return FALSE;
    }
    if (sb->version != FTPOOL_VERSION) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_VERSION,
                    "version %u, this reader knows version %d", sb->version,
                    FTPOOL_VERSION);
        return FALSE;
    }
    crc = layout_crc(sb);
    if (crc != sb->layout_crc) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT_CRC,
                    "superblock layout CRC mismatch (stored 0x%08x, computed "
                    "0x%08x)", sb->layout_crc, crc);
        return FALSE;
    }
    if (sb->sb_size != FTPOOL_SB_SIZE || sb->page_size != FTPOOL_PAGE_SIZE) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                    "superblock size %u / page size %u, expected %d / %d",
                    sb->sb_size, sb->page_size, FTPOOL_SB_SIZE,
                    FTPOOL_PAGE_SIZE);
        return FALSE;
    }
    if (sb->pool_size > file_size) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_TOO_SHORT,
                    "file has %" PRIu64 " bytes, the pool needs %" PRIu64,
                    file_size, sb->pool_size);
        return FALSE;
    }
    if (sb->nr_blocks == 0 || sb->nr_blocks > FTPOOL_MAX_BLOCKS) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                    "%u RAM blocks (1 to %d)", sb->nr_blocks, FTPOOL_MAX_BLOCKS);
        return FALSE;
    }
    for (unsigned i = 0; i < sb->nr_blocks; i++) {
        const FtPoolBlock *b = &sb->blocks[i];

        if (!memchr(b->idstr, 0, FTPOOL_BLOCK_ID_LEN) || !b->idstr[0]) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                        "block %u has no name", i);
            return FALSE;
        }
        if (b->offset % FTPOOL_BLOCK_ALIGN || b->offset < FTPOOL_SB_SIZE ||
            b->offset + b->length > sb->pool_size ||
            b->offset + b->length < b->offset) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                        "block %s at 0x%" PRIx64 " +0x%" PRIx64 " is "
                        "misaligned or outside the pool", b->idstr, b->offset,
                        b->length);
            return FALSE;
        }
        for (unsigned j = 0; j < 2; j++) {
            if (overlap(b->offset, b->length, sb->slot_offset[j],
                        sb->slot_size)) {
                g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                            "block %s overlaps slot %c", b->idstr, 'A' + j);
                return FALSE;
            }
        }
        for (unsigned j = 0; j < i; j++) {
            if (overlap(b->offset, b->length, sb->blocks[j].offset,
                        sb->blocks[j].length)) {
                g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                            "blocks %s and %s overlap", b->idstr,
                            sb->blocks[j].idstr);
                return FALSE;
            }
        }
    }
    for (unsigned j = 0; j < 2; j++) {
        uint64_t need = FTPOOL_SLOT_HDR_SIZE + records_bytes(sb) +
                        sb->slot_max_pages * FTPOOL_PAGE_SIZE +
                        sb->slot_max_devstate + sb->slot_max_disk;

        if (sb->slot_size < need || sb->slot_offset[j] % FTPOOL_PAGE_SIZE ||
            sb->slot_offset[j] + sb->slot_size > sb->pool_size) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                        "slot %c (0x%" PRIx64 " +0x%" PRIx64 ") is too small "
                        "or outside the pool", 'A' + j, sb->slot_offset[j],
                        sb->slot_size);
            return FALSE;
        }
    }
    if (overlap(sb->slot_offset[0], sb->slot_size, sb->slot_offset[1],
                sb->slot_size)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                    "slots A and B overlap");
        return FALSE;
    }
    if (sb->log_size && (sb->log_size % FTPOOL_LOG_ALIGN ||
        sb->log_offset % FTPOOL_PAGE_SIZE ||
        sb->log_offset + sb->log_size > sb->pool_size ||
        overlap(sb->log_offset, sb->log_size, sb->slot_offset[0],
                sb->slot_size) ||
        overlap(sb->log_offset, sb->log_size, sb->slot_offset[1],
                sb->slot_size))) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_LAYOUT,
                    "the I/O log (0x%" PRIx64 " +0x%" PRIx64 ") is misaligned, "
                    "overlaps a slot or leaves the pool", sb->log_offset,
                    sb->log_size);
        return FALSE;
    }
    return TRUE;
}

static FtPool *map_pool(const char *path, int fd, uint64_t size,
                        gboolean writable, GError **error)
{
    void *map = mmap(NULL, size, PROT_READ | (writable ? PROT_WRITE : 0),
                     MAP_SHARED, fd, 0);
    FtPool *pool;

    if (map == MAP_FAILED) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO,
                    "%s: cannot map %" PRIu64 " bytes: %s", path, size,
                    g_strerror(errno));
        close(fd);
        return NULL;
    }
    pool = g_new0(FtPool, 1);
    pool->path = g_strdup(path);
    pool->fd = fd;
    pool->map = map;
    pool->size = size;
    pool->writable = writable;
    pool->sb = map;
    return pool;
}

/*
 * Coherent pool memory only (docs/design.md, "Memory model and flush"):
 * the same refusal, in the same words, as QEMU's.
 */
static gboolean check_coherent(GError **error)
{
    const char *flush = g_getenv("FTPOOL_FLUSH");

    if (flush && *flush && strcmp(flush, "coherent")) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "FTPOOL_FLUSH=%s: only coherent pool memory is supported "
                    "(CXL 3 with hardware coherence, DAX, tmpfs); "
                    "non-coherent memory would need the base image and the "
                    "commit word written back and the standby's reads "
                    "invalidated", flush);
        return FALSE;
    }
    return TRUE;
}

FtPool *ftpool_create(const char *path, const FtPoolSpec *spec, GError **error)
{
    FtPoolSuperblock sb = { 0 };
    uint64_t off, pages = 0;
    FtPool *pool;
    int fd;

    if (!check_coherent(error)) {
        return NULL;
    }
    if (spec->nr_blocks == 0 || spec->nr_blocks > FTPOOL_MAX_BLOCKS) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                    "%u RAM blocks, a pool holds 1 to %d", spec->nr_blocks,
                    FTPOOL_MAX_BLOCKS);
        return NULL;
    }
    memcpy(sb.magic, FTPOOL_MAGIC, 8);
    sb.version = FTPOOL_VERSION;
    sb.sb_size = FTPOOL_SB_SIZE;
    sb.page_size = FTPOOL_PAGE_SIZE;
    sb.nr_blocks = spec->nr_blocks;
    memcpy(sb.vm_uuid, spec->vm_uuid, 16);
    sb.created_ns = g_get_real_time() * 1000;
    off = align_up(FTPOOL_SB_SIZE, FTPOOL_BLOCK_ALIGN);
    sb.base_offset = off;
    for (unsigned i = 0; i < spec->nr_blocks; i++) {
        const FtPoolBlockSpec *b = &spec->blocks[i];

        if (!b->idstr[0] || strlen(b->idstr) >= FTPOOL_BLOCK_ID_LEN ||
            b->length == 0) {
            g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_INVALID,
                        "block %u: empty or too long a name, or no bytes", i);
            return NULL;
        }
        g_strlcpy(sb.blocks[i].idstr, b->idstr, FTPOOL_BLOCK_ID_LEN);
        sb.blocks[i].offset = off;
        sb.blocks[i].length = b->length;
        pages += (b->length + FTPOOL_PAGE_SIZE - 1) / FTPOOL_PAGE_SIZE;
        off = align_up(off + b->length, FTPOOL_BLOCK_ALIGN);
    }
    sb.base_size = off - sb.base_offset;
    sb.slot_max_pages = spec->slot_max_pages ? spec->slot_max_pages : pages;
    sb.slot_max_devstate = align_up(spec->slot_max_devstate, FTPOOL_PAGE_SIZE);
    sb.slot_max_disk = align_up(spec->slot_max_disk, FTPOOL_PAGE_SIZE);
    sb.slot_size = align_up(FTPOOL_SLOT_HDR_SIZE + records_bytes(&sb) +
                            sb.slot_max_pages * FTPOOL_PAGE_SIZE +
                            sb.slot_max_devstate + sb.slot_max_disk,
                            FTPOOL_BLOCK_ALIGN);
    sb.slot_offset[0] = off;
    sb.slot_offset[1] = off + sb.slot_size;
    off += 2 * sb.slot_size;
    if (spec->log_size) {
        sb.log_offset = off;
        sb.log_size = align_up(spec->log_size, FTPOOL_PAGE_SIZE);
        off += sb.log_size;
    }
    sb.pool_size = off;
    sb.layout_crc = layout_crc(&sb);
    sb.commit = ftpool_commit_word(1, 0, 0);

    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO,
                    "%s: cannot create the pool (a pool is never reused): %s",
                    path, g_strerror(errno));
        return NULL;
    }
    if (ftruncate(fd, sb.pool_size) < 0) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO,
                    "%s: cannot size it to %" PRIu64 " bytes: %s", path,
                    sb.pool_size, g_strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    pool = map_pool(path, fd, sb.pool_size, TRUE, error);
    if (!pool) {
        unlink(path);
        return NULL;
    }
    memcpy(pool->sb, &sb, sizeof(sb));
    ftpool_flush(pool->sb, sizeof(sb));
    return pool;
}

FtPool *ftpool_open(const char *path, gboolean writable, GError **error)
{
    FtPoolSuperblock sb;
    g_autoptr(GError) err = NULL;
    struct stat st;
    int fd;

    if (!check_coherent(error)) {
        return NULL;
    }
    fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO, "%s: %s", path,
                    g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    if ((uint64_t)st.st_size < sizeof(sb) ||
        pread(fd, &sb, sizeof(sb), 0) != (ssize_t)sizeof(sb)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_TOO_SHORT,
                    "%s: %" PRIu64 " bytes, shorter than a superblock (%zu)",
                    path, (uint64_t)st.st_size, sizeof(sb));
        close(fd);
        return NULL;
    }
    if (!ftpool_check_superblock(&sb, st.st_size, &err)) {
        g_set_error(error, FTPOOL_ERROR, err->code, "%s: %s", path,
                    err->message);
        close(fd);
        return NULL;
    }
    return map_pool(path, fd, sb.pool_size, writable, error);
}

void ftpool_close(FtPool *pool)
{
    if (!pool) {
        return;
    }
    munmap(pool->map, pool->size);
    close(pool->fd);
    g_free(pool->path);
    g_free(pool);
}

uint64_t ftpool_load_commit(FtPool *pool)
{
    return __atomic_load_n(&pool->sb->commit, __ATOMIC_ACQUIRE);
}

uint64_t ftpool_load_disk_intent(FtPool *pool)
{
    return __atomic_load_n(&pool->sb->disk_intent, __ATOMIC_SEQ_CST);
}

gboolean ftpool_cas_commit(FtPool *pool, uint64_t expected, uint64_t desired,
                           uint64_t *actual)
{
    gboolean ok = __atomic_compare_exchange_n(&pool->sb->commit, &expected,
                                              desired, FALSE, __ATOMIC_SEQ_CST,
                                              __ATOMIC_SEQ_CST);

    if (actual) {
        *actual = ok ? desired : expected;
    }
    return ok;
}

FtPoolSlotHeader *ftpool_slot_header(FtPool *pool, unsigned slot)
{
    return (FtPoolSlotHeader *)(pool->map + pool->sb->slot_offset[slot & 1]);
}

FtPoolPageRecord *ftpool_slot_records(FtPool *pool, unsigned slot)
{
    return (FtPoolPageRecord *)((uint8_t *)ftpool_slot_header(pool, slot) +
                                FTPOOL_SLOT_HDR_SIZE);
}

uint8_t *ftpool_slot_data(FtPool *pool, unsigned slot)
{
    return (uint8_t *)ftpool_slot_header(pool, slot) + FTPOOL_SLOT_HDR_SIZE +
           records_bytes(pool->sb);
}

uint8_t *ftpool_slot_devstate(FtPool *pool, unsigned slot)
{
    return ftpool_slot_data(pool, slot) +
           pool->sb->slot_max_pages * FTPOOL_PAGE_SIZE;
}

uint8_t *ftpool_slot_disk(FtPool *pool, unsigned slot)
{
    return ftpool_slot_devstate(pool, slot) + pool->sb->slot_max_devstate;
}

const FtPoolBlock *ftpool_find_block(FtPool *pool, const char *idstr)
{
    for (unsigned i = 0; i < pool->sb->nr_blocks; i++) {
        if (!strcmp(pool->sb->blocks[i].idstr, idstr)) {
            return &pool->sb->blocks[i];
        }
    }
    return NULL;
}

const char *ftpool_slot_state_name(FtPoolSlotState state)
{
    static const char *const names[] = {
        [FTPOOL_SLOT_EMPTY] = "empty",
        [FTPOOL_SLOT_COMMITTED] = "committed",
        [FTPOOL_SLOT_OLDER] = "older",
        [FTPOOL_SLOT_PENDING] = "pending",
        [FTPOOL_SLOT_TORN] = "torn",
    };
    return names[state];
}
