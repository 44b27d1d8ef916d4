/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decision table of docs/design.md, "When the agent promotes". */
#include "agent-decide.h"

const char *ftagent_source_name(FtAgentSource source)
{
    switch (source) {
    case FTAGENT_SOURCE_QEMU_DEATH: return "qemu-death";
    case FTAGENT_SOURCE_SILENT: return "silent-host";
    case FTAGENT_SOURCE_LAST_GASP: return "last-gasp";
    case FTAGENT_SOURCE_RAS: return "ras";
    case FTAGENT_SOURCE_OPERATOR: return "operator";
    case FTAGENT_SOURCE_NONE:
    case FTAGENT_SOURCE__MAX:
        break;
    }
    return "none";
}

const char *ftagent_decision_name(FtAgentDecision decision)
{
    switch (decision) {
    case FTAGENT_DECIDE_PROMOTE: return "promote";
    case FTAGENT_DECIDE_REFUSE: return "refuse";
    case FTAGENT_DECIDE_STAY: break;
    }
    return "stay";
}

FtAgentDecision ftagent_decide(const FtAgentFacts *f, const char **why)
{
    gboolean fault = f->primary_dead || f->heartbeat_lost;

    if (!fault) {
        *why = "the primary is alive (heartbeat) and no death was reported";
        return FTAGENT_DECIDE_STAY;
    }
    if (!f->have_standby) {
        *why = "no standby is attached here";
        return FTAGENT_DECIDE_STAY;
    }
    if (f->pool_taken) {
        *why = "the pool was taken over already (its generation moved)";
        return FTAGENT_DECIDE_STAY;
    }
    if (f->pool_retired) {
        *why = "the pool is retired: protection ended and output the pool "
               "lacks was released; it never promotes";
        return FTAGENT_DECIDE_REFUSE;
    }
    if (!f->pool_committed) {
        *why = "nothing was committed yet (initial sync): there is no "
               "checkpoint to run";
        return FTAGENT_DECIDE_REFUSE;
    }
    if (f->pool_advancing) {
        *why = "the pool still advances: a primary that commits is alive, "
               "whatever the heartbeat says";
        return FTAGENT_DECIDE_STAY;
    }
    *why = f->primary_dead ? "the primary is dead and the pool stopped"
                           : "the primary is silent and the pool stopped";
    return FTAGENT_DECIDE_PROMOTE;
}
