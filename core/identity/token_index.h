/*
 * token_index.h - the opaque bearer tokens of every tenant of a set, as SHA-256 digests sorted
 * for binary search. A digest names exactly one device of one tenant. Read-only once built.
 */
#ifndef INLET_TOKEN_INDEX_H
#define INLET_TOKEN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "tenant.h"

#define INLET_TOKEN_DIGEST_LEN 32 /* SHA-256 */

struct inlet_tenant;

typedef struct inlet_token_entry {
    unsigned char digest[INLET_TOKEN_DIGEST_LEN];
    const struct inlet_tenant *tenant;
    char *device;
    int64_t not_after_us; /* wall clock from which it is refused; 0 = never */
} inlet_token_entry;

typedef struct inlet_token_index {
    inlet_token_entry *entries; /* sorted by digest */
    size_t n;
} inlet_token_index;

/*
 * Fill the zeroed ix from the tokens of confs[i], which built tenants[i] (n of each); origins[i]
 * is "file:line" for errors. Disabled tokens are checked but not indexed: they authenticate
 * nothing. On failure ix holds what was indexed so far: inlet_token_index_free()
 * it. Nothing in confs is retained.
 */
int inlet_token_index_build(inlet_token_index *ix, const struct inlet_tenant *tenants, size_t n,
                            const inlet_tenant_conf *const *confs, const char *const *origins,
                            char *err, size_t err_len);
void inlet_token_index_free(inlet_token_index *ix);

/* The entry with this digest, or NULL; the final comparison takes constant time. */
const inlet_token_entry *inlet_token_index_find(const inlet_token_index *ix,
                                                const unsigned char digest[INLET_TOKEN_DIGEST_LEN]);

/* Does ix map the token with this digest to that tenant and device? (after a reload) */
int inlet_token_index_maps(const inlet_token_index *ix,
                           const unsigned char digest[INLET_TOKEN_DIGEST_LEN], const char *tenant,
                           const char *device);

#endif
