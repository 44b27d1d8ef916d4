/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ftmeta-tool: ftmeta.h on the command line, for scripts and tests. It
 * reads a domain XML file (or - for stdin) and writes the result to
 * stdout; it never talks to libvirt.
 *
 *   ftmeta-tool enable [--policy P] [--standby HOST]... [--epoch-min MS]
 *                      [--epoch-max MS] [--pool-dir DIR] FILE
 *   ftmeta-tool disable FILE
 *   ftmeta-tool standby --pool PATH --offset BYTES FILE
 *   ftmeta-tool check FILE      what ft-enable would refuse (exit 1)
 *   ftmeta-tool show FILE       the FT element's settings (exit 3: none)
 *   ftmeta-tool element [--policy P] [--standby HOST]... ...
 *                               the element for virsh metadata DOMAIN
 *                               --uri urn:qemu-ft:domain:1 --key ft --set:
 *                               without its namespace (libvirt adds it)
 *   ftmeta-tool memory FILE     ft-ram's size in bytes
 *   ftmeta-tool netdevs FILE    the interfaces' netdev ids
 *
 * enable starts from the domain's own FT element, if it has one, and
 * applies the options to it. Exit status: 0 done, 1 refused (the reason on
 * stderr), 2 usage, 3 no FT metadata (show).
 */
#include <stdio.h>
#include <string.h>

#include "ftmeta.h"

static char *opt_policy, *opt_epoch_min, *opt_epoch_max, *opt_pool_dir;
static char *opt_pool, *opt_offset;
static char **opt_standby;

static const GOptionEntry entries[] = {
    { "policy", 0, 0, G_OPTION_ARG_STRING, &opt_policy,
      "protect, restart or notify", "P" },
    { "standby", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_standby,
      "a standby host, in order of preference (repeatable)", "HOST" },
    { "epoch-min", 0, 0, G_OPTION_ARG_STRING, &opt_epoch_min,
      "least gap between output-triggered checkpoints", "MS" },
    { "epoch-max", 0, 0, G_OPTION_ARG_STRING, &opt_epoch_max,
      "the epoch timer", "MS" },
    { "pool-dir", 0, 0, G_OPTION_ARG_STRING, &opt_pool_dir,
      "the directory on the shared pool memory", "DIR" },
    { "pool", 0, 0, G_OPTION_ARG_STRING, &opt_pool,
      "standby: the pool file", "PATH" },
    { "offset", 0, 0, G_OPTION_ARG_STRING, &opt_offset,
      "standby: the RAM image's offset in the pool", "BYTES" },
    { NULL }
};

static int fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int fail(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "ftmeta-tool: %s\n", msg);
    return 1;
}

static char *read_input(const char *file, GError **error)
{
    char *text = NULL;
    GString *in;
    char buf[65536];
    size_t n;

    if (strcmp(file, "-") != 0)
        return g_file_get_contents(file, &text, NULL, error) ? text : NULL;
    in = g_string_new(NULL);
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        g_string_append_len(in, buf, (gssize)n);
    if (ferror(stdin)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO,
                    "cannot read the standard input");
        g_string_free(in, TRUE);
        return NULL;
    }
    return g_string_free(in, FALSE);
}

static gboolean parse_uint(const char *opt, const char *v, guint64 max,
                           guint64 *n, GError **error)
{
    if (!g_ascii_string_to_unsigned(v, 10, 0, max, n, NULL)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--%s '%s': not a whole number in 0..%" G_GUINT64_FORMAT,
                    opt, v, max);
        return FALSE;
    }
    return TRUE;
}

/* The options applied to BASE (or a new protect element) */
static FtMeta *meta_from_options(const FtMeta *base, GError **error)
{
    g_autoptr(FtMeta) meta = base ? ftmeta_copy(base)
                                  : ftmeta_new(FTMETA_POLICY_PROTECT);
    guint64 n;

    if (opt_policy &&
        !ftmeta_policy_from_name(opt_policy, &meta->policy, error))
        return NULL;
    if (opt_standby) {
        g_strfreev(meta->standby_hosts);
        meta->standby_hosts = g_strdupv(opt_standby);
    }
    if (opt_epoch_min) {
        if (!parse_uint("epoch-min", opt_epoch_min, G_MAXUINT, &n, error))
            return NULL;
        meta->epoch_min_ms = (guint)n;
    }
    if (opt_epoch_max) {
        if (!parse_uint("epoch-max", opt_epoch_max, G_MAXUINT, &n, error))
            return NULL;
        meta->epoch_max_ms = (guint)n;
    }
    if (opt_pool_dir) {
        g_free(meta->pool_dir);
        meta->pool_dir = g_strdup(opt_pool_dir);
    }
    if (!ftmeta_validate(meta, error))
        return NULL;
    return g_steal_pointer(&meta);
}

static gboolean has_meta_options(void)
{
    return opt_policy || opt_standby || opt_epoch_min || opt_epoch_max ||
           opt_pool_dir;
}

static void show(const FtMeta *meta)
{
    printf("policy %s\n", ftmeta_policy_name(meta->policy));
    for (char **h = meta->standby_hosts; h && *h; h++)
        printf("standby %s\n", *h);
    if (meta->epoch_min_ms)
        printf("epoch-min-ms %u\n", meta->epoch_min_ms);
    if (meta->epoch_max_ms)
        printf("epoch-max-ms %u\n", meta->epoch_max_ms);
    if (meta->pool_dir)
        printf("pool-dir %s\n", meta->pool_dir);
}

static int run(const char *cmd, const char *file)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL, *out = NULL;

    if (!strcmp(cmd, "element")) {
        g_autoptr(FtMeta) meta = meta_from_options(NULL, &error);

        if (!meta)
            return fail("%s", error->message);
        out = ftmeta_to_xml(meta);
        printf("%s\n", out);
        return 0;
    }
    xml = read_input(file, &error);
    if (!xml)
        return fail("%s", error->message);

    if (!strcmp(cmd, "enable")) {
        g_autoptr(GError) old_error = NULL;
        g_autoptr(FtMeta) old = ftmeta_from_domain_xml(xml, &old_error);
        g_autoptr(FtMeta) meta = NULL;

        /* a wrong element of ours is what enable replaces, given options */
        if (old_error && (!g_error_matches(old_error, FTMETA_ERROR,
                                           FTMETA_ERROR_INVALID) ||
                          !has_meta_options()))
            return fail("%s: %s", file, old_error->message);
        meta = meta_from_options(old, &error);
        if (!meta)
            return fail("%s", error->message);
        out = ftmeta_domain_enable(xml, meta, &error);
    } else if (!strcmp(cmd, "disable")) {
        out = ftmeta_domain_disable(xml, &error);
    } else if (!strcmp(cmd, "standby")) {
        guint64 offset;

        if (!opt_pool || !opt_offset)
            return fail("standby needs --pool PATH and --offset BYTES");
        if (!parse_uint("offset", opt_offset, G_MAXUINT64, &offset, &error))
            return fail("%s", error->message);
        out = ftmeta_domain_standby(xml, opt_pool, offset, &error);
    } else if (!strcmp(cmd, "check")) {
        if (!ftmeta_domain_check(xml, &error))
            return fail("%s: %s", file, error->message);
        printf("%s: can be made fault tolerant\n", file);
        return 0;
    } else if (!strcmp(cmd, "show")) {
        g_autoptr(FtMeta) meta = ftmeta_from_domain_xml(xml, &error);

        if (error)
            return fail("%s: %s", file, error->message);
        if (!meta) {
            fprintf(stderr, "ftmeta-tool: %s: no FT metadata\n", file);
            return 3;
        }
        show(meta);
        return 0;
    } else if (!strcmp(cmd, "memory")) {
        guint64 bytes = ftmeta_domain_memory_bytes(xml, &error);

        if (!bytes)
            return fail("%s: %s", file, error->message);
        printf("%" G_GUINT64_FORMAT "\n", bytes);
        return 0;
    } else if (!strcmp(cmd, "netdevs")) {
        g_auto(GStrv) ids = ftmeta_domain_netdev_ids(xml, &error);

        if (!ids)
            return fail("%s: %s", file, error->message);
        for (char **id = ids; *id; id++)
            printf("%s\n", *id);
        return 0;
    }
    if (!out)
        return fail("%s: %s", file, error->message);
    fputs(out, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const commands[] = { "enable", "disable", "standby",
        "check", "show", "element", "memory", "netdevs", NULL };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("enable|disable|standby|check|show|memory|"
                             "netdevs FILE, or element");
    g_autoptr(GError) error = NULL;
    const char *cmd;
    gboolean meta_cmd;

    g_option_context_set_summary(ctx,
        "The qemu-ft FT element (namespace " FTMETA_NS ") and the domain XML "
        "of an FT domain.\nFILE is a domain XML file, - for stdin; the "
        "result goes to stdout.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fail("%s", error->message);
        return 2;
    }
    cmd = argc > 1 ? argv[1] : "";
    if (!g_strv_contains(commands, cmd)) {
        fail("%s%s%s: try --help", *cmd ? "unknown command '" : "no command",
             cmd, *cmd ? "'" : "");
        return 2;
    }
    if (argc != (!strcmp(cmd, "element") ? 2 : 3)) {
        fail("%s: %s", cmd, !strcmp(cmd, "element") ? "takes no FILE"
                                                     : "needs one FILE");
        return 2;
    }
    meta_cmd = !strcmp(cmd, "enable") || !strcmp(cmd, "element");
    if (has_meta_options() && !meta_cmd) {
        fail("%s: --policy, --standby, --epoch-*, --pool-dir are for enable "
             "and element", cmd);
        return 2;
    }
    if ((opt_pool || opt_offset) && strcmp(cmd, "standby")) {
        fail("%s: --pool and --offset are for standby", cmd);
        return 2;
    }
    return run(cmd, argc > 2 ? argv[2] : NULL);
}
