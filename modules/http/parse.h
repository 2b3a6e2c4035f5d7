/*
 * parse.h - the HTTP module's header parsers that need nothing of h2o: the bearer credential of
 * an Authorization field (RFC 6750 section 2.1) and a media type (RFC 9110 section 8.3.1).
 * Pure functions over (pointer, length), fuzzed by tests/fuzz/fuzz_http_headers.c.
 */
#ifndef INLET_HTTP_PARSE_H
#define INLET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * An Authorization field value "Bearer <b64token>": the scheme is case-insensitive (RFC 9110
 * section 11.1), one or more spaces separate it from the token, surrounding whitespace is
 * ignored. Returns false if the scheme is not Bearer. On true, *token points into v (*token_len
 * may be 0) and *well_formed says whether the token is a b64token
 * (1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=").
 */
bool http_parse_bearer(const char *v, size_t len, const char **token, size_t *token_len,
                       bool *well_formed);

typedef struct http_media_type {
    const char *type, *subtype; /* into the parsed value, not NUL-terminated */
    size_t type_len, subtype_len;
    size_t n_params;
} http_media_type;

/*
 * media-type = type "/" subtype *( OWS ";" OWS [ parameter ] ), parameter = token "=" ( token /
 * quoted-string ), with whitespace around the whole value ignored. false if v is not one.
 */
bool http_parse_media_type(const char *v, size_t len, http_media_type *out);

#endif
