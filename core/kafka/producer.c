/* producer.c - see producer.h. */
#include "producer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka_mock.h>

#include "broker_log.h"
#include "delivery_outcome.h"
#include "log.h"
#include "metrics.h"

#define TOPIC_CACHE_SLOTS                                                                          \
    8192 /* open addressing, half full at most: 4096 topics (tenant prefix                         \
          * x schema); beyond that events are refused with an error log */

/*
 * One librdkafka handle and its topic handles. A fatal error (a fenced idempotent producer)
 * retires the generation and a new one takes its place; a retired generation stays allocated
 * until the producer is freed, because completions may still point at its topic names and a
 * sender may still hold one of its topic handles (producing to it then fails at once).
 */
typedef struct producer_gen {
    rd_kafka_t *rk;
    pthread_rwlock_t topics_lock;
    rd_kafka_topic_t *topics[TOPIC_CACHE_SLOTS];
    size_t n_topics;
    struct producer_gen *retired_next;
} producer_gen;

struct inlet_producer {
    _Atomic(producer_gen *) cur;
    producer_gen *retired;
    rd_kafka_conf_t *conf_template; /* for the next generation */
    inlet_kafka_health *health;
    pthread_t poll_thread;
    int threads_started;
    atomic_int stop;
    atomic_int fatal_pending;
    atomic_int recreations;
    inlet_metric *m_delivered, *m_failed, *m_inflight, *m_recreated, *m_ack_us;
    inlet_metric *m_failed_by[2]; /* not persisted, possibly persisted */
    /* Our own bound on messages and bytes in flight, below librdkafka's (set to twice ours):
     * a batch reserves room for all its events before the first is produced, so librdkafka's
     * queue can never fill half way through a batch. */
    atomic_llong reserved_msgs, reserved_bytes;
    long long max_msgs, max_bytes;
};

static const char *const compression_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    inlet_producer *p = opaque;
    inlet_slot *slot = msg->_private;
    if (!slot) { /* fire and forget (dead letters): nobody waits, nothing was reserved */
        inlet_metric_add(p->m_inflight, -1);
        return;
    }
    int64_t latency_us = rd_kafka_message_latency(msg);
    if (latency_us >= 0)
        inlet_metric_observe_us(p->m_ack_us, latency_us);
    inlet_delivery_outcome o = inlet_delivery_outcome_of(msg->err, rd_kafka_message_status(msg));
    slot->result.status = o.status;
    slot->result.error = o.error; /* static strings */
    if (o.status == INLET_OK) {
        slot->result.partition = msg->partition;
        slot->result.offset = msg->offset;
        inlet_metric_add(p->m_delivered, 1);
    } else {
        slot->result.partition = -1;
        slot->result.offset = -1;
        inlet_metric_add(p->m_failed, 1);
        inlet_metric_add(p->m_failed_by[o.status == INLET_E_POSSIBLY_PERSISTED], 1);
        inlet_logf(INLET_LOG_WARN, "kafka", "delivery of event %s to %s failed (%s): %s",
                   slot->event_id, rd_kafka_topic_name(msg->rkt), o.error,
                   rd_kafka_err2str(msg->err));
    }
    slot->result.topic = rd_kafka_topic_name(msg->rkt); /* lives as long as the cached rkt */
    inlet_metric_add(p->m_inflight, -1);
    inlet_producer_unreserve(p, 1, msg->len);
    inlet_submission_put(slot->sub, 1);
}

/* Readiness is the health handle's business (health.c), not this handle's errors: a producer
 * connection that waits for a dead replica's acks says nothing about whether Kafka can write. */
static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    inlet_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        inlet_logf(INLET_LOG_ERROR, "kafka",
                   "fatal producer error %s: %s; recreating the producer (events in flight are "
                   "answered as not or possibly persisted)",
                   rd_kafka_err2name(orig), buf);
        atomic_store(&p->fatal_pending, 1);
        inlet_kafka_health_set_producer_fatal(p->health, 1);
        return;
    }
    inlet_broker_log_error(err, reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    inlet_broker_log_line(level, fac, buf);
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)opaque;
    inlet_broker_log_stats(json, len);
    return 0; /* librdkafka frees json */
}

static int set_prop(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t err_len)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_len, "kafka property %s=%s: %s", key, value, errstr);
        return -1;
    }
    return 0;
}

static producer_gen *gen_new(inlet_producer *p, char *err, size_t err_len)
{
    producer_gen *g = calloc(1, sizeof(*g));
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(p->conf_template);
    char errstr[512];
    if (!g || !conf) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    g->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!g->rk) {
        snprintf(err, err_len, "creating the Kafka producer: %s", errstr);
        goto fail;
    }
    pthread_rwlock_init(&g->topics_lock, NULL);
    return g;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(g);
    return NULL;
}

static void gen_free(producer_gen *g)
{
    for (size_t i = 0; i < TOPIC_CACHE_SLOTS; i++)
        if (g->topics[i])
            rd_kafka_topic_destroy(g->topics[i]);
    rd_kafka_destroy(g->rk);
    pthread_rwlock_destroy(&g->topics_lock);
    free(g);
}

int inlet_producer_new(const inlet_kafka_settings *s, inlet_producer **out, char *err,
                       size_t err_len)
{
    inlet_producer *p = calloc(1, sizeof(*p));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char num[32];
    if (!p || !conf) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    struct {
        const char *key;
        const char *value;
    } fixed[] = {
        {"bootstrap.servers", s->bootstrap_servers},
        {"client.id", s->client_id},
        /* The acknowledgement promise rests on these two; they are not configurable. */
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"partitioner", "murmur2_random"},
        {"compression.codec", compression_names[s->compression]},
        /* broker states for "broker ... is up again" (broker_log.c); a property may change it */
        {"statistics.interval.ms", "5000"},
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (set_prop(conf, fixed[i].key, fixed[i].value, err, err_len) != 0)
            goto fail;
    struct {
        const char *key;
        long long value;
    } numeric[] = {
        {"linger.ms", (long long)s->linger_ms},
        {"message.timeout.ms", (long long)s->delivery_timeout_ms},
        /* librdkafka refuses a request timeout above the message timeout */
        {"request.timeout.ms",
         (long long)(s->request_timeout_ms < s->delivery_timeout_ms ? s->request_timeout_ms
                                                                    : s->delivery_timeout_ms)},
        {"topic.metadata.refresh.interval.ms", (long long)s->metadata_refresh_ms},
        {"queue.buffering.max.messages", (long long)s->max_queue_messages * 2},
        {"queue.buffering.max.kbytes", (long long)(s->max_queue_bytes / 1024 * 2)},
    };
    for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
        snprintf(num, sizeof(num), "%lld", numeric[i].value);
        if (set_prop(conf, numeric[i].key, num, err, err_len) != 0)
            goto fail;
    }
    p->max_msgs = (long long)s->max_queue_messages;
    p->max_bytes = (long long)s->max_queue_bytes;
    for (size_t i = 0; i < s->properties.count; i++) {
        const char *k = s->properties.keys[i];
        if (strcmp(k, "enable.idempotence") == 0 || strcmp(k, "acks") == 0 ||
            strcmp(k, "request.required.acks") == 0) {
            snprintf(err, err_len,
                     "kafka.properties.%s: cannot be overridden: Inlet acknowledges devices only "
                     "for events written with acks=all by an idempotent producer",
                     k);
            goto fail;
        }
        if (set_prop(conf, k, s->properties.values[i], err, err_len) != 0)
            goto fail;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_stats_cb(conf, on_stats);
    p->conf_template = conf;
    conf = NULL;

    producer_gen *g = gen_new(p, err, err_len);
    if (!g)
        goto fail;
    atomic_init(&p->cur, g);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(g->rk);
    if (inlet_kafka_health_new(s, mock ? rd_kafka_mock_cluster_bootstraps(mock) : NULL, &p->health,
                               err, err_len) != 0)
        goto fail;
    p->m_delivered = inlet_metric_counter("inlet_kafka_delivered_total",
                                          "Events Kafka acknowledged (acks=all).", NULL);
    p->m_failed = inlet_metric_counter("inlet_kafka_delivery_failed_total",
                                       "Events whose delivery to Kafka failed or timed out.", NULL);
    p->m_failed_by[0] = inlet_metric_counter(
        "inlet_kafka_delivery_failures_total",
        "Failed deliveries by what the device was told: not persisted (safe to resend) or "
        "possibly persisted (resend with the same event_id).",
        "outcome=\"not_persisted\"");
    p->m_failed_by[1] = inlet_metric_counter("inlet_kafka_delivery_failures_total", NULL,
                                             "outcome=\"possibly_persisted\"");
    p->m_inflight =
        inlet_metric_gauge("inlet_kafka_inflight_events", "Events waiting for Kafka.", NULL);
    p->m_recreated = inlet_metric_counter(
        "inlet_kafka_producer_recreated_total",
        "Times the producer was recreated after a fatal error (e.g. a fenced idempotent producer).",
        NULL);
    size_t nb;
    const double *b = inlet_ack_latency_buckets(&nb);
    p->m_ack_us = inlet_metric_histogram(
        "inlet_kafka_ack_latency_seconds",
        "From produce to Kafka's delivery report (acks=all), any outcome.", NULL, b, nb);
    *out = p;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (p) {
        if (atomic_load(&p->cur))
            gen_free(atomic_load(&p->cur));
        if (p->conf_template)
            rd_kafka_conf_destroy(p->conf_template);
        inlet_kafka_health_free(p->health);
    }
    free(p);
    return -1;
}

/*
 * Replace a generation whose handle raised a fatal error. New submissions go to the new handle
 * from the swap on; whatever the old one still holds is purged, so each of those events gets its
 * delivery report now: not persisted if it never left the queue, possibly persisted if it was
 * in a request to a broker. Runs on the poll thread.
 */
static void recreate(inlet_producer *p)
{
    char err[512];
    producer_gen *fresh = gen_new(p, err, sizeof(err));
    if (!fresh) {
        inlet_logf(INLET_LOG_ERROR, "kafka", "cannot recreate the producer (retrying): %s", err);
        return;
    }
    producer_gen *old = atomic_exchange(&p->cur, fresh);
    atomic_store(&p->fatal_pending, 0);
    rd_kafka_purge(old->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    for (int i = 0; i < 50 && rd_kafka_outq_len(old->rk) > 0; i++)
        rd_kafka_poll(old->rk, 100);
    int left = rd_kafka_outq_len(old->rk);
    old->retired_next = p->retired;
    p->retired = old;
    atomic_fetch_add(&p->recreations, 1);
    inlet_metric_add(p->m_recreated, 1);
    inlet_kafka_health_set_producer_fatal(p->health, 0);
    inlet_logf(left ? INLET_LOG_WARN : INLET_LOG_INFO, "kafka",
               "producer recreated after a fatal error; new events go to the new producer%s",
               left ? " (some events of the old one are still unanswered)" : "");
}

static void *poll_main(void *arg)
{
    inlet_producer *p = arg;
    while (!atomic_load(&p->stop)) {
        rd_kafka_poll(atomic_load(&p->cur)->rk, 100);
        if (atomic_load(&p->fatal_pending))
            recreate(p);
    }
    return NULL;
}

int inlet_producer_start(inlet_producer *p, char *err, size_t err_len)
{
    if (pthread_create(&p->poll_thread, NULL, poll_main, p) != 0) {
        snprintf(err, err_len, "cannot start the Kafka poll thread");
        return -1;
    }
    if (inlet_kafka_health_start(p->health, err, err_len) != 0) {
        atomic_store(&p->stop, 1);
        pthread_join(p->poll_thread, NULL);
        return -1;
    }
    p->threads_started = 1;
    return 0;
}

int inlet_producer_ready(const inlet_producer *p)
{
    return p && inlet_kafka_health_ready(p->health) &&
           !atomic_load(&((inlet_producer *)p)->fatal_pending);
}

inlet_kafka_health *inlet_producer_health(inlet_producer *p)
{
    return p ? p->health : NULL;
}

int inlet_producer_recreations(const inlet_producer *p)
{
    return atomic_load(&((inlet_producer *)p)->recreations);
}

static size_t topic_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The cached handle for topic in the current generation, created on first use. Handles live
 * until the producer is freed, so delivery reports may point at their names. Each handle's
 * opaque is its generation, so a send goes to the handle the topic belongs to. */
static rd_kafka_topic_t *topic_get(inlet_producer *p, const char *topic)
{
    producer_gen *g = atomic_load(&p->cur);
    size_t h = topic_hash(topic) % TOPIC_CACHE_SLOTS;
    pthread_rwlock_rdlock(&g->topics_lock);
    for (size_t i = 0; i < TOPIC_CACHE_SLOTS; i++) {
        rd_kafka_topic_t *t = g->topics[(h + i) % TOPIC_CACHE_SLOTS];
        if (!t)
            break;
        if (strcmp(rd_kafka_topic_name(t), topic) == 0) {
            pthread_rwlock_unlock(&g->topics_lock);
            return t;
        }
    }
    pthread_rwlock_unlock(&g->topics_lock);

    pthread_rwlock_wrlock(&g->topics_lock);
    rd_kafka_topic_t *found = NULL;
    size_t i;
    for (i = 0; i < TOPIC_CACHE_SLOTS; i++) {
        rd_kafka_topic_t *t = g->topics[(h + i) % TOPIC_CACHE_SLOTS];
        if (!t)
            break;
        if (strcmp(rd_kafka_topic_name(t), topic) == 0) {
            found = t;
            break;
        }
    }
    if (!found && i < TOPIC_CACHE_SLOTS && g->n_topics < TOPIC_CACHE_SLOTS / 2) {
        rd_kafka_topic_conf_t *tc = rd_kafka_default_topic_conf_dup(g->rk);
        if (tc) {
            rd_kafka_topic_conf_set_opaque(tc, g);
            found = rd_kafka_topic_new(g->rk, topic, tc); /* takes tc, also on failure */
        }
        if (found) {
            g->topics[(h + i) % TOPIC_CACHE_SLOTS] = found;
            g->n_topics++;
        }
    } else if (!found) {
        inlet_logf(INLET_LOG_ERROR, "kafka", "more than %d topics in use; refusing events for %s",
                   TOPIC_CACHE_SLOTS / 2, topic);
    }
    pthread_rwlock_unlock(&g->topics_lock);
    return found;
}

rd_kafka_resp_err_t inlet_producer_send_to(inlet_producer *p, rd_kafka_topic_t *rkt,
                                           const char *key, size_t key_len, const char *value,
                                           size_t value_len, rd_kafka_headers_t *headers,
                                           inlet_slot *slot)
{
    producer_gen *g = rd_kafka_topic_opaque(rkt);
    rd_kafka_resp_err_t e =
        rd_kafka_producev(g->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_KEY(key, key_len),
                          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(slot), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        inlet_metric_add(p->m_inflight, 1);
    return e;
}

rd_kafka_resp_err_t inlet_producer_send(inlet_producer *p, const char *topic, const char *key,
                                        size_t key_len, const char *value, size_t value_len,
                                        rd_kafka_headers_t *headers, inlet_slot *slot)
{
    rd_kafka_topic_t *rkt = topic_get(p, topic);
    if (!rkt)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    return inlet_producer_send_to(p, rkt, key, key_len, value, value_len, headers, slot);
}

int inlet_producer_reserve(inlet_producer *p, size_t n, size_t bytes)
{
    long long m = atomic_fetch_add(&p->reserved_msgs, (long long)n) + (long long)n;
    long long b = atomic_fetch_add(&p->reserved_bytes, (long long)bytes) + (long long)bytes;
    /* A single batch larger than the whole bound still goes through when nothing else is in
     * flight, or it could never be sent. */
    if ((m > p->max_msgs && m != (long long)n) || (b > p->max_bytes && b != (long long)bytes)) {
        inlet_producer_unreserve(p, n, bytes);
        return -1;
    }
    return 0;
}

void inlet_producer_unreserve(inlet_producer *p, size_t n, size_t bytes)
{
    atomic_fetch_sub(&p->reserved_msgs, (long long)n);
    atomic_fetch_sub(&p->reserved_bytes, (long long)bytes);
}

rd_kafka_topic_t *inlet_producer_topic(inlet_producer *p, const char *topic)
{
    return topic_get(p, topic);
}

int inlet_producer_drain(inlet_producer *p, int timeout_ms)
{
    rd_kafka_t *rk = atomic_load(&p->cur)->rk;
    rd_kafka_flush(rk, timeout_ms);
    int left = rd_kafka_outq_len(rk);
    if (left > 0) {
        inlet_logf(INLET_LOG_WARN, "kafka",
                   "%d events still unacknowledged after %d ms; refusing them to their devices",
                   left, timeout_ms);
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(rk, 0); /* serve the purge's delivery reports now */
    }
    return left;
}

rd_kafka_t *inlet_producer_handle(inlet_producer *p)
{
    return atomic_load(&p->cur)->rk;
}

void inlet_producer_free(inlet_producer *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    if (p->threads_started)
        pthread_join(p->poll_thread, NULL);
    inlet_kafka_health_free(p->health);
    producer_gen *g = atomic_load(&p->cur);
    rd_kafka_poll(g->rk, 0);
    gen_free(g);
    while (p->retired) {
        producer_gen *next = p->retired->retired_next;
        gen_free(p->retired);
        p->retired = next;
    }
    rd_kafka_conf_destroy(p->conf_template);
    free(p);
}
