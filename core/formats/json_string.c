/* json_string.c - see json_string.h: the slow paths of string decoding. */
#include "json_string.h"

#include <stdarg.h>
#include <stdio.h>

void inlet_json_fault_set(inlet_json_fault *f, const char *at, const char *fmt, ...)
{
    va_list ap;

    f->at = at;
    va_start(ap, fmt);
    vsnprintf(f->what, sizeof(f->what), fmt, ap);
    va_end(ap);
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
static const char *escape(const char *p, const char *end, char **o, int *canonical, int is_key,
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
            inlet_json_fault_set(fault, bs, "%s",
                                 is_key ? "NUL byte in object key not supported"
                                        : "\\u0000 is not allowed without JSON_ALLOW_NUL");
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

void inlet_json_string_refuse(const char *q, const char *p, const char *end,
                              inlet_json_fault *fault)
{
    if (p == end)
        inlet_json_fault_set(fault, q, "premature end of input");
    else if (*p == '\n')
        inlet_json_fault_set(fault, p, "unexpected newline");
    else
        inlet_json_fault_set(fault, p, "control character 0x%x", (unsigned char)*p);
}

const char *inlet_json_string_escaped(const char *q, const char *p, const char *end,
                                      const char *tail, ptrdiff_t delta, inlet_json_str *out,
                                      int is_key, inlet_json_fault *fault)
{
    /* The decoded text trails the quoted text in the pool; the bytes come from the input. */
    char *s = (char *)(q + 1 + delta), *o = (char *)(p + delta);
    int canonical = 1;

    for (;;) {
        if (*p == '\\') {
            if (!(p = escape(p, end, &o, &canonical, is_key, fault)))
                return NULL;
        } else if ((unsigned char)*p >= 0x80) {
            size_t n = inlet_json_utf8_valid((const unsigned char *)p, (const unsigned char *)end);
            if (!n) {
                inlet_json_fault_set(fault, p, "unable to decode byte 0x%x", (unsigned char)*p);
                return NULL;
            }
            memcpy(o, p, n);
            o += n;
            p += n;
        }
        const char *run = p;
        p = inlet_json_string_stop(p, end, tail);
        memcpy(o, run, (size_t)(p - run));
        o += p - run;
        if (p < end && *p == '"')
            break;
        if (p == end || (unsigned char)*p < 0x20) {
            inlet_json_string_refuse(q, p, end, fault);
            return NULL;
        }
    }
    *o = '\0';
    out->s = s;
    out->n = (uint32_t)(o - s);
    out->canonical = canonical;
    return p + 1;
}

/* As jansson's utf8_check_first and utf8_check_full accept. */
size_t inlet_json_utf8_valid(const unsigned char *p, const unsigned char *end)
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
