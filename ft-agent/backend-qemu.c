/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "qemu" backend: the agent runs qemu-system-x86_64 itself, in its own
 * session (setsid) so that an agent that stops or restarts leaves it
 * running, its output in run-dir/NAME-ROLE.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent-backend.h"

static void child_setup(gpointer data)
{
    (void)data;
    setsid();
}

static void add_take(GStrvBuilder *b, char *arg)
{
    g_strv_builder_add(b, arg);
    g_free(arg);
}

static GStrv qemu_argv(FtAgentVm *vm, const char *pool, guint64 ram_offset)
{
    const FtAgentConfig *c = vm->agent->config;
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autofree char *mem = g_strdup_printf("%" G_GUINT64_FORMAT "K",
                                           vm->config->memory_bytes / 1024);

    g_strv_builder_add(b, c->qemu_binary);
    if (c->qemu_firmware && *c->qemu_firmware) {
        g_strv_builder_add_many(b, "-L", c->qemu_firmware, NULL);
    }
    g_strv_builder_add_many(b, "-name", vm->name, NULL);
    g_strv_builder_add(b, "-qmp");
    add_take(b, g_strdup_printf("unix:%s,server=on,wait=off",
                                           vm->qmp_path));
    /* the operator's monitor (QEMU serves one client per socket and the
     * agent holds the first): queries and debugging, never ft-* */
    g_strv_builder_add(b, "-qmp");
    add_take(b, g_strdup_printf("unix:%.*s.ops.qmp,server=on,wait=off",
                                (int)strlen(vm->qmp_path) - 4, vm->qmp_path));
    g_strv_builder_addv(b, (const char **)vm->config->qemu_args);
    g_strv_builder_add_many(b, "-m", mem, NULL);
    if (pool) {
        g_strv_builder_add(b, "-S");
        g_strv_builder_add(b, "-object");
        add_take(b, g_strdup_printf(
            "memory-backend-file,id=ram,size=%s,mem-path=%s,offset=%"
            G_GUINT64_FORMAT ",share=off", mem, pool, ram_offset));
    } else {
        g_strv_builder_add(b, "-object");
        add_take(b, g_strdup_printf(
            "memory-backend-ram,id=ram,size=%s", mem));
    }
    return g_strv_builder_end(b);
}

static gboolean wait_for_socket(FtAgentVm *vm, GError **error)
{
    /* a QEMU starting (loading, mapping the pool) is slower than a QMP
     * command: 10 * qmp-timeout-ms */
    gint64 deadline = g_get_monotonic_time() +
                      10 * vm->agent->config->qmp_timeout_ms * 1000ll;

    while (g_get_monotonic_time() < deadline) {
        if (g_file_test(vm->qmp_path, G_FILE_TEST_EXISTS)) {
            return TRUE;
        }
        if (kill(vm->pid, 0) < 0 && errno == ESRCH) {
            break;
        }
        g_usleep(5000);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "vm %s: QEMU (pid %d) did not open its QMP socket %s within "
                "10 * qmp-timeout-ms (%u ms); see its log in %s", vm->name,
                vm->pid, vm->qmp_path, 10 * vm->agent->config->qmp_timeout_ms,
                vm->agent->config->run_dir);
    return FALSE;
}

static gboolean qemu_start(FtAgentVm *vm, const char *pool, guint64 ram_offset,
                           GError **error)
{
    const FtAgentConfig *c = vm->agent->config;
    const char *role = pool ? "standby" : "primary";
    g_autofree char *log = g_strdup_printf("%s/%s-%s.log", c->run_dir,
                                           vm->name, role);
    g_auto(GStrv) argv = NULL;
    g_autofree char *line = NULL;
    int fd;
    GPid pid;
    gboolean ok;

    g_free(vm->qmp_path);
    vm->qmp_path = g_strdup_printf("%s/%s-%s-%" G_GINT64_FORMAT ".qmp",
                                   c->run_dir, vm->name, role,
                                   ftagent_now_real_ns());
    argv = qemu_argv(vm, pool, ram_offset);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    "vm %s: cannot open QEMU log %s: %s", vm->name, log,
                    g_strerror(errno));
        return FALSE;
    }
    line = g_strjoinv(" ", argv);
    g_message("vm %s: starting %s: %s", vm->name, role, line);
    ok = g_spawn_async_with_fds(NULL, argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD, child_setup, NULL,
                                &pid, -1, fd, fd, error);
    close(fd);
    if (!ok) {
        g_prefix_error(error, "vm %s: cannot run %s: ", vm->name,
                       c->qemu_binary);
        return FALSE;
    }
    vm->pid = pid;
    return wait_for_socket(vm, error);
}

/* The process still is ours: its command line names our QMP socket. */
static gboolean qemu_adopt(FtAgentVm *vm, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", vm->pid);
    g_autofree char *cmdline = NULL;
    g_autofree char *want = g_strdup_printf("unix:%s,", vm->qmp_path);
    gsize len = 0, i;

    if (!g_file_get_contents(path, &cmdline, &len, NULL)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "vm %s: QEMU pid %d is gone", vm->name, vm->pid);
        return FALSE;
    }
    for (i = 0; i < len; i++) {
        if (g_str_has_prefix(cmdline + i, want)) {
            return TRUE;
        }
        i += strlen(cmdline + i);
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "vm %s: pid %d is not the QEMU the state names (no %s in its "
                "command line)", vm->name, vm->pid, want);
    return FALSE;
}

static void qemu_kill(FtAgentVm *vm)
{
    if (vm->pidfd >= 0) {
        /* pidfd: never a recycled pid */
        syscall(SYS_pidfd_send_signal, vm->pidfd, SIGKILL, NULL, 0);
    }
}

const FtAgentBackend ftagent_backend_qemu = {
    .name = "qemu",
    .ram_block = "ram",
    .boots = TRUE,
    .start = qemu_start,
    .adopt = qemu_adopt,
    .kill = qemu_kill,
};

const FtAgentBackend *ftagent_backend_find(const char *name, GError **error)
{
    if (g_strcmp0(name, "qemu") == 0) {
        return &ftagent_backend_qemu;
    }
    if (g_strcmp0(name, "libvirt") == 0) {
        return &ftagent_backend_libvirt;
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                "backend '%s' does not exist (qemu, libvirt)", name);
    return NULL;
}
