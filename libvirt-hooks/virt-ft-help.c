/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virt-ft's help: the program's usage (-h) and "virt-ft help [COMMAND]",
 * laid out like virsh's.
 */
#include "virt-ft.h"

void virt_ft_print_usage(FILE *out)
{
    fprintf(out,
            "\nvirt-ft [options]... [<command_string>]\n"
            "virt-ft [options]... <command> [args...]\n\n"
            "  options:\n"
            "    -c | --connect=URI      hypervisor connection URI (default: "
            "$LIBVIRT_DEFAULT_URI,\n"
            "                            else qemu:///system)\n"
            "    -a | --agent-socket=PATH\n"
            "                            ft-agentd's control socket (default: "
            "$FT_AGENT_SOCKET,\n"
            "                            else the agent configuration's, else "
            "/run/qemu-ft/agent.sock)\n"
            "    -q | --quiet            quiet mode (no informational lines)\n"
            "    -h | --help             this help\n"
            "    -v | --version          version\n\n"
            "  commands (non interactive mode):\n\n");
    for (guint i = 0; virt_ft_commands[i]; i++) {
        fprintf(out, "    %-16s %s\n", virt_ft_commands[i]->name,
                virt_ft_commands[i]->summary);
    }
    fprintf(out, "\n  (specify help <command> for details about the "
            "command)\n\n");
}

static void print_synopsis(const VirtFtCmdDef *def, FILE *out)
{
    fprintf(out, "    %s", def->name);
    for (const VirtFtOptDef *o = def->opts; o->name; o++) {
        const char *open = (o->flags & VIRT_FT_OPT_REQUIRED) ? "" : "[";
        const char *close = (o->flags & VIRT_FT_OPT_REQUIRED) ? "" : "]";

        if (o->type == VIRT_FT_OPT_BOOL) {
            fprintf(out, " %s--%s%s", open, o->name, close);
        } else if (o->flags & VIRT_FT_OPT_POSITIONAL) {
            fprintf(out, " %s<%s>%s", open, o->name, close);
        } else {
            fprintf(out, " %s--%s <%s>%s%s", open, o->name, o->metavar,
                    o->type == VIRT_FT_OPT_STRV ? "..." : "", close);
        }
    }
    fputc('\n', out);
}

void virt_ft_print_command_help(const VirtFtCmdDef *def, FILE *out)
{
    fprintf(out, "  NAME\n    %s - %s\n\n  SYNOPSIS\n", def->name,
            def->summary);
    print_synopsis(def, out);
    fprintf(out, "\n  DESCRIPTION\n    %s\n\n", def->description);
    if (!def->opts->name) {
        return;
    }
    fprintf(out, "  OPTIONS\n");
    for (const VirtFtOptDef *o = def->opts; o->name; o++) {
        g_autofree char *spec = NULL;

        if (o->type == VIRT_FT_OPT_BOOL) {
            spec = g_strdup_printf("--%s", o->name);
        } else if (o->flags & VIRT_FT_OPT_POSITIONAL) {
            spec = g_strdup_printf("[--%s] <%s>", o->name, o->metavar);
        } else {
            spec = g_strdup_printf("--%s <%s>", o->name, o->metavar);
        }
        if (strlen(spec) > 24) {
            fprintf(out, "    %s\n    %-24s %s\n", spec, "", o->help);
        } else {
            fprintf(out, "    %-24s %s\n", spec, o->help);
        }
    }
    fputc('\n', out);
}

/* ---- virt-ft help [COMMAND] -------------------------------------------- */

static gboolean cmd_help(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    const char *name = virt_ft_args_string(args, "command");
    const VirtFtCmdDef *def;

    (void)ctl;
    if (!name) {
        virt_ft_print_usage(stdout);
        return TRUE;
    }
    def = virt_ft_command_find(name);
    if (!def) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "command or command group '%s' doesn't exist", name);
        return FALSE;
    }
    virt_ft_print_command_help(def, stdout);
    return TRUE;
}

static const VirtFtOptDef help_opts[] = {
    { "command", VIRT_FT_OPT_STRING, VIRT_FT_OPT_POSITIONAL, "COMMAND", 0, 0,
      "the command to describe" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_help = {
    .name = "help",
    .run = cmd_help,
    .opts = help_opts,
    .summary = "print help",
    .description = "Prints the commands, or the options of one command.",
};
