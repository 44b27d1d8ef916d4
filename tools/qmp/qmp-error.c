/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Error domains of the QMP client; see qmp-error.h. */
#include "qmp-error.h"

G_DEFINE_QUARK(qft-qmp-error-quark, qft_qmp_error)

typedef struct {
    char *error_class;
    char *desc;
} QftQmpCommandErrorPrivate;

static void qft_qmp_command_error_private_init(QftQmpCommandErrorPrivate *priv)
{
    priv->error_class = NULL;
    priv->desc = NULL;
}

static void qft_qmp_command_error_private_copy(const QftQmpCommandErrorPrivate *src,
                                               QftQmpCommandErrorPrivate *dest)
{
    dest->error_class = g_strdup(src->error_class);
    dest->desc = g_strdup(src->desc);
}

static void qft_qmp_command_error_private_clear(QftQmpCommandErrorPrivate *priv)
{
    g_clear_pointer(&priv->error_class, g_free);
    g_clear_pointer(&priv->desc, g_free);
}

G_DEFINE_EXTENDED_ERROR(QftQmpCommandError, qft_qmp_command_error)

static QftQmpCommandErrorCode command_error_code_for_class(const char *error_class)
{
    static const struct {
        const char *name;
        QftQmpCommandErrorCode code;
    } classes[] = {
        { "GenericError", QFT_QMP_COMMAND_ERROR_GENERIC_ERROR },
        { "CommandNotFound", QFT_QMP_COMMAND_ERROR_COMMAND_NOT_FOUND },
        { "DeviceNotActive", QFT_QMP_COMMAND_ERROR_DEVICE_NOT_ACTIVE },
        { "DeviceNotFound", QFT_QMP_COMMAND_ERROR_DEVICE_NOT_FOUND },
        { "KVMMissingCap", QFT_QMP_COMMAND_ERROR_KVM_MISSING_CAP },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++) {
        if (g_str_equal(classes[i].name, error_class)) {
            return classes[i].code;
        }
    }
    return QFT_QMP_COMMAND_ERROR_OTHER_CLASS;
}

GError *qft_qmp_command_error_new(const char *error_class, const char *desc)
{
    GError *error = g_error_new(QFT_QMP_COMMAND_ERROR,
                                command_error_code_for_class(error_class),
                                "QMP error %s: %s", error_class, desc);
    QftQmpCommandErrorPrivate *priv = qft_qmp_command_error_get_private(error);

    priv->error_class = g_strdup(error_class);
    priv->desc = g_strdup(desc);
    return error;
}

const char *qft_qmp_command_error_get_class(const GError *error)
{
    g_return_val_if_fail(error != NULL && error->domain == QFT_QMP_COMMAND_ERROR, NULL);
    return qft_qmp_command_error_get_private(error)->error_class;
}

const char *qft_qmp_command_error_get_desc(const GError *error)
{
    g_return_val_if_fail(error != NULL && error->domain == QFT_QMP_COMMAND_ERROR, NULL);
    return qft_qmp_command_error_get_private(error)->desc;
}
