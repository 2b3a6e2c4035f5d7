/* mapping.c - see mapping.h. */
#include "mapping.h"

#include <stdio.h>
#include <string.h>

/* Also the placeholder names, in the order of enum bridge_field. */
static const char *const field_names[BRIDGE_FIELDS + 1] = {"tenant", "device", "schema", "version",
                                                           NULL};

const char *bridge_field_name(int field)
{
    return field >= 0 && field < BRIDGE_FIELDS ? field_names[field] : "?";
}

/* Literal levels may hold any UTF-8 but NUL, and '$' topics are matched like any other: the
 * upstream broker has applied MQTT's rules to what it sends. */
static const inlet_support_topic_syntax syntax = {.fields = field_names};

int bridge_pattern_compile(const char *text, bridge_pattern *out, char *err, size_t err_len)
{
    if (text != NULL && strncmp(text, "$share/", 7) == 0) {
        memset(out, 0, sizeof(*out));
        snprintf(err, err_len,
                 "\"%.80s\": a pattern matches topics, not filters; set shared_group instead",
                 text);
        return -1;
    }
    if (inlet_support_topic_compile(out, text, &syntax, err, err_len) != 0)
        return -1;
    if (!(out->fields & (1u << BRIDGE_FIELD_DEVICE))) {
        snprintf(err, err_len, "\"%.80s\": needs a {device} level", text);
        bridge_pattern_free(out);
        return -1;
    }
    return 0;
}

bridge_route_status bridge_route_find(const bridge_mapping *maps, size_t n, const char *topic,
                                      size_t topic_len, bridge_route *out, char *why,
                                      size_t why_len)
{
    for (size_t i = 0; i < n; i++) {
        const bridge_mapping *m = &maps[i];
        inlet_support_topic_span spans[BRIDGE_FIELDS];
        if (!inlet_support_topic_match(&m->pattern, topic, topic_len, spans))
            continue;
        out->mapping = m;
        for (int f = 0; f < BRIDGE_FIELDS; f++) {
            const char *v = spans[f].p;
            size_t len = spans[f].len;
            if (!v && m->fixed[f]) {
                v = m->fixed[f];
                len = strlen(v);
            }
            if (len > BRIDGE_FIELD_MAX) {
                snprintf(why, why_len, "the %s level is longer than %d bytes", field_names[f],
                         BRIDGE_FIELD_MAX);
                return BRIDGE_ROUTE_BAD_FIELD;
            }
            if (len)
                memcpy(out->field[f], v, len);
            out->field[f][len] = '\0';
        }
        return BRIDGE_ROUTE_OK;
    }
    snprintf(why, why_len, "no mapping pattern matches the topic");
    return BRIDGE_ROUTE_NO_MATCH;
}
