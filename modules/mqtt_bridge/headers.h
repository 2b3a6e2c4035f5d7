/*
 * headers.h - the Kafka headers of one bridged message: mqtt-topic, then its MQTT 5 user
 * properties in order (names reserved for the core's and the bridge's own headers are dropped),
 * and the event id property if the upstream names one. Pure code over Paho's message struct.
 */
#ifndef INLET_MQTT_BRIDGE_HEADERS_H
#define INLET_MQTT_BRIDGE_HEADERS_H

#include <stddef.h>

#include <MQTTAsync.h>

#include "bridge.h"

#define BRIDGE_MAX_HEADERS  32   /* user properties carried per message; more are dropped */
#define BRIDGE_HEADER_NAMES 4096 /* bytes for their NUL-terminated names */
#define BRIDGE_EVENT_ID_MAX 64   /* what the core accepts as an event id */

typedef struct bridge_headers {
    inlet_header h[BRIDGE_MAX_HEADERS + 1];
    size_t n;
    char names[BRIDGE_HEADER_NAMES];
    size_t names_used;
    char event_id[BRIDGE_EVENT_ID_MAX + 1];
} bridge_headers;

/* Fill hd for msg, received on topic (topic_len bytes) from an upstream configured as cfg.
 * Header values point into msg and topic; names into hd. */
void bridge_headers_collect(const bridge_upstream_config *cfg, const char *topic, size_t topic_len,
                            const MQTTAsync_message *msg, bridge_headers *hd);

#endif
