/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Failover on the standby's host: gather the facts, ask the decision table
 * (agent-decide.c), then fence + promote in one QMP command (ft-promote
 * bumps the pool's generation by CAS before anything runs), announce, and
 * keep the timeline of every step.
 */
#include "agent-backend.h"
#include "agent-notify.h"
#include "agent-pool.h"

static const char *step_names[FTAGENT_STEP__MAX] = {
    "fault", "detected", "decided", "fenced", "running", "announced",
};

void ftagent_timeline_free(FtAgentTimeline *t)
{
    g_free(t->detail);
    g_free(t->error);
    g_free(t);
}

void ftagent_latency_record(FtAgent *agent, FtAgentSource source,
                            gint64 fault_ns, gint64 detected_ns)
{
    FtAgentLatency *l = &agent->latency[source];
    guint64 d = detected_ns > fault_ns ? (guint64)(detected_ns - fault_ns) : 0;

    l->count++;
    l->sum_ns += d;
    l->last_ns = d;
    l->max_ns = MAX(l->max_ns, d);
}

static void log_timeline(FtAgentVm *vm, const FtAgentTimeline *t)
{
    g_autoptr(GString) s = g_string_new(NULL);

    for (int i = 0; i < FTAGENT_STEP__MAX; i++) {
        if (t->at[i]) {
            g_string_append_printf(s, " %s +%.3f ms", step_names[i],
                                   (t->at[i] - t->at[0]) / 1e6);
        }
    }
    g_message("vm %s: failover (%s: %s) epoch %" G_GUINT64_FORMAT
              " generation %" G_GUINT64_FORMAT ":%s%s%s", vm->name,
              ftagent_source_name(t->source), t->detail, t->epoch,
              t->generation, s->str, t->error ? "; " : "",
              t->error ? t->error : "");
}

static FtAgentTimeline *timeline_new(FtAgentVm *vm, FtAgentSource source,
                                     const char *detail, gint64 fault_ns)
{
    FtAgentTimeline *t = g_new0(FtAgentTimeline, 1);

    t->source = source;
    t->detail = g_strdup(detail);
    t->at[FTAGENT_STEP_FAULT] = fault_ns;
    t->at[FTAGENT_STEP_DETECTED] = ftagent_now_real_ns();
    g_ptr_array_add(vm->timelines, t);
    while (vm->timelines->len > 32) {
        g_ptr_array_remove_index(vm->timelines, 0);
    }
    return t;
}

static FtAgentFacts gather(FtAgentVm *vm, FtAgentSource source)
{
    FtAgent *agent = vm->agent;
    FtAgentFacts f = { 0 };
    guint64 word = vm->lease ? ftagent_lease_sample(vm->lease) : 0;

    f.have_standby = vm->role == FTAGENT_LOCAL_STANDBY && vm->lease &&
                     g_strcmp0(vm->status, "standby") == 0;
    f.pool_retired = ftpool_commit_retired(word);
    f.pool_taken = ftpool_commit_generation(word) > 1;
    f.pool_committed = ftpool_commit_epoch(word) > 0;
    f.heartbeat_lost = !ftagent_peer_alive(agent, vm->primary_host);
    if (vm->death_reported) {
        /* the dead process's agent read the word after the exit */
        f.primary_dead = TRUE;
        f.pool_advancing = ftpool_commit_epoch(word) > vm->death_epoch;
    } else if (source == FTAGENT_SOURCE_LAST_GASP) {
        f.primary_dead = TRUE;
        f.pool_advancing = word != vm->gasp_word ||
                           g_get_monotonic_time() - vm->gasp_at <
                           agent->config->lease_ms * 1000ll;
    } else if (vm->lease) {
        f.pool_advancing = !ftagent_lease_quiet_for(vm->lease,
                                                    agent->config->lease_ms);
    }
    return f;
}

static void announce(FtAgentVm *vm, FtAgentTimeline *t)
{
    g_autoptr(JsonObject) p = json_object_new();

    json_object_set_string_member(p, "vm", vm->name);
    json_object_set_int_member(p, "generation", t->generation);
    json_object_set_int_member(p, "epoch", t->epoch);
    json_object_set_string_member(p, "host", vm->agent->config->host_id);
    json_object_set_string_member(p, "pool", vm->old_pool ? vm->old_pool : "");
    ftagent_peer_broadcast(vm->agent, FTAGENT_MSG_PROMOTED, p);
    t->at[FTAGENT_STEP_ANNOUNCED] = ftagent_now_real_ns();
}

/* ft-promote: verify the committed slot, restore it into this QEMU, then
 * CAS the generation (the fence), redo the disk writes, run
 * (docs/design.md#promotion). A refusal before the CAS leaves the standby
 * paused and the primary's generation alone. */
static void promote(FtAgentVm *vm, FtAgentTimeline *t)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(JsonNode) r = NULL;
    gint64 t0 = ftagent_now_real_ns(), fenced_ns;
    g_autofree char *failed_host = g_strdup(vm->primary_host);
    JsonObject *o;

    json_object_set_boolean_member(args, "old-primary-dead",
                                   vm->death_reported);
    vm->failing_over = TRUE;
    vm->state_serial++;
    r = qft_qmp_execute(vm->qmp, "ft-promote", args,
                        vm->agent->config->qmp_timeout_ms, &error);
    vm->failing_over = FALSE;
    if (!r) {
        g_autoptr(JsonNode) info = qft_qmp_execute(
            vm->qmp, "query-ft", NULL, vm->agent->config->qmp_timeout_ms,
            NULL);
        const char *status = info && JSON_NODE_HOLDS_OBJECT(info)
            ? json_object_get_string_member_with_default(
                  json_node_get_object(info), "status", "?") : "?";

        gboolean retrying = vm->promote_timeline == t;

        t->error = g_strdup_printf("ft-promote: %s%s", error->message,
            g_str_equal(status, "promoting") && !vm->death_reported
            ? " (waiting for the old primary to give up its disk intent: "
              "it does when it runs again, or its agent reports its QEMU "
              "dead when it restarts; if its host is down for good, "
              "confirm it: POST /v1/vms/VM/failover {\"old-primary-dead\": "
              "true} here)" : "");
        if (g_str_equal(status, "promoting")) {
            /* the pool is ours (the old primary is fenced); the disk
             * intent or an I/O error holds the VM: retry */
            vm->promote_retry_at = g_get_monotonic_time() +
                                   vm->agent->config->lease_ms * 1000ll;
            vm->promote_timeline = t;
            if (retrying) {
                return;         /* logged at the first attempt */
            }
        } else {
            vm->refused = TRUE;
            vm->promote_timeline = NULL;
        }
        log_timeline(vm, t);
        if (vm->refused) {
            /* the standby stays paused: only a restart (Masakari's, through
             * Nova) can bring the VM back now */
            ftagent_notify_cannot_recover(vm, failed_host, t->error);
        }
        return;
    }
    o = json_node_get_object(r);
    t->epoch = json_object_get_int_member_with_default(o, "epoch", 0);
    /* the VM's generation (one more per promotion, across pools), not the
     * pool's: a re-protected VM's new pool starts again at 1 */
    t->generation = vm->generation + 1;
    /* the generation CAS, which comes after the restore; a QEMU without
     * takeover-ns (or a retry after an earlier call's takeover) leaves the
     * end of verification, the nearest earlier moment it reports */
    fenced_ns = json_object_get_int_member_with_default(o, "takeover-ns", 0);
    if (!fenced_ns) {
        fenced_ns = json_object_get_int_member_with_default(o, "verify-ns", 0);
    }
    t->at[FTAGENT_STEP_FENCED] = t0 + fenced_ns;
    t->at[FTAGENT_STEP_RUNNING] =
        t0 + json_object_get_int_member_with_default(o, "restore-ns", 0);
    g_clear_pointer(&t->error, g_free);
    vm->promote_timeline = NULL;

    vm->role = FTAGENT_LOCAL_PRIMARY;
    g_free(vm->old_pool);
    vm->old_pool = g_steal_pointer(&vm->pool);
    g_clear_pointer(&vm->lease, ftagent_lease_free);
    g_free(vm->status);
    vm->status = g_strdup("promoted");
    vm->failovers++;
    vm->death_reported = FALSE;
    vm->gasp_at = 0;
    ftagent_vm_set_primary(vm, vm->agent->config->host_id, t->generation);
    announce(vm, t);
    log_timeline(vm, t);
    ftagent_state_save(vm->agent);
    ftagent_notify_failover(vm, failed_host);
}

void ftagent_failover_fault(FtAgentVm *vm, FtAgentSource source,
                            const char *detail, gint64 fault_ns)
{
    FtAgentFacts f;
    FtAgentDecision d;
    FtAgentTimeline *t;
    const char *why;

    if (vm->failing_over || vm->refused || vm->promote_timeline) {
        return;
    }
    f = gather(vm, source);
    d = ftagent_decide(&f, &why);
    if (d == FTAGENT_DECIDE_STAY) {
        if (f.heartbeat_lost && f.pool_advancing && !vm->suspected) {
            vm->suspected = TRUE;
            vm->agent->suspicions++;
            g_message("vm %s: %s (%s): not promoting: %s", vm->name,
                      ftagent_source_name(source), detail, why);
        }
        return;
    }
    t = timeline_new(vm, source, detail, fault_ns);
    if (source == FTAGENT_SOURCE_LAST_GASP) {
        /* known when it arrived (and counted then, agent-peer.c); the
         * promotion waited for the lease since */
        t->at[FTAGENT_STEP_DETECTED] = vm->gasp_heard_ns;
    } else {
        ftagent_latency_record(vm->agent, source, fault_ns,
                               t->at[FTAGENT_STEP_DETECTED]);
    }
    t->epoch = vm->lease ? ftpool_commit_epoch(vm->lease->word) : 0;
    if (d == FTAGENT_DECIDE_REFUSE) {
        t->error = g_strdup(why);
        vm->refused = TRUE;
        g_critical("vm %s: fault (%s) but no promotion: %s", vm->name,
                   ftagent_source_name(source), why);
        log_timeline(vm, t);
        ftagent_notify_cannot_recover(vm, vm->primary_host, why);
        return;
    }
    t->at[FTAGENT_STEP_DECIDED] = ftagent_now_real_ns();
    promote(vm, t);
}

/* Every tick, for a standby: the silent-host rule, a last gasp waiting for
 * its lease, a promotion waiting for the old primary's disk intent. */
void ftagent_failover_tick(FtAgentVm *vm)
{
    FtAgent *agent = vm->agent;

    if (vm->role != FTAGENT_LOCAL_STANDBY || vm->failing_over) {
        return;
    }
    if (vm->promote_timeline) {
        if (g_get_monotonic_time() >= vm->promote_retry_at) {
            FtAgentTimeline *t = vm->promote_timeline;

            g_clear_pointer(&t->error, g_free);
            promote(vm, t);
        }
        return;
    }
    if (vm->gasp_at) {
        ftagent_failover_fault(vm, FTAGENT_SOURCE_LAST_GASP, "last gasp",
                               vm->gasp_fault_ns);
    } else if (!ftagent_peer_alive(agent, vm->primary_host)) {
        FtAgentPeer *p = g_hash_table_lookup(agent->peers, vm->primary_host);
        g_autofree char *detail = g_strdup_printf(
            "no heartbeat from %s for peer-timeout-ms %u", vm->primary_host,
            agent->config->peer_timeout_ms);

        ftagent_failover_fault(vm, FTAGENT_SOURCE_SILENT, detail,
                               p ? p->last_heard_real : ftagent_now_real_ns());
    } else {
        vm->suspected = FALSE;
    }
}

/*
 * The old primary is known dead: its agent found its QEMU gone, or an
 * operator confirmed its host is down (manual fencing, as
 * `stonith_admin --confirm`). A promotion waiting for its disk intent
 * goes on at the next retry; otherwise the fault is judged now.
 */
void ftagent_failover_primary_dead(FtAgentVm *vm, FtAgentSource source,
                                   const char *detail, guint64 epoch,
                                   gint64 fault_ns)
{
    vm->death_epoch = epoch;
    vm->death_reported = TRUE;
    g_message("vm %s: the old primary is dead (%s: %s)", vm->name,
              ftagent_source_name(source), detail);
    ftagent_failover_fault(vm, source, detail, fault_ns);
}

void ftagent_failover_on_promoted(FtAgentVm *vm, const char *host,
                                  JsonObject *payload)
{
    guint64 generation = json_object_get_int_member_with_default(
        payload, "generation", 0);

    guint64 word = vm->lease ? ftagent_lease_sample(vm->lease) : 0;

    /*
     * Not acted on by itself (a restarted agent accepts a recorded old
     * message, docs/protocol.md): a promotion of the pool this host uses
     * shows in that pool's commit word, and a promotion elsewhere names a
     * generation above the one known here.
     */
    if (vm->role != FTAGENT_LOCAL_NONE
        ? !vm->lease || ftpool_commit_generation(word) <= 1
        : generation <= vm->generation) {
        g_warning("vm %s: %s says it promoted it at generation %"
                  G_GUINT64_FORMAT ", but %s: ignored", vm->name, host,
                  generation, vm->role != FTAGENT_LOCAL_NONE
                  ? "the local pool's generation did not move"
                  : "that is not above the generation known here");
        return;
    }
    g_message("vm %s: %s promoted it (generation %" G_GUINT64_FORMAT
              ", epoch %" G_GINT64_FORMAT ")", vm->name, host, generation,
              json_object_get_int_member_with_default(payload, "epoch", 0));
    ftagent_vm_set_primary(vm, host, generation);
    if (vm->role != FTAGENT_LOCAL_NONE && !vm->ending) {
        /* the old primary (fenced by the CAS) or another standby of the
         * taken pool: neither may run */
        vm->ending = TRUE;
        vm->agent->backend->kill(vm);
    }
    ftagent_state_save(vm->agent);
}

JsonArray *ftagent_failover_timelines_json(FtAgentVm *vm)
{
    JsonArray *a = json_array_new();

    for (guint i = 0; i < vm->timelines->len; i++) {
        FtAgentTimeline *t = g_ptr_array_index(vm->timelines, i);
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "source",
                                      ftagent_source_name(t->source));
        json_object_set_string_member(o, "detail", t->detail);
        json_object_set_int_member(o, "epoch", t->epoch);
        json_object_set_int_member(o, "generation", t->generation);
        for (int s = 0; s < FTAGENT_STEP__MAX; s++) {
            g_autofree char *k = g_strdup_printf("%s-ns", step_names[s]);

            json_object_set_int_member(o, k, t->at[s]);
        }
        if (t->error) {
            json_object_set_string_member(o, "error", t->error);
        }
        json_array_add_object_element(a, o);
    }
    return a;
}
