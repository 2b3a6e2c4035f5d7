/*
 * module.c - the MQTT bridge's descriptor, configuration table and lifecycle.
 *
 * Fleets that already run an MQTT broker keep it; inletd subscribes to it with a persistent
 * session and moves every message into Kafka, acknowledging it upstream only once Kafka has it
 * (docs/MQTT-BRIDGE.md). Connections live in upstream.c and supervisor.c, the per-message path
 * in deliver.c, topic patterns in mapping.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

#define BRIDGE_MODULE_VERSION "0.1.0"

static const char *const version_values[] = {"3.1.1", "5", NULL};
static const char *const format_values[] = {"payload", "event", "batch", NULL};

#define FIELD(type, member) offsetof(type, member)
#define STR_(x)             #x
#define STR(x)              STR_(x)
#define SESSIONS_SHARED     STR(BRIDGE_SESSIONS_SHARED)

static const inlet_option tls_options[] = {
    {"ca_file", INLET_OPT_PATH, FIELD(bridge_tls_config, ca_file), NULL, 0, 0, NULL, NULL, 0, 0,
     "PEM bundle of the CAs that verify the broker (absent: the system's trust store)."},
    {"ca_path", INLET_OPT_PATH, FIELD(bridge_tls_config, ca_path), NULL, 0, 0, NULL, NULL, 0, 0,
     "Directory of hashed PEM CA certificates (c_rehash), in addition to ca_file."},
    {"cert", INLET_OPT_PATH, FIELD(bridge_tls_config, cert), NULL, 0, 0, NULL, NULL, 0, 0,
     "PEM client certificate chain, for brokers that authenticate clients by certificate."},
    {"key", INLET_OPT_PATH, FIELD(bridge_tls_config, key), NULL, 0, 0, NULL, NULL, 0,
     INLET_OPT_SECRET, "PEM private key of cert (unencrypted)."},
    {"verify", INLET_OPT_BOOL, FIELD(bridge_tls_config, verify), "true", 0, 0, NULL, NULL, 0, 0,
     "Verify the broker's certificate chain and that it names the URI's host."},
    INLET_OPTIONS_END,
};

static const inlet_option mapping_options[] = {
    {"pattern", INLET_OPT_STRING, FIELD(bridge_mapping_config, pattern), NULL, 0, 0, NULL, NULL, 0,
     INLET_OPT_REQUIRED,
     "Topic pattern, e.g. \"fleet/{tenant}/{device}/position\": whole levels {tenant}, "
     "{device} (required), {schema}, {version}, '+' (any level) and a final '#'."},
    {"tenant", INLET_OPT_STRING, FIELD(bridge_mapping_config, tenant), NULL, 0, 0, NULL, NULL, 0, 0,
     "Tenant of every message this pattern matches, when the pattern has no {tenant}."},
    {"schema", INLET_OPT_STRING, FIELD(bridge_mapping_config, schema), NULL, 0, 0, NULL, NULL, 0, 0,
     "Schema name, e.g. fleet.position, when the pattern has no {schema}."},
    {"version", INLET_OPT_STRING, FIELD(bridge_mapping_config, version), NULL, 0, 0, NULL, NULL, 0,
     0, "Schema version, e.g. v1, when the pattern has no {version}."},
    {"format", INLET_OPT_ENUM, FIELD(bridge_mapping_config, format), "payload", 0, 0, format_values,
     NULL, 0, 0,
     "What the MQTT payload is: the event's payload (payload), one event object with ts, "
     "event_id and payload (event), or {\"events\": [...]} (batch)."},
    INLET_OPTIONS_END,
};

#define UOPT(name, type, member, def, min, max, flags, desc)                                       \
    {                                                                                              \
        name, type, FIELD(bridge_upstream_config, member), def, min, max, NULL, NULL, 0, flags,    \
            desc                                                                                   \
    }

static const inlet_option upstream_options[] = {
    UOPT("name", INLET_OPT_STRING, name, NULL, 0, 0, 0,
         "Name in logs and in the upstream=\"\" metric label (A-Z a-z 0-9 . _ -); default: the "
         "client id."),
    UOPT("uri", INLET_OPT_STRING, uri, NULL, 0, 0, INLET_OPT_REQUIRED,
         "Broker address: tcp://host:1883 or ssl://host:8883 (mqtt:// and mqtts:// too)."),
    UOPT("client_id", INLET_OPT_STRING, client_id, NULL, 0, 0, INLET_OPT_REQUIRED,
         "MQTT client identifier. It names the persistent session, so it must be stable across "
         "restarts and unique per inletd instance."),
    {"mqtt_version", INLET_OPT_ENUM, FIELD(bridge_upstream_config, mqtt_version), "5", 0, 0,
     version_values, NULL, 0, 0, "Protocol version: 3.1.1 or 5."},
    UOPT("username", INLET_OPT_STRING, username, NULL, 0, 0, 0, "User name for the broker."),
    UOPT("password", INLET_OPT_STRING, password, NULL, 0, 0, INLET_OPT_SECRET,
         "Password for the broker (prefer password_file)."),
    UOPT("password_file", INLET_OPT_PATH, password_file, NULL, 0, 0, 0,
         "File whose first line is the password; read again at every connection attempt."),
    {"tls", INLET_OPT_SECTION, FIELD(bridge_upstream_config, tls), NULL, 0, 0, NULL, tls_options,
     sizeof(bridge_tls_config), 0, "TLS settings for ssl:// and mqtts:// URIs."},
    UOPT("keepalive", INLET_OPT_DURATION, keepalive_ms, "30s", 1000, 65535000, 0,
         "MQTT keep-alive interval (§3.1.2.10); whole seconds."),
    UOPT("connect_timeout", INLET_OPT_DURATION, connect_timeout_ms, "10s", 1000, 600000, 0,
         "Give up a connection attempt (TCP, TLS, CONNACK) after this long."),
    UOPT("session_expiry", INLET_OPT_DURATION, session_expiry_ms, "168h", 1000,
         INT64_C(4294967294000), 0,
         "MQTT 5: how long the broker keeps the session, and queues messages, while the bridge "
         "is disconnected. MQTT 3.1.1 sessions last as long as the broker's configuration says."),
    UOPT("reconnect_min", INLET_OPT_DURATION, reconnect_min_ms, "1s", 100, 3600000, 0,
         "First delay before reconnecting; doubled after each failed attempt."),
    UOPT("reconnect_max", INLET_OPT_DURATION, reconnect_max_ms, "60s", 100, 3600000, 0,
         "Longest delay between connection attempts."),
    UOPT("shared_group", INLET_OPT_STRING, shared_group, NULL, 0, 0, 0,
         "Subscribe as $share/<group>/<filter>, so that the inletd instances of one group split "
         "the messages between them."),
    UOPT("sessions", INLET_OPT_INT, sessions, NULL, 1, BRIDGE_SESSIONS_MAX, 0,
         "Sessions (clients, each with one message in flight) in the shared group; more than 1 "
         "needs shared_group. Default: " SESSIONS_SHARED " with shared_group, else 1. Session "
         "n > 0 connects as <client_id>-s<n>."),
    UOPT("subscriptions", INLET_OPT_STRING_LIST, subscriptions, NULL, 0, 0, 0,
         "Topic filters to subscribe to at QoS 1; default: one per mapping pattern, with its "
         "placeholders as '+'."),
    UOPT("tenant", INLET_OPT_STRING, tenant, NULL, 0, 0, 0,
         "Tenant of every message of this upstream (its patterns then have no {tenant})."),
    {"mappings", INLET_OPT_SECTION_LIST, FIELD(bridge_upstream_config, mappings), NULL, 0, 0, NULL,
     mapping_options, sizeof(bridge_mapping_config), INLET_OPT_REQUIRED,
     "Topic patterns, first match wins; a message no pattern matches is rejected."},
    UOPT("ingest_retained", INLET_OPT_BOOL, ingest_retained, "false", 0, 0, 0,
         "Produce retained messages the broker sends when a subscription is made (old values); "
         "by default they are acknowledged and skipped."),
    UOPT("user_properties", INLET_OPT_BOOL, user_properties, "true", 0, 0, 0,
         "MQTT 5: carry user properties into Kafka headers."),
    UOPT("event_id_property", INLET_OPT_STRING, event_id_property, NULL, 0, 0, 0,
         "MQTT 5: user property whose value becomes the event id (payload format), so that a "
         "redelivered message keeps its id."),
    INLET_OPTIONS_END,
};

static const inlet_option bridge_options[] = {
    {"upstreams", INLET_OPT_SECTION_LIST, FIELD(bridge_config, upstreams), NULL, 0, 0, NULL,
     upstream_options, sizeof(bridge_upstream_config), INLET_OPT_REQUIRED,
     "MQTT brokers to drain, each with its own client, session and mappings."},
    {"max_payload_size", INLET_OPT_SIZE, FIELD(bridge_config, max_payload_size), "256k", 2,
     INT64_C(16) << 20, NULL, NULL, 0, 0,
     "Largest MQTT payload accepted; larger ones are rejected (keep it below Kafka's "
     "message.max.bytes)."},
    {"retry_min", INLET_OPT_DURATION, FIELD(bridge_config, retry_min_ms), "100ms", 10, 60000, NULL,
     NULL, 0, 0, "First delay before offering Kafka a message again after it was refused."},
    {"retry_max", INLET_OPT_DURATION, FIELD(bridge_config, retry_max_ms), "5s", 10, 600000, NULL,
     NULL, 0, 0, "Longest delay between such retries."},
    {"shutdown_timeout", INLET_OPT_DURATION, FIELD(bridge_config, shutdown_timeout_ms), "5s", 100,
     600000, NULL, NULL, 0, 0,
     "At stop, how long to wait for the disconnect from each broker and for the message in "
     "flight."},
    INLET_OPTIONS_END,
};

/* ---- helpers shared by the module's files ---- */

int64_t bridge_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool bridge_wait_until(bridge_module *m, int64_t deadline_ms)
{
    int64_t now = bridge_monotonic_ms();
    if (now >= deadline_ms)
        return false;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    int64_t wait = deadline_ms - now;
    until.tv_sec += wait / 1000;
    until.tv_nsec += (wait % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&m->cond, &m->mu, &until);
    return bridge_monotonic_ms() < deadline_ms;
}

/* ---- configuration checks ---- */

static bool uri_tls(const char *uri, bool *tls)
{
    static const struct {
        const char *prefix;
        bool tls;
    } schemes[] = {{"tcp://", false}, {"mqtt://", false}, {"ssl://", true}, {"mqtts://", true}};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(uri, schemes[i].prefix, n) == 0 && uri[n] != '\0') {
            *tls = schemes[i].tls;
            return true;
        }
    }
    return false;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static int check_readable(const char *what, const char *path, char *err, size_t err_len)
{
    if (path && access(path, R_OK) != 0) {
        snprintf(err, err_len, "%s: %s: %s", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

static int check_upstream(const bridge_upstream_config *c, bool *tls, char *err, size_t err_len)
{
    if (!uri_tls(c->uri, tls)) {
        snprintf(err, err_len, "uri: \"%s\" must start with tcp://, ssl://, mqtt:// or mqtts://",
                 c->uri);
        return -1;
    }
    if (c->client_id[0] == '\0' || strlen(c->client_id) > 65535) {
        snprintf(err, err_len, "client_id: must be 1 to 65535 bytes");
        return -1;
    }
    if (c->name && !name_ok(c->name)) {
        snprintf(err, err_len, "name: \"%s\": use 1 to 48 of A-Z a-z 0-9 . _ -", c->name);
        return -1;
    }
    if (c->password && c->password_file) {
        snprintf(err, err_len, "password and password_file: give one of them");
        return -1;
    }
    /* 3.1.1 §3.1.2.9: a password needs a user name. */
    if ((c->password || c->password_file) && !c->username && c->mqtt_version == BRIDGE_MQTT_311) {
        snprintf(err, err_len, "password: MQTT 3.1.1 needs a username with it");
        return -1;
    }
    if (check_readable("password_file", c->password_file, err, err_len) != 0)
        return -1;
    const bridge_tls_config *t = &c->tls;
    if (!*tls && (t->ca_file || t->ca_path || t->cert || t->key)) {
        snprintf(err, err_len, "tls: only with an ssl:// or mqtts:// uri");
        return -1;
    }
    if ((t->cert == NULL) != (t->key == NULL)) {
        snprintf(err, err_len, "tls: cert and key go together");
        return -1;
    }
    if (check_readable("tls.ca_file", t->ca_file, err, err_len) != 0 ||
        check_readable("tls.cert", t->cert, err, err_len) != 0 ||
        check_readable("tls.key", t->key, err, err_len) != 0)
        return -1;
    if (c->reconnect_min_ms > c->reconnect_max_ms) {
        snprintf(err, err_len, "reconnect_min: longer than reconnect_max");
        return -1;
    }
    /* MQTT 5 §4.8.2: a ShareName is at least one character, without '/', '+' or '#'. */
    if (c->shared_group && (c->shared_group[0] == '\0' || strpbrk(c->shared_group, "/+#"))) {
        snprintf(err, err_len, "shared_group: \"%s\" must be non-empty, without '/', '+' or '#'",
                 c->shared_group);
        return -1;
    }
    /* Without a shared subscription the broker sends every message to every session. */
    if (c->sessions > 1 && !c->shared_group) {
        snprintf(err, err_len,
                 "sessions: more than 1 needs shared_group (without a shared subscription every "
                 "session would receive every message)");
        return -1;
    }
    for (size_t i = 0; i < c->subscriptions.count; i++) {
        const char *f = c->subscriptions.items[i];
        char why[200];
        if (bridge_filter_check(f, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "subscriptions[%zu]: %s", i, why);
            return -1;
        }
        if (c->shared_group && strncmp(f, "$share/", 7) == 0) {
            snprintf(err, err_len,
                     "subscriptions[%zu]: already a $share filter; shared_group "
                     "adds the prefix itself",
                     i);
            return -1;
        }
    }
    if (c->event_id_property && c->mqtt_version != BRIDGE_MQTT_5) {
        snprintf(err, err_len, "event_id_property: user properties need mqtt_version 5");
        return -1;
    }
    if (c->mappings.count == 0) {
        snprintf(err, err_len, "mappings: at least one mapping is needed");
        return -1;
    }
    return 0;
}

/* Compile one mapping and decide where each field comes from: the topic, or one fixed value. */
static int compile_mapping(const bridge_upstream_config *uc, const bridge_mapping_config *mc,
                           bridge_mapping *out, char *err, size_t err_len)
{
    char why[240];
    if (bridge_pattern_compile(mc->pattern, &out->pattern, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "pattern: %s", why);
        return -1;
    }
    out->format = mc->format;
    const char *fixed[BRIDGE_FIELDS] = {mc->tenant, NULL, mc->schema, mc->version};
    for (int f = 0; f < BRIDGE_FIELDS; f++) {
        bool in_topic = out->pattern.fields & (1u << f);
        if (in_topic && fixed[f]) {
            snprintf(err, err_len, "%s: the pattern names {%s} already", bridge_field_name(f),
                     bridge_field_name(f));
            return -1;
        }
        if (fixed[f] && (fixed[f][0] == '\0' || strlen(fixed[f]) > BRIDGE_FIELD_MAX)) {
            snprintf(err, err_len, "%s: must be 1 to %d bytes", bridge_field_name(f),
                     BRIDGE_FIELD_MAX);
            return -1;
        }
        out->fixed[f] = fixed[f];
    }
    if (uc->tenant) {
        if (out->pattern.fields & (1u << BRIDGE_FIELD_TENANT) || mc->tenant) {
            snprintf(err, err_len,
                     "tenant: the upstream fixes the tenant; the mapping may not name one");
            return -1;
        }
        out->fixed[BRIDGE_FIELD_TENANT] = uc->tenant;
    }
    if (!(out->pattern.fields & (1u << BRIDGE_FIELD_TENANT)) && !out->fixed[BRIDGE_FIELD_TENANT]) {
        snprintf(err, err_len,
                 "pattern: no tenant: add {tenant} to the pattern, or tenant: to the mapping or "
                 "the upstream");
        return -1;
    }
    if (out->format == BRIDGE_FORMAT_PAYLOAD) {
        for (int f = BRIDGE_FIELD_SCHEMA; f <= BRIDGE_FIELD_VERSION; f++)
            if (!(out->pattern.fields & (1u << f)) && !out->fixed[f]) {
                snprintf(err, err_len,
                         "pattern: no %s: format payload needs {%s} in the pattern or %s:",
                         bridge_field_name(f), bridge_field_name(f), bridge_field_name(f));
                return -1;
            }
    }
    return 0;
}

/* Prometheus label values stay simple: names are checked, client ids are not. */
static void default_name(const char *client_id, char *out, size_t out_len)
{
    size_t n = 0;
    for (; client_id[n] && n + 1 < out_len && n < 48; n++) {
        char c = client_id[n];
        out[n] = name_ok((char[]){c, '\0'}) ? c : '_';
    }
    out[n] = '\0';
}

static void create_metrics(bridge_module *m, bridge_upstream *u)
{
    static const char *const reasons[BRIDGE_REJECTS] = {"unmapped",        "retained",  "too_large",
                                                        "unauthenticated", "forbidden", "invalid",
                                                        "unknown_schema",  "internal",  "shutdown"};
    const inlet_host *h = m->host;
    bridge_metrics *mt = &u->metrics;
    char l[160];

    snprintf(l, sizeof(l), "upstream=\"%s\"", u->name);
    mt->connected = h->metric_gauge(
        "inlet_mqtt_bridge_connected",
        "Sessions connected to the upstream broker (1 per session of the pool).", l);
    mt->sessions = h->metric_gauge("inlet_mqtt_bridge_sessions",
                                   "Sessions in the upstream's pool (the sessions option).", l);
    h->metric_add(mt->sessions, (int64_t)u->n_sessions);
    mt->connects = h->metric_counter("inlet_mqtt_bridge_connects_total",
                                     "Connections the upstream broker accepted.", l);
    mt->connect_failures = h->metric_counter("inlet_mqtt_bridge_connect_failures_total",
                                             "Connection attempts that failed.", l);
    mt->connections_lost = h->metric_counter("inlet_mqtt_bridge_connections_lost_total",
                                             "Connections lost (then re-established).", l);
    mt->redelivered =
        h->metric_counter("inlet_mqtt_bridge_messages_redelivered_total",
                          "Messages the broker resent (DUP): possibly already in Kafka.", l);
    mt->accepted = h->metric_counter("inlet_mqtt_bridge_messages_accepted_total",
                                     "Messages Kafka acknowledged, then acknowledged upstream.", l);
    mt->kafka_retries =
        h->metric_counter("inlet_mqtt_bridge_kafka_retries_total",
                          "Messages offered to Kafka again after a refusal or failure.", l);
    for (int q = 0; q < 2; q++) {
        snprintf(l, sizeof(l), "upstream=\"%s\",qos=\"%d\"", u->name, q);
        mt->received[q] = h->metric_counter("inlet_mqtt_bridge_messages_received_total",
                                            "Messages received from the upstream broker.", l);
    }
    for (int r = 0; r < BRIDGE_REJECTS; r++) {
        snprintf(l, sizeof(l), "upstream=\"%s\",reason=\"%s\"", u->name, reasons[r]);
        mt->rejected[r] = h->metric_counter(
            "inlet_mqtt_bridge_messages_rejected_total",
            "Messages acknowledged upstream without being produced, by reason.", l);
    }
}

static size_t pool_size(const bridge_upstream_config *c)
{
    if (c->sessions > 0)
        return (size_t)c->sessions;
    return c->shared_group ? BRIDGE_SESSIONS_SHARED : 1;
}

/* Client ids and log tags of the upstream's sessions (u->sessions is allocated). */
static int setup_sessions(bridge_upstream *u, char *err, size_t err_len)
{
    const char *id = u->cfg->client_id;
    size_t id_len = strlen(id);
    if (u->n_sessions > 1 && id_len + 5 > 65535) {
        snprintf(err, err_len, "client_id: at most 65530 bytes with more than one session");
        return -1;
    }
    for (size_t k = 0; k < u->n_sessions; k++) {
        bridge_session *s = &u->sessions[k];
        s->u = u;
        s->index = k;
        s->client_id = malloc(id_len + 8);
        if (!s->client_id) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
        if (k == 0) /* the configured id: a pool of one keeps the session it always had */
            memcpy(s->client_id, id, id_len + 1);
        else
            snprintf(s->client_id, id_len + 8, "%s-s%zu", id, k);
        if (u->n_sessions == 1)
            snprintf(s->tag, sizeof(s->tag), "%s", u->name);
        else
            snprintf(s->tag, sizeof(s->tag), "%s[%zu]", u->name, k);
    }
    return 0;
}

/* A client id that sessions of both upstreams would use, or NULL. */
static const char *same_client_id(const bridge_upstream *a, const bridge_upstream *b)
{
    for (size_t i = 0; i < a->n_sessions; i++)
        for (size_t k = 0; k < b->n_sessions; k++)
            if (strcmp(a->sessions[i].client_id, b->sessions[k].client_id) == 0)
                return a->sessions[i].client_id;
    return NULL;
}

static int setup_upstream(bridge_module *m, size_t i, char *err, size_t err_len)
{
    const bridge_upstream_config *uc =
        &((const bridge_upstream_config *)m->cfg->upstreams.items)[i];
    bridge_upstream *u = &m->ups[i];
    char why[300];

    u->m = m;
    u->cfg = uc;
    u->index = i;
    if (check_upstream(uc, &u->tls, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "upstreams[%zu].%s", i, why);
        return -1;
    }
    if (uc->name)
        snprintf(u->name, sizeof(u->name), "%s", uc->name);
    else
        default_name(uc->client_id, u->name, sizeof(u->name));
    if (setup_sessions(u, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "upstreams[%zu].%s", i, why);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        const bridge_upstream *o = &m->ups[j];
        if (strcmp(o->name, u->name) == 0) {
            snprintf(err, err_len, "upstreams[%zu].name: \"%s\" is upstreams[%zu] already", i,
                     u->name, j);
            return -1;
        }
        const char *dup = strcmp(o->cfg->uri, uc->uri) == 0 ? same_client_id(o, u) : NULL;
        /* MQTT §3.1.4: the broker would disconnect one for the other, in turns, for ever. */
        if (dup) {
            snprintf(err, err_len,
                     "upstreams[%zu].client_id: upstreams[%zu] connects to %s as %s already", i, j,
                     uc->uri, dup);
            return -1;
        }
    }

    const bridge_mapping_config *mcs = uc->mappings.items;
    u->mappings = calloc(uc->mappings.count, sizeof(*u->mappings));
    if (!u->mappings) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t j = 0; j < uc->mappings.count; j++) {
        u->n_mappings = j + 1;
        if (compile_mapping(uc, &mcs[j], &u->mappings[j], why, sizeof(why)) != 0) {
            snprintf(err, err_len, "upstreams[%zu].mappings[%zu].%s", i, j, why);
            return -1;
        }
    }
    if (bridge_upstream_prepare(u, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "upstreams[%zu].%s", i, why);
        return -1;
    }
    create_metrics(m, u);
    return 0;
}

/* ---- lifecycle ---- */

static void bridge_destroy(void *state);

static int bridge_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                         void **state, char *err, size_t err_len)
{
    const bridge_config *cfg = config;
    bridge_module *m = NULL;

    *state = NULL;
    /* identity_for_device arrived in ABI 1.1; the loader already refuses older cores, this
     * keeps the message clear if a core ever lacks it anyway. */
    if (host->abi_major != INLET_ABI_MAJOR ||
        host->size < offsetof(inlet_host, identity_for_device) ||
        !INLET_HOST_HAS(host, identity_for_device)) {
        snprintf(err, err_len,
                 "this inletd (module ABI %u.%u) cannot vouch for devices another broker "
                 "authenticated (host->identity_for_device, ABI 1.1); upgrade inletd",
                 host->abi_major, host->abi_minor);
        return -1;
    }
    if (cfg->upstreams.count == 0) {
        snprintf(err, err_len, "upstreams: at least one upstream broker is needed");
        return -1;
    }
    if (cfg->retry_min_ms > cfg->retry_max_ms) {
        snprintf(err, err_len, "retry_min: longer than retry_max");
        return -1;
    }

    m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    m->host = host;
    m->mod = mod;
    m->cfg = cfg;
    pthread_mutex_init(&m->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* bridge_wait_until() */
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);

    m->n_ups = cfg->upstreams.count;
    m->ups = calloc(m->n_ups, sizeof(*m->ups));
    for (size_t i = 0; i < m->n_ups; i++)
        m->n_sessions += pool_size(&((const bridge_upstream_config *)cfg->upstreams.items)[i]);
    m->sessions = calloc(m->n_sessions, sizeof(*m->sessions));
    if (!m->ups || !m->sessions) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    for (size_t i = 0, first = 0; i < m->n_ups; i++) {
        m->ups[i].sessions = &m->sessions[first];
        m->ups[i].n_sessions =
            pool_size(&((const bridge_upstream_config *)cfg->upstreams.items)[i]);
        first += m->ups[i].n_sessions;
    }
    for (size_t i = 0; i < m->n_ups; i++)
        if (setup_upstream(m, i, err, err_len) != 0)
            goto fail;
    *state = m;
    return 0;

fail:
    bridge_destroy(m);
    return -1;
}

/* Paho 1.3.10 to 1.3.12 send tcp:// connections through $http_proxy and ssl:// through
 * $https_proxy (an HTTP CONNECT tunnel, no_proxy ignored), which nothing else in inletd does. */
static void warn_proxy_environment(bridge_module *m)
{
    static const char *const vars[] = {"http_proxy", "https_proxy"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            BRIDGE_LOG(m, INLET_LOG_WARN,
                       "%s is set: Eclipse Paho tunnels %s upstream connections through it "
                       "(HTTP CONNECT); unset it for inletd if the brokers are reached directly",
                       vars[i], i == 0 ? "tcp:// and mqtt://" : "ssl:// and mqtts://");
    }
}

static int bridge_start(void *state, char *err, size_t err_len)
{
    bridge_module *m = state;
    warn_proxy_environment(m);
    if (bridge_upstreams_start(m, err, err_len) != 0) {
        bridge_upstreams_stop(m);
        return -1;
    }
    for (size_t i = 0; i < m->n_ups; i++) {
        const bridge_upstream *u = &m->ups[i];
        BRIDGE_LOG(m, INLET_LOG_INFO,
                   "upstream %s: %s as %s, %zu mapping%s, %zu filter%s%s%s, %zu session%s", u->name,
                   u->cfg->uri, u->cfg->client_id, u->n_mappings, u->n_mappings == 1 ? "" : "s",
                   u->n_filters, u->n_filters == 1 ? "" : "s",
                   u->cfg->shared_group ? ", shared group " : "",
                   u->cfg->shared_group ? u->cfg->shared_group : "", u->n_sessions,
                   u->n_sessions == 1 ? "" : "s");
    }
    return 0;
}

static void bridge_stop_accepting(void *state)
{
    bridge_upstreams_stop_accepting(state);
}

static void bridge_stop(void *state)
{
    bridge_upstreams_stop(state);
}

static void bridge_destroy(void *state)
{
    bridge_module *m = state;
    if (!m || m->abandoned) /* a Paho thread still blocks on m->mu: see hold_forever() */
        return;
    bridge_upstreams_free(m);
    free(m->sessions);
    free(m->ups);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const inlet_module_desc bridge_module_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "mqtt_bridge",
    .version = BRIDGE_MODULE_VERSION,
    .description = "drains existing MQTT brokers into Kafka (Eclipse Paho), acknowledging each "
                   "message upstream only once Kafka has it",
    .options = bridge_options,
    .config_size = sizeof(bridge_config),
    .create = bridge_create,
    .start = bridge_start,
    .stop_accepting = bridge_stop_accepting,
    .stop = bridge_stop,
    .destroy = bridge_destroy,
};

INLET_MODULE_DEFINE(bridge_module_desc)
