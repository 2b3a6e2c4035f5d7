/*
 * refusals.h - every refusal, wherever it was decided (submit() in the core, or a module through
 * host->refusal()): logged at info, rate-limited per tenant and reason, counted per module,
 * tenant, schema and reason, and kept in a ring of the most recent ones that the admin listener
 * serves as JSON (/refusals) and the console shows.
 */
#ifndef INLET_REFUSALS_H
#define INLET_REFUSALS_H

#include <stddef.h>
#include <stdint.h>

#include "inlet/module.h"

/* One refusal. Every string is borrowed (copied by inlet_refusal_record) and may be NULL. */
typedef struct inlet_refusal {
    const char *module;   /* module instance, e.g. "http", "mqtt-tls" */
    const char *protocol; /* inlet_request.source: "http", "mqtt", ... */
    inlet_status status;
    const char *peer; /* "ip:port" */
    const char *tenant;
    const char *device;
    const char *schema;  /* "name@version" of a loaded schema */
    const char *pointer; /* JSON pointer of the first event error */
    const char *detail;  /* why: the ACL rule's reason, the validation message, ... */
} inlet_refusal;

/* keep: refusals kept for /refusals (0 = none); burst: log lines per tenant and reason in each
 * window_s seconds before the rest are only counted and summarized. Call before modules start;
 * calling again (reload) resizes the ring, dropping what it held. */
void inlet_refusals_configure(size_t keep, unsigned burst, unsigned window_s);
void inlet_refusal_record(const inlet_refusal *r);
/* A refusal from submit(): the request as the module made it and the rejection (may be NULL). */
void inlet_refusal_from_submit(inlet_module_ctx *mod, const inlet_request *req, inlet_status st,
                               const inlet_rejection *rej);
/* {"refusals":[newest first ...], "total":N, "kept":K}; malloc'd, the caller frees it. */
char *inlet_refusals_render_json(size_t *len);
/* Free the ring (at exit). */
void inlet_refusals_shutdown(void);

#endif
