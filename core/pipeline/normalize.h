/*
 * normalize.h - from a request body to canonical envelopes: parse the JSON, take each event
 * apart, check its device against the authenticated identity, find its schema, ask the ACL,
 * validate the payload and write the envelope
 *
 *   {"tenant", "device_id", "event_id", "ts", "received_at", "schema", "schema_version",
 *    "source", "payload"}
 *
 * All or nothing: if any event of a batch is refused, no envelope is returned and the rejection
 * lists every refused event (docs/ENVELOPE.md gives the reasons).
 */
#ifndef INLET_NORMALIZE_H
#define INLET_NORMALIZE_H

#include "inlet/module.h"
#include "schema/schema.h"

typedef struct inlet_envelope {
    char *value; /* the envelope JSON, malloc'd; ownership passes to whoever produces it */
    size_t value_len;
    char *key; /* the Kafka key (the device id unless the schema says otherwise), malloc'd */
    size_t key_len;
    char topic[256]; /* tenant topic_prefix + the schema's topic */
    char event_id[72];
    const inlet_schema *schema; /* borrowed from the registry the caller holds */
} inlet_envelope;

typedef struct inlet_normalize_input {
    const inlet_request *req;
    const inlet_schemas *schemas;
    const char *topic_prefix; /* of the identity's tenant; "" for none */
    size_t max_events;        /* effective limit */
    int64_t received_at_us;
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
