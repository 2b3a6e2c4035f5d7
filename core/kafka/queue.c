/* queue.c - see queue.h. */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "delivery_outcome.h"
#include "log.h"
#include "metrics.h"
#include "module_ctx.h"

struct inlet_queue {
    pthread_mutex_t mu;
    int efd;
    inlet_submission *head, *tail; /* completed, oldest first */
    atomic_size_t pending;         /* submitted and not yet drained */
    inlet_module_ctx *mod;
    uint32_t abi_minor;     /* the module's: INLET_E_POSSIBLY_PERSISTED only from 1.5 */
    inlet_metric *m_ack_us; /* submit -> completion delivered, the device's wait */
};

/* Seconds; covers a healthy ack (milliseconds) up to a delivery timeout after a failover. */
static const double ack_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,    1,     2.5,  5,     10,   30};

const double *inlet_ack_latency_buckets(size_t *n)
{
    *n = sizeof(ack_buckets) / sizeof(ack_buckets[0]);
    return ack_buckets;
}

int64_t inlet_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

inlet_queue *inlet_queue_new(inlet_module_ctx *mod, char *err, size_t err_len)
{
    inlet_queue *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    q->mod = mod;
    q->abi_minor = mod && mod->desc ? mod->desc->abi_minor : INLET_ABI_MINOR;
    size_t nb;
    const double *b = inlet_ack_latency_buckets(&nb);
    q->m_ack_us = inlet_metric_histogram(
        "inlet_device_ack_latency_seconds",
        "From submit to the completion handed to the module (the device's answer), any outcome.",
        NULL, b, nb);
    return q;
}

int inlet_queue_fd(inlet_queue *q)
{
    return q->efd;
}

size_t inlet_queue_pending(inlet_queue *q)
{
    return atomic_load(&q->pending);
}

void inlet_queue_free(inlet_queue *q)
{
    if (!q)
        return;
    if (atomic_load(&q->pending) != 0)
        inlet_log_error("completion queue freed with %zu submissions pending",
                        atomic_load(&q->pending));
    close(q->efd);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static void queue_push(inlet_queue *q, inlet_submission *sub)
{
    int was_empty;
    sub->next = NULL;
    pthread_mutex_lock(&q->mu);
    was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = sub;
    else
        q->head = sub;
    q->tail = sub;
    pthread_mutex_unlock(&q->mu);
    /* Only the empty -> non-empty transition needs a wake-up: drain() reads the eventfd before
     * it takes the list, so anything pushed after that read is either taken or signalled. */
    if (was_empty) {
        uint64_t one = 1;
        ssize_t rc = write(q->efd, &one, sizeof(one));
        (void)rc; /* EAGAIN means the counter is already non-zero: the loop will wake anyway */
    }
}

size_t inlet_queue_drain(inlet_queue *q, inlet_completion_fn fn, void *ctx, size_t max)
{
    uint64_t counter;
    ssize_t rc = read(q->efd, &counter, sizeof(counter));
    (void)rc;

    pthread_mutex_lock(&q->mu);
    inlet_submission *list = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);

    size_t ran = 0;
    inlet_event_result results_stack[16];
    while (list && (max == 0 || ran < max)) {
        inlet_submission *sub = list;
        list = sub->next;

        inlet_event_result *results = results_stack;
        if (sub->n_events > 16) {
            results = malloc(sub->n_events * sizeof(*results));
            if (!results)
                results = results_stack; /* degrade: report only what fits */
        }
        size_t n = results == results_stack && sub->n_events > 16 ? 16 : sub->n_events;
        inlet_status status = INLET_OK;
        for (size_t i = 0; i < n; i++) {
            results[i] = sub->slots[i].result;
            results[i].event_id = sub->slots[i].event_id;
            results[i].status = inlet_delivery_status_for_module(results[i].status, q->abi_minor);
        }
        for (size_t i = 0; i < sub->n_events; i++)
            if (sub->slots[i].result.status != INLET_OK)
                status =
                    inlet_delivery_status_for_module(sub->slots[i].result.status, q->abi_minor);

        inlet_completion c;
        memset(&c, 0, sizeof(c));
        c.size = sizeof(c);
        c.opaque = sub->opaque;
        c.status = status;
        c.n_events = n;
        c.events = results;
        fn(ctx, &c);
        inlet_metric_observe_us(q->m_ack_us, inlet_monotonic_us() - sub->submitted_us);

        if (results != results_stack)
            free(results);
        free(sub);
        atomic_fetch_sub(&q->pending, 1);
        ran++;
    }

    if (list) { /* max reached: put the rest back in front and make sure we are woken again */
        inlet_submission *last = list;
        while (last->next)
            last = last->next;
        pthread_mutex_lock(&q->mu);
        last->next = q->head;
        q->head = list;
        if (!q->tail)
            q->tail = last;
        pthread_mutex_unlock(&q->mu);
        uint64_t one = 1;
        rc = write(q->efd, &one, sizeof(one));
        (void)rc;
    }
    return ran;
}

inlet_submission *inlet_submission_new(inlet_queue *q, void *opaque, size_t n)
{
    inlet_submission *sub = malloc(sizeof(*sub) + n * sizeof(inlet_slot));
    if (!sub)
        return NULL;
    sub->queue = q;
    sub->opaque = opaque;
    sub->n_events = n;
    sub->next = NULL;
    sub->submitted_us = inlet_monotonic_us();
    atomic_init(&sub->remaining, n + 1);
    for (size_t i = 0; i < n; i++) {
        inlet_slot *s = &sub->slots[i];
        s->sub = sub;
        s->event_id[0] = '\0';
        s->result.status = INLET_E_UNAVAILABLE;
        s->result.event_id = NULL;
        s->result.topic = NULL;
        s->result.partition = -1;
        s->result.offset = -1;
        s->result.error = "not produced";
    }
    atomic_fetch_add(&q->pending, 1);
    return sub;
}

void inlet_submission_put(inlet_submission *sub, size_t n)
{
    if (n == 0)
        return;
    if (atomic_fetch_sub(&sub->remaining, n) == n)
        queue_push(sub->queue, sub);
}

void inlet_submission_abort(inlet_submission *sub)
{
    atomic_fetch_sub(&sub->queue->pending, 1);
    free(sub);
}
