/*
 * token_bucket.h - a lock-free token bucket: rate tokens per second, at most burst of them.
 *
 * Kept as the generic cell rate algorithm (GCRA): one atomic "theoretical arrival time" (tat)
 * in nanoseconds of a monotonic clock. Each token costs 1e9/rate ns; taking n tokens at time now
 * moves tat to max(tat, now) + n*cost, and is allowed while tat - now stays within burst*cost,
 * i.e. while the bucket still holds n tokens. One compare-and-swap per take, no lock, no refill
 * timer; a full bucket is tat <= now (tat = 0 at start).
 */
#ifndef INLET_TOKEN_BUCKET_H
#define INLET_TOKEN_BUCKET_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct inlet_token_bucket {
    _Atomic int64_t tat; /* ns, CLOCK_MONOTONIC; 0 = full */
} inlet_token_bucket;

typedef enum {
    INLET_BUCKET_OK = 0,
    INLET_BUCKET_EMPTY = 1, /* not enough tokens now: *wait_ns until there will be */
    INLET_BUCKET_NEVER = 2, /* n exceeds burst: no wait would do */
} inlet_bucket_result;

/* Take n tokens at now_ns from a bucket of rate (> 0) tokens per second holding at most burst
 * (>= 1). On EMPTY, *wait_ns is how long until n tokens are there. */
inlet_bucket_result inlet_bucket_take(inlet_token_bucket *b, int64_t rate, int64_t burst, int64_t n,
                                      int64_t now_ns, int64_t *wait_ns);
/* Give back n tokens taken by a successful take (another bucket of the same request refused). */
void inlet_bucket_refund(inlet_token_bucket *b, int64_t rate, int64_t n);
/* Make the bucket full again (its limits changed). */
void inlet_bucket_reset(inlet_token_bucket *b);
/* CLOCK_MONOTONIC in ns (never 0). */
int64_t inlet_bucket_now_ns(void);

#endif
