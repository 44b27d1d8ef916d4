/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-failover DOMAIN: a planned switchover through the local ft-agentd
 * (POST /v1/vms/NAME/switchover): "prepare" pauses the primary at an epoch
 * boundary and returns once that epoch is committed (the standby has
 * everything: no output is lost), "commit" fails over to the standby,
 * "abort" resumes the primary. SIGINT or SIGTERM before the commit aborts;
 * after it, nothing can. The end is seen in GET /v1/vms/NAME: the primary
 * host changed.
 */
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include "virt-ft.h"

#define POLL_MS 100

typedef struct Switchover {
    VirtFtCtl *ctl;
    const char *name;
    char *from;                 /* the primary host before */
    char *to;                   /* the standby host, for the messages */
    char *self_abort;           /* when a prepared one aborts by itself */
    gboolean interrupted, committed;
    guint sigint, sigterm;
} Switchover;

static gboolean on_signal(gpointer data)
{
    Switchover *sw = data;

    if (sw->committed) {
        virt_ft_warn("the switchover of domain '%s' is committed: it cannot "
                     "be aborted now", sw->name);
    } else if (!sw->interrupted) {
        virt_ft_warn("interrupted: aborting the switchover of domain '%s'",
                     sw->name);
    }
    sw->interrupted = TRUE;
    return G_SOURCE_CONTINUE;
}

static JsonObject *phase(Switchover *sw, const char *name, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) body = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "phase");
    json_builder_add_string_value(b, name);
    json_builder_end_object(b);
    body = json_builder_get_root(b);
    return virt_ft_agent_vm_call(sw->ctl, "POST", sw->name, "switchover",
                                 body, error);
}

static gboolean confirm(Switchover *sw, GError **error)
{
    char line[64] = "";

    if (!isatty(STDIN_FILENO)) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                    "ft-failover: standard input is not a terminal: give "
                    "--force to switch domain '%s' over without "
                    "confirmation", sw->name);
        return FALSE;
    }
    printf("Switch %s over to %s? (y/N) ", sw->name, sw->to);
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) {
        putchar('\n');
    }
    g_strstrip(line);
    if (g_ascii_strcasecmp(line, "y") != 0 &&
        g_ascii_strcasecmp(line, "yes") != 0) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                    "switchover of domain '%s' not confirmed: nothing "
                    "changed", sw->name);
        return FALSE;
    }
    return TRUE;
}

static gboolean wake(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Sleeps with the main context running: the signal handlers too. */
static void wait_ms(guint ms)
{
    gboolean done = FALSE;

    g_timeout_add(ms, wake, &done);
    while (!done) {
        g_main_context_iteration(NULL, TRUE);
    }
}

static gboolean do_abort(Switchover *sw, GError **error)
{
    g_autoptr(JsonObject) answer = phase(sw, "abort", error);

    if (!answer) {
        if (virt_ft_agent_unreachable(*error)) {
            g_prefix_error(error, "switchover abort failed (a prepared "
                           "switchover aborts by itself after the agent's "
                           "switchover timeout): ");
        } else {
            g_prefix_error(error, "switchover abort failed: ");
        }
        return FALSE;
    }
    return TRUE;
}

/* After the commit: until the agent names another primary host. */
static gboolean wait_switched(Switchover *sw, guint timeout_s, GError **error)
{
    gint64 end = g_get_monotonic_time() + timeout_s * G_USEC_PER_SEC;
    g_autoptr(GError) last = NULL;

    for (;;) {
        g_autoptr(JsonObject) vm = NULL;
        const char *primary;

        g_clear_error(&last);
        vm = virt_ft_agent_vm_call(sw->ctl, "GET", sw->name, NULL, NULL,
                                   &last);
        primary = virt_ft_json_string(vm, "primary-host");
        if (primary && *primary && g_strcmp0(primary, sw->from) != 0) {
            gint64 gen = 0;

            virt_ft_json_int(vm, "generation", &gen);
            virt_ft_info(sw->ctl, "Domain '%s' switched over: primary host "
                         "%s (generation %" G_GINT64_FORMAT ")", sw->name,
                         primary, gen);
            return TRUE;
        }
        if (g_get_monotonic_time() >= end) {
            g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                        "the switchover of domain '%s' is committed but its "
                        "primary host is still %s after %u s%s%s: see "
                        "'virt-ft ft-status %s'", sw->name, sw->from,
                        timeout_s, last ? "; last answer: " : "",
                        last ? last->message : "", sw->name);
            return FALSE;
        }
        wait_ms(POLL_MS);
    }
}

static gboolean commit(Switchover *sw, guint timeout_s, GError **error)
{
    g_autoptr(JsonObject) answer = NULL;

    virt_ft_info(sw->ctl, "Committing the switchover of domain '%s' to %s",
                 sw->name, sw->to);
    sw->committed = TRUE;
    answer = phase(sw, "commit", error);
    if (!answer) {
        g_prefix_error(error, "switchover commit: ");
        return FALSE;
    }
    return wait_switched(sw, timeout_s, error);
}

static gboolean prepare(Switchover *sw, GError **error)
{
    g_autoptr(JsonObject) answer = NULL;
    gint64 epoch = -1, timeout_ms;

    virt_ft_info(sw->ctl, "Preparing the switchover of domain '%s' from %s "
                 "to %s", sw->name, sw->from, sw->to);
    answer = phase(sw, "prepare", error);
    if (!answer) {
        g_prefix_error(error, "cannot switch domain '%s' over: ", sw->name);
        return FALSE;
    }
    if (virt_ft_json_int(answer, "timeout-ms", &timeout_ms)) {
        sw->self_abort = g_strdup_printf("in %.1f s", timeout_ms / 1000.0);
    }
    if (virt_ft_json_int(answer, "epoch", &epoch)) {
        virt_ft_info(sw->ctl, "Switchover prepared: domain '%s' paused at "
                     "epoch %" G_GINT64_FORMAT ", committed to the pool",
                     sw->name, epoch);
    } else {
        virt_ft_info(sw->ctl, "Switchover prepared: domain '%s' paused",
                     sw->name);
    }
    return TRUE;
}

static gboolean switchover(Switchover *sw, VirtFtArgs *args, GError **error)
{
    guint timeout_s = virt_ft_args_uint(args, "timeout", 60);
    gboolean only_prepare = virt_ft_args_has(args, "prepare-only");

    if (virt_ft_args_has(args, "abort")) {
        if (!do_abort(sw, error)) {
            return FALSE;
        }
        virt_ft_info(sw->ctl, "Switchover of domain '%s' aborted; it resumed "
                     "on %s", sw->name, sw->from);
        return TRUE;
    }
    if (!virt_ft_args_has(args, "force") && !confirm(sw, error)) {
        return FALSE;
    }
    sw->sigint = g_unix_signal_add(SIGINT, on_signal, sw);
    sw->sigterm = g_unix_signal_add(SIGTERM, on_signal, sw);
    if (virt_ft_args_has(args, "commit")) {
        return commit(sw, timeout_s, error);
    }
    if (!prepare(sw, error)) {
        return FALSE;
    }
    if (sw->interrupted) {
        if (!do_abort(sw, error)) {
            return FALSE;
        }
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                    "switchover aborted; %s resumed on %s", sw->name,
                    sw->from);
        return FALSE;
    }
    if (only_prepare) {
        virt_ft_info(sw->ctl, "Commit it with 'virt-ft ft-failover %s "
                     "--commit' or abort it with 'virt-ft ft-failover %s "
                     "--abort'; the agent aborts it by itself %s", sw->name,
                     sw->name, sw->self_abort ? sw->self_abort :
                     "after its switchover timeout");
        return TRUE;
    }
    return commit(sw, timeout_s, error);
}

static gboolean cmd_failover(VirtFtCtl *ctl, VirtFtArgs *args, GError **error)
{
    Switchover sw = { .ctl = ctl, .name = virt_ft_args_string(args, "domain") };
    g_autoptr(JsonObject) vm = NULL;
    const char *protection, *modes[] = { "abort", "commit", "prepare-only" };
    const char *given = NULL;
    gboolean ok;

    for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
        if (virt_ft_args_has(args, modes[i])) {
            if (given) {
                g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_USAGE,
                            "options --%s and --%s are mutually exclusive",
                            given, modes[i]);
                return FALSE;
            }
            given = modes[i];
        }
    }
    if (!virt_ft_args_has(args, "force") && g_strcmp0(given, "abort") != 0 &&
        !isatty(STDIN_FILENO)) {
        /* before anything is asked or changed */
        return confirm(&sw, error);
    }
    vm = virt_ft_agent_vm_call(ctl, "GET", sw.name, NULL, NULL, error);
    if (!vm) {
        if (virt_ft_agent_not_found(*error)) {
            g_prefix_error(error, "domain '%s' is not known to the agent: ",
                           sw.name);
        }
        return FALSE;
    }
    protection = virt_ft_json_string(vm, "protection");
    if (!given && g_strcmp0(protection, "protected") != 0 &&
        g_strcmp0(protection, "standby") != 0) {
        g_set_error(error, VIRT_FT_ERROR, VIRT_FT_ERROR_FAILED,
                    "domain '%s' is not protected (protection %s): a "
                    "switchover needs a standby that has every committed "
                    "epoch", sw.name, protection ? protection : "unknown");
        return FALSE;
    }
    sw.from = g_strdup(virt_ft_json_string(vm, "primary-host"));
    if (!sw.from || !*sw.from) {
        g_free(sw.from);
        sw.from = g_strdup("its primary host");
    }
    sw.to = g_strdup(virt_ft_json_string(vm, "standby-host"));
    if (!sw.to || !*sw.to) {
        g_free(sw.to);
        sw.to = g_strdup("its standby host");
    }
    ok = switchover(&sw, args, error);
    if (sw.sigint) {
        g_source_remove(sw.sigint);
        g_source_remove(sw.sigterm);
    }
    g_free(sw.from);
    g_free(sw.to);
    g_free(sw.self_abort);
    return ok;
}

static const VirtFtOptDef failover_opts[] = {
    VIRT_FT_OPT_DOMAIN,
    { "force", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0, "do not ask for confirmation" },
    { "abort", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "abort a prepared switchover: the primary resumes" },
    { "prepare-only", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "prepare the switchover and leave it prepared (then --commit or "
      "--abort)" },
    { "commit", VIRT_FT_OPT_BOOL, 0, NULL, 0, 0,
      "commit a prepared switchover" },
    { "timeout", VIRT_FT_OPT_UINT, 0, "SECONDS", 1, 3600,
      "how long to wait for the new primary after the commit (default 60)" },
    { NULL },
};

const VirtFtCmdDef virt_ft_cmd_failover = {
    .name = "ft-failover",
    .run = cmd_failover,
    .opts = failover_opts,
    .summary = "planned switchover to the standby",
    .description = "Moves a protected domain to its standby host without "
        "losing an output: the primary pauses at an epoch boundary, that "
        "epoch is committed to the pool, then the standby takes over. Asks "
        "for confirmation on the terminal unless --force. SIGINT or SIGTERM "
        "before the commit aborts the switchover and the primary resumes "
        "(exit 1). Reports the new primary host when it runs.",
};
