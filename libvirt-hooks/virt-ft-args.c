/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A command's arguments, parsed the way virsh parses them: --name VALUE or
 * --name=VALUE; the data options marked positional may also be given
 * bare, in order ("ft-status web1" = "ft-status --domain web1"); "--" ends
 * the options. And command strings: "ft-list; ft-status web1".
 */
#include "virt-ft.h"

struct VirtFtArgs {
    const VirtFtCmdDef *def;
    GHashTable *values;         /* option name -> GPtrArray of char* */
};

void virt_ft_args_free(VirtFtArgs *args)
{
    if (args) {
        g_hash_table_unref(args->values);
        g_free(args);
    }
}

static const VirtFtOptDef *find_opt(const VirtFtCmdDef *def, const char *name,
                                    gsize len)
{
    for (const VirtFtOptDef *o = def->opts; o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
            return o;
        }
    }
    return NULL;
}

static gboolean check_uint(const VirtFtOptDef *o, const char *value,
                           GError **error)
{
    guint64 n;
    g_autoptr(GError) local = NULL;

    if (!g_ascii_string_to_unsigned(value, 10, o->min, o->max, &n, &local)) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "option --%s: '%s' is not a number in %u..%u", o->name,
                    value, o->min, o->max);
        return FALSE;
    }
    return TRUE;
}

static gboolean add_value(VirtFtArgs *args, const VirtFtOptDef *o,
                          const char *value, GError **error)
{
    GPtrArray *list = g_hash_table_lookup(args->values, o->name);

    if (list && o->type != VIRT_FT_OPT_STRV) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "option --%s given more than once", o->name);
        return FALSE;
    }
    if (o->type == VIRT_FT_OPT_UINT && !check_uint(o, value, error)) {
        return FALSE;
    }
    if (o->type != VIRT_FT_OPT_BOOL && !*value) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "option --%s: the value is empty", o->name);
        return FALSE;
    }
    if (!list) {
        list = g_ptr_array_new_null_terminated(1, g_free, TRUE);
        g_hash_table_insert(args->values, (gpointer)o->name, list);
    }
    g_ptr_array_add(list, g_strdup(value));
    return TRUE;
}

/* The next positional option not given yet, or NULL. */
static const VirtFtOptDef *next_positional(VirtFtArgs *args)
{
    for (const VirtFtOptDef *o = args->def->opts; o->name; o++) {
        if ((o->flags & VIRT_FT_OPT_POSITIONAL) &&
            !g_hash_table_contains(args->values, o->name)) {
            return o;
        }
    }
    return NULL;
}

static gboolean parse_option(VirtFtArgs *args, char **argv, guint *i,
                             GError **error)
{
    const char *word = argv[*i] + 2;
    const char *eq = strchr(word, '=');
    gsize len = eq ? (gsize)(eq - word) : strlen(word);
    const VirtFtOptDef *o = find_opt(args->def, word, len);

    if (!o) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "command '%s' doesn't support option --%.*s",
                    args->def->name, (int)len, word);
        return FALSE;
    }
    if (o->type == VIRT_FT_OPT_BOOL) {
        if (eq) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                        "option --%s takes no value", o->name);
            return FALSE;
        }
        return add_value(args, o, "1", error);
    }
    if (eq) {
        return add_value(args, o, eq + 1, error);
    }
    if (!argv[*i + 1]) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "option --%s requires a value (%s)", o->name, o->metavar);
        return FALSE;
    }
    (*i)++;
    return add_value(args, o, argv[*i], error);
}

VirtFtArgs *virt_ft_args_parse(const VirtFtCmdDef *def, char **argv,
                               GError **error)
{
    g_autoptr(VirtFtArgs) args = g_new0(VirtFtArgs, 1);
    gboolean options_done = FALSE;

    args->def = def;
    args->values = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; argv[i]; i++) {
        const VirtFtOptDef *o;

        if (!options_done && g_str_equal(argv[i], "--")) {
            options_done = TRUE;
            continue;
        }
        if (!options_done && g_str_has_prefix(argv[i], "--")) {
            if (!parse_option(args, argv, &i, error)) {
                return NULL;
            }
            continue;
        }
        if (!options_done && argv[i][0] == '-' && argv[i][1]) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                        "command '%s' doesn't support option %s (options "
                        "are --long)", def->name, argv[i]);
            return NULL;
        }
        o = next_positional(args);
        if (!o) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                        "command '%s': unexpected data '%s'", def->name,
                        argv[i]);
            return NULL;
        }
        if (!add_value(args, o, argv[i], error)) {
            return NULL;
        }
    }
    for (const VirtFtOptDef *o = def->opts; o->name; o++) {
        if ((o->flags & VIRT_FT_OPT_REQUIRED) &&
            !g_hash_table_contains(args->values, o->name)) {
            if (o->flags & VIRT_FT_OPT_POSITIONAL) {
                g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                            "command '%s' requires <%s> option", def->name,
                            o->name);
            } else {
                g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                            "command '%s' requires --%s option", def->name,
                            o->name);
            }
            return NULL;
        }
    }
    return g_steal_pointer(&args);
}

gboolean virt_ft_args_has(VirtFtArgs *args, const char *name)
{
    return g_hash_table_contains(args->values, name);
}

const char *virt_ft_args_string(VirtFtArgs *args, const char *name)
{
    GPtrArray *list = g_hash_table_lookup(args->values, name);

    return list ? g_ptr_array_index(list, 0) : NULL;
}

guint virt_ft_args_uint(VirtFtArgs *args, const char *name, guint fallback)
{
    const char *s = virt_ft_args_string(args, name);

    /* checked against the option's range when parsed */
    return s ? (guint)g_ascii_strtoull(s, NULL, 10) : fallback;
}

const char *const *virt_ft_args_strv(VirtFtArgs *args, const char *name)
{
    GPtrArray *list = g_hash_table_lookup(args->values, name);

    return list ? (const char *const *)list->pdata : NULL;
}

/* ---- command strings -------------------------------------------------------- */

static void end_word(GPtrArray *words, GString *word, gboolean *in_word)
{
    if (*in_word) {
        g_ptr_array_add(words, g_strdup(word->str));
        g_string_truncate(word, 0);
        *in_word = FALSE;
    }
}

static void end_command(GPtrArray *cmds, GPtrArray **words)
{
    if ((*words)->len) {
        g_ptr_array_add(*words, NULL);
        g_ptr_array_add(cmds, g_ptr_array_free(*words, FALSE));
    } else {
        g_ptr_array_free(*words, TRUE);
    }
    *words = g_ptr_array_new_with_free_func(g_free);
}

GPtrArray *virt_ft_split_commands(const char *text, GError **error)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(
        (GDestroyNotify)g_strfreev);
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) word = g_string_new(NULL);
    gboolean in_word = FALSE;
    char quote = 0;

    for (const char *p = text; *p; p++) {
        if (quote == '\'') {
            if (*p == '\'') {
                quote = 0;
            } else {
                g_string_append_c(word, *p);
            }
        } else if (*p == '\\') {
            if (!p[1]) {
                g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                            "command string ends in a backslash");
                return NULL;
            }
            g_string_append_c(word, *++p);
            in_word = TRUE;
        } else if (quote == '"') {
            if (*p == '"') {
                quote = 0;
            } else {
                g_string_append_c(word, *p);
            }
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
            in_word = TRUE;
        } else if (g_ascii_isspace(*p)) {
            end_word(words, word, &in_word);
        } else if (*p == ';') {
            end_word(words, word, &in_word);
            end_command(cmds, &words);
        } else {
            g_string_append_c(word, *p);
            in_word = TRUE;
        }
    }
    if (quote) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "command string: unterminated %c quote", quote);
        return NULL;
    }
    end_word(words, word, &in_word);
    end_command(cmds, &words);
    return g_steal_pointer(&cmds);
}
