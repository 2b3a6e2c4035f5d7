/*
 * identity_refresh.c - carrying an identity over a configuration reload, so that long-lived
 * connections pick up the new groups and ACL and lose what the reload revoked, and refusing an
 * identity whose credential has expired.
 *
 * A connection's identity is immutable and the module keeps using it; the refreshed identity is
 * cached in it (inlet_identity_block.successor) so every later event of that connection finds
 * it with one lock, instead of verifying a certificate chain again per event. The locks are
 * striped by block address; a successor is only released outside them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "ident_error.h"
#include "identity.h"
#include "imei_index.h"
#include "jwt_key.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"
#include "token_index.h"

#define STRIPES 64

static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *stripe_of(const void *p)
{
    return &stripes[((uintptr_t)p >> 6) % STRIPES];
}

/* The successor cached for ts, with a new reference, or NULL. */
static inlet_identity *successor_get(const inlet_identity_block *old, const inlet_tenants *ts)
{
    inlet_identity *got = NULL;
    pthread_mutex_t *mu = stripe_of(old);

    pthread_mutex_lock(mu);
    if (old->successor && old->successor->ts == ts) {
        got = &old->successor->pub;
        inlet_identity_ref(got);
    }
    pthread_mutex_unlock(mu);
    return got;
}

static void successor_put(const inlet_identity_block *old, inlet_identity *fresh)
{
    inlet_identity_block *b = (inlet_identity_block *)(void *)old, *prev;
    pthread_mutex_t *mu = stripe_of(old);

    inlet_identity_ref(fresh);
    pthread_mutex_lock(mu);
    prev = b->successor;
    b->successor = inlet_identity_block_mut(fresh);
    pthread_mutex_unlock(mu);
    if (prev)
        inlet_identity_release(&prev->pub);
}

/* The key of tenant t that verifies what old did, or NULL if the reload removed or changed it. */
static const inlet_jwt_key *key_kept(const inlet_tenant *t, const inlet_jwt_key *old)
{
    for (size_t i = 0; t && i < t->n_keys; i++) {
        if (inlet_jwt_key_same(&t->keys[i], old))
            return &t->keys[i];
    }
    return NULL;
}

/* The identity the old one is in ts, or a refusal. */
static inlet_status carry_over(inlet_tenants *ts, const inlet_identity_block *old,
                               inlet_identity **out, char *msg, size_t msg_len)
{
    const inlet_identity *id = &old->pub;
    const inlet_jwt_key *key = NULL;
    char why[256];

    const inlet_token_entry *tok = NULL;

    if (old->has_token &&
        !inlet_token_index_maps(&ts->tokens, old->token_digest, id->tenant, id->device_id)) {
        inlet_ident_msgf(msg, msg_len,
                         "the token of %s/%s was revoked (removed or disabled) by a configuration "
                         "reload",
                         id->tenant, id->device_id);
        return INLET_E_UNAUTHENTICATED;
    }
    if (old->has_token)
        tok = inlet_token_index_find(&ts->tokens, old->token_digest);
    if (old->imei[0]) {
        const inlet_imei_entry *e = inlet_imei_index_find(&ts->imeis, old->imei, INLET_IMEI_LEN);
        if (!e || strcmp(e->tenant->name, id->tenant) != 0 || strcmp(e->device, id->device_id)) {
            inlet_ident_msgf(msg, msg_len, "imei %s of %s/%s was removed by a configuration reload",
                             old->imei, id->tenant, id->device_id);
            return INLET_E_UNAUTHENTICATED;
        }
    }
    if (old->key) {
        key = key_kept(inlet_tenants_find(ts, id->tenant), old->key);
        if (!key) {
            inlet_ident_msgf(msg, msg_len,
                             "the JWT key that authenticated %s/%s was removed or changed by a "
                             "configuration reload",
                             id->tenant, id->device_id);
            return INLET_E_UNAUTHENTICATED;
        }
    }
    if (old->chain) {
        /* The new CAs, CRLs and device list decide; the chain must still name this device. */
        inlet_status st = inlet_tenants_auth_cert(ts, old->chain->der, old->chain->len,
                                                  old->chain->n, out, why, sizeof(why));
        if (st == INLET_OK && (strcmp((*out)->tenant, id->tenant) != 0 ||
                               strcmp((*out)->device_id, id->device_id) != 0)) {
            inlet_identity_release(*out);
            *out = NULL;
            snprintf(why, sizeof(why), "it now names another tenant or device");
            st = INLET_E_UNAUTHENTICATED;
        }
        if (st != INLET_OK)
            inlet_ident_msgf(msg, msg_len,
                             "the client certificate of %s/%s is no longer accepted after a "
                             "configuration reload: %s",
                             id->tenant, id->device_id, why);
        return st == INLET_OK ? INLET_OK : INLET_E_UNAUTHENTICATED;
    }
    if (inlet_identity_for_device(ts, id->tenant, id->device_id, id->method, out) != INLET_OK) {
        inlet_ident_msgf(msg, msg_len, "tenant %s is no longer configured", id->tenant);
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_identity_block *fresh = inlet_identity_block_mut(*out);
    fresh->has_token = old->has_token;
    memcpy(fresh->token_digest, old->token_digest, sizeof(fresh->token_digest));
    memcpy(fresh->imei, old->imei, sizeof(fresh->imei));
    /* A token's end is the reloaded file's not_after: a reload may set, move or lift it. */
    fresh->expires_at_us = tok ? tok->not_after_us : old->expires_at_us;
    fresh->key = key;
    return INLET_OK;
}

inlet_status inlet_identity_refresh_at(inlet_tenants *ts, const inlet_identity *id, int64_t now_us,
                                       inlet_identity **out, char *msg, size_t msg_len)
{
    const inlet_identity_block *old = inlet_identity_block_of(id);
    inlet_status st;

    *out = NULL;
    if (old->expires_at_us && now_us >= old->expires_at_us) {
        inlet_ident_msgf(msg, msg_len, "the credential of %s/%s has expired", id->tenant,
                         id->device_id);
        return INLET_E_UNAUTHENTICATED;
    }
    if (old->ts == ts) {
        inlet_identity_ref(id);
        *out = (inlet_identity *)id;
        return INLET_OK;
    }
    *out = successor_get(old, ts);
    if (!*out) {
        st = carry_over(ts, old, out, msg, msg_len);
        if (st != INLET_OK)
            return st;
        successor_put(old, *out);
    }
    /* The reloaded end (a token's not_after) holds for the cached successor too. */
    const inlet_identity_block *fresh = inlet_identity_block_of(*out);
    if (fresh->expires_at_us && now_us >= fresh->expires_at_us) {
        inlet_identity_release(*out);
        *out = NULL;
        inlet_ident_msgf(msg, msg_len, "the credential of %s/%s has expired", id->tenant,
                         id->device_id);
        return INLET_E_UNAUTHENTICATED;
    }
    return INLET_OK;
}

inlet_status inlet_identity_refresh(inlet_tenants *ts, const inlet_identity *id,
                                    inlet_identity **out, char *msg, size_t msg_len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return inlet_identity_refresh_at(ts, id, (int64_t)tv.tv_sec * 1000000 + tv.tv_usec, out, msg,
                                     msg_len);
}
