/*
 * queue.h - completion queues: the way results travel from the Kafka delivery-report thread
 * back to the module thread that submitted the events. Each queue has an eventfd that becomes
 * readable when completions wait, so a module polls it from its own event loop.
 */
#ifndef INLET_QUEUE_H
#define INLET_QUEUE_H

#include <stdatomic.h>
#include <stddef.h>

#include "inlet/module.h"

/*
 * One submission in flight: n_events slots, one per Kafka message. The slot is the message's
 * opaque. remaining counts undelivered slots plus one guard held by the submitter, so the
 * completion cannot fire while submit() is still producing.
 */
typedef struct inlet_submission inlet_submission;

typedef struct inlet_slot {
    inlet_submission *sub;
    inlet_event_result result;
    char event_id[72];
} inlet_slot;

struct inlet_submission {
    inlet_queue *queue;
    void *opaque;
    atomic_size_t remaining;
    size_t n_events;
    int64_t submitted_us; /* inlet_monotonic_us() at submit, for the device ack histogram */
    struct inlet_submission *next; /* in the queue's completed list */
    inlet_slot slots[];
};

/* Allocate a submission of n slots, registered as pending on q. Never fails but on ENOMEM. */
inlet_submission *inlet_submission_new(inlet_queue *q, void *opaque, size_t n);
/* Release n references (slots that completed or will never be produced, or the guard). The
 * last one moves the submission to its queue. Safe from any thread. */
void inlet_submission_put(inlet_submission *sub, size_t n);
/* Drop a submission nothing was produced for: no completion is delivered. */
void inlet_submission_abort(inlet_submission *sub);

/* CLOCK_MONOTONIC in microseconds. */
int64_t inlet_monotonic_us(void);
/* The bucket bounds (seconds) of both acknowledgement-latency histograms. */
const double *inlet_ack_latency_buckets(size_t *n);

inlet_queue *inlet_queue_new(inlet_module_ctx *mod, char *err, size_t err_len);
int inlet_queue_fd(inlet_queue *q);
size_t inlet_queue_drain(inlet_queue *q, inlet_completion_fn fn, void *ctx, size_t max);
size_t inlet_queue_pending(inlet_queue *q);
void inlet_queue_free(inlet_queue *q);

#endif
