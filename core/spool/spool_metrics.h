/* spool_metrics.h - the spool's Prometheus metrics, registered once at open. */
#ifndef INLET_SPOOL_METRICS_H
#define INLET_SPOOL_METRICS_H

#include "metrics.h"

typedef struct inlet_spool_metrics {
    inlet_metric *backlog_events, *backlog_bytes, *disk_bytes, *segments, *oldest_age_ms;
    inlet_metric *appended, *forwarded, *replayed, *forward_failed, *expired, *corrupt;
    inlet_metric *refused_full, *refused_age, *refused_io;
    inlet_metric *fsyncs, *fsync_us_total, *fsync_us_max, *fsync_batch_events;
    inlet_metric *truncated_bytes, *over_age;
    inlet_metric *rejected_kept, *rejected_dropped, *rejected_bytes;
} inlet_spool_metrics;

void inlet_spool_metrics_init(inlet_spool_metrics *m);
/* Record one fsync of us microseconds that covered n events. */
void inlet_spool_metrics_fsync(inlet_spool_metrics *m, int64_t us, size_t n);

#endif
