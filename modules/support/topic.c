/*
 * topic.c - topic patterns: compile once, match per message (see topic.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"

/* Longest level quoted in an error message. */
#define LEVEL_SHOWN(n) (int)((n) > 40 ? 40 : (n))

static int field_of(const inlet_support_topic_syntax *syn, const char *name, size_t len)
{
    for (int f = 0; syn->fields != NULL && syn->fields[f] != NULL; f++)
        if (strlen(syn->fields[f]) == len && memcmp(syn->fields[f], name, len) == 0)
            return f;
    return -1;
}

/* "{a}, {b}, {c}" for an error message. */
static void field_list(const inlet_support_topic_syntax *syn, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t f = 0; syn->fields != NULL && syn->fields[f] != NULL && used < len; f++) {
        int n = snprintf(buf + used, len - used, "%s{%s}", f ? ", " : "", syn->fields[f]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int level_compile(inlet_support_topic_level *lv, const char *s, size_t n,
                         const inlet_support_topic_syntax *syn, unsigned *seen, char *err,
                         size_t err_len)
{
    if (n == 1 && s[0] == '+') {
        lv->kind = INLET_SUPPORT_TOPIC_ANY;
        return 0;
    }
    if (n == 1 && s[0] == '#') {
        lv->kind = INLET_SUPPORT_TOPIC_REST;
        return 0;
    }
    if (memchr(s, '+', n) || memchr(s, '#', n)) {
        snprintf(err, err_len, "level \"%.*s\": '+' and '#' must be whole levels", LEVEL_SHOWN(n),
                 s);
        return -1;
    }
    if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
        int f = field_of(syn, s + 1, n - 2);
        if (f < 0) {
            char names[200];
            field_list(syn, names, sizeof(names));
            snprintf(err, err_len, "unknown placeholder %.*s (use %s)", LEVEL_SHOWN(n), s,
                     names[0] ? names : "none: this pattern takes no placeholders");
            return -1;
        }
        if (*seen & (1u << f)) {
            snprintf(err, err_len, "{%s} appears twice", syn->fields[f]);
            return -1;
        }
        *seen |= 1u << f;
        lv->kind = INLET_SUPPORT_TOPIC_FIELD;
        lv->field = (uint8_t)f;
        return 0;
    }
    if (memchr(s, '{', n) || memchr(s, '}', n)) {
        snprintf(err, err_len, "level \"%.*s\": a placeholder must be a whole level, like /{%s}/",
                 LEVEL_SHOWN(n), s,
                 syn->fields != NULL && syn->fields[0] ? syn->fields[0] : "name");
        return -1;
    }
    lv->kind = INLET_SUPPORT_TOPIC_LITERAL;
    lv->literal = malloc(n + 1);
    if (lv->literal == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(lv->literal, s, n);
    lv->literal[n] = '\0';
    lv->len = n;
    return 0;
}

int inlet_support_topic_compile(inlet_support_topic_pattern *out, const char *text,
                                const inlet_support_topic_syntax *syn, char *err, size_t err_len)
{
    size_t len = text ? strlen(text) : 0;

    memset(out, 0, sizeof(*out));
    if (len == 0) {
        snprintf(err, err_len, "must not be empty");
        return -1;
    }
    if (len > INLET_SUPPORT_TOPIC_MAX) {
        snprintf(err, err_len, "must be at most %u bytes", INLET_SUPPORT_TOPIC_MAX);
        return -1;
    }
    int rc = inlet_support_utf8_check((const uint8_t *)text, len,
                                      syn->utf8_flags & INLET_SUPPORT_UTF8_STRICT);
    if (rc != 0) {
        snprintf(err, err_len, "\"%.80s\" %s", text,
                 rc == INLET_SUPPORT_UTF8_ILL_FORMED
                     ? "is not valid UTF-8"
                     : "has a control character or a non-character");
        return -1;
    }

    size_t levels = 1;
    for (const char *c = text; *c; c++)
        levels += *c == '/';
    out->levels = calloc(levels, sizeof(*out->levels));
    if (out->levels == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    out->dollar_rule = syn->dollar_rule;
    while (syn->fields != NULL && syn->fields[out->n_fields] != NULL)
        if (++out->n_fields > INLET_SUPPORT_TOPIC_MAX_FIELDS) {
            snprintf(err, err_len, "more than %d placeholder names",
                     INLET_SUPPORT_TOPIC_MAX_FIELDS);
            goto fail;
        }
    const char *level = text;
    for (size_t i = 0; i < levels; i++) {
        const char *end = strchr(level, '/');
        size_t n = end ? (size_t)(end - level) : strlen(level);
        out->n = i + 1;
        if (level_compile(&out->levels[i], level, n, syn, &out->fields, err, err_len) != 0)
            goto fail;
        if (out->levels[i].kind == INLET_SUPPORT_TOPIC_REST && end) {
            snprintf(err, err_len, "'#' must be the last level");
            goto fail;
        }
        level = end ? end + 1 : level + n;
    }
    return 0;

fail:
    inlet_support_topic_free(out);
    return -1;
}

void inlet_support_topic_free(inlet_support_topic_pattern *p)
{
    for (size_t i = 0; p->levels != NULL && i < p->n; i++)
        free(p->levels[i].literal);
    free(p->levels);
    memset(p, 0, sizeof(*p));
}

bool inlet_support_topic_match(const inlet_support_topic_pattern *p, const char *topic,
                               size_t topic_len, inlet_support_topic_span *spans)
{
    size_t pos = 0;
    bool exhausted = false; /* every level of the topic has been consumed */

    memset(spans, 0, p->n_fields * sizeof(*spans));
    if (p->dollar_rule && topic_len > 0 && topic[0] == '$' && p->n > 0 &&
        p->levels[0].kind != INLET_SUPPORT_TOPIC_LITERAL)
        return false;
    for (size_t i = 0; i < p->n; i++) {
        const inlet_support_topic_level *lv = &p->levels[i];
        if (lv->kind == INLET_SUPPORT_TOPIC_REST)
            return true; /* "a/#" also matches "a" (MQTT 5.0 §4.7.1.2) */
        if (exhausted)
            return false;
        const char *s = topic + pos;
        const char *slash = topic_len > pos ? memchr(s, '/', topic_len - pos) : NULL;
        size_t n = slash ? (size_t)(slash - s) : topic_len - pos;
        switch (lv->kind) {
        case INLET_SUPPORT_TOPIC_LITERAL:
            if (n != lv->len || memcmp(s, lv->literal, n) != 0)
                return false;
            break;
        case INLET_SUPPORT_TOPIC_FIELD:
            if (n == 0)
                return false;
            spans[lv->field].p = s;
            spans[lv->field].len = n;
            break;
        default:
            break;
        }
        if (slash)
            pos += n + 1;
        else
            exhausted = true;
    }
    return exhausted; /* else the topic has more levels than the pattern */
}

size_t inlet_support_topic_filter(const inlet_support_topic_pattern *p, char *buf, size_t buf_len)
{
    size_t used = 0;
    for (size_t i = 0; i < p->n; i++) {
        const inlet_support_topic_level *lv = &p->levels[i];
        const char *text = lv->kind == INLET_SUPPORT_TOPIC_LITERAL ? lv->literal
                           : lv->kind == INLET_SUPPORT_TOPIC_REST  ? "#"
                                                                   : "+";
        size_t n = lv->kind == INLET_SUPPORT_TOPIC_LITERAL ? lv->len : 1;
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

int inlet_support_topic_filter_check(const char *filter, char *err, size_t err_len)
{
    size_t len = strlen(filter);
    if (len == 0) {
        snprintf(err, err_len, "a topic filter must not be empty");
        return -1;
    }
    if (len > INLET_SUPPORT_TOPIC_MAX ||
        !inlet_support_utf8_valid((const uint8_t *)filter, len, 0)) {
        snprintf(err, err_len, "\"%.80s\" is not a valid UTF-8 topic filter", filter);
        return -1;
    }
    const char *level = filter;
    for (;;) {
        const char *end = strchr(level, '/');
        size_t n = end ? (size_t)(end - level) : strlen(level);
        if (n != 1 && (memchr(level, '+', n) || memchr(level, '#', n))) {
            snprintf(err, err_len, "\"%.80s\": '+' and '#' must be whole levels", filter);
            return -1;
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
