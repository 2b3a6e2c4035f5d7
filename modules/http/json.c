/*
 * json.c - a bounded JSON writer for response bodies (see json.h).
 */
#include <string.h>

#include "json.h"

void jb_init_pool(jbuf *b, h2o_mem_pool_t *pool, size_t cap)
{
    b->p = h2o_mem_alloc_pool(pool, cap);
    b->len = 0;
    b->cap = cap;
}

void jb_raw(jbuf *b, const char *s, size_t n)
{
    if (n > b->cap - b->len) /* unreachable when the bound was right; never overflow */
        n = b->cap - b->len;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

size_t jstr_bound(const char *s)
{
    return s == NULL ? 4 : 6 * strlen(s) + 2;
}

/* Length of a valid UTF-8 sequence at s (RFC 3629), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

void jb_str(jbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (s == NULL) {
        jb_lit(b, "null");
        return;
    }
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    jb_lit(b, "\"");
    for (size_t i = 0; i < len;) {
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t n = utf8_seq(u + i, len - i);
            if (n == 0) {
                jb_lit(b, "\\ufffd");
                i++;
            } else {
                jb_raw(b, s + i, n);
                i += n;
            }
            continue;
        }
        switch (c) {
        case '"':
            jb_lit(b, "\\\"");
            break;
        case '\\':
            jb_lit(b, "\\\\");
            break;
        case '\n':
            jb_lit(b, "\\n");
            break;
        case '\r':
            jb_lit(b, "\\r");
            break;
        case '\t':
            jb_lit(b, "\\t");
            break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                jb_raw(b, e, sizeof(e));
            } else {
                jb_raw(b, s + i, 1);
            }
        }
        i++;
    }
    jb_lit(b, "\"");
}

void jb_int(jbuf *b, int64_t v)
{
    char tmp[JINT_BOUND];
    char *p = tmp + sizeof(tmp);
    /* magnitude as unsigned, so that INT64_MIN does not overflow */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    jb_raw(b, p, (size_t)(tmp + sizeof(tmp) - p));
}
