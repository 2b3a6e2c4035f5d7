/* test_jwt.c - JWT bearer tokens: HS256, RS256 and ES256 with keys generated at test time, claim
 * checks, key selection, and the attacks a verifier must refuse (alg none, HS/RS confusion,
 * padding, malformed base64url, wrong-length ES256 signatures). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "check.h"
#include "config/config.h"
#include "identity/jwt.h"
#include "identity/tenant.h"

#define MAX_DOCS 4
#define NOW      1800000000LL

static char dir[64];
static char hs_secret[128], hs_beta[128], short_secret[128];
static char rs_pub[128], rs_key[128], es_pub[128], es_key[128], rs_small_pub[128];
static inlet_tenants *ts;

static int build_yaml(const char *const *docs, size_t n, inlet_tenants **out, char *err,
                      size_t err_len)
{
    inlet_tenant_conf confs[MAX_DOCS];
    const inlet_tenant_conf *ptrs[MAX_DOCS];
    char names[MAX_DOCS][32], origins[MAX_DOCS][40];
    const char *optrs[MAX_DOCS];
    size_t applied = 0;
    int rc = -1;

    *out = NULL;
    memset(confs, 0, sizeof(confs));
    for (size_t i = 0; i < n; i++) {
        inlet_conf_file *f = NULL;
        snprintf(names[i], sizeof(names[i]), "tenant%zu.yaml", i);
        /* These tenants test other things than Kafka isolation: let them share topics. */
        char text[4096];
        snprintf(text, sizeof(text), "%s\n%s", docs[i],
                 strstr(docs[i], "shared_topics") ? "" : "shared_topics: true\n");
        if (inlet_conf_load_string(names[i], text, strlen(text), &f, err, err_len))
            goto done;
        const inlet_conf_node *root = inlet_conf_root(f);
        snprintf(origins[i], sizeof(origins[i]), "%s:%d", names[i], inlet_conf_line(f, root));
        int arc = inlet_conf_apply(f, root, inlet_tenant_options, &confs[i], NULL, err, err_len);
        inlet_conf_file_free(f);
        if (arc)
            goto done;
        applied = i + 1;
        ptrs[i] = &confs[i];
        optrs[i] = origins[i];
    }
    rc = inlet_tenants_build(ptrs, optrs, n, out, err, err_len);
done:
    for (size_t i = 0; i < applied; i++)
        inlet_conf_release(inlet_tenant_options, &confs[i]);
    return rc;
}

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

static int build_main(void)
{
    char acme[2048], beta[512], err[512];

    snprintf(acme, sizeof(acme),
             "tenant: acme\n"
             "topic_prefix: acme.\n"
             "jwt:\n"
             "  - kid: hs1\n"
             "    alg: HS256\n"
             "    secret_file: %s\n"
             "    issuer: https://auth.acme\n"
             "    audience: [inlet, other]\n"
             "  - kid: rs1\n"
             "    alg: RS256\n"
             "    public_key_file: %s\n"
             "    private_key_file: %s\n"
             "    issuer: https://auth.acme\n"
             "    audience: inlet\n"
             "  - kid: es1\n"
             "    alg: ES256\n"
             "    public_key_file: %s\n"
             "    private_key_file: %s\n"
             "    clock_skew: 30s\n"
             "    max_lifetime: 1h\n"
             "  - kid: hs0\n"
             "    alg: HS256\n"
             "    secret_file: %s\n"
             "    issuer: https://zero.acme\n"
             "    max_lifetime: 0\n",
             hs_secret, rs_pub, rs_key, es_pub, es_key, hs_secret);
    snprintf(beta, sizeof(beta),
             "tenant: beta\n"
             "jwt:\n"
             "  - alg: HS256\n"
             "    secret_file: %s\n"
             "    issuer: https://beta.example\n"
             "    device_claim: device\n",
             hs_beta);
    const char *docs[] = {acme, beta};
    if (build_yaml(docs, 2, &ts, err, sizeof(err))) {
        fprintf(stderr, "build failed: %s\n", err);
        return -1;
    }
    return 0;
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

/* header.payload.signature from raw JSON texts; sig is the raw signature bytes. */
static char *assemble(const char *header, const char *payload, const unsigned char *sig,
                      size_t sig_len)
{
    size_t hl = strlen(header), pl = strlen(payload);
    size_t cap =
        INLET_BASE64URL_LEN(hl) + INLET_BASE64URL_LEN(pl) + INLET_BASE64URL_LEN(sig_len) + 3;
    char *out = malloc(cap);
    size_t o = inlet_base64url_encode((const unsigned char *)header, hl, out, cap);
    out[o++] = '.';
    o += inlet_base64url_encode((const unsigned char *)payload, pl, out + o, cap - o);
    out[o++] = '.';
    if (sig_len)
        inlet_base64url_encode(sig, sig_len, out + o, cap - o);
    else
        out[o] = '\0';
    return out;
}

/* An HS256 token over arbitrary header and payload texts, keyed with the bytes of file. */
static char *hs256_raw(const char *header, const char *payload, const char *file)
{
    unsigned char key[4096], mac[32];
    size_t key_len, mac_len = 0;
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    key_len = fread(key, 1, sizeof(key), f);
    fclose(f);
    char *unsigned_tok = assemble(header, payload, NULL, 0);
    size_t input_len = strlen(unsigned_tok) - 1; /* without the trailing '.' */
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, key_len, (unsigned char *)unsigned_tok,
              input_len, mac, sizeof(mac), &mac_len);
    free(unsigned_tok);
    return assemble(header, payload, mac, mac_len);
}

static void test_valid(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf rs = signer("rs1", INLET_JWT_RS256, NULL, rs_key);
    inlet_jwt_key_conf es = signer("es1", INLET_JWT_ES256, NULL, es_key);
    char *t;

    t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"truck-0042\","
                         "\"iat\":%lld,\"exp\":%lld}",
                         NOW, NOW + 600));
    inlet_identity *id = accept_token(t, NOW, "acme", "truck-0042");
    if (id) {
        CHECK(id->size == sizeof(inlet_identity));
        CHECK_STR(inlet_identity_topic_prefix(id), "acme.");
        inlet_identity_release(id);
    }
    /* aud as an array containing one configured audience. */
    free(t);
    t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":[\"x\",\"other\"],\"sub\":\"d1\","
                         "\"exp\":%lld.5}",
                         NOW + 10));
    expect_accept(t, NOW, "acme", "d1");
    free(t);

    t = mint(&rs, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"truck-7\","
                         "\"exp\":%lld}",
                         NOW + 600));
    expect_accept(t, NOW, "acme", "truck-7");
    free(t);

    t = mint(&es,
             claims("{\"sub\":\"sensor-\\u00e9\",\"iat\":%lld,\"exp\":%lld}", NOW, NOW + 3600));
    expect_accept(t, NOW, "acme", "sensor-\xc3\xa9");
    free(t);

    /* No kid: the issuer selects beta's key, and beta reads the device from "device". */
    inlet_jwt_key_conf beta = signer(NULL, INLET_JWT_HS256, hs_beta, NULL);
    t = mint(&beta, claims("{\"iss\":\"https://beta.example\",\"device\":\"meter-1\",\"sub\":\"x\","
                           "\"exp\":%lld}",
                           NOW + 60));
    expect_accept(t, NOW, "beta", "meter-1");
    free(t);

    /* No kid, acme's issuer: acme's first key for that issuer (hs1) is the one. */
    inlet_jwt_key_conf hs_nokid = signer(NULL, INLET_JWT_HS256, hs_secret, NULL);
    t = mint(&hs_nokid, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"d2\","
                               "\"exp\":%lld}",
                               NOW + 60));
    expect_accept(t, NOW, "acme", "d2");
    free(t);
    inlet_jwt_key_conf rs_nokid = signer(NULL, INLET_JWT_RS256, NULL, rs_key);
    t = mint(&rs_nokid, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"d2\","
                               "\"exp\":%lld}",
                               NOW + 60));
    expect_reject(t, NOW, "pinned HS256");
    free(t);
}

static void test_time(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf es = signer("es1", INLET_JWT_ES256, NULL, es_key);
    const char *base = "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"d\"";
    char *t;

    /* Expired beyond the 60 s default skew; expired but within it; exp exactly at the edge. */
    t = mint(&hs, claims("%s,\"exp\":%lld}", base, NOW - 61));
    expect_reject(t, NOW, "expired");
    free(t);
    t = mint(&hs, claims("%s,\"exp\":%lld}", base, NOW - 59));
    expect_accept(t, NOW, "acme", "d");
    free(t);
    t = mint(&hs, claims("%s,\"exp\":%lld}", base, NOW - 60));
    expect_reject(t, NOW, "expired");
    free(t);

    /* nbf in the future beyond and within the skew. */
    t = mint(&hs, claims("%s,\"nbf\":%lld,\"exp\":%lld}", base, NOW + 300, NOW + 600));
    expect_reject(t, NOW, "not yet valid");
    free(t);
    t = mint(&hs, claims("%s,\"nbf\":%lld,\"exp\":%lld}", base, NOW + 45, NOW + 600));
    expect_accept(t, NOW, "acme", "d");
    free(t);

    /* es1 has a 30 s skew and a 1 h max_lifetime. */
    t = mint(&es, claims("{\"sub\":\"d\",\"exp\":%lld}", NOW - 40));
    expect_reject(t, NOW, "expired");
    free(t);
    t = mint(&es, claims("{\"sub\":\"d\",\"iat\":%lld,\"exp\":%lld}", NOW, NOW + 7200));
    expect_reject(t, NOW, "max_lifetime");
    free(t);
    t = mint(&es, claims("{\"sub\":\"d\",\"exp\":%lld}", NOW + 7200)); /* no iat to measure */
    expect_reject(t, NOW, "max_lifetime");
    free(t);
    t = mint(&es, claims("{\"sub\":\"d\",\"iat\":%lld,\"exp\":%lld}", NOW + 600, NOW + 900));
    expect_reject(t, NOW, "issued in the future");
    free(t);

    /* exp is required and must be a number. */
    t = mint(&hs, claims("%s}", base));
    expect_reject(t, NOW, "no exp");
    free(t);
    t = mint(&hs, claims("%s,\"exp\":\"%lld\"}", base, NOW + 60));
    expect_reject(t, NOW, "must be numbers");
    free(t);
    t = mint(&hs, claims("%s,\"exp\":%lld,\"nbf\":true}", base, NOW + 60));
    expect_reject(t, NOW, "must be numbers");
    free(t);
}

/* Regression: with max_lifetime unset a token with exp 1e300 never expired. */
static void test_lifetime_default(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf hs0 = signer("hs0", INLET_JWT_HS256, hs_secret, NULL);
    const char *base = "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"d\"";
    const char *base0 = "{\"iss\":\"https://zero.acme\",\"sub\":\"d\"";
    char *t;

    /* hs1 configures no max_lifetime: the 24 h default applies. */
    t = mint(&hs, claims("%s,\"exp\":1e300}", base));
    expect_reject(t, NOW, "between 0 and");
    free(t);
    t = mint(&hs, claims("%s,\"iat\":%lld,\"exp\":%lld}", base, NOW, NOW + 2 * 86400));
    expect_reject(t, NOW, "max_lifetime");
    free(t);
    t = mint(&hs, claims("%s,\"exp\":%lld}", base, NOW + 25 * 3600)); /* no iat */
    expect_reject(t, NOW, "max_lifetime");
    free(t);
    t = mint(&hs, claims("%s,\"iat\":%lld,\"exp\":%lld}", base, NOW, NOW + 23 * 3600));
    expect_accept(t, NOW, "acme", "d");
    free(t);
    /* max_lifetime: 0 lifts the bound, but not past what a date can be. */
    t = mint(&hs0, claims("%s,\"exp\":%lld}", base0, NOW + 300LL * 86400));
    expect_accept(t, NOW, "acme", "d");
    free(t);
    t = mint(&hs0, claims("%s,\"exp\":1e300}", base0));
    expect_reject(t, NOW, "between 0 and");
    free(t);
    t = mint(&hs0, claims("%s,\"exp\":253402300800}", base0));
    expect_reject(t, NOW, "between 0 and");
    free(t);
    t = mint(&hs0, claims("%s,\"exp\":%lld,\"iat\":-5}", base0, NOW + 60));
    expect_reject(t, NOW, "between 0 and");
    free(t);
}

/* A JWT identity knows when it ends, and a reload that drops its key ends it. */
static void test_expiry_and_reload(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_identity *id, *fresh = NULL, *again = NULL;
    inlet_tenants *same = NULL, *dropped = NULL;
    char msg[256] = "", err[512], doc[512];
    char *t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":"
                               "\"d\",\"exp\":%lld}",
                               NOW + 600));

    id = accept_token(t, NOW, "acme", "d");
    free(t);
    if (!id)
        return;
    /* exp plus hs1's default 60 s clock_skew: when inletd stops accepting it */
    CHECK(inlet_identity_expires_at(id) == (NOW + 660) * 1000000LL);
    CHECK(inlet_identity_refresh_at(ts, id, (NOW + 659) * 1000000LL, &fresh, msg, sizeof(msg)) ==
          INLET_OK);
    CHECK(fresh == id);
    inlet_identity_release(fresh);
    CHECK(inlet_identity_refresh_at(ts, id, (NOW + 660) * 1000000LL, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK_CONTAINS(msg, "expired");

    /* a reload keeping the key: refreshed once, then the cached identity */
    snprintf(doc, sizeof(doc),
             "tenant: acme\njwt:\n  - kid: hs1\n    alg: HS256\n    secret_file: %s\n"
             "    issuer: https://auth.acme\n    audience: inlet\n",
             hs_secret);
    const char *docs[] = {doc};
    CHECK(build_yaml(docs, 1, &same, err, sizeof(err)) == 0);
    CHECK(same && inlet_identity_refresh_at(same, id, NOW * 1000000LL, &fresh, msg, sizeof(msg)) ==
                      INLET_OK);
    CHECK(fresh && fresh != id &&
          inlet_identity_expires_at(fresh) == inlet_identity_expires_at(id));
    CHECK(same && inlet_identity_refresh_at(same, id, NOW * 1000000LL, &again, msg, sizeof(msg)) ==
                      INLET_OK);
    CHECK(again == fresh);
    inlet_identity_release(fresh);
    inlet_identity_release(again);

    /* a reload in which hs1 has another secret: the connection's key is gone */
    snprintf(doc, sizeof(doc),
             "tenant: acme\njwt:\n  - kid: hs1\n    alg: HS256\n    secret_file: %s\n"
             "    issuer: https://auth.acme\n",
             hs_beta);
    CHECK(build_yaml(docs, 1, &dropped, err, sizeof(err)) == 0);
    fresh = (inlet_identity *)1;
    CHECK(dropped && inlet_identity_refresh_at(dropped, id, NOW * 1000000LL, &fresh, msg,
                                               sizeof(msg)) == INLET_E_UNAUTHENTICATED);
    CHECK(fresh == NULL);
    CHECK_CONTAINS(msg, "JWT key");
    inlet_identity_release(id);
    inlet_tenants_release(same);
    inlet_tenants_release(dropped);
}

static void test_claims(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf beta = signer(NULL, INLET_JWT_HS256, hs_beta, NULL);
    char *t;

    t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"elsewhere\",\"sub\":\"d\","
                         "\"exp\":%lld}",
                         NOW + 60));
    expect_reject(t, NOW, "audience mismatch");
    free(t);
    t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":[],\"sub\":\"d\",\"exp\":%lld}",
                         NOW + 60));
    expect_reject(t, NOW, "audience mismatch");
    free(t);
    t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"sub\":\"d\",\"exp\":%lld}", NOW + 60));
    expect_reject(t, NOW, "audience mismatch");
    free(t);
    t = mint(&hs, claims("{\"iss\":\"https://evil.example\",\"aud\":\"inlet\",\"sub\":\"d\","
                         "\"exp\":%lld}",
                         NOW + 60));
    expect_reject(t, NOW, "issuer mismatch");
    free(t);
    t = mint(&hs, claims("{\"aud\":\"inlet\",\"sub\":\"d\",\"exp\":%lld}", NOW + 60));
    expect_reject(t, NOW, "issuer mismatch");
    free(t);
    /* RFC 7519 4.1.3: beta configures no audience, so a token addressed to someone is not ours. */
    t = mint(&beta, claims("{\"iss\":\"https://beta.example\",\"aud\":\"x\",\"device\":\"d\","
                           "\"exp\":%lld}",
                           NOW + 60));
    expect_reject(t, NOW, "audience mismatch");
    free(t);

    /* The device id is validated like every other. */
    const char *bad_devices[] = {"\"a/b\"", "\"a+b\"", "\"#\"", "\"\"", "42", "\"tab\\there\""};
    for (size_t i = 0; i < sizeof(bad_devices) / sizeof(bad_devices[0]); i++) {
        t = mint(&hs, claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":%s,"
                             "\"exp\":%lld}",
                             bad_devices[i], NOW + 60));
        expect_reject(t, NOW, "device");
        free(t);
    }
    t = mint(&hs,
             claims("{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"exp\":%lld}", NOW + 60));
    expect_reject(t, NOW, "claim \"sub\"");
    free(t);
}

static void test_attacks(void)
{
    inlet_jwt_key_conf hs = signer("hs1", INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf rs = signer("rs1", INLET_JWT_RS256, NULL, rs_key);
    inlet_jwt_key_conf es = signer("es1", INLET_JWT_ES256, NULL, es_key);
    char payload[256];
    char *t, *u;

    snprintf(payload, sizeof(payload),
             "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"d\",\"exp\":%lld}",
             NOW + 60);

    /* alg none, in any case, with or without a signature. */
    t = assemble("{\"alg\":\"none\",\"kid\":\"hs1\"}", payload, NULL, 0);
    expect_reject(t, NOW, "alg none");
    free(t);
    t = hs256_raw("{\"alg\":\"None\"}", payload, hs_secret);
    expect_reject(t, NOW, "alg none");
    free(t);
    t = hs256_raw("{\"kid\":\"hs1\"}", payload, hs_secret);
    expect_reject(t, NOW, "no alg");
    free(t);

    /* HS/RS confusion: HMAC keyed with the RS256 public key PEM, header alg HS256, kid of the
     * RS256 key. The key's pinned alg refuses it before any HMAC is computed. */
    inlet_jwt_key_conf confused = signer("rs1", INLET_JWT_HS256, rs_pub, NULL);
    t = mint(&confused, payload);
    expect_reject(t, NOW, "pinned RS256");
    free(t);
    /* And RS256 presented to an HS256 key. */
    inlet_jwt_key_conf rs_as_hs = signer("hs1", INLET_JWT_RS256, NULL, rs_key);
    t = mint(&rs_as_hs, payload);
    expect_reject(t, NOW, "pinned HS256");
    free(t);

    /* Bad signatures: one character changed, swapped between algorithms, empty. */
    t = mint(&rs, payload);
    if (t) {
        char *sig = strrchr(t, '.') + 1;
        sig[0] = sig[0] == 'A' ? 'B' : 'A';
        expect_reject(t, NOW, "bad JWT signature");
        *strrchr(t, '.') = '\0';
        u = malloc(strlen(t) + 2);
        sprintf(u, "%s.", t);
        expect_reject(u, NOW, "bad JWT signature");
        free(u);
    }
    free(t);
    t = mint(&hs, payload);
    if (t) {
        size_t n = strlen(t);
        t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
        expect_reject(t, NOW, "bad JWT signature");
    }
    free(t);
    /* Payload changed after signing. */
    t = mint(&hs, payload);
    if (t) {
        char other[256];
        snprintf(other, sizeof(other),
                 "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"e\",\"exp\":%lld}",
                 NOW + 60);
        char *sig = strrchr(t, '.');
        char *hdr_end = strchr(t, '.');
        *hdr_end = '\0';
        char *forged = malloc(2048);
        char p64[512];
        inlet_base64url_encode((const unsigned char *)other, strlen(other), p64, sizeof(p64));
        snprintf(forged, 2048, "%s.%s%s", t, p64, sig);
        expect_reject(forged, NOW, "bad JWT signature");
        free(forged);
    }
    free(t);

    /* Malformed base64url: a character outside the alphabet, padding, standard base64. */
    t = mint(&hs, payload);
    if (t) {
        size_t hl = (size_t)(strchr(t, '.') - t);
        char *bad = malloc(strlen(t) + 4);
        memcpy(bad, t, hl);
        memcpy(bad + hl, "==", 2);
        strcpy(bad + hl + 2, t + hl);
        expect_reject(bad, NOW, "not base64url");
        strcpy(bad, t);
        bad[hl + 3] = '*';
        expect_reject(bad, NOW, "not base64url");
        strcpy(bad, t);
        bad[1] = '+';
        expect_reject(bad, NOW, "not base64url");
        strcpy(bad, t);
        strcat(bad, "=");
        expect_reject(bad, NOW, "not base64url");
        free(bad);
    }
    free(t);

    /* Only three parts make a JWS; a five-part JWE is just an unknown opaque token. */
    expect_reject("a.b.c.d.e", NOW, "unknown bearer token");
    expect_reject("..", NOW, "JWT header");
    expect_reject("eyJhbGciOiJIUzI1NiJ9..", NOW, "JWT payload");

    t = mint(
        &(inlet_jwt_key_conf){.kid = "nobody", .alg = INLET_JWT_HS256, .secret_file = hs_secret},
        payload);
    expect_reject(t, NOW, "unknown kid");
    free(t);
    t = hs256_raw("{\"alg\":\"HS256\",\"kid\":\"hs1\",\"crit\":[\"exp\"]}", payload, hs_secret);
    expect_reject(t, NOW, "crit");
    free(t);
    t = hs256_raw("{\"alg\":\"HS256\",\"kid\":\"hs1\",\"kid\":\"rs1\"}", payload, hs_secret);
    expect_reject(t, NOW, "not a JSON object");
    free(t);
    t = hs256_raw("{\"alg\":\"HS256\",\"kid\":7}", payload, hs_secret);
    expect_reject(t, NOW, "must be strings");
    free(t);

    /* ES256 signatures are exactly R || S: 64 bytes. Shorter, longer and DER are refused. */
    t = mint(&es, payload);
    if (t) {
        char *dot = strrchr(t, '.');
        unsigned char sig[128];
        size_t sig_len = 0;
        CHECK(inlet_base64url_decode(dot + 1, strlen(dot + 1), sig, sizeof(sig), &sig_len) == 0);
        CHECK(sig_len == 64);
        *dot = '\0';
        char *p = strchr(t, '.');
        *p = '\0';
        char hdr[256], pay[512];
        unsigned char hdr_raw[256], pay_raw[512];
        size_t hn = 0, pn = 0;
        inlet_base64url_decode(t, strlen(t), hdr_raw, sizeof(hdr_raw), &hn);
        inlet_base64url_decode(p + 1, strlen(p + 1), pay_raw, sizeof(pay_raw), &pn);
        memcpy(hdr, hdr_raw, hn);
        hdr[hn] = '\0';
        memcpy(pay, pay_raw, pn);
        pay[pn] = '\0';
        u = assemble(hdr, pay, sig, 63);
        expect_reject(u, NOW, "bad JWT signature");
        free(u);
        sig[64] = 0;
        u = assemble(hdr, pay, sig, 65);
        expect_reject(u, NOW, "bad JWT signature");
        free(u);
        memset(sig, 0, 64);
        u = assemble(hdr, pay, sig, 64);
        expect_reject(u, NOW, "bad JWT signature");
        free(u);

        /* A DER ECDSA-Sig-Value over the right input is still not a JWS ES256 signature. */
        FILE *f = fopen(es_key, "r");
        EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        char *unsigned_tok = assemble(hdr, pay, NULL, 0);
        size_t in_len = strlen(unsigned_tok) - 1;
        unsigned char der[128];
        size_t der_len = sizeof(der);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        CHECK(k && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
              EVP_DigestSign(ctx, der, &der_len, (unsigned char *)unsigned_tok, in_len) == 1);
        u = assemble(hdr, pay, der, der_len);
        expect_reject(u, NOW, "bad JWT signature");
        free(u);
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(k);
        free(unsigned_tok);
    }
    free(t);
}

static void expect_build_error(const char *doc_a, const char *doc_b, const char *needle)
{
    const char *docs[] = {doc_a, doc_b};
    inlet_tenants *bad = NULL;
    char err[512] = "";
    CHECK(build_yaml(docs, doc_b ? 2 : 1, &bad, err, sizeof(err)) != 0);
    CHECK(bad == NULL);
    CHECK_CONTAINS(err, needle);
}

static void test_build_errors(void)
{
    char a[512], b[512];

    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - kid: k\n    alg: HS256\n    secret_file: %s\n",
             hs_secret);
    snprintf(b, sizeof(b), "tenant: b\njwt:\n  - kid: k\n    alg: HS256\n    secret_file: %s\n",
             hs_beta);
    expect_build_error(a, b, "kid \"k\" is used by tenant a and tenant b");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: HS256\n    secret_file: %s\n", short_secret);
    expect_build_error(a, NULL, "at least 32 bytes");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: RS256\n    secret_file: %s\n", hs_secret);
    expect_build_error(a, NULL, "only HS256 keys take a secret");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: HS256\n    public_key_file: %s\n", rs_pub);
    expect_build_error(a, NULL, "public_key_file: not used by HS256");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: RS256\n    public_key_file: %s\n", es_pub);
    expect_build_error(a, NULL, "RS256 needs an RSA key");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: ES256\n    public_key_file: %s\n", rs_pub);
    expect_build_error(a, NULL, "ES256 needs an EC key on P-256");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: RS256\n    public_key_file: %s\n",
             rs_small_pub);
    expect_build_error(a, NULL, "at least 2048 bits");
    snprintf(a, sizeof(a), "tenant: a\njwt:\n  - alg: RS256\n    public_key_file: %s\n", hs_secret);
    expect_build_error(a, NULL, "no PEM public key");
    expect_build_error("tenant: a\njwt:\n  - alg: RS256\n    public_key_file: /nonexistent.pem\n",
                       NULL, "/nonexistent.pem");
    expect_build_error("tenant: a\njwt:\n  - alg: RS256\n", NULL, "public_key_file: required");
    expect_build_error("tenant: a\njwt:\n  - alg: none\n", NULL, "alg");
    expect_build_error("tenant: a\njwt:\n  - kid: x\n", NULL, "alg");
    snprintf(a, sizeof(a),
             "tenant: a\njwt:\n  - alg: HS256\n    secret_file: %s\n    clock_skew: 11m\n",
             hs_secret);
    expect_build_error(a, NULL, "clock_skew");
}

static void test_ambiguous_issuer(void)
{
    char a[512], b[512], err[512];
    inlet_tenants *set = NULL, *saved = ts;

    snprintf(a, sizeof(a),
             "tenant: a\njwt:\n  - alg: HS256\n    secret_file: %s\n    issuer: https://shared\n",
             hs_secret);
    snprintf(b, sizeof(b),
             "tenant: b\njwt:\n  - kid: bk\n    alg: HS256\n    secret_file: %s\n"
             "    issuer: https://shared\n",
             hs_beta);
    const char *docs[] = {a, b};
    CHECK(build_yaml(docs, 2, &set, err, sizeof(err)) == 0);
    if (!set)
        return;
    ts = set;
    inlet_jwt_key_conf ka = signer(NULL, INLET_JWT_HS256, hs_secret, NULL);
    inlet_jwt_key_conf kb = signer("bk", INLET_JWT_HS256, hs_beta, NULL);
    char *t =
        mint(&ka, claims("{\"iss\":\"https://shared\",\"sub\":\"d\",\"exp\":%lld}", NOW + 60));
    expect_reject(t, NOW, "shared by several tenants");
    free(t);
    /* The kid settles it. */
    t = mint(&kb, claims("{\"iss\":\"https://shared\",\"sub\":\"d\",\"exp\":%lld}", NOW + 60));
    expect_accept(t, NOW, "b", "d");
    free(t);
    ts = saved;
    inlet_tenants_release(set);

    /* A single key with no issuer and no kid takes kid-less tokens. */
    snprintf(a, sizeof(a), "tenant: solo\njwt:\n  - alg: HS256\n    secret_file: %s\n", hs_secret);
    const char *solo[] = {a};
    CHECK(build_yaml(solo, 1, &set, err, sizeof(err)) == 0);
    if (!set)
        return;
    ts = set;
    t = mint(&ka, claims("{\"sub\":\"d\",\"exp\":%lld}", NOW + 60));
    expect_accept(t, NOW, "solo", "d");
    free(t);
    ts = saved;
    inlet_tenants_release(set);
}

typedef struct verifier {
    const char *token;
    const char *device;
    int ok;
} verifier;

static void *verifier_run(void *arg)
{
    verifier *v = arg;
    char msg[256];

    for (int i = 0; i < 200; i++) {
        inlet_identity *id = NULL;
        if (inlet_tenants_auth_bearer(ts, v->token, strlen(v->token), NOW, &id, msg, sizeof(msg)) !=
                INLET_OK ||
            strcmp(id->device_id, v->device) != 0)
            return NULL;
        inlet_identity_release(id);
    }
    v->ok = 1;
    return NULL;
}

/* The same keys verify from many threads at once. */
static void test_threads(void)
{
    inlet_jwt_key_conf keys[3] = {signer("hs1", INLET_JWT_HS256, hs_secret, NULL),
                                  signer("rs1", INLET_JWT_RS256, NULL, rs_key),
                                  signer("es1", INLET_JWT_ES256, NULL, es_key)};
    const char *fmt[3] = {
        "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"t%d\",\"exp\":%lld}",
        "{\"iss\":\"https://auth.acme\",\"aud\":\"inlet\",\"sub\":\"t%d\",\"exp\":%lld}",
        "{\"sub\":\"t%d\",\"exp\":%lld}"};
    char *tokens[6], devices[6][8];
    pthread_t th[6];
    verifier v[6];

    for (int i = 0; i < 6; i++) {
        snprintf(devices[i], sizeof(devices[i]), "t%d", i);
        tokens[i] = mint(&keys[i % 3], claims(fmt[i % 3], i, NOW + 60));
        v[i] = (verifier){tokens[i], devices[i], 0};
        if (tokens[i])
            pthread_create(&th[i], NULL, verifier_run, &v[i]);
    }
    for (int i = 0; i < 6; i++) {
        if (tokens[i])
            pthread_join(th[i], NULL);
        CHECK(v[i].ok == 1);
        free(tokens[i]);
    }
}

static void test_base64url(void)
{
    char out[16];
    unsigned char raw[16];
    size_t n = 99;

    /* RFC 4648 section 10 vectors, unpadded, URL alphabet. */
    CHECK(inlet_base64url_encode((const unsigned char *)"f", 1, out, sizeof(out)) == 2);
    CHECK_STR(out, "Zg");
    CHECK(inlet_base64url_encode((const unsigned char *)"foob", 4, out, sizeof(out)) == 6);
    CHECK_STR(out, "Zm9vYg");
    CHECK(inlet_base64url_encode((const unsigned char *)"\xfb\xff", 2, out, sizeof(out)) == 3);
    CHECK_STR(out, "-_8");
    CHECK(inlet_base64url_encode((const unsigned char *)"foobar", 6, out, 8) == 0);
    CHECK(inlet_base64url_decode("Zm9vYmFy", 8, raw, sizeof(raw), &n) == 0 && n == 6 &&
          memcmp(raw, "foobar", 6) == 0);
    CHECK(inlet_base64url_decode("-_8", 3, raw, sizeof(raw), &n) == 0 && n == 2 && raw[0] == 0xfb &&
          raw[1] == 0xff);
    CHECK(inlet_base64url_decode("Zg==", 4, raw, sizeof(raw), &n) == -1);
    CHECK(inlet_base64url_decode("Zh", 2, raw, sizeof(raw), &n) == -1); /* non-zero spare bits */
    CHECK(inlet_base64url_decode("Z", 1, raw, sizeof(raw), &n) == -1);
    CHECK(inlet_base64url_decode("+/8", 3, raw, sizeof(raw), &n) == -1);
    CHECK(inlet_base64url_decode("Zm9vYmFy", 8, raw, 5, &n) == -1);
}

int main(void)
{
    CHECK(setup_keys() == 0);
    CHECK(build_main() == 0);
    if (ts) {
        test_valid();
        test_time();
        test_lifetime_default();
        test_expiry_and_reload();
        test_claims();
        test_attacks();
        test_ambiguous_issuer();
        test_threads();
        inlet_tenants_release(ts);
    }
    test_build_errors();
    test_base64url();
    cleanup_dir();
    return check_done();
}
