/*
 * route.h - the pure part of CoAP request mapping: which configured resource a Uri-Path names
 * (and the schema and version it carries), for which tenant, and the bearer token of a
 * Uri-Query. No libcoap, no I/O: the unit tests and fuzz_coap_route drive it directly.
 *
 * Patterns are matched segment by segment on the Uri-Path options as they arrive (route.c), not
 * by the shared MQTT topic engine (../support/topic.h): a Uri-Path segment may hold any byte,
 * '/' included, so joining segments into a topic would make "a/b" one segment and two alike.
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
    int fields;                           /* the placeholders present: bits 1 and 2 */
} coap_route_pattern;

/* One entry of the module's `routes` option. */
enum { COAP_ROUTE_FORM_PAYLOAD = 0, COAP_ROUTE_FORM_EVENTS = 1 };
typedef struct coap_route_config {
    char *tenant; /* NULL: every tenant */
    char *path;
    int form;               /* COAP_ROUTE_FORM_* */
    char *schema, *version; /* fixed values instead of {schema} / {version} */
} coap_route_config;

/* A configured route (route_table.c); strings borrowed from its coap_route_config. */
typedef struct coap_route {
    const char *tenant; /* NULL: every tenant */
    int kind;           /* COAP_ROUTE_INGEST or COAP_ROUTE_PAYLOAD */
    const char *schema, *version;
    coap_route_pattern pattern;
} coap_route;

typedef struct coap_route_table {
    coap_route_pattern ingest;  /* default "/ingest", every tenant */
    coap_route_pattern payload; /* default "/e/{schema}/{version}", every tenant */
    coap_route *routes;         /* configured, tried first, in order; owned */
    size_t n_routes;
} coap_route_table;

typedef struct coap_route_match {
    coap_route_kind kind;
    char schema[COAP_ROUTE_NAME_MAX + 1];
    char version[COAP_ROUTE_NAME_MAX + 1];
} coap_route_match;

/* Compile text: segments separated by '/', a leading '/' optional, {schema} and {version} each
 * at most once (p->fields says which). -1 with err. */
int coap_route_compile_pattern(coap_route_pattern *p, const char *text, char *err, size_t err_len);
/* The same for a default resource: the payload pattern needs both placeholders, the ingest
 * pattern none. */
int coap_route_compile(coap_route_pattern *p, const char *text, bool payload, char *err,
                       size_t err_len);
void coap_route_pattern_free(coap_route_pattern *p);

/*
 * Match the request's Uri-Path segments (seg[i] of len[i] bytes, n of them; not NUL-terminated,
 * may contain any byte) against the table, for a device of tenant (NULL: any tenant, the check
 * made before authentication). The configured routes are tried first, in order, those of another
 * tenant skipped; then the two defaults. A placeholder takes a segment of 1..128 bytes of
 * a-z 0-9 . _ - (schema names and versions, as schemas/README.md names them).
 */
void coap_route_match_tenant(const coap_route_table *t, const char *tenant, const char *const *seg,
                             const size_t *len, size_t n, coap_route_match *out);
/* coap_route_match_tenant() for any tenant. */
void coap_route_match_path(const coap_route_table *t, const char *const *seg, const size_t *len,
                           size_t n, coap_route_match *out);

/* Compile the configured routes (items[0..n)) into t; -1 with err ("routes[i].path: ..."). */
int coap_route_table_add(coap_route_table *t, const coap_route_config *items, size_t n, char *err,
                         size_t err_len);
/* Free every pattern of t, the defaults too. */
void coap_route_table_free(coap_route_table *t);

/*
 * The token of the Uri-Query options (q[i] of qlen[i] bytes): the value of the first "t=".
 * Returns 1 with *tok / *tok_len pointing into q, 0 when there is none, -1 when there are two
 * (ambiguous: refused rather than guessed).
 */
int coap_route_query_token(const char *const *q, const size_t *qlen, size_t n, const char **tok,
                           size_t *tok_len);

/* Does segment seg of len bytes fit a placeholder (1..128 name characters)? */
bool coap_route_name_ok(const char *seg, size_t len);
/* Match one pattern, copying its captures into out. */
bool coap_route_match_one(const coap_route_pattern *p, const char *const *seg, const size_t *len,
                          size_t n, coap_route_match *out);

/* The /.well-known/core body (RFC 6690 link format) for t's two defaults (the configured routes
 * are not listed: they are tenants' business, and the list is served unauthenticated) into buf;
 * returns its length, or 0 if buf is too small. */
size_t coap_route_link_format(const coap_route_table *t, char *buf, size_t cap);

#endif
