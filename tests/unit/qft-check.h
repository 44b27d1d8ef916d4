/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one way our check(3) unit tests run a suite: CK_VERBOSITY decides the
 * output (default: normal), the exit status is 0 only if every test passed.
 * On the include path of every test through check_dep (meson.build).
 */
#pragma once

#include <check.h>

static inline int qft_check_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int failed;

    srunner_run_all(runner, CK_ENV);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}
