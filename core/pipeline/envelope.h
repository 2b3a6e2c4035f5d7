/*
 * envelope.h - the canonical envelope one event becomes, whatever format it came in:
 *
 *   {"tenant", "device_id", "event_id", "ts", "received_at", "schema", "schema_version",
 *    "source", "payload"}
 *
 * and its Kafka key (the device id, or the value the schema's x-inlet-key points at).
 */
#ifndef INLET_ENVELOPE_H
#define INLET_ENVELOPE_H

#include <stddef.h>

#include "formats/value.h"
#include "inlet/module.h"
#include "schema/schema.h"

typedef struct inlet_envelope {
    /* The envelope JSON, malloc'd, NUL-terminated; ownership passes to whoever produces it.
     * The key is stored in the same allocation, after the JSON's NUL. */
    char *value;
    size_t value_len;
    const char *key; /* inside value's allocation: valid while value is */
    size_t key_len;
    const char *topic; /* tenant topic_prefix + the schema's topic; arena or schema-owned */
    char event_id[72];
    const inlet_schema *schema; /* borrowed from the registry the caller holds */
} inlet_envelope;

typedef struct inlet_envelope_fields {
    const inlet_identity *id;
    const char *event_id;
    const char *ts;       /* RFC 3339 */
    const char *received; /* RFC 3339 */
    const char *source;
    const inlet_value *payload;
} inlet_envelope_fields;

/* Write env->value and env->key. -1 on ENOMEM. */
int inlet_envelope_write(inlet_envelope *env, const inlet_schema *schema,
                         const inlet_envelope_fields *f);

#endif
