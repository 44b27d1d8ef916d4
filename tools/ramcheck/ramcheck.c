/*
 * Check a RAM image of the bootblock guest against its memory invariant.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ramcheck.h"

#include <string.h>

#include "../../tests/guest/bootblock/pattern.h"

G_DEFINE_QUARK(qft-ramcheck-error-quark, qft_ramcheck_error)

static uint32_t multiplier(uint32_t addr)
{
    return QFT_BB_M_OR | ((addr * (uint32_t)QFT_BB_M_MUL) & QFT_BB_M_MASK);
}

/* Inverse of an odd number mod 2^32 (Newton: each step doubles the bits). */
static uint32_t inverse(uint32_t m)
{
    uint32_t x = m;     /* correct to 3 bits for odd m */
    int i;

    for (i = 0; i < 5; i++) {
        x *= 2 - m * x;
    }
    return x;
}

uint32_t qft_ramcheck_encode(uint32_t addr, uint32_t sweep)
{
    return sweep * multiplier(addr);
}

uint32_t qft_ramcheck_decode(uint32_t addr, uint32_t dword)
{
    return dword * inverse(multiplier(addr));
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return GUINT32_FROM_LE(v);
}

/* The sweep a page holds, or an error naming the page and byte. */
static gboolean page_sweep(const uint8_t *image, uint32_t page, uint32_t cpu,
                           uint32_t *sweep, uint32_t *last, GError **error)
{
    const uint8_t *p = image + page;
    uint32_t a = qft_ramcheck_decode(page, rd32(p));
    uint32_t b = qft_ramcheck_decode(page + QFT_BB_PAGE - 4,
                                     rd32(p + QFT_BB_PAGE - 4));
    uint32_t i;

    for (i = 4; i < QFT_BB_PAGE - 4; i++) {
        if (p[i]) {
            g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_PATTERN,
                        "page 0x%x (CPU %u): byte 0x%x is 0x%02x, must be 0",
                        page, cpu, page + i, p[i]);
            return FALSE;
        }
    }
    *sweep = a;
    *last = b;
    return TRUE;
}

gboolean qft_ramcheck_image(const uint8_t *image, size_t len,
                            uint32_t expect_cpus, QftRamcheckResult *out,
                            GError **error)
{
    const uint8_t *cb = image + QFT_BB_CB;
    uint32_t ncpus, start, end, i;

    memset(out, 0, sizeof(*out));
    if (len < QFT_BB_REGION_START ||
        rd32(cb + QFT_BB_CB_OFF_MAGIC) != QFT_BB_CB_MAGIC_LO ||
        rd32(cb + QFT_BB_CB_OFF_MAGIC + 4) != QFT_BB_CB_MAGIC_HI) {
        g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_NOT_IMAGE,
                    "no bootblock control block (magic QFTBOOT1) at 0x%x",
                    QFT_BB_CB);
        return FALSE;
    }
    if (rd32(cb + QFT_BB_CB_OFF_VERSION) != QFT_BB_CB_VERSION) {
        g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_NOT_IMAGE,
                    "control block version %u, expected %u",
                    rd32(cb + QFT_BB_CB_OFF_VERSION), QFT_BB_CB_VERSION);
        return FALSE;
    }
    ncpus = rd32(cb + QFT_BB_CB_OFF_NCPUS);
    start = rd32(cb + QFT_BB_CB_OFF_START);
    end = rd32(cb + QFT_BB_CB_OFF_END);
    if (ncpus == 0 || ncpus > QFT_BB_MAX_CPUS) {
        g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_NOT_IMAGE,
                    "control block: ncpus %u (1 to %u)", ncpus,
                    QFT_BB_MAX_CPUS);
        return FALSE;
    }
    if (start != QFT_BB_REGION_START || end <= start || end > len ||
        end % QFT_BB_PAGE) {
        g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_NOT_IMAGE,
                    "control block: region [0x%x, 0x%x) is not inside the "
                    "%zu-byte image", start, end, len);
        return FALSE;
    }
    if (expect_cpus && ncpus != expect_cpus) {
        g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_CPUS,
                    "the guest has %u vCPUs, expected %u", ncpus, expect_cpus);
        return FALSE;
    }
    out->ncpus = ncpus;
    for (i = 0; i < ncpus; i++) {
        const uint8_t *rec = cb + QFT_BB_CB_OFF_CPU + i * QFT_BB_CPU_SIZE;
        uint32_t s_start = rd32(rec + QFT_BB_CPU_OFF_START);
        uint32_t s_end = rd32(rec + QFT_BB_CPU_OFF_END);
        uint32_t c = rd32(rec + QFT_BB_CPU_OFF_SWEEPS);
        uint32_t page, sweep, last, k = 0;
        gboolean in_prefix = TRUE;

        if (!rd32(rec + QFT_BB_CPU_OFF_STARTED) || c == 0) {
            g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_CPUS,
                        "CPU %u never started writing (sweep counter %u)",
                        i, c);
            return FALSE;
        }
        if (s_start < start || s_end > end || s_start >= s_end ||
            s_start % QFT_BB_PAGE || s_end % QFT_BB_PAGE ||
            (i > 0 && s_start != rd32(rec - QFT_BB_CPU_SIZE +
                                      QFT_BB_CPU_OFF_END)) ||
            (i == ncpus - 1 && s_end != end)) {
            g_set_error(error, QFT_RAMCHECK_ERROR, QFT_RAMCHECK_ERROR_NOT_IMAGE,
                        "control block: slice [0x%x, 0x%x) of CPU %u does not "
                        "tile the region [0x%x, 0x%x)", s_start, s_end, i,
                        start, end);
            return FALSE;
        }
        for (page = s_start; page < s_end; page += QFT_BB_PAGE) {
            if (!page_sweep(image, page, i, &sweep, &last, error)) {
                return FALSE;
            }
            if (sweep != last) {
                /*
                 * The vCPU stopped between the page's two stores: only
                 * possible for the page it was writing, sweep c over c-1.
                 */
                if (!in_prefix || sweep != c || last != c - 1) {
                    g_set_error(error, QFT_RAMCHECK_ERROR,
                                QFT_RAMCHECK_ERROR_PATTERN,
                                "page 0x%x (CPU %u): first dword encodes sweep "
                                "%u, last dword sweep %u%s", page, i, sweep,
                                last, in_prefix ? "" : ", after the page in "
                                "progress");
                    return FALSE;
                }
                in_prefix = FALSE;
                continue;
            }
            if (in_prefix && sweep == c) {
                k++;
                continue;
            }
            if (sweep != c - 1) {
                if (in_prefix) {
                    g_set_error(error, QFT_RAMCHECK_ERROR,
                                QFT_RAMCHECK_ERROR_PATTERN,
                                "page 0x%x (CPU %u): sweep %u, expected %u or "
                                "%u (CPU %u is in sweep %u)", page, i, sweep,
                                c, c - 1, i, c);
                } else {
                    g_set_error(error, QFT_RAMCHECK_ERROR,
                                QFT_RAMCHECK_ERROR_PATTERN,
                                "page 0x%x (CPU %u): sweep %u out of order, "
                                "expected %u (CPU %u is in sweep %u and wrote "
                                "its first %u pages)", page, i, sweep, c - 1,
                                i, c, k);
                }
                return FALSE;
            }
            in_prefix = FALSE;
        }
        out->sweeps[i] = c;
        out->written[i] = k;
        out->pages += (s_end - s_start) / QFT_BB_PAGE;
    }
    return TRUE;
}
