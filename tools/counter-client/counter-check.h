/*
 * The counter service's answers and the rule every client checks: each
 * acknowledged value is above the last one, and exactly one above it unless
 * the client reconnected in between (an unanswered request may or may not
 * have been counted) or other connections share the counter (--connections:
 * their increments come in between).
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QFT_COUNTER_CHECK_H
#define QFT_COUNTER_CHECK_H

#include <glib.h>
#include <stdint.h>

#define QFT_COUNTER_ERROR (qft_counter_error_quark())
GQuark qft_counter_error_quark(void);

typedef enum {
    QFT_COUNTER_ERROR_GARBAGE,      /* not a decimal number */
    QFT_COUNTER_ERROR_OVERFLOW,
    QFT_COUNTER_ERROR_NOT_ABOVE,    /* <= the last acknowledged value */
    QFT_COUNTER_ERROR_GAP,          /* skipped values without a reconnect */
} QftCounterError;

typedef struct QftCounterState {
    gboolean have_last;
    uint64_t last;
    gboolean reconnected;           /* since the last acknowledged value */
    gboolean shared;                /* other connections count too */
} QftCounterState;

/* "123" (no newline) -> 123; anything else is an error naming it. */
gboolean qft_counter_parse(const char *line, uint64_t *value, GError **error);

/* Apply the rule to a new answer; on success it becomes the last value. */
gboolean qft_counter_accept(QftCounterState *s, uint64_t value, GError **error);

#endif
