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
void inlet_metric_add(inlet_metric *m, int64_t delta);
void inlet_metric_set(inlet_metric *m, int64_t value);
int64_t inlet_metric_value(const inlet_metric *m);
/* malloc'd exposition text; *len receives its length. */
char *inlet_metrics_render(size_t *len);
/* Free every metric (at exit). */
void inlet_metrics_shutdown(void);

#endif
