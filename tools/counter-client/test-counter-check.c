/*
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qft-check.h"
#include <string.h>

#include "counter-check.h"

START_TEST(test_parse)
{
    uint64_t v;
    GError *err = NULL;

    ck_assert(qft_counter_parse("0", &v, NULL) && v == 0);
    ck_assert(qft_counter_parse("18446744073709551615", &v, NULL) &&
              v == UINT64_MAX);
    ck_assert(!qft_counter_parse("18446744073709551616", &v, &err));
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_OVERFLOW);
    g_clear_error(&err);
    static const char *bad[] = { "", "12a", "-1", " 1", "1 ", "error: x" };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        ck_assert_msg(!qft_counter_parse(bad[i], &v, &err), "'%s'", bad[i]);
        ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_GARBAGE);
        g_clear_error(&err);
    }
}
END_TEST

START_TEST(test_rule)
{
    QftCounterState s = { 0 };
    GError *err = NULL;

    ck_assert(qft_counter_accept(&s, 41, NULL));    /* first: anything */
    ck_assert(qft_counter_accept(&s, 42, NULL));
    ck_assert(!qft_counter_accept(&s, 42, &err));   /* equal: lost */
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_NOT_ABOVE);
    ck_assert(strstr(err->message, "42"));
    g_clear_error(&err);
    ck_assert(!qft_counter_accept(&s, 7, &err));    /* lower: lost */
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_NOT_ABOVE);
    g_clear_error(&err);
    ck_assert(!qft_counter_accept(&s, 44, &err));   /* gap, no reconnect */
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_GAP);
    g_clear_error(&err);
    s.reconnected = TRUE;
    ck_assert(qft_counter_accept(&s, 44, NULL));    /* gap after reconnect */
    ck_assert(!s.reconnected);
    s.reconnected = TRUE;
    ck_assert(!qft_counter_accept(&s, 44, &err));   /* reconnect: not lower */
    g_clear_error(&err);
}
END_TEST

/* Shared counter: gaps are other connections' increments, loss is not. */
START_TEST(test_shared)
{
    QftCounterState s = { .shared = TRUE };
    GError *err = NULL;

    ck_assert(qft_counter_accept(&s, 10, NULL));
    ck_assert(qft_counter_accept(&s, 25, NULL));    /* gap: others counted */
    ck_assert(!qft_counter_accept(&s, 25, &err));   /* equal: still lost */
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_NOT_ABOVE);
    g_clear_error(&err);
    ck_assert(!qft_counter_accept(&s, 3, &err));
    ck_assert_int_eq(err->code, QFT_COUNTER_ERROR_NOT_ABOVE);
    g_clear_error(&err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("counter-check");
    TCase *tc = tcase_create("rule");

    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_rule);
    tcase_add_test(tc, test_shared);
    suite_add_tcase(s, tc);
    return qft_check_run(s);
}
