/*
 * mapping.c - topic name -> (body form, schema, version), per tenant.
 *
 * A mapping is a topic pattern, matched level by level like an MQTT topic filter (MQTT 5.0
 * §4.7): a literal level, "+" (any one level), "#" (the rest, last level only), or one of the
 * placeholders {device}, {schema} and {version}, which match one non-empty level and capture it.
 * Mappings are tried in the order written; the first whose tenant (absent: every tenant) and
 * pattern match decides. A {device} level must name the authenticated device: a device can
 * publish only as itself. Topics starting with '$' never match a pattern whose first level is a
 * wildcard or a placeholder (MQTT 5.0 §4.7.2).
 *
 * Without configured mappings the defaults apply:
 *   devices/{device}/{schema}/{version}   the bare payload of one event of that schema
 *   devices/{device}/events               one event object, or a {"events": [...]} batch
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

enum level_kind {
    LEVEL_LITERAL,
    LEVEL_PLUS,
    LEVEL_HASH,
    LEVEL_DEVICE,
    LEVEL_SCHEMA,
    LEVEL_VERSION
};

typedef struct mqtt_level {
    uint8_t kind;
    uint16_t len;
    char *text; /* LEVEL_LITERAL */
} mqtt_level;

struct mqtt_pattern {
    const char *tenant; /* NULL: every tenant (borrowed from the configuration) */
    int form;
    const char *schema; /* fixed values, borrowed from the configuration */
    const char *version;
    mqtt_level *levels;
    size_t n_levels;
};

static const mqtt_mapping_config default_mappings[] = {
    {NULL, "devices/{device}/{schema}/{version}", MQTT_FORM_PAYLOAD, NULL, NULL},
    {NULL, "devices/{device}/events", MQTT_FORM_EVENTS, NULL, NULL},
};

static int level_parse(mqtt_level *lv, const char *s, size_t len, bool last, char *err,
                       size_t err_len)
{
    static const struct {
        const char *name;
        enum level_kind kind;
    } placeholders[] = {
        {"{device}", LEVEL_DEVICE}, {"{schema}", LEVEL_SCHEMA}, {"{version}", LEVEL_VERSION}};

    memset(lv, 0, sizeof(*lv));
    if (len == 1 && s[0] == '+') {
        lv->kind = LEVEL_PLUS;
        return 0;
    }
    if (len == 1 && s[0] == '#') {
        if (!last) {
            snprintf(err, err_len, "\"#\" must be the last level");
            return -1;
        }
        lv->kind = LEVEL_HASH;
        return 0;
    }
    for (size_t i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++) {
        if (len == strlen(placeholders[i].name) && memcmp(s, placeholders[i].name, len) == 0) {
            lv->kind = (uint8_t)placeholders[i].kind;
            return 0;
        }
    }
    if (memchr(s, '+', len) || memchr(s, '#', len) || memchr(s, '{', len) || memchr(s, '}', len)) {
        snprintf(err, err_len,
                 "level \"%.*s\": wildcards and placeholders ({device}, {schema}, {version}) "
                 "must be whole levels",
                 (int)len, s);
        return -1;
    }
    if (!mqtt_utf8_valid((const uint8_t *)s, len, MQTT_UTF8_STRICT)) {
        snprintf(err, err_len, "level \"%.*s\" is not a valid topic level", (int)len, s);
        return -1;
    }
    lv->kind = LEVEL_LITERAL;
    lv->len = (uint16_t)len;
    lv->text = malloc(len + 1);
    if (lv->text == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(lv->text, s, len);
    lv->text[len] = '\0';
    return 0;
}

static int pattern_compile(mqtt_pattern *p, const mqtt_mapping_config *c, char *err, size_t err_len)
{
    const char *topic = c->topic;
    size_t tlen = topic ? strlen(topic) : 0;
    bool seen[LEVEL_VERSION + 1] = {false};

    memset(p, 0, sizeof(*p));
    p->tenant = c->tenant;
    p->form = c->form;
    p->schema = c->schema;
    p->version = c->version;
    if (tlen == 0 || tlen > 65535) {
        snprintf(err, err_len, "topic: must be 1 to 65535 bytes");
        return -1;
    }
    if (c->tenant != NULL && c->tenant[0] == '\0') {
        snprintf(err, err_len, "tenant: must not be empty (leave it out for every tenant)");
        return -1;
    }
    p->n_levels = 1;
    for (size_t i = 0; i < tlen; i++)
        p->n_levels += topic[i] == '/';
    p->levels = calloc(p->n_levels, sizeof(*p->levels));
    if (p->levels == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *s = topic;
    for (size_t i = 0; i < p->n_levels; i++) {
        const char *slash = strchr(s, '/');
        size_t len = slash ? (size_t)(slash - s) : strlen(s);
        char why[200];
        if (level_parse(&p->levels[i], s, len, i + 1 == p->n_levels, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "topic: %s", why);
            return -1;
        }
        uint8_t k = p->levels[i].kind;
        if (k >= LEVEL_DEVICE) {
            if (seen[k]) {
                snprintf(err, err_len, "topic: a placeholder appears twice");
                return -1;
            }
            seen[k] = true;
        }
        s += len + 1;
    }
    if (seen[LEVEL_SCHEMA] && p->schema != NULL) {
        snprintf(err, err_len, "schema: given twice, by {schema} and by the schema key");
        return -1;
    }
    if (seen[LEVEL_VERSION] && p->version != NULL) {
        snprintf(err, err_len, "version: given twice, by {version} and by the version key");
        return -1;
    }
    if (p->form == MQTT_FORM_PAYLOAD &&
        (!(seen[LEVEL_SCHEMA] || p->schema) || !(seen[LEVEL_VERSION] || p->version))) {
        snprintf(err, err_len,
                 "form payload needs the schema and its version, from {schema} and {version} "
                 "levels or from the schema and version keys");
        return -1;
    }
    return 0;
}

static void pattern_free(mqtt_pattern *p)
{
    for (size_t i = 0; p->levels != NULL && i < p->n_levels; i++)
        free(p->levels[i].text);
    free(p->levels);
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
        pattern_free(&m->patterns[i]);
    free(m->patterns);
    memset(m, 0, sizeof(*m));
}

typedef struct capture {
    const uint8_t *p;
    size_t len;
} capture;

/* Match one pattern; the captures are indexed by level kind. */
static bool pattern_match(const mqtt_pattern *p, const uint8_t *topic, size_t len,
                          capture caps[LEVEL_VERSION + 1])
{
    const uint8_t *s = topic, *end = topic + len;
    size_t i = 0;

    if (len > 0 && topic[0] == '$' && p->n_levels > 0 && p->levels[0].kind != LEVEL_LITERAL)
        return false;
    for (;; i++) {
        const uint8_t *slash = memchr(s, '/', (size_t)(end - s));
        const uint8_t *lend = slash ? slash : end;
        size_t llen = (size_t)(lend - s);
        if (i == p->n_levels)
            return false; /* the topic has more levels */
        const mqtt_level *lv = &p->levels[i];
        switch (lv->kind) {
        case LEVEL_HASH:
            return true;
        case LEVEL_PLUS:
            break;
        case LEVEL_LITERAL:
            if (llen != lv->len || memcmp(s, lv->text, llen) != 0)
                return false;
            break;
        default: /* a placeholder captures a non-empty level */
            if (llen == 0)
                return false;
            caps[lv->kind].p = s;
            caps[lv->kind].len = llen;
            break;
        }
        if (slash == NULL)
            break;
        s = slash + 1;
    }
    /* The topic ended: the pattern must end too, or continue with "#" only (MQTT 5.0 §4.7.1.2:
     * "sport/#" also matches "sport"). */
    return i + 1 == p->n_levels || (i + 2 == p->n_levels && p->levels[i + 1].kind == LEVEL_HASH);
}

inlet_status mqtt_mapping_route(const mqtt_mappings *m, const inlet_identity *id,
                                const uint8_t *topic, size_t topic_len, char *scratch,
                                mqtt_route *out)
{
    for (size_t i = 0; i < m->count; i++) {
        const mqtt_pattern *p = &m->patterns[i];
        capture caps[LEVEL_VERSION + 1];
        memset(caps, 0, sizeof(caps));
        if (p->tenant != NULL && strcmp(p->tenant, id->tenant) != 0)
            continue;
        if (!pattern_match(p, topic, topic_len, caps))
            continue;
        const capture *dev = &caps[LEVEL_DEVICE];
        if (dev->p != NULL &&
            (dev->len != strlen(id->device_id) || memcmp(dev->p, id->device_id, dev->len) != 0))
            return INLET_E_FORBIDDEN;

        out->form = p->form;
        out->schema = p->schema;
        out->version = p->version;
        /* the two captures fit in topic_len + 2 bytes: each is a level plus its NUL */
        char *w = scratch;
        if (caps[LEVEL_SCHEMA].p != NULL) {
            memcpy(w, caps[LEVEL_SCHEMA].p, caps[LEVEL_SCHEMA].len);
            w[caps[LEVEL_SCHEMA].len] = '\0';
            out->schema = w;
            w += caps[LEVEL_SCHEMA].len + 1;
        }
        if (caps[LEVEL_VERSION].p != NULL) {
            memcpy(w, caps[LEVEL_VERSION].p, caps[LEVEL_VERSION].len);
            w[caps[LEVEL_VERSION].len] = '\0';
            out->version = w;
        }
        return INLET_OK;
    }
    return INLET_E_UNKNOWN_SCHEMA;
}
