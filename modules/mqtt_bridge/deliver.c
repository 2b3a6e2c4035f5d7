/*
 * deliver.c - one upstream message onto the Inlet event path: topic -> (tenant, device, schema,
 * version) by the mappings, an identity for that device, submit(), and the wait for Kafka.
 *
 * The rule that gives at-least-once: Paho acknowledges a QoS 1 message (PUBACK) the moment
 * bridge_on_message() returns, so it returns only when
 *   - Kafka acknowledged every event of the message (accepted), or
 *   - the message can never be accepted (no mapping, unknown tenant, ACL, schema, too large):
 *     acknowledging it is what keeps one poison message from blocking the subscription for
 *     ever; it is counted and logged as rejected, nothing is produced.
 * A refusal that may pass (Kafka unreachable, queue full, delivery failed) is retried here,
 * with backoff, for as long as inletd runs; the message stays unacknowledged upstream. Once
 * inletd is stopping, such a QoS 1 message is held: the callback never returns, so no PUBACK
 * is ever sent, and the broker redelivers the message to the next session (see stop()).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bridge.h"
#include "headers.h"

#define BRIDGE_SOURCE        "mqtt-bridge"
#define BRIDGE_WAIT_LOG_MS   30000
#define BRIDGE_REJECT_LOG_MS 1000

/* Result of the session's one submission in flight, filled by on_completion() on this same
 * thread. */
typedef struct bridge_wait {
    bool done;
    inlet_status status;
    char event_id[72];
    char error[160];
} bridge_wait;

static void on_completion(void *ctx, const inlet_completion *c)
{
    bridge_wait *w = c->opaque;
    (void)ctx;
    w->done = true;
    w->status = c->status;
    w->event_id[0] = '\0';
    w->error[0] = '\0';
    for (size_t i = 0; i < c->n_events; i++) {
        if (i == 0 && c->events[i].event_id)
            snprintf(w->event_id, sizeof(w->event_id), "%s", c->events[i].event_id);
        if (c->events[i].status != INLET_OK && c->events[i].error && !w->error[0])
            snprintf(w->error, sizeof(w->error), "%s", c->events[i].error);
    }
}

/*
 * The core delivers exactly one completion for every accepted submission, at the latest when
 * its delivery timeout expires or when it purges Kafka's queue at shutdown; this session has
 * one submission in flight at a time, so whatever its queue yields is ours. The wait is not
 * bounded here: w lives on this stack until the completion arrives.
 */
static void wait_completion(bridge_session *s, bridge_wait *w)
{
    const inlet_host *h = s->u->m->host;
    int64_t started = bridge_monotonic_ms(), logged = started;
    struct pollfd p = {.fd = h->queue_fd(s->queue), .events = POLLIN};

    while (!w->done) {
        (void)poll(&p, 1, 1000);
        h->queue_drain(s->queue, on_completion, NULL, 0);
        int64_t now = bridge_monotonic_ms();
        if (!w->done && now - logged >= BRIDGE_WAIT_LOG_MS) {
            logged = now;
            BRIDGE_LOG(s->u->m, INLET_LOG_WARN,
                       "upstream %s: still waiting for Kafka to acknowledge a message after %llds",
                       s->tag, (long long)((now - started) / 1000));
        }
    }
}

static int reject_reason(inlet_status st)
{
    switch (st) {
    case INLET_E_UNAUTHENTICATED:
        return BRIDGE_REJECT_UNAUTHENTICATED;
    case INLET_E_FORBIDDEN:
        return BRIDGE_REJECT_FORBIDDEN;
    case INLET_E_INVALID:
    case INLET_E_MEDIA_TYPE:
        return BRIDGE_REJECT_INVALID;
    case INLET_E_UNKNOWN_SCHEMA:
        return BRIDGE_REJECT_UNKNOWN_SCHEMA;
    case INLET_E_TOO_LARGE:
        return BRIDGE_REJECT_TOO_LARGE;
    default:
        return BRIDGE_REJECT_INTERNAL;
    }
}

/* Refusals that another attempt may get past. */
static bool transient(inlet_status st)
{
    return st == INLET_E_UNAVAILABLE || st == INLET_E_QUOTA || st == INLET_E_SHUTTING_DOWN;
}

static const char *const reject_words[BRIDGE_REJECTS] = {
    "unmapped", "retained",       "too large", "unauthenticated", "forbidden",
    "invalid",  "unknown schema", "internal",  "shutdown"};

/* Count, and log at most once per BRIDGE_REJECT_LOG_MS per upstream (its sessions together):
 * a stream of bad messages must not flood the log. Retained messages are expected when
 * subscribing: debug only. */
/* A refusal the bridge decides before submit() (which reports its own): for the core's refusal
 * log and list; the peer is the upstream broker. */
static void report(bridge_upstream *u, inlet_status st, const char *topic, size_t topic_len,
                   const char *why)
{
    char detail[320];
    snprintf(detail, sizeof(detail), "topic %.*s: %s", (int)(topic_len > 200 ? 200 : topic_len),
             topic, why ? why : "");
    u->m->host->refusal(u->m->mod, st, u->cfg->uri, NULL, detail);
}

static void reject(bridge_upstream *u, int reason, const char *topic, size_t topic_len,
                   const char *why)
{
    bridge_module *m = u->m;
    m->host->metric_add(u->metrics.rejected[reason], 1);
    if (reason == BRIDGE_REJECT_RETAINED) {
        BRIDGE_LOG(m, INLET_LOG_DEBUG, "upstream %s: %.*s: retained message skipped", u->name,
                   (int)(topic_len > 200 ? 200 : topic_len), topic);
        return;
    }
    int64_t now = bridge_monotonic_ms();
    pthread_mutex_lock(&m->mu);
    if (now - u->reject_log_ms < BRIDGE_REJECT_LOG_MS && u->reject_log_ms != 0) {
        u->reject_unlogged++;
        pthread_mutex_unlock(&m->mu);
        return;
    }
    unsigned unlogged = u->reject_unlogged;
    u->reject_log_ms = now;
    u->reject_unlogged = 0;
    pthread_mutex_unlock(&m->mu);
    inlet_log_level level = reason == BRIDGE_REJECT_INTERNAL ? INLET_LOG_ERROR : INLET_LOG_WARN;
    char more[64] = "";
    if (unlogged)
        snprintf(more, sizeof(more), " (%u more rejected since the last report)", unlogged);
    BRIDGE_LOG(m, level,
               "upstream %s: %.*s: message rejected (%s): %s; acknowledged upstream, nothing "
               "produced%s",
               u->name, (int)(topic_len > 200 ? 200 : topic_len), topic, reject_words[reason],
               why ? why : "", more);
}

static const inlet_body_form forms[] = {
    [BRIDGE_FORMAT_PAYLOAD] = INLET_FORM_PAYLOAD,
    [BRIDGE_FORMAT_EVENT] = INLET_FORM_EVENT,
    [BRIDGE_FORMAT_BATCH] = INLET_FORM_BATCH,
};

/* Sleep before the next attempt; returns early when stop() begins. */
static void backoff_sleep(bridge_module *m, int64_t ms)
{
    int64_t deadline = bridge_monotonic_ms() + ms;
    pthread_mutex_lock(&m->mu);
    while (!m->stopping && bridge_wait_until(m, deadline))
        ;
    pthread_mutex_unlock(&m->mu);
}

/*
 * Never return: the message must not be acknowledged, and inletd is stopping, so it cannot be
 * produced either. The PUBACK would go out the moment this callback returned. stop() sees
 * `holding`, leaves this thread and Paho alone and keeps the module's memory; the process exits
 * with the connection open, the kernel closes it, and the broker redelivers the message from
 * the persistent session.
 */
static void hold_forever(bridge_session *s)
{
    bridge_module *m = s->u->m;
    BRIDGE_LOG(m, INLET_LOG_WARN,
               "upstream %s: inletd is stopping before Kafka acknowledged a QoS 1 message; it "
               "stays unacknowledged and the broker will redeliver it",
               s->tag);
    pthread_mutex_lock(&m->mu);
    s->holding = true;
    pthread_cond_broadcast(&m->cond);
    for (;;)
        pthread_cond_wait(&m->cond, &m->mu);
}

/* The first session of the upstream to find Kafka refusing says so, and the last to get past
 * says it is over: a pool stuck on one outage logs two lines, not two per session. */
static void retry_begins(bridge_session *s, const char *topic, size_t topic_len, const char *why)
{
    bridge_upstream *u = s->u;
    pthread_mutex_lock(&u->m->mu);
    bool first = u->kafka_waiting++ == 0;
    pthread_mutex_unlock(&u->m->mu);
    BRIDGE_LOG(u->m, first ? INLET_LOG_WARN : INLET_LOG_DEBUG,
               "upstream %s: %.*s: Kafka did not take a message (%s); retrying without "
               "acknowledging it; %s",
               s->tag, (int)(topic_len > 200 ? 200 : topic_len), topic, why,
               u->n_sessions == 1 ? "the bridge takes no other message meanwhile"
                                  : "each session keeps its message and takes no other meanwhile");
}

static void retry_ends(bridge_session *s, unsigned attempts, bool accepted)
{
    bridge_upstream *u = s->u;
    pthread_mutex_lock(&u->m->mu);
    bool last = --u->kafka_waiting == 0;
    pthread_mutex_unlock(&u->m->mu);
    if (accepted)
        BRIDGE_LOG(u->m, last ? INLET_LOG_INFO : INLET_LOG_DEBUG,
                   "upstream %s: Kafka took the message after %u retries", s->tag, attempts);
}

/* Submit until Kafka acknowledges, the message is refused for good, or inletd stops. */
static void submit_until_done(bridge_session *s, inlet_request *req, int qos, const char *topic,
                              size_t topic_len, char *event_id)
{
    bridge_upstream *u = s->u;
    bridge_module *m = u->m;
    const inlet_host *h = m->host;
    int64_t backoff = m->cfg->retry_min_ms;
    unsigned attempts = 0;
    bool accepted = false;

    for (;;) {
        inlet_rejection *rej = NULL;
        char why[256] = "";
        bridge_wait w = {0};
        req->event_id = event_id[0] ? event_id : NULL;
        req->opaque = &w;
        inlet_status st = h->submit(m->mod, req, &rej);
        if (st == INLET_OK) {
            wait_completion(s, &w);
            if (w.status == INLET_OK) {
                h->metric_add(u->metrics.accepted, 1);
                accepted = true;
                goto done;
            }
            st = w.status;
            snprintf(why, sizeof(why), "%s", w.error[0] ? w.error : "delivery failed");
            /* Retry under the same id, so a copy Kafka did keep is recognisably the same. */
            if (req->form == INLET_FORM_PAYLOAD && w.event_id[0])
                snprintf(event_id, BRIDGE_EVENT_ID_MAX + 1, "%.64s", w.event_id);
        } else {
            snprintf(why, sizeof(why), "%s", rej && rej->message ? rej->message : "refused");
            if (rej)
                h->rejection_free(rej);
            if (!transient(st)) {
                reject(u, reject_reason(st), topic, topic_len, why);
                goto done;
            }
        }

        pthread_mutex_lock(&m->mu);
        bool stopping = m->stopping;
        pthread_mutex_unlock(&m->mu);
        if (stopping || st == INLET_E_SHUTTING_DOWN) {
            if (qos == 0) { /* nothing to withhold: QoS 0 is never acknowledged */
                reject(u, BRIDGE_REJECT_SHUTDOWN, topic, topic_len, why);
                goto done;
            }
            hold_forever(s);
        }
        if (attempts++ == 0)
            retry_begins(s, topic, topic_len, why);
        h->metric_add(u->metrics.kafka_retries, 1);
        backoff_sleep(m, backoff);
        backoff = backoff * 2 > m->cfg->retry_max_ms ? m->cfg->retry_max_ms : backoff * 2;
    }

done:
    if (attempts > 0)
        retry_ends(s, attempts, accepted);
}

static void deliver(bridge_session *s, const char *topic, size_t topic_len,
                    const MQTTAsync_message *msg)
{
    bridge_upstream *u = s->u;
    bridge_module *m = u->m;
    const inlet_host *h = m->host;
    int qos = msg->qos > 0 ? 1 : 0;
    char why[256];

    h->metric_add(u->metrics.received[qos], 1);
    if (msg->dup)
        h->metric_add(u->metrics.redelivered, 1);
    if (memchr(topic, '\0', topic_len)) {
        report(u, INLET_E_INVALID, topic, strlen(topic), "the topic contains NUL");
        reject(u, BRIDGE_REJECT_UNMAPPED, topic, strlen(topic), "the topic contains NUL");
        return;
    }
    /* §3.3.1.3: RETAIN is set on delivery only for a message sent because a subscription was
     * made, i.e. an old value the broker kept, not a new publication. */
    if (msg->retained && !u->cfg->ingest_retained) {
        reject(u, BRIDGE_REJECT_RETAINED, topic, topic_len, NULL);
        return;
    }
    if (msg->payloadlen < 0 || (uint64_t)msg->payloadlen > m->cfg->max_payload_size) {
        snprintf(why, sizeof(why), "%d bytes exceed max_payload_size", msg->payloadlen);
        report(u, INLET_E_TOO_LARGE, topic, topic_len, why);
        reject(u, BRIDGE_REJECT_TOO_LARGE, topic, topic_len, why);
        return;
    }

    bridge_route route;
    if (bridge_route_find(u->mappings, u->n_mappings, topic, topic_len, &route, why, sizeof(why)) !=
        BRIDGE_ROUTE_OK) {
        report(u, INLET_E_INVALID, topic, topic_len, why);
        reject(u, BRIDGE_REJECT_UNMAPPED, topic, topic_len, why);
        return;
    }

    /* The upstream broker authenticated the publisher; the mapping names the device, and the
     * tenant's ACL still decides what it may send (checked by submit()). */
    inlet_identity *id = NULL;
    char msg_buf[200] = "";
    inlet_status st =
        h->identity_for_device(route.field[BRIDGE_FIELD_TENANT], route.field[BRIDGE_FIELD_DEVICE],
                               &id, msg_buf, sizeof(msg_buf));
    if (st != INLET_OK) {
        snprintf(why, sizeof(why), "device \"%.64s\": %.180s", route.field[BRIDGE_FIELD_DEVICE],
                 msg_buf);
        report(u, INLET_E_UNAUTHENTICATED, topic, topic_len, why);
        reject(u, BRIDGE_REJECT_UNAUTHENTICATED, topic, topic_len, why);
        return;
    }

    bridge_headers hd;
    bridge_headers_collect(u->cfg, topic, topic_len, msg, &hd);
    const char *schema = route.field[BRIDGE_FIELD_SCHEMA];
    const char *version = route.field[BRIDGE_FIELD_VERSION];
    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = id;
    req.form = forms[route.mapping->format];
    req.body = msg->payload ? (const void *)msg->payload : (const void *)"";
    req.body_len = (size_t)msg->payloadlen;
    req.content_type = "application/json";
    req.schema = schema[0] ? schema : NULL;
    req.schema_version = version[0] ? version : NULL;
    req.source = BRIDGE_SOURCE;
    req.peer = u->cfg->uri; /* the device's own address is the upstream broker's to know */
    req.received_at_us = h->now_us(); /* kept across retries */
    req.headers = hd.h;
    req.n_headers = hd.n;
    req.queue = s->queue;

    submit_until_done(s, &req, qos, topic, topic_len, hd.event_id);
    h->identity_release(id);
}

int bridge_on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg)
{
    bridge_session *s = context;
    bridge_module *m = s->u->m;
    /* Paho passes 0 unless the topic contains NUL (MQTTAsync_messageArrived). */
    size_t len = topic_len > 0 ? (size_t)topic_len : strlen(topic);

    pthread_mutex_lock(&m->mu);
    s->in_callback = true;
    pthread_mutex_unlock(&m->mu);

    deliver(s, topic, len, msg);

    pthread_mutex_lock(&m->mu);
    s->in_callback = false;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    s->paho->free_message(&msg); /* the runtime that allocated them */
    s->paho->free(topic);
    return 1; /* Paho sends the PUBACK of a QoS 1 message now */
}
