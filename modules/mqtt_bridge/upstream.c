/*
 * upstream.c - the Paho clients of the upstream brokers, one per session: the subscription
 * filters, connection attempts with exponential backoff, the connection and subscription
 * callbacks, and the orderly disconnect at shutdown. Every Paho call goes through the session's
 * runtime (s->paho), the copy of the library its client lives in.
 *
 * Persistent session: MQTT 3.1.1 CleanSession=0 (§3.1.2.4) or MQTT 5 Clean Start=0 with a
 * Session Expiry Interval (§3.1.2.4, §3.1.2.11.2), so the broker keeps the subscriptions and
 * queues QoS 1 messages while inletd is away, and resends the unacknowledged ones when the
 * session resumes (3.1.1 §4.4, 5.0 §4.4). The bridge never unsubscribes: at shutdown it sends a
 * normal DISCONNECT and the session lives on.
 *
 * Reconnection is ours, not Paho's automaticReconnect, so that the first connection (which Paho
 * does not retry) and later ones follow one backoff and report through one set of logs and
 * metrics. The actions at the end of this file are called by the supervisor thread
 * (supervisor.c); the callbacks run on Paho's threads.
 *
 * Pools: every session of an upstream subscribes to the same $share/<group>/ filters, and the
 * broker gives each message to one of them. An MQTT 5 broker that says it has no shared
 * subscriptions (CONNACK) refuses those filters; the pool's other sessions are then parked
 * (disconnected for good) and only the first one keeps trying.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

#define BRIDGE_PASSWORD_MAX 65535 /* MQTT Binary Data (§1.5.6) */
#define BRIDGE_JOIN_SLACK_MS                                                                       \
    12000 /* Paho's MQTTAsync_destroy() waits up to 10 s for its threads                           \
           */

/* ---- filters ---- */

static int add_filter(bridge_upstream *u, const char *filter, char *err, size_t err_len)
{
    const char *group = u->cfg->shared_group;
    size_t len = strlen(filter) + (group ? strlen(group) + 8 : 0) + 1;
    char *f = malloc(len);
    if (!f) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (group)
        snprintf(f, len, "$share/%s/%s", group, filter); /* MQTT 5 §4.8.2 */
    else
        snprintf(f, len, "%s", filter);
    for (size_t i = 0; i < u->n_filters; i++) {
        if (strcmp(u->filters[i], f) == 0) {
            free(f);
            return 0;
        }
    }
    u->filters[u->n_filters] = f;
    u->qos[u->n_filters] = 1;
    MQTTSubscribe_options o = MQTTSubscribe_options_initializer;
    /* MQTT 5 §3.8.3.1: send retained messages only when the subscription is new, not at every
     * resubscription of a resumed session. */
    o.retainHandling = 1;
    u->sub_opts[u->n_filters] = o;
    u->n_filters++;
    return 0;
}

int bridge_upstream_prepare(bridge_upstream *u, char *err, size_t err_len)
{
    const bridge_upstream_config *cfg = u->cfg;
    size_t max = cfg->subscriptions.count ? cfg->subscriptions.count : u->n_mappings;
    u->filters = calloc(max, sizeof(*u->filters));
    u->qos = calloc(max, sizeof(*u->qos));
    u->sub_opts = calloc(max, sizeof(*u->sub_opts));
    if (!u->filters || !u->qos || !u->sub_opts) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (cfg->subscriptions.count) {
        for (size_t i = 0; i < cfg->subscriptions.count; i++)
            if (add_filter(u, cfg->subscriptions.items[i], err, err_len) != 0)
                return -1;
        return 0;
    }
    for (size_t i = 0; i < u->n_mappings; i++) {
        char buf[1024];
        if (bridge_pattern_filter(&u->mappings[i].pattern, buf, sizeof(buf)) == 0) {
            snprintf(err, err_len, "mappings[%zu].pattern: too long to subscribe to", i);
            return -1;
        }
        if (add_filter(u, buf, err, err_len) != 0)
            return -1;
    }
    return 0;
}

/* ---- backoff ---- */

/* ±20 % jitter, so that inletd instances sharing a broker do not reconnect in step. */
static int64_t jitter(int64_t ms)
{
    static _Thread_local unsigned seed;
    if (seed == 0)
        seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
    int64_t span = ms / 5;
    return span > 0 ? ms - span + (int64_t)(rand_r(&seed) % (unsigned)(2 * span + 1)) : ms;
}

/* mu held. failed: the attempt failed (double the delay); else the connection was lost. */
static void schedule_connect(bridge_session *s, bool failed)
{
    const bridge_upstream_config *cfg = s->u->cfg;
    bridge_module *m = s->u->m;
    if (!failed || s->backoff_ms == 0)
        s->backoff_ms = cfg->reconnect_min_ms;
    else
        s->backoff_ms =
            s->backoff_ms * 2 > cfg->reconnect_max_ms ? cfg->reconnect_max_ms : s->backoff_ms * 2;
    s->next_attempt_ms = bridge_monotonic_ms() + jitter(s->backoff_ms);
    s->state = m->draining || s->parked ? BRIDGE_STOPPED : BRIDGE_IDLE;
    pthread_cond_broadcast(&m->cond);
}

/* mu held: the connected gauge follows state changes into and out of BRIDGE_CONNECTED. */
static void leave_connected(bridge_session *s)
{
    if (s->state == BRIDGE_CONNECTED || s->state == BRIDGE_DISCONNECTING)
        s->u->m->host->metric_add(s->u->metrics.connected, -1);
}

/* ---- subscription ---- */

static void subscribe_failed(bridge_session *s, const char *why)
{
    bridge_upstream *u = s->u;
    bridge_module *m = u->m;
    BRIDGE_LOG(m, INLET_LOG_ERROR, "upstream %s: subscription refused: %s; retrying", s->tag, why);
    pthread_mutex_lock(&m->mu);
    if (s->state == BRIDGE_CONNECTED) {
        s->subscribe_pending = true;
        s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : u->cfg->reconnect_min_ms;
        if (s->backoff_ms > u->cfg->reconnect_max_ms)
            s->backoff_ms = u->cfg->reconnect_max_ms;
        s->next_attempt_ms = bridge_monotonic_ms() + jitter(s->backoff_ms);
        pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->mu);
}

/* granted[i]: QoS 0/1/2, or a failure code >= 0x80 (3.1.1 §3.9.3, 5.0 §3.9.3). */
static void subscribe_done(bridge_session *s, const int *granted, size_t n)
{
    bridge_upstream *u = s->u;
    bridge_module *m = u->m;
    for (size_t i = 0; i < n && i < u->n_filters; i++) {
        if (granted[i] >= 0x80) {
            char why[300];
            snprintf(why, sizeof(why), "%s: reason code 0x%02x", u->filters[i], granted[i]);
            subscribe_failed(s, why);
            return;
        }
        if (granted[i] == 0)
            BRIDGE_LOG(m, INLET_LOG_WARN,
                       "upstream %s: %s granted at QoS 0 only: its messages are not acknowledged "
                       "and can be lost",
                       s->tag, u->filters[i]);
    }
    pthread_mutex_lock(&m->mu);
    s->subscribe_pending = false;
    s->backoff_ms = 0;
    pthread_mutex_unlock(&m->mu);
    BRIDGE_LOG(m, s->index == 0 ? INLET_LOG_INFO : INLET_LOG_DEBUG,
               "upstream %s: subscribed to %zu filter%s (first: %s)", s->tag, u->n_filters,
               u->n_filters == 1 ? "" : "s", u->filters[0]);
}

static void on_subscribed(void *context, MQTTAsync_successData *r)
{
    bridge_session *s = context;
    if (s->u->n_filters == 1 || !r->alt.qosList)
        subscribe_done(s, &r->alt.qos, 1);
    else
        subscribe_done(s, r->alt.qosList, s->u->n_filters);
}

static void on_subscribed5(void *context, MQTTAsync_successData5 *r)
{
    bridge_session *s = context;
    int codes[64];
    size_t n = 0;
    if (s->u->n_filters > 1 && r->alt.sub.reasonCodes) {
        for (int i = 0; i < r->alt.sub.reasonCodeCount && n < 64; i++)
            codes[n++] = (int)r->alt.sub.reasonCodes[i];
    } else {
        codes[n++] = (int)r->reasonCode;
    }
    subscribe_done(s, codes, n);
}

static void on_subscribe_failed(void *context, MQTTAsync_failureData *r)
{
    char why[200];
    snprintf(why, sizeof(why), "%s (%d)", r && r->message ? r->message : "SUBSCRIBE failed",
             r ? r->code : 0);
    subscribe_failed(context, why);
}

static void on_subscribe_failed5(void *context, MQTTAsync_failureData5 *r)
{
    char why[200];
    snprintf(why, sizeof(why), "%s", r ? MQTTReasonCode_toString(r->reasonCode) : "failed");
    subscribe_failed(context, why);
}

/* From a Paho callback (on connect) or the supervisor (retry after a refusal). */
void bridge_session_subscribe(bridge_session *s)
{
    bridge_upstream *u = s->u;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = s;
    if (u->cfg->mqtt_version == BRIDGE_MQTT_5) {
        ro.onSuccess5 = on_subscribed5;
        ro.onFailure5 = on_subscribe_failed5;
        if (u->n_filters == 1) {
            ro.subscribeOptions = u->sub_opts[0];
        } else {
            ro.subscribeOptionsCount = (int)u->n_filters;
            ro.subscribeOptionsList = u->sub_opts;
        }
    } else {
        ro.onSuccess = on_subscribed;
        ro.onFailure = on_subscribe_failed;
    }
    int rc = s->paho->subscribe_many(s->client, (int)u->n_filters, u->filters, u->qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        subscribe_failed(s, MQTTAsync_strerror(rc));
}

/* ---- connection callbacks (Paho threads) ---- */

/* MQTT 5 §3.2.2.3.13: absent means available. */
static bool shared_subscriptions_available(const MQTTProperties *props)
{
    for (int i = 0; props && i < props->count; i++)
        if (props->array[i].identifier == MQTTPROPERTY_CODE_SHARED_SUBSCRIPTION_AVAILABLE)
            return props->array[i].value.byte != 0;
    return true;
}

static void connected(bridge_session *s, int session_present, bool shared_ok)
{
    bridge_upstream *u = s->u;
    bridge_module *m = u->m;
    pthread_mutex_lock(&m->mu);
    /* A broker without shared subscriptions refuses the $share filter; the other sessions of
     * the pool would only add connections, so they leave and stay off. */
    if (!shared_ok && s->index > 0)
        s->parked = true;
    bool draining = m->draining || s->parked;
    bool resumed_before = s->ever_connected;
    s->state = BRIDGE_CONNECTED;
    s->ever_connected = true;
    s->subscribe_pending = !draining;
    s->next_attempt_ms = 0; /* no retry scheduled: the SUBSCRIBE below is the attempt */
    s->backoff_ms = 0;
    m->host->metric_add(u->metrics.connected, 1);
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);

    m->host->metric_add(u->metrics.connects, 1);
    BRIDGE_LOG(m, INLET_LOG_INFO, "upstream %s: connected to %s as %s (MQTT %s, %s session)",
               s->tag, u->cfg->uri, s->client_id,
               u->cfg->mqtt_version == BRIDGE_MQTT_5 ? "5" : "3.1.1",
               session_present ? "resumed" : "new");
    if (!session_present && resumed_before)
        BRIDGE_LOG(m, INLET_LOG_WARN,
                   "upstream %s: the broker did not keep the session: messages published while "
                   "the bridge was disconnected were not queued for it",
                   s->tag);
    if (!shared_ok && u->cfg->shared_group && s->index == 0)
        BRIDGE_LOG(m, INLET_LOG_ERROR,
                   "upstream %s: the broker does not offer shared subscriptions (CONNACK "
                   "Shared Subscription Available = 0): shared_group cannot work there%s",
                   s->tag, u->n_sessions > 1 ? "; the other sessions of the pool stay off" : "");
    if (!draining) /* the supervisor disconnects otherwise */
        bridge_session_subscribe(s);
}

static void on_connect(void *context, MQTTAsync_successData *r)
{
    connected(context, r ? r->alt.connect.sessionPresent : 0, true);
}

static void on_connect5(void *context, MQTTAsync_successData5 *r)
{
    connected(context, r ? r->alt.connect.sessionPresent : 0,
              r ? shared_subscriptions_available(&r->properties) : true);
}

static void connect_failed(bridge_session *s, const char *why)
{
    bridge_module *m = s->u->m;
    pthread_mutex_lock(&m->mu);
    schedule_connect(s, true);
    int64_t delay = s->backoff_ms;
    pthread_mutex_unlock(&m->mu);
    m->host->metric_add(s->u->metrics.connect_failures, 1);
    BRIDGE_LOG(m, INLET_LOG_WARN, "upstream %s: cannot connect to %s: %s; retrying in about %llds",
               s->tag, s->u->cfg->uri, why, (long long)((delay + 999) / 1000));
}

/* 3.1.1 §3.2.2.3 return codes, or Paho's own (negative) error codes. */
static void on_connect_failed(void *context, MQTTAsync_failureData *r)
{
    char why[200];
    int code = r ? r->code : 0;
    if (code >= 1 && code <= 5) {
        static const char *const rc[] = {"",
                                         "unacceptable protocol version",
                                         "identifier rejected",
                                         "server unavailable",
                                         "bad user name or password",
                                         "not authorized"};
        snprintf(why, sizeof(why), "CONNACK %d: %s", code, rc[code]);
    } else {
        snprintf(why, sizeof(why), "%s", r && r->message ? r->message : MQTTAsync_strerror(code));
    }
    connect_failed(context, why);
}

static void on_connect_failed5(void *context, MQTTAsync_failureData5 *r)
{
    char why[200];
    if (r && r->reasonCode >= 0x80)
        snprintf(why, sizeof(why), "CONNACK 0x%02x: %s", (unsigned)r->reasonCode,
                 MQTTReasonCode_toString(r->reasonCode));
    else
        snprintf(why, sizeof(why), "%s",
                 r && r->message ? r->message : MQTTAsync_strerror(r ? r->code : 0));
    connect_failed(context, why);
}

static void on_connection_lost(void *context, char *cause)
{
    bridge_session *s = context;
    bridge_module *m = s->u->m;
    pthread_mutex_lock(&m->mu);
    leave_connected(s);
    schedule_connect(s, false);
    bool draining = m->draining || s->parked;
    pthread_mutex_unlock(&m->mu);
    m->host->metric_add(s->u->metrics.connections_lost, 1);
    BRIDGE_LOG(m, draining ? INLET_LOG_INFO : INLET_LOG_WARN,
               "upstream %s: connection to %s lost%s%s%s", s->tag, s->u->cfg->uri,
               cause ? ": " : "", cause ? cause : "", draining ? "" : "; reconnecting");
    s->paho->free(cause);
}

/* MQTT 5 §3.14: the server says why before closing; on_connection_lost follows. */
static void on_server_disconnect(void *context, MQTTProperties *props, enum MQTTReasonCodes rc)
{
    bridge_session *s = context;
    (void)props;
    BRIDGE_LOG(s->u->m, INLET_LOG_WARN, "upstream %s: the broker disconnected: %s (0x%02x)", s->tag,
               MQTTReasonCode_toString(rc), (unsigned)rc);
}

static void disconnected(bridge_session *s)
{
    bridge_module *m = s->u->m;
    pthread_mutex_lock(&m->mu);
    leave_connected(s);
    s->state = BRIDGE_STOPPED;
    bool parked = s->parked && !m->draining;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    if (parked)
        BRIDGE_LOG(m, INLET_LOG_INFO, "upstream %s: disconnected; stays off", s->tag);
    else
        BRIDGE_LOG(m, INLET_LOG_INFO,
                   "upstream %s: disconnected; the broker keeps the session of %s and queues its "
                   "messages",
                   s->tag, s->client_id);
}

static void on_disconnected(void *context, MQTTAsync_successData *r)
{
    (void)r;
    disconnected(context);
}

static void on_disconnect_failed(void *context, MQTTAsync_failureData *r)
{
    (void)r;
    disconnected(context); /* not connected any more either way */
}

/* ---- actions of the supervisor thread (mu not held) ---- */

/* The password: the configured one, or the file's first line, read at every attempt so that a
 * rotated secret is picked up on the next connection. */
static int read_password(const bridge_upstream_config *cfg, char *buf, size_t buf_len, int *len,
                         char *err, size_t err_len)
{
    *len = -1;
    if (cfg->password) {
        size_t n = strlen(cfg->password);
        if (n >= buf_len) {
            snprintf(err, err_len, "password too long");
            return -1;
        }
        memcpy(buf, cfg->password, n + 1);
        *len = (int)n;
        return 0;
    }
    if (!cfg->password_file)
        return 0;
    int fd = open(cfg->password_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "password_file %s: %s", cfg->password_file, strerror(errno));
        return -1;
    }
    size_t used = 0;
    for (;;) {
        ssize_t r = read(fd, buf + used, buf_len - 1 - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, err_len, "password_file %s: %s", cfg->password_file, strerror(errno));
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        used += (size_t)r;
        if (used == buf_len - 1) {
            snprintf(err, err_len, "password_file %s: longer than %d bytes", cfg->password_file,
                     BRIDGE_PASSWORD_MAX);
            close(fd);
            return -1;
        }
    }
    close(fd);
    char *nl = memchr(buf, '\n', used);
    if (nl)
        used = (size_t)(nl - buf);
    if (used > 0 && buf[used - 1] == '\r')
        used--;
    buf[used] = '\0';
    *len = (int)used;
    return 0;
}

static int ssl_error(const char *str, size_t len, void *context)
{
    bridge_session *s = context;
    while (len > 0 && (str[len - 1] == '\n' || str[len - 1] == '\r'))
        len--;
    BRIDGE_LOG(s->u->m, INLET_LOG_WARN, "upstream %s: TLS: %.*s", s->tag, (int)len, str);
    return 0;
}

void bridge_session_connect(bridge_session *s)
{
    bridge_upstream *u = s->u;
    const bridge_upstream_config *cfg = u->cfg;
    bool v5 = cfg->mqtt_version == BRIDGE_MQTT_5;
    MQTTAsync_connectOptions co;
    MQTTAsync_connectOptions init3 = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions init5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTProperties props = MQTTProperties_initializer;
    char *password = NULL;
    char err[300];
    int rc;

    co = v5 ? init5 : init3;
    co.keepAliveInterval = (int)((cfg->keepalive_ms + 999) / 1000);
    co.connectTimeout = (int)((cfg->connect_timeout_ms + 999) / 1000);
    co.retryInterval = 0; /* 3.1.1 and 5 resend only on reconnect (§4.4) */
    co.automaticReconnect = 0;
    co.context = s;
    if (v5) {
        co.cleanstart = 0;
        co.onSuccess5 = on_connect5;
        co.onFailure5 = on_connect_failed5;
        MQTTProperty p;
        memset(&p, 0, sizeof(p));
        p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
        int64_t secs = cfg->session_expiry_ms / 1000;
        p.value.integer4 = secs > 0xFFFFFFFELL ? 0xFFFFFFFEu : (unsigned)secs;
        s->paho->properties_add(&props, &p);
        co.connectProperties = &props;
    } else {
        co.cleansession = 0;
        co.MQTTVersion = MQTTVERSION_3_1_1;
        co.onSuccess = on_connect;
        co.onFailure = on_connect_failed;
    }
    co.username = cfg->username;
    if (cfg->password || cfg->password_file) {
        int len;
        password = malloc(BRIDGE_PASSWORD_MAX + 1);
        if (!password) {
            connect_failed(s, "out of memory");
            goto done;
        }
        if (read_password(cfg, password, BRIDGE_PASSWORD_MAX + 1, &len, err, sizeof(err)) != 0) {
            connect_failed(s, err);
            goto done;
        }
        /* binary: Paho would insist on UTF-8 for a string password, MQTT does not (§3.1.3.5) */
        co.binarypwd.data = password;
        co.binarypwd.len = len;
    }
    if (u->tls) {
        ssl.trustStore = cfg->tls.ca_file;
        ssl.CApath = cfg->tls.ca_path;
        ssl.keyStore = cfg->tls.cert;
        ssl.privateKey = cfg->tls.key;
        ssl.enableServerCertAuth = cfg->tls.verify;
        ssl.verify = cfg->tls.verify; /* host name check */
        ssl.ssl_error_cb = ssl_error;
        ssl.ssl_error_context = s;
        co.ssl = &ssl;
    }
    rc = s->paho->connect(s->client, &co); /* copies what it keeps */
    if (rc != MQTTASYNC_SUCCESS)
        connect_failed(s, MQTTAsync_strerror(rc));

done:
    if (password) {
        memset(password, 0, BRIDGE_PASSWORD_MAX + 1);
        free(password);
    }
    s->paho->properties_free(&props);
}

void bridge_session_disconnect(bridge_session *s)
{
    MQTTAsync_disconnectOptions o = MQTTAsync_disconnectOptions_initializer;
    o.timeout = 0; /* nothing of ours in flight: inbound messages are acknowledged or held */
    o.onSuccess = on_disconnected;
    o.onFailure = on_disconnect_failed;
    o.context = s;
    int rc = s->paho->disconnect(s->client, &o);
    if (rc != MQTTASYNC_SUCCESS)
        disconnected(s);
}

int bridge_session_create_client(bridge_session *s, char *err, size_t err_len)
{
    const bridge_upstream_config *cfg = s->u->cfg;
    MQTTAsync_createOptions o = MQTTAsync_createOptions_initializer;
    o.MQTTVersion = cfg->mqtt_version == BRIDGE_MQTT_5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    o.sendWhileDisconnected = 0;
    /* No client persistence: inbound QoS 1 state lives in the broker's session, and the bridge
     * publishes nothing. */
    int rc =
        s->paho->create(&s->client, cfg->uri, s->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &o);
    if (rc != MQTTASYNC_SUCCESS) {
        s->client = NULL;
        snprintf(err, err_len, "%s: %s", cfg->uri, MQTTAsync_strerror(rc));
        return -1;
    }
    rc = s->paho->set_callbacks(s->client, s, on_connection_lost, bridge_on_message, NULL);
    if (rc == MQTTASYNC_SUCCESS && cfg->mqtt_version == BRIDGE_MQTT_5)
        rc = s->paho->set_disconnected(s->client, s, on_server_disconnect);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, err_len, "%s", MQTTAsync_strerror(rc));
        return -1;
    }
    return 0;
}

void bridge_session_free(bridge_session *s)
{
    const inlet_host *h = s->u->m->host;
    if (s->client) /* start() failed before the supervisor ran */
        s->paho->destroy(&s->client);
    if (s->queue && h->queue_pending(s->queue) == 0)
        h->queue_free(s->queue);
    free(s->client_id);
}

void bridge_upstream_free(bridge_upstream *u)
{
    for (size_t j = 0; u->filters && j < u->n_filters; j++)
        free(u->filters[j]);
    free(u->filters);
    free(u->qos);
    free(u->sub_opts);
    for (size_t j = 0; u->mappings && j < u->n_mappings; j++)
        bridge_pattern_free(&u->mappings[j].pattern);
    free(u->mappings);
}
