/* test_token.c - opaque bearer tokens: SHA-256 hashing, lookup, tenant mapping, build errors,
 * identity lifetime and concurrent use. Tenant sets are built from YAML through the config
 * engine, the same path inletd takes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "identity/tenant.h"
#include "tenant_fixture.h"

/* YAML documents -> inlet_conf_apply(inlet_tenant_options) -> inlet_tenants_build. */
static void test_hash_vectors(void)
{
    char hex[65];

    /* FIPS 180-2 appendix B.1 and the empty message. */
    inlet_token_hash_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    inlet_token_hash_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    inlet_token_hash_hex("password", 8, hex);
    CHECK_STR(hex, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
    /* Length, not NUL, ends the token. */
    inlet_token_hash_hex("abcdef", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static const char *tok_a1 = "tA1-Jc9Q0bKqz7yq3w1mVb2Lw9xQeYt6uWcZrS4pD8o";
static const char *tok_a2 = "tA2-second-token-for-acme";
static const char *tok_b1 = "tB1-token-for-beta-tenant";

static inlet_tenants *build_two(void)
{
    char ha1[65], ha2[65], hb1[65], doc_a[1024], doc_b[512], err[512];
    inlet_tenants *ts = NULL;

    inlet_token_hash_hex(tok_a1, strlen(tok_a1), ha1);
    inlet_token_hash_hex(tok_a2, strlen(tok_a2), ha2);
    inlet_token_hash_hex(tok_b1, strlen(tok_b1), hb1);
    /* Upper-case hex is accepted too. */
    for (char *p = ha2; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(doc_a, sizeof(doc_a),
             "tenant: acme\n"
             "topic_prefix: acme.\n"
             "devices:\n"
             "  - id: truck-0042\n"
             "    groups: [trucks]\n"
             "tokens:\n"
             "  - sha256: %s\n"
             "    device: truck-0042\n"
             "  - sha256: %s\n"
             "    device: \"k\\u00fchl-7\"\n"
             "acl:\n"
             "  - effect: allow\n"
             "    groups: [trucks]\n"
             "    schemas: [\"fleet.position@v1\"]\n",
             ha1, ha2);
    snprintf(doc_b, sizeof(doc_b),
             "tenant: beta\n"
             "tokens:\n"
             "  - sha256: %s\n"
             "    device: truck-0042\n",
             hb1);
    const char *docs[] = {doc_a, doc_b};
    if (build_yaml(docs, 2, &ts, err, sizeof(err))) {
        fprintf(stderr, "build failed: %s\n", err);
        return NULL;
    }
    return ts;
}

static void test_auth(inlet_tenants *ts)
{
    inlet_identity *id = NULL;
    char msg[256] = "";
    char hex[65];

    CHECK(inlet_tenants_count(ts) == 2);
    CHECK(inlet_tenants_auth_bearer(ts, tok_a1, strlen(tok_a1), 0, &id, msg, sizeof(msg)) ==
          INLET_OK);
    CHECK(id != NULL);
    if (id) {
        CHECK(id->size == sizeof(inlet_identity));
        CHECK_STR(id->tenant, "acme");
        CHECK_STR(id->device_id, "truck-0042");
        CHECK(id->method == INLET_AUTH_TOKEN);
        CHECK(id->reserved[0] == NULL && id->reserved[3] == NULL);
        CHECK_STR(inlet_identity_topic_prefix(id), "acme.");
        /* The device's groups came along: the trucks rule allows it. */
        CHECK(inlet_acl_check(id, "fleet.position", "v1", msg, sizeof(msg)) == INLET_OK);
        inlet_identity_release(id);
    }

    id = NULL;
    CHECK(inlet_tenants_auth_bearer(ts, tok_a2, strlen(tok_a2), 0, &id, msg, sizeof(msg)) ==
          INLET_OK);
    CHECK(id && strcmp(id->device_id, "k\xc3\xbchl-7") == 0);
    inlet_identity_release(id);

    /* The same device name under tenant B is tenant B's device, with B's (absent) rules. */
    id = NULL;
    CHECK(inlet_tenants_auth_bearer(ts, tok_b1, strlen(tok_b1), 0, &id, msg, sizeof(msg)) ==
          INLET_OK);
    CHECK(id && strcmp(id->tenant, "beta") == 0 && strcmp(id->device_id, "truck-0042") == 0);
    CHECK(id && strcmp(inlet_identity_topic_prefix(id), "") == 0);
    CHECK(id && inlet_acl_check(id, "fleet.position", "v1", msg, sizeof(msg)) == INLET_E_FORBIDDEN);
    inlet_identity_release(id);

    /* Wrong tokens: unknown, one character off, a prefix, longer, empty. */
    const char *bad[] = {"nope", "tA1-Jc9Q0bKqz7yq3w1mVb2Lw9xQeYt6uWcZrS4pD8p",
                         "tA1-Jc9Q0bKqz7yq3w1mVb2Lw9xQeYt6uWcZrS4pD8",
                         "tA1-Jc9Q0bKqz7yq3w1mVb2Lw9xQeYt6uWcZrS4pD8oo", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        id = (inlet_identity *)1;
        msg[0] = '\0';
        CHECK(inlet_tenants_auth_bearer(ts, bad[i], strlen(bad[i]), 0, &id, msg, sizeof(msg)) ==
              INLET_E_UNAUTHENTICATED);
        CHECK(id == NULL);
        CHECK(msg[0] != '\0');
    }
    /* The stored digest is not a credential: presenting it fails. */
    inlet_token_hash_hex(tok_a1, strlen(tok_a1), hex);
    CHECK(inlet_tenants_auth_bearer(ts, hex, 64, 0, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    /* A token is compared over its full length, NUL bytes included. */
    char with_nul[64];
    size_t n1 = strlen(tok_a1);
    memcpy(with_nul, tok_a1, n1);
    with_nul[n1] = '\0';
    CHECK(inlet_tenants_auth_bearer(ts, with_nul, n1 + 1, 0, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
}

static void test_lifetime(inlet_tenants *ts)
{
    inlet_identity *id = NULL;
    char msg[128];

    CHECK(inlet_tenants_auth_bearer(ts, tok_a1, strlen(tok_a1), 0, &id, msg, sizeof(msg)) ==
          INLET_OK);
    if (!id)
        return;
    inlet_identity_ref(id);
    inlet_identity_release(id);
    /* The identity keeps the tenant set alive after its owner lets go. */
    inlet_tenants_release(ts);
    CHECK_STR(id->tenant, "acme");
    CHECK_STR(inlet_identity_topic_prefix(id), "acme.");
    CHECK(inlet_acl_check(id, "fleet.position", "v1", msg, sizeof(msg)) == INLET_OK);
    inlet_identity_release(id);
}

typedef struct worker {
    inlet_tenants *ts;
    int ok;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    char msg[128];

    for (int i = 0; i < 2000; i++) {
        inlet_identity *id = NULL;
        const char *tok = (i & 1) ? tok_a1 : tok_b1;
        if (inlet_tenants_auth_bearer(w->ts, tok, strlen(tok), 0, &id, msg, sizeof(msg)) !=
            INLET_OK)
            return NULL;
        inlet_identity_ref(id);
        int allowed = inlet_acl_check(id, "fleet.position", "v1", msg, sizeof(msg)) == INLET_OK;
        if (allowed != ((i & 1) == 1))
            return NULL;
        inlet_identity_release(id);
        inlet_identity_release(id);
    }
    w->ok = 1;
    return NULL;
}

static void test_threads(void)
{
    inlet_tenants *ts = build_two();
    pthread_t th[8];
    worker w[8];

    CHECK(ts != NULL);
    if (!ts)
        return;
    for (int i = 0; i < 8; i++) {
        w[i] = (worker){ts, 0};
        pthread_create(&th[i], NULL, worker_run, &w[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK(w[i].ok == 1);
    }
    inlet_tenants_release(ts);
}

static void expect_build_error(const char *a, const char *b, const char *needle)
{
    const char *docs[] = {a, b};
    inlet_tenants *ts = NULL;
    char err[512] = "";

    CHECK(build_yaml(docs, b ? 2 : 1, &ts, err, sizeof(err)) != 0);
    CHECK(ts == NULL);
    CHECK_CONTAINS(err, needle);
    inlet_tenants_release(ts);
}

static void test_build_errors(void)
{
    const char *h = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    char a[256], b[256];

    snprintf(a, sizeof(a), "tenant: a\ntokens:\n  - sha256: %s\n    device: d1\n", h);
    snprintf(b, sizeof(b), "tenant: b\ntokens:\n  - sha256: %s\n    device: d2\n", h);
    expect_build_error(a, b, "same token sha256");
    expect_build_error(a, b, "tenant1.yaml:1");
    expect_build_error("tenant: a\ntokens:\n  - sha256: abc\n    device: d1\n", NULL,
                       "tokens[0].sha256: must be 64 hex digits");
    snprintf(a, sizeof(a), "tenant: a\ntokens:\n  - sha256: %.63sg\n    device: d1\n", h);
    expect_build_error(a, NULL, "64 hex digits");
    snprintf(a, sizeof(a), "tenant: a\ntokens:\n  - sha256: %s\n    device: \"d/1\"\n", h);
    expect_build_error(a, NULL, "tokens[0].device");
    snprintf(a, sizeof(a), "tenant: a\ntokens:\n  - sha256: %s\n    device: \"sensors/#\"\n", h);
    expect_build_error(a, NULL, "'+', '#' or '/'");
    expect_build_error("tenant: a\n", "tenant: a\n", "tenant a is defined twice");
    expect_build_error("tenant: \"a b\"\n", NULL, "tenant: name must be");
    expect_build_error("tenant: a\ntopic_prefix: \"x/y\"\n", NULL, "topic_prefix");
    expect_build_error("tenant: a\ndevices:\n  - id: d1\n  - id: d1\n", NULL, "listed twice");
    expect_build_error("tenant: a\ndevices:\n  - id: \"\\x01bad\"\n", NULL, "control character");
    /* The config engine refuses what the table does not know or does not allow. */
    expect_build_error("tenant: a\ntokenz: []\n", NULL, "tokenz");
    expect_build_error("tenant: a\ntokens:\n  - device: d1\n", NULL, "sha256");
    expect_build_error("topic_prefix: x\n", NULL, "tenant");
}

static void tokens_hex3(char *a, char *b, char *c)
{
    inlet_token_hash_hex("live", 4, a);
    inlet_token_hash_hex("past", 4, b);
    inlet_token_hash_hex("off", 3, c);
}

/* not_after and disabled: refused at auth; not_after is the identity's end; a reload that
 * disables the token or moves not_after into the past refuses the carried-over identity. */
static void test_not_after_and_disabled(void)
{
    char err[512], msg[256];
    char hl[65], hp[65], ho[65];
    tokens_hex3(hl, hp, ho);
    char doc[1024], doc2[1024];
    snprintf(doc, sizeof(doc),
             "tenant: lc\ndevices: [{id: d}]\ntokens:\n"
             "  - {sha256: %s, device: d, not_after: \"2100-01-01T00:00:00Z\"}\n"
             "  - {sha256: %s, device: d, not_after: \"2020-01-01T00:00:00Z\"}\n"
             "  - {sha256: %s, device: d, disabled: true}\n",
             hl, hp, ho);
    const char *docs[] = {doc};
    inlet_tenants *ts = NULL, *ts2 = NULL;
    inlet_identity *id = NULL, *fresh = NULL;
    CHECK(build_yaml(docs, 1, &ts, err, sizeof(err)) == 0);
    if (!ts)
        return;
    int64_t now = 1800000000; /* 2027 */
    CHECK(inlet_tenants_auth_bearer(ts, "live", 4, now, &id, msg, sizeof(msg)) == INLET_OK);
    CHECK(inlet_identity_expires_at(id) == INT64_C(4102444800) * 1000000);
    CHECK(inlet_tenants_auth_bearer(ts, "live", 4, INT64_C(4102444800), &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK(inlet_tenants_auth_bearer(ts, "past", 4, now, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK_CONTAINS(msg, "not_after");
    CHECK(inlet_tenants_auth_bearer(ts, "off", 3, now, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK_CONTAINS(msg, "unknown bearer token");

    /* reload: not_after of "live" moved into the past */
    snprintf(doc2, sizeof(doc2),
             "tenant: lc\ndevices: [{id: d}]\ntokens:\n"
             "  - {sha256: %s, device: d, not_after: \"2021-01-01T00:00:00Z\"}\n",
             hl);
    const char *docs2[] = {doc2};
    CHECK(build_yaml(docs2, 1, &ts2, err, sizeof(err)) == 0);
    CHECK(inlet_identity_refresh_at(ts2, id, now * 1000000, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK_CONTAINS(msg, "expired");
    /* asked again (the successor is cached): still refused */
    CHECK(inlet_identity_refresh_at(ts2, id, now * 1000000, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    inlet_tenants_release(ts2);
    ts2 = NULL;

    /* reload: "live" disabled */
    snprintf(doc2, sizeof(doc2),
             "tenant: lc\ndevices: [{id: d}]\ntokens:\n  - {sha256: %s, device: d, disabled: "
             "true}\n",
             hl);
    CHECK(build_yaml(docs2, 1, &ts2, err, sizeof(err)) == 0);
    CHECK(inlet_identity_refresh_at(ts2, id, now * 1000000, &fresh, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK_CONTAINS(msg, "disabled");
    inlet_tenants_release(ts2);

    /* a bad not_after is a build error naming the key */
    snprintf(doc2, sizeof(doc2),
             "tenant: lc\ndevices: [{id: d}]\ntokens:\n  - {sha256: %s, device: d, not_after: "
             "tomorrow}\n",
             hl);
    CHECK(build_yaml(docs2, 1, &ts2, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "tokens[0].not_after: expected an RFC 3339 date-time");
    inlet_identity_release(id);
    inlet_tenants_release(ts);
}

int main(void)
{
    test_hash_vectors();
    inlet_tenants *ts = build_two();
    CHECK(ts != NULL);
    if (ts) {
        test_auth(ts);
        test_lifetime(ts); /* releases ts */
    }
    test_threads();
    test_build_errors();
    test_not_after_and_disabled();
    return check_done();
}
