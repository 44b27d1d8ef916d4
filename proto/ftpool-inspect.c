/*
 * ftpool-inspect [--json] [--verify] [--digest] [--log-records] [--export-block ID --output FILE] POOL
 * Exit 0 ok, 1 the committed slot fails verification, 2 usage, I/O or an
 * invalid pool.  --json gives the pool offset of every field and region
 * (ftpool_to_json, ftpool-lib.h): tests read and corrupt pools through it.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>

#include "ftpool-lib.h"

static void dump(FtPool *pool)
{
    const FtPoolSuperblock *sb = pool->sb;
    uint64_t word = ftpool_load_commit(pool);
    uint64_t intent = ftpool_load_disk_intent(pool);

    printf("pool %s: version %u, %" PRIu64 " bytes\n", pool->path, sb->version,
           sb->pool_size);
    printf("commit word: generation %" PRIu64 ", epoch %" PRIu64 ", slot %c%s\n",
           ftpool_commit_generation(word), ftpool_commit_epoch(word),
           ftpool_commit_slot(word) ? 'B' : 'A',
           ftpool_commit_retired(word) ? ", retired" : "");
    if (ftpool_commit_retired(word)) {
        printf("retired: %.*s\n", (int)sizeof(sb->retire_reason),
               sb->retire_reason);
    }
    if (intent) {
        printf("disk intent: generation %" PRIu64 " writes epoch %" PRIu64
               " to the disk images\n", ftpool_commit_generation(intent),
               ftpool_commit_epoch(intent));
    }
    printf("base image at 0x%" PRIx64 ", %u blocks:\n", sb->base_offset,
           sb->nr_blocks);
    for (unsigned i = 0; i < sb->nr_blocks; i++) {
        printf("  %-32s offset 0x%-10" PRIx64 " length %" PRIu64 "\n",
               sb->blocks[i].idstr, sb->blocks[i].offset, sb->blocks[i].length);
    }
    for (unsigned s = 0; s < 2; s++) {
        const FtPoolSlotHeader *h = ftpool_slot_header(pool, s);

        printf("slot %c at 0x%" PRIx64 ": %s, generation %" PRIu64 " epoch %"
               PRIu64 ", %" PRIu64 " pages, %" PRIu64 " bytes device state\n",
               'A' + s, sb->slot_offset[s],
               ftpool_slot_state_name(ftpool_slot_state(pool, s)),
               h->generation, h->epoch, h->nr_pages, h->devstate_len);
    }
    if (sb->log_size) {
        printf("I/O log at 0x%" PRIx64 ", %" PRIu64 " bytes\n", sb->log_offset,
               sb->log_size);
    } else {
        printf("no I/O log\n");
    }
    printf("applied epoch %" PRIu64 ", last pause %" PRIu64 " ns, last dirty "
           "pages %" PRIu64 "\n", sb->stat_applied_epoch,
           sb->stat_last_pause_ns, sb->stat_last_dirty_pages);
}

int main(int argc, char **argv)
{
    gboolean json = FALSE, verify = FALSE, digest = FALSE, log_records = FALSE;
    g_autofree char *export_id = NULL, *output = NULL;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json,
          "Print JSON: the layout, states and the pool offset of every "
          "superblock field, slot header field and slot region", NULL },
        { "verify", 0, 0, G_OPTION_ARG_NONE, &verify,
          "Verify the committed slot (as a promotion would)", NULL },
        { "digest", 0, 0, G_OPTION_ARG_NONE, &digest,
          "SHA-256 of the committed RAM image", NULL },
        { "export-block", 0, 0, G_OPTION_ARG_STRING, &export_id,
          "Write a block's committed image to --output", "ID" },
        { "output", 0, 0, G_OPTION_ARG_FILENAME, &output, "Output file", "FILE" },
        { "log-records", 0, 0, G_OPTION_ARG_NONE, &log_records,
          "Print the RX log records a promotion would replay, as JSON", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("POOL");
    g_autoptr(GError) err = NULL;
    g_autoptr(FtPool) pool = NULL;
    g_autoptr(JsonNode) node = NULL;
    g_autofree char *sum = NULL;

    g_option_context_set_summary(ctx, "Dump and check a qemu-ft pool.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "ftpool-inspect: %s\n", err->message);
        return 2;
    }
    if (argc != 2 || (!export_id != !output)) {
        fprintf(stderr, "ftpool-inspect: usage: ftpool-inspect [--json] "
                "[--verify] [--digest] [--log-records] [--export-block ID --output FILE] POOL\n");
        return 2;
    }
    pool = ftpool_open(argv[1], FALSE, &err);
    if (!pool) {
        fprintf(stderr, "ftpool-inspect: %s\n", err->message);
        return 2;
    }
    if (log_records) {
        g_autoptr(JsonNode) recs = ftpool_log_to_json(pool, &err);
        g_autofree char *text = NULL;

        if (!recs) {
            fprintf(stderr, "ftpool-inspect: %s\n", err->message);
            return 1;
        }
        text = json_to_string(recs, FALSE);
        printf("%s\n", text);
        return 0;
    }
    if (json) {
        g_autofree char *text = NULL;

        node = ftpool_to_json(pool, verify);
        text = json_to_string(node, TRUE);
        printf("%s\n", text);
    } else {
        dump(pool);
    }
    if (verify || digest || export_id) {
        FtPoolVerifyReport r;

        if (!ftpool_verify_committed(pool, &r, &err)) {
            fprintf(stderr, "ftpool-inspect: %s: %s\n", argv[1], err->message);
            return err->code == FTPOOL_ERROR_NOTHING_COMMITTED ? 1 : 1;
        }
        if (!json) {
            printf("verify: ok: generation %" PRIu64 " epoch %" PRIu64
                   " slot %c, %" PRIu64 " pages, %" PRIu64 " bytes device "
                   "state, %" PRIu64 " disk records (%" PRIu64 " bytes)\n",
                   r.generation, r.epoch, 'A' + r.slot, r.nr_pages,
                   r.devstate_len, r.disk_records, r.disk_len);
        }
        if (!json && pool->sb->log_size) {
            FtPoolLogEnd end;
            g_autoptr(GPtrArray) recs = ftpool_log_pending(pool, &end, &err);

            if (!recs) {
                fprintf(stderr, "ftpool-inspect: %s\n", err->message);
                return 1;
            }
            printf("log: %u records to replay", recs->len);
            if (recs->len) {
                const FtPoolLogEntry *a = g_ptr_array_index(recs, 0);
                const FtPoolLogEntry *z = g_ptr_array_index(recs, recs->len - 1);

                printf(" (seq %" PRIu64 "..%" PRIu64 ", epochs %" PRIu64
                       "..%" PRIu64 ")", a->seq, z->seq, a->epoch, z->epoch);
            }
            printf(", then %s\n", ftpool_log_end_name(end));
        }
    }
    if (digest) {
        sum = ftpool_digest_committed(pool, NULL, &err);
        if (!sum) {
            fprintf(stderr, "ftpool-inspect: %s\n", err->message);
            return 1;
        }
        printf("sha256 %s\n", sum);
    }
    if (export_id && !ftpool_export_block(pool, export_id, output, &err)) {
        fprintf(stderr, "ftpool-inspect: %s\n", err->message);
        return err->code == FTPOOL_ERROR_NOT_FOUND ||
               err->code == FTPOOL_ERROR_IO ? 2 : 1;
    }
    return 0;
}
