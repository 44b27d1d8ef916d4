/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agentd: the shared types of the daemon (one per host).
 *
 * Every VM of the configuration has, on each agent, an FtAgentVm: who the
 * primary host is (the highest generation heard wins), what runs here (the
 * primary, a standby or nothing) and the failover timeline. The files:
 *   agent-main.c      options, start-up, the main loop
 *   agent-state.c     state.json: what a restarted agent adopts
 *   agent-backend.h   the VM backend interface; backend-qemu.c the QEMU one,
 *                     backend-libvirt.c libvirt's (+ -qmp.c, its QMP proxy)
 *   agent-switchover.c  the planned switchover (prepare, commit, abort)
 *   agent-vm.c        per-VM life cycle: start, protect, standby, adopt
 *   agent-peer.c      the peer link: heartbeats, messages, drop counters
 *   agent-pool.c      the lease: the pool's commit word as seen here
 *   agent-decide.c    the decision table (pure; unit-tested row by row)
 *   agent-failover.c  fence + promote + announce, the timeline
 *   agent-rest.c      REST API, /metrics, on TCP and the control socket
 *   agent-notify.c    cloud notifications (Masakari), from an outbox on disk
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "agent-config.h"
#include "agent-decide.h"
#include "ftagent-msg.h"
#include "qmp-client.h"

G_BEGIN_DECLS

typedef struct FtAgent FtAgent;
typedef struct FtAgentVm FtAgentVm;
typedef struct FtAgentBackend FtAgentBackend;

/* What runs on this host for a VM. */
typedef enum {
    FTAGENT_LOCAL_NONE,
    FTAGENT_LOCAL_PRIMARY,      /* booted or promoted here; protected on pool */
    FTAGENT_LOCAL_STANDBY,      /* paused, attached to the primary's pool */
} FtAgentLocalRole;

const char *ftagent_local_role_name(FtAgentLocalRole role);

/* What recovers a VM whose primary fails (docs/libvirt.md, "Policies"). */
typedef enum {
    FTAGENT_POLICY_PROTECT,     /* a standby on the pool, promoted */
    FTAGENT_POLICY_RESTART,     /* no standby: a cold boot on another host */
    FTAGENT_POLICY_NOTIFY,      /* nothing but telling the cloud API */
} FtAgentPolicy;

const char *ftagent_policy_name(FtAgentPolicy policy);

/* Steps of a failover, in order; each is timestamped (CLOCK_REALTIME ns). */
typedef enum {
    FTAGENT_STEP_FAULT,         /* when the fault happened (best knowledge) */
    FTAGENT_STEP_DETECTED,      /* this agent knew */
    FTAGENT_STEP_DECIDED,       /* the decision table said promote */
    FTAGENT_STEP_FENCED,        /* ft-promote took the pool (generation CAS) */
    FTAGENT_STEP_RUNNING,       /* the standby runs the committed epoch */
    FTAGENT_STEP_ANNOUNCED,     /* peers told (promoted message) */
    FTAGENT_STEP__MAX
} FtAgentStep;

typedef struct FtAgentTimeline {
    FtAgentSource source;
    char *detail;
    gint64 at[FTAGENT_STEP__MAX];   /* 0 = not reached */
    guint64 epoch;
    guint64 generation;
    char *error;                    /* a promotion refused or failed */
} FtAgentTimeline;

struct FtAgentVm {
    FtAgent *agent;
    const FtAgentVmConfig *config;
    char *name;

    /* Who is primary, as far as this agent knows. */
    char *primary_host;
    guint64 generation;             /* the VM's: 1 at the first boot, one
                                     * more per promotion (pools restart
                                     * at 1; this never goes back) */
    gboolean ever_started;          /* a primary ran once: never boot again */

    /* What runs here. */
    FtAgentLocalRole role;
    gint pid;
    int pidfd;
    guint pidfd_watch;
    char *qmp_path;
    QftQmpClient *qmp;
    char *pool;                     /* primary: its pool; standby: attached */
    char *old_pool;                 /* promoted: the pool its RAM maps */
    char *status;                   /* query-ft status of the local QEMU */
    guint64 epoch;
    guint64 sync_done, sync_total;
    guint64 last_pause_ns;
    gboolean ending;                /* killing a fenced/superseded primary */
    gint64 last_query;              /* monotonic us of the last query-ft */
    guint64 state_serial;           /* bumped by ft-start, ft-promote */
    gint64 respawn_after;           /* standby: no new one before (mono us) */
    guint standby_deaths;
    guint boot_failures;            /* first boots that failed before ft-start */

    /* The peer's view (primary: its standby; standby: the primary). */
    char *peer_status;
    char *peer_pool;
    gint64 peer_seen;               /* monotonic us of the last heartbeat */

    /* Lease through the pool (standby). */
    struct FtAgentLease *lease;

    /* Failover */
    gboolean failing_over;          /* ft-promote in flight */
    gboolean refused;               /* the pool must not promote: operator */
    gboolean suspected;             /* heartbeat lost, pool advancing: logged */
    gboolean death_reported;        /* the primary's agent saw it exit */
    guint64 death_epoch;            /* the commit epoch it read then */
    gint64 gasp_at;                 /* monotonic us of a last gasp, or 0 */
    gint64 gasp_fault_ns;
    gint64 gasp_heard_ns;           /* CLOCK_REALTIME when it arrived */
    guint64 gasp_word;              /* the commit word at the last gasp */
    gint64 promote_retry_at;        /* status promoting: retry after */
    FtAgentTimeline *promote_timeline; /* the failover being retried */
    char *pending_reason;           /* a planned kill's reason (operator, ras) */
    FtAgentSource pending_source;
    GPtrArray *timelines;           /* FtAgentTimeline*, newest last */
    guint64 failovers;

    FtAgentPolicy policy;
    gboolean disabled;              /* FT metadata removed: hands off */
    gboolean elsewhere_written;     /* run-dir/NAME.elsewhere exists */
    gboolean primary_running;       /* the primary's host says it runs it */
    guint epoch_ms;                 /* ft-start's; 0: the agent's epoch-ms */
    guint min_gap_us;               /* ft-start's min-gap-us; 0: QEMU's */
    char *pool_dir;                 /* NULL: the agent's pool-dir */
    struct FtAgentDomain *domain;   /* libvirt backend: the domain; NULL
                                     * with the qemu backend */

    /* Planned switchover (agent-switchover.c) */
    gboolean switchover_prepared;   /* paused, its epoch committed */
    guint64 switchover_epoch;       /* preparing: the epoch at the pause;
                                     * prepared: the one holding it */
    gint64 switchover_deadline;     /* preparing: monotonic us */
    gboolean switchover_was_running;    /* else a user's stop: kept */
    guint switchover_timer;         /* prepare's wait, then the auto-abort */
    gpointer switchover_msg;        /* the paused REST request */
    gboolean switchover_resume;     /* primary: tell the standby to run on */
    gboolean resume_after_promotion;    /* standby: cont once promoted */
};

typedef struct FtAgentPeer {
    const FtAgentHostConfig *config;
    GSocketAddress *address;
    gint64 last_heard;              /* monotonic us, 0 = never */
    gint64 last_heard_real;         /* CLOCK_REALTIME ns */
    gboolean silent_logged;
} FtAgentPeer;

/* Per-source notification latencies (ns), for /metrics. */
typedef struct FtAgentLatency {
    guint64 count;
    guint64 sum_ns;
    guint64 last_ns;
    guint64 max_ns;
} FtAgentLatency;

struct FtAgent {
    FtAgentConfig *config;
    FtAgentKey key;
    char *token;
    guint64 incarnation;
    guint64 seq;
    GMainLoop *loop;
    GSocket *socket;                /* UDP peer socket */
    GSource *socket_source;
    GHashTable *peers;              /* host id -> FtAgentPeer* */
    GHashTable *vms;                /* name -> FtAgentVm* */
    FtAgentReplay *replay;
    const FtAgentBackend *backend;
    guint heartbeat_timer;
    guint tick_timer;
    gint64 boot_after;              /* monotonic us: hear peers first */
    struct FtAgentRest *rest;
    struct FtAgentNotify *notify;   /* Masakari (agent-notify.c), or NULL */
    struct FtAgentLibvirt *libvirt; /* libvirt backend's connection */
    char *state_path;
    int lock_fd;                    /* state-dir/agent.lock, flock()ed */

    /* counters */
    guint64 dropped[FTAGENT_ERROR_REPLAYED + 1];
    guint64 received;
    guint64 sent;
    guint64 ras_events;
    FtAgentLatency latency[FTAGENT_SOURCE__MAX];
    guint64 suspicions;             /* heartbeat lost, pool advancing */
};

gint64 ftagent_now_real_ns(void);

/* agent-peer.c */
gboolean ftagent_peer_open(FtAgent *agent, GError **error);
void ftagent_peer_close(FtAgent *agent);
void ftagent_peer_send(FtAgent *agent, const char *host, FtAgentMsgType type,
                       JsonObject *payload);
void ftagent_peer_broadcast(FtAgent *agent, FtAgentMsgType type,
                            JsonObject *payload);
void ftagent_peer_heartbeat(FtAgent *agent);
gboolean ftagent_peer_alive(FtAgent *agent, const char *host);

/* agent-vm.c */
FtAgentVm *ftagent_vm_new(FtAgent *agent, const FtAgentVmConfig *config);
void ftagent_vm_free(FtAgentVm *vm);
void ftagent_vm_tick(FtAgentVm *vm);
void ftagent_vm_on_heartbeat(FtAgentVm *vm, const char *host, JsonObject *v);
void ftagent_vm_local_died(FtAgentVm *vm, const char *exit);
JsonObject *ftagent_vm_to_json(FtAgentVm *vm);
gboolean ftagent_vm_request_failover(FtAgentVm *vm, FtAgentSource source,
                                     const char *detail, GError **error);
const char *ftagent_vm_protection(FtAgentVm *vm);
void ftagent_vm_set_primary(FtAgentVm *vm, const char *host,
                            guint64 generation);
void ftagent_vm_drop_local(FtAgentVm *vm);
gboolean ftagent_vm_adopt(FtAgentVm *vm, GError **error);
gboolean ftagent_vm_manager_started(FtAgentVm *vm, gint pid, GError **error);
void ftagent_vm_unprotect(FtAgentVm *vm, const char *why);
void ftagent_vm_policy_changed(FtAgentVm *vm, FtAgentPolicy old);
void ftagent_vm_cold_restart(FtAgentVm *vm, const char *from,
                             const char *why);

/* agent-switchover.c */
gboolean ftagent_switchover(FtAgentVm *vm, const char *phase,
                            gpointer rest_msg, GError **error);
void ftagent_switchover_clear(FtAgentVm *vm);
void ftagent_vm_report_dead(FtAgentVm *vm, const char *why);

/* agent-failover.c */
void ftagent_failover_fault(FtAgentVm *vm, FtAgentSource source,
                            const char *detail, gint64 fault_ns);
void ftagent_failover_on_promoted(FtAgentVm *vm, const char *host,
                                  JsonObject *payload);
void ftagent_failover_tick(FtAgentVm *vm);
void ftagent_failover_primary_dead(FtAgentVm *vm, FtAgentSource source,
                                   const char *detail, guint64 epoch,
                                   gint64 fault_ns);
JsonArray *ftagent_failover_timelines_json(FtAgentVm *vm);
void ftagent_timeline_free(FtAgentTimeline *t);
void ftagent_latency_record(FtAgent *agent, FtAgentSource source,
                            gint64 fault_ns, gint64 detected_ns);

/* agent-state.c */
gboolean ftagent_state_load(FtAgent *agent, GError **error);
void ftagent_state_save(FtAgent *agent);

/* agent-rest.c */
gboolean ftagent_rest_start(FtAgent *agent, GError **error);
void ftagent_rest_stop(FtAgent *agent);
char *ftagent_metrics_text(FtAgent *agent);
JsonNode *ftagent_status_json(FtAgent *agent);
gboolean ftagent_ras_event(FtAgent *agent, JsonObject *event, GError **error);

G_END_DECLS
