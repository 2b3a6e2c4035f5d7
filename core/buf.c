/* buf.c - see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(inlet_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void inlet_buf_init(inlet_buf *b, size_t hint)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    if (hint)
        buf_reserve(b, hint);
}

void inlet_buf_free(inlet_buf *b)
{
    free(b->data);
    inlet_buf_init(b, 0);
}

void inlet_buf_append(inlet_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void inlet_buf_puts(inlet_buf *b, const char *s)
{
    inlet_buf_append(b, s, strlen(s));
}

void inlet_buf_putc(inlet_buf *b, char c)
{
    inlet_buf_append(b, &c, 1);
}

void inlet_buf_printf(inlet_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        inlet_buf_append(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void inlet_buf_json_string(inlet_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (buf_reserve(b, len + 2) != 0)
        return;
    inlet_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        inlet_buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':
            inlet_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            inlet_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            inlet_buf_append(b, "\\n", 2);
            break;
        case '\r':
            inlet_buf_append(b, "\\r", 2);
            break;
        case '\t':
            inlet_buf_append(b, "\\t", 2);
            break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            inlet_buf_append(b, esc, 6);
        }
        }
    }
    inlet_buf_append(b, s + start, len - start);
    inlet_buf_putc(b, '"');
}

char *inlet_buf_steal(inlet_buf *b, size_t *len)
{
    if (!b->failed && !b->data)
        inlet_buf_append(b, "", 0); /* an empty buffer still yields a valid empty string */
    char *d = b->failed ? NULL : b->data;
    if (b->failed)
        free(b->data);
    if (len)
        *len = d ? b->len : 0;
    inlet_buf_init(b, 0);
    return d;
}
