/*
 * limits.h - resolving a tenant's rate limits, connection quotas and dead-letter settings from
 * its tenant file into the runtime tenant and its devices. Private to identity/.
 */
#ifndef INLET_LIMITS_H
#define INLET_LIMITS_H

#include <stddef.h>

#include "tenant.h"
#include "tenant_runtime.h"

/* Fill t->limits, t->device_limits, each device's limits and the dead-letter settings from c;
 * t's device table is already built. Errors start with where. */
int inlet_limits_build(inlet_tenant *t, const inlet_tenant_conf *c, const char *where, char *err,
                       size_t err_len);

#endif
