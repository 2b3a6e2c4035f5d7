/* test_jwt.c - JWT bearer tokens: HS256, RS256 and ES256 with keys generated at test time, claim
 * checks, and the attacks a verifier must refuse (alg none, HS/RS confusion, padding, malformed
 * base64url, wrong-length ES256 signatures). Key configuration is in test_jwt_keys.c. */
#include <pthread.h>

#include "jwt_test.h"

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
        test_threads();
        inlet_tenants_release(ts);
    }
    cleanup_dir();
    return check_done();
}
