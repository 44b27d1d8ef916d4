/*
 * CRC32C (QEMU's convention) and the pool flush (docs/design.md, section 5).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "ftpool-lib.h"

static uint32_t table[256];

static void __attribute__((constructor)) crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
        }
        table[i] = c;
    }
}

/* crc32c(0xffffffff, "123456789", 9) == 0xe3069283, final xor included. */
uint32_t ftpool_crc32c_table(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len--) {
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return crc ^ 0xffffffff;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = crc;

    while (len >= 8) {
        uint64_t v;

        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    crc = (uint32_t)c;
    while (len--) {
        crc = __builtin_ia32_crc32qi(crc, *p++);
    }
    return crc ^ 0xffffffff;
}
#endif

uint32_t ftpool_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_sse42(crc, buf, len);
    }
#endif
    return ftpool_crc32c_table(crc, buf, len);
}

void ftpool_flush(const void *addr, size_t len)
{
    (void)addr;
    (void)len;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
