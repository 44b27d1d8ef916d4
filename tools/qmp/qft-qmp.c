/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qft-qmp: run one QMP command, or wait for one event, from the shell.
 *
 *   qft-qmp SOCKET CMD ['JSON-ARGS']       print the "return" value
 *   qft-qmp SOCKET --hmp 'info status'     print the HMP output
 *   qft-qmp SOCKET --wait-event NAME       print the next NAME event
 *   qft-qmp SOCKET CMD --wait-event NAME   run CMD, then print its return
 *                                          and the NAME event (which may
 *                                          arrive before the reply)
 *
 * Exit status: 0 success, 1 QEMU answered with a QMP error, 2 usage,
 * connection or protocol problem, 3 timeout.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qmp-client.h"

enum {
    EXIT_QMP_ERROR = 1,
    EXIT_PROBLEM = 2,
    EXIT_TIMEOUT = 3,
};

typedef struct {
    const char *socket_path;
    const char *command;        /* QMP command, or NULL */
    JsonObject *arguments;      /* owned, or NULL */
    char *hmp_command_line;     /* --hmp, or NULL */
    char *event_name;           /* --wait-event, or NULL */
    int timeout_ms;
} Invocation;

static void invocation_clear(Invocation *invocation)
{
    g_clear_pointer(&invocation->arguments, json_object_unref);
    g_clear_pointer(&invocation->hmp_command_line, g_free);
    g_clear_pointer(&invocation->event_name, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Invocation, invocation_clear)

static int exit_status_for(const GError *error)
{
    if (error->domain == QFT_QMP_COMMAND_ERROR) {
        return EXIT_QMP_ERROR;
    }
    if (g_error_matches(error, QFT_QMP_ERROR, QFT_QMP_ERROR_TIMED_OUT)) {
        return EXIT_TIMEOUT;
    }
    return EXIT_PROBLEM;
}

/* what: the command or event concerned; NULL when the error names its subject. */
static int report(const char *what, const GError *error)
{
    if (what == NULL) {
        g_printerr("qft-qmp: %s\n", error->message);
    } else if (error->domain == QFT_QMP_COMMAND_ERROR) {
        g_printerr("qft-qmp: %s: %s: %s\n", what, qft_qmp_command_error_get_class(error),
                   qft_qmp_command_error_get_desc(error));
    } else {
        g_printerr("qft-qmp: %s: %s\n", what, error->message);
    }
    return exit_status_for(error);
}

static void print_json(JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);

    printf("%s\n", text);
}

/* HMP output uses "\r\n" line ends; the shell wants "\n". */
static void print_hmp_output(const char *output)
{
    for (const char *c = output; *c != '\0'; c++) {
        if (!(c[0] == '\r' && c[1] == '\n')) {
            putchar(*c);
        }
    }
}

static JsonObject *parse_arguments(const char *text, GError **error)
{
    g_autoptr(GError) json_error = NULL;
    g_autoptr(JsonNode) node = json_from_string(text, &json_error);

    if (node == NULL) {
        g_set_error(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_JSON,
                    "JSON-ARGS is not JSON: %s",
                    json_error ? json_error->message : "it is empty");
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error_literal(error, QFT_QMP_ERROR, QFT_QMP_ERROR_NOT_OBJECT,
                            "JSON-ARGS must be a JSON object, like '{\"id\": \"disk0\"}'");
        return NULL;
    }
    return json_object_ref(json_node_get_object(node));
}

static gboolean parse_command_line(int argc, char **argv, Invocation *invocation,
                                   GError **error)
{
    GOptionEntry entries[] = {
        { "timeout-ms", 't', 0, G_OPTION_ARG_INT, &invocation->timeout_ms,
          "How long to wait for QEMU, in ms (default 30000; -1: no limit)", "MS" },
        { "wait-event", 'e', 0, G_OPTION_ARG_STRING, &invocation->event_name,
          "Wait for the event NAME and print it (after CMD, if one is given)", "NAME" },
        { "hmp", 0, 0, G_OPTION_ARG_STRING, &invocation->hmp_command_line,
          "Run an HMP command line (human-monitor-command) and print its output",
          "COMMAND-LINE" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) context = g_option_context_new("SOCKET [CMD ['JSON-ARGS']]");

    g_option_context_set_summary(context,
        "Runs a QMP command on the QEMU monitor socket SOCKET and prints its \"return\"\n"
        "value as compact JSON, or waits for an event.\n\n"
        "Exit status: 0 success; 1 QEMU answered with an error; 2 usage, connection\n"
        "or protocol problem; 3 timeout.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, error)) {
        return FALSE;
    }
    if (argc < 2 || argc > 4) {
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "expected SOCKET [CMD ['JSON-ARGS']] (see --help)");
        return FALSE;
    }
    invocation->socket_path = argv[1];
    invocation->command = argc > 2 ? argv[2] : NULL;
    if (invocation->command != NULL && invocation->hmp_command_line != NULL) {
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "give either CMD or --hmp, not both");
        return FALSE;
    }
    if (invocation->command == NULL && invocation->hmp_command_line == NULL &&
        invocation->event_name == NULL) {
        g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "nothing to do: give CMD, --hmp or --wait-event");
        return FALSE;
    }
    if (argc == 4) {
        invocation->arguments = parse_arguments(argv[3], error);
        return invocation->arguments != NULL;
    }
    return TRUE;
}

static int run(const Invocation *invocation)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(QftQmpClient) qmp = qft_qmp_client_connect(invocation->socket_path,
                                                         invocation->timeout_ms, &error);

    if (qmp == NULL) {
        return report(NULL, error);
    }
    if (invocation->command != NULL) {
        g_autoptr(JsonNode) result = qft_qmp_execute(qmp, invocation->command,
                                                     invocation->arguments,
                                                     invocation->timeout_ms, &error);

        if (result == NULL) {
            return report(invocation->command, error);
        }
        print_json(result);
    }
    if (invocation->hmp_command_line != NULL) {
        g_autofree char *output = qft_qmp_execute_hmp(qmp, invocation->hmp_command_line,
                                                       invocation->timeout_ms, &error);

        if (output == NULL) {
            return report(invocation->hmp_command_line, error);
        }
        print_hmp_output(output);
    }
    if (invocation->event_name != NULL) {
        g_autoptr(JsonNode) event = qft_qmp_wait_event(qmp, invocation->event_name,
                                                       invocation->timeout_ms, &error);

        if (event == NULL) {
            return report(invocation->event_name, error);
        }
        print_json(event);
    }
    if (fflush(stdout) != 0) {
        g_printerr("qft-qmp: writing to stdout failed: %s\n", g_strerror(errno));
        return EXIT_PROBLEM;
    }
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    g_auto(Invocation) invocation = { .timeout_ms = QFT_QMP_DEFAULT_TIMEOUT_MS };
    g_autoptr(GError) error = NULL;

    if (!parse_command_line(argc, argv, &invocation, &error)) {
        g_printerr("qft-qmp: %s\n", error->message);
        return EXIT_PROBLEM;
    }
    return run(&invocation);
}
