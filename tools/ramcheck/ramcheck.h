/*
 * Check a RAM image of the bootblock guest against its memory invariant
 * (tests/guest/bootblock/pattern.h).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QFT_RAMCHECK_H
#define QFT_RAMCHECK_H

#include <glib.h>
#include <stdint.h>

#define QFT_RAMCHECK_ERROR (qft_ramcheck_error_quark())
GQuark qft_ramcheck_error_quark(void);

typedef enum {
    QFT_RAMCHECK_ERROR_NOT_IMAGE,   /* no control block, bad bounds */
    QFT_RAMCHECK_ERROR_CPUS,        /* CPU count differs, a CPU never ran */
    QFT_RAMCHECK_ERROR_PATTERN,     /* the invariant is broken */
} QftRamcheckError;

typedef struct QftRamcheckResult {
    uint32_t ncpus;
    uint64_t pages;                 /* pages checked */
    uint32_t sweeps[64];            /* per-CPU sweep counter */
    uint64_t written[64];           /* pages of sweep c (k) per CPU */
} QftRamcheckResult;

/* expect_cpus 0: any count.  On failure the message names the page. */
gboolean qft_ramcheck_image(const uint8_t *image, size_t len,
                            uint32_t expect_cpus, QftRamcheckResult *out,
                            GError **error);

/* M(a)^-1 * dword: the sweep number a dword at address a encodes. */
uint32_t qft_ramcheck_decode(uint32_t addr, uint32_t dword);
uint32_t qft_ramcheck_encode(uint32_t addr, uint32_t sweep);

#endif
