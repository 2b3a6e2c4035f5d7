/*
 * event_fields.h - one event object taken apart: {"device_id", "ts", "use_case", "schema",
 * "event_id", "payload"}, checked against the authenticated identity. The same for every
 * format that has the event shape (JSON, CBOR); SenML and binary layouts carry a bare payload.
 */
#ifndef INLET_EVENT_FIELDS_H
#define INLET_EVENT_FIELDS_H

#include "formats/value.h"
#include "inlet/module.h"
#include "pipeline/rejection.h"

typedef struct inlet_event_parts {
    const char *schema_name; /* borrowed from the request or the decoded value */
    const char *schema_version;
    const char *event_id; /* NULL: generate one */
    size_t event_id_len;
    char ts[48]; /* normalized RFC 3339; "" = the time of receipt */
    const inlet_value *payload;
    const char *const *units; /* SenML: units[i] of payload member i (NULL entries), or NULL */
} inlet_event_parts;

/* Fill parts from the event object ev (index in the batch). Errors go to b; returns the
 * event's status. The request's schema and version are the fallback for use_case/schema. */
inlet_status inlet_event_fields_parse(const inlet_request *req, size_t index, const inlet_value *ev,
                                      inlet_event_parts *parts, inlet_rejection_builder *b);

#endif
