/*
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "counter-check.h"

G_DEFINE_QUARK(qft-counter-error-quark, qft_counter_error)

gboolean qft_counter_parse(const char *line, uint64_t *value, GError **error)
{
    uint64_t v = 0;
    const char *p;

    if (!*line) {
        g_set_error(error, QFT_COUNTER_ERROR, QFT_COUNTER_ERROR_GARBAGE,
                    "empty answer");
        return FALSE;
    }
    for (p = line; *p; p++) {
        if (*p < '0' || *p > '9') {
            g_autofree char *shown = g_strescape(line, NULL);

            g_set_error(error, QFT_COUNTER_ERROR, QFT_COUNTER_ERROR_GARBAGE,
                        "answer \"%.40s\" is not a decimal number", shown);
            return FALSE;
        }
        if (v > (UINT64_MAX - (*p - '0')) / 10) {
            g_set_error(error, QFT_COUNTER_ERROR, QFT_COUNTER_ERROR_OVERFLOW,
                        "answer \"%.40s\" overflows 64 bits", line);
            return FALSE;
        }
        v = v * 10 + (*p - '0');
    }
    *value = v;
    return TRUE;
}

gboolean qft_counter_accept(QftCounterState *s, uint64_t value, GError **error)
{
    if (s->have_last && value <= s->last) {
        g_set_error(error, QFT_COUNTER_ERROR, QFT_COUNTER_ERROR_NOT_ABOVE,
                    "answer %" PRIu64 " is not above the last acknowledged "
                    "value %" PRIu64 ": an acknowledged increment was lost",
                    value, s->last);
        return FALSE;
    }
    if (s->have_last && !s->reconnected && !s->shared &&
        value != s->last + 1) {
        g_set_error(error, QFT_COUNTER_ERROR, QFT_COUNTER_ERROR_GAP,
                    "answer %" PRIu64 " after %" PRIu64 " on the same "
                    "connection: expected %" PRIu64, value, s->last,
                    s->last + 1);
        return FALSE;
    }
    s->have_last = TRUE;
    s->last = value;
    s->reconnected = FALSE;
    return TRUE;
}
