/* json_string.c - see json_string.h: the slow paths of string decoding. */
#include "json_string.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void inlet_json_fault_set(inlet_json_fault *f, const char *at, const char *fmt, ...)
{
    va_list ap;

    f->at = at;
    va_start(ap, fmt);
    vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
}

/* The first byte at or after p that ends a plain run: '"', '\\', below 0x20 or above 0x7f;
 * end if none, by INLET_JSON_SCAN (json_string.h). tail, if not NULL, is end - 16
 * and readable: the last few bytes are then looked at in one load too. */
static inline __attribute__((always_inline)) const char *string_stop(const char *p, const char *end,
                                                                     const char *tail)
{
#if INLET_JSON_SCAN == 2
    while (end - p >= 16) {
        unsigned stops = inlet_json_stops16(p);
        if (stops)
            return p + __builtin_ctz(stops);
        p += 16;
    }
    if (tail && p < end) {
        unsigned stops = inlet_json_stops16(tail) >> (p - tail);
        return stops ? p + __builtin_ctz(stops) : end;
    }
#elif INLET_JSON_SCAN == 1
    (void)tail;
    /* ((y - c) & ~y) | y is (y - c) | y, and '"' and '\\' have no high bit, so the has-zero-
     * byte tests fold into one OR; borrows only run upwards from a stop, so the lowest
     * flagged byte is exact. */
    while (end - p >= 8) {
        const uint64_t ones = 0x0101010101010101u;
        uint64_t x, stops;
        memcpy(&x, p, 8);
        stops =
            (((x ^ (ones * '"')) - ones) | ((x ^ (ones * '\\')) - ones) | (x - ones * 0x20) | x) &
            (ones * 0x80);
        if (stops)
            return p + (__builtin_ctzll(stops) >> 3);
        p += 8;
    }
#else
    (void)tail;
#endif
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            break;
    }
    return p;
}

/* As jansson's utf8_check_first and utf8_check_full accept. */
static size_t utf8_valid(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c < 0xC2) /* a continuation byte, or C0/C1: an overlong ASCII */
        return 0;
    if (c < 0xE0) {
        n = 2;
    } else if (c < 0xF0) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c < 0xF5) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static int hex_value(unsigned char c)
{
    if ((unsigned char)(c - '0') < 10)
        return c - '0';
    if ((unsigned char)((c | 0x20) - 'a') < 6)
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* The code unit of \uXXXX at p (p at the 'u'); -1 unless 4 hex digits follow. */
static int32_t unicode_escape(const char *p, const char *end)
{
    int32_t cp = 0;

    if (end - p < 5)
        return -1;
    for (int i = 1; i <= 4; i++) {
        int h = hex_value((unsigned char)p[i]);
        if (h < 0)
            return -1;
        cp = cp << 4 | h;
    }
    return cp;
}

static char *utf8_put(char *o, int32_t cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* inlet_buf_json_string spells a control character \n, \r, \t or \u00xx in lowercase hex, and
 * writes every other character as itself. */
static int unicode_escape_is_canonical(const char *p, int32_t cp)
{
    return cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t' && p[1] == '0' && p[2] == '0' &&
           !(p[4] >= 'A' && p[4] <= 'F');
}

/* The escape whose backslash is at p, decoded at *o. Returns the byte after it, or NULL with
 * fault set; clears *canonical if the writer would spell the character otherwise. */
static const char *escape(const char *p, const char *end, char **o, int *canonical,
                          inlet_json_fault *fault)
{
    const char *bs = p++;
    char *w = *o;
    int32_t cp;

    if (p == end) {
        inlet_json_fault_set(fault, bs, "premature end of input");
        return NULL;
    }
    switch (*p) {
    case '"':
    case '\\':
        *w++ = *p;
        break;
    case '/':
        *w++ = '/';
        *canonical = 0;
        break;
    case 'b':
        *w++ = '\b';
        *canonical = 0;
        break;
    case 'f':
        *w++ = '\f';
        *canonical = 0;
        break;
    case 'n':
        *w++ = '\n';
        break;
    case 'r':
        *w++ = '\r';
        break;
    case 't':
        *w++ = '\t';
        break;
    case 'u':
        cp = unicode_escape(p, end);
        if (cp < 0) {
            inlet_json_fault_set(fault, bs, "invalid escape");
            return NULL;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate must be followed by the escape of a low one. */
            int32_t lo = -1;
            if (end - p >= 7 && p[5] == '\\' && p[6] == 'u') {
                lo = unicode_escape(p + 6, end);
                if (lo < 0) {
                    inlet_json_fault_set(fault, p + 5, "invalid escape");
                    return NULL;
                }
            }
            if (lo < 0) {
                inlet_json_fault_set(fault, bs, "invalid Unicode '\\u%04X'", (unsigned)cp);
                return NULL;
            }
            if (lo < 0xDC00 || lo > 0xDFFF) {
                inlet_json_fault_set(fault, bs, "invalid Unicode '\\u%04X\\u%04X'", (unsigned)cp,
                                     (unsigned)lo);
                return NULL;
            }
            cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
            p += 6;
            *canonical = 0;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            inlet_json_fault_set(fault, bs, "invalid Unicode '\\u%04X'", (unsigned)cp);
            return NULL;
        } else if (cp == 0) {
            inlet_json_fault_set(fault, bs, INLET_JSON_NUL_VALUE);
            return NULL;
        } else if (!unicode_escape_is_canonical(p, cp)) {
            *canonical = 0;
        }
        w = utf8_put(w, cp);
        p += 4;
        break;
    default:
        inlet_json_fault_set(fault, bs, "invalid escape");
        return NULL;
    }
    *o = w;
    return p + 1;
}

static void string_refuse(const char *q, const char *p, const char *end, inlet_json_fault *fault)
{
    if (p == end)
        inlet_json_fault_set(fault, q, "premature end of input");
    else if (*p == '\n')
        inlet_json_fault_set(fault, p, "unexpected newline");
    else
        inlet_json_fault_set(fault, p, "control character 0x%x", (unsigned char)*p);
}

static const char *string_escaped(const char *q, const char *p, const char *end, const char *tail,
                                  ptrdiff_t delta, inlet_json_str *out, inlet_json_fault *fault)
{
    /* The decoded text trails the quoted text in the pool; the bytes come from the input. */
    char *s = (char *)(q + 1 + delta), *o = (char *)(p + delta);
    int canonical = 1;

    for (;;) {
        if (*p == '\\') {
            if (!(p = escape(p, end, &o, &canonical, fault)))
                return NULL;
        } else if ((unsigned char)*p >= 0x80) {
            size_t n = utf8_valid((const unsigned char *)p, (const unsigned char *)end);
            if (!n) {
                inlet_json_fault_set(fault, p, "unable to decode byte 0x%x", (unsigned char)*p);
                return NULL;
            }
            memcpy(o, p, n);
            o += n;
            p += n;
        }
        const char *run = p;
        p = string_stop(p, end, tail);
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p < end && *p == '"')
            break;
        if (p == end || (unsigned char)*p < 0x20) {
            string_refuse(q, p, end, fault);
            return NULL;
        }
    }
    *o = '\0';
    out->s = s;
    out->n = (uint32_t)(o - s);
    out->canonical = canonical;
    return p + 1;
}

/* Non-ASCII text, escapes, and strings the input ends inside: from the stop at p on. */
static __attribute__((noinline)) const char *string_general(const char *q, const char *p,
                                                            const char *end, const char *tail,
                                                            ptrdiff_t delta, inlet_json_str *out,
                                                            inlet_json_fault *fault)
{
    for (;;) {
        if (p < end && *p == '"')
            break;
        if (p < end && *p == '\\')
            return string_escaped(q, p, end, tail, delta, out, fault);
        if (p == end || (unsigned char)*p < 0x20) {
            string_refuse(q, p, end, fault);
            return NULL;
        }
        size_t n = utf8_valid((const unsigned char *)p, (const unsigned char *)end);
        if (!n) {
            inlet_json_fault_set(fault, p, "unable to decode byte 0x%x", (unsigned char)*p);
            return NULL;
        }
        p = string_stop(p + n, end, tail);
    }
    out->s = q + 1 + delta;
    out->n = (uint32_t)(p - q - 1);
    out->canonical = 1;
    *(char *)(p + delta) = '\0';
    return p + 1;
}

const char *inlet_json_string_long(const char *q, const char *end, const char *tail,
                                   ptrdiff_t delta, inlet_json_str *out, inlet_json_fault *fault)
{
    /* Plain ASCII to the closing quote, the usual long string, without a frame of its own. */
    const char *p = string_stop(q + 1, end, tail);

    if (p < end && *p == '"') {
        out->s = q + 1 + delta;
        out->n = (uint32_t)(p - q - 1);
        out->canonical = 1;
        *(char *)(p + delta) = '\0';
        return p + 1;
    }
    return string_general(q, p, end, tail, delta, out, fault);
}
