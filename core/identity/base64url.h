/*
 * base64url.h - base64url without padding (RFC 7515 section 2, RFC 4648 section 5), the
 * encoding of every part of a compact JWS and of the tokens inlet-token makes.
 */
#ifndef INLET_BASE64URL_H
#define INLET_BASE64URL_H

#include <stddef.h>

/* Characters needed to encode n bytes (no padding, no NUL). */
#define INLET_BASE64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Encode len bytes into out (NUL-terminated). Returns the length written, or 0 if out_len is
 * too small (len == 0 also returns 0 and writes ""). */
size_t inlet_base64url_encode(const unsigned char *in, size_t len, char *out, size_t out_len);

/*
 * Strict decoding: only the URL-safe alphabet, no '=' padding, no whitespace, and the unused
 * low bits of the last character must be zero, so every byte string has exactly one encoding.
 * Writes at most out_len bytes; returns 0 and sets *n, or -1.
 */
int inlet_base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_len,
                           size_t *n);

#endif
