/* spool_clock.h - the two clocks of the spool, in microseconds: the wall clock for the ages
 * stored in records (they survive a restart), the monotonic one for intervals. */
#ifndef INLET_SPOOL_CLOCK_H
#define INLET_SPOOL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t inlet_spool_clock_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline int64_t spool_wall_us(void)
{
    return inlet_spool_clock_us(CLOCK_REALTIME);
}

static inline int64_t spool_mono_us(void)
{
    return inlet_spool_clock_us(CLOCK_MONOTONIC);
}

#endif
