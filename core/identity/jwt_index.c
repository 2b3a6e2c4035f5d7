/*
 * jwt_index.c - indexing the JWT keys of a tenant set by kid and by issuer, and selecting the
 * key for a token (see jwt_index.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ident_error.h"
#include "jwt_index.h"
#include "jwt_key.h"
#include "tenant_runtime.h"

static int cmp_kid(const void *a, const void *b)
{
    return strcmp((*(const inlet_jwt_key *const *)a)->kid, (*(const inlet_jwt_key *const *)b)->kid);
}

static int cmp_kid_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(const inlet_jwt_key *const *)elem)->kid);
}

/* Keys sharing an issuer stay in configuration order (tenant, then key), so "the tenant's first
 * key for this issuer" is well defined; qsort is not stable, hence the explicit rank. */
typedef struct ranked_key {
    const inlet_jwt_key *key;
    size_t rank;
} ranked_key;

static int cmp_issuer(const void *a, const void *b)
{
    const ranked_key *ka = a, *kb = b;
    int c = strcmp(ka->key->issuer, kb->key->issuer);
    if (c)
        return c;
    return ka->rank < kb->rank ? -1 : ka->rank > kb->rank;
}

int inlet_jwt_index_build(inlet_jwt_index *ix, const inlet_tenant *tenants, size_t n,
                          const char *const *origins, char *err, size_t err_len)
{
    size_t total = 0, n_issuerless = 0;
    const inlet_jwt_key *issuerless = NULL;
    ranked_key *ranked;

    for (size_t i = 0; i < n; i++)
        total += tenants[i].n_keys;
    if (total == 0)
        return 0;
    ix->by_kid = calloc(total, sizeof(inlet_jwt_key *));
    ix->by_issuer = calloc(total, sizeof(inlet_jwt_key *));
    if (!ix->by_kid || !ix->by_issuer)
        return inlet_ident_errf(err, err_len, "jwt: out of memory");
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < tenants[i].n_keys; j++) {
            const inlet_jwt_key *k = &tenants[i].keys[j];
            if (k->kid)
                ix->by_kid[ix->n_kid++] = k;
            if (k->issuer) {
                ix->by_issuer[ix->n_issuer++] = k;
            } else {
                issuerless = k;
                n_issuerless++;
            }
        }
    }
    if (ix->n_kid > 1)
        qsort(ix->by_kid, ix->n_kid, sizeof(inlet_jwt_key *), cmp_kid);
    for (size_t i = 1; i < ix->n_kid; i++) {
        const inlet_jwt_key *a = ix->by_kid[i - 1], *b = ix->by_kid[i];
        if (strcmp(a->kid, b->kid) == 0) {
            size_t at = (size_t)(b->tenant - tenants);
            /* The kid alone selects the key, and with it the tenant. */
            return inlet_ident_errf(err, err_len,
                                    "%s: tenant %s: jwt kid \"%s\" is used by tenant %s and "
                                    "tenant %s; a kid must be unique across all tenants",
                                    origins && origins[at] ? origins[at] : "tenant",
                                    b->tenant->name, b->kid, a->tenant->name, b->tenant->name);
        }
    }
    ranked = calloc(ix->n_issuer ? ix->n_issuer : 1, sizeof(ranked_key));
    if (!ranked)
        return inlet_ident_errf(err, err_len, "jwt: out of memory");
    for (size_t i = 0; i < ix->n_issuer; i++)
        ranked[i] = (ranked_key){ix->by_issuer[i], i};
    qsort(ranked, ix->n_issuer, sizeof(ranked_key), cmp_issuer);
    for (size_t i = 0; i < ix->n_issuer; i++)
        ix->by_issuer[i] = ranked[i].key;
    free(ranked);
    ix->sole_issuerless = n_issuerless == 1 ? issuerless : NULL;
    return 0;
}

void inlet_jwt_index_free(inlet_jwt_index *ix)
{
    free(ix->by_kid);
    free(ix->by_issuer);
    ix->by_kid = ix->by_issuer = NULL;
    ix->n_kid = ix->n_issuer = 0;
}

const inlet_jwt_key *inlet_jwt_index_select(const inlet_jwt_index *ix, const char *kid,
                                            const char *iss, char *msg, size_t msg_len)
{
    char shown[65];

    if (kid) {
        const inlet_jwt_key *const *k =
            ix->n_kid ? bsearch(kid, ix->by_kid, ix->n_kid, sizeof(inlet_jwt_key *), cmp_kid_key)
                      : NULL;
        if (!k)
            inlet_ident_msgf(msg, msg_len, "unknown kid \"%s\"",
                             inlet_ident_printable(kid, shown, sizeof(shown)));
        return k ? *k : NULL;
    }
    if (iss) {
        size_t lo = 0, hi = ix->n_issuer;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(ix->by_issuer[mid]->issuer, iss) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < ix->n_issuer && strcmp(ix->by_issuer[lo]->issuer, iss) == 0) {
            const inlet_jwt_key *first = ix->by_issuer[lo];
            for (size_t i = lo + 1; i < ix->n_issuer && strcmp(ix->by_issuer[i]->issuer, iss) == 0;
                 i++) {
                if (ix->by_issuer[i]->tenant != first->tenant) {
                    inlet_ident_msgf(msg, msg_len,
                                     "issuer \"%s\" is shared by several tenants; the token "
                                     "needs a kid",
                                     inlet_ident_printable(iss, shown, sizeof(shown)));
                    return NULL;
                }
            }
            return first;
        }
    }
    if (ix->sole_issuerless)
        return ix->sole_issuerless;
    /* Several keys with neither kid nor issuer: nothing in the token can choose between them. */
    inlet_ident_msgf(msg, msg_len,
                     "token has no kid and its iss selects no key (a key with neither kid nor "
                     "issuer is used only when it is the only such key)");
    return NULL;
}
