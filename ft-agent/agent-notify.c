/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OpenStack Masakari notifications (agent-notify.h): the outbox on disk,
 * the sender (libsoup, one request at a time, oldest first), the retry
 * schedule, the protection watch that notices a protected VM losing its
 * protection, or one that ended with no standby to take it over.
 */
#include <errno.h>
#include <fcntl.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-notify.h"
#include "agent-notify-body.h"

#define TOKEN_MAX_LEN (16 * 1024)
#define REPLY_LOG_MAX 500

typedef struct Entry {
    char *name;                 /* its file name in outbox/ */
    char *path;                 /* NULL: the write failed; memory only */
    char *body;
    char *what;                 /* "STARTED_FAILOVER of U on H", for logs */
    guint attempts;
} Entry;

/* The protection watch's memory of one VM. */
typedef struct Watch {
    char *last;                 /* ftagent_vm_protection() last seen */
    gint64 down_at;             /* mono us: ended unprotected, or 0 */
    char *down_from;            /* the protection it had then */
    guint64 down_generation;
} Watch;

struct FtAgentNotify {
    FtAgent *agent;
    const FtAgentMasakariConfig *config;
    char *outbox, *failed;
    SoupSession *session;
    GQueue queue;               /* Entry*, oldest first; the head is sent */
    gboolean in_flight;
    gboolean timed_out;
    gboolean stopping;
    SoupMessage *msg;
    GCancellable *cancel;
    guint timeout_timer;        /* the attempt's timeout-ms */
    guint retry_timer;          /* the wait before the next attempt */
    guint rescan_timer;         /* an empty queue looks at outbox/ again */
    guint watch_timer;
    GHashTable *watch;          /* vm name -> Watch* */
    guint seq;

    guint64 sent, retries, failed_total;
};

static void send_head(FtAgentNotify *n);

/* ---- files ----------------------------------------------------------------- */

char *ftagent_notify_load_token(const char *path, GError **error)
{
    struct stat st;
    g_autofree char *buf = NULL;
    gsize done = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "[masakari] token-file %s: %s", path,
                    errno == ELOOP ? "is a symbolic link; name the file "
                                     "itself" : g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_mode & 077 ||
        st.st_size < 1 || st.st_size > TOKEN_MAX_LEN) {
        int e = errno;

        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "[masakari] token-file %s: %s", path,
                    !S_ISREG(st.st_mode) ? "not a regular file" :
                    st.st_mode & 077 ? "lets others read it (chmod 600 it)" :
                    st.st_size < 1 || st.st_size > TOKEN_MAX_LEN
                    ? "is empty or larger than 16 KiB" : g_strerror(e));
        close(fd);
        return NULL;
    }
    buf = g_malloc0(st.st_size + 1);
    while (done < (gsize)st.st_size) {
        ssize_t r = read(fd, buf + done, st.st_size - done);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                        "[masakari] token-file %s: %s", path,
                        r < 0 ? g_strerror(errno) : "changed while read");
            close(fd);
            return NULL;
        }
        done += r;
    }
    close(fd);
    g_strstrip(buf);
    for (const char *c = buf; *c; c++) {
        if ((guchar)*c <= ' ' || (guchar)*c >= 0x7f) {
            g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                        "[masakari] token-file %s: not one word of printable "
                        "ASCII (a Keystone token)", path);
            return NULL;
        }
    }
    if (!*buf) {
        g_set_error(error, FTAGENT_ERROR, FTAGENT_ERROR_KEY,
                    "[masakari] token-file %s: holds only white space", path);
        return NULL;
    }
    return g_steal_pointer(&buf);
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) < 0) {
        g_warning("masakari: fsync %s: %s", dir, g_strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
}

/* dir/name holds data, or nothing does: .name.tmp, fsync, rename, fsync */
static gboolean write_durable(const char *dir, const char *name,
                              const char *data, GError **error)
{
    g_autofree char *tmp_name = g_strdup_printf(".%s.tmp", name);
    g_autofree char *tmp = g_build_filename(dir, tmp_name, NULL);
    g_autofree char *path = g_build_filename(dir, name, NULL);
    gsize len = strlen(data), done = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0) {
        goto fail;
    }
    while (done < len) {
        ssize_t r = write(fd, data + done, len - done);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            goto fail;
        }
        done += r;
    }
    if (fsync(fd) < 0) {
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) < 0) {
        goto fail;
    }
    sync_dir(dir);
    return TRUE;
fail:
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                "cannot write %s: %s", path, g_strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return FALSE;
}

static char *describe(const char *body)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *no, *pl;

    if (!json_parser_load_from_data(p, body, -1, NULL)) {
        return g_strdup("?");
    }
    no = json_object_get_object_member(
        json_node_get_object(json_parser_get_root(p)), "notification");
    pl = json_object_get_object_member(no, "payload");
    return g_strdup_printf("%s/%s of instance %s on host %s",
        json_object_get_string_member(pl, "event"),
        json_object_get_string_member(pl, "vir_domain_event"),
        json_object_get_string_member(pl, "instance_uuid"),
        json_object_get_string_member(no, "hostname"));
}

static void entry_free(Entry *e)
{
    g_free(e->name);
    g_free(e->path);
    g_free(e->body);
    g_free(e->what);
    g_free(e);
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file that is not a notification leaves outbox/ for failed/ (it would
 * be refused, and it must not block the queue): named in a warning. */
static void move_to_failed(FtAgentNotify *n, const char *name,
                           const char *why)
{
    g_autofree char *from = g_build_filename(n->outbox, name, NULL);
    g_autofree char *to = g_build_filename(n->failed, name, NULL);

    if (rename(from, to) < 0) {
        g_warning("masakari: %s: %s; and it cannot move to %s: %s", from, why,
                  n->failed, g_strerror(errno));
        return;
    }
    sync_dir(n->outbox);
    sync_dir(n->failed);
    n->failed_total++;
    g_warning("masakari: %s: %s; moved to %s", from, why, to);
}

/* The files in outbox/ into the queue, oldest (lowest name) first. A
 * complete temporary file (the agent ended between its fsync and its
 * rename) is renamed into place; a torn one was never queued. at_start:
 * also name the files that do not belong there (once). */
static void load_outbox(FtAgentNotify *n, gboolean at_start)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(n->outbox, 0, &error);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!dir) {
        g_warning("masakari: %s", error->message);
        return;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(n->outbox, name, NULL);

        if (name[0] == '.' && g_str_has_suffix(name, ".json.tmp")) {
            g_autofree char *text = NULL;
            g_autofree char *final = g_strndup(name + 1, strlen(name) - 5);
            g_autofree char *to = g_build_filename(n->outbox, final, NULL);
            gsize len;

            if (g_file_get_contents(path, &text, &len, NULL) &&
                ftagent_notify_body_check(text, len, NULL) &&
                rename(path, to) == 0) {
                g_message("masakari: recovered %s (written, not yet renamed "
                          "when the agent ended)", to);
                g_ptr_array_add(names, g_steal_pointer(&final));
            } else {
                g_message("masakari: removed the torn %s (the agent ended "
                          "while writing it)", path);
                unlink(path);
            }
            sync_dir(n->outbox);
        } else if (name[0] != '.' && g_str_has_suffix(name, ".json")) {
            g_ptr_array_add(names, g_strdup(name));
        } else if (at_start) {
            g_warning("masakari: %s is no notification file (NAME.json): "
                      "ignored", path);
        }
    }
    g_ptr_array_sort(names, cmp_names);
    for (guint i = 0; i < names->len; i++) {
        const char *nm = g_ptr_array_index(names, i);
        g_autofree char *path = g_build_filename(n->outbox, nm, NULL);
        g_autofree char *text = NULL;
        g_autoptr(GError) local = NULL;
        gsize len;
        Entry *e;

        if (!g_file_get_contents(path, &text, &len, &local) ||
            !ftagent_notify_body_check(text, len, &local)) {
            move_to_failed(n, nm, local->message);
            continue;
        }
        e = g_new0(Entry, 1);
        e->name = g_strdup(nm);
        e->path = g_steal_pointer(&path);
        e->body = g_steal_pointer(&text);
        e->what = describe(e->body);
        g_queue_push_tail(&n->queue, e);
    }
    if (n->queue.length) {
        g_message("masakari: %u notification(s) in %s from before; sending, "
                  "oldest first", n->queue.length, n->outbox);
    }
}

/* ---- sending ---------------------------------------------------------------- */

static void kick(FtAgentNotify *n)
{
    if (!n->stopping && !n->in_flight && !n->retry_timer &&
        n->queue.length) {
        send_head(n);
    }
}

static gboolean on_retry(gpointer data)
{
    FtAgentNotify *n = data;

    n->retry_timer = 0;
    kick(n);
    return G_SOURCE_REMOVE;
}

static void attempt_failed(FtAgentNotify *n, const char *why)
{
    Entry *e = g_queue_peek_head(&n->queue);
    guint delay = ftagent_notify_backoff_ms(n->config->retry_first_ms,
                                            n->config->retry_max_ms,
                                            e->attempts);

    n->retries++;
    g_message("masakari: %s (%s): attempt %u failed: %s; retrying in %u ms",
              e->name, e->what, e->attempts, why, delay);
    if (!n->stopping) {
        n->retry_timer = g_timeout_add(delay, on_retry, n);
    }
}

static void delivered(FtAgentNotify *n, guint status, const char *note)
{
    Entry *e = g_queue_pop_head(&n->queue);

    if (e->path && unlink(e->path) < 0) {
        g_warning("masakari: cannot remove the delivered %s: %s (it will be "
                  "sent again)", e->path, g_strerror(errno));
    } else if (e->path) {
        sync_dir(n->outbox);
    }
    n->sent++;
    g_message("masakari: delivered %s (%s): HTTP %u after %u attempt(s)%s",
              e->name, e->what, status, e->attempts, note);
    entry_free(e);
}

static void refused(FtAgentNotify *n, guint status, const char *reason,
                    const char *reply)
{
    Entry *e = g_queue_pop_head(&n->queue);
    g_autofree char *to = g_build_filename(n->failed, e->name, NULL);
    g_autoptr(GError) error = NULL;
    gboolean kept;

    if (e->path) {
        kept = rename(e->path, to) == 0;
        if (kept) {
            sync_dir(n->outbox);
            sync_dir(n->failed);
        } else {
            g_set_error(&error, G_IO_ERROR, g_io_error_from_errno(errno),
                        "cannot move %s to %s: %s", e->path, to,
                        g_strerror(errno));
        }
    } else {
        kept = write_durable(n->failed, e->name, e->body, &error);
    }
    n->failed_total++;
    g_warning("masakari: %s (%s) refused: HTTP %u %s: %s; not retried (the "
              "body, the hostname, the token or the url is wrong: fix it, "
              "then move the file back into %s)%s%s%s%s", e->name, e->what,
              status, reason ? reason : "", reply,
              n->outbox, kept ? "; kept in " : "; ", kept ? to : error->message,
              kept ? "" : "; its body: ", kept ? "" : e->body);
    entry_free(e);
}

static gboolean on_timeout(gpointer data)
{
    FtAgentNotify *n = data;

    n->timeout_timer = 0;
    n->timed_out = TRUE;
    g_cancellable_cancel(n->cancel);
    return G_SOURCE_REMOVE;
}

/* Masakari answers 409 to a duplicate (an equal notification of the host
 * is new or running) as well as to a host in maintenance: the first means
 * it holds this notification already. */
static gboolean is_duplicate(const char *reply)
{
    return strstr(reply, "is duplicate") != NULL;
}

static gboolean retryable(guint status)
{
    return status == SOUP_STATUS_REQUEST_TIMEOUT ||
           status == SOUP_STATUS_CONFLICT || status == 425 ||
           status == 429 || status >= 500;
}

static void on_sent(GObject *source, GAsyncResult *res, gpointer data)
{
    FtAgentNotify *n = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) reply = soup_session_send_and_read_finish(
        SOUP_SESSION(source), res, &error);
    g_autoptr(SoupMessage) msg = g_steal_pointer(&n->msg);
    g_autofree char *text = NULL;
    guint status;

    n->in_flight = FALSE;
    g_clear_handle_id(&n->timeout_timer, g_source_remove);
    g_clear_object(&n->cancel);
    if (!reply) {
        g_autofree char *why = n->timed_out
            ? g_strdup_printf("no answer within timeout-ms %u",
                              n->config->timeout_ms)
            : g_strdup(error->message);

        attempt_failed(n, why);
        return;
    }
    status = soup_message_get_status(msg);
    text = g_strndup(g_bytes_get_data(reply, NULL),
                     MIN(g_bytes_get_size(reply), REPLY_LOG_MAX));
    g_strdelimit(text, "\r\n\t", ' ');
    if (!g_utf8_validate(text, -1, NULL)) {
        g_free(text);
        text = g_strdup("(not UTF-8)");
    }
    if (SOUP_STATUS_IS_SUCCESSFUL(status)) {
        delivered(n, status, "");
    } else if (status == SOUP_STATUS_CONFLICT && is_duplicate(text)) {
        delivered(n, status, " (a duplicate: Masakari holds an equal "
                             "notification, new or running)");
    } else if (retryable(status)) {
        const char *phrase = soup_message_get_reason_phrase(msg);
        g_autofree char *why = g_strdup_printf(
            "HTTP %u %s: %s", status, phrase ? phrase : "", text);

        attempt_failed(n, why);
        return;
    } else {
        refused(n, status, soup_message_get_reason_phrase(msg), text);
    }
    kick(n);
}

static void send_head(FtAgentNotify *n)
{
    Entry *e = g_queue_peek_head(&n->queue);
    g_autoptr(GError) error = NULL;
    g_autofree char *token = ftagent_notify_load_token(
        n->config->token_file, &error);
    g_autoptr(GBytes) body = NULL;
    SoupMessageHeaders *h;

    e->attempts++;
    if (!token) {
        attempt_failed(n, error->message);
        return;
    }
    n->msg = soup_message_new(SOUP_METHOD_POST, n->config->url);
    if (!n->msg) {
        attempt_failed(n, "libsoup cannot use the url");
        return;
    }
    h = soup_message_get_request_headers(n->msg);
    soup_message_headers_replace(h, "X-Auth-Token", token);
    soup_message_headers_replace(h, "Accept", "application/json");
    body = g_bytes_new(e->body, strlen(e->body));
    soup_message_set_request_body_from_bytes(n->msg, "application/json",
                                             body);
    n->cancel = g_cancellable_new();
    n->timed_out = FALSE;
    n->in_flight = TRUE;
    n->timeout_timer = g_timeout_add(n->config->timeout_ms, on_timeout, n);
    soup_session_send_and_read_async(n->session, n->msg, G_PRIORITY_DEFAULT,
                                     n->cancel, on_sent, n);
}

static gboolean on_rescan(gpointer data)
{
    FtAgentNotify *n = data;

    if (!n->queue.length && !n->in_flight) {
        load_outbox(n, FALSE);
        kick(n);
    }
    return G_SOURCE_CONTINUE;
}

void ftagent_notify_post(FtAgent *agent, const char *event,
                         const char *vir_domain_event, const char *hostname,
                         const char *instance_uuid)
{
    FtAgentNotify *n = agent->notify;
    gint64 now = g_get_real_time();
    g_autoptr(GError) error = NULL;
    Entry *e;

    if (!n) {
        g_debug("masakari: not configured: %s/%s of %s on %s not sent", event,
                vir_domain_event, instance_uuid, hostname);
        return;
    }
    e = g_new0(Entry, 1);
    e->body = ftagent_notify_body(event, vir_domain_event, hostname,
                                  instance_uuid, now);
    e->name = g_strdup_printf("%020" G_GINT64_FORMAT "-%04u-%s-%s.json", now,
                              n->seq++ % 10000, vir_domain_event,
                              ftagent_notify_hostname_valid(hostname)
                              ? hostname : "bad-hostname");
    e->what = g_strdup_printf("%s/%s of instance %s on host %s", event,
                              vir_domain_event, instance_uuid, hostname);
    if (write_durable(n->outbox, e->name, e->body, &error)) {
        e->path = g_build_filename(n->outbox, e->name, NULL);
        g_message("masakari: queued %s (%s)", e->name, e->what);
    } else {
        g_critical("masakari: %s (%s) is kept in memory only (lost if the "
                   "agent ends before Masakari accepts it): %s", e->name,
                   e->what, error->message);
    }
    if (!ftagent_notify_hostname_valid(hostname)) {
        g_warning("masakari: %s: the hostname '%s' is not Masakari's "
                  "[a-zA-Z0-9-._]{1,255}: it will be refused", e->name,
                  hostname);
    }
    g_queue_push_tail(&n->queue, e);
    kick(n);
}

/* ---- the events ------------------------------------------------------------- */

char *ftagent_notify_vm_uuid(FtAgentVm *vm)
{
    g_autoptr(JsonObject) o = NULL;
    const char *u;

    if (vm->config && vm->config->uuid) {
        return g_strdup(vm->config->uuid);
    }
    o = ftagent_vm_to_json(vm);
    u = json_object_get_string_member_with_default(o, "domain-uuid", NULL);
    if (u && g_uuid_string_is_valid(u)) {
        return g_ascii_strdown(u, -1);
    }
    return ftagent_notify_name_uuid(vm->name);
}

static void post_vm(FtAgentVm *vm, const char *vir_domain_event,
                    const char *hostname, const char *why)
{
    g_autofree char *uuid = NULL;

    if (!vm->agent->notify) {
        return;
    }
    uuid = ftagent_notify_vm_uuid(vm);
    g_message("vm %s: Masakari notification %s (host %s, instance %s): %s",
              vm->name, vir_domain_event, hostname, uuid, why);
    ftagent_notify_post(vm->agent, FTAGENT_NOTIFY_LIFECYCLE, vir_domain_event,
                        hostname, uuid);
}

void ftagent_notify_failover(FtAgentVm *vm, const char *failed_host)
{
    g_autofree char *why = g_strdup_printf(
        "failed over from %s: the standby runs on %s", failed_host,
        vm->agent->config->host_id);

    post_vm(vm, FTAGENT_NOTIFY_STARTED_FAILOVER, failed_host, why);
}

void ftagent_notify_protection_lost(FtAgentVm *vm, const char *why)
{
    post_vm(vm, FTAGENT_NOTIFY_PROTECTION_LOST, vm->primary_host, why);
}

void ftagent_notify_cannot_recover(FtAgentVm *vm, const char *failed_host,
                                   const char *why)
{
    post_vm(vm, FTAGENT_NOTIFY_STOPPED_FAILED, failed_host, why);
}

/* ---- the protection watch ----------------------------------------------------- */

static void watch_free(Watch *w)
{
    g_free(w->last);
    g_free(w->down_from);
    g_free(w);
}

/* A primary that ended here unprotected waits this long for a promotion
 * elsewhere (a standby it did not know of) before it counts as lost:
 * a lease, a promotion's QMP call and two peer timeouts. */
static gint64 down_grace_us(FtAgent *agent)
{
    const FtAgentConfig *c = agent->config;

    return (c->lease_ms + c->qmp_timeout_ms + 2ll * c->peer_timeout_ms) *
           1000;
}

static void watch_vm(FtAgentNotify *n, FtAgentVm *vm)
{
    FtAgent *agent = n->agent;
    const char *p = ftagent_vm_protection(vm);
    Watch *w = g_hash_table_lookup(n->watch, vm->name);
    gboolean mine = g_strcmp0(vm->primary_host, agent->config->host_id) == 0;

    if (!w) {
        w = g_new0(Watch, 1);
        w->last = g_strdup(p);  /* the first look: nothing changed yet */
        g_hash_table_insert(n->watch, g_strdup(vm->name), w);
        return;
    }
    if (!g_str_equal(w->last, p)) {
        /*
         * protected -> no-standby, syncing, unprotected: lost here. Not
         * -> down (the primary QEMU ended: the standby's host reports the
         * failover or that it cannot promote), not -> standby or remote
         * (the VM runs elsewhere now), not while a fenced or superseded
         * primary is ended on purpose.
         */
        if (g_str_equal(w->last, "protected") && mine &&
            !g_str_equal(p, "down") && !vm->ending &&
            g_strcmp0(vm->status, "fenced") != 0) {
            g_autofree char *why = g_strdup_printf(
                "protection '%s' (was protected; local status %s, the "
                "standby's %s)", p, vm->status,
                vm->peer_status ? vm->peer_status : "unknown");

            ftagent_notify_protection_lost(vm, why);
        }
        /* a protect VM's unprotected primary ended: nothing can promote,
         * unless a standby this host did not know of does (down_grace_us);
         * policy notify and restart VMs: agent-vm.c tells (or restarts) */
        if (g_str_equal(p, "down") && !g_str_equal(w->last, "protected") &&
            vm->ever_started && vm->policy == FTAGENT_POLICY_PROTECT &&
            (g_str_equal(w->last, "no-standby") ||
             g_str_equal(w->last, "unprotected") ||
             g_str_equal(w->last, "syncing"))) {
            w->down_at = g_get_monotonic_time();
            w->down_generation = vm->generation;
            g_free(w->down_from);
            w->down_from = g_strdup(w->last);
        }
        g_free(w->last);
        w->last = g_strdup(p);
    }
    if (w->down_at && !g_str_equal(p, "down")) {
        w->down_at = 0;         /* it runs again, somewhere */
    } else if (w->down_at &&
               g_get_monotonic_time() - w->down_at >= down_grace_us(agent)) {
        w->down_at = 0;
        if (mine && vm->generation == w->down_generation) {
            g_autofree char *why = g_strdup_printf(
                "its QEMU on %s ended while its protection was '%s': no "
                "standby took it over", vm->primary_host, w->down_from);

            ftagent_notify_cannot_recover(vm, vm->primary_host, why);
        }
    }
}

static gboolean on_watch(gpointer data)
{
    FtAgentNotify *n = data;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, n->agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        watch_vm(n, value);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- start, stop, metrics ------------------------------------------------------ */

static gboolean make_dir(const char *path, GError **error)
{
    if (g_mkdir_with_parents(path, 0700) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean ftagent_notify_start(FtAgent *agent, GError **error)
{
    const FtAgentConfig *c = agent->config;
    g_autofree char *token = NULL;
    g_autofree char *ua = NULL;
    FtAgentNotify *n;

    if (!*c->masakari.url) {
        return TRUE;
    }
    token = ftagent_notify_load_token(c->masakari.token_file, error);
    if (!token) {
        return FALSE;
    }
    n = g_new0(FtAgentNotify, 1);
    n->agent = agent;
    n->config = &c->masakari;
    n->outbox = g_build_filename(c->state_dir, "masakari", "outbox", NULL);
    n->failed = g_build_filename(c->state_dir, "masakari", "failed", NULL);
    g_queue_init(&n->queue);
    n->watch = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)watch_free);
    agent->notify = n;
    if (!make_dir(n->outbox, error) || !make_dir(n->failed, error)) {
        ftagent_notify_stop(agent);
        return FALSE;
    }
    ua = g_strdup_printf("ft-agentd/%s ", FTAGENT_VERSION_STRING);
    n->session = soup_session_new_with_options("user-agent", ua, NULL);
    load_outbox(n, TRUE);
    g_message("masakari: notifications to %s (timeout %u ms, retries after "
              "%u ms doubling to %u ms), outbox %s", n->config->url,
              n->config->timeout_ms, n->config->retry_first_ms,
              n->config->retry_max_ms, n->outbox);
    n->watch_timer = g_timeout_add(c->heartbeat_ms, on_watch, n);
    n->rescan_timer = g_timeout_add(n->config->retry_max_ms, on_rescan, n);
    kick(n);
    return TRUE;
}

void ftagent_notify_stop(FtAgent *agent)
{
    FtAgentNotify *n = agent->notify;

    if (!n) {
        return;
    }
    n->stopping = TRUE;
    g_clear_handle_id(&n->retry_timer, g_source_remove);
    g_clear_handle_id(&n->rescan_timer, g_source_remove);
    g_clear_handle_id(&n->watch_timer, g_source_remove);
    if (n->in_flight) {
        /* the cancelled request completes at once; the files stay */
        g_cancellable_cancel(n->cancel);
        while (n->in_flight) {
            g_main_context_iteration(NULL, TRUE);
        }
    }
    g_clear_handle_id(&n->retry_timer, g_source_remove);
    if (n->queue.length) {
        g_message("masakari: %u notification(s) left in %s for the next "
                  "start", n->queue.length, n->outbox);
    }
    g_queue_clear_full(&n->queue, (GDestroyNotify)entry_free);
    g_clear_object(&n->session);
    g_hash_table_unref(n->watch);
    g_free(n->outbox);
    g_free(n->failed);
    g_free(n);
    agent->notify = NULL;
}

void ftagent_notify_metrics(FtAgent *agent, GString *out)
{
    FtAgentNotify *n = agent->notify;

    g_string_append_printf(out,
        "# HELP ftagent_masakari_sent_total Masakari notifications it "
        "accepted.\n# TYPE ftagent_masakari_sent_total counter\n"
        "ftagent_masakari_sent_total %" G_GUINT64_FORMAT "\n"
        "# HELP ftagent_masakari_retries_total Attempts that failed and are "
        "retried (409, 5xx, no connection, timeout).\n"
        "# TYPE ftagent_masakari_retries_total counter\n"
        "ftagent_masakari_retries_total %" G_GUINT64_FORMAT "\n"
        "# HELP ftagent_masakari_failed_total Notifications it refused (400, "
        "401, 403, ...), kept in state-dir/masakari/failed.\n"
        "# TYPE ftagent_masakari_failed_total counter\n"
        "ftagent_masakari_failed_total %" G_GUINT64_FORMAT "\n"
        "# HELP ftagent_masakari_queued Notifications in the outbox, not "
        "accepted yet.\n# TYPE ftagent_masakari_queued gauge\n"
        "ftagent_masakari_queued %u\n",
        n ? n->sent : 0, n ? n->retries : 0, n ? n->failed_total : 0,
        n ? n->queue.length : 0);
}
