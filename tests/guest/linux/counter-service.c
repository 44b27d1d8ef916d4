/*
 * counter-service: the test guest's TCP service (guest contract,
 * design-notes "Decisions taken").  Each line a client sends increments
 * one counter; the answer is the new value and a newline.  With --log,
 * every value is appended to the log and fsync()ed before the answer, and
 * a restart resumes from the last value in the log.
 *
 *   counter-service [--port 7000] [--log PATH]
 *
 * --port 0 takes a free port (host-side tests); the "listening on" line
 * names it.
 * Static, no dependencies (built by build-guest.sh with gcc -static).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_CLIENTS 256
#define MAX_LINE    256

struct client {
    int fd;
    size_t len;
    char buf[MAX_LINE];
};

static uint64_t counter;
static int log_fd = -1;

static void die(const char *what)
{
    fprintf(stderr, "counter-service: %s: %s\n", what, strerror(errno));
    exit(1);
}

/*
 * The last value of the log.  Every complete line must be a decimal value
 * above the one before it; anything else is a corrupt log and we refuse to
 * count on from it.  A torn last line (no newline: the write or its fsync
 * never finished, so that value was never answered) is cut off, so that
 * the next append starts on a line of its own.
 */
static uint64_t resume(const char *path)
{
    char buf[4096];
    uint64_t last = 0, cur = 0, line = 1;
    off_t pos = 0, good = 0;    /* good: the end of the last complete line */
    int digits = 0, bad = 0;
    ssize_t n;
    int fd = open(path, O_RDWR);

    if (fd < 0) {
        if (errno == ENOENT) {
            return 0;
        }
        die(path);
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        for (ssize_t i = 0; i < n; i++, pos++) {
            char c = buf[i];

            if (c == '\n') {
                if (bad || !digits || (line > 1 && cur <= last)) {
                    fprintf(stderr, "counter-service: %s: line %" PRIu64
                            " is not a value above %" PRIu64 ": corrupt log,"
                            " refusing to count on\n", path, line, last);
                    exit(1);
                }
                last = cur;
                cur = digits = bad = 0;
                good = pos + 1;
                line++;
            } else if (c >= '0' && c <= '9' && digits < 19) {
                cur = cur * 10 + (c - '0');
                digits++;
            } else {
                bad = 1;
            }
        }
    }
    if (n < 0) {
        die(path);
    }
    if (pos != good) {
        fprintf(stderr, "counter-service: %s: dropping a torn last line "
                "(%lld bytes, never answered)\n", path,
                (long long)(pos - good));
        if (ftruncate(fd, good) < 0 || fsync(fd) < 0) {
            die(path);
        }
    }
    close(fd);
    return last;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

/* One request: count, persist, answer. 0 keeps the client, -1 drops it. */
static int serve_line(int fd)
{
    char out[32];
    int len;

    counter++;
    len = snprintf(out, sizeof(out), "%" PRIu64 "\n", counter);
    if (log_fd >= 0) {
        if (write_all(log_fd, out, len) < 0 || fsync(log_fd) < 0) {
            die("log");     /* never answer what is not on disk */
        }
    }
    return write_all(fd, out, len);
}

static int on_readable(struct client *c)
{
    ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    size_t start = 0;

    if (n <= 0) {
        return -1;
    }
    c->len += n;
    for (size_t i = 0; i < c->len; i++) {
        if (c->buf[i] == '\n') {
            if (serve_line(c->fd) < 0) {
                return -1;
            }
            start = i + 1;
        }
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    if (c->len == sizeof(c->buf)) {
        static const char err[] = "error: line longer than 256 bytes\n";

        write_all(c->fd, err, sizeof(err) - 1);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct client clients[MAX_CLIENTS];
    struct pollfd pfd[MAX_CLIENTS + 1];
    struct sockaddr_in addr = { .sin_family = AF_INET };
    const char *log_path = NULL;
    long port = 7000;
    socklen_t alen = sizeof(addr);
    int one = 1, lfd;

    for (int i = 1; i < argc; i++) {
        char *end;

        if (!strcmp(argv[i], "--port") && i + 1 < argc) {
            port = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || port < 0 || port > 65535) {
                fprintf(stderr, "counter-service: bad port %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
            log_path = argv[++i];
        } else {
            fprintf(stderr, "usage: counter-service [--port N] [--log PATH]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (log_path) {
        counter = resume(log_path);
        log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log_fd < 0) {
            die(log_path);
        }
    }
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        die("socket");
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    addr.sin_port = htons(port);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(lfd, 64) < 0) {
        die("listen");
    }
    if (getsockname(lfd, (struct sockaddr *)&addr, &alen) < 0) {
        die("getsockname");
    }
    for (int i = 0; i < MAX_CLIENTS; i++) {
        clients[i].fd = -1;
    }
    printf("counter-service: listening on %d, counter %" PRIu64 "\n",
           ntohs(addr.sin_port), counter);
    fflush(stdout);
    for (;;) {
        int n = 0;

        pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (int i = 0; i < MAX_CLIENTS; i++) {
            pfd[n++] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
        }
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("poll");
        }
        if (pfd[0].revents & POLLIN) {
            int fd = accept(lfd, NULL, NULL);
            int i;

            for (i = 0; fd >= 0 && i < MAX_CLIENTS; i++) {
                if (clients[i].fd < 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    clients[i].fd = fd;
                    clients[i].len = 0;
                    break;
                }
            }
            if (fd >= 0 && i == MAX_CLIENTS) {
                close(fd);      /* full: the client sees a closed connection */
            }
        }
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd >= 0 && pfd[i + 1].revents &&
                on_readable(&clients[i]) < 0) {
                close(clients[i].fd);
                clients[i].fd = -1;
            }
        }
    }
}
