/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libftagent-proto: encode, authenticate, decode and replay-check the peer
 * messages of ftagent.h. No I/O but reading the key file.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "ftagent.h"

G_BEGIN_DECLS

#define FTAGENT_ERROR (ftagent_error_quark())
GQuark ftagent_error_quark(void);

typedef enum {
    FTAGENT_ERROR_KEY,          /* key file missing, not 0600, bad size */
    FTAGENT_ERROR_MALFORMED,    /* size, magic, lengths, sender, JSON */
    FTAGENT_ERROR_VERSION,      /* a version this build does not speak */
    FTAGENT_ERROR_AUTH,         /* HMAC mismatch */
    FTAGENT_ERROR_REPLAYED,     /* (incarnation, seq) not above the last */
} FtAgentError;

/* The shared key: the bytes of a regular file of mode 0600 (or stricter),
 * 16..1024 bytes long. */
typedef struct FtAgentKey {
    guint8 bytes[1024];
    gsize len;
} FtAgentKey;

gboolean ftagent_key_load(const char *path, FtAgentKey *key, GError **error);

typedef struct FtAgentMsg {
    FtAgentMsgType type;
    guint64 incarnation;
    guint64 seq;
    gint64 sent_ns;
    char sender[FTAGENT_SENDER_LEN + 1];
    JsonObject *payload;        /* owned */
} FtAgentMsg;

void ftagent_msg_clear(FtAgentMsg *msg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FtAgentMsg, ftagent_msg_clear)

const char *ftagent_msg_type_name(FtAgentMsgType type);

/* A datagram; fails (MALFORMED) if type is unknown, sender is empty, longer
 * than FTAGENT_SENDER_LEN or has a byte outside [A-Za-z0-9_.-], or the
 * payload (NULL: {}) does not fit FTAGENT_MAX_PAYLOAD. */
GBytes *ftagent_msg_encode(const FtAgentKey *key, FtAgentMsgType type,
                           const char *sender, guint64 incarnation, guint64 seq,
                           gint64 sent_ns, JsonObject *payload, GError **error);

/* Checks everything but replay; fills *msg on success (overwriting it: clear
 * a msg before decoding into it again), leaves it alone on failure. */
gboolean ftagent_msg_decode(const FtAgentKey *key, const guint8 *data, gsize len,
                            FtAgentMsg *msg, GError **error);

/* Replay protection: the last (incarnation, seq) accepted per sender. */
typedef struct FtAgentReplay FtAgentReplay;
FtAgentReplay *ftagent_replay_new(void);
void ftagent_replay_free(FtAgentReplay *replay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FtAgentReplay, ftagent_replay_free)

/* Accepts (and records) msg only if its (incarnation, seq) is above the last
 * one accepted from msg->sender; REPLAYED otherwise. */
gboolean ftagent_replay_accept(FtAgentReplay *replay, const FtAgentMsg *msg,
                               GError **error);

G_END_DECLS
