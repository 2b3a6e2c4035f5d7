/* producer.c - see producer.h. */
#include "producer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"

#define TOPIC_CACHE_SLOTS                                                                          \
    8192 /* open addressing, half full at most: 4096 topics (tenant prefix                         \
          * x schema); beyond that events are refused with an error log */

struct inlet_producer {
    rd_kafka_t *rk;
    pthread_rwlock_t topics_lock;
    rd_kafka_topic_t *topics[TOPIC_CACHE_SLOTS];
    size_t n_topics;
    pthread_t poll_thread, health_thread;
    int threads_started;
    atomic_int stop;
    atomic_int ready;
    int64_t health_interval_ms;
    pthread_mutex_t health_mu;
    pthread_cond_t health_cv;
    inlet_metric *m_delivered, *m_failed, *m_inflight, *m_ready;
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
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        slot->result.status = INLET_OK;
        slot->result.partition = msg->partition;
        slot->result.offset = msg->offset;
        slot->result.error = NULL;
        inlet_metric_add(p->m_delivered, 1);
    } else {
        slot->result.status = INLET_E_UNAVAILABLE;
        slot->result.partition = -1;
        slot->result.offset = -1;
        slot->result.error = rd_kafka_err2str(msg->err); /* static string */
        inlet_metric_add(p->m_failed, 1);
        inlet_logf(INLET_LOG_WARN, "kafka", "delivery of event %s to %s failed: %s", slot->event_id,
                   rd_kafka_topic_name(msg->rkt), rd_kafka_err2str(msg->err));
    }
    slot->result.topic = rd_kafka_topic_name(msg->rkt); /* lives as long as the cached rkt */
    inlet_metric_add(p->m_inflight, -1);
    inlet_producer_unreserve(p, 1, msg->len);
    inlet_submission_put(slot->sub, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    inlet_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        atomic_store(&p->ready, 0);
        inlet_metric_set(p->m_ready, 0);
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_fatal_error(rk, buf, sizeof(buf));
        inlet_logf(INLET_LOG_ERROR, "kafka", "fatal producer error: %s", buf);
        atomic_store(&p->ready, 0);
        return;
    }
    inlet_logf(INLET_LOG_WARN, "kafka", "%s: %s", rd_kafka_err2name(err), reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    inlet_log_level l = level <= 3   ? INLET_LOG_ERROR
                        : level <= 4 ? INLET_LOG_WARN
                                     : INLET_LOG_DEBUG;
    inlet_logf(l, "librdkafka", "%s: %s", fac, buf);
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
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (set_prop(conf, fixed[i].key, fixed[i].value, err, err_len) != 0)
            goto fail;
    snprintf(num, sizeof(num), "%lld", (long long)s->linger_ms);
    if (set_prop(conf, "linger.ms", num, err, err_len) != 0)
        goto fail;
    snprintf(num, sizeof(num), "%lld", (long long)s->delivery_timeout_ms);
    if (set_prop(conf, "message.timeout.ms", num, err, err_len) != 0)
        goto fail;
    p->max_msgs = (long long)s->max_queue_messages;
    p->max_bytes = (long long)s->max_queue_bytes;
    snprintf(num, sizeof(num), "%lld", (long long)s->max_queue_messages * 2);
    if (set_prop(conf, "queue.buffering.max.messages", num, err, err_len) != 0)
        goto fail;
    snprintf(num, sizeof(num), "%llu", (unsigned long long)(s->max_queue_bytes / 1024 * 2));
    if (set_prop(conf, "queue.buffering.max.kbytes", num, err, err_len) != 0)
        goto fail;
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

    char errstr[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!p->rk) {
        snprintf(err, err_len, "creating the Kafka producer: %s", errstr);
        goto fail;
    }
    conf = NULL; /* owned by rk now */
    pthread_rwlock_init(&p->topics_lock, NULL);
    pthread_mutex_init(&p->health_mu, NULL);
    pthread_cond_init(&p->health_cv, NULL);
    p->health_interval_ms = s->health_interval_ms;
    p->m_delivered = inlet_metric_counter("inlet_kafka_delivered_total",
                                          "Events Kafka acknowledged (acks=all).", NULL);
    p->m_failed = inlet_metric_counter("inlet_kafka_delivery_failed_total",
                                       "Events whose delivery to Kafka failed or timed out.", NULL);
    p->m_inflight =
        inlet_metric_gauge("inlet_kafka_inflight_events", "Events waiting for Kafka.", NULL);
    p->m_ready = inlet_metric_gauge("inlet_kafka_ready", "1 when Kafka answers metadata.", NULL);
    *out = p;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(p);
    return -1;
}

static void *poll_main(void *arg)
{
    inlet_producer *p = arg;
    while (!atomic_load(&p->stop))
        rd_kafka_poll(p->rk, 100);
    return NULL;
}

static void *health_main(void *arg)
{
    inlet_producer *p = arg;
    while (!atomic_load(&p->stop)) {
        const struct rd_kafka_metadata *md = NULL;
        int timeout = (int)(p->health_interval_ms < 2000 ? 2000 : p->health_interval_ms);
        rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 0, NULL, &md, timeout);
        int ok = e == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0 &&
                 !rd_kafka_fatal_error(p->rk, NULL, 0);
        if (md)
            rd_kafka_metadata_destroy(md);
        if (ok != atomic_exchange(&p->ready, ok))
            inlet_logf(ok ? INLET_LOG_INFO : INLET_LOG_WARN, "kafka", "Kafka is %s",
                       ok ? "reachable" : "unreachable");
        inlet_metric_set(p->m_ready, ok);

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += p->health_interval_ms / 1000;
        ts.tv_nsec += (p->health_interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&p->health_mu);
        if (!atomic_load(&p->stop))
            pthread_cond_timedwait(&p->health_cv, &p->health_mu, &ts);
        pthread_mutex_unlock(&p->health_mu);
    }
    return NULL;
}

int inlet_producer_start(inlet_producer *p, char *err, size_t err_len)
{
    if (pthread_create(&p->poll_thread, NULL, poll_main, p) != 0) {
        snprintf(err, err_len, "cannot start the Kafka poll thread");
        return -1;
    }
    if (pthread_create(&p->health_thread, NULL, health_main, p) != 0) {
        atomic_store(&p->stop, 1);
        pthread_join(p->poll_thread, NULL);
        snprintf(err, err_len, "cannot start the Kafka health thread");
        return -1;
    }
    p->threads_started = 1;
    return 0;
}

int inlet_producer_ready(const inlet_producer *p)
{
    return atomic_load(&((inlet_producer *)p)->ready);
}

static size_t topic_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The cached handle for topic, created on first use. Handles live until the producer is freed,
 * so delivery reports may point at their names. */
static rd_kafka_topic_t *topic_get(inlet_producer *p, const char *topic)
{
    size_t h = topic_hash(topic) % TOPIC_CACHE_SLOTS;
    pthread_rwlock_rdlock(&p->topics_lock);
    for (size_t i = 0; i < TOPIC_CACHE_SLOTS; i++) {
        rd_kafka_topic_t *t = p->topics[(h + i) % TOPIC_CACHE_SLOTS];
        if (!t)
            break;
        if (strcmp(rd_kafka_topic_name(t), topic) == 0) {
            pthread_rwlock_unlock(&p->topics_lock);
            return t;
        }
    }
    pthread_rwlock_unlock(&p->topics_lock);

    pthread_rwlock_wrlock(&p->topics_lock);
    rd_kafka_topic_t *found = NULL;
    size_t i;
    for (i = 0; i < TOPIC_CACHE_SLOTS; i++) {
        rd_kafka_topic_t *t = p->topics[(h + i) % TOPIC_CACHE_SLOTS];
        if (!t)
            break;
        if (strcmp(rd_kafka_topic_name(t), topic) == 0) {
            found = t;
            break;
        }
    }
    if (!found && i < TOPIC_CACHE_SLOTS && p->n_topics < TOPIC_CACHE_SLOTS / 2) {
        found = rd_kafka_topic_new(p->rk, topic, NULL);
        if (found) {
            p->topics[(h + i) % TOPIC_CACHE_SLOTS] = found;
            p->n_topics++;
        }
    } else if (!found) {
        inlet_logf(INLET_LOG_ERROR, "kafka", "more than %d topics in use; refusing events for %s",
                   TOPIC_CACHE_SLOTS / 2, topic);
    }
    pthread_rwlock_unlock(&p->topics_lock);
    return found;
}

rd_kafka_resp_err_t inlet_producer_send_to(inlet_producer *p, rd_kafka_topic_t *rkt,
                                           const char *key, size_t key_len, const char *value,
                                           size_t value_len, rd_kafka_headers_t *headers,
                                           inlet_slot *slot)
{
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
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
    rd_kafka_flush(p->rk, timeout_ms);
    int left = rd_kafka_outq_len(p->rk);
    if (left > 0) {
        inlet_logf(INLET_LOG_WARN, "kafka",
                   "%d events still unacknowledged after %d ms; refusing them to their devices",
                   left, timeout_ms);
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0); /* serve the purge's delivery reports now */
    }
    return left;
}

rd_kafka_t *inlet_producer_handle(inlet_producer *p)
{
    return p->rk;
}

void inlet_producer_free(inlet_producer *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->health_mu);
    pthread_cond_broadcast(&p->health_cv);
    pthread_mutex_unlock(&p->health_mu);
    if (p->threads_started) {
        pthread_join(p->poll_thread, NULL);
        pthread_join(p->health_thread, NULL);
    }
    rd_kafka_poll(p->rk, 0);
    for (size_t i = 0; i < TOPIC_CACHE_SLOTS; i++)
        if (p->topics[i])
            rd_kafka_topic_destroy(p->topics[i]);
    rd_kafka_destroy(p->rk);
    pthread_rwlock_destroy(&p->topics_lock);
    pthread_mutex_destroy(&p->health_mu);
    pthread_cond_destroy(&p->health_cv);
    free(p);
}
