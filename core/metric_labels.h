/*
 * metric_labels.h - counters labelled per module instance, tenant and schema (the bounded label
 * sets: instances, tenants and schemas are all declared in the configuration; a value a device
 * chose never becomes a label). Handles are cached in a hash table so the event path does one
 * lookup per batch, not a scan of the registry.
 */
#ifndef INLET_METRIC_LABELS_H
#define INLET_METRIC_LABELS_H

#include <stddef.h>

#include "inlet/module.h"
#include "pipeline/normalize.h"

/* The counter name{labels}, registered on first use; labels are name="value" pairs built from
 * keys and values (values escaped; NULL counts as ""). NULL on ENOMEM. */
inlet_metric *inlet_metric_labelled(const char *name, const char *help, const char *const *keys,
                                    const char *const *values, size_t n);
/* The same as a gauge when gauge is 1. */
inlet_metric *inlet_metric_labelled_kind(const char *name, const char *help,
                                         const char *const *keys, const char *const *values,
                                         size_t n, int gauge);
/* inlet_tenant_events_accepted_total{module,tenant,schema} += the events produced. */
void inlet_metric_labels_accepted(inlet_module_ctx *mod, const inlet_identity *id,
                                  const inlet_envelope *envs, size_t n);
void inlet_metric_labels_shutdown(void);

#endif
