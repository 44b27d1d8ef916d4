/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ft-agentd configuration (agent-config.h): parse, derive the timeouts from
 * epoch-ms, refuse every bad value naming file, group, key and value.
 */
#include <gio/gio.h>
#include <string.h>

#include "agent-config.h"
#include "ftagent.h"



G_DEFINE_QUARK(ftagent-config-error-quark, ftagent_config_error)

static const char *agent_keys[] = {
    "host", "backend", "epoch-ms", "trigger", "heartbeat-ms", "peer-timeout-ms",
    "lease-ms", "qmp-timeout-ms", "respawn-ms", "state-dir", "run-dir",
    "pool-dir", "key-file", "control-socket", "rest-listen", "token-file",
    "qemu", "qemu-firmware", "libvirt-uri", NULL,
};
static const char *host_keys[] = { "peer-address", NULL };
static const char *vm_keys[] = {
    "hosts", "memory", "qemu-args", "policy", "uuid", NULL,
};
static const char *masakari_keys[] = {
    "url", "token-file", "timeout-ms", "retry-first-ms", "retry-max-ms", NULL,
};
static const char *policies[] = { "protect", "restart", "notify", NULL };
static const char *forbidden_args[] = {
    "-qmp", "-S", "-name", "-daemonize", "-incoming", "-pidfile", "-monitor",
    "-mon", NULL,
};

typedef struct Ctx {
    const char *path;
    GKeyFile *kf;
    GError **error;
} Ctx;

static gboolean bad(Ctx *c, const char *group, const char *key,
                    const char *value, FtAgentConfigError code,
                    const char *fmt, ...) G_GNUC_PRINTF(6, 7);

static gboolean bad(Ctx *c, const char *group, const char *key,
                    const char *value, FtAgentConfigError code,
                    const char *fmt, ...)
{
    va_list ap;
    g_autofree char *what = NULL;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (key) {
        g_set_error(c->error, FTAGENT_CONFIG_ERROR, code,
                    "%s: [%s] %s = '%s': %s", c->path, group, key,
                    value ? value : "", what);
    } else {
        g_set_error(c->error, FTAGENT_CONFIG_ERROR, code, "%s: [%s]: %s",
                    c->path, group, what);
    }
    return FALSE;
}

static char *get(Ctx *c, const char *group, const char *key)
{
    char *v = g_key_file_get_string(c->kf, group, key, NULL);

    return v ? g_strstrip(v) : NULL;
}

static gboolean get_string(Ctx *c, const char *group, const char *key,
                           const char *def, gboolean required, char **out)
{
    char *v = get(c, group, key);

    if (!v && required) {
        return bad(c, group, key, NULL, FTAGENT_CONFIG_ERROR_MISSING,
                   "required");
    }
    *out = v ? v : g_strdup(def);
    return TRUE;
}

static gboolean get_path(Ctx *c, const char *group, const char *key,
                         const char *def, char **out)
{
    if (!get_string(c, group, key, def, FALSE, out)) {
        return FALSE;
    }
    if (**out && !g_path_is_absolute(*out)) {
        return bad(c, group, key, *out, FTAGENT_CONFIG_ERROR_INVALID,
                   "not an absolute path");
    }
    return TRUE;
}

static gboolean get_ms(Ctx *c, const char *group, const char *key, guint def,
                       guint min, guint max, guint *out)
{
    g_autofree char *v = get(c, group, key);
    guint64 n;

    if (!v) {
        *out = def;
        return TRUE;
    }
    if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL)) {
        return bad(c, group, key, v, FTAGENT_CONFIG_ERROR_INVALID,
                   "not a number of milliseconds in %u..%u", min, max);
    }
    *out = n;
    return TRUE;
}

static gboolean valid_id(const char *s, gsize max)
{
    gsize n = strlen(s);

    if (n == 0 || n > max) {
        return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && !strchr("_.-", s[i])) {
            return FALSE;
        }
    }
    return TRUE;
}

/* "ADDR", "ADDR:PORT", "[V6]:PORT" */
static gboolean parse_address(Ctx *c, const char *group, const char *key,
                              const char *v, guint16 def_port, char **addr,
                              guint16 *port)
{
    g_autofree char *host = NULL;
    const char *colon = NULL;
    guint64 p = def_port;
    g_autoptr(GInetAddress) ia = NULL;

    if (v[0] == '[') {
        const char *end = strchr(v, ']');

        if (!end) {
            goto fail;
        }
        host = g_strndup(v + 1, end - v - 1);
        colon = end[1] == ':' ? end + 1 : NULL;
        if (!colon && end[1]) {
            goto fail;
        }
    } else {
        colon = strrchr(v, ':');
        if (colon && strchr(v, ':') != colon) {
            colon = NULL;       /* a bare IPv6 literal */
        }
        host = colon ? g_strndup(v, colon - v) : g_strdup(v);
    }
    if (colon && !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p,
                                             NULL)) {
        return bad(c, group, key, v, FTAGENT_CONFIG_ERROR_INVALID,
                   "the port is not in 1..65535");
    }
    ia = g_inet_address_new_from_string(host);
    if (!ia) {
        goto fail;
    }
    *addr = g_steal_pointer(&host);
    *port = p;
    return TRUE;
fail:
    return bad(c, group, key, v, FTAGENT_CONFIG_ERROR_INVALID,
               "not ADDRESS, ADDRESS:PORT or [IPV6]:PORT with an IP address");
}

static gboolean parse_size(Ctx *c, const char *group, const char *key,
                           const char *v, guint64 *out)
{
    char *end = NULL;
    guint64 n = g_ascii_strtoull(v, &end, 10), mul = 1;

    if (end == v) {
        goto fail;
    }
    switch (*end) {
    case 0: break;
    case 'K': case 'k': mul = 1ull << 10; end++; break;
    case 'M': case 'm': mul = 1ull << 20; end++; break;
    case 'G': case 'g': mul = 1ull << 30; end++; break;
    default: goto fail;
    }
    if (*end || n > (1ull << 40) / mul) {
        goto fail;
    }
    n *= mul;
    if (n < (2ull << 20) || n > (1ull << 40) || n % 4096) {
        return bad(c, group, key, v, FTAGENT_CONFIG_ERROR_INVALID,
                   "must be 2M..1T and a multiple of 4096 bytes");
    }
    *out = n;
    return TRUE;
fail:
    return bad(c, group, key, v, FTAGENT_CONFIG_ERROR_INVALID,
               "not a size (a number with an optional K, M or G suffix)");
}

static gboolean check_keys(Ctx *c, const char *group, const char **allowed)
{
    g_auto(GStrv) keys = g_key_file_get_keys(c->kf, group, NULL, NULL);

    for (char **k = keys; k && *k; k++) {
        if (!g_strv_contains(allowed, *k)) {
            g_autofree char *v = get(c, group, *k);

            return bad(c, group, *k, v, FTAGENT_CONFIG_ERROR_UNKNOWN,
                       "unknown key (a typo?)");
        }
    }
    return TRUE;
}

static void host_free(FtAgentHostConfig *h)
{
    g_free(h->id);
    g_free(h->peer_address);
    g_free(h);
}

static void vm_free(FtAgentVmConfig *vm)
{
    g_free(vm->name);
    g_strfreev(vm->hosts);
    g_strfreev(vm->qemu_args);
    g_free(vm->policy);
    g_free(vm->uuid);
    g_free(vm);
}

void ftagent_config_free(FtAgentConfig *config)
{
    if (!config) {
        return;
    }
    g_free(config->path);
    g_free(config->host_id);
    g_free(config->backend);
    g_free(config->libvirt_uri);
    g_free(config->trigger);
    g_free(config->state_dir);
    g_free(config->run_dir);
    g_free(config->pool_dir);
    g_free(config->key_file);
    g_free(config->control_socket);
    g_free(config->rest_address);
    g_free(config->token_file);
    g_free(config->qemu_binary);
    g_free(config->qemu_firmware);
    g_free(config->masakari.url);
    g_free(config->masakari.token_file);
    g_clear_pointer(&config->hosts, g_ptr_array_unref);
    g_clear_pointer(&config->vms, g_ptr_array_unref);
    g_free(config);
}

static gboolean parse_agent(Ctx *c, FtAgentConfig *cfg)
{
    const char *g = "agent";
    g_autofree char *rest = NULL;
    guint e;

    if (!g_key_file_has_group(c->kf, g)) {
        return bad(c, g, NULL, NULL, FTAGENT_CONFIG_ERROR_MISSING,
                   "the group is missing");
    }
    if (!check_keys(c, g, agent_keys) ||
        !get_string(c, g, "host", NULL, TRUE, &cfg->host_id) ||
        !get_string(c, g, "backend", "qemu", FALSE, &cfg->backend) ||
        !get_ms(c, g, "epoch-ms", 20, 1, 10000, &cfg->epoch_ms) ||
        !get_string(c, g, "trigger", "output", FALSE, &cfg->trigger)) {
        return FALSE;
    }
    if (!g_str_equal(cfg->trigger, "output") &&
        !g_str_equal(cfg->trigger, "timer")) {
        return bad(c, g, "trigger", cfg->trigger, FTAGENT_CONFIG_ERROR_INVALID,
                   "must be output or timer");
    }
    if (!g_str_equal(cfg->backend, "qemu") &&
        !g_str_equal(cfg->backend, "libvirt")) {
        return bad(c, g, "backend", cfg->backend, FTAGENT_CONFIG_ERROR_INVALID,
                   "unknown backend (qemu or libvirt)");
    }
    if (!get_string(c, g, "libvirt-uri", "qemu:///system", FALSE,
                    &cfg->libvirt_uri)) {
        return FALSE;
    }
    if (!strstr(cfg->libvirt_uri, ":/") ||
        strpbrk(cfg->libvirt_uri, " \t\r\n") ||
        !g_uri_is_valid(cfg->libvirt_uri, G_URI_FLAGS_NONE, NULL)) {
        return bad(c, g, "libvirt-uri", cfg->libvirt_uri,
                   FTAGENT_CONFIG_ERROR_INVALID,
                   "not a libvirt connection URI (e.g. qemu:///system, "
                   "qemu+ssh://HOST/system)");
    }
    e = cfg->epoch_ms;
    if (!get_ms(c, g, "heartbeat-ms", MAX(1, e / 4), 1, 600000,
                &cfg->heartbeat_ms) ||
        !get_ms(c, g, "peer-timeout-ms", 5 * e, 1, 600000,
                &cfg->peer_timeout_ms) ||
        !get_ms(c, g, "lease-ms", 5 * e, 1, 600000, &cfg->lease_ms) ||
        !get_ms(c, g, "qmp-timeout-ms", MAX(1000, 50 * e), 1, 600000,
                &cfg->qmp_timeout_ms) ||
        !get_ms(c, g, "respawn-ms", MAX(200, 25 * e), 1, 600000,
                &cfg->respawn_ms)) {
        return FALSE;
    }
    if (cfg->heartbeat_ms >= cfg->peer_timeout_ms) {
        g_autofree char *v = g_strdup_printf("%u", cfg->heartbeat_ms);

        return bad(c, g, "heartbeat-ms", v, FTAGENT_CONFIG_ERROR_INVALID,
                   "must be below peer-timeout-ms (%u)", cfg->peer_timeout_ms);
    }
    if (!get_path(c, g, "state-dir", "/var/lib/qemu-ft", &cfg->state_dir) ||
        !get_path(c, g, "run-dir", "/run/qemu-ft", &cfg->run_dir) ||
        !get_path(c, g, "pool-dir", "/dev/shm", &cfg->pool_dir) ||
        !get_path(c, g, "key-file", "/etc/qemu-ft/peer.key", &cfg->key_file) ||
        !get_path(c, g, "token-file", "/etc/qemu-ft/rest.token",
                  &cfg->token_file) ||
        !get_path(c, g, "qemu", "/usr/bin/qemu-system-x86_64",
                  &cfg->qemu_binary) ||
        !get_path(c, g, "qemu-firmware", "", &cfg->qemu_firmware)) {
        return FALSE;
    }
    {
        g_autofree char *def = g_build_filename(cfg->run_dir, "agent.sock",
                                                NULL);

        if (!get_path(c, g, "control-socket", def, &cfg->control_socket)) {
            return FALSE;
        }
    }
    rest = get(c, g, "rest-listen");
    if (!rest) {
        rest = g_strdup("127.0.0.1:7080");
    }
    if (!*rest) {
        cfg->rest_address = g_strdup("");
    } else if (!parse_address(c, g, "rest-listen", rest, 7080,
                              &cfg->rest_address, &cfg->rest_port)) {
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_host(Ctx *c, FtAgentConfig *cfg, const char *group)
{
    FtAgentHostConfig *h = g_new0(FtAgentHostConfig, 1);
    g_autofree char *addr = NULL;

    h->id = g_strdup(group + strlen("host:"));
    g_ptr_array_add(cfg->hosts, h);
    if (!valid_id(h->id, FTAGENT_HOST_ID_MAX)) {
        return bad(c, group, NULL, NULL, FTAGENT_CONFIG_ERROR_INVALID,
                   "a host id is 1..%d characters of A-Z a-z 0-9 _ . -",
                   FTAGENT_HOST_ID_MAX);
    }
    if (g_str_has_suffix(h->id, FTAGENT_OOB_SUFFIX)) {
        return bad(c, group, NULL, NULL, FTAGENT_CONFIG_ERROR_INVALID,
                   "a host id must not end in '%s' (the out-of-band senders' "
                   "suffix)", FTAGENT_OOB_SUFFIX);
    }
    if (!check_keys(c, group, host_keys) ||
        !get_string(c, group, "peer-address", NULL, TRUE, &addr)) {
        return FALSE;
    }
    return parse_address(c, group, "peer-address", addr, 7070,
                         &h->peer_address, &h->peer_port);
}

static gboolean check_qemu_args(Ctx *c, const char *group, const char *v,
                                char **argv)
{
    for (char **a = argv; *a; a++) {
        if (g_strv_contains(forbidden_args, *a)) {
            g_autofree char *why = g_strdup_printf(
                "'%s' is the agent's to set (it adds -qmp, -S, -name and the "
                "RAM backend)", *a);
            return bad(c, group, "qemu-args", v, FTAGENT_CONFIG_ERROR_INVALID,
                       "%s", why);
        }
        if (g_str_equal(*a, "-object") && a[1] &&
            (strstr(a[1], "id=ram,") || g_str_has_suffix(a[1], "id=ram"))) {
            return bad(c, group, "qemu-args", v, FTAGENT_CONFIG_ERROR_INVALID,
                       "'-object %s': the agent adds the RAM backend (id=ram) "
                       "itself", a[1]);
        }
    }
    return TRUE;
}

static gboolean parse_vm(Ctx *c, FtAgentConfig *cfg, const char *group)
{
    FtAgentVmConfig *vm = g_new0(FtAgentVmConfig, 1);
    g_autofree char *mem = NULL, *args = NULL, *hosts_text = NULL;
    g_autoptr(GError) local = NULL;
    gsize n = 0;

    vm->name = g_strdup(group + strlen("vm:"));
    g_ptr_array_add(cfg->vms, vm);
    if (!valid_id(vm->name, 31)) {
        return bad(c, group, NULL, NULL, FTAGENT_CONFIG_ERROR_INVALID,
                   "a VM name is 1..31 characters of A-Z a-z 0-9 _ . -");
    }
    if (!check_keys(c, group, vm_keys) ||
        !get_string(c, group, "policy", "protect", FALSE, &vm->policy) ||
        !get_string(c, group, "uuid", "", FALSE, &vm->uuid)) {
        return FALSE;
    }
    if (!g_strv_contains(policies, vm->policy)) {
        return bad(c, group, "policy", vm->policy,
                   FTAGENT_CONFIG_ERROR_INVALID,
                   "must be protect, restart or notify");
    }
    if (!*vm->uuid) {
        g_clear_pointer(&vm->uuid, g_free);
    } else if (!g_uuid_string_is_valid(vm->uuid)) {
        return bad(c, group, "uuid", vm->uuid, FTAGENT_CONFIG_ERROR_INVALID,
                   "not a UUID (8-4-4-4-12 hexadecimal digits)");
    } else {
        char *lower = g_ascii_strdown(vm->uuid, -1);

        g_free(vm->uuid);
        vm->uuid = lower;
    }
    hosts_text = get(c, group, "hosts");
    if (!hosts_text) {
        return bad(c, group, "hosts", NULL, FTAGENT_CONFIG_ERROR_MISSING,
                   "required");
    }
    vm->hosts = g_key_file_get_string_list(c->kf, group, "hosts", &n, NULL);
    for (gsize i = 0; i < n; i++) {
        g_strstrip(vm->hosts[i]);
        if (!ftagent_config_host(cfg, vm->hosts[i])) {
            return bad(c, group, "hosts", hosts_text,
                       FTAGENT_CONFIG_ERROR_INVALID,
                       "'%s' is no [host:%s] group", vm->hosts[i],
                       vm->hosts[i]);
        }
        for (gsize j = 0; j < i; j++) {
            if (g_str_equal(vm->hosts[i], vm->hosts[j])) {
                return bad(c, group, "hosts", hosts_text,
                           FTAGENT_CONFIG_ERROR_INVALID,
                           "'%s' is named twice", vm->hosts[i]);
            }
        }
    }
    if (n < 1 || (n < 2 && !g_str_equal(vm->policy, "notify"))) {
        return bad(c, group, "hosts", hosts_text, FTAGENT_CONFIG_ERROR_INVALID,
                   "at least two hosts: the primary's and a standby's (one "
                   "is enough for policy notify)");
    }
    if (!get_string(c, group, "memory", NULL, TRUE, &mem) ||
        !parse_size(c, group, "memory", mem, &vm->memory_bytes) ||
        !get_string(c, group, "qemu-args", NULL, TRUE, &args)) {
        return FALSE;
    }
    if (!g_shell_parse_argv(args, NULL, &vm->qemu_args, &local)) {
        return bad(c, group, "qemu-args", args, FTAGENT_CONFIG_ERROR_INVALID,
                   "%s", local->message);
    }
    return check_qemu_args(c, group, args, vm->qemu_args);
}

/* [masakari]: optional; without url (or with an empty one) nothing is
 * sent, but a bad value is refused all the same. */
static gboolean parse_masakari(Ctx *c, FtAgentConfig *cfg)
{
    const char *g = "masakari";
    FtAgentMasakariConfig *m = &cfg->masakari;
    guint e = cfg->epoch_ms;
    g_autoptr(GUri) uri = NULL;
    g_autoptr(GError) local = NULL;
    const char *scheme;

    if (g_key_file_has_group(c->kf, g) && !check_keys(c, g, masakari_keys)) {
        return FALSE;
    }
    if (!get_string(c, g, "url", "", FALSE, &m->url) ||
        !get_path(c, g, "token-file", "/etc/qemu-ft/masakari.token",
                  &m->token_file) ||
        !get_ms(c, g, "timeout-ms", MAX(2000, 100 * e), 1, 600000,
                &m->timeout_ms) ||
        !get_ms(c, g, "retry-first-ms", MAX(200, 25 * e), 1, 3600000,
                &m->retry_first_ms) ||
        !get_ms(c, g, "retry-max-ms", MAX(60000, m->retry_first_ms), 1,
                3600000, &m->retry_max_ms)) {
        return FALSE;
    }
    if (m->retry_max_ms < m->retry_first_ms) {
        g_autofree char *v = g_strdup_printf("%u", m->retry_max_ms);

        return bad(c, g, "retry-max-ms", v, FTAGENT_CONFIG_ERROR_INVALID,
                   "must not be below retry-first-ms (%u)", m->retry_first_ms);
    }
    if (!*m->url) {
        return TRUE;
    }
    if (strpbrk(m->url, " \t\r\n")) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID,
                   "a URL has no white space (percent-encode it)");
    }
    uri = g_uri_parse(m->url, G_URI_FLAGS_NONE, &local);
    if (!uri) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID, "%s",
                   local->message);
    }
    scheme = g_uri_get_scheme(uri);
    if (g_ascii_strcasecmp(scheme, "http") != 0 &&
        g_ascii_strcasecmp(scheme, "https") != 0) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID,
                   "not an http:// or https:// URL");
    }
    if (!g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID,
                   "the URL names no host");
    }
    if (g_uri_get_userinfo(uri)) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID,
                   "credentials do not belong in the URL: the token is "
                   "token-file's");
    }
    if (g_uri_get_fragment(uri)) {
        return bad(c, g, "url", m->url, FTAGENT_CONFIG_ERROR_INVALID,
                   "a URL to POST to has no #fragment");
    }
    return TRUE;
}

static FtAgentConfig *parse(Ctx *c)
{
    g_autoptr(FtAgentConfig) cfg = g_new0(FtAgentConfig, 1);
    g_auto(GStrv) groups = g_key_file_get_groups(c->kf, NULL);

    cfg->path = g_strdup(c->path);
    cfg->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
    cfg->vms = g_ptr_array_new_with_free_func((GDestroyNotify)vm_free);
    for (char **g = groups; *g; g++) {
        if (!g_str_equal(*g, "agent") && !g_str_equal(*g, "masakari") &&
            !g_str_has_prefix(*g, "host:") && !g_str_has_prefix(*g, "vm:")) {
            bad(c, *g, NULL, NULL, FTAGENT_CONFIG_ERROR_UNKNOWN,
                "unknown group (agent, masakari, host:ID and vm:NAME are)");
            return NULL;
        }
    }
    if (!parse_agent(c, cfg) || !parse_masakari(c, cfg)) {
        return NULL;
    }
    for (char **g = groups; *g; g++) {
        if (g_str_has_prefix(*g, "host:") && !parse_host(c, cfg, *g)) {
            return NULL;
        }
    }
    if (cfg->hosts->len < 2) {
        bad(c, "host:ID", NULL, NULL, FTAGENT_CONFIG_ERROR_MISSING,
            "%u host groups; a standby needs at least two hosts",
            cfg->hosts->len);
        return NULL;
    }
    if (!ftagent_config_host(cfg, cfg->host_id)) {
        bad(c, "agent", "host", cfg->host_id, FTAGENT_CONFIG_ERROR_INVALID,
            "no [host:%s] group describes this host", cfg->host_id);
        return NULL;
    }
    for (char **g = groups; *g; g++) {
        if (g_str_has_prefix(*g, "vm:") && !parse_vm(c, cfg, *g)) {
            return NULL;
        }
    }
    return g_steal_pointer(&cfg);
}

FtAgentConfig *ftagent_config_load_data(const char *data, gsize len,
                                        GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    Ctx c = { "<data>", kf, error };

    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, FTAGENT_CONFIG_ERROR, FTAGENT_CONFIG_ERROR_PARSE,
                    "%s: %s", c.path, local->message);
        return NULL;
    }
    return parse(&c);
}

FtAgentConfig *ftagent_config_load(const char *path, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    Ctx c = { path, kf, error };

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
        g_set_error(error, FTAGENT_CONFIG_ERROR, FTAGENT_CONFIG_ERROR_PARSE,
                    "%s: %s", path, local->message);
        return NULL;
    }
    return parse(&c);
}

const FtAgentHostConfig *ftagent_config_host(const FtAgentConfig *config,
                                             const char *id)
{
    for (guint i = 0; config->hosts && i < config->hosts->len; i++) {
        const FtAgentHostConfig *h = g_ptr_array_index(config->hosts, i);

        if (g_strcmp0(h->id, id) == 0) {
            return h;
        }
    }
    return NULL;
}

const FtAgentVmConfig *ftagent_config_vm(const FtAgentConfig *config,
                                         const char *name)
{
    for (guint i = 0; config->vms && i < config->vms->len; i++) {
        const FtAgentVmConfig *vm = g_ptr_array_index(config->vms, i);

        if (g_strcmp0(vm->name, name) == 0) {
            return vm;
        }
    }
    return NULL;
}
