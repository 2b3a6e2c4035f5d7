/*
 * module.c - the MQTT module's descriptor, configuration table, metrics and lifecycle.
 *
 * Devices connect with MQTT 3.1.1 or 5.0 over TCP or TLS and publish; each PUBLISH becomes one
 * submission, acknowledged (PUBACK, PUBREC) once Kafka has it. Sockets and event loops live in
 * listener.c and conn.c, TLS in tls.c, CONNECT and sessions in connect.c and session.c,
 * publishing in publish.c, the topic mapping in mapping.c, the wire format in codec*.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "mqtt.h"

#define MQTT_MODULE_VERSION "0.1.0"

_Static_assert(offsetof(mqtt_module, loopset) == 0, "inlet_support_module_stop() finds it");

static const char *const form_values[] = {"payload", "events", NULL};

#define OPT(name, type, field, def, min, max, desc)                                                \
    {                                                                                              \
        name, type, offsetof(mqtt_config, field), def, min, max, NULL, NULL, 0, 0, desc            \
    }

static const inlet_option tls_options[] = {
    INLET_SUPPORT_TLS_OPTIONS(0, "; the certificate wins over a password."),
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    INLET_SUPPORT_LISTENER_OPTIONS(mqtt_listener_config, address, tls, "1883", tls_options,
                                   "Serve MQTT over TLS on this listener (absent: plaintext)."),
    INLET_SUPPORT_CONN_LIMIT_OPTIONS(offsetof(mqtt_listener_config, limits)),
    INLET_OPTIONS_END,
};

static const inlet_option mapping_options[] = {
    {"tenant", INLET_OPT_STRING, offsetof(mqtt_mapping_config, tenant), NULL, 0, 0, NULL, NULL, 0,
     0, "Apply this mapping to the devices of one tenant only (absent: every tenant)."},
    {"topic", INLET_OPT_STRING, offsetof(mqtt_mapping_config, topic), NULL, 0, 0, NULL, NULL, 0,
     INLET_OPT_REQUIRED,
     "Topic pattern: literal levels, + (one level), # (the rest, last), and the placeholders "
     "{device} (must be the authenticated device), {schema} and {version}."},
    {"form", INLET_OPT_ENUM, offsetof(mqtt_mapping_config, form), "payload", 0, 0, form_values,
     NULL, 0, 0,
     "payload: the message is the bare payload of one event of the schema; events: one event "
     "object or a {\"events\": [...]} batch, as HTTP devices send."},
    {"schema", INLET_OPT_STRING, offsetof(mqtt_mapping_config, schema), NULL, 0, 0, NULL, NULL, 0,
     0, "Schema name, when the topic has no {schema} level (events: the default use_case)."},
    {"version", INLET_OPT_STRING, offsetof(mqtt_mapping_config, version), NULL, 0, 0, NULL, NULL, 0,
     0, "Schema version such as v1, when the topic has no {version} level."},
    {"content_type", INLET_OPT_STRING, offsetof(mqtt_mapping_config, content_type), NULL, 0, 0,
     NULL, NULL, 0, 0,
     "The payload's format on this topic when the PUBLISH has no Content Type property (MQTT "
     "3.1.1 has none): application/json (the default), application/cbor, "
     "application/senml+json, application/senml+cbor or application/octet-stream "
     "(docs/FORMATS.md). A Content Type property wins."},
    INLET_OPTIONS_END,
};

static const inlet_option mqtt_options[] = {
    OPT("threads", INLET_OPT_INT, threads, "2", 1, 256,
        "Event loops, each on its own thread with its own SO_REUSEPORT listening sockets; a "
        "session lives on the loop its client id hashes to."),
    OPT("max_packet_size", INLET_OPT_SIZE, max_packet_size, "256k", 64, MQTT_MAX_PACKET_SIZE,
        "Largest packet accepted (MQTT 5 Maximum Packet Size, announced in CONNACK); checked "
        "on the fixed header, before anything is buffered."),
    OPT("max_connect_size", INLET_OPT_SIZE, max_connect_size, "16k", 64, MQTT_READ_CHUNK - 5,
        "Largest CONNECT accepted from a client that has not authenticated yet; a plaintext "
        "CONNECT waits in the socket until complete, so nothing is allocated before it."),
    OPT("receive_maximum", INLET_OPT_INT, receive_maximum, "64", 1, 65535,
        "QoS 1 and 2 publishes a connection may have unacknowledged (MQTT 5 Receive Maximum, "
        "announced and enforced); also how many of its submissions may wait for Kafka before "
        "its socket is not read."),
    OPT("max_inflight_per_thread", INLET_OPT_INT, max_inflight_per_thread, "20000", 1, 10000000,
        "Publishes a loop may have waiting for Kafka; beyond it the loop stops reading sockets "
        "until acknowledgements make room."),
    OPT("topic_aliases", INLET_OPT_INT, topic_aliases, "16", 0, 65535,
        "MQTT 5 Topic Alias Maximum announced to clients (0: no topic aliases)."),
    OPT("max_keep_alive", INLET_OPT_DURATION, max_keep_alive_ms, "15m", 1000, 65535000,
        "Longest keep alive: MQTT 5 clients asking for more (or none) are told this value; 3.1.1 "
        "clients asking for more are refused, for none it applies."),
    OPT("connect_timeout", INLET_OPT_DURATION, connect_timeout_ms, "10s", 1000, 600000,
        "Close a connection that has not sent a CONNECT (and finished TLS) by then."),
    OPT("max_session_expiry", INLET_OPT_DURATION, max_session_expiry_ms, "1h", 0,
        INT64_C(31536000000),
        "Longest time a session outlives its connection (MQTT 5 Session Expiry Interval is "
        "capped to it; 3.1.1 Clean Session 0 sessions get it)."),
    OPT("max_output_buffer", INLET_OPT_SIZE, max_output_buffer, "64k", 1024, INT64_C(64) << 20,
        "Acknowledgements waiting for a client that does not read; beyond it the connection "
        "is closed."),
    OPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "5s", 0, 600000,
        "At stop, how long to wait for outstanding Kafka acknowledgements before closing."),
    INLET_SUPPORT_LISTENERS_OPTION(mqtt_config, listeners, listener_options, mqtt_listener_config),
    {"mappings", INLET_OPT_SECTION_LIST, offsetof(mqtt_config, mappings), NULL, 0, 0, NULL,
     mapping_options, sizeof(mqtt_mapping_config), 0,
     "Topic -> schema mappings, tried in order (absent: devices/{device}/{schema}/{version} "
     "for payloads and devices/{device}/events for events)."},
    INLET_OPTIONS_END,
};

/* ---- metrics: handles are created once here; the loops only add to them ---- */

static const uint8_t connack_codes[MQTT_CONNACK_SLOTS - 1] = {0x00, 0x81, 0x82, 0x84, 0x85,
                                                              0x86, 0x87, 0x88, 0x8C};
static const char *const connack_names[MQTT_CONNACK_SLOTS] = {
    "accepted",           "malformed",
    "protocol_error",     "unsupported_version",
    "client_id_rejected", "bad_credentials",
    "not_authorized",     "server_unavailable",
    "bad_auth_method",    "other"};

static const uint8_t ack_codes[MQTT_ACK_SLOTS - 1] = {0x00, 0x80, 0x83, 0x87,
                                                      0x90, 0x91, 0x97, 0x99};

static const char *const close_names[MQTT_CLOSE_REASONS] = {
    [MQTT_CLOSE_CLIENT_DISCONNECT] = "client_disconnect",
    [MQTT_CLOSE_EOF] = "eof",
    [MQTT_CLOSE_IO_ERROR] = "io_error",
    [MQTT_CLOSE_TLS_ERROR] = "tls_error",
    [MQTT_CLOSE_CONNECT_TIMEOUT] = "connect_timeout",
    [MQTT_CLOSE_KEEP_ALIVE] = "keep_alive_timeout",
    [MQTT_CLOSE_NOT_CONNECT] = "connect_refused",
    [MQTT_CLOSE_PROTOCOL] = "protocol_error",
    [MQTT_CLOSE_TOO_LARGE] = "packet_too_large",
    [MQTT_CLOSE_RECEIVE_MAXIMUM] = "receive_maximum_exceeded",
    [MQTT_CLOSE_TAKEN_OVER] = "session_taken_over",
    [MQTT_CLOSE_REJECTED_V3] = "publish_refused_v311",
    [MQTT_CLOSE_SLOW_READER] = "slow_reader",
    [MQTT_CLOSE_SHUTDOWN] = "server_shutdown",
    [MQTT_CLOSE_INTERNAL] = "internal_error",
    [MQTT_CLOSE_CREDENTIAL_EXPIRED] = "credential_expired",
    [MQTT_CLOSE_CREDENTIAL_REVOKED] = "credential_revoked",
};

void mqtt_count_connack(mqtt_module *m, uint8_t reason)
{
    size_t i = 0;
    while (i < MQTT_CONNACK_SLOTS - 1 && connack_codes[i] != reason)
        i++;
    m->host->metric_add(m->metrics.connects[i], 1);
}

void mqtt_count_ack(mqtt_module *m, uint8_t reason)
{
    size_t i = 0;
    while (i < MQTT_ACK_SLOTS - 1 && ack_codes[i] != reason)
        i++;
    m->host->metric_add(m->metrics.acks[i], 1);
}

static void create_metrics(mqtt_module *m)
{
    const inlet_host *h = m->host;
    mqtt_metrics *mt = &m->metrics;
    char labels[64];

    mt->connections =
        h->metric_gauge_for(m->mod, "inlet_mqtt_connections", "Open MQTT sockets.", NULL);
    mt->connections_total = h->metric_counter_for(m->mod, "inlet_mqtt_connections_total",
                                                  "Accepted MQTT sockets.", NULL);
    mt->refused_listener = h->metric_counter_for(
        m->mod, "inlet_mqtt_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"listener_full\"");
    mt->refused_address = h->metric_counter_for(
        m->mod, "inlet_mqtt_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"address_full\"");
    mt->sessions = h->metric_gauge_for(m->mod, "inlet_mqtt_sessions",
                                       "MQTT sessions held, with or without a connection.", NULL);
    for (size_t i = 0; i < MQTT_CONNACK_SLOTS; i++) {
        snprintf(labels, sizeof(labels), "result=\"%s\"", connack_names[i]);
        mt->connects[i] = h->metric_counter_for(m->mod, "inlet_mqtt_connects_total",
                                                "CONNECT packets answered, by result.", labels);
    }
    for (int q = 0; q < 3; q++) {
        snprintf(labels, sizeof(labels), "qos=\"%d\"", q);
        mt->publishes[q] = h->metric_counter_for(m->mod, "inlet_mqtt_publishes_total",
                                                 "PUBLISH packets received.", labels);
    }
    mt->qos0_delivered =
        h->metric_counter_for(m->mod, "inlet_mqtt_qos0_total",
                              "QoS 0 publishes, by fate (best effort).", "result=\"delivered\"");
    mt->qos0_dropped =
        h->metric_counter_for(m->mod, "inlet_mqtt_qos0_total",
                              "QoS 0 publishes, by fate (best effort).", "result=\"dropped\"");
    mt->duplicates = h->metric_counter_for(
        m->mod, "inlet_mqtt_duplicates_total",
        "QoS 1/2 publishes with a packet id still held by the session: not produced again.", NULL);
    for (size_t i = 0; i < MQTT_ACK_SLOTS; i++) {
        if (i < MQTT_ACK_SLOTS - 1)
            snprintf(labels, sizeof(labels), "reason=\"0x%02X\"", ack_codes[i]);
        else
            snprintf(labels, sizeof(labels), "reason=\"other\"");
        mt->acks[i] = h->metric_counter_for(m->mod, "inlet_mqtt_acks_total",
                                            "PUBACK and PUBREC sent, by reason code.", labels);
    }
    for (size_t i = 0; i < MQTT_CLOSE_REASONS; i++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"", close_names[i]);
        mt->disconnects[i] = h->metric_counter_for(m->mod, "inlet_mqtt_disconnects_total",
                                                   "MQTT connections ended, by reason.", labels);
    }
    mt->inflight = h->metric_gauge_for(m->mod, "inlet_mqtt_publishes_in_flight",
                                       "Publishes waiting for Kafka acknowledgement.", NULL);
    mt->paused = h->metric_counter_for(
        m->mod, "inlet_mqtt_read_pauses_total",
        "Times a loop stopped reading sockets because max_inflight_per_thread was reached.", NULL);
}

/* ---- lifecycle ---- */

static void mqtt_destroy(void *state);

static int mqtt_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                       void **state, char *err, size_t err_len)
{
    const mqtt_config *cfg = config;
    mqtt_module *m = NULL;

    *state = NULL;
    if ((m = inlet_support_module_new(host, mod, sizeof(*m), err, err_len)) == NULL)
        return -1;
    m->host = host;
    m->mod = mod;
    m->cfg = cfg;
    m->max_keep_alive_s = (uint32_t)(cfg->max_keep_alive_ms / 1000);
    m->max_session_expiry_s = (uint32_t)(cfg->max_session_expiry_ms / 1000);
    m->connect_timeout_s = (uint32_t)((cfg->connect_timeout_ms + 999) / 1000);
    if (getrandom(&m->hash_seed, sizeof(m->hash_seed), 0) != (ssize_t)sizeof(m->hash_seed))
        m->hash_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15u;

    if (mqtt_mappings_compile(&m->mappings, &cfg->mappings, err, err_len) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->mappings.count; i++) {
        const mqtt_mapping_config *mc = (const mqtt_mapping_config *)cfg->mappings.items + i;
        if (mc->content_type && INLET_HOST_HAS(host, content_type_supported) &&
            !host->content_type_supported(mc->content_type)) {
            snprintf(err, err_len,
                     "mappings[%zu].content_type: \"%s\" is not a format the core decodes "
                     "(docs/FORMATS.md)",
                     i, mc->content_type);
            goto fail;
        }
    }

    if (inlet_support_listeners_new(
            &m->loopset.listeners, &m->loopset.n_listeners, &cfg->listeners,
            INLET_SUPPORT_LISTENER_LAYOUT(mqtt_listener_config, address, tls), &mqtt_tls_setup, err,
            err_len) != 0 ||
        inlet_support_listeners_limit(m->loopset.listeners, m->loopset.n_listeners,
                                      offsetof(mqtt_listener_config, limits), err, err_len) != 0)
        goto fail;
    inlet_support_loopset_report_cert_expiry(&m->loopset);
    create_metrics(m);
    *state = m;
    return 0;

fail:
    mqtt_destroy(m);
    return -1;
}

/* Every connection is a descriptor: take the hard limit if the soft one is lower, and say what
 * it allows. */
static void raise_fd_limit(mqtt_module *m)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            MQTT_LOG(m, INLET_LOG_WARN, "cannot raise the descriptor limit: %s", strerror(errno));
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    MQTT_LOG(m, rl.rlim_cur < 65536 ? INLET_LOG_WARN : INLET_LOG_INFO,
             "descriptor limit %llu: at most about that many MQTT connections%s",
             (unsigned long long)rl.rlim_cur,
             rl.rlim_cur < 65536 ? " (raise LimitNOFILE for many devices)" : "");
}

static int mqtt_start(void *state, char *err, size_t err_len)
{
    mqtt_module *m = state;
    raise_fd_limit(m);
    return inlet_support_loopset_start(&m->loopset, (size_t)m->cfg->threads, &mqtt_loop_spec, m,
                                       err, err_len);
}

static void mqtt_destroy(void *state)
{
    mqtt_module *m = state;
    if (m == NULL)
        return;
    inlet_support_loopset_free(&m->loopset); /* joins the loops if the core skipped stop() */
    mqtt_mappings_free(&m->mappings);
    free(m);
}

static const inlet_module_desc mqtt_module_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "mqtt",
    .version = MQTT_MODULE_VERSION,
    .description = "MQTT 3.1.1 and 5.0 listener: QoS 0/1/2 publishes acknowledged once Kafka "
                   "has them; bearer tokens or mTLS",
    .options = mqtt_options,
    .config_size = sizeof(mqtt_config),
    .create = mqtt_create,
    .start = mqtt_start,
    .stop_accepting = inlet_support_module_stop_accepting,
    .stop = inlet_support_module_stop,
    .destroy = mqtt_destroy,
};

INLET_MODULE_DEFINE(mqtt_module_desc)
