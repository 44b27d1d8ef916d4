/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Error domains of the QMP client.
 *
 * QFT_QMP_ERROR: the conversation itself went wrong (bad bytes, closed
 * socket, timeout). QFT_QMP_COMMAND_ERROR: QEMU answered a command with an
 * "error" reply; the GError is an extended error that carries the QMP error
 * class and description (see qft_qmp_command_error_get_class()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define QFT_QMP_ERROR (qft_qmp_error_quark())
GQuark qft_qmp_error_quark(void);

typedef enum {
    QFT_QMP_ERROR_NOT_JSON,        /* a message that does not parse as JSON */
    QFT_QMP_ERROR_NOT_OBJECT,      /* valid JSON, but not a JSON object */
    QFT_QMP_ERROR_MALFORMED,       /* an object that is no QMP message */
    QFT_QMP_ERROR_TOO_LARGE,       /* a message longer than the limit */
    QFT_QMP_ERROR_TRUNCATED,       /* the peer closed in the middle of a message */
    QFT_QMP_ERROR_BAD_GREETING,    /* the first message is no QMP greeting */
    QFT_QMP_ERROR_UNEXPECTED,      /* well-formed, but out of place (unknown id...) */
    QFT_QMP_ERROR_TIMED_OUT,       /* no answer within the caller's timeout */
    QFT_QMP_ERROR_CLOSED,          /* the connection is closed */
    QFT_QMP_ERROR_CONNECT,         /* the socket could not be connected */
    QFT_QMP_ERROR_IO,              /* reading or writing the socket failed */
} QftQmpErrorCode;

/* The QMP error classes (qapi/error.json), plus one for any other class. */
#define QFT_QMP_COMMAND_ERROR (qft_qmp_command_error_quark())
GQuark qft_qmp_command_error_quark(void);

typedef enum {
    QFT_QMP_COMMAND_ERROR_GENERIC_ERROR,
    QFT_QMP_COMMAND_ERROR_COMMAND_NOT_FOUND,
    QFT_QMP_COMMAND_ERROR_DEVICE_NOT_ACTIVE,
    QFT_QMP_COMMAND_ERROR_DEVICE_NOT_FOUND,
    QFT_QMP_COMMAND_ERROR_KVM_MISSING_CAP,
    QFT_QMP_COMMAND_ERROR_OTHER_CLASS,
} QftQmpCommandErrorCode;

/*
 * Builds the error for a QMP "error" reply. Its message reads
 * "QMP error CLASS: DESC"; the class and the description are kept apart too.
 */
GError *qft_qmp_command_error_new(const char *error_class, const char *desc);

/* The class ("CommandNotFound") and the description of a command error. */
const char *qft_qmp_command_error_get_class(const GError *error);
const char *qft_qmp_command_error_get_desc(const GError *error);

G_END_DECLS
