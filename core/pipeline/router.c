/* router.c - see router.h. */
#include "router.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "log.h"
#include "metric_labels.h"
#include "metrics.h"
#include "dead_letter.h"
#include "refusals.h"
#include "normalize.h"
#include "quota.h"
#include "formats/arena.h"
#include "kafka/queue.h"
#include "kafka/topics.h"
#include "rejection.h"
#include "spool/spool.h"

typedef struct world_ref {
    inlet_world w; /* first: the public pointer is the allocation */
    atomic_int refs;
} world_ref;

static struct {
    inlet_producer *producer;
    inlet_spool *spool; /* NULL: no spool configured */
    size_t max_events;
    int retry_after_s;
    atomic_int shutting_down;
    pthread_mutex_t world_mu;
    world_ref *world;
    inlet_metric *m_received, *m_accepted, *m_rejected[INLET_E_INTERNAL + 1];
} router = {.world_mu = PTHREAD_MUTEX_INITIALIZER};

static void world_free(world_ref *w)
{
    inlet_tenants_release(w->w.tenants);
    inlet_schemas_free(w->w.schemas);
    free(w);
}

void inlet_router_init(inlet_producer *producer, size_t max_events, int retry_after_s)
{
    router.producer = producer;
    router.max_events = max_events;
    router.retry_after_s = retry_after_s;
    atomic_store(&router.shutting_down, 0);
    router.m_received = inlet_metric_counter(
        "inlet_events_received_total", "Events submitted by modules, before any check.", NULL);
    router.m_accepted = inlet_metric_counter(
        "inlet_events_accepted_total", "Events that passed every check and went to Kafka.", NULL);
    for (int s = INLET_E_UNAUTHENTICATED; s <= INLET_E_INTERNAL; s++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", inlet_status_name((inlet_status)s));
        router.m_rejected[s] =
            inlet_metric_counter("inlet_requests_rejected_total",
                                 "Submissions refused before Kafka, by reason.", labels);
    }
}

void inlet_router_set_spool(inlet_spool *spool)
{
    router.spool = spool;
}

void inlet_router_set_world(inlet_tenants *tenants, inlet_schemas *schemas)
{
    world_ref *w = calloc(1, sizeof(*w));
    if (!w) {
        inlet_log_error("out of memory installing the new configuration; keeping the old one");
        inlet_tenants_release(tenants);
        inlet_schemas_free(schemas);
        return;
    }
    w->w.tenants = tenants;
    w->w.schemas = schemas;
    atomic_init(&w->refs, 1);
    if (router.producer) /* before the swap: a missing topic is refused from the first event */
        inlet_topics_watch(router.producer, tenants, schemas, 3000);
    pthread_mutex_lock(&router.world_mu);
    world_ref *old = router.world;
    router.world = w;
    pthread_mutex_unlock(&router.world_mu);
    if (old)
        inlet_router_world_release(&old->w);
}

const inlet_world *inlet_router_world_acquire(void)
{
    pthread_mutex_lock(&router.world_mu);
    world_ref *w = router.world;
    if (w)
        atomic_fetch_add(&w->refs, 1);
    pthread_mutex_unlock(&router.world_mu);
    return w ? &w->w : NULL;
}

void inlet_router_world_release(const inlet_world *pub)
{
    world_ref *w = (world_ref *)pub;
    if (w && atomic_fetch_sub(&w->refs, 1) == 1)
        world_free(w);
}

void inlet_router_shutdown(void)
{
    atomic_store(&router.shutting_down, 1);
}

void inlet_router_fini(void)
{
    pthread_mutex_lock(&router.world_mu);
    world_ref *w = router.world;
    router.world = NULL;
    pthread_mutex_unlock(&router.world_mu);
    if (w)
        inlet_router_world_release(&w->w);
}

int inlet_router_kafka_ready(void)
{
    return router.producer && inlet_producer_ready(router.producer);
}

int inlet_router_retry_after_s(void)
{
    return router.retry_after_s;
}

static void count_acl_deny(void *ctx, const inlet_identity *id, const char *schema)
{
    (void)ctx;
    char labels[200];
    snprintf(labels, sizeof(labels), "tenant=\"%.64s\"", id->tenant);
    inlet_metric_add(
        inlet_metric_counter("inlet_acl_denied_total", "Events refused by a tenant's ACL.", labels),
        1);
    inlet_logf(INLET_LOG_DEBUG, "acl", "denied %s/%s sending %s", id->tenant, id->device_id,
               schema);
}

static inlet_status refuse(inlet_status st, const char *msg, inlet_rejection **rej)
{
    inlet_metric_add(router.m_rejected[st], 1);
    if (rej)
        *rej = inlet_rejection_simple(st, msg);
    return st;
}

static rd_kafka_headers_t *envelope_headers(const inlet_request *req, const inlet_envelope *env)
{
    const inlet_identity *id = req->identity;
    rd_kafka_headers_t *h = rd_kafka_headers_new(7 + req->n_headers);
    const char *schema = inlet_schema_name(env->schema),
               *version = inlet_schema_version(env->schema);
    const char *source = req->source ? req->source : "unknown";
    rd_kafka_header_add(h, "inlet-tenant", 12, id->tenant, -1);
    rd_kafka_header_add(h, "inlet-schema", 12, schema, -1);
    rd_kafka_header_add(h, "inlet-schema-version", 20, version, -1);
    rd_kafka_header_add(h, "inlet-source", 12, source, -1);
    /* The value is always the JSON envelope; the format the device sent is kept beside it. */
    rd_kafka_header_add(h, "content-type", 12, "application/json", 16);
    rd_kafka_header_add(h, "inlet-content-type", 18,
                        req->content_type ? req->content_type : "application/json", -1);
    rd_kafka_header_add(h, "inlet-event-id", 14, env->event_id, -1);
    for (size_t i = 0; i < req->n_headers; i++)
        rd_kafka_header_add(h, req->headers[i].name, -1, req->headers[i].value,
                            (ssize_t)req->headers[i].value_len);
    return h;
}

/* A request as this core's struct: a module built against an older minor has a shorter one. */
static const inlet_request *request_view(const inlet_request *req, inlet_request *copy)
{
    if (req->size >= sizeof(*req))
        return req;
    memset(copy, 0, sizeof(*copy));
    memcpy(copy, req, req->size);
    copy->size = sizeof(*copy);
    return copy;
}

/* Hand every envelope to the producer, or none: room for the whole batch is reserved first and
 * the topics are resolved, so a full queue cannot split a batch. Returns the number produced;
 * *kerr is the error that stopped it. */
static size_t produce_all(const inlet_request *req, inlet_envelope *envs, size_t n,
                          inlet_submission *sub, rd_kafka_resp_err_t *kerr)
{
    size_t bytes = 0, produced = 0;
    rd_kafka_topic_t *rkt = NULL;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < n; i++) {
        bytes += envs[i].value_len;
        if (i == 0 || envs[i].topic != envs[i - 1].topic) {
            if (!inlet_producer_topic(router.producer, envs[i].topic)) {
                *kerr = RD_KAFKA_RESP_ERR__INVALID_ARG;
                return 0;
            }
        }
    }
    if (inlet_producer_reserve(router.producer, n, bytes) != 0) {
        *kerr = RD_KAFKA_RESP_ERR__QUEUE_FULL;
        return 0;
    }
    for (; produced < n; produced++) {
        inlet_envelope *env = &envs[produced];
        inlet_slot *slot = &sub->slots[produced];
        memcpy(slot->event_id, env->event_id, sizeof(slot->event_id));
        rd_kafka_headers_t *h = envelope_headers(req, env);
        if (produced == 0 || env->topic != envs[produced - 1].topic)
            rkt = inlet_producer_topic(router.producer, env->topic);
        *kerr = inlet_producer_send_to(router.producer, rkt, env->key, env->key_len, env->value,
                                       env->value_len, h, slot);
        if (*kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(h);
            break;
        }
    }
    for (size_t i = produced; i < n; i++)
        inlet_producer_unreserve(router.producer, 1, envs[i].value_len);
    return produced;
}

static inlet_status submit(inlet_module_ctx *mod, const inlet_request *req_in,
                           inlet_rejection **rej)
{
    if (rej)
        *rej = NULL;
    /* The 1.0 layout is the minimum; fields added since are read only when present. */
    if (!req_in || req_in->size < offsetof(inlet_request, reserved) || !req_in->identity ||
        !req_in->queue)
        return refuse(INLET_E_INTERNAL, "malformed inlet_request", rej);
    if (atomic_load(&router.shutting_down))
        return refuse(INLET_E_SHUTTING_DOWN, "inletd is shutting down", rej);

    const inlet_world *world = inlet_router_world_acquire();
    if (!world)
        return refuse(INLET_E_UNAVAILABLE, "no configuration loaded", rej);

    /* An identity from before a reload (a long-lived MQTT connection) is checked against the
     * current tenants: revoked tokens and removed tenants stop here, ACL changes apply. */
    inlet_identity *fresh = NULL;
    inlet_request copy;
    const inlet_request *req = request_view(req_in, &copy);
    char why[256];
    if (inlet_identity_refresh(world->tenants, req->identity, &fresh, why, sizeof(why)) !=
        INLET_OK) {
        inlet_router_world_release(world);
        return refuse(INLET_E_UNAUTHENTICATED, why, rej);
    }
    if (fresh != req->identity) {
        if (req != &copy) {
            memcpy(&copy, req, sizeof(copy));
            req = &copy;
        }
        copy.identity = fresh;
    }

    struct timeval tv;
    gettimeofday(&tv, NULL);
    inlet_arena *arena = inlet_arena_thread();
    inlet_normalize_input in = {
        .req = req,
        .schemas = world->schemas,
        .topic_prefix = inlet_identity_topic_prefix(req->identity),
        .max_events = req->max_events && req->max_events < router.max_events ? req->max_events
                                                                             : router.max_events,
        .received_at_us =
            req->received_at_us ? req->received_at_us : (int64_t)tv.tv_sec * 1000000 + tv.tv_usec,
        .arena = arena,
        .on_acl_deny = count_acl_deny,
    };
    inlet_envelope *envs = NULL;
    size_t n = 0;
    inlet_rejection *r = NULL;
    inlet_schema_budget_begin(INLET_SCHEMA_REGEX_BUDGET_US);
    inlet_status st = arena ? inlet_normalize(&in, &envs, &n, &r) : INLET_E_INTERNAL;
    int too_complex = inlet_schema_budget_exhausted();
    inlet_schema_budget_end();
    if (st != INLET_OK && too_complex) {
        /* the per-string errors would only say "could not be matched" */
        inlet_rejection_free(r);
        r = inlet_rejection_simple(INLET_E_TOO_LARGE,
                                   "the request is too complex to validate: its strings used up "
                                   "the pattern-matching budget");
        st = INLET_E_TOO_LARGE;
    }
    if (st != INLET_OK) {
        inlet_metric_add(router.m_rejected[st], 1);
        inlet_dead_letter_offer(router.producer, req, st, r);
        if (rej)
            *rej = r ? r : inlet_rejection_simple(st, "out of memory");
        else
            inlet_rejection_free(r);
        goto out;
    }
    inlet_metric_add(router.m_received, (int64_t)n);

    /* ack: spool replaces only the Kafka step (docs/SPOOL.md). */
    if (router.spool && inlet_spool_wanted(req->identity, envs, n)) {
        st = inlet_spool_submit(router.spool, req, envs, n, envelope_headers, router.retry_after_s,
                                rej);
        inlet_metric_add(st == INLET_OK ? router.m_accepted : router.m_rejected[st],
                         st == INLET_OK ? (int64_t)n : 1);
        goto out;
    }

    /* Validation first: a payload that can never be valid is refused as such even while
     * Kafka is down; only a valid one is told to come back later. */
    if (!inlet_producer_ready(router.producer)) {
        st = refuse(INLET_E_UNAVAILABLE, "Kafka is unreachable; nothing was stored", rej);
        goto out;
    }
    if (inlet_topics_refuse_missing(router.producer, envs, n, why, sizeof(why))) {
        st = refuse(INLET_E_UNAVAILABLE, why, rej);
        goto out;
    }
    /* Rate limits last: a request refused as invalid, or while Kafka is unreachable, costs the
     * device nothing (nor does one the producer refuses: refunded below). */
    if ((st = inlet_quota_submit(req->identity, n, req->body_len, rej)) != INLET_OK) {
        inlet_metric_add(router.m_rejected[st], 1);
        goto out;
    }
    inlet_submission *sub = inlet_submission_new(req->queue, req->opaque, n);
    if (!sub) {
        st = refuse(INLET_E_INTERNAL, "out of memory", rej);
        goto out;
    }
    rd_kafka_resp_err_t kerr;
    size_t produced = produce_all(req, envs, n, sub, &kerr);
    for (size_t i = produced; i < n; i++) {
        memcpy(sub->slots[i].event_id, envs[i].event_id, sizeof(sub->slots[i].event_id));
        sub->slots[i].result.error = rd_kafka_err2str(kerr);
    }
    if (produced == 0) {
        inlet_submission_abort(sub);
        inlet_quota_refund(req->identity, n, req->body_len);
        char msg[200];
        snprintf(msg, sizeof(msg), "Kafka producer refused the events, nothing was stored: %s",
                 rd_kafka_err2str(kerr));
        st = refuse(INLET_E_UNAVAILABLE, msg, rej);
        goto out;
    }
    inlet_metric_add(router.m_accepted, (int64_t)produced);
    inlet_metric_labels_accepted(mod, req->identity, envs, produced);
    /* Drop the unproduced slots and the submitter's guard; the completion may fire now. */
    inlet_submission_put(sub, n - produced + 1);
    st = INLET_OK;
out:
    inlet_envelopes_free(envs, n);
    if (arena)
        inlet_arena_reset(arena);
    inlet_identity_release(fresh);
    inlet_router_world_release(world);
    return st;
}

inlet_status inlet_router_submit(inlet_module_ctx *mod, const inlet_request *req,
                                 inlet_rejection **rej)
{
    inlet_rejection *r = NULL;
    inlet_status st = submit(mod, req, &r);
    if (st != INLET_OK)
        inlet_refusal_from_submit(mod, req, st, r); /* log, count, recent list */
    if (rej)
        *rej = r;
    else
        inlet_rejection_free(r);
    return st;
}
