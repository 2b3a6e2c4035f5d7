/*
 * identity.h - the block behind every inlet_identity the core hands out, and making one. The
 * public side (references, accessors) is in tenant.h.
 *
 * A block is immutable once its maker returns it, apart from the reference count and the caches
 * (successor, quota_slots); it holds one
 * reference to the tenant set it was made from, so its tenant stays valid as long as it does.
 */
#ifndef INLET_IDENTITY_H
#define INLET_IDENTITY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "tenant.h"

struct inlet_tenant;
struct inlet_jwt_key;

/* The client certificate chain an identity was made from (leaf first, DER), kept so that a
 * reload can verify it again against the new CAs and CRLs. One allocation. */
typedef struct inlet_identity_chain {
    size_t n;
    const uint8_t **der; /* point into this allocation */
    size_t *len;
} inlet_identity_chain;

typedef struct inlet_identity_block {
    inlet_identity pub; /* first, so an inlet_identity * is a block * */
    atomic_uint refs;
    inlet_tenants *ts; /* one reference held */
    const struct inlet_tenant *tenant;
    const uint64_t *groups;     /* the device's groups; NULL if it is not in the device table */
    const inlet_limits *limits; /* the device's resolved limits (lives in ts) */
    uint64_t *rules;            /* bit i: rule i's device/group condition matches this device */
    int has_token;              /* made from an opaque token: its digest, to check after reloads */
    unsigned char token_digest[32];
    char imei[16]; /* made from an IMEI (INLET_AUTH_IMEI): it, to check after reloads; else "" */
    int64_t expires_at_us;           /* the credential's end, wall clock; 0 = none */
    const struct inlet_jwt_key *key; /* JWT: the key that verified it (lives in ts) */
    inlet_identity_chain *chain;     /* certificate: owned; NULL otherwise */
    /* The same identity refreshed into a newer tenant set (one reference held), so that a
     * long-lived connection refreshes once per reload, not once per event; see
     * identity_refresh.c. */
    struct inlet_identity_block *successor;
    /* pipeline/quota.c's registry entries of this device and its tenant, cached at first use
     * (set once, then only read), so a long-lived connection looks them up once. */
    _Atomic(void *) quota_slots[2];
} inlet_identity_block;

static inline const inlet_identity_block *inlet_identity_block_of(const inlet_identity *id)
{
    return (const inlet_identity_block *)(const void *)id;
}

/* A new identity (*out, the caller's reference) for device (len bytes, already validated) of
 * tenant t in ts. Takes a reference to ts. */
inlet_status inlet_identity_new(inlet_tenants *ts, const struct inlet_tenant *t, const char *device,
                                size_t len, inlet_auth_method method, inlet_identity **out);

/* A copy of chain[0..n) for inlet_identity_block.chain (free() it), or NULL if out of memory. */
inlet_identity_chain *inlet_identity_chain_copy(const uint8_t *const *chain, const size_t *len,
                                                size_t n);

/* The block behind a new identity, while its maker still fills it in. */
static inline inlet_identity_block *inlet_identity_block_mut(inlet_identity *id)
{
    return (inlet_identity_block *)(void *)id;
}

#endif
