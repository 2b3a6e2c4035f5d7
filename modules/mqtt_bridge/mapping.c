/* mapping.c - see mapping.h. */
#include "mapping.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_names[BRIDGE_FIELDS] = {"tenant", "device", "schema", "version"};

const char *bridge_field_name(int field)
{
    return field >= 0 && field < BRIDGE_FIELDS ? field_names[field] : "?";
}

/* Well-formed UTF-8 without NUL (MQTT 3.1.1 §1.5.3, 5.0 §1.5.4): no overlongs, no surrogates,
 * nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        uint32_t cp;
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= len) /* truncated sequence */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

int bridge_filter_check(const char *filter, char *err, size_t err_len)
{
    size_t len = strlen(filter);
    if (len == 0) {
        snprintf(err, err_len, "a topic filter must not be empty");
        return -1;
    }
    if (len > 65535 || !utf8_valid((const unsigned char *)filter, len)) {
        snprintf(err, err_len, "\"%.80s\" is not a valid UTF-8 topic filter", filter);
        return -1;
    }
    const char *level = filter;
    for (;;) {
        const char *end = strchr(level, '/');
        size_t n = end ? (size_t)(end - level) : strlen(level);
        for (size_t i = 0; i < n; i++) {
            if ((level[i] == '+' || level[i] == '#') && n != 1) {
                snprintf(err, err_len, "\"%.80s\": '+' and '#' must be whole levels", filter);
                return -1;
            }
        }
        if (n == 1 && level[0] == '#' && end) {
            snprintf(err, err_len, "\"%.80s\": '#' must be the last level", filter);
            return -1;
        }
        if (!end)
            break;
        level = end + 1;
    }
    return 0;
}

static int field_of(const char *name, size_t len)
{
    for (int f = 0; f < BRIDGE_FIELDS; f++)
        if (strlen(field_names[f]) == len && memcmp(field_names[f], name, len) == 0)
            return f;
    return -1;
}

void bridge_pattern_free(bridge_pattern *p)
{
    for (size_t i = 0; p->segs && i < p->n; i++)
        free(p->segs[i].literal);
    free(p->segs);
    memset(p, 0, sizeof(*p));
}

static int compile_level(const char *text, const char *level, size_t n, bridge_seg *seg,
                         unsigned *fields, char *err, size_t err_len)
{
    if (n == 1 && level[0] == '+') {
        seg->kind = BRIDGE_SEG_ANY;
        return 0;
    }
    if (n == 1 && level[0] == '#') {
        seg->kind = BRIDGE_SEG_REST;
        return 0;
    }
    if (memchr(level, '+', n) || memchr(level, '#', n)) {
        snprintf(err, err_len, "\"%.80s\": '+' and '#' must be whole levels", text);
        return -1;
    }
    if (n >= 2 && level[0] == '{' && level[n - 1] == '}') {
        int f = field_of(level + 1, n - 2);
        if (f < 0) {
            snprintf(err, err_len,
                     "\"%.80s\": unknown placeholder %.*s (use {tenant}, {device}, {schema}, "
                     "{version})",
                     text, (int)(n > 40 ? 40 : n), level);
            return -1;
        }
        if (*fields & (1u << f)) {
            snprintf(err, err_len, "\"%.80s\": {%s} appears twice", text, field_names[f]);
            return -1;
        }
        *fields |= 1u << f;
        seg->kind = BRIDGE_SEG_FIELD;
        seg->field = f;
        return 0;
    }
    if (memchr(level, '{', n) || memchr(level, '}', n)) {
        snprintf(err, err_len, "\"%.80s\": a placeholder must be a whole level, like /{device}/",
                 text);
        return -1;
    }
    seg->kind = BRIDGE_SEG_LITERAL;
    seg->literal = malloc(n + 1);
    if (!seg->literal) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(seg->literal, level, n);
    seg->literal[n] = '\0';
    seg->len = n;
    return 0;
}

int bridge_pattern_compile(const char *text, bridge_pattern *out, char *err, size_t err_len)
{
    size_t len = text ? strlen(text) : 0;
    memset(out, 0, sizeof(*out));
    if (len == 0) {
        snprintf(err, err_len, "a pattern must not be empty");
        return -1;
    }
    if (len > 65535 || !utf8_valid((const unsigned char *)text, len)) {
        snprintf(err, err_len, "\"%.80s\" is not valid UTF-8", text);
        return -1;
    }
    if (strncmp(text, "$share/", 7) == 0) {
        snprintf(err, err_len,
                 "\"%.80s\": a pattern matches topics, not filters; set shared_group instead",
                 text);
        return -1;
    }
    size_t levels = 1;
    for (const char *c = text; *c; c++)
        levels += *c == '/';
    out->segs = calloc(levels, sizeof(*out->segs));
    if (!out->segs) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const char *level = text;
    for (size_t i = 0; i < levels; i++) {
        const char *end = strchr(level, '/');
        size_t n = end ? (size_t)(end - level) : strlen(level);
        out->n = i + 1;
        if (compile_level(text, level, n, &out->segs[i], &out->fields, err, err_len) != 0)
            goto fail;
        if (out->segs[i].kind == BRIDGE_SEG_REST && end) {
            snprintf(err, err_len, "\"%.80s\": '#' must be the last level", text);
            goto fail;
        }
        level = end ? end + 1 : level + n;
    }
    if (!(out->fields & (1u << BRIDGE_FIELD_DEVICE))) {
        snprintf(err, err_len, "\"%.80s\": needs a {device} level", text);
        goto fail;
    }
    return 0;

fail:
    bridge_pattern_free(out);
    return -1;
}

size_t bridge_pattern_filter(const bridge_pattern *p, char *buf, size_t buf_len)
{
    size_t used = 0;
    for (size_t i = 0; i < p->n; i++) {
        const bridge_seg *s = &p->segs[i];
        const char *text = s->kind == BRIDGE_SEG_LITERAL ? s->literal
                           : s->kind == BRIDGE_SEG_REST  ? "#"
                                                         : "+";
        size_t n = s->kind == BRIDGE_SEG_LITERAL ? s->len : 1;
        if (used + (i > 0) + n + 1 > buf_len)
            return 0;
        if (i > 0)
            buf[used++] = '/';
        memcpy(buf + used, text, n);
        used += n;
    }
    if (buf_len == 0)
        return 0;
    buf[used] = '\0';
    return used;
}

typedef struct span {
    const char *start;
    size_t len;
} span;

/* MQTT topic matching (§4.7), except that a placeholder needs a non-empty level. */
static bool pattern_match(const bridge_pattern *p, const char *topic, size_t topic_len,
                          span spans[BRIDGE_FIELDS])
{
    size_t pos = 0;
    bool exhausted = false; /* every level of the topic has been consumed */
    for (size_t i = 0; i < p->n; i++) {
        const bridge_seg *s = &p->segs[i];
        if (s->kind == BRIDGE_SEG_REST)
            return true; /* "a/#" also matches "a" (§4.7.1.2) */
        if (exhausted)
            return false;
        const char *lv = topic + pos;
        const char *slash = memchr(lv, '/', topic_len - pos);
        size_t n = slash ? (size_t)(slash - lv) : topic_len - pos;
        switch (s->kind) {
        case BRIDGE_SEG_LITERAL:
            if (n != s->len || memcmp(lv, s->literal, n) != 0)
                return false;
            break;
        case BRIDGE_SEG_FIELD:
            if (n == 0)
                return false;
            spans[s->field].start = lv;
            spans[s->field].len = n;
            break;
        default:
            break;
        }
        if (slash)
            pos += n + 1;
        else
            exhausted = true;
    }
    return exhausted;
}

bridge_route_status bridge_route_find(const bridge_mapping *maps, size_t n, const char *topic,
                                      size_t topic_len, bridge_route *out, char *why,
                                      size_t why_len)
{
    for (size_t i = 0; i < n; i++) {
        const bridge_mapping *m = &maps[i];
        span spans[BRIDGE_FIELDS];
        memset(spans, 0, sizeof(spans));
        if (!pattern_match(&m->pattern, topic, topic_len, spans))
            continue;
        out->mapping = m;
        for (int f = 0; f < BRIDGE_FIELDS; f++) {
            const char *v = spans[f].start;
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
