/*
 * json_string.h - JSON string literals decoded as jansson 2.14 decodes them (internal to
 * formats/, used by json_parse.c).
 *
 * Refused: raw bytes below 0x20, escapes other than \" \\ \/ \b \f \n \r \t \uXXXX, lone or
 * mismatched UTF-16 surrogates, \u0000 (jansson without JSON_ALLOW_NUL), and UTF-8 that is
 * not shortest-form, encodes a surrogate or goes past U+10FFFF.
 *
 * Strings decode in place in a copy of the whole input (the pool): a string without escapes
 * is already there and only needs the NUL that replaces its closing quote; one with escapes
 * decodes over its own quoted text, which is longer. The scanner is inline so that the parser
 * keeps its cursor in registers; escapes and non-ASCII bytes take the calls below.
 */
#ifndef INLET_JSON_STRING_H
#define INLET_JSON_STRING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Where and why the parser stopped, in jansson's words ("invalid escape"). */
typedef struct inlet_json_fault {
    const char *at;
    char what[160];
} inlet_json_fault;

void inlet_json_fault_set(inlet_json_fault *f, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef struct inlet_json_str {
    const char *s; /* decoded, NUL-terminated, in the pool */
    uint32_t n;
    int canonical; /* the quoted text is what inlet_buf_json_string writes for s */
} inlet_json_str;

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid or cut short. */
size_t inlet_json_utf8_valid(const unsigned char *p, const unsigned char *end);

/* The rest of the string whose opening quote is q, from the backslash at p on: decodes it at
 * q + 1 + delta (delta = pool - input) and returns the byte after the closing quote, or NULL
 * with fault set. */
const char *inlet_json_string_escaped(const char *q, const char *p, const char *end,
                                      const char *tail, ptrdiff_t delta, inlet_json_str *out,
                                      int is_key, inlet_json_fault *fault);

/* The first byte at or after p that ends a plain run: '"', '\\', below 0x20 or above 0x7f;
 * end if none. 16 bytes at a time with SSE2, else 8 with SWAR. tail, if not NULL, is end - 16
 * and readable: the last few bytes are then looked at in one load too. */
static inline __attribute__((always_inline)) const char *
inlet_json_string_stop(const char *p, const char *end, const char *tail)
{
#if defined(__SSE2__)
    /* As signed bytes, below 0x20 and above 0x7f are both less than 0x20. */
#define INLET_JSON_STOPS(x)                                                                        \
    ((unsigned)_mm_movemask_epi8(                                                                  \
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),                           \
                                  _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),                         \
                     _mm_cmpgt_epi8(_mm_set1_epi8(0x20), x))))
    while (end - p >= 16) {
        unsigned stops = INLET_JSON_STOPS(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (stops)
            return p + __builtin_ctz(stops);
        p += 16;
    }
    if (tail && p < end) {
        unsigned stops =
            INLET_JSON_STOPS(_mm_loadu_si128((const __m128i *)(const void *)tail)) >> (p - tail);
        return stops ? p + __builtin_ctz(stops) : end;
    }
#undef INLET_JSON_STOPS
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
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

/* A raw control character, or the input ending inside the string at q: the fault. */
void inlet_json_string_refuse(const char *q, const char *p, const char *end,
                              inlet_json_fault *fault);

/*
 * The string literal whose opening quote is at p, decoded in the pool (delta = pool - input;
 * tail as for inlet_json_string_stop). Returns the byte after the closing quote, or NULL with
 * fault set.
 */
static inline __attribute__((always_inline)) const char *
inlet_json_string_parse(const char *p, const char *end, const char *tail, ptrdiff_t delta,
                        inlet_json_str *out, int is_key, inlet_json_fault *fault)
{
    const char *q = p++;

    for (;;) {
        p = inlet_json_string_stop(p, end, tail);
        if (p < end && *p == '"')
            break;
        if (p < end && *p == '\\') {
            /* Its own result, so that out can stay in registers. */
            inlet_json_str esc;
            p = inlet_json_string_escaped(q, p, end, tail, delta, &esc, is_key, fault);
            *out = esc;
            return p;
        }
        if (p == end || (unsigned char)*p < 0x20) {
            inlet_json_string_refuse(q, p, end, fault);
            return NULL;
        }
        size_t n = inlet_json_utf8_valid((const unsigned char *)p, (const unsigned char *)end);
        if (!n) {
            inlet_json_fault_set(fault, p, "unable to decode byte 0x%x", (unsigned char)*p);
            return NULL;
        }
        p += n;
    }
    out->s = q + 1 + delta;
    out->n = (uint32_t)(p - q - 1);
    out->canonical = 1;
    *(char *)(p + delta) = '\0';
    return p + 1;
}

#endif
