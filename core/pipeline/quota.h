/*
 * quota.h - per-tenant and per-device rate limits (events and body bytes per second, token
 * buckets) and connection quotas, as the tenant files declare them (limits, device_limits,
 * devices[].limits; docs/SECURITY.md).
 *
 * State (bucket fill, open connections) lives in a process-wide registry keyed by tenant and
 * device, so it survives reloads: connections opened before a SIGHUP are closed against the same
 * counter, and a bucket whose limits did not change keeps its fill. A bucket whose rate or burst
 * changed starts full at the new values. The limits themselves are read from the identity's
 * tenant set, which the router has refreshed to the current one.
 */
#ifndef INLET_QUOTA_H
#define INLET_QUOTA_H

#include <stddef.h>

#include "inlet/module.h"

/*
 * A submission of n_events events and n_bytes body bytes from id: take them from the device's
 * and the tenant's buckets, all or nothing. INLET_OK, or INLET_E_QUOTA with *rej (retry_after_s
 * set from the refill time), or INLET_E_TOO_LARGE when the batch exceeds a burst (no wait would
 * let it through). Counted in inlet_quota_refusals_total{tenant,limit,scope}.
 */
inlet_status inlet_quota_submit(const inlet_identity *id, size_t n_events, size_t n_bytes,
                                inlet_rejection **rej);

/* Give back what an INLET_OK inlet_quota_submit() took: the producer refused the events after
 * all (nothing was stored). */
void inlet_quota_refund(const inlet_identity *id, size_t n_events, size_t n_bytes);

/* One more connection or session for id's device and tenant: INLET_OK, or INLET_E_QUOTA with
 * the reason in msg (nothing counted then). Every INLET_OK is paired with one close. */
inlet_status inlet_quota_connection_open(const inlet_identity *id, char *msg, size_t msg_len);
void inlet_quota_connection_close(const inlet_identity *id);

/* One record of tenant's dead-letter budget (rate per second, burst = rate): 1 if taken, 0 if
 * the budget is spent. Kept in the same registry, so it survives reloads too. */
int inlet_quota_dead_letter_take(const char *tenant, int64_t rate);

/* Free the registry (at exit, when no module runs). */
void inlet_quota_fini(void);

#endif
