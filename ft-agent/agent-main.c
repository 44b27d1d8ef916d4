/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agentd(8): one per host. Start-up, the tick, shutdown. A stopped agent
 * leaves its VMs running (KillMode=process); a restarted one adopts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-backend.h"
#include "agent-notify.h"
#include "agent-pool.h"
#include "backend-libvirt.h"

#define EXIT_CONFIG 2

static gboolean on_tick(gpointer data)
{
    FtAgent *agent = data;
    GHashTableIter it;
    gpointer value;
    gboolean booting_allowed = g_get_monotonic_time() >= agent->boot_after;

    ftagent_peer_heartbeat(agent);
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;

        if (vm->lease) {
            ftagent_lease_sample(vm->lease);
        }
        ftagent_failover_tick(vm);
        if (booting_allowed || vm->ever_started) {
            ftagent_vm_tick(vm);
        }
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_signal(gpointer data)
{
    FtAgent *agent = data;

    g_message("stopping (the VMs keep running; a restarted agent adopts "
              "them)");
    g_main_loop_quit(agent->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean load_token(FtAgent *agent, GError **error)
{
    FtAgentKey t;

    if (!ftagent_key_load(agent->config->token_file, &t, error)) {
        g_prefix_error(error, "token-file: ");
        return FALSE;
    }
    agent->token = g_strstrip(g_strndup((const char *)t.bytes, t.len));
    return TRUE;
}

static gboolean make_dir(const char *path, GError **error)
{
    if (g_mkdir_with_parents(path, 0700) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot create %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

/*
 * One agent per state directory: a second one would adopt the same QEMUs
 * and act on the same VMs. The lock lives as long as the process (the fd
 * is never closed), so a killed agent never leaves it behind.
 */
static gboolean take_lock(FtAgent *agent, GError **error)
{
    g_autofree char *path = g_build_filename(agent->config->state_dir,
                                             "agent.lock", NULL);
    g_autofree char *holder = NULL;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "cannot open %s: %s", path, g_strerror(errno));
        return FALSE;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;

        g_file_get_contents(path, &holder, NULL, NULL);
        close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    "another ft-agentd (pid %s) runs on state-dir %s (it "
                    "holds %s: %s)",
                    holder && *holder ? g_strstrip(holder) : "?",
                    agent->config->state_dir, path, g_strerror(e));
        return FALSE;
    }
    holder = g_strdup_printf("%d\n", getpid());
    if (ftruncate(fd, 0) < 0 ||
        write(fd, holder, strlen(holder)) != (ssize_t)strlen(holder)) {
        g_warning("%s: cannot record the pid: %s", path, g_strerror(errno));
    }
    agent->lock_fd = fd;
    return TRUE;
}

static gboolean agent_setup(FtAgent *agent, GError **error)
{
    const FtAgentConfig *c = agent->config;

    if (!ftagent_key_load(c->key_file, &agent->key, error)) {
        return FALSE;
    }
    if (!load_token(agent, error) || !make_dir(c->state_dir, error) ||
        !take_lock(agent, error) || !make_dir(c->run_dir, error)) {
        return FALSE;
    }
    agent->backend = ftagent_backend_find(c->backend, error);
    if (!agent->backend) {
        return FALSE;
    }
    agent->incarnation = ftagent_now_real_ns();
    agent->replay = ftagent_replay_new();
    agent->vms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify)ftagent_vm_free);
    for (guint i = 0; i < c->vms->len; i++) {
        FtAgentVm *vm = ftagent_vm_new(agent, g_ptr_array_index(c->vms, i));

        g_hash_table_insert(agent->vms, vm->name, vm);
    }
    if (agent->backend->open && !agent->backend->open(agent, error)) {
        return FALSE;
    }
    if (!ftagent_peer_open(agent, error) ||
        !ftagent_state_load(agent, error) ||
        !ftagent_rest_start(agent, error) ||
        !ftagent_notify_start(agent, error)) {
        return FALSE;
    }
    ftagent_libvirt_take_running(agent);
    /* Hear the peers before booting anything: one may run the VM already. */
    agent->boot_after = g_get_monotonic_time() +
                        2 * c->peer_timeout_ms * 1000ll;
    return TRUE;
}

static void agent_teardown(FtAgent *agent)
{
    ftagent_state_save(agent);
    ftagent_notify_stop(agent);
    ftagent_rest_stop(agent);
    if (agent->backend && agent->backend->close) {
        agent->backend->close(agent);   /* before the VMs: their proxies */
    }
    g_clear_pointer(&agent->vms, g_hash_table_unref);
    ftagent_peer_close(agent);
    g_clear_pointer(&agent->replay, ftagent_replay_free);
    g_free(agent->token);
    g_free(agent->state_path);
    g_clear_pointer(&agent->config, ftagent_config_free);
    if (agent->lock_fd > 0) {
        close(agent->lock_fd);
    }
}

int main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;   /* GOption does not free a default */
    gboolean foreground = FALSE, check = FALSE, version = FALSE;
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
          "configuration file (" FTAGENT_DEFAULT_CONFIG ")", "FILE" },
        { "foreground", 'f', 0, G_OPTION_ARG_NONE, &foreground,
          "do not detach", NULL },
        { "check-config", 0, 0, G_OPTION_ARG_NONE, &check,
          "check the configuration and the key files, then exit", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version",
          NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(
        "- qemu-ft passive fault tolerance agent");
    g_autoptr(GError) error = NULL;
    FtAgent agent = { 0 };

    setlocale(LC_ALL, "");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "ft-agentd: %s\n", error->message);
        return EXIT_CONFIG;
    }
    if (version) {
        printf("ft-agentd %s (peer protocol %d)\n", FTAGENT_VERSION_STRING,
               FTAGENT_VERSION);
        return 0;
    }
    if (!config_path) {
        config_path = g_strdup(FTAGENT_DEFAULT_CONFIG);
    }
    agent.config = ftagent_config_load(config_path, &error);
    if (!agent.config) {
        fprintf(stderr, "ft-agentd: %s\n", error->message);
        return EXIT_CONFIG;
    }
    if (check) {
        FtAgentKey key;
        gboolean ok = ftagent_key_load(agent.config->key_file, &key, &error) &&
                      ftagent_key_load(agent.config->token_file, &key, &error);

        g_clear_pointer(&agent.config, ftagent_config_free);
        if (!ok) {
            fprintf(stderr, "ft-agentd: %s\n", error->message);
            return EXIT_CONFIG;
        }
        printf("%s: ok\n", config_path);
        return 0;
    }
    if (!foreground && daemon(0, 0) < 0) {
        fprintf(stderr, "ft-agentd: daemon: %s\n", g_strerror(errno));
        g_clear_pointer(&agent.config, ftagent_config_free);
        return 1;
    }
    if (!agent_setup(&agent, &error)) {
        g_printerr("ft-agentd: %s\n", error->message);
        agent_teardown(&agent);
        return error->domain == FTAGENT_ERROR ? EXIT_CONFIG : 1;
    }
    g_message("host %s: agent up (epoch-ms %u, heartbeat %u ms, peer-timeout "
              "%u ms, lease %u ms, %u vms)", agent.config->host_id,
              agent.config->epoch_ms, agent.config->heartbeat_ms,
              agent.config->peer_timeout_ms, agent.config->lease_ms,
              agent.config->vms->len);
    agent.loop = g_main_loop_new(NULL, FALSE);
    g_unix_signal_add(SIGTERM, on_signal, &agent);
    g_unix_signal_add(SIGINT, on_signal, &agent);
    agent.tick_timer = g_timeout_add(agent.config->heartbeat_ms, on_tick,
                                     &agent);
    g_main_loop_run(agent.loop);
    g_source_remove(agent.tick_timer);
    g_main_loop_unref(agent.loop);
    agent_teardown(&agent);
    return 0;
}
