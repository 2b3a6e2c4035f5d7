/* health.c - see health.h. */
#include "health.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "log.h"
#include "metrics.h"

enum { TOPIC_UNKNOWN, TOPIC_PRESENT, TOPIC_MISSING };

static uint64_t topic_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Publish the missing topics' hashes, then their count (readers load the count first). Under
 * h->mu. */
static void publish_missing(struct inlet_kafka_health *h);

typedef struct watched_topic {
    char *name;
    char *label; /* what needs it, for messages; "" if unknown */
    int state;
} watched_topic;

#define MAX_BROKERS    64 /* brokers remembered for "joined"/"left" logs */
#define MISSING_HASHES 64 /* missing topics a submission can rule out without the lock */

struct inlet_kafka_health {
    rd_kafka_t *rk; /* metadata only: never produces */
    pthread_t thread;
    int started;
    atomic_int stop;
    atomic_int ready;
    atomic_int all_down;       /* the handle's own ALL_BROKERS_DOWN, cleared by an answer */
    atomic_int producer_fatal; /* the producer is being recreated */
    atomic_int n_missing;
    /* Hashes of the missing topics (the first MISSING_HASHES; more_missing when there are more):
     * a submission whose topic's hash is not among them is not missing, found without a lock
     * even while another schema's topic is missing. */
    _Atomic uint64_t missing_hash[MISSING_HASHES];
    atomic_int more_missing;
    int64_t interval_ms;
    pthread_mutex_t mu; /* topics, checks_done, wake */
    pthread_cond_t cv;  /* wakes the thread (wake) and set_topics (checks_done) */
    watched_topic *topics;
    size_t n_topics;
    unsigned long checks_done; /* metadata checks that answered */
    unsigned long set_gen;     /* bumped by set_topics; checks of an older set do not count */
    unsigned long checked_gen;
    int wake;
    int32_t brokers[MAX_BROKERS]; /* ids in the last answer, for change logs */
    size_t n_brokers;
    int have_brokers;
    char why[256]; /* the reason readiness is off, for the log; the thread's own */
    inlet_metric *m_ready, *m_missing;
};

static void on_health_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    inlet_kafka_health *h = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        atomic_store(&h->all_down, 1);
    /* The producer's handle reports broker failures; these would be duplicates. */
    inlet_logf(INLET_LOG_DEBUG, "kafka", "health handle: %s: %s", rd_kafka_err2name(err), reason);
}

static void on_health_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    inlet_logf(INLET_LOG_DEBUG, "librdkafka", "health handle: %s: %s", fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t len)
{
    char e[256];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, len, "kafka property %s=%s (health handle): %s", k, v, e);
        return -1;
    }
    return 0;
}

int inlet_kafka_health_new(const inlet_kafka_settings *s, const char *bootstrap,
                           inlet_kafka_health **out, char *err, size_t err_len)
{
    inlet_kafka_health *h = calloc(1, sizeof(*h));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char client_id[256], errstr[512];
    if (!h || !conf) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    snprintf(client_id, sizeof(client_id), "%s-health", s->client_id ? s->client_id : "inletd");
    /* The user's properties first (security settings apply to this handle too), ours last. */
    for (size_t i = 0; i < s->properties.count; i++) {
        const char *k = s->properties.keys[i];
        if (strcmp(k, "enable.idempotence") == 0 || strcmp(k, "acks") == 0 ||
            strcmp(k, "request.required.acks") == 0 || strcmp(k, "transactional.id") == 0 ||
            (bootstrap && strncmp(k, "test.mock.", 10) == 0))
            continue;
        if (conf_set(conf, k, s->properties.values[i], err, err_len) != 0)
            goto fail;
    }
    if (conf_set(conf, "bootstrap.servers", bootstrap ? bootstrap : s->bootstrap_servers, err,
                 err_len) != 0 ||
        conf_set(conf, "client.id", client_id, err, err_len) != 0 ||
        /* metadata of all topics never asks the broker to create one */
        conf_set(conf, "allow.auto.create.topics", "false", err, err_len) != 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, h);
    rd_kafka_conf_set_error_cb(conf, on_health_error);
    rd_kafka_conf_set_log_cb(conf, on_health_log);
    h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!h->rk) {
        snprintf(err, err_len, "creating the Kafka health handle: %s", errstr);
        goto fail;
    }
    conf = NULL;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->interval_ms = s->health_interval_ms;
    h->m_ready = inlet_metric_gauge(
        "inlet_kafka_ready",
        "1 when Kafka can take writes: metadata answers and every configured topic that exists "
        "has a leader for each partition.",
        NULL);
    h->m_missing = inlet_metric_gauge("inlet_kafka_topics_missing",
                                      "Configured topics that do not exist in Kafka.", NULL);
    *out = h;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    free(h);
    return -1;
}

static int broker_listed(const struct rd_kafka_metadata *md, int32_t id)
{
    for (int i = 0; i < md->broker_cnt; i++)
        if (md->brokers[i].id == id)
            return 1;
    return 0;
}

static const struct rd_kafka_metadata_topic *md_topic(const struct rd_kafka_metadata *md,
                                                      const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0)
            return &md->topics[i];
    return NULL;
}

/* Log brokers that joined or left the cluster's metadata since the last answer, once each. */
static void log_broker_changes(inlet_kafka_health *h, const struct rd_kafka_metadata *md)
{
    int32_t now[MAX_BROKERS];
    size_t n = 0;
    for (int i = 0; i < md->broker_cnt && n < MAX_BROKERS; i++)
        now[n++] = md->brokers[i].id;
    if (h->have_brokers) {
        for (size_t i = 0; i < n; i++) {
            int known = 0;
            for (size_t j = 0; j < h->n_brokers; j++)
                known |= h->brokers[j] == now[i];
            if (!known)
                for (int k = 0; k < md->broker_cnt; k++)
                    if (md->brokers[k].id == now[i])
                        inlet_logf(INLET_LOG_INFO, "kafka", "broker %d (%s:%d) joined the cluster",
                                   now[i], md->brokers[k].host, md->brokers[k].port);
        }
        for (size_t j = 0; j < h->n_brokers; j++) {
            int still = 0;
            for (size_t i = 0; i < n; i++)
                still |= h->brokers[j] == now[i];
            if (!still)
                inlet_logf(INLET_LOG_WARN, "kafka",
                           "broker %d left the cluster (no longer in the metadata); its "
                           "partitions move to the other replicas",
                           h->brokers[j]);
        }
    }
    memcpy(h->brokers, now, n * sizeof(now[0]));
    h->n_brokers = n;
    h->have_brokers = 1;
}

/* Apply one metadata answer to the watched topics; returns 1 when every existing topic has a
 * leader on a listed broker for each partition (else why says which does not). Under h->mu. */
static int apply_metadata(inlet_kafka_health *h, const struct rd_kafka_metadata *md)
{
    int writable = md->broker_cnt > 0;
    if (!writable)
        snprintf(h->why, sizeof(h->why), "the cluster lists no broker");
    for (size_t i = 0; i < h->n_topics; i++) {
        watched_topic *t = &h->topics[i];
        const struct rd_kafka_metadata_topic *mt = md_topic(md, t->name);
        int state =
            mt && mt->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && mt->partition_cnt > 0
                ? TOPIC_PRESENT
                : TOPIC_MISSING;
        if (state != t->state) {
            if (state == TOPIC_MISSING)
                inlet_logf(INLET_LOG_ERROR, "kafka",
                           "Kafka topic %s does not exist%s%s%s: its events are refused at once "
                           "until it is created (`inletd topics` prints the command)",
                           t->name, t->label[0] ? " (needed by " : "", t->label,
                           t->label[0] ? ")" : "");
            else if (t->state == TOPIC_MISSING)
                inlet_logf(INLET_LOG_INFO, "kafka", "Kafka topic %s exists now%s%s%s", t->name,
                           t->label[0] ? ": " : "", t->label, t->label[0] ? " is ready" : "");
            t->state = state;
        }
        if (state != TOPIC_PRESENT || !writable)
            continue;
        for (int p = 0; p < mt->partition_cnt; p++) {
            const struct rd_kafka_metadata_partition *mp = &mt->partitions[p];
            if (mp->leader < 0 || !broker_listed(md, mp->leader)) {
                snprintf(h->why, sizeof(h->why), "partition %d of %s has no leader", mp->id,
                         t->name);
                writable = 0;
                break;
            }
        }
    }
    publish_missing(h);
    return writable;
}

/* One check: metadata of every topic on the health handle. A failed request is retried once at
 * once, because the first may have gone to the broker that just died. */
static void check_once(inlet_kafka_health *h)
{
    const struct rd_kafka_metadata *md = NULL;
    int timeout = (int)(h->interval_ms < 2000 ? 2000 : h->interval_ms);
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int attempt = 0; attempt < 2 && !atomic_load(&h->stop); attempt++) {
        e = rd_kafka_metadata(h->rk, 1, NULL, &md, timeout);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        md = NULL;
    }
    int ok = 0;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        atomic_store(&h->all_down, 0);
        log_broker_changes(h, md);
        pthread_mutex_lock(&h->mu);
        ok = apply_metadata(h, md); /* metadata of all topics covers any set: the current one */
        h->checks_done++;
        h->checked_gen = h->set_gen;
        pthread_cond_broadcast(&h->cv);
        pthread_mutex_unlock(&h->mu);
        rd_kafka_metadata_destroy(md);
    } else {
        snprintf(h->why, sizeof(h->why), "metadata request failed: %s", rd_kafka_err2str(e));
    }
    if (ok && atomic_load(&h->producer_fatal)) {
        ok = 0;
        snprintf(h->why, sizeof(h->why), "the producer is being recreated after a fatal error");
    }
    if (ok != atomic_exchange(&h->ready, ok)) {
        if (ok)
            inlet_logf(INLET_LOG_INFO, "kafka", "Kafka is reachable");
        else
            inlet_logf(INLET_LOG_WARN, "kafka", "Kafka is unreachable: %s", h->why);
    }
    inlet_metric_set(h->m_ready, ok);
}

static void *health_main(void *arg)
{
    inlet_kafka_health *h = arg;
    while (!atomic_load(&h->stop)) {
        check_once(h);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += h->interval_ms / 1000;
        ts.tv_nsec += (h->interval_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&h->mu);
        while (!atomic_load(&h->stop) && !h->wake && !atomic_load(&h->all_down))
            if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0)
                break;
        h->wake = 0;
        pthread_mutex_unlock(&h->mu);
        if (atomic_load(&h->all_down) && atomic_load(&h->ready)) {
            atomic_store(&h->ready, 0);
            inlet_metric_set(h->m_ready, 0);
            inlet_logf(INLET_LOG_WARN, "kafka", "Kafka is unreachable: all brokers are down");
        }
    }
    return NULL;
}

int inlet_kafka_health_start(inlet_kafka_health *h, char *err, size_t err_len)
{
    if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
        snprintf(err, err_len, "cannot start the Kafka health thread");
        return -1;
    }
    h->started = 1;
    return 0;
}

void inlet_kafka_health_set_topics(inlet_kafka_health *h, const char *const *topics,
                                   const char *const *labels, size_t n, int wait_ms)
{
    watched_topic *t = calloc(n ? n : 1, sizeof(*t));
    if (!t) {
        inlet_log_error("out of memory updating the watched Kafka topics");
        return;
    }
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < n; i++) {
        t[i].name = strdup(topics[i]);
        t[i].label = strdup(labels && labels[i] ? labels[i] : "");
        t[i].state = TOPIC_UNKNOWN;
        for (size_t j = 0; j < h->n_topics; j++)
            if (strcmp(h->topics[j].name, topics[i]) == 0)
                t[i].state = h->topics[j].state;
    }
    for (size_t j = 0; j < h->n_topics; j++) {
        free(h->topics[j].name);
        free(h->topics[j].label);
    }
    free(h->topics);
    h->topics = t;
    h->n_topics = n;
    for (size_t i = 0; i < n; i++)
        if (!t[i].name || !t[i].label) { /* out of memory: drop it from the watch */
            free(t[i].name);
            free(t[i].label);
            t[i] = t[--h->n_topics];
            i--;
        }
    publish_missing(h);
    unsigned long gen = ++h->set_gen;
    h->wake = 1;
    pthread_cond_broadcast(&h->cv);
    if (h->started && wait_ms > 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        while (h->checked_gen < gen)
            if (pthread_cond_timedwait(&h->cv, &h->mu, &ts) != 0)
                break;
    }
    pthread_mutex_unlock(&h->mu);
}

int inlet_kafka_health_ready(const inlet_kafka_health *h)
{
    return h && atomic_load(&((inlet_kafka_health *)h)->ready);
}

static void publish_missing(inlet_kafka_health *h)
{
    int n = 0, more = 0;
    for (size_t i = 0; i < h->n_topics; i++) {
        if (h->topics[i].state != TOPIC_MISSING)
            continue;
        if (n < MISSING_HASHES)
            atomic_store(&h->missing_hash[n], topic_hash(h->topics[i].name));
        else
            more = 1;
        n++;
    }
    atomic_store(&h->more_missing, more);
    atomic_store(&h->n_missing, n); /* seq_cst: after the hashes */
    inlet_metric_set(h->m_missing, n);
}

int inlet_kafka_health_topic_missing(inlet_kafka_health *h, const char *topic)
{
    int n = h ? atomic_load(&h->n_missing) : 0;
    if (n == 0)
        return 0;
    if (!atomic_load(&h->more_missing)) {
        uint64_t th = topic_hash(topic);
        int maybe = 0;
        for (int i = 0; i < n && i < MISSING_HASHES && !maybe; i++)
            maybe = atomic_load_explicit(&h->missing_hash[i], memory_order_relaxed) == th;
        if (!maybe)
            return 0;
    }
    int missing = 0; /* a hash matched (or too many are missing): confirm by name */
    pthread_mutex_lock(&h->mu);
    for (size_t i = 0; i < h->n_topics; i++)
        if (strcmp(h->topics[i].name, topic) == 0) {
            missing = h->topics[i].state == TOPIC_MISSING;
            break;
        }
    pthread_mutex_unlock(&h->mu);
    return missing;
}

int inlet_kafka_health_missing_topics(inlet_kafka_health *h, char *buf, size_t len)
{
    int n = 0;
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    pthread_mutex_lock(&h->mu);
    if (h->checked_gen != h->set_gen) {
        pthread_mutex_unlock(&h->mu);
        return -1;
    }
    for (size_t i = 0; i < h->n_topics; i++) {
        if (h->topics[i].state != TOPIC_MISSING)
            continue;
        if (used < len) {
            int w = snprintf(buf + used, len - used, "%s%s", n ? ", " : "", h->topics[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
        n++;
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

void inlet_kafka_health_set_producer_fatal(inlet_kafka_health *h, int fatal)
{
    if (!h)
        return;
    atomic_store(&h->producer_fatal, fatal);
    if (fatal) {
        atomic_store(&h->ready, 0);
        inlet_metric_set(h->m_ready, 0);
    }
    pthread_mutex_lock(&h->mu);
    h->wake = 1;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

void inlet_kafka_health_free(inlet_kafka_health *h)
{
    if (!h)
        return;
    atomic_store(&h->stop, 1);
    pthread_mutex_lock(&h->mu);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    if (h->started)
        pthread_join(h->thread, NULL);
    rd_kafka_destroy(h->rk);
    for (size_t i = 0; i < h->n_topics; i++) {
        free(h->topics[i].name);
        free(h->topics[i].label);
    }
    free(h->topics);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}
