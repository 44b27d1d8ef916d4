/*
 * The committed image: base image with the committed slot's pages laid
 * over it, read without writing the pool.  Its SHA-256 is the digest QEMU
 * records (ft-start x-digest-log) and returns (ft-promote x-digest).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ftpool-lib.h"

/* The committed slot's page for base offset @off, or NULL. */
static const uint8_t *slot_page(FtPool *pool, GHashTable *index, uint64_t off)
{
    gpointer i;

    if (!index || !g_hash_table_lookup_extended(index, &off, NULL, &i)) {
        return NULL;
    }
    return ftpool_slot_data(pool, ftpool_commit_slot(ftpool_load_commit(pool))) +
           (GPOINTER_TO_SIZE(i) - 1) * FTPOOL_PAGE_SIZE;
}

static GHashTable *committed_index(FtPool *pool, GError **error)
{
    uint64_t word = ftpool_load_commit(pool);
    GHashTable *index;
    const FtPoolPageRecord *rec;
    FtPoolVerifyReport r;

    if (!ftpool_verify_committed(pool, &r, error)) {
        return NULL;
    }
    index = g_hash_table_new(g_int64_hash, g_int64_equal);
    rec = ftpool_slot_records(pool, ftpool_commit_slot(word));
    for (uint64_t i = 0; i < r.nr_pages; i++) {
        /* later records win, as in a redo */
        g_hash_table_insert(index, (gpointer)&rec[i].offset,
                            GSIZE_TO_POINTER(i + 1));
    }
    return index;
}

typedef void (*PageFn)(const uint8_t *page, size_t len, gpointer opaque);

static void walk_block(FtPool *pool, GHashTable *index, const FtPoolBlock *b,
                       PageFn fn, gpointer opaque)
{
    for (uint64_t off = 0; off < b->length; off += FTPOOL_PAGE_SIZE) {
        const uint8_t *page = slot_page(pool, index, b->offset + off);
        size_t n = MIN(FTPOOL_PAGE_SIZE, b->length - off);

        fn(page ? page : pool->map + b->offset + off, n, opaque);
    }
}

static void sum_page(const uint8_t *page, size_t len, gpointer opaque)
{
    GChecksum **sums = opaque;

    g_checksum_update(sums[0], page, len);
    if (sums[1]) {
        g_checksum_update(sums[1], page, len);
    }
}

char *ftpool_digest_committed(FtPool *pool, GPtrArray *per_block,
                              GError **error)
{
    g_autoptr(GHashTable) index = committed_index(pool, error);
    g_autoptr(GChecksum) total = g_checksum_new(G_CHECKSUM_SHA256);

    if (!index) {
        return NULL;
    }
    for (unsigned i = 0; i < pool->sb->nr_blocks; i++) {
        g_autoptr(GChecksum) block = per_block ?
            g_checksum_new(G_CHECKSUM_SHA256) : NULL;
        GChecksum *sums[2] = { total, block };

        walk_block(pool, index, &pool->sb->blocks[i], sum_page, sums);
        if (per_block) {
            g_ptr_array_add(per_block, g_strdup(g_checksum_get_string(block)));
        }
    }
    return g_strdup(g_checksum_get_string(total));
}

static void write_page(const uint8_t *page, size_t len, gpointer opaque)
{
    FILE *f = opaque;

    fwrite(page, 1, len, f);
}

gboolean ftpool_export_block(FtPool *pool, const char *idstr,
                             const char *path, GError **error)
{
    const FtPoolBlock *b = ftpool_find_block(pool, idstr);
    g_autoptr(GHashTable) index = NULL;
    FILE *f;

    if (!b) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_NOT_FOUND,
                    "the pool has no RAM block %s", idstr);
        return FALSE;
    }
    index = committed_index(pool, error);
    if (!index) {
        return FALSE;
    }
    f = fopen(path, "wb");
    if (!f) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO, "%s: %s", path,
                    g_strerror(errno));
        return FALSE;
    }
    walk_block(pool, index, b, write_page, f);
    if (ferror(f) | fclose(f)) {
        g_set_error(error, FTPOOL_ERROR, FTPOOL_ERROR_IO, "%s: write failed",
                    path);
        return FALSE;
    }
    return TRUE;
}
