/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-ft's entry point: the program's options, the command table, running
 * a command (or a command string, "cmd; cmd") and the output conventions
 * of virsh: results on stdout, "error: ..." on stderr, exit 0 when the
 * (last) command succeeded, 1 when it failed.
 */
#include <getopt.h>
#include <locale.h>

#include "virt-ft.h"

G_DEFINE_QUARK(virt-ft-error-quark, virt_ft_error)

const VirtFtCmdDef *const virt_ft_commands[] = {
    &virt_ft_cmd_enable, &virt_ft_cmd_disable, &virt_ft_cmd_list,
    &virt_ft_cmd_status, &virt_ft_cmd_failover, &virt_ft_cmd_help, NULL,
};

const VirtFtCmdDef *virt_ft_command_find(const char *name)
{
    for (guint i = 0; virt_ft_commands[i]; i++) {
        if (g_str_equal(virt_ft_commands[i]->name, name)) {
            return virt_ft_commands[i];
        }
    }
    return NULL;
}

void virt_ft_info(VirtFtCtl *ctl, const char *fmt, ...)
{
    va_list ap;

    if (ctl->quiet) {
        return;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

void virt_ft_warn(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void virt_ft_print_field(const char *key, const char *fmt, ...)
{
    g_autofree char *label = g_strconcat(key, ":", NULL);
    g_autofree char *value = NULL;
    va_list ap;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("%-16s %s\n", label, value);
}

static void print_error(const GError *error)
{
    fflush(stdout);
    fprintf(stderr, "error: %s\n", error->message);
}

/* "--help" among a command's options (before "--") */
static gboolean wants_help(char **argv)
{
    for (guint i = 1; argv[i] && !g_str_equal(argv[i], "--"); i++) {
        if (g_str_equal(argv[i], "--help")) {
            return TRUE;
        }
    }
    return FALSE;
}

static gboolean run_command(VirtFtCtl *ctl, char **argv)
{
    const VirtFtCmdDef *def = virt_ft_command_find(argv[0]);
    g_autoptr(VirtFtArgs) args = NULL;
    g_autoptr(GError) error = NULL;

    if (!def) {
        g_set_error(&error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "unknown command: '%s' (see 'virt-ft help')", argv[0]);
        print_error(error);
        return FALSE;
    }
    if (wants_help(argv)) {
        virt_ft_print_command_help(def, stdout);
        return TRUE;
    }
    args = virt_ft_args_parse(def, argv + 1, &error);
    if (!args || !def->run(ctl, args, &error)) {
        print_error(error);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's errors are reported by virt-ft itself, once, as "error: ...". */
static void libvirt_quiet(void *data, virErrorPtr err)
{
    (void)data;
    (void)err;
}

static void ctl_clear(VirtFtCtl *ctl)
{
    if (ctl->conn) {
        virConnectClose(ctl->conn);
    }
    g_clear_pointer(&ctl->agent, virt_ft_agent_free);
    g_free(ctl->uri);
    g_free(ctl->agent_socket);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "connect", required_argument, NULL, 'c' },
        { "agent-socket", required_argument, NULL, 'a' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    VirtFtCtl ctl = { 0 };
    g_autoptr(GPtrArray) cmds = NULL;
    g_autoptr(GError) error = NULL;
    gboolean ok = TRUE;
    int c;

    setlocale(LC_ALL, "");
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:c:a:qhv", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            g_free(ctl.uri);
            ctl.uri = g_strdup(optarg);
            break;
        case 'a':
            g_free(ctl.agent_socket);
            ctl.agent_socket = g_strdup(optarg);
            break;
        case 'q':
            ctl.quiet = TRUE;
            break;
        case 'h':
            virt_ft_print_usage(stdout);
            ctl_clear(&ctl);
            return 0;
        case 'v':
            printf("%s\n", VIRT_FT_VERSION);
            ctl_clear(&ctl);
            return 0;
        case ':':
            fprintf(stderr, "error: option '%s' requires an argument. See "
                    "--help.\n", argv[optind - 1]);
            ctl_clear(&ctl);
            return 1;
        default:
            if (optopt) {
                fprintf(stderr, "error: unsupported option '-%c'. See "
                        "--help.\n", optopt);
            } else {
                fprintf(stderr, "error: unsupported option '%s'. See "
                        "--help.\n", argv[optind - 1]);
            }
            ctl_clear(&ctl);
            return 1;
        }
    }
    if (optind == argc) {
        fprintf(stderr, "error: no command given (see 'virt-ft help')\n");
        ctl_clear(&ctl);
        return 1;
    }
    virSetErrorFunc(NULL, libvirt_quiet);
    if (argc - optind == 1) {
        cmds = virt_ft_split_commands(argv[optind], &error);
        if (!cmds) {
            print_error(error);
            ctl_clear(&ctl);
            return 1;
        }
    } else {
        cmds = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
        g_ptr_array_add(cmds, g_strdupv(argv + optind));
    }
    if (!cmds->len) {
        fprintf(stderr, "error: the command string is empty\n");
        ok = FALSE;
    }
    for (guint i = 0; i < cmds->len; i++) {
        ok = run_command(&ctl, g_ptr_array_index(cmds, i));
    }
    ctl_clear(&ctl);
    return ok ? 0 : 1;
}
