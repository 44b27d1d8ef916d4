/*
 * libftpool and ftpool-inspect: layout checks, slots, verification with a
 * negative control per region, digest, apply, JSON, CLI exit codes.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <check.h>
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
    FtPoolSpec spec = { blocks, 2, 0, 4096, 0, { 0 } };
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
    FtPoolSpec spec = { (FtPoolBlockSpec[]){ { "ram", 4096 } }, 1, 0, 0, 0,
                        { 0 } };

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
        { "version", FTPOOL_ERROR_VERSION, "version 2" },
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
    case 1: sb->version = 2; break;
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
    }
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
    tcase_add_loop_test(tc, test_verify_corruption, 0, 7);
    tcase_add_test(tc, test_digest_apply_export);
    tcase_add_test(tc, test_json);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
