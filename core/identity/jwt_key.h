/*
 * jwt_key.h - one configured JWT verification key, with its algorithm pinned and its material
 * loaded from the files the tenant file names. Read-only once loaded.
 */
#ifndef INLET_JWT_KEY_H
#define INLET_JWT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "tenant.h"

struct inlet_tenant;

typedef struct inlet_jwt_key {
    const struct inlet_tenant *tenant; /* whose devices it authenticates; set by tenant.c */
    char *kid;                         /* NULL if not configured */
    char *issuer;                      /* NULL = iss is not checked */
    int alg;                           /* inlet_jwt_alg, pinned */
    char **audience;
    size_t n_audience;
    char *device_claim;
    int64_t clock_skew_ms;
    int64_t max_lifetime_ms;
    unsigned char *secret; /* HS256 */
    size_t secret_len;
    EVP_PKEY *pkey; /* RS256 / ES256 public key */
} inlet_jwt_key;

/* Check conf and load its material into the zeroed key. On failure key holds what was loaded
 * so far: inlet_jwt_key_free() it. */
int inlet_jwt_key_load(inlet_jwt_key *key, const inlet_jwt_key_conf *conf, char *err,
                       size_t err_len);
/* Frees what key holds (cleansing an HS256 secret), not key itself. */
void inlet_jwt_key_free(inlet_jwt_key *key);

/* 1 if a and b verify the same tokens the same way: kid, issuer, algorithm and key material. */
int inlet_jwt_key_same(const inlet_jwt_key *a, const inlet_jwt_key *b);

/* "HS256", "RS256" or "ES256" for an inlet_jwt_alg ("?" for anything else). */
const char *inlet_jwt_alg_name(int alg);

#endif
