/*
 * schema_render.c - values rendered for error messages: compact JSON, numbers the way a person
 * writes them (52.52, not 52.520000000000003; 270, not 270.0), byte strings as their base64url
 * text, long strings and lists cut with "...". Messages have a fixed size, so every function here
 * truncates instead of failing.
 */
#include "schema_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRING_CONTENT_MAX 64 /* bytes of a string value quoted in a message */

typedef struct out {
    char *buf;
    size_t cap; /* usable bytes, room for "..." and NUL already taken off */
    size_t len;
    int full;
} out;

static int out_init(out *o, char *buf, size_t buf_len)
{
    o->buf = buf;
    o->len = 0;
    o->full = 0;
    if (!buf || buf_len < 8) {
        if (buf && buf_len)
            buf[0] = '\0';
        return -1;
    }
    o->cap = buf_len - 4;
    return 0;
}

/* All or nothing: a unit (a number, an escape, a UTF-8 sequence) is never cut in half. */
static void put(out *o, const char *s, size_t n)
{
    if (o->full)
        return;
    if (n > o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static size_t out_finish(out *o)
{
    if (o->full) {
        memcpy(o->buf + o->len, "...", 3);
        o->len += 3;
    }
    o->buf[o->len] = '\0';
    return o->len;
}

static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    if ((c & 0xF8) == 0xF0)
        return 4;
    return 1;
}

static void put_string(out *o, const char *s, size_t len)
{
    size_t i = 0;
    char esc[8];

    put(o, "\"", 1);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = utf8_seq_len(c);
        if (i + n > len)
            n = len - i;
        if (i + n > STRING_CONTENT_MAX) {
            put(o, "...", 3);
            break;
        }
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(o, esc, 2);
        } else if (c == '\n') {
            put(o, "\\n", 2);
        } else if (c == '\t') {
            put(o, "\\t", 2);
        } else if (c == '\r') {
            put(o, "\\r", 2);
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(o, esc, 6);
        } else {
            put(o, s + i, n);
        }
        i += n;
    }
    put(o, "\"", 1);
}

void schema_render_real(double d, char *buf, size_t buf_len)
{
    /* The shortest of 15..17 significant digits that reads back as the same double. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, buf_len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* A byte string as the base64url text the envelope carries, cut like a string. */
static void put_bytes(out *o, const unsigned char *b, size_t n)
{
    char text[4];
    size_t chars = 0, group, len;

    put(o, "\"", 1);
    for (size_t i = 0; i < n; i += group) {
        group = n - i < 3 ? n - i : 3;
        len = schema_base64url_length(group);
        schema_base64url_encode(b + i, group, text);
        for (size_t k = 0; k < len; k++, chars++) {
            if (chars >= STRING_CONTENT_MAX) {
                put(o, "...", 3);
                goto done;
            }
            put(o, text + k, 1);
        }
    }
done:
    put(o, "\"", 1);
}

static void put_value(out *o, const inlet_value *v, int depth)
{
    char num[40];

    switch ((inlet_vtype)v->type) {
    case INLET_V_NULL:
        puts_(o, "null");
        break;
    case INLET_V_TRUE:
        puts_(o, "true");
        break;
    case INLET_V_FALSE:
        puts_(o, "false");
        break;
    case INLET_V_INT:
        snprintf(num, sizeof(num), "%" PRId64, v->u.i);
        puts_(o, num);
        break;
    case INLET_V_REAL:
        schema_render_real(v->u.r, num, sizeof(num));
        puts_(o, num);
        break;
    case INLET_V_STRING:
        put_string(o, v->u.s, v->n);
        break;
    case INLET_V_BYTES:
        put_bytes(o, (const unsigned char *)v->u.s, v->n);
        break;
    case INLET_V_ARRAY:
        /* Deeply nested values are not worth quoting in full; the depth bound also keeps the
         * recursion shallow whatever the input. */
        if (depth > 8) {
            puts_(o, "[...]");
            break;
        }
        put(o, "[", 1);
        for (uint32_t i = 0; i < v->n; i++) {
            if (i)
                put(o, ", ", 2);
            put_value(o, &v->u.items[i], depth + 1);
        }
        put(o, "]", 1);
        break;
    case INLET_V_OBJECT:
        if (depth > 8) {
            puts_(o, "{...}");
            break;
        }
        put(o, "{", 1);
        for (uint32_t i = 0; i < v->n; i++) {
            const inlet_member *m = &v->u.members[i];
            if (i)
                put(o, ", ", 2);
            put_string(o, m->key, m->key_len);
            put(o, ": ", 2);
            put_value(o, &m->value, depth + 1);
        }
        put(o, "}", 1);
        break;
    }
}

size_t schema_render_value(const inlet_value *v, char *buf, size_t buf_len)
{
    out o;
    if (out_init(&o, buf, buf_len))
        return 0;
    put_value(&o, v, 0);
    return out_finish(&o);
}

size_t schema_render_list(const inlet_value *items, size_t count, char *buf, size_t buf_len)
{
    char item[SCHEMA_TEXT_MAX];
    size_t i, n, len = 0;

    if (!buf || buf_len < 8) {
        if (buf && buf_len)
            buf[0] = '\0';
        return 0;
    }
    buf[len++] = '[';
    for (i = 0; i < count; i++) {
        int last = i + 1 == count;
        n = schema_render_value(&items[i], item, sizeof(item));
        /* Unless this is the last item, keep room for ", ...]" so a cut list says so. */
        if (len + 2 + n + (last ? 1 : 6) + 1 > buf_len) {
            memcpy(buf + len, i ? ", ...]" : "...]", i ? 7 : 5);
            return len + (i ? 6 : 4);
        }
        if (i) {
            memcpy(buf + len, ", ", 2);
            len += 2;
        }
        memcpy(buf + len, item, n);
        len += n;
    }
    buf[len++] = ']';
    buf[len] = '\0';
    return len;
}
