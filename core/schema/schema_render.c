/*
 * schema_render.c - JSON values rendered for error messages: compact, numbers the way a person
 * writes them (52.52, not 52.520000000000003; 270, not 270.0), long strings and lists cut
 * with "...". Messages have a fixed size, so every function here truncates instead of failing.
 */
#include "schema_internal.h"

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

static void put_value(out *o, const json_t *v, int depth)
{
    char num[40];
    const char *key;
    size_t key_len, i;
    json_t *item;

    switch (json_typeof(v)) {
    case JSON_NULL:
        puts_(o, "null");
        break;
    case JSON_TRUE:
        puts_(o, "true");
        break;
    case JSON_FALSE:
        puts_(o, "false");
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        puts_(o, num);
        break;
    case JSON_REAL:
        schema_render_real(json_real_value(v), num, sizeof(num));
        puts_(o, num);
        break;
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        /* Deeply nested values are not worth quoting in full; the depth bound also keeps the
         * recursion shallow whatever the input. */
        if (depth > 8) {
            puts_(o, "[...]");
            break;
        }
        put(o, "[", 1);
        json_array_foreach(v, i, item)
        {
            if (i)
                put(o, ", ", 2);
            put_value(o, item, depth + 1);
        }
        put(o, "]", 1);
        break;
    case JSON_OBJECT:
        if (depth > 8) {
            puts_(o, "{...}");
            break;
        }
        put(o, "{", 1);
        i = 0;
        /* jansson iterates without modifying; its API just lacks a const variant. */
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            if (i++)
                put(o, ", ", 2);
            put_string(o, key, key_len);
            put(o, ": ", 2);
            put_value(o, item, depth + 1);
        }
        put(o, "}", 1);
        break;
    }
}

size_t schema_render_value(const json_t *v, char *buf, size_t buf_len)
{
    out o;
    if (out_init(&o, buf, buf_len))
        return 0;
    put_value(&o, v, 0);
    return out_finish(&o);
}

size_t schema_render_list(const json_t *array, char *buf, size_t buf_len)
{
    char item[SCHEMA_TEXT_MAX];
    size_t i, n, len = 0;

    if (!buf || buf_len < 8) {
        if (buf && buf_len)
            buf[0] = '\0';
        return 0;
    }
    buf[len++] = '[';
    for (i = 0; i < json_array_size(array); i++) {
        int last = i + 1 == json_array_size(array);
        n = schema_render_value(json_array_get(array, i), item, sizeof(item));
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
