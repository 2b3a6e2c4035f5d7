/* test_jwt_keys.c - JWT key configuration: the tenant set refuses bad keys (duplicate kids, short
 * secrets, wrong key types, small RSA keys, missing files), picks a key by issuer or kid, and the
 * base64url codec tokens are written in. Verification is in test_jwt.c. */
#include "jwt_test.h"

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
    /* test_jwt.c counts the key setup as a check; here it only has to work. */
    if (setup_keys() != 0) {
        fprintf(stderr, "key setup failed\n");
        cleanup_dir();
        return 1;
    }
    test_ambiguous_issuer();
    test_build_errors();
    test_base64url();
    cleanup_dir();
    return check_done();
}
