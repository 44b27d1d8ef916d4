/*
 * A pool as JSON (ftpool-inspect --json).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ftpool-lib.h"

static void member_int(JsonBuilder *b, const char *name, int64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

JsonNode *ftpool_to_json(FtPool *pool, gboolean verify)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    const FtPoolSuperblock *sb = pool->sb;
    uint64_t word = ftpool_load_commit(pool);
    uint64_t intent = ftpool_load_disk_intent(pool);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, pool->path);
    member_int(b, "version", sb->version);
    member_int(b, "pool-size", sb->pool_size);
    member_int(b, "base-offset", sb->base_offset);
    member_int(b, "base-size", sb->base_size);
    json_builder_set_member_name(b, "blocks");
    json_builder_begin_array(b);
    for (unsigned i = 0; i < sb->nr_blocks; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, sb->blocks[i].idstr);
        member_int(b, "offset", sb->blocks[i].offset);
        member_int(b, "length", sb->blocks[i].length);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "commit");
    json_builder_begin_object(b);
    member_int(b, "generation", ftpool_commit_generation(word));
    member_int(b, "epoch", ftpool_commit_epoch(word));
    json_builder_set_member_name(b, "slot");
    json_builder_add_string_value(b, ftpool_commit_slot(word) ? "B" : "A");
    json_builder_set_member_name(b, "retired");
    json_builder_add_boolean_value(b, ftpool_commit_retired(word));
    json_builder_end_object(b);
    if (ftpool_commit_retired(word)) {
        g_autofree char *reason = g_strndup(sb->retire_reason,
                                            sizeof(sb->retire_reason));

        json_builder_set_member_name(b, "retire-reason");
        json_builder_add_string_value(b, reason);
    }
    json_builder_set_member_name(b, "disk-intent");
    if (intent) {
        json_builder_begin_object(b);
        member_int(b, "generation", ftpool_commit_generation(intent));
        member_int(b, "epoch", ftpool_commit_epoch(intent));
        json_builder_end_object(b);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "slots");
    json_builder_begin_array(b);
    for (unsigned s = 0; s < 2; s++) {
        const FtPoolSlotHeader *h = ftpool_slot_header(pool, s);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, s ? "B" : "A");
        member_int(b, "offset", sb->slot_offset[s]);
        json_builder_set_member_name(b, "state");
        json_builder_add_string_value(b,
            ftpool_slot_state_name(ftpool_slot_state(pool, s)));
        member_int(b, "generation", h->generation);
        member_int(b, "epoch", h->epoch);
        member_int(b, "pages", h->nr_pages);
        member_int(b, "devstate-bytes", h->devstate_len);
        member_int(b, "pause-ns", h->pause_ns);
        member_int(b, "disk-records", h->disk_records);
        member_int(b, "disk-bytes", h->disk_len);
        member_int(b, "log-start", h->log_start);
        member_int(b, "log-seq", h->log_seq);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    member_int(b, "slot-size", sb->slot_size);
    member_int(b, "slot-max-pages", sb->slot_max_pages);
    member_int(b, "slot-max-devstate", sb->slot_max_devstate);
    member_int(b, "slot-max-disk", sb->slot_max_disk);
    member_int(b, "log-offset", sb->log_offset);
    member_int(b, "log-size", sb->log_size);
    member_int(b, "applied-epoch", sb->stat_applied_epoch);
    member_int(b, "last-pause-ns", sb->stat_last_pause_ns);
    member_int(b, "last-dirty-pages", sb->stat_last_dirty_pages);
    if (verify) {
        g_autoptr(GError) err = NULL;
        gboolean ok = ftpool_verify_committed(pool, NULL, &err);

        json_builder_set_member_name(b, "verify");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "ok");
        json_builder_add_boolean_value(b, ok);
        json_builder_set_member_name(b, "error");
        if (ok) {
            json_builder_add_null_value(b);
        } else {
            json_builder_add_string_value(b, err->message);
        }
        if (ok) {
            FtPoolLogEnd end;
            g_autoptr(GPtrArray) recs = ftpool_log_pending(pool, &end, NULL);

            member_int(b, "log-pending", recs ? recs->len : 0);
            json_builder_set_member_name(b, "log-end");
            json_builder_add_string_value(b, ftpool_log_end_name(end));
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *ftpool_log_to_json(FtPool *pool, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    FtPoolLogEnd end;
    g_autoptr(GPtrArray) recs = ftpool_log_pending(pool, &end, error);

    if (!recs) {
        return NULL;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "records");
    json_builder_begin_array(b);
    for (guint i = 0; i < recs->len; i++) {
        const FtPoolLogEntry *e = g_ptr_array_index(recs, i);
        g_autoptr(GString) hex = g_string_sized_new(e->len * 2);

        for (uint32_t k = 0; k < e->len; k++) {
            g_string_append_printf(hex, "%02x", e->data[k]);
        }
        json_builder_begin_object(b);
        member_int(b, "seq", e->seq);
        member_int(b, "epoch", e->epoch);
        member_int(b, "source", e->source);
        member_int(b, "len", e->len);
        json_builder_set_member_name(b, "data");
        json_builder_add_string_value(b, hex->str);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "end");
    json_builder_add_string_value(b, ftpool_log_end_name(end));
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
