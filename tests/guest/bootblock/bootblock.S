/*
 * qemu-ft bootblock guest: a boot sector (plus three sectors it loads) that puts every vCPU to
 * work rewriting its slice of RAM in a checkable pattern (pattern.h), in
 * the spirit of QEMU's migration-test bootblock, but multi-vCPU.
 *
 * BSP: real mode -> A20 -> flat 32-bit protected mode; CPU count and RAM
 * size from fw_cfg; control block; AP trampoline at 0x7000; INIT-SIPI-SIPI
 * to all other CPUs; then it sweeps like every AP.
 *
 * Copyright (c) 2026 qemu-ft developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pattern.h"

#define CB(off)         (QFT_BB_CB + (off))
#define FW_CFG_CTL      0x510
#define FW_CFG_DATA     0x511
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS  0x05
#define LAPIC_ICR_LO    0xfee00300
#define LAPIC_ICR_HI    0xfee00310
#define ICR_INIT_ALL    0x000c4500      /* all but self, assert, INIT */
#define ICR_SIPI_ALL    (0x000c4600 | (QFT_BB_TRAMPOLINE >> 12))

.macro SEG_INIT                   /* flat data segments; no stack yet */
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
.endm

    .code16
    .section .text
    .globl start
start:
    cli
    cld
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    $0x7c00, %esp
    ljmp    $0, $1f                 /* CS = 0 */
1:
    /* sectors 2-4 (the rest of this image) to 0x7e00; dl = boot drive */
    movw    $0x0203, %ax
    movw    $0x7e00, %bx
    movw    $0x0002, %cx
    xorb    %dh, %dh
    int     $0x13
    jmp     stage2

    .org    510
    .byte   0x55, 0xaa

stage2:
    /* AP trampoline to 0x7000 */
    movw    $ap_tramp, %si
    movw    $QFT_BB_TRAMPOLINE, %di
    movw    $(ap_tramp_end - ap_tramp), %cx
    rep movsb
    /* fast A20 */
    inb     $0x92, %al
    orb     $2, %al
    andb    $0xfe, %al
    outb    %al, $0x92
    lgdtl   gdt_desc
    movl    %cr0, %eax
    orb     $1, %al
    movl    %eax, %cr0
    ljmpl   $0x08, $bsp32

/* Copied to QFT_BB_TRAMPOLINE; an AP starts here in real mode. */
ap_tramp:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    lgdtl   gdt_desc
    movl    %cr0, %eax
    orb     $1, %al
    movl    %eax, %cr0
    ljmpl   $0x08, $ap32
ap_tramp_end:

    .code32
bsp32:
    SEG_INIT
    movl    $QFT_BB_STACK_TOP, %esp
    /* fw_cfg: CPU count */
    movw    $FW_CFG_NB_CPUS, %ax
    movw    $FW_CFG_CTL, %dx
    outw    %ax, %dx
    movw    $FW_CFG_DATA, %dx
    inb     %dx, %al
    movb    %al, %bl
    inb     %dx, %al
    movb    %al, %bh
    movzwl  %bx, %ebx
    cmpl    $QFT_BB_MAX_CPUS, %ebx
    jbe     1f
    movl    $QFT_BB_MAX_CPUS, %ebx
1:  movl    %ebx, CB(QFT_BB_CB_OFF_NCPUS)
    /* fw_cfg: RAM size (64-bit LE), capped at QFT_BB_REGION_MAX */
    movw    $FW_CFG_RAM_SIZE, %ax
    movw    $FW_CFG_CTL, %dx
    outw    %ax, %dx
    movw    $FW_CFG_DATA, %dx
    movl    $4, %ecx
2:  inb     %dx, %al
    shrdl   $8, %eax, %esi          /* bytes 0-3, little-endian */
    loop    2b
    movl    $4, %ecx
    xorl    %edi, %edi
3:  inb     %dx, %al                /* bytes 4-7: any bit set caps */
    movzbl  %al, %eax
    orl     %eax, %edi
    loop    3b
    movl    $QFT_BB_REGION_MAX, %eax
    testl   %edi, %edi
    jnz     5f
    cmpl    %eax, %esi
    jae     5f
    movl    %esi, %eax
5:  andl    $~(QFT_BB_PAGE - 1), %eax
    movl    %eax, CB(QFT_BB_CB_OFF_END)
    movl    $QFT_BB_REGION_START, CB(QFT_BB_CB_OFF_START)
    /* pages per slice = (end - start) / PAGE / ncpus */
    subl    $QFT_BB_REGION_START, %eax
    shrl    $12, %eax
    xorl    %edx, %edx
    divl    %ebx
    movl    %eax, CB(QFT_BB_CB_OFF_PER)
    /* slices */
    shll    $12, %eax               /* bytes per slice */
    movl    $QFT_BB_REGION_START, %edx
    movl    $CB(QFT_BB_CB_OFF_CPU), %edi
    movl    %ebx, %ecx
6:  movl    %edx, QFT_BB_CPU_OFF_START(%edi)
    addl    %eax, %edx
    cmpl    $1, %ecx
    jne     7f
    movl    CB(QFT_BB_CB_OFF_END), %edx    /* the last takes the rest */
7:  movl    %edx, QFT_BB_CPU_OFF_END(%edi)
    addl    $QFT_BB_CPU_SIZE, %edi
    loop    6b
    /* zero the region: the firmware left tables at the top of RAM */
    movl    $QFT_BB_REGION_START, %edi
    movl    CB(QFT_BB_CB_OFF_END), %ecx
    subl    %edi, %ecx
    shrl    $2, %ecx
    xorl    %eax, %eax
    rep stosl
    movl    $QFT_BB_CB_VERSION, CB(QFT_BB_CB_OFF_VERSION)
    movl    $QFT_BB_CB_MAGIC_LO, CB(QFT_BB_CB_OFF_MAGIC)
    movl    $QFT_BB_CB_MAGIC_HI, CB(QFT_BB_CB_OFF_MAGIC + 4)
    movl    $1, CB(QFT_BB_CB_OFF_ARRIVED)   /* the BSP is CPU 0 */
    cmpl    $1, %ebx
    je      9f
    /* INIT, then SIPI twice, to all other CPUs */
    movl    $0, LAPIC_ICR_HI
    movl    $ICR_INIT_ALL, LAPIC_ICR_LO
    call    delay
    movl    $ICR_SIPI_ALL, LAPIC_ICR_LO
    call    delay
    movl    $ICR_SIPI_ALL, LAPIC_ICR_LO
8:  pause
    cmpl    CB(QFT_BB_CB_OFF_ARRIVED), %ebx
    ja      8b
9:  movb    $'S', %al
    call    putc
    xorl    %ebp, %ebp              /* index 0 */
    jmp     sweep

ap32:
    SEG_INIT
    movl    $1, %ebp
    lock xaddl %ebp, CB(QFT_BB_CB_OFF_ARRIVED)
    movl    %ebp, %esp              /* stack: TOP - index * SIZE */
    shll    $11, %esp
    negl    %esp
    addl    $QFT_BB_STACK_TOP, %esp

/* ebp = CPU index.  Never returns. */
sweep:
    movl    %ebp, %esi
    shll    $4, %esi
    addl    $CB(QFT_BB_CB_OFF_CPU), %esi
    movl    $1, QFT_BB_CPU_OFF_STARTED(%esi)
1:  movl    QFT_BB_CPU_OFF_SWEEPS(%esi), %ecx
    incl    %ecx
    movl    %ecx, QFT_BB_CPU_OFF_SWEEPS(%esi)
    movl    QFT_BB_CPU_OFF_START(%esi), %edi
2:  cmpl    QFT_BB_CPU_OFF_END(%esi), %edi
    jae     3f
    movl    %edi, %eax
    call    pattern
    movl    %eax, (%edi)
    leal    (QFT_BB_PAGE - 4)(%edi), %eax
    call    pattern
    movl    %eax, (QFT_BB_PAGE - 4)(%edi)
    addl    $QFT_BB_PAGE, %edi
    jmp     2b
3:  testl   %ebp, %ebp
    jnz     1b
    testl   $QFT_BB_B_EVERY_MASK, %ecx
    jnz     1b
    movb    $'B', %al
    call    putc
    jmp     1b

/* eax = address, ecx = c  ->  eax = c * M(address) */
pattern:
    imull   $QFT_BB_M_MUL, %eax, %eax
    andl    $QFT_BB_M_MASK, %eax
    orl     $QFT_BB_M_OR, %eax
    imull   %ecx, %eax
    ret

putc:
    movw    $QFT_BB_COM1, %dx
    outb    %al, %dx
    ret

/* A few ms of port I/O (0x80 takes ~1 us on real hardware). */
delay:
    movl    $10000, %ecx
1:  outb    %al, $0x80
    loop    1b
    ret

    .p2align 3
gdt:
    .quad   0
    .quad   0x00cf9a000000ffff      /* 0x08: code, flat, 32-bit */
    .quad   0x00cf92000000ffff      /* 0x10: data, flat */
gdt_desc:
    .word   gdt_desc - gdt - 1
    .long   gdt

    .org    2048
