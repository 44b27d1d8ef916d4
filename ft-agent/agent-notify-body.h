/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OpenStack Masakari notifications, the pure part (no I/O, no clock; unit
 * tested by test-agent-notify.c): the request body exactly as Masakari's
 * API schema wants it, its check, the retry schedule, the name-based
 * instance UUID. agent-notify.c queues, persists and sends them.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The VM notification's payload "event" and "vir_domain_event" values. */
#define FTAGENT_NOTIFY_LIFECYCLE         "LIFECYCLE"
#define FTAGENT_NOTIFY_STARTED_FAILOVER  "STARTED_FAILOVER"
#define FTAGENT_NOTIFY_PROTECTION_LOST   "PROTECTION_LOST"
#define FTAGENT_NOTIFY_STOPPED_FAILED    "STOPPED_FAILED"

/* ISO 8601 UTC with microseconds: 2026-12-04T05:00:00.123456Z */
char *ftagent_notify_time(gint64 realtime_us);

/*
 * {"notification": {"type": "VM", "hostname": H, "generated_time": T,
 *  "payload": {"event": E, "instance_uuid": U, "vir_domain_event": D}}}
 * and nothing else (Masakari's schema has additionalProperties false at
 * both levels); T from realtime_us (g_get_real_time()).
 */
char *ftagent_notify_body(const char *event, const char *vir_domain_event,
                          const char *hostname, const char *instance_uuid,
                          gint64 realtime_us);

/* Masakari's hostname: 1..255 characters of [a-zA-Z0-9-._]. */
gboolean ftagent_notify_hostname_valid(const char *hostname);

/*
 * A body as ftagent_notify_body() makes them, checked the way Masakari's
 * API does for a VM notification (exact members, string values, the
 * hostname pattern, the UUID, the time). Used on files found in the
 * outbox: one that fails goes to failed/, named in the error.
 */
gboolean ftagent_notify_body_check(const char *body, gsize len,
                                   GError **error);

/*
 * The wait before retry number @retry (1 = after the first failed
 * attempt): first_ms * 2^(retry - 1), at most max_ms.
 */
guint ftagent_notify_backoff_ms(guint first_ms, guint max_ms, guint retry);

/*
 * The instance UUID of a VM known only by its name: RFC 4122 version 5
 * (SHA-1) in the URL namespace of the name "urn:qemu-ft:vm:NAME", the same
 * on every host (python3: uuid.uuid5(uuid.NAMESPACE_URL,
 * "urn:qemu-ft:vm:" + NAME)).
 */
char *ftagent_notify_name_uuid(const char *vm_name);

G_END_DECLS
