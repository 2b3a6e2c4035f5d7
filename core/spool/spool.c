/* spool.c - see spool.h. */
#include "spool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "forwarder.h"
#include "identity/tenant.h"
#include "journal.h"
#include "kafka/queue.h"
#include "log.h"
#include "pipeline/rejection.h"
#include "record.h"
#include "spool_metrics.h"

struct inlet_spool {
    inlet_spool_settings s;
    inlet_producer *p;
    inlet_spool_metrics m;
    inlet_journal *j;
    inlet_forwarder *f;
};

int inlet_spool_open(const inlet_spool_settings *s, inlet_producer *p, inlet_spool **out, char *err,
                     size_t err_len)
{
    inlet_spool *sp = calloc(1, sizeof(*sp));
    if (!sp) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    sp->s = *s;
    sp->p = p;
    inlet_spool_metrics_init(&sp->m);
    if (inlet_journal_open(s, &sp->m, &sp->j, err, err_len) != 0 ||
        inlet_forwarder_new(sp->j, p, s, &sp->m, &sp->f, err, err_len) != 0 ||
        inlet_journal_start(sp->j, err, err_len) != 0 ||
        inlet_forwarder_start(sp->f, err, err_len) != 0) {
        inlet_spool_stop(sp);
        inlet_spool_free(sp);
        return -1;
    }
    inlet_logf(INLET_LOG_INFO, "spool", "spool at %s (segments of %llu bytes, at most %llu)",
               s->dir, (unsigned long long)s->segment_size, (unsigned long long)s->max_bytes);
    *out = sp;
    return 0;
}

void inlet_spool_stop(inlet_spool *sp)
{
    if (!sp)
        return;
    inlet_journal_stop(sp->j);
    inlet_forwarder_stop(sp->f);
}

void inlet_spool_free(inlet_spool *sp)
{
    if (!sp)
        return;
    inlet_forwarder_free(sp->f);
    inlet_journal_free(sp->j);
    free(sp);
}

int inlet_spool_wanted(const inlet_identity *id, const inlet_envelope *envs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (inlet_identity_ack_mode(id, inlet_schema_name(envs[i].schema),
                                    inlet_schema_version(envs[i].schema)) != INLET_ACK_SPOOL)
            return 0;
    return n > 0;
}

/* The committer's callback: the fsync covering the submission's records returned. */
static void spooled(void *arg, int ok)
{
    inlet_submission *sub = arg;
    for (size_t i = 0; i < sub->n_events; i++) {
        inlet_event_result *r = &sub->slots[i].result;
        if (ok) {
            r->status = INLET_OK;
            r->error = NULL;
        } else {
            r->status = INLET_E_UNAVAILABLE;
            r->error = "the spool's fsync failed: the event may or may not be stored; resend it "
                       "with the same event_id";
        }
        /* partition and offset stay -1: Kafka has not assigned them yet */
    }
    inlet_submission_put(sub, sub->n_events);
}

static int encode_one(inlet_buf *out, const inlet_envelope *env, rd_kafka_headers_t *h,
                      int64_t now_us)
{
    inlet_spool_header hs[INLET_SPOOL_HEADERS_MAX];
    size_t nh = 0;
    const char *name;
    const void *val;
    size_t size;
    while (nh < INLET_SPOOL_HEADERS_MAX &&
           rd_kafka_header_get_all(h, nh, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        hs[nh] = (inlet_spool_header){name, strlen(name), val, val ? size : 0};
        nh++;
    }
    inlet_spool_record r = {
        .spooled_at_us = now_us,
        .topic = env->topic,
        .topic_len = strlen(env->topic),
        .key = env->key,
        .key_len = env->key_len,
        .value = env->value,
        .value_len = env->value_len,
        .n_headers = nh,
        .headers = hs,
    };
    return inlet_spool_record_encode(out, &r);
}

static inlet_status refuse(const char *msg, int retry_after_s, inlet_rejection **rej)
{
    if (rej) {
        *rej = inlet_rejection_simple(INLET_E_UNAVAILABLE, msg);
        if (*rej)
            (*rej)->retry_after_s = retry_after_s;
    }
    return INLET_E_UNAVAILABLE;
}

inlet_status inlet_spool_submit(inlet_spool *sp, const inlet_request *req,
                                const inlet_envelope *envs, size_t n,
                                inlet_spool_headers_fn headers, int retry_after_s,
                                inlet_rejection **rej)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    int64_t now = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    inlet_buf out;
    inlet_buf_init(&out, 512 * n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_headers_t *h = headers(req, &envs[i]);
        int rc = h ? encode_one(&out, &envs[i], h, now) : -1;
        if (h)
            rd_kafka_headers_destroy(h);
        if (rc != 0) {
            inlet_buf_free(&out);
            return refuse("the event cannot be spooled (a field is too long, or out of memory); "
                          "nothing was stored",
                          retry_after_s, rej);
        }
    }
    inlet_submission *sub = inlet_submission_new(req->queue, req->opaque, n);
    if (!sub) {
        inlet_buf_free(&out);
        return refuse("out of memory; nothing was stored", retry_after_s, rej);
    }
    for (size_t i = 0; i < n; i++) {
        inlet_slot *slot = &sub->slots[i];
        memcpy(slot->event_id, envs[i].event_id, sizeof(slot->event_id));
        rd_kafka_topic_t *rkt = inlet_producer_topic(sp->p, envs[i].topic);
        if (!rkt) { /* the producer's topic cache is full: the forwarder could not send it */
            inlet_submission_abort(sub);
            inlet_buf_free(&out);
            return refuse("too many Kafka topics in use; nothing was stored", retry_after_s, rej);
        }
        /* a name that lives as long as the producer; the completion is read later */
        slot->result.topic = rd_kafka_topic_name(rkt);
    }
    char why[256];
    inlet_journal_status st =
        inlet_journal_append(sp->j, out.data, out.len, n, spooled, sub, why, sizeof(why));
    inlet_buf_free(&out);
    if (st != INLET_JOURNAL_OK) {
        inlet_submission_abort(sub);
        return refuse(why, retry_after_s, rej);
    }
    inlet_submission_put(sub, 1); /* the submitter's guard */
    return INLET_OK;
}
