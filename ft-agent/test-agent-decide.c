/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decision table of docs/design.md ("When the agent promotes"), row by
 * row. Each row differs from the promoting row in one fact.
 */
#include "qft-check.h"

#include "agent-decide.h"

/* The facts under which a silent primary is failed over. */
static FtAgentFacts silent_stopped(void)
{
    FtAgentFacts f = {
        .have_standby = TRUE, .pool_committed = TRUE,
        .heartbeat_lost = TRUE, .pool_advancing = FALSE,
    };
    return f;
}

static FtAgentDecision decide(FtAgentFacts f)
{
    const char *why = NULL;
    FtAgentDecision d = ftagent_decide(&f, &why);

    ck_assert_ptr_nonnull(why);
    return d;
}

START_TEST(row_dead_and_stopped_promotes)
{
    FtAgentFacts f = silent_stopped();

    f.heartbeat_lost = FALSE;
    f.primary_dead = TRUE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_PROMOTE);
}
END_TEST

START_TEST(row_silent_and_stopped_promotes)
{
    ck_assert_int_eq(decide(silent_stopped()), FTAGENT_DECIDE_PROMOTE);
}
END_TEST

START_TEST(row_cut_link_pool_advancing_stays)
{
    FtAgentFacts f = silent_stopped();

    f.pool_advancing = TRUE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_STAY);
}
END_TEST

START_TEST(row_death_report_but_pool_advancing_stays)
{
    FtAgentFacts f = silent_stopped();

    f.heartbeat_lost = FALSE;
    f.primary_dead = TRUE;
    f.pool_advancing = TRUE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_STAY);
}
END_TEST

START_TEST(row_alive_stays)
{
    FtAgentFacts f = silent_stopped();

    f.heartbeat_lost = FALSE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_STAY);
}
END_TEST

START_TEST(row_no_standby_stays)
{
    FtAgentFacts f = silent_stopped();

    f.have_standby = FALSE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_STAY);
}
END_TEST

START_TEST(row_retired_refuses)
{
    FtAgentFacts f = silent_stopped();

    f.pool_retired = TRUE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_REFUSE);
}
END_TEST

START_TEST(row_taken_stays)
{
    FtAgentFacts f = silent_stopped();

    f.pool_taken = TRUE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_STAY);
}
END_TEST

START_TEST(row_nothing_committed_refuses)
{
    FtAgentFacts f = silent_stopped();

    f.pool_committed = FALSE;
    ck_assert_int_eq(decide(f), FTAGENT_DECIDE_REFUSE);
}
END_TEST

START_TEST(names)
{
    ck_assert_str_eq(ftagent_source_name(FTAGENT_SOURCE_QEMU_DEATH),
                     "qemu-death");
    ck_assert_str_eq(ftagent_source_name(FTAGENT_SOURCE_SILENT),
                     "silent-host");
    ck_assert_str_eq(ftagent_decision_name(FTAGENT_DECIDE_PROMOTE), "promote");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent-decide");
    TCase *tc = tcase_create("table");

    tcase_add_test(tc, row_dead_and_stopped_promotes);
    tcase_add_test(tc, row_silent_and_stopped_promotes);
    tcase_add_test(tc, row_cut_link_pool_advancing_stays);
    tcase_add_test(tc, row_death_report_but_pool_advancing_stays);
    tcase_add_test(tc, row_alive_stays);
    tcase_add_test(tc, row_no_standby_stays);
    tcase_add_test(tc, row_retired_refuses);
    tcase_add_test(tc, row_taken_stays);
    tcase_add_test(tc, row_nothing_committed_refuses);
    tcase_add_test(tc, names);
    suite_add_tcase(s, tc);
    return qft_check_run(s);
}
