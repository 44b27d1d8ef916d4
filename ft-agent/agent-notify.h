/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OpenStack Masakari notifications from ft-agentd ([masakari] in
 * agent.conf; docs/agent.md, "Cloud notifications (Masakari)").
 *
 * Never lost: each notification is written (tmp + fsync + rename) as
 * state-dir/masakari/outbox/NAME.json before its first attempt, POSTed
 * to the configured URL (libsoup, in the agent's main loop), oldest
 * first, and removed only once Masakari accepted it (200, 201, 202).
 * 409, 5xx, 408, 429, no connection, timeouts: retried after
 * retry-first-ms, doubling up to retry-max-ms, forever, each retry
 * logged. 400, 401, 403 and the other 4xx (a body or a token Masakari
 * refuses: retrying cannot help) move the file to
 * state-dir/masakari/failed/ with a warning naming the status and body.
 * A restarted agent sends what the outbox holds.
 *
 * Without a url every call here is a no-op (the metrics say 0).
 */
#pragma once

#include "agent.h"

G_BEGIN_DECLS

typedef struct FtAgentNotify FtAgentNotify;

/* Opens the outbox (sends what it holds) and starts the protection
 * watch; FALSE on an unusable token file or state directory. */
gboolean ftagent_notify_start(FtAgent *agent, GError **error);
void ftagent_notify_stop(FtAgent *agent);

/* Queues one VM notification (agent-notify-body.h) and sends it. */
void ftagent_notify_post(FtAgent *agent, const char *event,
                         const char *vir_domain_event, const char *hostname,
                         const char *instance_uuid);

/* The events (LIFECYCLE + vir_domain_event): */
/* the standby was promoted here and runs: STARTED_FAILOVER, hostname the
 * host the VM failed on */
void ftagent_notify_failover(FtAgentVm *vm, const char *failed_host);
/* a protected VM is no longer protected (its standby gone, its pool
 * failed): PROTECTION_LOST, hostname the primary's host (this one) */
void ftagent_notify_protection_lost(FtAgentVm *vm, const char *why);
/* qemu-ft cannot bring the VM back (promotion refused, no standby, policy
 * notify): STOPPED_FAILED, the one Masakari's engine acts on (it
 * restarts the instance through Nova), hostname the host it failed on */
void ftagent_notify_cannot_recover(FtAgentVm *vm, const char *failed_host,
                                   const char *why);

/* The instance UUID told for @vm: [vm:NAME] uuid, else the libvirt
 * domain's, else the name-based one (ftagent_notify_name_uuid). */
char *ftagent_notify_vm_uuid(FtAgentVm *vm);

/* The Keystone token of token-file (mode 0600, one line); FTAGENT_ERROR. */
char *ftagent_notify_load_token(const char *path, GError **error);

/* ftagent_masakari_{sent,retries,failed}_total and _queued, for /metrics */
void ftagent_notify_metrics(FtAgent *agent, GString *out);

G_END_DECLS
