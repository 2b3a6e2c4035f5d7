/*
 * base64url.c - base64url encoding and strict decoding, without padding.
 */
#include <stdint.h>

#include "base64url.h"

size_t inlet_base64url_encode(const unsigned char *in, size_t len, char *out, size_t out_len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t need = INLET_BASE64URL_LEN(len), o = 0, i = 0;

    if (out_len < need + 1) {
        if (out_len)
            out[0] = '\0';
        return 0;
    }
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int base64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int inlet_base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_len,
                           size_t *n)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    /* One leftover character carries only 6 bits: never a valid encoding. */
    if (len % 4 == 1)
        return -1;
    if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > out_len)
        return -1;
    for (size_t i = 0; i < len; i++) {
        int v = base64url_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = ((acc << 6) | (uint32_t)v) & 0x3fff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* Non-zero unused bits would give one signature several encodings. */
    if (bits && (acc & ((1u << bits) - 1)))
        return -1;
    *n = o;
    return 0;
}
