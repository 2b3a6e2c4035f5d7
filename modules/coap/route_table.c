/*
 * route_table.c - which resource a request's Uri-Path names for its device's tenant: the
 * configured `routes` first, in order (an entry with a tenant only for that tenant's devices),
 * then the defaults ingest_path and payload_path for every tenant. Pure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

void coap_route_table_free(coap_route_table *t)
{
    coap_route_pattern_free(&t->ingest);
    coap_route_pattern_free(&t->payload);
    for (size_t i = 0; t->routes && i < t->n_routes; i++)
        coap_route_pattern_free(&t->routes[i].pattern);
    free(t->routes);
    t->routes = NULL;
    t->n_routes = 0;
}

static int fixed_name(const char *key, const char *v, char *err, size_t err_len)
{
    if (v && !coap_route_name_ok(v, strlen(v))) {
        snprintf(err, err_len, "%s: \"%s\" is not a name (1..128 of a-z 0-9 . _ -)", key, v);
        return -1;
    }
    return 0;
}

static int route_compile(coap_route *r, const coap_route_config *c, char *err, size_t err_len)
{
    char why[160];

    memset(r, 0, sizeof(*r));
    r->tenant = c->tenant;
    r->schema = c->schema;
    r->version = c->version;
    r->kind = c->form == COAP_ROUTE_FORM_EVENTS ? COAP_ROUTE_INGEST : COAP_ROUTE_PAYLOAD;
    if (c->tenant && !c->tenant[0])
        return snprintf(err, err_len, "tenant: must not be empty (leave it out for every tenant)"),
               -1;
    if (!c->path)
        return snprintf(err, err_len, "path: required"), -1;
    if (fixed_name("schema", c->schema, err, err_len) ||
        fixed_name("version", c->version, err, err_len))
        return -1;
    if (coap_route_compile_pattern(&r->pattern, c->path, why, sizeof(why)) != 0)
        return snprintf(err, err_len, "path: %s", why), -1;
    int f = r->pattern.fields;
    const char *bad = NULL;
    if (r->kind == COAP_ROUTE_INGEST && (f || c->schema || c->version))
        bad = "form events takes each event's schema: no {schema}, {version}, schema or version";
    else if (r->kind == COAP_ROUTE_PAYLOAD && ((f & 1) && c->schema))
        bad = "schema: given twice, by {schema} and by the schema key";
    else if (r->kind == COAP_ROUTE_PAYLOAD && ((f & 2) && c->version))
        bad = "version: given twice, by {version} and by the version key";
    else if (r->kind == COAP_ROUTE_PAYLOAD && (!((f & 1) || c->schema) || !((f & 2) || c->version)))
        bad = "form payload needs the schema and its version, from {schema} and {version} "
              "segments or from the schema and version keys";
    if (bad) {
        snprintf(err, err_len, "%s", bad);
        coap_route_pattern_free(&r->pattern);
        return -1;
    }
    return 0;
}

int coap_route_table_add(coap_route_table *t, const coap_route_config *items, size_t n, char *err,
                         size_t err_len)
{
    if (n == 0)
        return 0;
    if ((t->routes = calloc(n, sizeof(*t->routes))) == NULL)
        return snprintf(err, err_len, "out of memory"), -1;
    for (size_t i = 0; i < n; i++) {
        char why[240];
        if (route_compile(&t->routes[i], &items[i], why, sizeof(why)) != 0) {
            snprintf(err, err_len, "routes[%zu].%s", i, why);
            return -1; /* the caller frees the table */
        }
        t->n_routes = i + 1;
    }
    return 0;
}

static void set_fixed(char *dst, const char *v)
{
    if (v) {
        size_t l = strlen(v); /* <= COAP_ROUTE_NAME_MAX: checked at compile */
        memcpy(dst, v, l);
        dst[l] = '\0';
    }
}

void coap_route_match_tenant(const coap_route_table *t, const char *tenant, const char *const *seg,
                             const size_t *len, size_t n, coap_route_match *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 2 && len[0] == 11 && memcmp(seg[0], ".well-known", 11) == 0 && len[1] == 4 &&
        memcmp(seg[1], "core", 4) == 0) {
        out->kind = COAP_ROUTE_WELL_KNOWN;
        return;
    }
    for (size_t i = 0; i < t->n_routes; i++) {
        const coap_route *r = &t->routes[i];
        if (tenant && r->tenant && strcmp(r->tenant, tenant) != 0)
            continue;
        if (coap_route_match_one(&r->pattern, seg, len, n, out)) {
            out->kind = r->kind;
            set_fixed(out->schema, r->schema);
            set_fixed(out->version, r->version);
            return;
        }
        memset(out, 0, sizeof(*out));
    }
    if (coap_route_match_one(&t->ingest, seg, len, n, out)) {
        out->kind = COAP_ROUTE_INGEST;
        return;
    }
    if (coap_route_match_one(&t->payload, seg, len, n, out)) {
        out->kind = COAP_ROUTE_PAYLOAD;
        return;
    }
    memset(out, 0, sizeof(*out));
}

void coap_route_match_path(const coap_route_table *t, const char *const *seg, const size_t *len,
                           size_t n, coap_route_match *out)
{
    coap_route_match_tenant(t, NULL, seg, len, n, out);
}
