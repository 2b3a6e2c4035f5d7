/*
 * jwt_index.h - the JWT keys of every tenant of a set, indexed by kid and by issuer, and the
 * rule that picks the one key a token is verified with. Read-only once built.
 */
#ifndef INLET_JWT_INDEX_H
#define INLET_JWT_INDEX_H

#include <stddef.h>

#include "jwt_key.h"

struct inlet_tenant;

typedef struct inlet_jwt_index {
    const inlet_jwt_key **by_kid; /* sorted by kid; keys without kid are absent */
    size_t n_kid;
    const inlet_jwt_key **by_issuer; /* sorted by issuer, configuration order within one */
    size_t n_issuer;
    const inlet_jwt_key *sole_issuerless; /* the one key without issuer, if exactly one */
} inlet_jwt_index;

/*
 * Fill the zeroed ix from the keys of tenants[0..n); origins[i] is "file:line" of tenants[i],
 * for errors. A kid used twice is an error. On failure ix must still be inlet_jwt_index_free()d.
 */
int inlet_jwt_index_build(inlet_jwt_index *ix, const struct inlet_tenant *tenants, size_t n,
                          const char *const *origins, char *err, size_t err_len);
void inlet_jwt_index_free(inlet_jwt_index *ix);

/*
 * The key a token with header kid and claim iss (either may be NULL) is verified with: by kid
 * if it has one, else the first key of the one tenant using iss, else the sole key with neither.
 * NULL with the reason in msg when that picks no key or is ambiguous.
 */
const inlet_jwt_key *inlet_jwt_index_select(const inlet_jwt_index *ix, const char *kid,
                                            const char *iss, char *msg, size_t msg_len);

#endif
