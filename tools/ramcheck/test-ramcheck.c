/*
 * Unit tests of the RAM-image checker, on synthetic images; every
 * negative control must fail and name the broken page or field.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qft-check.h"
#include <string.h>

#include "ramcheck.h"
#include "../../tests/guest/bootblock/pattern.h"

#define PAGES_PER_CPU 16

typedef struct Image {
    uint8_t *buf;
    size_t len;
} Image;

static void wr32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_LE(v);
    memcpy(p, &v, 4);
}

static void put_page(uint8_t *buf, uint32_t page, uint32_t sweep)
{
    wr32(buf + page, qft_ramcheck_encode(page, sweep));
    wr32(buf + page + QFT_BB_PAGE - 4,
         qft_ramcheck_encode(page + QFT_BB_PAGE - 4, sweep));
}

/* ncpus slices; CPU i is in sweep c[i] and wrote its first k[i] pages. */
static Image make_image(uint32_t ncpus, const uint32_t *c, const uint32_t *k)
{
    uint32_t end = QFT_BB_REGION_START + ncpus * PAGES_PER_CPU * QFT_BB_PAGE;
    Image im = { g_malloc0(end), end };
    uint8_t *cb = im.buf + QFT_BB_CB;
    uint32_t i, j;

    wr32(cb + QFT_BB_CB_OFF_MAGIC, QFT_BB_CB_MAGIC_LO);
    wr32(cb + QFT_BB_CB_OFF_MAGIC + 4, QFT_BB_CB_MAGIC_HI);
    wr32(cb + QFT_BB_CB_OFF_VERSION, QFT_BB_CB_VERSION);
    wr32(cb + QFT_BB_CB_OFF_NCPUS, ncpus);
    wr32(cb + QFT_BB_CB_OFF_START, QFT_BB_REGION_START);
    wr32(cb + QFT_BB_CB_OFF_END, end);
    wr32(cb + QFT_BB_CB_OFF_ARRIVED, ncpus);
    wr32(cb + QFT_BB_CB_OFF_PER, PAGES_PER_CPU);
    for (i = 0; i < ncpus; i++) {
        uint8_t *rec = cb + QFT_BB_CB_OFF_CPU + i * QFT_BB_CPU_SIZE;
        uint32_t start = QFT_BB_REGION_START + i * PAGES_PER_CPU * QFT_BB_PAGE;

        wr32(rec + QFT_BB_CPU_OFF_START, start);
        wr32(rec + QFT_BB_CPU_OFF_END, start + PAGES_PER_CPU * QFT_BB_PAGE);
        wr32(rec + QFT_BB_CPU_OFF_SWEEPS, c[i]);
        wr32(rec + QFT_BB_CPU_OFF_STARTED, 1);
        for (j = 0; j < PAGES_PER_CPU; j++) {
            put_page(im.buf, start + j * QFT_BB_PAGE, j < k[i] ? c[i] : c[i] - 1);
        }
    }
    return im;
}

static const uint32_t C4[4] = { 7, 1, 1000000, 42 };
static const uint32_t K4[4] = { 0, 5, PAGES_PER_CPU, 9 };

/* Checks that the image fails with @code and the message holds @needle. */
static void expect_fail(Image *im, uint32_t cpus, int code, const char *needle)
{
    QftRamcheckResult r;
    g_autoptr(GError) err = NULL;

    ck_assert(!qft_ramcheck_image(im->buf, im->len, cpus, &r, &err));
    ck_assert_int_eq(err->code, code);
    ck_assert_msg(strstr(err->message, needle), "message '%s' lacks '%s'",
                  err->message, needle);
}

START_TEST(test_encode_decode)
{
    uint32_t a;

    for (a = 0x100000; a < 0x200000; a += 4092) {
        ck_assert_uint_eq(qft_ramcheck_decode(a, qft_ramcheck_encode(a, 4711)),
                          4711);
        ck_assert_uint_eq(qft_ramcheck_decode(a, qft_ramcheck_encode(a, 0)), 0);
    }
}
END_TEST

START_TEST(test_valid_one_cpu)
{
    static const uint32_t ks[] = { 0, 1, 8, PAGES_PER_CPU };
    uint32_t c = 3;
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(ks); i++) {
        Image im = make_image(1, &c, &ks[i]);
        QftRamcheckResult r;
        g_autoptr(GError) err = NULL;

        ck_assert_msg(qft_ramcheck_image(im.buf, im.len, 1, &r, &err),
                      "k=%u: %s", ks[i], err ? err->message : "");
        ck_assert_uint_eq(r.sweeps[0], 3);
        ck_assert_uint_eq(r.written[0], ks[i]);
        ck_assert_uint_eq(r.pages, PAGES_PER_CPU);
        g_free(im.buf);
    }
}
END_TEST

START_TEST(test_valid_four_cpus)
{
    Image im = make_image(4, C4, K4);
    QftRamcheckResult r;
    g_autoptr(GError) err = NULL;

    ck_assert_msg(qft_ramcheck_image(im.buf, im.len, 4, &r, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(r.ncpus, 4);
    ck_assert_uint_eq(r.sweeps[2], 1000000);
    ck_assert_uint_eq(r.pages, 4 * PAGES_PER_CPU);
    g_free(im.buf);
}
END_TEST

/* One flipped byte anywhere in a page fails and names that page. */
START_TEST(test_flipped_byte)
{
    static const uint32_t where[] = { 0, 2, 4, 2048, 4091, 4092, 4095 };
    uint32_t page = QFT_BB_REGION_START + (PAGES_PER_CPU + 3) * QFT_BB_PAGE;
    g_autofree char *needle = g_strdup_printf("page 0x%x (CPU 1)", page);
    Image im = make_image(4, C4, K4);

    im.buf[page + where[_i]] ^= 0x10;
    expect_fail(&im, 4, QFT_RAMCHECK_ERROR_PATTERN, needle);
    g_free(im.buf);
}
END_TEST

/* A page from the wrong sweep: out of order, or from another sweep. */
START_TEST(test_wrong_sweep)
{
    uint32_t base = QFT_BB_REGION_START + 3 * PAGES_PER_CPU * QFT_BB_PAGE;
    Image im = make_image(4, C4, K4);

    put_page(im.buf, base + 12 * QFT_BB_PAGE, 42);   /* c after c-1 */
    expect_fail(&im, 4, QFT_RAMCHECK_ERROR_PATTERN, "out of order");
    put_page(im.buf, base + 12 * QFT_BB_PAGE, 41);
    put_page(im.buf, base + 2 * QFT_BB_PAGE, 40);    /* c-2 */
    expect_fail(&im, 4, QFT_RAMCHECK_ERROR_PATTERN, "sweep 40, expected 42");
    g_free(im.buf);
}
END_TEST

/* Stopped between a page's two stores: the page in progress is half c. */
START_TEST(test_half_page)
{
    uint32_t base = QFT_BB_REGION_START + PAGES_PER_CPU * QFT_BB_PAGE;
    uint32_t page = base + K4[1] * QFT_BB_PAGE;      /* CPU 1's next page */
    Image im = make_image(4, C4, K4);
    QftRamcheckResult r;
    g_autoptr(GError) err = NULL;

    wr32(im.buf + page, qft_ramcheck_encode(page, C4[1]));
    ck_assert_msg(qft_ramcheck_image(im.buf, im.len, 4, &r, &err), "%s",
                  err ? err->message : "");
    /* Control: a half page anywhere else is broken. */
    page += 2 * QFT_BB_PAGE;
    wr32(im.buf + page, qft_ramcheck_encode(page, C4[1]));
    expect_fail(&im, 4, QFT_RAMCHECK_ERROR_PATTERN,
                "after the page in progress");
    g_free(im.buf);
}
END_TEST

START_TEST(test_cpus)
{
    Image im = make_image(4, C4, K4);

    expect_fail(&im, 2, QFT_RAMCHECK_ERROR_CPUS, "has 4 vCPUs, expected 2");
    memset(im.buf + QFT_BB_CB + QFT_BB_CB_OFF_CPU + 3 * QFT_BB_CPU_SIZE +
           QFT_BB_CPU_OFF_STARTED, 0, 4);
    expect_fail(&im, 4, QFT_RAMCHECK_ERROR_CPUS, "CPU 3 never started");
    g_free(im.buf);
}
END_TEST

START_TEST(test_not_an_image)
{
    Image im = make_image(4, C4, K4);

    im.buf[QFT_BB_CB + 3] ^= 1;
    expect_fail(&im, 0, QFT_RAMCHECK_ERROR_NOT_IMAGE, "magic");
    im.buf[QFT_BB_CB + 3] ^= 1;
    wr32(im.buf + QFT_BB_CB + QFT_BB_CB_OFF_END, im.len + QFT_BB_PAGE);
    expect_fail(&im, 0, QFT_RAMCHECK_ERROR_NOT_IMAGE, "region");
    im.len = 4096;
    expect_fail(&im, 0, QFT_RAMCHECK_ERROR_NOT_IMAGE, "magic");
    g_free(im.buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ramcheck");
    TCase *tc = tcase_create("image");

    tcase_add_test(tc, test_encode_decode);
    tcase_add_test(tc, test_valid_one_cpu);
    tcase_add_test(tc, test_valid_four_cpus);
    tcase_add_loop_test(tc, test_flipped_byte, 0, 7);
    tcase_add_test(tc, test_wrong_sweep);
    tcase_add_test(tc, test_half_page);
    tcase_add_test(tc, test_cpus);
    tcase_add_test(tc, test_not_an_image);
    suite_add_tcase(s, tc);
    return qft_check_run(s);
}
