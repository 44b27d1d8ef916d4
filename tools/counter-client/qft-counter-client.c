/*
 * qft-counter-client: closed-loop client of the test guest's counter
 * service.  Sends one line, waits for the answer, checks it (see
 * counter-check.h), repeats --count times.  With --connections N (a
 * benchmark's load), N connections do so concurrently, each closed-loop,
 * until --count answers in all or the deadline.
 *
 *   qft-counter-client --host H [--port 7000] [--count N] [--timeout-ms T]
 *                      [--reconnect] [--deadline-ms D] [--log FILE] [--json]
 *                      [--connections N]
 *
 * Exit status (QFT_COUNTER_EXIT_*):
 *   0  every request acknowledged, no violation
 *   1  not every request acknowledged (no answer, connection lost without
 *      --reconnect, deadline passed), and no violation
 *   2  usage, or the --log file cannot be opened
 *   3  a violation: an answer broke the ordering rule (counter-check.h:
 *      an acknowledged value lost), or with --connections more than one
 *      answer to a request; the message on stderr names it
 * A violation wins over an incomplete run: scripts test for 3.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "counter-check.h"

enum {
    QFT_COUNTER_EXIT_OK = 0,
    QFT_COUNTER_EXIT_INCOMPLETE = 1,
    QFT_COUNTER_EXIT_USAGE = 2,
    QFT_COUNTER_EXIT_VIOLATION = 3,
};

typedef struct Stats {
    uint64_t acknowledged, first, last, reconnects, errors, violations;
    int64_t max_gap_us;
    int64_t elapsed_us;
    GArray *latency_us;         /* int64_t per acknowledged request */
} Stats;

static int64_t now_us(void)
{
    return g_get_monotonic_time();
}

/* Connect within @timeout_ms; -1 and a message on failure. */
static int connect_to(const struct sockaddr_in *sa, int timeout_ms, GError **error)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1, soerr = 0;
    socklen_t len = sizeof(soerr);
    struct pollfd p = { .fd = fd, .events = POLLOUT };

    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "socket: %s",
                    g_strerror(errno));
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
        errno != EINPROGRESS) {
        soerr = errno;
    } else if (poll(&p, 1, timeout_ms) != 1) {
        soerr = ETIMEDOUT;
    } else {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    }
    if (soerr) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(soerr),
                    "connect: %s", g_strerror(soerr));
        close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* One request; the answer line (without newline) in @line. */
static gboolean request(int fd, int timeout_ms, char *line, size_t size,
                        GError **error)
{
    static const char req[] = "inc\n";
    size_t got = 0;
    int64_t end = now_us() + (int64_t)timeout_ms * 1000;

    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != sizeof(req) - 1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "send: %s",
                    g_strerror(errno));
        return FALSE;
    }
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t left = (end - now_us()) / 1000;
        ssize_t n;

        if (left <= 0 || poll(&p, 1, left) != 1) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "no answer within %d ms", timeout_ms);
            return FALSE;
        }
        n = recv(fd, line + got, size - 1 - got, 0);
        if (n <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                        "connection %s", n == 0 ? "closed" : g_strerror(errno));
            return FALSE;
        }
        got += n;
        line[got] = 0;
        char *nl = memchr(line, '\n', got);
        if (nl) {
            if (nl != line + got - 1) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                            "more than one answer to one request");
                return FALSE;
            }
            *nl = 0;
            return TRUE;
        }
        if (got == size - 1) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "answer longer than %zu bytes", size - 1);
            return FALSE;
        }
    }
}

static int cmp_int64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The @pct percentile of the latencies (sorts them); 0 if none. */
static int64_t percentile(GArray *lat, double pct)
{
    guint i;

    if (!lat->len) {
        return 0;
    }
    g_array_sort(lat, cmp_int64);
    i = (guint)(pct / 100.0 * (lat->len - 1) + 0.5);
    return g_array_index(lat, int64_t, MIN(i, lat->len - 1));
}

static void print_json(gint64 requested, gint connections, const Stats *st)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object(b);
#define MEMBER(name, v) json_builder_set_member_name(b, name); \
                        json_builder_add_int_value(b, v)
    MEMBER("requested", requested);
    MEMBER("acknowledged", st->acknowledged);
    MEMBER("first_value", st->first);
    MEMBER("last_value", st->last);
    MEMBER("reconnects", st->reconnects);
    MEMBER("errors", st->errors);
    MEMBER("max_gap_ms", st->max_gap_us / 1000);
    MEMBER("violations", st->violations);
    MEMBER("connections", connections);
    MEMBER("elapsed_us", st->elapsed_us);
    MEMBER("latency_p50_us", percentile(st->latency_us, 50));
    MEMBER("latency_p99_us", percentile(st->latency_us, 99));
#undef MEMBER
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    text = json_to_string(root, FALSE);
    printf("%s\n", text);
}

/*
 * --connections N: every connection sends its next request as soon as
 * its answer came, all at once through poll().  A failed connection ends
 * the run (a benchmark's load does not reconnect).
 */
typedef struct Conn {
    QftCounterState state;
    int64_t sent;               /* its request went out */
    size_t got;
    char line[64];
} Conn;

static gboolean send_request(int fd, gint i, Stats *st)
{
    static const char req[] = "inc\n";

    if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) == sizeof(req) - 1) {
        return TRUE;
    }
    fprintf(stderr, "qft-counter-client: connection %d: send: %s\n", i,
            g_strerror(errno));
    st->errors++;
    return FALSE;
}

/* Connection @i is readable: FALSE ends the run (an error or violation). */
static gboolean take_answer(int fd, gint i, Conn *c, Stats *st)
{
    g_autoptr(GError) err = NULL;
    ssize_t r = recv(fd, c->line + c->got, sizeof(c->line) - 1 - c->got, 0);
    uint64_t value;
    int64_t t, lat;
    char *nl;

    if (r <= 0) {
        fprintf(stderr, "qft-counter-client: connection %d %s\n", i,
                r == 0 ? "closed" : g_strerror(errno));
        st->errors++;
        return FALSE;
    }
    c->got += r;
    c->line[c->got] = 0;
    nl = memchr(c->line, '\n', c->got);
    if (!nl) {
        if (c->got < sizeof(c->line) - 1) {
            return TRUE;
        }
        fprintf(stderr, "qft-counter-client: connection %d: answer too "
                "long\n", i);
        st->errors++;
        return FALSE;
    }
    *nl = 0;
    if (nl != c->line + c->got - 1) {
        fprintf(stderr, "qft-counter-client: connection %d: more than one "
                "answer to one request\n", i);
        st->violations++;
        return FALSE;
    }
    if (!qft_counter_parse(c->line, &value, &err) ||
        !qft_counter_accept(&c->state, value, &err)) {
        fprintf(stderr, "qft-counter-client: connection %d: %s\n", i,
                err->message);
        st->violations++;
        return FALSE;
    }
    c->got = 0;
    t = now_us();
    lat = t - c->sent;
    g_array_append_val(st->latency_us, lat);
    st->max_gap_us = MAX(st->max_gap_us, lat);
    if (!st->acknowledged) {
        st->first = value;
    }
    st->last = MAX(st->last, value);
    st->acknowledged++;
    c->sent = t;
    return send_request(fd, i, st);
}

/*
 * --connections N: every connection sends its next request as soon as
 * its answer came, all through one poll().  A failed connection ends the
 * run (a benchmark's load does not reconnect).
 */
static void run_many(const struct sockaddr_in *sa, gint connections,
                     gint64 count, int timeout_ms, gint64 deadline_ms,
                     Stats *st)
{
    g_autofree struct pollfd *p = g_new0(struct pollfd, connections);
    g_autofree Conn *c = g_new0(Conn, connections);
    int64_t start = now_us();
    gint i, open = 0;

    for (i = 0; i < connections; i++) {
        g_autoptr(GError) err = NULL;

        p[i].fd = connect_to(sa, timeout_ms, &err);
        p[i].events = POLLIN;
        c[i].state.shared = TRUE;
        if (p[i].fd < 0) {
            fprintf(stderr, "qft-counter-client: connection %d: %s\n", i,
                    err->message);
            st->errors++;
            goto out;
        }
        open++;
    }
    for (i = 0; i < connections; i++) {
        c[i].sent = now_us();
        if (!send_request(p[i].fd, i, st)) {
            goto out;
        }
    }
    while ((gint64)st->acknowledged < count) {
        if (deadline_ms && now_us() - start > deadline_ms * 1000) {
            break;
        }
        if (poll(p, connections, timeout_ms) <= 0) {
            fprintf(stderr, "qft-counter-client: no answer on any of %d "
                    "connections within %d ms\n", connections, timeout_ms);
            st->errors++;
            break;
        }
        for (i = 0; i < connections; i++) {
            if ((p[i].revents & (POLLIN | POLLERR | POLLHUP)) &&
                !take_answer(p[i].fd, i, &c[i], st)) {
                goto out;
            }
        }
    }
out:
    st->elapsed_us = now_us() - start;
    for (i = 0; i < open; i++) {
        close(p[i].fd);
    }
}

int main(int argc, char **argv)
{
    g_autofree char *host = NULL, *log_path = NULL;
    gint port = 7000, timeout_ms = 5000, connections = 1;
    gint64 count = 1, deadline_ms = 0;
    gboolean json = FALSE, reconnect = FALSE;
    GOptionEntry entries[] = {
        { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Service address (IPv4)", "ADDR" },
        { "port", 0, 0, G_OPTION_ARG_INT, &port, "Service port (7000)", "PORT" },
        { "count", 0, 0, G_OPTION_ARG_INT64, &count, "Requests (1)", "N" },
        { "timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout_ms,
          "Per connect and request (5000)", "MS" },
        { "reconnect", 0, 0, G_OPTION_ARG_NONE, &reconnect,
          "Reconnect after a lost connection or timeout", NULL },
        { "deadline-ms", 0, 0, G_OPTION_ARG_INT64, &deadline_ms,
          "Give up after this long in all (0: none)", "MS" },
        { "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
          "Append \"<realtime_us> <value>\" per acknowledged value", "FILE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON summary", NULL },
        { "connections", 0, 0, G_OPTION_ARG_INT, &connections,
          "Concurrent closed-loop connections (1)", "N" },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_autoptr(GError) err = NULL;
    struct sockaddr_in sa = { .sin_family = AF_INET };
    QftCounterState state = { 0 };
    Stats st = { .latency_us = g_array_new(FALSE, FALSE, sizeof(int64_t)) };
    FILE *log = NULL;
    int64_t start = now_us(), last_ack = 0;
    int fd = -1;

    g_option_context_set_summary(ctx, "Closed-loop client of the qemu-ft test "
                                 "guest's counter service.");
    g_option_context_set_description(ctx, "Exit status: 0 every request "
        "acknowledged; 1 not every request acknowledged (no answer, a lost "
        "connection, the deadline), no violation; 2 usage; 3 a violation "
        "(an answer not above the last acknowledged one, a gap on one "
        "connection; with --connections, two answers to one request), "
        "named on stderr.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "qft-counter-client: %s\n", err->message);
        return QFT_COUNTER_EXIT_USAGE;
    }
    if (argc != 1 || !host || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        port < 1 || port > 65535 || count < 1 || timeout_ms < 1 ||
        deadline_ms < 0 || connections < 1 || connections > 1024) {
        fprintf(stderr, "qft-counter-client: need --host IPV4, a port in "
                "1..65535, --count >= 1, --timeout-ms >= 1, --connections "
                "in 1..1024\n");
        return QFT_COUNTER_EXIT_USAGE;
    }
    if (connections > 1 && (reconnect || log_path)) {
        fprintf(stderr, "qft-counter-client: --connections above 1 is a "
                "benchmark's load: no --reconnect, no --log\n");
        return QFT_COUNTER_EXIT_USAGE;
    }
    sa.sin_port = htons(port);
    if (log_path && !(log = fopen(log_path, "a"))) {
        fprintf(stderr, "qft-counter-client: %s: %s\n", log_path,
                g_strerror(errno));
        return QFT_COUNTER_EXIT_USAGE;
    }

    if (connections > 1) {
        run_many(&sa, connections, count, timeout_ms, deadline_ms, &st);
    }
    while (connections == 1 && (gint64)st.acknowledged < count) {
        char line[64];
        uint64_t value;
        int64_t t_req;

        if (deadline_ms && now_us() - start > deadline_ms * 1000) {
            fprintf(stderr, "qft-counter-client: deadline of %" G_GINT64_FORMAT
                    " ms passed\n", deadline_ms);
            break;
        }
        g_clear_error(&err);
        if (fd < 0) {
            fd = connect_to(&sa, timeout_ms, &err);
        }
        t_req = now_us();
        if (fd >= 0 && request(fd, timeout_ms, line, sizeof(line), &err)) {
            if (!qft_counter_parse(line, &value, &err) ||
                !qft_counter_accept(&state, value, &err)) {
                fprintf(stderr, "qft-counter-client: %s\n", err->message);
                st.violations++;
                break;
            }
            int64_t t = now_us(), lat = t - t_req;

            g_array_append_val(st.latency_us, lat);
            if (st.acknowledged) {
                st.max_gap_us = MAX(st.max_gap_us, t - last_ack);
            } else {
                st.first = value;
            }
            last_ack = t;
            st.last = value;
            st.acknowledged++;
            if (log) {
                /* wall clock, comparable with the agents' timelines */
                fprintf(log, "%" PRId64 " %" PRIu64 "\n", g_get_real_time(),
                        value);
                fflush(log);
            }
            continue;
        }
        st.errors++;
        if (fd >= 0) {
            /*
             * Abandon it with a reset, not a FIN: the kernel would go on
             * retransmitting the unanswered request for minutes, and a
             * copy landing in the guest after we moved to a new connection
             * would be an increment between two answers there that no
             * request of ours on it asked for.
             */
            struct linger abort_close = { .l_onoff = 1, .l_linger = 0 };

            setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close,
                       sizeof(abort_close));
            close(fd);
            fd = -1;
        }
        if (!reconnect) {
            fprintf(stderr, "qft-counter-client: %s:%d: %s\n", host, port,
                    err->message);
            break;
        }
        st.reconnects++;
        state.reconnected = TRUE;
        g_usleep(10 * 1000);
    }
    if (connections == 1) {
        st.elapsed_us = now_us() - start;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (log) {
        fclose(log);
    }
    if (json) {
        print_json(count, connections, &st);
    } else {
        printf("%" PRIu64 " of %" G_GINT64_FORMAT " acknowledged, values %"
               PRIu64 "..%" PRIu64 ", %" PRIu64 " reconnects, max gap %"
               PRId64 " ms\n", st.acknowledged, count, st.first, st.last,
               st.reconnects, st.max_gap_us / 1000);
    }
    g_array_free(st.latency_us, TRUE);
    if (st.violations) {
        return QFT_COUNTER_EXIT_VIOLATION;
    }
    return (gint64)st.acknowledged < count ? QFT_COUNTER_EXIT_INCOMPLETE
                                           : QFT_COUNTER_EXIT_OK;
}
