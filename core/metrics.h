/* metrics.h - process-wide counters and gauges rendered in the Prometheus text format. A handle
 * is created once (registration takes a lock) and then updated with a relaxed atomic add. */
#ifndef INLET_METRICS_H
#define INLET_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "inlet/module.h"

/* Returns the existing handle when name and labels were registered before; NULL on ENOMEM or
 * when name is not a valid Prometheus metric name. */
inlet_metric *inlet_metric_counter(const char *name, const char *help, const char *labels);
inlet_metric *inlet_metric_gauge(const char *name, const char *help, const char *labels);
/* A Prometheus histogram of durations: bounds are the buckets' upper bounds in seconds, strictly
 * ascending (copied); a +Inf bucket is added. Observing is a scan of the bounds and two relaxed
 * atomic adds, no lock, for hot paths. NULL on ENOMEM, a bad name or unsorted bounds. */
inlet_metric *inlet_metric_histogram(const char *name, const char *help, const char *labels,
                                     const double *bounds, size_t n_bounds);
void inlet_metric_observe_us(inlet_metric *m, int64_t us);
/* Observations so far (the +Inf bucket's cumulative count). */
int64_t inlet_metric_histogram_count(const inlet_metric *m);
void inlet_metric_add(inlet_metric *m, int64_t delta);
void inlet_metric_set(inlet_metric *m, int64_t value);
int64_t inlet_metric_value(const inlet_metric *m);
/* malloc'd exposition text; *len receives its length. */
char *inlet_metrics_render(size_t *len);
/* Free every metric (at exit). */
void inlet_metrics_shutdown(void);

#endif
