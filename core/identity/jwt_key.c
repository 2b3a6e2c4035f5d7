/*
 * jwt_key.c - JWT key material: HS256 secrets, RS256/ES256 public keys (checked against the
 * algorithm they are pinned to) and, for minting tokens in tests and the inlet-token CLI,
 * private keys.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "base64url.h"
#include "file_read.h"
#include "ident_error.h"
#include "jwt_key.h"
#include "tenant.h"

#define SIGNATURE_MAX 1024 /* RSA up to 8192 bits */
#define SECRET_MIN    32   /* RFC 7518 3.2: an HS256 key must have at least 256 bits */
#define SECRET_MAX    4096
#define KEY_FILE_MAX  (1024 * 1024)
#define RSA_BITS_MIN  2048 /* RFC 7518 3.3 */
#define ES256_PART    32

static const char *const alg_names[] = {"HS256", "RS256", "ES256"};

const char *inlet_jwt_alg_name(int alg)
{
    return alg >= INLET_JWT_HS256 && alg <= INLET_JWT_ES256 ? alg_names[alg] : "?";
}

static int str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int inlet_jwt_key_same(const inlet_jwt_key *a, const inlet_jwt_key *b)
{
    if (a->alg != b->alg || !str_same(a->kid, b->kid) || !str_same(a->issuer, b->issuer))
        return 0;
    if (a->alg == INLET_JWT_HS256)
        return a->secret_len == b->secret_len &&
               CRYPTO_memcmp(a->secret, b->secret, a->secret_len) == 0;
    return a->pkey && b->pkey && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

static int key_type_check(EVP_PKEY *pkey, int alg, char *err, size_t err_len)
{
    if (alg == INLET_JWT_RS256) {
        if (!EVP_PKEY_is_a(pkey, "RSA"))
            return inlet_ident_errf(err, err_len, "RS256 needs an RSA key");
        if (EVP_PKEY_get_bits(pkey) < RSA_BITS_MIN)
            return inlet_ident_errf(err, err_len, "RS256 needs an RSA key of at least %d bits",
                                    RSA_BITS_MIN);
        return 0;
    }
    if (alg == INLET_JWT_ES256) {
        char group[64];
        size_t group_len = 0;
        int nid = NID_undef;
        if (EVP_PKEY_is_a(pkey, "EC") &&
            EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) == 1) {
            nid = OBJ_sn2nid(group);
            if (nid == NID_undef)
                nid = EC_curve_nist2nid(group);
        }
        if (nid != NID_X9_62_prime256v1)
            return inlet_ident_errf(err, err_len, "ES256 needs an EC key on P-256");
        return 0;
    }
    return inlet_ident_errf(err, err_len, "HS256 takes a secret, not a key pair");
}

/* PEM "PUBLIC KEY" or a certificate whose key is taken. */
static EVP_PKEY *public_key_load(const char *path, char *err, size_t err_len)
{
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    EVP_PKEY *pkey = NULL;
    BIO *bio = NULL;
    X509 *cert = NULL;

    if (inlet_file_read(path, KEY_FILE_MAX, &pem, &pem_len, err, err_len))
        return NULL;
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio) {
        inlet_ident_errf(err, err_len, "%s: out of memory", path);
        goto done;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (!pkey) {
        BIO_reset(bio);
        cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (cert)
            pkey = X509_get_pubkey(cert);
    }
    if (!pkey)
        inlet_ident_errf(err, err_len, "%s: no PEM public key or certificate", path);
done:
    ERR_clear_error();
    X509_free(cert);
    BIO_free(bio);
    free(pem);
    return pkey;
}

/* An encrypted key must never make the daemon or CLI prompt on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static EVP_PKEY *private_key_load(const char *path, char *err, size_t err_len)
{
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (inlet_file_read(path, KEY_FILE_MAX, &pem, &pem_len, err, err_len))
        return NULL;
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio)
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (!pkey)
        inlet_ident_errf(err, err_len, "%s: no unencrypted PEM private key", path);
    ERR_clear_error();
    BIO_free(bio);
    OPENSSL_cleanse(pem, pem_len);
    free(pem);
    return pkey;
}

static int secret_load(const char *path, unsigned char **out, size_t *out_len, char *err,
                       size_t err_len)
{
    if (inlet_file_read(path, SECRET_MAX, out, out_len, err, err_len))
        return -1;
    if (*out_len < SECRET_MIN) {
        OPENSSL_cleanse(*out, *out_len);
        free(*out);
        *out = NULL;
        return inlet_ident_errf(err, err_len, "%s: an HS256 secret needs at least %d bytes", path,
                                SECRET_MIN);
    }
    return 0;
}

int inlet_jwt_key_load(inlet_jwt_key *k, const inlet_jwt_key_conf *c, char *err, size_t err_len)
{
    if (c->alg < INLET_JWT_HS256 || c->alg > INLET_JWT_ES256)
        return inlet_ident_errf(err, err_len, "alg: out of range");
    k->alg = c->alg;
    if (c->kid && (c->kid[0] == '\0' || strlen(c->kid) > 256))
        return inlet_ident_errf(err, err_len, "kid: must be 1..256 characters");
    if (c->issuer && c->issuer[0] == '\0')
        return inlet_ident_errf(err, err_len, "issuer: must not be empty");
    if (c->clock_skew_ms < 0 || c->clock_skew_ms > 600000)
        return inlet_ident_errf(err, err_len, "clock_skew: must be 0..10m");
    if (c->max_lifetime_ms < 0)
        return inlet_ident_errf(err, err_len, "max_lifetime: must not be negative");
    k->clock_skew_ms = c->clock_skew_ms;
    k->max_lifetime_ms = c->max_lifetime_ms;
    k->kid = c->kid ? strdup(c->kid) : NULL;
    k->issuer = c->issuer ? strdup(c->issuer) : NULL;
    k->device_claim = strdup(c->device_claim && c->device_claim[0] ? c->device_claim : "sub");
    if ((c->kid && !k->kid) || (c->issuer && !k->issuer) || !k->device_claim)
        return inlet_ident_errf(err, err_len, "out of memory");
    if (c->audience.count) {
        k->audience = calloc(c->audience.count, sizeof(char *));
        if (!k->audience)
            return inlet_ident_errf(err, err_len, "out of memory");
        for (size_t i = 0; i < c->audience.count; i++) {
            k->audience[i] = strdup(c->audience.items[i]);
            if (!k->audience[i])
                return inlet_ident_errf(err, err_len, "out of memory");
            k->n_audience = i + 1;
        }
    }

    /* Each key material belongs to one algorithm only, so a configuration cannot make an RSA or
     * EC public key double as an HMAC secret (the RFC 8725 section 2.1 confusion). */
    if (c->alg == INLET_JWT_HS256) {
        if (c->public_key_file)
            return inlet_ident_errf(err, err_len, "public_key_file: not used by HS256");
        if (!c->secret_file)
            return inlet_ident_errf(err, err_len, "secret_file: required for HS256");
        return secret_load(c->secret_file, &k->secret, &k->secret_len, err, err_len);
    }
    if (c->secret_file)
        return inlet_ident_errf(err, err_len, "secret_file: only HS256 keys take a secret");
    if (!c->public_key_file)
        return inlet_ident_errf(err, err_len, "public_key_file: required for %s",
                                inlet_jwt_alg_name(c->alg));
    k->pkey = public_key_load(c->public_key_file, err, err_len);
    if (!k->pkey)
        return -1;
    return key_type_check(k->pkey, c->alg, err, err_len);
}

void inlet_jwt_key_free(inlet_jwt_key *k)
{
    free(k->kid);
    free(k->issuer);
    free(k->device_claim);
    for (size_t i = 0; i < k->n_audience; i++)
        free(k->audience[i]);
    free(k->audience);
    if (k->secret) {
        OPENSSL_cleanse(k->secret, k->secret_len);
        free(k->secret);
    }
    EVP_PKEY_free(k->pkey);
}

/* ---- signing ------------------------------------------------------------------------------ */

static int sign_pkey(const inlet_jwt_key_conf *key, const char *input, size_t input_len,
                     unsigned char *sig, size_t *sig_len, char *err, size_t err_len)
{
    EVP_PKEY *pkey = private_key_load(key->private_key_file, err, err_len);
    EVP_MD_CTX *ctx = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[SIGNATURE_MAX];
    size_t der_len = sizeof(der);
    ECDSA_SIG *es = NULL;
    int rc = -1;

    if (!pkey)
        return -1;
    if (key_type_check(pkey, key->alg, err, err_len))
        goto done;
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
        (key->alg == INLET_JWT_RS256 &&
         EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) ||
        EVP_DigestSign(ctx, der, &der_len, (const unsigned char *)input, input_len) != 1) {
        inlet_ident_errf(err, err_len, "%s: signing failed", key->private_key_file);
        goto done;
    }
    if (key->alg == INLET_JWT_RS256) {
        memcpy(sig, der, der_len);
        *sig_len = der_len;
        rc = 0;
        goto done;
    }
    /* ES256: DER ECDSA-Sig-Value to the fixed-width R || S of RFC 7518 3.4. */
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es) {
        inlet_ident_errf(err, err_len, "ES256: bad signature encoding");
        goto done;
    }
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, ES256_PART) != ES256_PART ||
        BN_bn2binpad(s, sig + ES256_PART, ES256_PART) != ES256_PART) {
        inlet_ident_errf(err, err_len, "ES256: bad signature size");
        goto done;
    }
    *sig_len = 2 * ES256_PART;
    rc = 0;
done:
    ERR_clear_error();
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

static int sign_hs256(const inlet_jwt_key_conf *key, const char *input, size_t input_len,
                      unsigned char *sig, size_t *sig_len, char *err, size_t err_len)
{
    unsigned char *secret = NULL;
    size_t secret_len = 0;
    int rc = 0;

    if (!key->secret_file)
        return inlet_ident_errf(err, err_len, "secret_file: required for HS256");
    if (secret_load(key->secret_file, &secret, &secret_len, err, err_len))
        return -1;
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
                   (const unsigned char *)input, input_len, sig, SIGNATURE_MAX, sig_len))
        rc = inlet_ident_errf(err, err_len, "HMAC-SHA256 failed");
    OPENSSL_cleanse(secret, secret_len);
    free(secret);
    return rc;
}

int inlet_jwt_sign(const inlet_jwt_key_conf *key, const char *claims_json, char **out, char *err,
                   size_t err_len)
{
    json_t *header = NULL, *claims = NULL;
    char *header_text = NULL, *token = NULL;
    unsigned char sig[SIGNATURE_MAX];
    size_t sig_len = 0, claims_len, header_len, cap, o;
    json_error_t jerr;
    int rc = -1;

    *out = NULL;
    if (key->alg < INLET_JWT_HS256 || key->alg > INLET_JWT_ES256)
        return inlet_ident_errf(err, err_len, "alg: out of range");
    if (key->alg != INLET_JWT_HS256 && !key->private_key_file)
        return inlet_ident_errf(err, err_len, "private_key_file: required to sign %s",
                                inlet_jwt_alg_name(key->alg));
    if (!claims_json)
        return inlet_ident_errf(err, err_len, "no claims");
    claims = json_loads(claims_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(claims)) {
        inlet_ident_errf(err, err_len, "claims are not a JSON object");
        goto done;
    }
    header = json_object();
    if (!header || json_object_set_new(header, "alg", json_string(inlet_jwt_alg_name(key->alg))) ||
        json_object_set_new(header, "typ", json_string("JWT")) ||
        (key->kid && json_object_set_new(header, "kid", json_string(key->kid)))) {
        inlet_ident_errf(err, err_len, "out of memory");
        goto done;
    }
    header_text = json_dumps(header, JSON_COMPACT);
    if (!header_text) {
        inlet_ident_errf(err, err_len, "out of memory");
        goto done;
    }
    header_len = strlen(header_text);
    claims_len = strlen(claims_json);
    cap = INLET_BASE64URL_LEN(header_len) + INLET_BASE64URL_LEN(claims_len) +
          INLET_BASE64URL_LEN(SIGNATURE_MAX) + 3;
    token = malloc(cap);
    if (!token) {
        inlet_ident_errf(err, err_len, "out of memory");
        goto done;
    }
    o = inlet_base64url_encode((const unsigned char *)header_text, header_len, token, cap);
    token[o++] = '.';
    o += inlet_base64url_encode((const unsigned char *)claims_json, claims_len, token + o, cap - o);
    if (key->alg == INLET_JWT_HS256) {
        if (sign_hs256(key, token, o, sig, &sig_len, err, err_len))
            goto done;
    } else if (sign_pkey(key, token, o, sig, &sig_len, err, err_len)) {
        goto done;
    }
    token[o++] = '.';
    inlet_base64url_encode(sig, sig_len, token + o, cap - o);
    *out = token;
    token = NULL;
    rc = 0;
done:
    free(token);
    free(header_text);
    json_decref(header);
    json_decref(claims);
    return rc;
}
