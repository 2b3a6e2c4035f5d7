/*
 * jwt.c - JSON Web Tokens (RFC 7519) as compact JWS (RFC 7515) signed with HS256, RS256 or
 * ES256 (RFC 7518 section 3), verified with OpenSSL EVP against keys whose algorithm is pinned
 * in the configuration. The key is chosen by jwt_index.c; key material and minting are in
 * jwt_key.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base64url.h"
#include "device_id.h"
#include "ident_error.h"
#include "identity.h"
#include "jwt.h"
#include "jwt_index.h"
#include "jwt_key.h"
#include "tenant.h"
#include "tenant_set.h"

#define HEADER_MAX    2048
#define PAYLOAD_MAX   8192
#define SIGNATURE_MAX 1024 /* RSA up to 8192 bits */
#define ES256_PART    32
/* 9999-12-31T23:59:59Z: a NumericDate beyond it (1e300, inf) is not a date but a token that never
 * expires, and would also overflow the integer microseconds identity_expires_at() reports. */
#define NUMERIC_DATE_MAX 253402300799.0

static int verify_hs256(const inlet_jwt_key *k, const char *input, size_t input_len,
                        const unsigned char *sig, size_t sig_len)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;

    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k->secret, k->secret_len,
                   (const unsigned char *)input, input_len, mac, sizeof(mac), &mac_len))
        return -1;
    if (sig_len != mac_len)
        return -1;
    return CRYPTO_memcmp(mac, sig, mac_len) == 0 ? 0 : -1;
}

static int verify_pkey(EVP_PKEY *pkey, const char *input, size_t input_len,
                       const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    if (ctx && EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1) {
        /* RS256 is RSASSA-PKCS1-v1_5 (RFC 7518 3.3), never PSS. */
        if (!EVP_PKEY_is_a(pkey, "RSA") ||
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0)
            ok = EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input, input_len) == 1;
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* RFC 7518 3.4: the JWS signature is R || S, 32 bytes each; OpenSSL wants DER ECDSA-Sig-Value. */
static int verify_es256(const inlet_jwt_key *k, const char *input, size_t input_len,
                        const unsigned char *sig, size_t sig_len)
{
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int der_len, rc = -1;

    if (sig_len != 2 * ES256_PART)
        return -1;
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, ES256_PART, NULL);
    s = BN_bin2bn(sig + ES256_PART, ES256_PART, NULL);
    if (!es || !r || !s)
        goto done;
    if (ECDSA_SIG_set0(es, r, s) != 1)
        goto done;
    r = s = NULL; /* owned by es now */
    der_len = i2d_ECDSA_SIG(es, &der);
    if (der_len <= 0)
        goto done;
    rc = verify_pkey(k->pkey, input, input_len, der, (size_t)der_len);
done:
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return rc;
}

static int signature_verify(const inlet_jwt_key *k, const char *input, size_t input_len,
                            const unsigned char *sig, size_t sig_len)
{
    switch (k->alg) {
    case INLET_JWT_HS256:
        return verify_hs256(k, input, input_len, sig, sig_len);
    case INLET_JWT_RS256:
        if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey))
            return -1;
        return verify_pkey(k->pkey, input, input_len, sig, sig_len);
    case INLET_JWT_ES256:
        return verify_es256(k, input, input_len, sig, sig_len);
    }
    return -1;
}

/* A NumericDate claim (RFC 7519 2): absent is 0, present must be a JSON number. */
static int numeric_date(const json_t *claims, const char *name, int *present, double *out)
{
    const json_t *v = json_object_get(claims, name);

    *present = v != NULL;
    *out = 0;
    if (!v)
        return 0;
    if (!json_is_number(v))
        return -1;
    *out = json_number_value(v);
    /* also refuses NaN: every comparison with it is false */
    return *out >= 0 && *out <= NUMERIC_DATE_MAX ? 0 : -1;
}

static int audience_matches(const inlet_jwt_key *k, const json_t *aud)
{
    for (size_t i = 0; i < k->n_audience; i++) {
        if (json_is_string(aud) && strcmp(json_string_value(aud), k->audience[i]) == 0)
            return 1;
        if (json_is_array(aud)) {
            size_t j;
            const json_t *v;
            json_array_foreach(aud, j, v)
            {
                if (json_is_string(v) && strcmp(json_string_value(v), k->audience[i]) == 0)
                    return 1;
            }
        }
    }
    return 0;
}

static int claims_check(const inlet_jwt_key *k, const json_t *claims, int64_t now_s,
                        int64_t *expires_at_us, char *msg, size_t msg_len)
{
    double now = (double)now_s, skew = (double)k->clock_skew_ms / 1000.0;
    double exp, nbf, iat;
    int has_exp, has_nbf, has_iat;
    const json_t *iss = json_object_get(claims, "iss");
    const json_t *aud = json_object_get(claims, "aud");

    if (numeric_date(claims, "exp", &has_exp, &exp) ||
        numeric_date(claims, "nbf", &has_nbf, &nbf) ||
        numeric_date(claims, "iat", &has_iat, &iat)) {
        inlet_ident_msgf(msg, msg_len,
                         "exp, nbf and iat must be numbers between 0 and 253402300799 (9999)");
        return -1;
    }
    /* exp is required here: a bearer token that never expires cannot be contained. */
    if (!has_exp) {
        inlet_ident_msgf(msg, msg_len, "token has no exp claim");
        return -1;
    }
    /* RFC 7519 4.1.4: valid only while now is before exp (plus leeway). */
    if (now >= exp + skew) {
        inlet_ident_msgf(msg, msg_len, "token expired");
        return -1;
    }
    /* RFC 7519 4.1.5: not before nbf (minus leeway). */
    if (has_nbf && now + skew < nbf) {
        inlet_ident_msgf(msg, msg_len, "token not yet valid (nbf)");
        return -1;
    }
    /* bounded by NUMERIC_DATE_MAX, so this fits an int64_t */
    *expires_at_us = (int64_t)((exp + skew) * 1e6);
    if (has_iat && iat > now + skew) {
        inlet_ident_msgf(msg, msg_len, "token issued in the future (iat)");
        return -1;
    }
    if (k->max_lifetime_ms > 0) {
        double life = (double)k->max_lifetime_ms / 1000.0;
        /* Without iat, bound what is left instead, so a missing iat cannot lift the limit. */
        if ((has_iat && exp - iat > life) || exp - now > life + skew) {
            inlet_ident_msgf(msg, msg_len, "token lifetime exceeds max_lifetime");
            return -1;
        }
    }
    if (iss && !json_is_string(iss)) {
        inlet_ident_msgf(msg, msg_len, "iss must be a string");
        return -1;
    }
    if (k->issuer && (!iss || strcmp(json_string_value(iss), k->issuer) != 0)) {
        inlet_ident_msgf(msg, msg_len, "issuer mismatch");
        return -1;
    }
    /* RFC 7519 4.1.3: a token carrying aud must name us, so a present aud is checked even when
     * it would otherwise be optional. */
    if (aud || k->n_audience) {
        if (!aud || !audience_matches(k, aud)) {
            inlet_ident_msgf(msg, msg_len, "audience mismatch");
            return -1;
        }
    }
    return 0;
}

typedef struct jws_parts {
    const char *part[3];
    size_t len[3];
} jws_parts;

static int jws_split(const char *token, size_t len, jws_parts *p)
{
    size_t k = 0, start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || token[i] == '.') {
            if (k == 3)
                return -1;
            p->part[k] = token + start;
            p->len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k == 3 ? 0 : -1;
}

static json_t *json_part(const char *b64, size_t b64_len, size_t max, const char *what, char *msg,
                         size_t msg_len)
{
    unsigned char *buf = malloc(max);
    size_t n = 0;
    json_t *v = NULL;
    json_error_t jerr;

    if (!buf) {
        inlet_ident_msgf(msg, msg_len, "out of memory");
        return NULL;
    }
    if (inlet_base64url_decode(b64, b64_len, buf, max, &n)) {
        inlet_ident_msgf(msg, msg_len, "%s is not base64url (unpadded) or too long", what);
        goto done;
    }
    /* RFC 7519 4: claim names must be unique; a duplicate could mean different things to
     * different parsers. */
    v = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v || !json_is_object(v)) {
        inlet_ident_msgf(msg, msg_len, "%s is not a JSON object", what);
        json_decref(v);
        v = NULL;
    }
done:
    free(buf);
    return v;
}

inlet_status inlet_jwt_auth(inlet_tenants *ts, const char *token, size_t len, int64_t now_s,
                            inlet_identity **out, char *msg, size_t msg_len)
{
    inlet_status st = INLET_E_UNAUTHENTICATED;
    jws_parts p;
    json_t *header = NULL, *claims = NULL;
    const json_t *alg, *kid, *iss, *dev;
    const inlet_jwt_key *key;
    unsigned char sig[SIGNATURE_MAX];
    size_t sig_len = 0;
    const char *why;
    char shown[32];

    *out = NULL;
    if (jws_split(token, len, &p)) {
        inlet_ident_msgf(msg, msg_len, "not a compact JWS");
        return st;
    }
    header = json_part(p.part[0], p.len[0], HEADER_MAX, "JWT header", msg, msg_len);
    if (!header)
        goto done;
    claims = json_part(p.part[1], p.len[1], PAYLOAD_MAX, "JWT payload", msg, msg_len);
    if (!claims)
        goto done;
    if (inlet_base64url_decode(p.part[2], p.len[2], sig, sizeof(sig), &sig_len)) {
        inlet_ident_msgf(msg, msg_len, "JWT signature is not base64url (unpadded) or too long");
        goto done;
    }

    alg = json_object_get(header, "alg");
    if (!json_is_string(alg)) {
        inlet_ident_msgf(msg, msg_len, "JWT header has no alg");
        goto done;
    }
    /* RFC 8725 3.1: an unsecured JWT is never accepted, whatever else the token says. */
    if (strcasecmp(json_string_value(alg), "none") == 0) {
        inlet_ident_msgf(msg, msg_len, "alg none is not accepted");
        goto done;
    }
    /* RFC 7515 4.1.11: we understand no extensions, so any crit must be refused. */
    if (json_object_get(header, "crit")) {
        inlet_ident_msgf(msg, msg_len, "JWT header has crit parameters, none are supported");
        goto done;
    }
    kid = json_object_get(header, "kid");
    iss = json_object_get(claims, "iss");
    if ((kid && !json_is_string(kid)) || (iss && !json_is_string(iss))) {
        inlet_ident_msgf(msg, msg_len, "kid and iss must be strings");
        goto done;
    }
    key = inlet_jwt_index_select(&ts->jwt, kid ? json_string_value(kid) : NULL,
                                 iss ? json_string_value(iss) : NULL, msg, msg_len);
    if (!key)
        goto done;
    /* The key's algorithm is pinned: the header only has to agree with it. This is what keeps an
     * RS256 public key from being used as an HS256 secret (RFC 8725 2.1). */
    if (strcmp(json_string_value(alg), inlet_jwt_alg_name(key->alg)) != 0) {
        inlet_ident_msgf(msg, msg_len, "alg \"%s\" does not match the key's pinned %s",
                         inlet_ident_printable(json_string_value(alg), shown, sizeof(shown)),
                         inlet_jwt_alg_name(key->alg));
        goto done;
    }
    /* RFC 7515 5.2: the signing input is the ASCII of header '.' payload as sent. */
    if (signature_verify(key, token, p.len[0] + 1 + p.len[1], sig, sig_len)) {
        inlet_ident_msgf(msg, msg_len, "bad JWT signature");
        goto done;
    }
    int64_t expires_at_us = 0;
    if (claims_check(key, claims, now_s, &expires_at_us, msg, msg_len))
        goto done;
    dev = json_object_get(claims, key->device_claim);
    if (!json_is_string(dev)) {
        inlet_ident_msgf(msg, msg_len, "claim \"%s\" with the device id is missing",
                         key->device_claim);
        goto done;
    }
    why = inlet_device_id_check(json_string_value(dev), json_string_length(dev));
    if (why) {
        inlet_ident_msgf(msg, msg_len, "device id in claim \"%s\" %s", key->device_claim, why);
        goto done;
    }
    st = inlet_identity_new(ts, key->tenant, json_string_value(dev), json_string_length(dev),
                            INLET_AUTH_JWT, out);
    if (st != INLET_OK) {
        inlet_ident_msgf(msg, msg_len, "out of memory");
        goto done;
    }
    inlet_identity_block_mut(*out)->expires_at_us = expires_at_us;
    inlet_identity_block_mut(*out)->key = key;
done:
    json_decref(header);
    json_decref(claims);
    return st;
}
