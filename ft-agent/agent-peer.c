/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The peer link (docs/protocol.md): one UDP socket, HMAC-authenticated,
 * sequence-numbered datagrams. A datagram that fails any check is dropped,
 * counted by reason and logged; nothing in it is acted on.
 */
#include <gio/gio.h>

#include "agent.h"
#include "agent-pool.h"

static FtAgentPeer *peer_by_id(FtAgent *agent, const char *id)
{
    return g_hash_table_lookup(agent->peers, id);
}

gboolean ftagent_peer_alive(FtAgent *agent, const char *host)
{
    FtAgentPeer *p = peer_by_id(agent, host);

    return p && p->last_heard &&
           g_get_monotonic_time() - p->last_heard <
           agent->config->peer_timeout_ms * 1000ll;
}

static void send_to(FtAgent *agent, FtAgentPeer *peer, GBytes *datagram)
{
    g_autoptr(GError) error = NULL;
    gsize len;
    const guint8 *data = g_bytes_get_data(datagram, &len);

    if (g_socket_send_to(agent->socket, peer->address, (const char *)data,
                         len, NULL, &error) < 0) {
        /* A cut link is a fault the peer sees; log it once per silence. */
        g_debug("peer %s: send: %s", peer->config->id, error->message);
        return;
    }
    agent->sent++;
}

static GBytes *encode(FtAgent *agent, FtAgentMsgType type, JsonObject *payload)
{
    g_autoptr(GError) error = NULL;
    GBytes *d = ftagent_msg_encode(&agent->key, type, agent->config->host_id,
                                   agent->incarnation, ++agent->seq,
                                   ftagent_now_real_ns(), payload, &error);

    if (!d) {
        g_critical("cannot encode a %s message: %s",
                   ftagent_msg_type_name(type), error->message);
    }
    return d;
}

void ftagent_peer_send(FtAgent *agent, const char *host, FtAgentMsgType type,
                       JsonObject *payload)
{
    FtAgentPeer *peer = peer_by_id(agent, host);
    g_autoptr(GBytes) d = NULL;

    if (!peer) {
        g_warning("no peer '%s' to send a %s message to", host,
                  ftagent_msg_type_name(type));
        return;
    }
    d = encode(agent, type, payload);
    if (d) {
        send_to(agent, peer, d);
    }
}

void ftagent_peer_broadcast(FtAgent *agent, FtAgentMsgType type,
                            JsonObject *payload)
{
    g_autoptr(GBytes) d = encode(agent, type, payload);
    GHashTableIter it;
    gpointer value;

    if (!d) {
        return;
    }
    g_hash_table_iter_init(&it, agent->peers);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        send_to(agent, value, d);
    }
}

void ftagent_peer_heartbeat(FtAgent *agent)
{
    g_autoptr(JsonObject) p = json_object_new();
    JsonArray *vms = json_array_new();
    GHashTableIter it;
    gpointer value;

    json_object_set_string_member(p, "host", agent->config->host_id);
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;
        JsonObject *v = json_object_new();

        json_object_set_string_member(v, "name", vm->name);
        json_object_set_string_member(v, "role",
                                      ftagent_local_role_name(vm->role));
        json_object_set_string_member(v, "status", vm->status);
        json_object_set_string_member(v, "pool", vm->pool ? vm->pool : "");
        json_object_set_int_member(v, "generation", vm->generation);
        json_object_set_int_member(v, "epoch", vm->lease ?
            ftpool_commit_epoch(vm->lease->word) : 0);
        json_object_set_int_member(v, "qemu-pid", vm->pid);
        json_array_add_object_element(vms, v);
    }
    json_object_set_array_member(p, "vms", vms);
    ftagent_peer_broadcast(agent, FTAGENT_MSG_HEARTBEAT, p);
}

/* ---- receiving ------------------------------------------------------------ */

static FtAgentVm *payload_vm(FtAgent *agent, const FtAgentMsg *msg)
{
    const char *name = json_object_get_string_member_with_default(
        msg->payload, "vm", NULL);
    FtAgentVm *vm = name ? g_hash_table_lookup(agent->vms, name) : NULL;

    if (!vm) {
        g_warning("peer %s: %s message for unknown vm '%s': ignored",
                  msg->sender, ftagent_msg_type_name(msg->type),
                  name ? name : "(none)");
    }
    return vm;
}

static void on_heartbeat(FtAgent *agent, const FtAgentMsg *msg)
{
    JsonArray *vms = json_object_get_array_member(msg->payload, "vms");

    if (!vms) {
        return;
    }
    for (guint i = 0; i < json_array_get_length(vms); i++) {
        JsonNode *n = json_array_get_element(vms, i);
        JsonObject *v = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n)
                                                  : NULL;
        const char *name = v ? json_object_get_string_member_with_default(
            v, "name", NULL) : NULL;
        FtAgentVm *vm = name ? g_hash_table_lookup(agent->vms, name) : NULL;

        if (vm) {
            ftagent_vm_on_heartbeat(vm, msg->sender, v);
        }
    }
}

static void on_qemu_died(FtAgent *agent, const FtAgentMsg *msg)
{
    FtAgentVm *vm = payload_vm(agent, msg);
    const char *pool, *reason;
    FtAgentSource source = FTAGENT_SOURCE_QEMU_DEATH;

    if (!vm) {
        return;
    }
    pool = json_object_get_string_member_with_default(msg->payload, "pool",
                                                      "");
    reason = json_object_get_string_member_with_default(msg->payload,
                                                        "reason", "");
    if (vm->policy == FTAGENT_POLICY_RESTART && !*pool) {
        ftagent_vm_cold_restart(vm, msg->sender,
            json_object_get_string_member_with_default(msg->payload, "exit",
                                                       "exited"));
        return;
    }
    if (vm->role != FTAGENT_LOCAL_STANDBY || g_strcmp0(pool, vm->pool) != 0) {
        g_message("vm %s: %s reports its primary dead (pool %s); no standby "
                  "of that pool here", vm->name, msg->sender, pool);
        return;
    }
    /* a planned switchover paused the primary: the promoted VM runs on */
    vm->resume_after_promotion = json_object_get_boolean_member_with_default(
        msg->payload, "resume", FALSE);
    if (g_str_equal(reason, "operator")) {
        source = FTAGENT_SOURCE_OPERATOR;
    } else if (g_str_equal(reason, "ras")) {
        source = FTAGENT_SOURCE_RAS;
    }
    ftagent_failover_primary_dead(vm, source,
        json_object_get_string_member_with_default(msg->payload, "exit", ""),
        json_object_get_int_member_with_default(msg->payload, "epoch", 0),
        json_object_get_int_member_with_default(msg->payload, "detected-ns",
                                                msg->sent_ns));
}

static void on_last_gasp(FtAgent *agent, const FtAgentMsg *msg)
{
    GHashTableIter it;
    gpointer value;

    g_message("peer %s: last gasp (%s)", msg->sender,
              json_object_get_string_member_with_default(msg->payload,
                                                         "reason", "?"));
    g_hash_table_iter_init(&it, agent->vms);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        FtAgentVm *vm = value;

        if (vm->role == FTAGENT_LOCAL_STANDBY &&
            g_strcmp0(vm->primary_host, msg->sender) == 0 && !vm->gasp_at) {
            vm->gasp_at = g_get_monotonic_time();
            vm->gasp_fault_ns = json_object_get_int_member_with_default(
                msg->payload, "detected-ns", msg->sent_ns);
            vm->gasp_word = vm->lease ? ftagent_lease_sample(vm->lease) : 0;
            vm->gasp_heard_ns = ftagent_now_real_ns();
            ftagent_latency_record(agent, FTAGENT_SOURCE_LAST_GASP,
                                   vm->gasp_fault_ns, vm->gasp_heard_ns);
        }
    }
}

static void on_failover_request(FtAgent *agent, const FtAgentMsg *msg)
{
    g_autoptr(GError) error = NULL;
    FtAgentVm *vm = payload_vm(agent, msg);
    const char *reason = json_object_get_string_member_with_default(
        msg->payload, "reason", "operator");

    if (!vm) {
        return;
    }
    if (vm->role != FTAGENT_LOCAL_PRIMARY) {
        g_message("vm %s: %s asks for a failover; its primary does not run "
                  "here", vm->name, msg->sender);
        return;
    }
    if (!ftagent_vm_request_failover(vm, g_str_equal(reason, "ras")
                                         ? FTAGENT_SOURCE_RAS
                                         : FTAGENT_SOURCE_OPERATOR,
            json_object_get_string_member_with_default(msg->payload,
                                                       "detail", ""),
            &error)) {
        g_warning("%s", error->message);
    }
}

static void dispatch(FtAgent *agent, const FtAgentMsg *msg, gboolean oob)
{
    FtAgentPeer *peer = peer_by_id(agent, msg->sender);

    if (!oob) {
        peer->last_heard = g_get_monotonic_time();
        peer->last_heard_real = ftagent_now_real_ns();
    }
    switch (msg->type) {
    case FTAGENT_MSG_HEARTBEAT:
        on_heartbeat(agent, msg);
        break;
    case FTAGENT_MSG_QEMU_DIED:
        on_qemu_died(agent, msg);
        break;
    case FTAGENT_MSG_LAST_GASP:
        on_last_gasp(agent, msg);
        break;
    case FTAGENT_MSG_FAILOVER_REQUEST:
        on_failover_request(agent, msg);
        break;
    case FTAGENT_MSG_PROMOTED: {
        FtAgentVm *vm = payload_vm(agent, msg);

        if (vm) {
            ftagent_failover_on_promoted(vm, msg->sender, msg->payload);
        }
        break;
    }
    }
}

static void drop(FtAgent *agent, const char *from, const GError *error)
{
    guint reason = error->domain == FTAGENT_ERROR &&
                   error->code <= FTAGENT_ERROR_REPLAYED
                   ? (guint)error->code : FTAGENT_ERROR_MALFORMED;

    agent->dropped[reason]++;
    g_warning("peer message from %s dropped: %s", from, error->message);
}

static gboolean on_datagram(GSocket *socket, GIOCondition cond, gpointer data)
{
    FtAgent *agent = data;
    guint8 buf[FTAGENT_MAX_DATAGRAM + 1];
    g_autoptr(GSocketAddress) from = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *from_text = NULL;
    g_auto(FtAgentMsg) msg = { 0 };
    gboolean oob;
    gssize n;

    (void)cond;
    n = g_socket_receive_from(socket, &from, (char *)buf, sizeof(buf), NULL,
                              &error);
    if (n < 0) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_warning("peer socket: %s", error->message);
        }
        return G_SOURCE_CONTINUE;
    }
    from_text = from ? g_socket_connectable_to_string(
                           G_SOCKET_CONNECTABLE(from)) : g_strdup("?");
    agent->received++;
    if (!ftagent_msg_decode(&agent->key, buf, n, &msg, &error) ||
        !ftagent_replay_accept(agent->replay, &msg, &error)) {
        drop(agent, from_text, error);
        return G_SOURCE_CONTINUE;
    }
    /* "HOST.oob": the host's out-of-band sender (watchdog, BMC, panic
     * notifier, operator tool), its own replay sequence; it may only say
     * last-gasp or failover-request */
    oob = g_str_has_suffix(msg.sender, FTAGENT_OOB_SUFFIX);
    if (oob) {
        msg.sender[strlen(msg.sender) - strlen(FTAGENT_OOB_SUFFIX)] = 0;
    }
    if (!peer_by_id(agent, msg.sender) ||
        (oob && msg.type != FTAGENT_MSG_LAST_GASP &&
         msg.type != FTAGENT_MSG_FAILOVER_REQUEST)) {
        g_set_error(&error, FTAGENT_ERROR, FTAGENT_ERROR_MALFORMED,
                    "sender '%s%s' is no peer of the configuration, or may "
                    "not send %s", msg.sender, oob ? FTAGENT_OOB_SUFFIX : "",
                    ftagent_msg_type_name(msg.type));
        drop(agent, from_text, error);
        return G_SOURCE_CONTINUE;
    }
    dispatch(agent, &msg, oob);
    return G_SOURCE_CONTINUE;
}

static GSocketAddress *address_of(const FtAgentHostConfig *h)
{
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(h->peer_address);

    return a ? g_inet_socket_address_new(a, h->peer_port) : NULL;
}

gboolean ftagent_peer_open(FtAgent *agent, GError **error)
{
    const FtAgentConfig *c = agent->config;
    const FtAgentHostConfig *self = ftagent_config_host(c, c->host_id);
    g_autoptr(GSocketAddress) bind = address_of(self);

    agent->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                         g_free);
    for (guint i = 0; i < c->hosts->len; i++) {
        const FtAgentHostConfig *h = g_ptr_array_index(c->hosts, i);
        FtAgentPeer *p;

        if (g_str_equal(h->id, c->host_id)) {
            continue;
        }
        p = g_new0(FtAgentPeer, 1);
        p->config = h;
        p->address = address_of(h);
        g_hash_table_insert(agent->peers, h->id, p);
    }
    agent->socket = g_socket_new(g_socket_address_get_family(bind),
                                 G_SOCKET_TYPE_DATAGRAM,
                                 G_SOCKET_PROTOCOL_UDP, error);
    if (!agent->socket ||
        !g_socket_bind(agent->socket, bind, TRUE, error)) {
        g_prefix_error(error, "peer socket %s:%u: ", self->peer_address,
                       self->peer_port);
        return FALSE;
    }
    g_socket_set_blocking(agent->socket, FALSE);
    agent->socket_source = g_socket_create_source(agent->socket, G_IO_IN,
                                                  NULL);
    g_source_set_callback(agent->socket_source, G_SOURCE_FUNC(on_datagram),
                          agent, NULL);
    g_source_set_priority(agent->socket_source, G_PRIORITY_HIGH);
    g_source_attach(agent->socket_source, NULL);
    return TRUE;
}

void ftagent_peer_close(FtAgent *agent)
{
    if (agent->socket_source) {
        g_source_destroy(agent->socket_source);
        g_clear_pointer(&agent->socket_source, g_source_unref);
    }
    g_clear_object(&agent->socket);
    if (agent->peers) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, agent->peers);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
            g_clear_object(&((FtAgentPeer *)value)->address);
        }
        g_clear_pointer(&agent->peers, g_hash_table_unref);
    }
}
