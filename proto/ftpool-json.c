/*
 * A pool as JSON (ftpool-inspect --json).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stddef.h>

#include "ftpool-lib.h"

static void member_int(JsonBuilder *b, const char *name, int64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, v);
}

#define SB_OFF(field)   offsetof(FtPoolSuperblock, field)

typedef struct FieldOffset {
    const char *name;
    size_t offset;
} FieldOffset;

#define SB_FIELD(name, field)   { name, offsetof(FtPoolSuperblock, field) }
#define HDR_FIELD(name, field)  { name, offsetof(FtPoolSlotHeader, field) }

/*
 * Where each superblock and slot header field is: tests that corrupt or
 * read the pool take offsets from here, never from constants of their own.
 */
static const FieldOffset sb_fields[] = {
    SB_FIELD("magic", magic), SB_FIELD("version", version),
    SB_FIELD("sb-size", sb_size), SB_FIELD("pool-size", pool_size),
    SB_FIELD("page-size", page_size), SB_FIELD("nr-blocks", nr_blocks),
    SB_FIELD("vm-uuid", vm_uuid), SB_FIELD("created-ns", created_ns),
    SB_FIELD("base-offset", base_offset), SB_FIELD("base-size", base_size),
    SB_FIELD("slot-size", slot_size),
    SB_FIELD("slot-max-pages", slot_max_pages),
    SB_FIELD("slot-max-devstate", slot_max_devstate),
    SB_FIELD("slot-max-disk", slot_max_disk),
    SB_FIELD("log-offset", log_offset), SB_FIELD("log-size", log_size),
    SB_FIELD("blocks", blocks), SB_FIELD("layout-crc", layout_crc),
    SB_FIELD("commit", commit),
    SB_FIELD("stat-applied-epoch", stat_applied_epoch),
    SB_FIELD("stat-commit-ns", stat_commit_ns),
    SB_FIELD("stat-last-pause-ns", stat_last_pause_ns),
    SB_FIELD("stat-last-dirty-pages", stat_last_dirty_pages),
    SB_FIELD("disk-intent", disk_intent),
    SB_FIELD("retire-reason", retire_reason),
};

static const FieldOffset hdr_fields[] = {
    HDR_FIELD("magic", magic), HDR_FIELD("generation", generation),
    HDR_FIELD("epoch", epoch), HDR_FIELD("slot", slot),
    HDR_FIELD("page-size", page_size), HDR_FIELD("nr-pages", nr_pages),
    HDR_FIELD("records-offset", records_offset),
    HDR_FIELD("data-offset", data_offset),
    HDR_FIELD("devstate-offset", devstate_offset),
    HDR_FIELD("devstate-len", devstate_len),
    HDR_FIELD("records-crc", records_crc),
    HDR_FIELD("devstate-crc", devstate_crc),
    HDR_FIELD("pause-ns", pause_ns), HDR_FIELD("created-ns", created_ns),
    HDR_FIELD("log-start", log_start), HDR_FIELD("log-seq", log_seq),
    HDR_FIELD("disk-offset", disk_offset), HDR_FIELD("disk-len", disk_len),
    HDR_FIELD("disk-records", disk_records),
    HDR_FIELD("disk-crc", disk_crc), HDR_FIELD("header-crc", header_crc),
};

/* The members field: @base + its offset, into the open object. */
static void add_field_offsets(JsonBuilder *b, const FieldOffset *f, size_t n,
                              uint64_t base)
{
    for (size_t i = 0; i < n; i++) {
        member_int(b, f[i].name, base + f[i].offset);
    }
}

static void superblock_offsets(JsonBuilder *b)
{
    json_builder_set_member_name(b, "superblock-offsets");
    json_builder_begin_object(b);
    add_field_offsets(b, sb_fields, G_N_ELEMENTS(sb_fields), 0);
    json_builder_set_member_name(b, "slot-offset");
    json_builder_begin_array(b);
    json_builder_add_int_value(b, SB_OFF(slot_offset[0]));
    json_builder_add_int_value(b, SB_OFF(slot_offset[1]));
    json_builder_end_array(b);
    member_int(b, "block-size", sizeof(FtPoolBlock));
    json_builder_end_object(b);
}

/* The pool offset of each field of the slot header at @slot_off. */
static void header_offsets(JsonBuilder *b, uint64_t slot_off)
{
    json_builder_set_member_name(b, "header-offsets");
    json_builder_begin_object(b);
    add_field_offsets(b, hdr_fields, G_N_ELEMENTS(hdr_fields), slot_off);
    json_builder_end_object(b);
}

/*
 * The pool offsets of a slot's regions, as its header gives them; null
 * where the header is not valid (an empty or torn slot: its offsets are
 * garbage).
 */
static void region_offset(JsonBuilder *b, const char *name, gboolean valid,
                          uint64_t off)
{
    json_builder_set_member_name(b, name);
    if (valid) {
        json_builder_add_int_value(b, off);
    } else {
        json_builder_add_null_value(b);
    }
}

static void slot_regions(JsonBuilder *b, const FtPoolSuperblock *sb,
                         unsigned s, const FtPoolSlotHeader *h)
{
    gboolean valid = ftpool_slot_header_valid(h);
    uint64_t off = sb->slot_offset[s];

    member_int(b, "index", s);
    member_int(b, "size", sb->slot_size);
    header_offsets(b, off);
    region_offset(b, "records-offset", valid, off + h->records_offset);
    region_offset(b, "records-bytes", valid,
                  h->nr_pages * sizeof(FtPoolPageRecord));
    region_offset(b, "data-offset", valid, off + h->data_offset);
    region_offset(b, "devstate-offset", valid, off + h->devstate_offset);
    region_offset(b, "disk-offset", valid, off + h->disk_offset);
    /* where a promotion from this slot starts reading the RX log */
    region_offset(b, "log-start-offset", valid && sb->log_size,
                  sb->log_offset + (sb->log_size ? h->log_start % sb->log_size : 0));
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
    member_int(b, "page-size", sb->page_size);
    member_int(b, "page-record-size", sizeof(FtPoolPageRecord));
    member_int(b, "log-record-header-size", sizeof(FtPoolLogRecord));
    member_int(b, "disk-record-header-size", sizeof(FtPoolDiskRecord));
    superblock_offsets(b);
    json_builder_set_member_name(b, "blocks");
    json_builder_begin_array(b);
    for (unsigned i = 0; i < sb->nr_blocks; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, sb->blocks[i].idstr);
        member_int(b, "offset", sb->blocks[i].offset);
        member_int(b, "length", sb->blocks[i].length);
        member_int(b, "entry-offset", SB_OFF(blocks) + i * sizeof(FtPoolBlock));
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
    member_int(b, "slot-index", ftpool_commit_slot(word));
    member_int(b, "offset", SB_OFF(commit));
    {
        /* as a string: a generation >= 0x8000 does not fit an int64 */
        g_autofree char *hex = g_strdup_printf("0x%016" PRIx64, word);

        json_builder_set_member_name(b, "word");
        json_builder_add_string_value(b, hex);
    }
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
        slot_regions(b, sb, s, h);
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
        member_int(b, "offset", e->offset);
        member_int(b, "data-offset", e->offset + sizeof(FtPoolLogRecord));
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
