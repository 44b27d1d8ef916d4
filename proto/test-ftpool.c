/*
 * libftpool and ftpool-inspect: layout checks, slots, verification with a
 * negative control per region, digest, apply, JSON, CLI exit codes.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <check.h>
#include <inttypes.h>
#include <stddef.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ftpool-lib.h"

#define RAM_LEN     (256 * 1024)
#define BIOS_LEN    (8 * 1024)

static char *dir;
static char *path;

static void setup(void)
{
    dir = g_dir_make_tmp("test-ftpool-XXXXXX", NULL);
    path = g_build_filename(dir, "pool", NULL);
}

static void teardown(void)
{
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static FtPool *make_pool(void)
{
    static const FtPoolBlockSpec blocks[] = {
        { "ram", RAM_LEN }, { "pc.bios", BIOS_LEN },
    };
    FtPoolSpec spec = { .blocks = blocks, .nr_blocks = 2,
                        .slot_max_devstate = 4096, .slot_max_disk = 65536 };
    g_autoptr(GError) err = NULL;
    FtPool *pool = ftpool_create(path, &spec, &err);

    ck_assert_msg(pool, "%s", err ? err->message : "");
    return pool;
}

static void fill(uint8_t *page, uint8_t v)
{
    memset(page, v, FTPOOL_PAGE_SIZE);
    page[0] = v ^ 0x5a;
}

/* Epoch @epoch into @slot with pages 3, 7, 9 of "ram" and 1 of "pc.bios". */
static void write_slot(FtPool *pool, unsigned slot, uint64_t gen,
                       uint64_t epoch)
{
    const FtPoolBlock *ram = ftpool_find_block(pool, "ram");
    const FtPoolBlock *bios = ftpool_find_block(pool, "pc.bios");
    static const unsigned ram_pages[] = { 3, 7, 9 };
    uint8_t page[FTPOOL_PAGE_SIZE];
    uint8_t dev[300];
    FtPoolSlotWriter w;
    g_autoptr(GError) err = NULL;

    ftpool_slot_writer_begin(&w, pool, slot, gen, epoch);
    for (unsigned i = 0; i < 3; i++) {
        fill(page, epoch * 16 + i);
        ck_assert(ftpool_slot_writer_add_page(&w, ram->offset +
                  ram_pages[i] * FTPOOL_PAGE_SIZE, page, &err));
    }
    fill(page, 0xee);
    ck_assert(ftpool_slot_writer_add_page(&w, bios->offset + FTPOOL_PAGE_SIZE,
                                          page, &err));
    memset(dev, epoch, sizeof(dev));
    ck_assert(ftpool_slot_writer_set_devstate(&w, dev, sizeof(dev), &err));
    /* two disk writes: 300 bytes of data at 4096, zeroes at 1 MiB */
    ck_assert(ftpool_slot_writer_add_disk(&w, 0x1234, 4096, dev, sizeof(dev),
                                          &err));
    ck_assert(ftpool_slot_writer_add_disk(&w, 0x1234, 1 << 20, NULL, 65536,
                                          &err));
    ftpool_slot_writer_finish(&w);
}

static FtPool *committed_pool(void)
{
    FtPool *pool = make_pool();
    uint64_t actual;

    write_slot(pool, 1, 1, 1);
    ck_assert(ftpool_cas_commit(pool, ftpool_commit_word(1, 0, 0),
                                ftpool_commit_word(1, 1, 1), &actual));
    return pool;
}

static void expect_verify_error(FtPool *pool, int code, const char *needle)
{
    g_autoptr(GError) err = NULL;

    ck_assert(!ftpool_verify_committed(pool, NULL, &err));
    ck_assert_msg(err->code == code, "code %d, expected %d: %s", err->code,
                  code, err->message);
    ck_assert_msg(strstr(err->message, needle), "'%s' lacks '%s'",
                  err->message, needle);
}

START_TEST(test_crc)
{
    uint8_t buf[1000];

    ck_assert_uint_eq(ftpool_crc32c(0xffffffff, "123456789", 9), 0xe3069283);
    ck_assert_uint_eq(ftpool_crc32c_table(0xffffffff, "123456789", 9),
                      0xe3069283);
    for (unsigned i = 0; i < sizeof(buf); i++) {
        buf[i] = g_random_int();
    }
    for (unsigned len = 0; len < sizeof(buf); len += 37) {
        ck_assert_uint_eq(ftpool_crc32c(0xffffffff, buf + 1, len - (len > 0)),
                          ftpool_crc32c_table(0xffffffff, buf + 1,
                                              len - (len > 0)));
    }
}
END_TEST

START_TEST(test_create_open)
{
    g_autoptr(FtPool) pool = make_pool();
    g_autoptr(FtPool) again = NULL;
    g_autoptr(GError) err = NULL;
    FtPoolSpec spec = { .blocks = (FtPoolBlockSpec[]){ { "ram", 4096 } },
                        .nr_blocks = 1 };

    ck_assert_uint_eq(pool->sb->blocks[0].offset, FTPOOL_BLOCK_ALIGN);
    ck_assert_uint_eq(ftpool_load_commit(pool), ftpool_commit_word(1, 0, 0));
    again = ftpool_open(path, FALSE, &err);
    ck_assert_msg(again, "%s", err ? err->message : "");
    ck_assert_str_eq(again->sb->blocks[1].idstr, "pc.bios");
    ck_assert(!ftpool_create(path, &spec, &err) || !"created over a pool");
    ck_assert(strstr(err->message, "never reused"));
    expect_verify_error(pool, FTPOOL_ERROR_NOTHING_COMMITTED, "nothing");
}
END_TEST

/* One superblock field broken per case: the open error names it. */
START_TEST(test_superblock_errors)
{
    static const struct {
        const char *what;
        int code;
        const char *needle;
    } cases[] = {
        { "magic", FTPOOL_ERROR_MAGIC, "magic" },
        { "version", FTPOOL_ERROR_VERSION, "version 3" },
        { "crc", FTPOOL_ERROR_LAYOUT_CRC, "layout CRC mismatch" },
        { "align", FTPOOL_ERROR_LAYOUT, "block ram at 0x201000" },
        { "nblocks", FTPOOL_ERROR_LAYOUT, "33 RAM blocks" },
        { "overlap", FTPOOL_ERROR_LAYOUT, "overlaps slot A" },
        { "short", FTPOOL_ERROR_TOO_SHORT, "bytes, the pool needs" },
    };
    FtPool *pool = make_pool();
    FtPoolSuperblock *sb = pool->sb;
    g_autoptr(GError) err = NULL;
    gboolean fix_crc = TRUE;

    switch (_i) {
    case 0: sb->magic[0] ^= 1; break;
    case 1: sb->version = FTPOOL_VERSION + 1; break;
    case 2: sb->created_ns ^= 1; fix_crc = FALSE; break;
    case 3: sb->blocks[0].offset += 4096; break;
    case 4: sb->nr_blocks = 33; break;
    case 5: sb->blocks[1].offset = sb->slot_offset[0]; break;
    case 6: sb->pool_size += 4096; break;
    }
    if (fix_crc) {
        sb->layout_crc = ftpool_crc32c(0xffffffff, sb,
                                       offsetof(FtPoolSuperblock, layout_crc));
    }
    ftpool_close(pool);
    ck_assert(!ftpool_open(path, FALSE, &err));
    ck_assert_msg(err->code == cases[_i].code, "%s: code %d: %s",
                  cases[_i].what, err->code, err->message);
    ck_assert_msg(strstr(err->message, cases[_i].needle), "%s: '%s'",
                  cases[_i].what, err->message);
}
END_TEST

START_TEST(test_verify_ok_and_states)
{
    g_autoptr(FtPool) pool = committed_pool();
    FtPoolVerifyReport r;
    g_autoptr(GError) err = NULL;
    uint64_t actual;

    ck_assert_msg(ftpool_verify_committed(pool, &r, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(r.epoch, 1);
    ck_assert_uint_eq(r.nr_pages, 4);
    ck_assert_int_eq(ftpool_slot_state(pool, 1), FTPOOL_SLOT_COMMITTED);
    ck_assert_int_eq(ftpool_slot_state(pool, 0), FTPOOL_SLOT_EMPTY);

    /* A pending slot (written, never committed) is ignored. */
    write_slot(pool, 0, 1, 2);
    ck_assert_int_eq(ftpool_slot_state(pool, 0), FTPOOL_SLOT_PENDING);
    ck_assert(ftpool_verify_committed(pool, &r, NULL) && r.epoch == 1);
    /* A torn one too. */
    ftpool_slot_header(pool, 0)->epoch ^= 0x40;
    ck_assert_int_eq(ftpool_slot_state(pool, 0), FTPOOL_SLOT_TORN);
    ck_assert(ftpool_verify_committed(pool, &r, NULL) && r.epoch == 1);

    /* A stale CAS fails and reports the word it found. */
    ck_assert(!ftpool_cas_commit(pool, ftpool_commit_word(1, 0, 0),
                                 ftpool_commit_word(1, 2, 0), &actual));
    ck_assert_uint_eq(actual, ftpool_commit_word(1, 1, 1));
    /* A promotion's generation bump still verifies. */
    ck_assert(ftpool_cas_commit(pool, actual, ftpool_commit_word(2, 1, 1),
                                NULL));
    ck_assert(ftpool_verify_committed(pool, &r, NULL) && r.generation == 2);
    ck_assert_int_eq(ftpool_slot_state(pool, 1), FTPOOL_SLOT_COMMITTED);
}
END_TEST

/*
 * A retired pool is never promotable, whatever its slot holds; the
 * control is the same pool, same slot, before the retire CAS.
 */
START_TEST(test_retired_refused)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autoptr(GError) err = NULL;
    uint64_t word = ftpool_load_commit(pool);

    ck_assert(ftpool_verify_committed(pool, NULL, NULL));
    ck_assert(!ftpool_commit_retired(word));
    g_strlcpy(pool->sb->retire_reason, "ft-stop", sizeof(pool->sb->retire_reason));
    ck_assert(ftpool_cas_commit(pool, word, word | FTPOOL_COMMIT_RETIRED, NULL));
    ck_assert(ftpool_commit_retired(ftpool_load_commit(pool)));
    ck_assert_uint_eq(ftpool_commit_epoch(ftpool_load_commit(pool)), 1);
    ck_assert_uint_eq(ftpool_commit_generation(ftpool_load_commit(pool)), 1);
    ck_assert(!ftpool_verify_committed(pool, NULL, &err));
    ck_assert_int_eq(err->code, FTPOOL_ERROR_RETIRED);
    ck_assert_msg(strstr(err->message, "retired at epoch 1 (ft-stop)"), "%s",
                  err->message);
    /* The retired bit leaves the slot committed and the epoch readable. */
    ck_assert_int_eq(ftpool_slot_state(pool, 1), FTPOOL_SLOT_COMMITTED);
}
END_TEST

/*
 * Non-coherent pool memory is refused, not half served; the control is
 * the same open with FTPOOL_FLUSH=coherent.
 */
START_TEST(test_flush_mode_refused)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autofree char *path = g_strdup(pool->path);
    g_autoptr(GError) err = NULL;
    FtPool *again;

    g_setenv("FTPOOL_FLUSH", "clwb", TRUE);
    again = ftpool_open(path, FALSE, &err);
    g_setenv("FTPOOL_FLUSH", "coherent", TRUE);
    ck_assert(again == NULL);
    ck_assert_msg(strstr(err->message, "FTPOOL_FLUSH=clwb: only coherent"),
                  "%s", err->message);
    again = ftpool_open(path, FALSE, NULL);
    g_unsetenv("FTPOOL_FLUSH");
    ck_assert(again != NULL);
    ftpool_close(again);
}
END_TEST

/* After a deliberate change in slot B: every CRC made to match again. */
static void reseal(FtPool *pool, FtPoolSlotHeader *h)
{
    h->records_crc = ftpool_crc32c(0xffffffff, ftpool_slot_records(pool, 1),
                                   h->nr_pages * sizeof(FtPoolPageRecord));
    h->disk_crc = ftpool_crc32c(0xffffffff, ftpool_slot_disk(pool, 1),
                                h->disk_len);
    h->header_crc = ftpool_crc32c(0xffffffff, h,
                                  offsetof(FtPoolSlotHeader, header_crc));
}

/* Negative controls: one flipped bit per region of the committed slot. */
START_TEST(test_verify_corruption)
{
    g_autoptr(FtPool) pool = committed_pool();
    FtPoolSlotHeader *h = ftpool_slot_header(pool, 1);
    uint8_t *p;

    switch (_i) {
    case 0:
        h->epoch ^= 2;
        expect_verify_error(pool, FTPOOL_ERROR_HEADER_CRC,
                            "committed slot B (epoch 1): header CRC mismatch");
        break;
    case 1:
        p = (uint8_t *)&ftpool_slot_records(pool, 1)[2];
        p[3] ^= 1;
        expect_verify_error(pool, FTPOOL_ERROR_RECORDS_CRC,
                            "page records CRC mismatch");
        break;
    case 2:
        ftpool_slot_data(pool, 1)[2 * FTPOOL_PAGE_SIZE + 100] ^= 0x80;
        expect_verify_error(pool, FTPOOL_ERROR_PAGE_CRC,
                            "record 2: page CRC mismatch at base offset "
                            "0x209000 (block ram + 0x9000)");
        break;
    case 3:
        ftpool_slot_devstate(pool, 1)[299] ^= 1;
        expect_verify_error(pool, FTPOOL_ERROR_DEVSTATE_CRC,
                            "device state CRC mismatch (300 bytes");
        break;
    case 4:
        h->nr_pages = pool->sb->slot_max_pages + 1;
        h->header_crc = ftpool_crc32c(0xffffffff, h,
                                      offsetof(FtPoolSlotHeader, header_crc));
        expect_verify_error(pool, FTPOOL_ERROR_SLOT_BOUNDS, "do not fit");
        break;
    case 5:
        memset(h->magic, 0, 8);
        expect_verify_error(pool, FTPOOL_ERROR_SLOT_MAGIC, "no slot header");
        break;
    case 6:
        h->epoch = 7;
        h->header_crc = ftpool_crc32c(0xffffffff, h,
                                      offsetof(FtPoolSlotHeader, header_crc));
        expect_verify_error(pool, FTPOOL_ERROR_SLOT_MISMATCH,
                            "holds generation 1 epoch 7");
        break;
    case 7:
        ftpool_slot_disk(pool, 1)[sizeof(FtPoolDiskRecord) + 7] ^= 4;
        expect_verify_error(pool, FTPOOL_ERROR_DISK_CRC,
                            "disk records CRC mismatch (2 records, 368 bytes");
        break;
    case 8:
        h->disk_len = pool->sb->slot_max_disk + 8;
        h->header_crc = ftpool_crc32c(0xffffffff, h,
                                      offsetof(FtPoolSlotHeader, header_crc));
        expect_verify_error(pool, FTPOOL_ERROR_SLOT_BOUNDS,
                            "bytes of disk records do not fit");
        break;
    case 9:
        /* a page just past the "ram" block, in its alignment gap */
        ftpool_slot_records(pool, 1)[3].offset =
            ftpool_find_block(pool, "ram")->offset + RAM_LEN;
        reseal(pool, h);
        expect_verify_error(pool, FTPOOL_ERROR_RECORD_OFFSET,
                            "record 3: offset 0x240000 is not a page of the "
                            "base image");
        break;
    case 10:
        /* one record's data, the area's CRC made to match */
        ftpool_slot_disk(pool, 1)[sizeof(FtPoolDiskRecord) + 7] ^= 4;
        reseal(pool, h);
        expect_verify_error(pool, FTPOOL_ERROR_DISK_CRC,
                            "committed slot B: disk record 0 (disk id "
                            "0x00001234, 300 bytes at 4096): data CRC "
                            "mismatch");
        break;
    case 11:
        ((FtPoolDiskRecord *)ftpool_slot_disk(pool, 1))->pad = 1;
        reseal(pool, h);
        expect_verify_error(pool, FTPOOL_ERROR_DISK_RECORD,
                            "committed slot B: disk record 0 (300 bytes at "
                            "4096) does not fit");
        break;
    case 12:
        /* a data record longer than the whole area */
        ((FtPoolDiskRecord *)ftpool_slot_disk(pool, 1))->len = 1 << 20;
        reseal(pool, h);
        expect_verify_error(pool, FTPOOL_ERROR_DISK_RECORD,
                            "disk record 0 (1048576 bytes at 4096) does not "
                            "fit");
        break;
    }
}
END_TEST

/*
 * A zero write longer than the slot's whole disk area is one 32-byte
 * record and valid (QEMU's ft-disk refused it at promotion before its
 * rules moved into the core); the slot above has 64 KiB of zeroes in 368
 * bytes of disk area.
 */
START_TEST(test_long_zero_write_valid)
{
    g_autoptr(FtPool) pool = committed_pool();
    const FtPoolSlotHeader *h = ftpool_slot_header(pool, 1);
    const FtPoolDiskRecord *r =
        (const FtPoolDiskRecord *)(ftpool_slot_disk(pool, 1) + 336);
    g_autoptr(GError) err = NULL;
    FtPoolVerifyReport rep;

    ck_assert_uint_eq(h->disk_len, 368);
    ck_assert(r->flags == FTPOOL_DISK_ZERO && r->len == 65536);
    ck_assert_msg(ftpool_verify_committed(pool, &rep, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(rep.disk_records, 2);
}
END_TEST

START_TEST(test_digest_apply_export)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) blocks = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *before = ftpool_digest_committed(pool, blocks, &err);
    g_autofree char *after = NULL, *again = NULL, *file = NULL;
    g_autofree char *out = g_build_filename(dir, "ram.img", NULL);
    const FtPoolBlock *ram = ftpool_find_block(pool, "ram");
    gsize len;
    uint8_t page[FTPOOL_PAGE_SIZE];

    ck_assert_msg(before, "%s", err ? err->message : "");
    ck_assert_uint_eq(blocks->len, 2);
    /* The base does not hold epoch 1 yet: the digest is not the base's. */
    ck_assert_uint_ne(pool->map[ram->offset + 7 * FTPOOL_PAGE_SIZE], 17);
    ck_assert(ftpool_apply_slot(pool, 1, &err));
    ck_assert(ftpool_apply_slot(pool, 1, &err));          /* idempotent */
    after = ftpool_digest_committed(pool, NULL, &err);
    ck_assert_str_eq(before, after);
    ck_assert_uint_eq(pool->map[ram->offset + 7 * FTPOOL_PAGE_SIZE + 1], 17);

    ck_assert(ftpool_export_block(pool, "ram", out, &err));
    ck_assert(g_file_get_contents(out, &file, &len, NULL));
    ck_assert_uint_eq(len, RAM_LEN);
    fill(page, 16 + 2);
    ck_assert(!memcmp(file + 9 * FTPOOL_PAGE_SIZE, page, FTPOOL_PAGE_SIZE));
    ck_assert(!ftpool_export_block(pool, "nope", out, &err));
    g_unlink(out);

    /* Control: one changed byte of the base changes the digest. */
    pool->map[ram->offset + 20 * FTPOOL_PAGE_SIZE] ^= 1;
    again = ftpool_digest_committed(pool, NULL, &err);
    ck_assert_str_ne(before, again);
}
END_TEST

START_TEST(test_json)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autoptr(JsonNode) node = ftpool_to_json(pool, TRUE);
    JsonObject *o = json_node_get_object(node);
    JsonObject *commit = json_object_get_object_member(o, "commit");

    ck_assert_int_eq(json_object_get_int_member(commit, "epoch"), 1);
    ck_assert_str_eq(json_object_get_string_member(commit, "slot"), "B");
    ck_assert(json_object_get_boolean_member(
        json_object_get_object_member(o, "verify"), "ok"));
    ck_assert_uint_eq(json_array_get_length(
        json_object_get_array_member(o, "blocks")), 2);
}
END_TEST

static int64_t jint(JsonObject *o, const char *name)
{
    ck_assert_msg(json_object_has_member(o, name), "no member %s", name);
    return json_object_get_int_member(o, name);
}

static uint64_t u64_at(FtPool *pool, int64_t off)
{
    uint64_t v;

    ck_assert(off >= 0 && (uint64_t)off + 8 <= pool->size);
    memcpy(&v, pool->map + off, 8);
    return v;
}

/*
 * The offsets ftpool-inspect --json gives (what shell tests read and
 * corrupt through) point at the fields and regions they name: each is
 * checked against the bytes there and against the lib's own accessors.
 */
START_TEST(test_json_offsets)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autoptr(JsonNode) node = ftpool_to_json(pool, FALSE);
    JsonObject *o = json_node_get_object(node);
    JsonObject *sbo = json_object_get_object_member(o, "superblock-offsets");
    JsonObject *commit = json_object_get_object_member(o, "commit");
    JsonArray *blocks = json_object_get_array_member(o, "blocks");
    JsonArray *slots = json_object_get_array_member(o, "slots");
    JsonArray *so = json_object_get_array_member(sbo, "slot-offset");
    const FtPoolSuperblock *sb = pool->sb;
    uint64_t word = ftpool_load_commit(pool);
    g_autofree char *hex = g_strdup_printf("0x%016" PRIx64, word);

    /* superblock fields: the value at each offset is the field's */
    ck_assert(!memcmp(pool->map + jint(sbo, "magic"), FTPOOL_MAGIC, 8));
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "pool-size")), sb->pool_size);
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "base-offset")), sb->base_offset);
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "log-offset")), sb->log_offset);
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "slot-max-disk")),
                      sb->slot_max_disk);
    for (unsigned s = 0; s < 2; s++) {
        ck_assert_uint_eq(u64_at(pool, json_array_get_int_element(so, s)),
                          sb->slot_offset[s]);
    }
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "commit")), word);
    ck_assert_uint_eq(u64_at(pool, jint(sbo, "disk-intent")),
                      ftpool_load_disk_intent(pool));
    ck_assert_int_eq(jint(sbo, "blocks") + FTPOOL_MAX_BLOCKS *
                     jint(sbo, "block-size"), jint(sbo, "layout-crc"));
    ck_assert_int_eq(jint(o, "page-size"), FTPOOL_PAGE_SIZE);

    /* the commit word: where it is, raw and decoded */
    ck_assert_int_eq(jint(commit, "offset"), jint(sbo, "commit"));
    ck_assert_str_eq(json_object_get_string_member(commit, "word"), hex);
    ck_assert_int_eq(jint(commit, "slot-index"), 1);

    /* blocks: the base image and the superblock entry of each */
    for (unsigned i = 0; i < 2; i++) {
        JsonObject *b = json_array_get_object_element(blocks, i);
        const FtPoolBlock *fb = ftpool_find_block(pool,
            json_object_get_string_member(b, "id"));

        ck_assert_int_eq(jint(b, "offset"), fb->offset);
        ck_assert_str_eq((const char *)pool->map + jint(b, "entry-offset"),
                         fb->idstr);
        ck_assert_uint_eq(u64_at(pool, jint(b, "entry-offset") +
                                 FTPOOL_BLOCK_ID_LEN), fb->offset);
    }

    /* the committed slot B: header fields and regions */
    {
        JsonObject *b = json_array_get_object_element(slots, 1);
        JsonObject *ho = json_object_get_object_member(b, "header-offsets");
        const FtPoolSlotHeader *h = ftpool_slot_header(pool, 1);

        ck_assert_int_eq(jint(b, "index"), 1);
        ck_assert_int_eq(jint(b, "size"), sb->slot_size);
        ck_assert(!memcmp(pool->map + jint(ho, "magic"), FTPOOL_SLOT_MAGIC, 8));
        ck_assert_uint_eq(u64_at(pool, jint(ho, "epoch")), 1);
        ck_assert_uint_eq(u64_at(pool, jint(ho, "nr-pages")), 4);
        ck_assert_uint_eq(u64_at(pool, jint(ho, "disk-len")), h->disk_len);
        ck_assert_int_eq(jint(ho, "header-crc"),
                         jint(b, "offset") + offsetof(FtPoolSlotHeader, header_crc));
        ck_assert_ptr_eq(pool->map + jint(b, "records-offset"),
                         ftpool_slot_records(pool, 1));
        ck_assert_int_eq(jint(b, "records-bytes"),
                         4 * jint(o, "page-record-size"));
        ck_assert_ptr_eq(pool->map + jint(b, "data-offset"),
                         ftpool_slot_data(pool, 1));
        ck_assert_ptr_eq(pool->map + jint(b, "devstate-offset"),
                         ftpool_slot_devstate(pool, 1));
        ck_assert_ptr_eq(pool->map + jint(b, "disk-offset"),
                         ftpool_slot_disk(pool, 1));
        /* this pool has no RX log */
        ck_assert(json_object_get_null_member(b, "log-start-offset"));
    }

    /* control: slot A was never written, its regions are null */
    {
        JsonObject *a = json_array_get_object_element(slots, 0);

        ck_assert_str_eq(json_object_get_string_member(a, "state"), "empty");
        ck_assert(json_object_get_null_member(a, "records-offset"));
        ck_assert(json_object_get_null_member(a, "disk-offset"));
        ck_assert_int_eq(jint(json_object_get_object_member(a,
                         "header-offsets"), "magic"), sb->slot_offset[0]);
    }
}
END_TEST

/* A pool with a 16 KiB I/O log; epoch @epoch committed in @slot from @w. */
static void commit_with_log(FtPool *pool, FtPoolLogWriter *w, unsigned slot,
                            uint64_t epoch)
{
    FtPoolSlotWriter sw;
    uint64_t actual, word = ftpool_load_commit(pool);

    ftpool_slot_writer_begin(&sw, pool, slot, 1, epoch);
    sw.hdr.log_start = w->c.head;
    sw.hdr.log_seq = w->c.seq;
    ftpool_slot_writer_finish(&sw);
    ck_assert(ftpool_cas_commit(pool, word, ftpool_commit_word(1, epoch, slot),
                                &actual));
    w->c.tail = w->c.head;          /* older records are dead now */
    w->c.epoch = epoch + 1;
}

static void append_frames(FtPoolLogWriter *w, unsigned n, uint32_t len)
{
    uint8_t frame[2048];

    for (unsigned i = 0; i < n; i++) {
        g_autoptr(GError) err = NULL;

        memset(frame, (uint8_t)w->c.seq, sizeof(frame));
        ck_assert_msg(ftpool_log_append(w, 0xabcd, frame, len, &err), "%s",
                      err ? err->message : "");
    }
}

static FtPool *log_pool(void)
{
    static const FtPoolBlockSpec blocks[] = { { "ram", RAM_LEN } };
    FtPoolSpec spec = { .blocks = blocks, .nr_blocks = 1,
                        .slot_max_devstate = 4096, .log_size = 16384 };
    g_autoptr(GError) err = NULL;
    FtPool *pool = ftpool_create(path, &spec, &err);

    ck_assert_msg(pool, "%s", err ? err->message : "");
    return pool;
}

START_TEST(test_log_replay_wrap)
{
    g_autoptr(FtPool) pool = log_pool();
    g_autoptr(GPtrArray) first = NULL, second = NULL;
    g_autoptr(GError) err = NULL;
    FtPoolLogWriter w;
    FtPoolLogEnd end;

    ftpool_log_writer_init(&w, pool);
    commit_with_log(pool, &w, 1, 1);
    append_frames(&w, 10, 1000);            /* arrive in epoch 2 */
    first = ftpool_log_pending(pool, &end, &err);
    ck_assert_uint_eq(first->len, 10);
    ck_assert_int_eq(end, FTPOOL_LOG_END_MAGIC);

    commit_with_log(pool, &w, 0, 2);        /* those 10 are in epoch 2 */
    append_frames(&w, 8, 1000);             /* crosses the ring's end */
    ck_assert_uint_gt(w.c.head, pool->sb->log_size);
    second = ftpool_log_pending(pool, &end, &err);
    ck_assert_uint_eq(second->len, 8);
    for (unsigned i = 0; i < 8; i++) {
        const FtPoolLogEntry *e = g_ptr_array_index(second, i);

        ck_assert_uint_eq(e->seq, 11 + i);
        ck_assert_uint_eq(e->epoch, 3);
        ck_assert_uint_eq(e->source, 0xabcd);
        ck_assert_uint_eq(e->len, 1000);
        ck_assert_uint_eq(e->data[999], (uint8_t)(11 + i));
    }
    /* The JSON listing (ftpool-inspect --log-records) says the same. */
    {
        g_autoptr(JsonNode) node = ftpool_log_to_json(pool, &err);
        JsonObject *o = json_node_get_object(node);
        JsonArray *a = json_object_get_array_member(o, "records");
        JsonObject *r7 = json_array_get_object_element(a, 7);
        const char *hex = json_object_get_string_member(r7, "data");

        ck_assert_uint_eq(json_array_get_length(a), 8);
        ck_assert_uint_eq(json_object_get_int_member(r7, "seq"), 18);
        ck_assert_uint_eq(strlen(hex), 2000);
        ck_assert_str_eq(hex + 1998, "12");     /* data[999] == 18 */
        ck_assert_str_eq(json_object_get_string_member(o, "end"),
                         ftpool_log_end_name(end));
        /*
         * Each record's offsets point at its header and payload (the
         * first record after the ring's end is at the ring's start), and
         * the committed slot's log-start-offset at the first record.
         */
        for (unsigned i = 0; i < 8; i++) {
            JsonObject *r = json_array_get_object_element(a, i);
            int64_t at = json_object_get_int_member(r, "offset");
            FtPoolLogRecord rec;

            memcpy(&rec, pool->map + at, sizeof(rec));
            ck_assert_uint_eq(rec.magic, FTPOOL_LOG_MAGIC);
            ck_assert_uint_eq(rec.seq, 11 + i);
            ck_assert_int_eq(json_object_get_int_member(r, "data-offset"),
                             at + sizeof(FtPoolLogRecord));
            ck_assert_uint_eq(pool->map[at + sizeof(rec) + 999],
                              (uint8_t)(11 + i));
            ck_assert(at >= (int64_t)pool->sb->log_offset &&
                      at < (int64_t)(pool->sb->log_offset +
                                     pool->sb->log_size));
        }
        {
            g_autoptr(JsonNode) pj = ftpool_to_json(pool, FALSE);
            JsonObject *sa = json_array_get_object_element(
                json_object_get_array_member(json_node_get_object(pj),
                                             "slots"), 0);

            ck_assert_int_eq(json_object_get_int_member(sa, "log-start-offset"),
                             json_object_get_int_member(
                                 json_array_get_object_element(a, 0), "offset"));
        }
    }
    /* The ring never overwrites what the committed slot still needs. */
    ck_assert(!ftpool_log_append(&w, 1, "x", 1, NULL) ||
              w.c.head - w.c.tail <= pool->sb->log_size);
    while (ftpool_log_append(&w, 1, "x", 1, &err)) {
    }
    ck_assert_msg(strstr(err->message, "the I/O log is full"), "%s",
                  err->message);
}
END_TEST

/* Negative controls: each kind of damage ends the log where it is. */
START_TEST(test_log_torn)
{
    static const struct {
        FtPoolLogEnd end;
        unsigned replayed;
    } cases[] = {
        { FTPOOL_LOG_END_DATA_CRC, 4 },     /* last payload torn */
        { FTPOOL_LOG_END_HEADER_CRC, 0 },   /* first header torn */
        { FTPOOL_LOG_END_SEQ, 2 },          /* third from an older lap */
        { FTPOOL_LOG_END_BAD, 0 },          /* first from an old epoch */
    };
    g_autoptr(FtPool) pool = log_pool();
    g_autoptr(GPtrArray) recs = NULL;
    g_autoptr(GError) err = NULL;
    FtPoolLogWriter w;
    FtPoolLogEnd end;
    uint8_t *log = pool->map + pool->sb->log_offset;
    uint64_t rec = ftpool_log_record_size(100);
    FtPoolLogRecord *r;

    ftpool_log_writer_init(&w, pool);
    commit_with_log(pool, &w, 1, 1);
    append_frames(&w, 5, 100);
    switch (_i) {
    case 0:
        log[4 * rec + sizeof(FtPoolLogRecord) + 50] ^= 1;
        break;
    case 1:
        log[12] ^= 1;
        break;
    case 2:
    case 3:
        r = (FtPoolLogRecord *)(log + (_i == 2 ? 2 * rec : 0));
        if (_i == 2) {
            r->seq -= 3;
        } else {
            r->epoch = 1;
        }
        r->header_crc = ftpool_crc32c(0xffffffff, r,
                                      offsetof(FtPoolLogRecord, header_crc));
        break;
    }
    recs = ftpool_log_pending(pool, &end, &err);
    ck_assert_uint_eq(recs->len, cases[_i].replayed);
    ck_assert_msg(end == cases[_i].end, "ended with %s, expected %s",
                  ftpool_log_end_name(end), ftpool_log_end_name(cases[_i].end));
}
END_TEST

static int run_inspect(const char *arg, const char *file, char **err_text)
{
    const char *exe = g_getenv("FTPOOL_INSPECT");
    const char *argv[] = { exe, arg, file, NULL };
    int status;

    ck_assert_msg(exe, "FTPOOL_INSPECT is not set");
    ck_assert(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                           NULL, NULL, NULL, err_text, &status, NULL));
    return WEXITSTATUS(status);
}

START_TEST(test_cli)
{
    g_autoptr(FtPool) pool = committed_pool();
    g_autofree char *e0 = NULL, *e1 = NULL, *e2 = NULL;
    g_autofree char *junk = g_build_filename(dir, "junk", NULL);

    ck_assert_int_eq(run_inspect("--verify", path, &e0), 0);
    ftpool_slot_data(pool, 1)[FTPOOL_PAGE_SIZE + 5] ^= 1;
    ck_assert_int_eq(run_inspect("--verify", path, &e1), 1);
    ck_assert_msg(strstr(e1, "record 1: page CRC mismatch"), "%s", e1);
    ck_assert(g_file_set_contents(junk, "not a pool", -1, NULL));
    ck_assert_int_eq(run_inspect("--json", junk, &e2), 2);
    ck_assert_msg(strstr(e2, "shorter than a superblock"), "%s", e2);
    g_unlink(junk);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ftpool");
    TCase *tc = tcase_create("pool");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_crc);
    tcase_add_test(tc, test_create_open);
    tcase_add_loop_test(tc, test_superblock_errors, 0, 7);
    tcase_add_test(tc, test_verify_ok_and_states);
    tcase_add_test(tc, test_retired_refused);
    tcase_add_test(tc, test_flush_mode_refused);
    tcase_add_loop_test(tc, test_verify_corruption, 0, 13);
    tcase_add_test(tc, test_long_zero_write_valid);
    tcase_add_test(tc, test_digest_apply_export);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_json_offsets);
    tcase_add_test(tc, test_cli);
    tcase_add_test(tc, test_log_replay_wrap);
    tcase_add_loop_test(tc, test_log_torn, 0, 4);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
