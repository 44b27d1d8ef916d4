/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qemu-ft agent peer protocol, version 1: the single source of truth for
 * ft-agentd and the tools that talk to it (ft-agent-send). docs/protocol.md
 * explains it; this header defines it.
 *
 * Transport: one UDP datagram per message, at most FTAGENT_MAX_DATAGRAM
 * bytes:
 *
 *   FtAgentWireHeader (FTAGENT_HEADER_LEN bytes, little endian, packed)
 *   payload           (payload_len bytes: a JSON object, UTF-8, no NUL)
 *   HMAC-SHA256       (FTAGENT_HMAC_LEN bytes over header + payload, keyed
 *                      with the shared key file's contents)
 *
 * A receiver drops, counts and logs, and never acts on, a datagram that is
 * malformed (size, magic, version, type, lengths, sender name, payload not a
 * JSON object), unauthenticated (HMAC mismatch, compared in constant time)
 * or replayed (its (incarnation, seq) not above the last one accepted from
 * that sender). incarnation is the sender's start time in ns since the
 * epoch (CLOCK_REALTIME): a restarted agent's messages supersede its old
 * ones; seq starts at 1 for each incarnation and grows by one per message.
 * sent_ns is CLOCK_REALTIME when sent (notification latency; hosts are
 * assumed NTP/PTP-synchronised, docs/protocol.md).
 */
#ifndef FTAGENT_H
#define FTAGENT_H

#include <stdint.h>

#define FTAGENT_MAGIC           0x47415446u   /* "FTAG" as little-endian bytes */
#define FTAGENT_VERSION         1
#define FTAGENT_HMAC_LEN        32
#define FTAGENT_SENDER_LEN      32            /* NUL-padded host id */
#define FTAGENT_MAX_DATAGRAM    8192
#define FTAGENT_DEFAULT_PORT    7070
/*
 * A host's out-of-band sender (watchdog, BMC, panic notifier, operator
 * tool) signs as "HOST.oob": its own replay sequence, so it never disturbs
 * the agent's; it may send last-gasp and failover-request only. Host ids
 * are therefore at most FTAGENT_SENDER_LEN - 5 = 27 characters.
 */
#define FTAGENT_OOB_SUFFIX      ".oob"
#define FTAGENT_HOST_ID_MAX     (FTAGENT_SENDER_LEN - 5)

typedef enum FtAgentMsgType {
    /* Periodic: sender's host id and, per VM it runs, role/status/epoch. */
    FTAGENT_MSG_HEARTBEAT = 1,
    /* The sender's pidfd saw a protected primary QEMU exit. */
    FTAGENT_MSG_QEMU_DIED = 2,
    /* The sender's host is going down (watchdog, BMC, panic notifier). */
    FTAGENT_MSG_LAST_GASP = 3,
    /* Fail this VM over (operator, RAS on the primary's host). */
    FTAGENT_MSG_FAILOVER_REQUEST = 4,
    /* The sender promoted a standby: the VM now runs there. */
    FTAGENT_MSG_PROMOTED = 5,
} FtAgentMsgType;

#define FTAGENT_MSG_TYPE_MAX    FTAGENT_MSG_PROMOTED

typedef struct __attribute__((packed)) FtAgentWireHeader {
    uint32_t magic;             /* FTAGENT_MAGIC */
    uint16_t version;           /* FTAGENT_VERSION */
    uint16_t type;              /* FtAgentMsgType */
    uint64_t incarnation;       /* sender start, ns since the epoch */
    uint64_t seq;               /* 1, 2, ... within an incarnation */
    int64_t sent_ns;            /* CLOCK_REALTIME at send */
    char sender[FTAGENT_SENDER_LEN]; /* host id [A-Za-z0-9_.-], not empty,
                                      * NUL-padded; a 32-byte id fills it */
    uint32_t payload_len;       /* bytes of JSON after the header */
    uint32_t reserved;          /* 0 */
} FtAgentWireHeader;

#define FTAGENT_HEADER_LEN      ((int)sizeof(FtAgentWireHeader))
#define FTAGENT_MAX_PAYLOAD \
    (FTAGENT_MAX_DATAGRAM - FTAGENT_HEADER_LEN - FTAGENT_HMAC_LEN)

_Static_assert(sizeof(FtAgentWireHeader) == 72, "wire header is 72 bytes");

#endif
