/* spool_metrics.c - see spool_metrics.h. */
#include "spool_metrics.h"

#include <stdio.h>

static inlet_metric *refused(const char *reason)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
    return inlet_metric_counter("inlet_spool_refused_total",
                                "Submissions the spool refused (503, retry later), by reason.",
                                labels);
}

static inlet_metric *rejected(const char *copy)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "copy=\"%s\"", copy);
    return inlet_metric_counter(
        "inlet_spool_rejected_total",
        "Spooled events Kafka refused for good (larger than the topic's max.message.bytes); "
        "copy=kept: written to rejected/ in spool.dir for replay, copy=dropped: lost "
        "(spool.rejected_max_bytes reached or a write error).",
        labels);
}

void inlet_spool_metrics_init(inlet_spool_metrics *m)
{
    m->backlog_events = inlet_metric_gauge("inlet_spool_backlog_events",
                                           "Spooled events Kafka has not acknowledged yet.", NULL);
    m->backlog_bytes =
        inlet_metric_gauge("inlet_spool_backlog_bytes",
                           "Journal bytes of the events Kafka has not acknowledged.", NULL);
    m->disk_bytes = inlet_metric_gauge(
        "inlet_spool_disk_bytes",
        "Bytes of the spool's segment files on disk (what spool.max_bytes bounds).", NULL);
    m->segments = inlet_metric_gauge("inlet_spool_segments", "Segment files in the spool.", NULL);
    m->oldest_age_ms = inlet_metric_gauge(
        "inlet_spool_oldest_event_age_milliseconds",
        "Age of the oldest spooled event Kafka has not acknowledged; 0 when none waits.", NULL);
    m->appended = inlet_metric_counter("inlet_spool_appended_total",
                                       "Events written and fsynced to the spool.", NULL);
    m->forwarded = inlet_metric_counter(
        "inlet_spool_forwarded_total",
        "Spooled events Kafka acknowledged (rate() of it is the forward rate).", NULL);
    m->replayed = inlet_metric_counter(
        "inlet_spool_reproduced_total",
        "Spooled events produced again after a failed delivery or a restart (possible "
        "duplicates downstream; event_id deduplicates).",
        NULL);
    m->forward_failed =
        inlet_metric_counter("inlet_spool_forward_failed_total",
                             "Deliveries of spooled events that failed and will be retried.", NULL);
    m->expired = inlet_metric_counter(
        "inlet_spool_expired_total",
        "Spooled events dropped unforwarded because they exceeded spool.max_age "
        "(only with spool.on_max_age: drop).",
        NULL);
    m->corrupt = inlet_metric_counter(
        "inlet_spool_corrupt_total", "Segments found damaged past their tail (disk errors).", NULL);
    m->refused_full = refused("full");
    m->refused_age = refused("max_age");
    m->refused_io = refused("io_error");
    m->fsyncs = inlet_metric_counter("inlet_spool_fsyncs_total",
                                     "fdatasync() calls of the spool's group commit.", NULL);
    m->fsync_us_total = inlet_metric_counter(
        "inlet_spool_fsync_microseconds_total",
        "Time spent in the spool's fdatasync() calls (divide by inlet_spool_fsyncs_total).", NULL);
    m->fsync_us_max = inlet_metric_gauge("inlet_spool_fsync_max_microseconds",
                                         "Longest spool fdatasync() since start.", NULL);
    m->fsync_batch_events = inlet_metric_counter(
        "inlet_spool_fsync_events_total",
        "Events covered by the spool's fsyncs (divide by fsyncs for the group size).", NULL);
    m->truncated_bytes =
        inlet_metric_counter("inlet_spool_truncated_bytes_total",
                             "Bytes of torn records cut from segment tails at recovery.", NULL);
    m->over_age = inlet_metric_gauge(
        "inlet_spool_over_max_age",
        "1 while the oldest unforwarded event is older than spool.max_age (new spooled "
        "events are refused with spool.on_max_age: refuse).",
        NULL);
    m->rejected_kept = rejected("kept");
    m->rejected_dropped = rejected("dropped");
    m->rejected_bytes = inlet_metric_gauge(
        "inlet_spool_rejected_bytes",
        "Bytes of the copies in rejected/ in spool.dir (what spool.rejected_max_bytes bounds).",
        NULL);
}

void inlet_spool_metrics_fsync(inlet_spool_metrics *m, int64_t us, size_t n)
{
    inlet_metric_add(m->fsyncs, 1);
    inlet_metric_add(m->fsync_us_total, us);
    inlet_metric_add(m->fsync_batch_events, (int64_t)n);
    if (us > inlet_metric_value(m->fsync_us_max))
        inlet_metric_set(m->fsync_us_max, us);
}
