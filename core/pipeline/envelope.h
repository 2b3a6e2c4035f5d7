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

#include "buf.h"
#include "formats/arena.h"
#include "formats/value.h"
#include "inlet/module.h"
#include "schema/schema.h"

typedef struct inlet_envelope {
    /* The envelope JSON, NUL-terminated, in the submission's arena (the producer copies it);
     * the key follows in the same block, after the JSON's NUL. */
    const char *value;
    size_t value_len;
    const char *key;
    size_t key_len;
    const char *topic; /* tenant topic_prefix + the schema's topic; arena or schema-owned */
    char event_id[72];
    const inlet_schema *schema; /* borrowed from the registry the caller holds */
} inlet_envelope;

/*
 * The parts of an envelope that are the same for every event of a request and schema, written
 * once (JSON-escaped) into the request's arena:
 *   head = {"tenant":"…","device_id":"…","event_id":"
 *   mid  = ","received_at":"…","schema":"…","schema_version":"…","source":"…","payload":
 * so that an event adds only its event id, its ts and its payload.
 */
typedef struct inlet_envelope_frame {
    const inlet_schema *schema;
    const char *head, *mid;
    size_t head_len, mid_len;
} inlet_envelope_frame;

/* -1 on ENOMEM. */
int inlet_envelope_frame_build(inlet_arena *a, inlet_envelope_frame *f, const inlet_identity *id,
                               const inlet_schema *schema, const char *received,
                               const char *source);

/* Write env->value and env->key into arena a, through scratch (a buffer the caller reuses for
 * every event of a submission and frees at the end). event_id ([A-Za-z0-9._:-]) and ts (RFC
 * 3339 as rfc3339.c writes it) need no escaping. -1 on ENOMEM. */
int inlet_envelope_write(inlet_envelope *env, inlet_arena *a, inlet_buf *scratch,
                         const inlet_envelope_frame *f, const inlet_identity *id, const char *ts,
                         const inlet_value *payload);

#endif
