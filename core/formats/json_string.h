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
 * decodes over its own quoted text, which is longer.
 */
#ifndef INLET_JSON_STRING_H
#define INLET_JSON_STRING_H

#include <stddef.h>
#include <stdint.h>

/* How plain runs are scanned: 2 = SSE2, 16 bytes a load; 1 = SWAR, 8; 0 = a byte at a time.
 * The best the target has unless the build says otherwise (the fuzz target is run with each). */
#ifndef INLET_JSON_SCAN
#if defined(__SSE2__)
#define INLET_JSON_SCAN 2
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define INLET_JSON_SCAN 1
#else
#define INLET_JSON_SCAN 0
#endif
#endif
#if INLET_JSON_SCAN == 2
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

#if INLET_JSON_SCAN == 2
/* Bit i set if at[i] stops a plain run: '"', '\\', below 0x20 or above 0x7f. As signed bytes,
 * the plain ones are those above 0x1f that are not '"' or '\\'; one and-not joins the two. */
static inline __attribute__((always_inline)) unsigned inlet_json_stops16(const char *at)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)at);
    __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
    __m128i plain = _mm_andnot_si128(special, _mm_cmpgt_epi8(x, _mm_set1_epi8(0x1f)));
    return ~(unsigned)_mm_movemask_epi8(plain) & 0xffffu;
}
#endif

/*
 * The string literal whose opening quote is at q, all of it: long strings, escapes, non-ASCII
 * text, the last bytes of the input. Decodes at q + 1 + delta (delta = pool - input); tail is
 * end - 16 if the input has 16 bytes, else NULL. Returns the byte after the closing quote, or
 * NULL with fault set.
 */
const char *inlet_json_string_long(const char *q, const char *end, const char *tail,
                                   ptrdiff_t delta, inlet_json_str *out, inlet_json_fault *fault);

/* The fault for "\u0000" (jansson's words for a value; a key's are the parser's to say). */
#define INLET_JSON_NUL_VALUE "\\u0000 is not allowed without JSON_ALLOW_NUL"

/*
 * The same, inline for what telemetry keys and values are: ASCII without escapes, closed
 * within 16 bytes. One load finds the closing quote; anything else takes the call.
 */
static inline __attribute__((always_inline)) const char *
inlet_json_string_parse(const char *q, const char *end, const char *tail, ptrdiff_t delta,
                        inlet_json_str *out, inlet_json_fault *fault)
{
#if INLET_JSON_SCAN == 2
    if (__builtin_expect(end - q > 16, 1)) {
        unsigned stops = inlet_json_stops16(q + 1);
        if (__builtin_expect(stops != 0, 1)) {
            const char *e = q + 1 + __builtin_ctz(stops);
            if (__builtin_expect(*e == '"', 1)) {
                out->s = q + 1 + delta;
                out->n = (uint32_t)(e - q - 1);
                out->canonical = 1;
                *(char *)(e + delta) = '\0';
                return e + 1;
            }
        }
    }
#endif
    {
        /* Its own result, so that out can stay in registers. */
        inlet_json_str slow;
        const char *p = inlet_json_string_long(q, end, tail, delta, &slow, fault);
        *out = slow;
        return p;
    }
}

#endif
