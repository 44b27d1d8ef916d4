/*
 * dirty-ram: the test guest's memory-dirtying load (qft.dirty=MIB).
 * Writes one word into every page of a MIB-MiB buffer, over and over, as
 * fast as it can, and prints how many pages it wrote each second:
 *
 *   qft-dirty: 123456 pages/s
 *
 * A checkpoint's pause and the first write to each page after it (dirty
 * tracking) slow it down: its rate with protection against its rate
 * without is the guest's work rate under fault tolerance.
 * Static, no dependencies (built by build-guest.sh with gcc -static).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long mib = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
    size_t pages, i;
    uint64_t written = 0, t0;
    volatile uint64_t *buf;

    if (mib < 1 || mib > 4096) {
        fprintf(stderr, "usage: dirty-ram MIB (1..4096)\n");
        return 2;
    }
    pages = (size_t)mib * 1024 * 1024 / PAGE;
    buf = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED) {
        perror("dirty-ram: mmap");
        return 1;
    }
    t0 = now_ns();
    for (;;) {
        for (i = 0; i < pages; i++) {
            buf[i * (PAGE / sizeof(*buf))] += 1;
        }
        written += pages;
        if (now_ns() - t0 >= 1000000000u) {
            uint64_t t = now_ns();

            printf("qft-dirty: %llu pages/s\n",
                   (unsigned long long)(written * 1000000000u / (t - t0)));
            fflush(stdout);
            written = 0;
            t0 = t;
        }
    }
}
