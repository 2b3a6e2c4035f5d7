/*
 * utf8.c - UTF-8 validation of protocol strings (see utf8.h).
 *
 * Well-formedness follows Unicode Table 3-7 byte ranges, which excludes overlong forms,
 * surrogates (U+D800..U+DFFF) and code points above U+10FFFF in one pass without decoding.
 */
#include <string.h>

#include "utf8.h"

/* ASCII classes; 0 for an ordinary character. */
enum { A_NUL = 1, A_CONTROL = 2, A_WILDCARD = 4 };

static const uint8_t ascii_class[128] = {
    [0x00] = A_NUL,     [0x01] = A_CONTROL, [0x02] = A_CONTROL, [0x03] = A_CONTROL,
    [0x04] = A_CONTROL, [0x05] = A_CONTROL, [0x06] = A_CONTROL, [0x07] = A_CONTROL,
    [0x08] = A_CONTROL, [0x09] = A_CONTROL, [0x0A] = A_CONTROL, [0x0B] = A_CONTROL,
    [0x0C] = A_CONTROL, [0x0D] = A_CONTROL, [0x0E] = A_CONTROL, [0x0F] = A_CONTROL,
    [0x10] = A_CONTROL, [0x11] = A_CONTROL, [0x12] = A_CONTROL, [0x13] = A_CONTROL,
    [0x14] = A_CONTROL, [0x15] = A_CONTROL, [0x16] = A_CONTROL, [0x17] = A_CONTROL,
    [0x18] = A_CONTROL, [0x19] = A_CONTROL, [0x1A] = A_CONTROL, [0x1B] = A_CONTROL,
    [0x1C] = A_CONTROL, [0x1D] = A_CONTROL, [0x1E] = A_CONTROL, [0x1F] = A_CONTROL,
    ['#'] = A_WILDCARD, ['+'] = A_WILDCARD, [0x7F] = A_CONTROL,
};

static inline bool cont(uint8_t b)
{
    return (b & 0xC0u) == 0x80u;
}

/* SWAR (Hacker's Delight 6-1): a word "may contain" a byte < n. False positives only after a
 * true hit in a lower byte, so it is a filter before the exact per-byte path. */
#define ONES           UINT64_C(0x0101010101010101)
#define HIGHS          UINT64_C(0x8080808080808080)
#define HAS_LESS(x, n) (((x)-ONES * (n)) & ~(x)&HIGHS)
#define HAS_BYTE(x, b) HAS_LESS((x) ^ (ONES * (b)), 1)

/* True if the 8 bytes are ASCII and none is NUL, a control, '+' or '#': the common case of a
 * topic or identifier, checked a word at a time. */
static inline bool plain_ascii8(const uint8_t *s)
{
    uint64_t x;
    memcpy(&x, s, 8);
    return !(x & HIGHS) &&
           !(HAS_LESS(x, 0x20) | HAS_BYTE(x, 0x7F) | HAS_BYTE(x, '+') | HAS_BYTE(x, '#'));
}

int inlet_support_utf8_check(const uint8_t *s, size_t len, unsigned flags)
{
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8 && plain_ascii8(s + i)) {
            i += 8;
            continue;
        }
        uint8_t c = s[i];
        if (c < 0x80u) {
            uint8_t k = ascii_class[c];
            if (k) {
                if (k & A_NUL)
                    return INLET_SUPPORT_UTF8_ILL_FORMED; /* U+0000: 3.1.1 [MQTT-1.5.3-2] */
                if ((k & A_CONTROL) && (flags & INLET_SUPPORT_UTF8_NO_CONTROL))
                    return INLET_SUPPORT_UTF8_NO_CONTROL;
                if ((k & A_WILDCARD) && (flags & INLET_SUPPORT_UTF8_NO_WILDCARD))
                    return (int)INLET_SUPPORT_UTF8_NO_WILDCARD;
            }
            i++;
            continue;
        }
        size_t left = len - i;
        uint32_t cp;
        if (c >= 0xC2u && c <= 0xDFu) {
            if (left < 2 || !cont(s[i + 1]))
                return INLET_SUPPORT_UTF8_ILL_FORMED;
            cp = (uint32_t)(c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu);
            /* C1 controls U+0080..U+009F */
            if (cp <= 0x9Fu && (flags & INLET_SUPPORT_UTF8_NO_CONTROL))
                return INLET_SUPPORT_UTF8_NO_CONTROL;
            i += 2;
        } else if (c >= 0xE0u && c <= 0xEFu) {
            if (left < 3)
                return INLET_SUPPORT_UTF8_ILL_FORMED;
            uint8_t b1 = s[i + 1];
            /* E0: A0..BF (no overlongs); ED: 80..9F (no surrogates) */
            uint8_t lo = c == 0xE0u ? 0xA0u : 0x80u, hi = c == 0xEDu ? 0x9Fu : 0xBFu;
            if (b1 < lo || b1 > hi || !cont(s[i + 2]))
                return INLET_SUPPORT_UTF8_ILL_FORMED;
            cp = (uint32_t)(c & 0x0Fu) << 12 | (uint32_t)(b1 & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu);
            if ((flags & INLET_SUPPORT_UTF8_NO_NONCHAR) &&
                ((cp >= 0xFDD0u && cp <= 0xFDEFu) || (cp & 0xFFFEu) == 0xFFFEu))
                return INLET_SUPPORT_UTF8_NO_NONCHAR;
            i += 3;
        } else if (c >= 0xF0u && c <= 0xF4u) {
            if (left < 4)
                return INLET_SUPPORT_UTF8_ILL_FORMED;
            uint8_t b1 = s[i + 1];
            /* F0: 90..BF (no overlongs); F4: 80..8F (nothing above U+10FFFF) */
            uint8_t lo = c == 0xF0u ? 0x90u : 0x80u, hi = c == 0xF4u ? 0x8Fu : 0xBFu;
            if (b1 < lo || b1 > hi || !cont(s[i + 2]) || !cont(s[i + 3]))
                return INLET_SUPPORT_UTF8_ILL_FORMED;
            cp = (uint32_t)(c & 0x07u) << 18 | (uint32_t)(b1 & 0x3Fu) << 12 |
                 (uint32_t)(s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu);
            if ((flags & INLET_SUPPORT_UTF8_NO_NONCHAR) && (cp & 0xFFFEu) == 0xFFFEu)
                return INLET_SUPPORT_UTF8_NO_NONCHAR;
            i += 4;
        } else {
            /* a stray continuation byte, C0/C1 (always overlong) or F5..FF */
            return INLET_SUPPORT_UTF8_ILL_FORMED;
        }
    }
    return 0;
}

bool inlet_support_utf8_valid(const uint8_t *s, size_t len, unsigned flags)
{
    if (!s)
        return len == 0;
    return inlet_support_utf8_check(s, len, flags & INLET_SUPPORT_UTF8_STRICT) == 0;
}
