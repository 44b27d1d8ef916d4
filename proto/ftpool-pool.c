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

gboolean ftpool_set_fault(GError **error, const FtPoolFault *f,
                          const char *prefix)
{
    if (prefix) {
        g_set_error(error, FTPOOL_ERROR, f->code, "%s: %s", prefix, f->msg);
    } else {
        g_set_error_literal(error, FTPOOL_ERROR, f->code, f->msg);
    }
    return FALSE;
}

gboolean ftpool_check_superblock(const FtPoolSuperblock *sb, uint64_t file_size,
                                 GError **error)
{
    FtPoolFault f;

    return ftpool_sb_check(sb, file_size, &f) ||
           ftpool_set_fault(error, &f, NULL);
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
    FtPoolFault f;

    return ftpool_check_coherent(g_getenv("FTPOOL_FLUSH"), &f) ||
           ftpool_set_fault(error, &f, NULL);
}

FtPool *ftpool_create(const char *path, const FtPoolSpec *spec, GError **error)
{
    FtPoolSuperblock sb;
    FtPoolFault f;
    FtPool *pool;
    int fd;

    if (!check_coherent(error)) {
        return NULL;
    }
    if (!ftpool_layout_init(&sb, spec, g_get_real_time() * 1000, &f)) {
        ftpool_set_fault(error, &f, path);
        return NULL;
    }
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
                                ftpool_slot_records_at(pool->sb));
}

uint8_t *ftpool_slot_data(FtPool *pool, unsigned slot)
{
    return (uint8_t *)ftpool_slot_header(pool, slot) +
           ftpool_slot_data_at(pool->sb);
}

uint8_t *ftpool_slot_devstate(FtPool *pool, unsigned slot)
{
    return (uint8_t *)ftpool_slot_header(pool, slot) +
           ftpool_slot_devstate_at(pool->sb);
}

uint8_t *ftpool_slot_disk(FtPool *pool, unsigned slot)
{
    return (uint8_t *)ftpool_slot_header(pool, slot) +
           ftpool_slot_disk_at(pool->sb);
}

const FtPoolBlock *ftpool_find_block(FtPool *pool, const char *idstr)
{
    return ftpool_find_block_sb(pool->sb, idstr);
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
