/* buf.c - see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int inlet_buf_reserve(inlet_buf *b, size_t extra)
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
        inlet_buf_reserve(b, hint);
}

void inlet_buf_free(inlet_buf *b)
{
    free(b->data);
    inlet_buf_init(b, 0);
}

void inlet_buf_append_slow(inlet_buf *b, const void *data, size_t len)
{
    if (inlet_buf_reserve(b, len) != 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
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
    if (inlet_buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Eight bytes at a time: a word with no '"', '\\' or control byte is copied as it is (SWAR:
 * a byte is zero after the XOR, or below 0x20, exactly when its high bit survives the mask). */
static int word_is_plain(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
    uint64_t hits =
        ((quote - ones) & ~quote) | ((slash - ones) & ~slash) | ((w - ones * 0x20) & ~w);
    return (hits & highs) == 0;
}

void inlet_buf_json_string(inlet_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: every byte becomes \u00XX. */
    if (inlet_buf_reserve(b, len * 6 + 2) != 0)
        return;
    char *o = b->data + b->len;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (i + 8 <= len) {
            memcpy(&w, s + i, 8);
            if (word_is_plain(w)) {
                memcpy(o, &w, 8);
                o += 8;
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i++];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
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
