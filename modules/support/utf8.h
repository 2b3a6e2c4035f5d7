/*
 * utf8.h - UTF-8 validation of the strings a protocol carries: MQTT strings (3.1.1 §1.5.3,
 * 5.0 §1.5.4), topic levels and patterns, and any text field a CoAP or TCP module must check
 * before it becomes a Kafka header or an identity.
 *
 * Pure: no allocation, no core, no OpenSSL; fast on ASCII (a word at a time). The unit tests and
 * fuzzers include utf8.c directly.
 */
#ifndef INLET_SUPPORT_UTF8_H
#define INLET_SUPPORT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum inlet_support_utf8_flags {
    /* Also reject U+0001..U+001F and U+007F..U+009F (MQTT: SHOULD NOT). */
    INLET_SUPPORT_UTF8_NO_CONTROL = 1u << 0,
    /* Also reject non-characters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF (MQTT: SHOULD NOT). */
    INLET_SUPPORT_UTF8_NO_NONCHAR = 1u << 1,
    /* What names get: topics, filters, client identifiers, user names. */
    INLET_SUPPORT_UTF8_STRICT = INLET_SUPPORT_UTF8_NO_CONTROL | INLET_SUPPORT_UTF8_NO_NONCHAR,
    /* inlet_support_utf8_check() only: also reject '+' and '#' (MQTT topic names, 5.0 §4.7.1). */
    INLET_SUPPORT_UTF8_NO_WILDCARD = 1u << 8,
};

/* Result of inlet_support_utf8_check() for text that is not UTF-8 at all (or holds U+0000). */
#define INLET_SUPPORT_UTF8_ILL_FORMED (-1)

/* 0 if s[0..len) is valid; INLET_SUPPORT_UTF8_ILL_FORMED; or the one flag (NO_CONTROL,
 * NO_NONCHAR, NO_WILDCARD) whose rule the string breaks, so a caller can pick its error. */
int inlet_support_utf8_check(const uint8_t *s, size_t len, unsigned flags);

/* True if s[0..len) is well-formed UTF-8 (shortest form, no surrogates U+D800..U+DFFF, nothing
 * above U+10FFFF) without U+0000, and passes the NO_CONTROL / NO_NONCHAR checks in flags. len
 * may be 0, and s NULL with it. */
bool inlet_support_utf8_valid(const uint8_t *s, size_t len, unsigned flags);

#endif
