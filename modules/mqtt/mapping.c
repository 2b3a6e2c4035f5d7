/*
 * mapping.c - topic name -> (body form, schema, version), per tenant.
 *
 * A mapping is a topic pattern, matched level by level like an MQTT topic filter (MQTT 5.0
 * §4.7): a literal level, "+" (any one level), "#" (the rest, last level only), or one of the
 * placeholders {device}, {schema} and {version}, which match one non-empty level and capture it.
 * Mappings are tried in the order written; the first whose tenant (absent: every tenant) and
 * pattern match decides. A {device} level must name the authenticated device: a device can
 * publish only as itself. Topics starting with '$' never match a pattern whose first level is a
 * wildcard or a placeholder (MQTT 5.0 §4.7.2). Patterns are compiled and matched by the
 * modules' shared topic engine (../support/topic.c); this file says what the captures mean.
 *
 * Without configured mappings the defaults apply:
 *   devices/{device}/{schema}/{version}   the bare payload of one event of that schema
 *   devices/{device}/events               one event object, or a {"events": [...]} batch
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

/* The placeholders, in the order of a match's spans. */
enum { FIELD_DEVICE, FIELD_SCHEMA, FIELD_VERSION, FIELDS };
static const char *const field_names[FIELDS + 1] = {"device", "schema", "version", NULL};

/* Literal levels are names: no control characters (5.0 §1.5.4 SHOULD NOT, as for topics). */
static const inlet_support_topic_syntax topic_syntax = {
    .fields = field_names,
    .utf8_flags = INLET_SUPPORT_UTF8_STRICT,
    .dollar_rule = true,
};

struct mqtt_pattern {
    const char *tenant; /* NULL: every tenant (borrowed from the configuration) */
    int form;
    const char *content_type; /* borrowed from the configuration */
    const char *schema;       /* fixed values, borrowed from the configuration */
    const char *version;
    inlet_support_topic_pattern topic;
};

static const mqtt_mapping_config default_mappings[] = {
    {NULL, "devices/{device}/{schema}/{version}", MQTT_FORM_PAYLOAD, NULL, NULL, NULL},
    {NULL, "devices/{device}/events", MQTT_FORM_EVENTS, NULL, NULL, NULL},
};

static int pattern_compile(mqtt_pattern *p, const mqtt_mapping_config *c, char *err, size_t err_len)
{
    char why[250];

    memset(p, 0, sizeof(*p));
    p->tenant = c->tenant;
    p->form = c->form;
    p->schema = c->schema;
    p->version = c->version;
    p->content_type = c->content_type;
    if (c->tenant != NULL && c->tenant[0] == '\0') {
        snprintf(err, err_len, "tenant: must not be empty (leave it out for every tenant)");
        return -1;
    }
    if (inlet_support_topic_compile(&p->topic, c->topic, &topic_syntax, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "topic: %s", why);
        return -1;
    }
    bool has_schema = p->topic.fields & (1u << FIELD_SCHEMA);
    bool has_version = p->topic.fields & (1u << FIELD_VERSION);
    if (has_schema && p->schema != NULL) {
        snprintf(err, err_len, "schema: given twice, by {schema} and by the schema key");
        return -1;
    }
    if (has_version && p->version != NULL) {
        snprintf(err, err_len, "version: given twice, by {version} and by the version key");
        return -1;
    }
    if (p->form == MQTT_FORM_PAYLOAD &&
        (!(has_schema || p->schema) || !(has_version || p->version))) {
        snprintf(err, err_len,
                 "form payload needs the schema and its version, from {schema} and {version} "
                 "levels or from the schema and version keys");
        return -1;
    }
    return 0;
}

int mqtt_mappings_compile(mqtt_mappings *m, const inlet_section_list *cfg, char *err,
                          size_t err_len)
{
    const mqtt_mapping_config *items = cfg->items;
    size_t n = cfg->count;
    bool defaults = n == 0;

    if (defaults) {
        items = default_mappings;
        n = sizeof(default_mappings) / sizeof(default_mappings[0]);
    }
    memset(m, 0, sizeof(*m));
    m->patterns = calloc(n, sizeof(*m->patterns));
    if (m->patterns == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    m->count = n;
    for (size_t i = 0; i < n; i++) {
        char why[300];
        if (pattern_compile(&m->patterns[i], &items[i], why, sizeof(why)) != 0) {
            snprintf(err, err_len, "mappings[%zu].%s", i, why);
            mqtt_mappings_free(m);
            return -1;
        }
    }
    return 0;
}

void mqtt_mappings_free(mqtt_mappings *m)
{
    for (size_t i = 0; m->patterns != NULL && i < m->count; i++)
        inlet_support_topic_free(&m->patterns[i].topic);
    free(m->patterns);
    memset(m, 0, sizeof(*m));
}

inlet_status mqtt_mapping_route(const mqtt_mappings *m, const inlet_identity *id,
                                const uint8_t *topic, size_t topic_len, char *scratch,
                                mqtt_route *out)
{
    for (size_t i = 0; i < m->count; i++) {
        const mqtt_pattern *p = &m->patterns[i];
        inlet_support_topic_span caps[FIELDS];
        if (p->tenant != NULL && strcmp(p->tenant, id->tenant) != 0)
            continue;
        if (!inlet_support_topic_match(&p->topic, (const char *)topic, topic_len, caps))
            continue;
        const inlet_support_topic_span *dev = &caps[FIELD_DEVICE];
        if (dev->p != NULL &&
            (dev->len != strlen(id->device_id) || memcmp(dev->p, id->device_id, dev->len) != 0))
            return INLET_E_FORBIDDEN;

        out->form = p->form;
        out->schema = p->schema;
        out->version = p->version;
        out->content_type = p->content_type;
        /* the two captures fit in topic_len + 2 bytes: each is a level plus its NUL */
        char *w = scratch;
        if (caps[FIELD_SCHEMA].p != NULL) {
            memcpy(w, caps[FIELD_SCHEMA].p, caps[FIELD_SCHEMA].len);
            w[caps[FIELD_SCHEMA].len] = '\0';
            out->schema = w;
            w += caps[FIELD_SCHEMA].len + 1;
        }
        if (caps[FIELD_VERSION].p != NULL) {
            memcpy(w, caps[FIELD_VERSION].p, caps[FIELD_VERSION].len);
            w[caps[FIELD_VERSION].len] = '\0';
            out->version = w;
        }
        return INLET_OK;
    }
    return INLET_E_UNKNOWN_SCHEMA;
}
