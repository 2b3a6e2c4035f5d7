/* token_bucket.c - see token_bucket.h. */
#include "token_bucket.h"

#include <stdint.h>
#include <time.h>

/* ns per token; rates above 1e9/s cost 1 ns (then burst, not rate, is what bounds). */
static int64_t cost_ns(int64_t rate)
{
    int64_t c = 1000000000LL / rate;
    return c > 0 ? c : 1;
}

inlet_bucket_result inlet_bucket_take(inlet_token_bucket *b, int64_t rate, int64_t burst, int64_t n,
                                      int64_t now_ns, int64_t *wait_ns)
{
    int64_t cost = cost_ns(rate);
    *wait_ns = 0;
    if (n > burst)
        return INLET_BUCKET_NEVER;
    /* burst * cost can pass INT64_MAX (1e12 tokens of 1 s each): saturate well below it */
    int64_t sat = INT64_MAX / 4 / cost;
    int64_t cap = burst <= sat ? burst * cost : INT64_MAX / 4;
    int64_t inc = n <= sat ? n * cost : cap;
    int64_t old = atomic_load_explicit(&b->tat, memory_order_relaxed);
    for (;;) {
        int64_t base = old > now_ns ? old : now_ns;
        int64_t next = base + inc;
        if (next - now_ns > cap) {
            *wait_ns = next - now_ns - cap;
            return INLET_BUCKET_EMPTY;
        }
        if (atomic_compare_exchange_weak_explicit(&b->tat, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return INLET_BUCKET_OK;
    }
}

void inlet_bucket_refund(inlet_token_bucket *b, int64_t rate, int64_t n)
{
    atomic_fetch_sub_explicit(&b->tat, n * cost_ns(rate), memory_order_relaxed);
}

void inlet_bucket_reset(inlet_token_bucket *b)
{
    atomic_store_explicit(&b->tat, 0, memory_order_relaxed);
}

int64_t inlet_bucket_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + 1;
}
