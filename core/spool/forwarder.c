/* forwarder.c - see forwarder.h. */
#include "forwarder.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka/delivery_outcome.h"
#include "kafka/queue.h"
#include "log.h"
#include "rejected.h"
#include "segment.h"
#include "spool_clock.h"

/* Size refusals of a record produced alone before it counts as too large for its topic: a lone
 * record may still share a batch with ack: kafka events of the same partition. */
#define LONE_ATTEMPTS 3

enum { ENTRY_INFLIGHT = 0, ENTRY_OK = 1, ENTRY_FAILED = 2 };

typedef struct fwd_entry {
    uint64_t seq;
    int64_t spooled_at_us;
    uint32_t len;
    int state;
    uint64_t seg; /* first_seq of its segment */
    off_t off;    /* where it starts in that segment */
} fwd_entry;

struct inlet_forwarder {
    inlet_journal *j;
    inlet_producer *p;
    inlet_spool_metrics *m;
    inlet_spool_settings s;
    inlet_queue *q;
    fwd_entry *ring;
    size_t cap, head, count, outstanding;
    inlet_seg_reader rd;
    int rd_open;
    uint64_t read_seq;   /* the next record to read */
    uint64_t acked_seq;  /* records < acked_seq are in Kafka */
    uint64_t high_water; /* one past the highest seq produced by this process */
    uint64_t ack_n, ack_bytes;
    int64_t next_ts; /* spooled_at of the record at read_seq, if known; else 0 */
    int rewind;
    int64_t backoff_until_us, last_report_us, last_fail_log_us, last_expire_log_us;
    uint64_t expired_since_log;
    /* After a batch was refused as too large, the records read until then go one at a time, and
     * one refused alone LONE_ATTEMPTS times goes to rejected/ (rejected.h). */
    uint64_t single_until; /* records below it are produced one at a time */
    uint64_t lone_seq;     /* the record in flight alone; lone_copy holds its bytes */
    int lone_refusals;     /* size refusals of lone_seq in a row */
    inlet_buf lone_copy;
    inlet_spool_rejected rejected;
    atomic_int stop;
    pthread_t thread;
    int started;
};

int inlet_forwarder_new(inlet_journal *j, inlet_producer *p, const inlet_spool_settings *s,
                        inlet_spool_metrics *m, inlet_forwarder **out, char *err, size_t err_len)
{
    inlet_forwarder *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    f->j = j;
    f->p = p;
    f->m = m;
    f->s = *s;
    f->cap = (size_t)s->max_inflight;
    f->ring = calloc(f->cap, sizeof(*f->ring));
    f->q = f->ring ? inlet_queue_new(NULL, err, err_len) : NULL;
    if (!f->q) {
        if (!f->ring)
            snprintf(err, err_len, "out of memory");
        free(f->ring);
        free(f);
        return -1;
    }
    f->rd.fd = -1;
    f->read_seq = f->acked_seq = inlet_journal_first_unacked(j);
    inlet_buf_init(&f->lone_copy, 0);
    if (inlet_spool_rejected_open(&f->rejected, inlet_journal_dirfd(j), s->rejected_max_bytes) != 0)
        inlet_logf(INLET_LOG_ERROR, "spool",
                   "cannot open %s/rejected: %s; a record Kafka refuses for good will be dropped",
                   s->dir ? s->dir : ".", strerror(errno));
    inlet_metric_set(m->rejected_bytes, (int64_t)f->rejected.bytes);
    *out = f;
    return 0;
}

/* The next record at read_seq, moving across segments; 1 with *rec (valid until the next
 * read), 0 when none is readable now. */
static int read_next(inlet_forwarder *f, inlet_spool_record *rec, off_t *off, size_t *len,
                     uint64_t *seg)
{
    for (int hops = 0; hops < 64; hops++) {
        uint64_t first;
        if (!f->rd_open) {
            if (inlet_journal_segment_at(f->j, f->read_seq, &first) != 0)
                return 0;
            if (inlet_seg_reader_open(&f->rd, inlet_journal_dirfd(f->j), first) != 0) {
                inlet_logf(INLET_LOG_ERROR, "spool", "cannot open segment %020" PRIu64 ": %s",
                           first, strerror(errno));
                return 0;
            }
            f->rd_open = 1;
            if (first > f->read_seq)
                f->read_seq = first; /* a gap left by a damaged segment */
        }
        inlet_seg_status st = inlet_seg_reader_next(&f->rd, rec, off, len);
        if (st == INLET_SEG_RECORD) {
            if (f->rd.seq - 1 < f->read_seq)
                continue; /* before the checkpoint: already in Kafka */
            *seg = f->rd.first_seq;
            return 1;
        }
        if (st == INLET_SEG_IOERR) {
            inlet_logf(INLET_LOG_ERROR, "spool", "reading segment %020" PRIu64 ": %s",
                       f->rd.first_seq, strerror(errno));
            return 0;
        }
        /* End of this segment's bytes: move on if a later segment exists, else wait. */
        if (inlet_journal_segment_at(f->j, f->rd.seq, &first) != 0 || first == f->rd.first_seq) {
            if (st == INLET_SEG_BAD)
                inlet_logf(INLET_LOG_ERROR, "spool",
                           "segment %020" PRIu64 " damaged at record %" PRIu64 " while in use",
                           f->rd.first_seq, f->rd.seq);
            return 0;
        }
        if (st == INLET_SEG_BAD) {
            inlet_logf(INLET_LOG_ERROR, "spool",
                       "segment %020" PRIu64 " damaged at record %" PRIu64
                       "; the records after it in that segment are lost",
                       f->rd.first_seq, f->rd.seq);
            inlet_metric_add(f->m->corrupt, 1);
        }
        inlet_seg_reader_close(&f->rd);
        f->rd_open = 0;
        if (first > f->read_seq)
            f->read_seq = first;
    }
    return 0;
}

static void unread(inlet_forwarder *f, off_t off, uint64_t seq)
{
    inlet_seg_reader_seek(&f->rd, off, seq);
}

/* A batch's opaque: the ring position of its first record and how many records it holds. */
static void *batch_opaque(size_t pos, size_t k)
{
    return (void *)(uintptr_t)(((uint64_t)k << 32) | (uint64_t)(pos + 1));
}

/* Copy record seq to rejected/ and count it; the caller then lets it go as if acknowledged. */
static void reject(inlet_forwarder *f, uint64_t seq, const inlet_spool_record *rec, const char *why)
{
    inlet_rejected_status st = inlet_spool_rejected_keep(&f->rejected, seq, rec, why);
    inlet_metric_add(st == INLET_REJECTED_KEPT ? f->m->rejected_kept : f->m->rejected_dropped, 1);
    inlet_metric_set(f->m->rejected_bytes, (int64_t)f->rejected.bytes);
    if (st == INLET_REJECTED_KEPT)
        inlet_logf(INLET_LOG_ERROR, "spool",
                   "Kafka refused spooled event %" PRIu64 " for %.*s for good (%s); it is kept in "
                   "%s/rejected/%020" PRIu64 ".json and .value for replay, and the events after "
                   "it go on",
                   seq, (int)rec->topic_len, rec->topic, why, f->s.dir ? f->s.dir : ".", seq);
    else
        inlet_logf(INLET_LOG_ERROR, "spool",
                   "Kafka refused spooled event %" PRIu64 " for %.*s for good (%s) and it could "
                   "not be kept (%s): it is dropped",
                   seq, (int)rec->topic_len, rec->topic, why,
                   st == INLET_REJECTED_FULL ? "spool.rejected_max_bytes reached"
                                             : strerror(errno));
}

/*
 * A delivery refused as too large. Produced with others (k > 1, or not alone): from now on the
 * records read so far go one at a time. Produced alone: after LONE_ATTEMPTS such refusals in a
 * row the record itself is too large for its topic and goes to rejected/. 1 when it did (the
 * entry is done), 0 when it is to be produced again.
 */
static int size_refused(inlet_forwarder *f, fwd_entry *e, size_t k)
{
    if (k != 1 || e->seq != f->lone_seq || f->lone_copy.len == 0) {
        if (f->single_until < f->read_seq)
            f->single_until = f->read_seq;
        return 0;
    }
    if (++f->lone_refusals < LONE_ATTEMPTS)
        return 0;
    inlet_spool_record rec;
    size_t used;
    if (inlet_spool_record_decode((const uint8_t *)f->lone_copy.data, f->lone_copy.len, &rec,
                                  &used) != INLET_SPOOL_REC_OK)
        return 0; /* cannot happen: the copy is of a record the reader accepted */
    reject(f, e->seq, &rec, "refused as larger than the topic's max.message.bytes");
    f->lone_copy.len = 0;
    f->lone_refusals = 0;
    e->state = ENTRY_OK;
    return 1;
}

static void on_completion(void *ctx, const inlet_completion *c)
{
    inlet_forwarder *f = ctx;
    uint64_t o = (uint64_t)(uintptr_t)c->opaque;
    size_t pos = (size_t)(o & 0xffffffffu) - 1, k = (size_t)(o >> 32);
    for (size_t i = 0; i < k; i++) {
        fwd_entry *e = &f->ring[(pos + i) % f->cap];
        f->outstanding--;
        /* a result the queue could not report (out of memory) counts as failed: re-produced */
        const inlet_event_result *r = i < c->n_events ? &c->events[i] : NULL;
        if (r && r->status == INLET_OK) {
            e->state = ENTRY_OK;
            inlet_metric_add(f->m->forwarded, 1);
            if (e->seq == f->lone_seq) {
                f->lone_refusals = 0;
                f->lone_copy.len = 0;
            }
            continue;
        }
        if (r && inlet_delivery_refused_too_large(r->error) && size_refused(f, e, k))
            continue; /* kept in rejected/ (or dropped past its bound): it leaves the journal */
        e->state = ENTRY_FAILED;
        inlet_metric_add(f->m->forward_failed, 1);
        int64_t now = spool_mono_us();
        if (now - f->last_fail_log_us > 5000000) {
            f->last_fail_log_us = now;
            inlet_logf(INLET_LOG_WARN, "spool",
                       "delivery of spooled event %" PRIu64 " failed (%s); it stays in the spool "
                       "and is produced again",
                       e->seq, r && r->error ? r->error : "error");
        }
    }
}

static fwd_entry *push(inlet_forwarder *f, uint64_t seq, int64_t ts, size_t len, uint64_t seg,
                       off_t off, int state, size_t *pos)
{
    *pos = (f->head + f->count) % f->cap;
    fwd_entry *e = &f->ring[*pos];
    *e = (fwd_entry){seq, ts, (uint32_t)len, state, seg, off};
    f->count++;
    return e;
}

/* Pop acknowledged entries off the head; note a failed head. */
static void advance(inlet_forwarder *f)
{
    while (f->count && f->ring[f->head].state == ENTRY_OK) {
        fwd_entry *e = &f->ring[f->head];
        f->acked_seq = e->seq + 1;
        f->ack_n++;
        f->ack_bytes += e->len;
        f->head = (f->head + 1) % f->cap;
        f->count--;
    }
    if (f->count == 0 && !f->rewind)
        f->acked_seq = f->read_seq;
    if (f->count && f->ring[f->head].state == ENTRY_FAILED)
        f->rewind = 1;
}

static void report(inlet_forwarder *f, int force)
{
    int64_t now = spool_mono_us();
    if (!force && now - f->last_report_us < 200000)
        return;
    f->last_report_us = now;
    int64_t oldest = f->count                                    ? f->ring[f->head].spooled_at_us
                     : f->read_seq < inlet_journal_durable(f->j) ? f->next_ts
                                                                 : 0;
    inlet_metric_set(f->m->oldest_age_ms, oldest ? (spool_wall_us() - oldest) / 1000 : 0);
    inlet_journal_acked(f->j, f->acked_seq, f->ack_n, f->ack_bytes, oldest);
    f->ack_n = f->ack_bytes = 0;
}

/* After a failure, once nothing is in flight: read again from the first unacknowledged. */
static void do_rewind(inlet_forwarder *f)
{
    fwd_entry *e = &f->ring[f->head];
    if (f->rd_open && f->rd.first_seq != e->seg) {
        inlet_seg_reader_close(&f->rd);
        f->rd_open = 0;
    }
    f->read_seq = e->seq;
    if (!f->rd_open && inlet_seg_reader_open(&f->rd, inlet_journal_dirfd(f->j), e->seg) == 0)
        f->rd_open = 1;
    if (f->rd_open)
        unread(f, e->off, e->seq);
    f->count = 0;
    f->rewind = 0;
    f->backoff_until_us = spool_mono_us() + 500000;
}

static void expire(inlet_forwarder *f, uint64_t seq, int64_t ts)
{
    inlet_metric_add(f->m->expired, 1);
    f->expired_since_log++;
    int64_t now = spool_mono_us();
    if (now - f->last_expire_log_us > 10000000) {
        inlet_logf(INLET_LOG_ERROR, "spool",
                   "dropped %" PRIu64 " spooled events older than spool.max_age unforwarded "
                   "(spool.on_max_age: drop; the latest: #%" PRIu64 ", spooled %lld s ago)",
                   f->expired_since_log, seq, (long long)((spool_wall_us() - ts) / 1000000));
        f->expired_since_log = 0;
        f->last_expire_log_us = now;
    }
}

#define BATCH_SLOTS 256

/* Records produced into one submission (one completion for all of them). */
typedef struct fwd_batch {
    inlet_submission *sub;
    size_t first_pos, k;
} fwd_batch;

static void batch_finish(inlet_forwarder *f, fwd_batch *b)
{
    (void)f;
    if (!b->sub)
        return;
    if (b->k == 0) {
        inlet_submission_abort(b->sub);
    } else {
        b->sub->opaque = batch_opaque(b->first_pos, b->k);
        inlet_submission_put(b->sub, BATCH_SLOTS - b->k + 1); /* unused slots and the guard */
    }
    b->sub = NULL;
    b->k = 0;
}

/* Produce one record into the batch; 0, 1 (refused for good by the producer itself: kept in
 * rejected/, nothing produced), or -1 (nothing produced, the record is unread). */
static int produce_one(inlet_forwarder *f, fwd_batch *b, const inlet_spool_record *rec,
                       uint64_t seq, off_t off)
{
    char topic[256];
    size_t tl = rec->topic_len < sizeof(topic) ? rec->topic_len : sizeof(topic) - 1;
    memcpy(topic, rec->topic, tl); /* longer cannot happen: topics are checked upstream */
    topic[tl] = '\0';
    rd_kafka_topic_t *rkt = inlet_producer_topic(f->p, topic);
    if (!rkt || inlet_producer_reserve(f->p, 1, rec->value_len) != 0) {
        unread(f, off, seq);
        f->backoff_until_us = spool_mono_us() + 20000;
        return -1;
    }
    if (!b->sub) {
        b->sub = inlet_submission_new(f->q, NULL, BATCH_SLOTS);
        b->first_pos = (f->head + f->count) % f->cap;
        b->k = 0;
    }
    rd_kafka_headers_t *h = b->sub ? rd_kafka_headers_new(rec->n_headers) : NULL;
    if (!h) {
        inlet_producer_unreserve(f->p, 1, rec->value_len);
        unread(f, off, seq);
        f->backoff_until_us = spool_mono_us() + 100000;
        return -1;
    }
    inlet_slot *slot = &b->sub->slots[b->k];
    inlet_spool_header_iter it;
    inlet_spool_header hd;
    inlet_spool_header_iter_init(&it, rec);
    while (inlet_spool_header_next(&it, &hd)) {
        rd_kafka_header_add(h, hd.name, (ssize_t)hd.name_len, hd.value,
                            hd.value ? (ssize_t)hd.value_len : 0);
        if (hd.name_len == 14 && memcmp(hd.name, "inlet-event-id", 14) == 0 && hd.value)
            snprintf(slot->event_id, sizeof(slot->event_id), "%.*s", (int)hd.value_len, hd.value);
    }
    rd_kafka_resp_err_t e = inlet_producer_send_to(f->p, rkt, rec->key, rec->key_len, rec->value,
                                                   rec->value_len, h, slot);
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        /* over the producer's own message.max.bytes: it never fits, whatever the batch */
        rd_kafka_headers_destroy(h);
        inlet_producer_unreserve(f->p, 1, rec->value_len);
        reject(f, seq, rec, "larger than the producer's message.max.bytes");
        return 1;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(h);
        inlet_producer_unreserve(f->p, 1, rec->value_len);
        unread(f, off, seq);
        f->backoff_until_us = spool_mono_us() + 50000;
        return -1;
    }
    b->k++;
    return 0;
}

/* Produce what is durable and fits in flight; returns the number handed to the producer. */
static size_t produce_some(inlet_forwarder *f)
{
    size_t n = 0;
    uint64_t durable = inlet_journal_durable(f->j);
    int ready = inlet_producer_ready(f->p);
    fwd_batch b = {NULL, 0, 0};
    while (!f->rewind && f->count < f->cap && f->read_seq < durable && n < 4 * BATCH_SLOTS) {
        inlet_spool_record rec;
        off_t off;
        size_t len, pos;
        uint64_t seg;
        if (!read_next(f, &rec, &off, &len, &seg))
            break;
        uint64_t seq = f->rd.seq - 1;
        f->next_ts = rec.spooled_at_us;
        if (f->s.max_age_ms > 0 && f->s.on_max_age == INLET_SPOOL_AGE_DROP &&
            spool_wall_us() - rec.spooled_at_us > f->s.max_age_ms * 1000) {
            batch_finish(f, &b); /* a batch's records are contiguous in the ring */
            push(f, seq, rec.spooled_at_us, len, seg, off, ENTRY_OK, &pos);
            f->read_seq = seq + 1;
            expire(f, seq, rec.spooled_at_us);
            continue;
        }
        int single = seq < f->single_until;
        if (!ready || (single && (f->outstanding > 0 || n > 0))) {
            unread(f, off, seq); /* peeked only, for the age of the oldest */
            break;
        }
        if (single) {
            batch_finish(f, &b); /* alone in its submission and in flight */
            f->lone_copy.len = 0;
            inlet_buf_append(&f->lone_copy, f->rd.buf + (off - f->rd.buf_off), len);
            if (seq != f->lone_seq)
                f->lone_refusals = 0;
            f->lone_seq = seq;
        }
        int rc = produce_one(f, &b, &rec, seq, off);
        if (rc == 1) {
            batch_finish(f, &b);
            push(f, seq, rec.spooled_at_us, len, seg, off, ENTRY_OK, &pos);
            f->read_seq = seq + 1;
            continue;
        }
        if (rc != 0)
            break;
        push(f, seq, rec.spooled_at_us, len, seg, off, ENTRY_INFLIGHT, &pos);
        f->outstanding++;
        f->read_seq = seq + 1;
        if (seq < f->high_water)
            inlet_metric_add(f->m->replayed, 1);
        else
            f->high_water = seq + 1;
        n++;
        if (b.k == BATCH_SLOTS || single)
            batch_finish(f, &b);
        if (single)
            break;
    }
    batch_finish(f, &b);
    return n;
}

static void *forwarder_main(void *arg)
{
    inlet_forwarder *f = arg;
    struct pollfd pfd[2] = {{.fd = inlet_queue_fd(f->q), .events = POLLIN},
                            {.fd = inlet_journal_wake_fd(f->j), .events = POLLIN}};
    while (!atomic_load(&f->stop)) {
        inlet_queue_drain(f->q, on_completion, f, 0);
        advance(f);
        if (f->rewind && f->outstanding == 0)
            do_rewind(f);
        size_t produced = 0;
        if (spool_mono_us() >= f->backoff_until_us)
            produced = produce_some(f);
        advance(f);
        report(f, 0);
        int timeout = produced ? 0 : 100;
        if (f->backoff_until_us > spool_mono_us())
            timeout = (int)((f->backoff_until_us - spool_mono_us()) / 1000) + 1;
        if (timeout > 0 && poll(pfd, 2, timeout) > 0 && (pfd[1].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(pfd[1].fd, &v, sizeof(v));
            (void)r;
        }
    }
    return NULL;
}

int inlet_forwarder_start(inlet_forwarder *f, char *err, size_t err_len)
{
    if (pthread_create(&f->thread, NULL, forwarder_main, f) != 0) {
        snprintf(err, err_len, "cannot start the spool forwarder thread");
        return -1;
    }
    f->started = 1;
    return 0;
}

void inlet_forwarder_stop(inlet_forwarder *f)
{
    if (!f || !f->started)
        return;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    f->started = 0;
}

void inlet_forwarder_free(inlet_forwarder *f)
{
    if (!f)
        return;
    inlet_forwarder_stop(f);
    inlet_queue_drain(f->q, on_completion, f, 0);
    advance(f);
    if (f->outstanding)
        inlet_logf(INLET_LOG_INFO, "spool",
                   "%zu spooled events were still in flight; they stay in the spool and are "
                   "produced again at the next start",
                   f->outstanding);
    report(f, 1);
    /* The producer is gone: no report can come any more. */
    inlet_queue_free(f->q);
    if (f->rd_open)
        inlet_seg_reader_close(&f->rd);
    inlet_spool_rejected_close(&f->rejected);
    inlet_buf_free(&f->lone_copy);
    free(f->ring);
    free(f);
}
