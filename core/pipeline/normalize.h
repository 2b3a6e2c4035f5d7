/*
 * normalize.h - from a request body to canonical envelopes: decode the body in its format
 * (formats/), take each event apart, check its device against the authenticated identity,
 * find its schema, check the format and SenML units against it, ask the ACL, validate the
 * payload and write the envelope (envelope.h).
 *
 * All or nothing: if any event of a batch is refused, no envelope is returned and the rejection
 * lists every refused event (docs/ENVELOPE.md gives the reasons).
 */
#ifndef INLET_NORMALIZE_H
#define INLET_NORMALIZE_H

#include "formats/arena.h"
#include "inlet/module.h"
#include "pipeline/envelope.h"
#include "schema/schema.h"

typedef struct inlet_normalize_input {
    const inlet_request *req;
    const inlet_schemas *schemas;
    const char *topic_prefix; /* of the identity's tenant; "" for none */
    size_t max_events;        /* effective limit */
    int64_t received_at_us;
    /* Decoded values and topic names live here; the envelopes point into it, so the caller
     * resets it only after it is done with them. NULL: this thread's arena. */
    inlet_arena *arena;
    /* Called for every event refused by the ACL, for counting; may be NULL. */
    void (*on_acl_deny)(void *ctx, const inlet_identity *id, const char *schema);
    void *ctx;
} inlet_normalize_input;

/*
 * INLET_OK: *envs receives n_envs envelopes (free with inlet_envelopes_free). Otherwise *rej
 * receives the rejection (may be NULL on ENOMEM) and *envs is NULL.
 */
inlet_status inlet_normalize(const inlet_normalize_input *in, inlet_envelope **envs, size_t *n_envs,
                             inlet_rejection **rej);
void inlet_envelopes_free(inlet_envelope *envs, size_t n);

#endif
