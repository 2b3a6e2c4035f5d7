/* schema_base64url.c - the base64url text of byte strings (RFC 4648 section 5, no padding), as
 * the contentEncoding keyword checks it and messages quote it. */
#include "schema_internal.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c, or -1 outside the URL-safe alphabet. */
static int sextet(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int schema_base64url_valid(const char *s, size_t len)
{
    int last = 0;

    /* 4 characters carry 3 bytes; 2 or 3 carry the last 1 or 2; a lone one carries none. */
    if (len % 4 == 1)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((last = sextet((unsigned char)s[i])) < 0)
            return 0;
    if (len % 4 == 2)
        return (last & 0x0f) == 0;
    if (len % 4 == 3)
        return (last & 0x03) == 0;
    return 1;
}

void schema_base64url_encode(const unsigned char *in, size_t n, char *out)
{
    unsigned v;

    for (; n >= 3; in += 3, n -= 3) {
        v = (unsigned)in[0] << 16 | (unsigned)in[1] << 8 | in[2];
        *out++ = alphabet[v >> 18 & 63];
        *out++ = alphabet[v >> 12 & 63];
        *out++ = alphabet[v >> 6 & 63];
        *out++ = alphabet[v & 63];
    }
    if (n == 0)
        return;
    v = (unsigned)in[0] << 16 | (n == 2 ? (unsigned)in[1] << 8 : 0u);
    *out++ = alphabet[v >> 18 & 63];
    *out++ = alphabet[v >> 12 & 63];
    if (n == 2)
        *out = alphabet[v >> 6 & 63];
}
