/* jwt_test.h - keys generated at test time, a tenant set built from YAML texts, and token
 * helpers shared by test_jwt.c (verification) and test_jwt_keys.c (key configuration). */
#ifndef INLET_JWT_TEST_H
#define INLET_JWT_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "check.h"
#include "config/config.h"
#include "identity/jwt.h"
#include "identity/tenant.h"
#include "tenant_fixture.h"

#define NOW 1800000000LL

static char dir[64];
static char hs_secret[128], hs_beta[128], short_secret[128];
static char rs_pub[128], rs_key[128], es_pub[128], es_key[128], rs_small_pub[128];
static inlet_tenants *ts;

static void path_in_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) == 0 && w == len ? 0 : INLET_E_INTERNAL;
}

static int write_keypair(EVP_PKEY *k, const char *pub, const char *priv)
{
    FILE *f = fopen(pub, "w");
    int ok = f && PEM_write_PUBKEY(f, k) == 1;
    if (f)
        fclose(f);
    if (priv) {
        f = fopen(priv, "w");
        ok = ok && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
        if (f)
            fclose(f);
    }
    return ok ? 0 : INLET_E_INTERNAL;
}

static int setup_keys(void)
{
    unsigned char secret[48];
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256"), *rsa_small = EVP_RSA_gen(1024);
    int rc = -1;

    snprintf(dir, sizeof(dir), "/tmp/inlet-test-jwt-XXXXXX");
    if (!mkdtemp(dir) || !rsa || !ec || !rsa_small)
        goto done;
    path_in_dir(hs_secret, sizeof(hs_secret), "hs.secret");
    path_in_dir(hs_beta, sizeof(hs_beta), "beta.secret");
    path_in_dir(short_secret, sizeof(short_secret), "short.secret");
    path_in_dir(rs_pub, sizeof(rs_pub), "rs.pub.pem");
    path_in_dir(rs_key, sizeof(rs_key), "rs.key.pem");
    path_in_dir(es_pub, sizeof(es_pub), "es.pub.pem");
    path_in_dir(es_key, sizeof(es_key), "es.key.pem");
    path_in_dir(rs_small_pub, sizeof(rs_small_pub), "rs1024.pub.pem");
    if (RAND_bytes(secret, sizeof(secret)) != 1 || write_file(hs_secret, secret, 32) ||
        write_file(hs_beta, secret + 8, 40) || write_file(short_secret, secret, 31) ||
        write_keypair(rsa, rs_pub, rs_key) || write_keypair(ec, es_pub, es_key) ||
        write_keypair(rsa_small, rs_small_pub, NULL))
        goto done;
    rc = 0;
done:
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa_small);
    return rc;
}

static void cleanup_dir(void)
{
    const char *files[] = {hs_secret, hs_beta, short_secret, rs_pub,
                           rs_key,    es_pub,  es_key,       rs_small_pub};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(files[i]);
    rmdir(dir);
}

static inlet_jwt_key_conf signer(const char *kid, int alg, const char *secret_file,
                                 const char *private_key_file)
{
    inlet_jwt_key_conf k;
    memset(&k, 0, sizeof(k));
    k.kid = (char *)kid;
    k.alg = alg;
    k.secret_file = (char *)secret_file;
    k.private_key_file = (char *)private_key_file;
    return k;
}

/* Returns a malloc'd token, or NULL. */
static char *mint(const inlet_jwt_key_conf *k, const char *claims)
{
    char *tok = NULL, err[256];
    if (inlet_jwt_sign(k, claims, &tok, err, sizeof(err))) {
        fprintf(stderr, "sign failed: %s\n", err);
        return NULL;
    }
    return tok;
}

static char *claims(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *claims(const char *fmt, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

static inlet_identity *accept_token(const char *tok, int64_t now, const char *tenant,
                                    const char *device)
{
    inlet_identity *id = NULL;
    char msg[256] = "";
    inlet_status st =
        tok ? inlet_tenants_auth_bearer(ts, tok, strlen(tok), now, &id, msg, sizeof(msg))
            : INLET_E_INTERNAL;
    CHECK(st == INLET_OK);
    if (st != INLET_OK) {
        fprintf(stderr, "  refused: %s\n", msg);
        return NULL;
    }
    CHECK(id->method == INLET_AUTH_JWT);
    CHECK_STR(id->tenant, tenant);
    CHECK_STR(id->device_id, device);
    return id;
}

static void expect_accept(const char *tok, int64_t now, const char *tenant, const char *device)
{
    inlet_identity_release(accept_token(tok, now, tenant, device));
}

static void expect_reject(const char *tok, int64_t now, const char *needle)
{
    inlet_identity *id = (inlet_identity *)1;
    char msg[256] = "";
    CHECK(tok != NULL);
    if (!tok)
        return;
    CHECK(inlet_tenants_auth_bearer(ts, tok, strlen(tok), now, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK(id == NULL);
    CHECK_CONTAINS(msg, needle);
}

#endif
