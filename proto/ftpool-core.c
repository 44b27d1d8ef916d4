/*
 * libftpool's copy of the pool rules: ftpool-core.c.inc, the same file QEMU
 * compiles as migration/ftpool-core.c.inc.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftpool-core.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the pool layout is little-endian and used in place"
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define FTPOOL_CRC_SSE42 1
#endif

#include "ftpool-core.c.inc"
