/*
 * The bootblock guest's memory pattern: shared by the guest (bootblock.S)
 * and the checker (tools/ramcheck).  Only #defines: the assembler reads it.
 *
 * The guest splits [QFT_BB_REGION_START, min(RAM, QFT_BB_REGION_MAX)) into
 * one slice of whole pages per vCPU.  vCPU i loops forever: it increments
 * its sweep counter c (control block), then for every page P of its slice,
 * in ascending order, stores
 *     dword at P        = c * M(P)
 *     dword at P + 4092 = c * M(P + 4092)
 * where M(a) = QFT_BB_M_OR | ((a * QFT_BB_M_MUL) & QFT_BB_M_MASK) is odd,
 * so that c = dword * M(a)^-1 (mod 2^32).  All other bytes of the region
 * stay zero.  A consistent snapshot of a slice therefore reads
 * [c] * k ++ [c - 1] * (n - k) for some 0 <= k <= n.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QFT_BB_PATTERN_H
#define QFT_BB_PATTERN_H

#define QFT_BB_PAGE             4096
#define QFT_BB_REGION_START     0x100000
#define QFT_BB_REGION_MAX       0xB0000000
#define QFT_BB_M_MUL            0x9E3779B9
#define QFT_BB_M_MASK           0x00FFFFFE
#define QFT_BB_M_OR             0x9E000001
#define QFT_BB_MAX_CPUS         64

/* Control block at guest-physical QFT_BB_CB. */
#define QFT_BB_CB               0x6000
#define QFT_BB_CB_MAGIC_LO      0x42544651      /* "QFTB" */
#define QFT_BB_CB_MAGIC_HI      0x31544f4f      /* "OOT1" */
#define QFT_BB_CB_VERSION       1
#define QFT_BB_CB_OFF_MAGIC     0x00            /* 8 bytes "QFTBOOT1" */
#define QFT_BB_CB_OFF_VERSION   0x08
#define QFT_BB_CB_OFF_NCPUS     0x0c
#define QFT_BB_CB_OFF_START     0x10            /* region start */
#define QFT_BB_CB_OFF_END       0x14            /* region end */
#define QFT_BB_CB_OFF_ARRIVED   0x18            /* vCPUs that started */
#define QFT_BB_CB_OFF_PER       0x1c            /* pages per slice */
#define QFT_BB_CB_OFF_CPU       0x20            /* per-vCPU records: */
#define QFT_BB_CPU_SIZE         16
#define QFT_BB_CPU_OFF_START    0x0             /*   slice start */
#define QFT_BB_CPU_OFF_END      0x4             /*   slice end */
#define QFT_BB_CPU_OFF_SWEEPS   0x8             /*   sweep counter c */
#define QFT_BB_CPU_OFF_STARTED  0xc             /*   1 once it runs */

/* Serial output (COM1): 'S' once all vCPUs run, 'B' every 64 sweeps. */
#define QFT_BB_COM1             0x3f8
#define QFT_BB_B_EVERY_MASK     63

/* Where the APs start (SIPI vector 0x07) and their stacks. */
#define QFT_BB_TRAMPOLINE       0x7000
#define QFT_BB_STACK_TOP        0x80000
#define QFT_BB_STACK_SIZE       0x800

#endif
