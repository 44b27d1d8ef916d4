/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The standby's decision: promote or not. Pure (no I/O, no clock), so that
 * every row of the table in docs/design.md ("When the agent promotes") is
 * a unit test (test-agent-decide.c) as well as an end-to-end test.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where a fault report came from. */
typedef enum {
    FTAGENT_SOURCE_NONE,
    FTAGENT_SOURCE_QEMU_DEATH,  /* pidfd on the primary's host, forwarded */
    FTAGENT_SOURCE_SILENT,      /* heartbeat lost, checked against the pool */
    FTAGENT_SOURCE_LAST_GASP,   /* the primary's host said it goes down */
    FTAGENT_SOURCE_RAS,         /* uncorrected memory error on its host */
    FTAGENT_SOURCE_OPERATOR,    /* REST/control socket request */
    FTAGENT_SOURCE__MAX
} FtAgentSource;

const char *ftagent_source_name(FtAgentSource source);

typedef struct FtAgentFacts {
    gboolean have_standby;      /* a standby attached to the primary's pool */
    gboolean pool_retired;      /* the commit word's retired bit */
    gboolean pool_taken;        /* its generation moved past the standby's */
    gboolean pool_committed;    /* an epoch was ever committed */
    gboolean primary_dead;      /* its agent's pidfd, or a last gasp */
    gboolean heartbeat_lost;    /* nothing from its host for peer-timeout */
    gboolean pool_advancing;    /* the commit word moved within the lease,
                                 * or past the epoch a death report named */
} FtAgentFacts;

typedef enum {
    FTAGENT_DECIDE_STAY,        /* nothing to do (or wait for more facts) */
    FTAGENT_DECIDE_PROMOTE,
    FTAGENT_DECIDE_REFUSE,      /* a fault, but this pool must not promote */
} FtAgentDecision;

const char *ftagent_decision_name(FtAgentDecision decision);

/* The table. *why says which row decided (a static string). */
FtAgentDecision ftagent_decide(const FtAgentFacts *facts, const char **why);

G_END_DECLS
