/*
 * route.h - the pure part of CoAP request mapping: which configured resource a Uri-Path names
 * (and the schema and version it carries), and the bearer token of a Uri-Query. No libcoap, no
 * I/O: the unit tests and fuzz_coap_route drive it directly.
 */
#ifndef INLET_COAP_ROUTE_H
#define INLET_COAP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#define COAP_ROUTE_SEGMENTS 8   /* most Uri-Path options a pattern or a request may have */
#define COAP_ROUTE_NAME_MAX 128 /* longest schema name or version taken from a path */

typedef enum coap_route_kind {
    COAP_ROUTE_NONE = 0,   /* no resource */
    COAP_ROUTE_INGEST,     /* events: {"events": [...]}, one event, or a SenML pack needing
                              nothing else (docs/COAP.md) */
    COAP_ROUTE_PAYLOAD,    /* bare payload of the schema and version in the path */
    COAP_ROUTE_WELL_KNOWN, /* /.well-known/core (RFC 6690) */
} coap_route_kind;

/* A compiled path pattern: literal segments and the placeholders {schema} and {version}. */
typedef struct coap_route_pattern {
    char *text; /* as configured, e.g. "/e/{schema}/{version}"; owned */
    size_t n;
    char *seg[COAP_ROUTE_SEGMENTS];       /* literal segment, or NULL for a placeholder; owned */
    int placeholder[COAP_ROUTE_SEGMENTS]; /* 1 = {schema}, 2 = {version} */
} coap_route_pattern;

typedef struct coap_route_table {
    coap_route_pattern ingest;  /* default "/ingest" */
    coap_route_pattern payload; /* default "/e/{schema}/{version}" */
} coap_route_table;

typedef struct coap_route_match {
    coap_route_kind kind;
    char schema[COAP_ROUTE_NAME_MAX + 1];
    char version[COAP_ROUTE_NAME_MAX + 1];
} coap_route_match;

/* Compile text: segments separated by '/', a leading '/' optional; the payload pattern needs
 * both placeholders, the ingest pattern none. -1 with err. */
int coap_route_compile(coap_route_pattern *p, const char *text, bool payload, char *err,
                       size_t err_len);
void coap_route_pattern_free(coap_route_pattern *p);

/*
 * Match the request's Uri-Path segments (seg[i] of len[i] bytes, n of them; not NUL-terminated,
 * may contain any byte) against the table. A placeholder takes a segment of 1..128 bytes of
 * a-z 0-9 . _ - (schema names and versions, as schemas/README.md names them).
 */
void coap_route_match_path(const coap_route_table *t, const char *const *seg, const size_t *len,
                           size_t n, coap_route_match *out);

/*
 * The token of the Uri-Query options (q[i] of qlen[i] bytes): the value of the first "t=".
 * Returns 1 with *tok / *tok_len pointing into q, 0 when there is none, -1 when there are two
 * (ambiguous: refused rather than guessed).
 */
int coap_route_query_token(const char *const *q, const size_t *qlen, size_t n, const char **tok,
                           size_t *tok_len);

/* The /.well-known/core body (RFC 6690 link format) for t into buf; returns its length, or 0
 * if buf is too small. */
size_t coap_route_link_format(const coap_route_table *t, char *buf, size_t cap);

#endif
