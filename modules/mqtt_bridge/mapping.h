/*
 * mapping.h - topic patterns of the MQTT bridge. A pattern such as
 * "fleet/{tenant}/{device}/position" decides the tenant, device, schema and version of every
 * message whose topic it matches, and implies the subscription filter ("fleet/+/+/position") that
 * selects those messages.
 *
 * Pure code: no Paho, no core. Internal to the module, not part of any ABI.
 */
#ifndef INLET_MQTT_BRIDGE_MAPPING_H
#define INLET_MQTT_BRIDGE_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

#include "../support/topic.h"

/* What a placeholder names. */
enum bridge_field {
    BRIDGE_FIELD_TENANT = 0,
    BRIDGE_FIELD_DEVICE,
    BRIDGE_FIELD_SCHEMA,
    BRIDGE_FIELD_VERSION,
    BRIDGE_FIELDS
};

/* Longest value a topic level may give a field (a device id, a tenant name, ...). */
#define BRIDGE_FIELD_MAX 128

/* How a message's payload becomes events (inlet_body_form). */
enum bridge_format {
    BRIDGE_FORMAT_PAYLOAD = 0, /* the payload is the event's payload; schema from the mapping */
    BRIDGE_FORMAT_EVENT,       /* one event object {"ts", "event_id", "payload", ...} */
    BRIDGE_FORMAT_BATCH,       /* {"events": [...]} as POSTed over HTTP */
};

/* A compiled pattern; matched by the modules' shared topic engine (../support/topic.h). */
typedef inlet_support_topic_pattern bridge_pattern;

/*
 * Parse text. Placeholders must be whole levels and appear at most once; '#' only last; levels
 * may not be empty except as in MQTT (a leading or trailing '/'); {device} is needed. On error
 * err says what.
 */
int bridge_pattern_compile(const char *text, bridge_pattern *out, char *err, size_t err_len);

static inline void bridge_pattern_free(bridge_pattern *p)
{
    inlet_support_topic_free(p);
}

/* The filter that subscribes to what p matches: placeholders become '+'. 0 if buf is too small. */
static inline size_t bridge_pattern_filter(const bridge_pattern *p, char *buf, size_t buf_len)
{
    return inlet_support_topic_filter(p, buf, buf_len);
}

/* A topic filter as MQTT 3.1.1 / 5.0 §4.7.1 define it ('+' and '#' whole levels, '#' last). */
static inline int bridge_filter_check(const char *filter, char *err, size_t err_len)
{
    return inlet_support_topic_filter_check(filter, err, err_len);
}

/* One configured mapping: a pattern plus the values the topic does not give. */
typedef struct bridge_mapping {
    bridge_pattern pattern;
    const char *fixed[BRIDGE_FIELDS]; /* borrowed from the configuration; NULL = from the topic */
    int format;                       /* enum bridge_format */
} bridge_mapping;

/* Where a message goes. Fields are NUL-terminated; "" when neither topic nor config gives one
 * (only schema and version, and only for the event and batch formats, which carry their own). */
typedef struct bridge_route {
    const bridge_mapping *mapping;
    char field[BRIDGE_FIELDS][BRIDGE_FIELD_MAX + 1];
} bridge_route;

typedef enum bridge_route_status {
    BRIDGE_ROUTE_OK = 0,
    BRIDGE_ROUTE_NO_MATCH,  /* no pattern matches the topic */
    BRIDGE_ROUTE_BAD_FIELD, /* a pattern matched but a level is empty or too long */
} bridge_route_status;

/* The first mapping whose pattern matches topic (topic_len bytes, no NUL) fills out. */
bridge_route_status bridge_route_find(const bridge_mapping *maps, size_t n, const char *topic,
                                      size_t topic_len, bridge_route *out, char *why,
                                      size_t why_len);

const char *bridge_field_name(int field);

#endif
