/*
 * device_id.c - the device id rule: 1..128 bytes of UTF-8, no control characters, none of the
 * MQTT topic characters '+', '#' and '/'.
 */
#include <stdint.h>

#include "device_id.h"

const char *inlet_device_id_check(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    if (len == 0)
        return "is empty";
    if (len > INLET_DEVICE_ID_MAX)
        return "is longer than 128 bytes";
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return "contains a control character or NUL";
            /* MQTT topic wildcards and level separator: an id containing them could widen a
             * topic filter built from it (the CVE-2017-7650 class). */
            if (c == '+' || c == '#' || c == '/')
                return "contains '+', '#' or '/'";
            p++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if ((c & 0xe0) == 0xc0) {
            n = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return "is not valid UTF-8";
        }
        if ((size_t)(end - p) < n)
            return "is not valid UTF-8";
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return "is not valid UTF-8";
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* RFC 3629 section 3: no overlong forms, no surrogates, nothing above U+10FFFF. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return "is not valid UTF-8";
        if (cp <= 0x9f)
            return "contains a control character or NUL";
        p += n;
    }
    return NULL;
}
