/* test_acl.c - ACL rules: first match wins, devices, groups, wildcards, schema versions, default
 * deny, and rules refused when the tenant set is built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "identity/tenant.h"
#include "tenant_fixture.h"

static inlet_tenants *ts;

static const char *acme =
    "tenant: acme\n"
    "devices:\n"
    "  - id: truck-1\n"
    "    groups: [trucks, eu]\n"
    "  - id: truck-2\n"
    "    groups: [trucks]\n"
    "  - id: van-1\n"
    "    groups: [vans, eu]\n"
    "  - id: probe\n"
    "acl:\n"
    "  - effect: deny\n" /* 0 */
    "    devices: [truck-2]\n"
    "    schemas: [\"fleet.position@v2\"]\n"
    "    reason: \"truck-2 is not on fleet.position v2 yet\"\n"
    "  - effect: allow\n" /* 1 */
    "    groups: [trucks]\n"
    "    schemas: [\"fleet.position@v1\", \"fleet.position@v2\", \"driver.panic@*\"]\n"
    "  - effect: allow\n" /* 2 */
    "    groups: [vans]\n"
    "    schemas: [coldchain.temp]\n"
    "  - effect: deny\n" /* 3 */
    "    groups: [eu]\n"
    "    schemas: [\"telemetry.raw\"]\n"
    "  - effect: allow\n" /* 4 */
    "    devices: [\"*\"]\n"
    "    schemas: [\"heartbeat@v1\", \"telemetry.raw@v3\"]\n"
    "  - effect: allow\n" /* 5 */
    "    devices: [probe, ghost]\n"
    "    groups: [vans]\n"
    "    schemas: [\"*\"]\n"
    "  - effect: allow\n" /* 6: neither devices nor groups */
    "    schemas: [\"public.ping@1\"]\n";

static const char *other = "tenant: other\n"
                           "devices:\n"
                           "  - id: truck-1\n"
                           "    groups: [trucks]\n";

static inlet_identity *identity(const char *tenant, const char *device)
{
    inlet_identity *id = NULL;
    CHECK(inlet_identity_for_device(ts, tenant, device, INLET_AUTH_TOKEN, &id) == INLET_OK);
    return id;
}

static void allow(const inlet_identity *id, const char *schema, const char *version)
{
    char reason[256] = "";
    inlet_status st = inlet_acl_check(id, schema, version, reason, sizeof(reason));
    CHECK(st == INLET_OK);
    if (st != INLET_OK)
        fprintf(stderr, "  %s %s@%s denied: %s\n", id->device_id, schema, version, reason);
}

static void deny(const inlet_identity *id, const char *schema, const char *version,
                 const char *expected_reason)
{
    char reason[256] = "";
    CHECK(inlet_acl_check(id, schema, version, reason, sizeof(reason)) == INLET_E_FORBIDDEN);
    CHECK_STR(reason, expected_reason);
}

static void test_rules(void)
{
    inlet_identity *t1 = identity("acme", "truck-1");
    inlet_identity *t2 = identity("acme", "truck-2");
    inlet_identity *v1 = identity("acme", "van-1");
    inlet_identity *probe = identity("acme", "probe");
    inlet_identity *ghost = identity("acme", "ghost");   /* not in devices[]: no groups */
    inlet_identity *nobody = identity("acme", "nobody"); /* neither listed nor named */
    inlet_identity *o1 = identity("other", "truck-1");   /* same id, other tenant */
    if (!t1 || !t2 || !v1 || !probe || !ghost || !nobody || !o1)
        return;

    /* Groups, exact versions, "name@*". */
    allow(t1, "fleet.position", "v1");
    allow(t1, "fleet.position", "v2");
    allow(t1, "driver.panic", "v7");
    deny(t1, "fleet.position", "v3", "no ACL rule allows truck-1 to send fleet.position@v3");
    deny(t1, "fleet.positions", "v1", "no ACL rule allows truck-1 to send fleet.positions@v1");
    deny(t1, "fleet", "v1", "no ACL rule allows truck-1 to send fleet@v1");

    /* First match wins: rule 0 denies truck-2 before rule 1 would allow it. */
    deny(t2, "fleet.position", "v2", "truck-2 is not on fleet.position v2 yet");
    allow(t2, "fleet.position", "v1");

    /* "name" = any version; the vans group; rule 5 gives van-1 everything else. */
    allow(v1, "coldchain.temp", "v1");
    allow(v1, "coldchain.temp", "v12");
    allow(v1, "fleet.position", "v9");

    /* Rule 3 (group eu) denies telemetry.raw before rule 4's "*" allows v3 to everyone. */
    deny(t1, "telemetry.raw", "v3", "acl[3] denies truck-1 sending telemetry.raw@v3");
    deny(v1, "telemetry.raw", "v3", "acl[3] denies van-1 sending telemetry.raw@v3");
    allow(t2, "telemetry.raw", "v3");
    allow(nobody, "telemetry.raw", "v3");

    /* devices: ["*"] and a rule naming neither devices nor groups match unlisted devices. */
    allow(nobody, "heartbeat", "v1");
    deny(nobody, "heartbeat", "v2", "no ACL rule allows nobody to send heartbeat@v2");
    allow(nobody, "public.ping", "v1");
    allow(t1, "public.ping", "v1");
    deny(nobody, "public.ping", "v2", "no ACL rule allows nobody to send public.ping@v2");

    /* Named devices: probe is listed without groups; ghost is only named in the rule. */
    allow(probe, "anything.at.all", "v4");
    allow(ghost, "anything.at.all", "v4");
    deny(nobody, "anything.at.all", "v4", "no ACL rule allows nobody to send anything.at.all@v4");

    /* A bare version number is the same version as "vN". */
    allow(t1, "fleet.position", "1");
    deny(t1, "fleet.position", "3", "no ACL rule allows truck-1 to send fleet.position@3");
    deny(t1, "fleet.position", "", "no ACL rule allows truck-1 to send fleet.position@");
    deny(t1, "fleet.position", NULL, "no ACL rule allows truck-1 to send fleet.position@");

    /* Another tenant's rules never apply: "other" has none, so everything is denied. */
    deny(o1, "fleet.position", "v1", "no ACL rule allows truck-1 to send fleet.position@v1");
    deny(o1, "heartbeat", "v1", "no ACL rule allows truck-1 to send heartbeat@v1");

    /* A short reason buffer is truncated, never overrun. */
    char small[8];
    CHECK(inlet_acl_check(t2, "fleet.position", "v2", small, sizeof(small)) == INLET_E_FORBIDDEN);
    CHECK_STR(small, "truck-2");

    inlet_identity *all[] = {t1, t2, v1, probe, ghost, nobody, o1};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        inlet_identity_release(all[i]);
}

static void test_identity_for_device(void)
{
    inlet_identity *id = (inlet_identity *)1;
    CHECK(inlet_identity_for_device(ts, "nosuch", "d", INLET_AUTH_TOKEN, &id) == INLET_E_INVALID);
    CHECK(id == NULL);
    CHECK(inlet_identity_for_device(ts, "acme", "a/b", INLET_AUTH_TOKEN, &id) == INLET_E_INVALID);
    CHECK(inlet_identity_for_device(ts, "acme", "", INLET_AUTH_TOKEN, &id) == INLET_E_INVALID);
    CHECK(inlet_identity_for_device(ts, "acme", "\xc0\xaf", INLET_AUTH_TOKEN, &id) ==
          INLET_E_INVALID); /* overlong '/' */
    CHECK(inlet_identity_for_device(ts, "acme", "\xed\xa0\x80", INLET_AUTH_TOKEN, &id) ==
          INLET_E_INVALID); /* surrogate */
    CHECK(inlet_identity_for_device(ts, "acme", "\xc2\x85", INLET_AUTH_TOKEN, &id) ==
          INLET_E_INVALID); /* C1 control NEL */
    char longest[130];
    memset(longest, 'x', 128);
    longest[128] = '\0';
    CHECK(inlet_identity_for_device(ts, "acme", longest, INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(id && strlen(id->device_id) == 128);
    inlet_identity_release(id);
    longest[128] = 'x';
    longest[129] = '\0';
    CHECK(inlet_identity_for_device(ts, "acme", longest, INLET_AUTH_TOKEN, &id) == INLET_E_INVALID);
    CHECK(inlet_identity_for_device(ts, "acme", "\xe6\x97\xa5\xf0\x9f\x9a\x9a", INLET_AUTH_JWT,
                                    &id) == INLET_OK);
    CHECK(id && id->method == INLET_AUTH_JWT);
    inlet_identity_release(id);
}

static void expect_build_error(const char *acl, const char *needle)
{
    char doc[1024], err[512] = "";
    inlet_tenants *bad = NULL;
    snprintf(doc, sizeof(doc), "tenant: t\ndevices:\n  - id: d1\n    groups: [g1]\nacl:\n%s", acl);
    const char *docs[] = {doc};
    CHECK(build_yaml(docs, 1, &bad, err, sizeof(err)) != 0);
    CHECK(bad == NULL);
    CHECK_CONTAINS(err, needle);
}

static void test_build_errors(void)
{
    expect_build_error("  - effect: deny\n    groups: [g2]\n    schemas: [\"*\"]\n",
                       "acl[0].groups[0]: no device is in group \"g2\"");
    expect_build_error("  - effect: allow\n    schemas: [\"a@b@c\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: [\"@v1\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: [\"a@vv1\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: [\"a@\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: [\"fleet.*\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: [\"*@v1\"]\n", "acl[0].schemas[0]");
    expect_build_error("  - effect: allow\n    schemas: []\n", "acl[0].schemas: must not be empty");
    expect_build_error("  - effect: allow\n    devices: [\"a#\"]\n    schemas: [x]\n",
                       "acl[0].devices[0]");
    expect_build_error("  - effect: allow\n  - effect: deny\n    schemas: [x]\n", "schemas");
    expect_build_error("  - effect: maybe\n    schemas: [x]\n", "effect");
    expect_build_error("  - schemas: [x]\n", "effect");
    expect_build_error("  - effect: allow\n    schemas: [x]\n    protocols: [http, smtp]\n",
                       "acl[0].protocols[1]: \"smtp\" is not one of");
    expect_build_error("  - effect: allow\n    schemas: [x]\n    methods: [password]\n",
                       "acl[0].methods[0]: \"password\" is not one of");
}

/* Regression: two tenants without a topic_prefix loaded and produced into the same topics,
 * keyed by device id, so both tenants' truck-1 shared a key. */
static void test_shared_topics(void)
{
    inlet_tenants *set = NULL;
    char err[512];
    const char *a = "tenant: a\nshared_topics: false\n";
    const char *b = "tenant: b\nshared_topics: false\n";
    const char *a_shared = "tenant: a\nshared_topics: true\n";
    const char *b_shared = "tenant: b\nshared_topics: true\n";
    const char *b_own = "tenant: b\ntopic_prefix: b.\nshared_topics: false\n";
    const char *c_own = "tenant: c\ntopic_prefix: b.\nshared_topics: false\n";

    CHECK(build_yaml((const char *[]){a, b}, 2, &set, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "tenant1.yaml:1: tenant b: topic_prefix \"\" is also tenant a's "
                        "(tenant0.yaml:1)");
    CHECK_CONTAINS(err, "shared_topics: true in both");
    CHECK(build_yaml((const char *[]){a_shared, b}, 2, &set, err, sizeof(err)) != 0);
    CHECK(build_yaml((const char *[]){a, b_shared}, 2, &set, err, sizeof(err)) != 0);
    CHECK(build_yaml((const char *[]){a, b_own, c_own}, 3, &set, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "topic_prefix \"b.\" is also tenant b's");
    CHECK(build_yaml((const char *[]){a_shared, b_shared}, 2, &set, err, sizeof(err)) == 0);
    inlet_tenants_release(set);
    CHECK(build_yaml((const char *[]){a, b_own}, 2, &set, err, sizeof(err)) == 0);
    inlet_tenants_release(set);
}

/* Rules that name protocols or methods apply only to those; rules without them as before. */
static void test_protocols_and_methods(void)
{
    const char *doc = "tenant: fleet\n"
                      "devices: [{id: truck-1}]\n"
                      "acl:\n"
                      "  - effect: allow\n"
                      "    schemas: [\"driver.panic@v1\"]\n"
                      "    methods: [cert]\n"
                      "  - effect: deny\n"
                      "    schemas: [\"driver.panic\"]\n"
                      "    reason: panic needs a client certificate\n"
                      "  - effect: deny\n"
                      "    schemas: [\"fleet.position\"]\n"
                      "    protocols: [mqtt_bridge, coap]\n"
                      "    reason: not via the bridge\n"
                      "  - effect: allow\n"
                      "    schemas: [\"*\"]\n";
    inlet_tenants *set = NULL;
    inlet_identity *cert = NULL, *token = NULL, *jwt = NULL;
    char err[512], reason[256];

    CHECK(build_yaml(&doc, 1, &set, err, sizeof(err)) == 0);
    if (!set) {
        fprintf(stderr, "build failed: %s\n", err);
        return;
    }
    CHECK(inlet_identity_for_device(set, "fleet", "truck-1", INLET_AUTH_CERT, &cert) == INLET_OK);
    CHECK(inlet_identity_for_device(set, "fleet", "truck-1", INLET_AUTH_TOKEN, &token) == INLET_OK);
    CHECK(inlet_identity_for_device(set, "fleet", "truck-1", INLET_AUTH_JWT, &jwt) == INLET_OK);
    CHECK(inlet_acl_check_source(cert, "http", "driver.panic", "v1", reason, sizeof(reason)) ==
          INLET_OK);
    CHECK(inlet_acl_check_source(token, "http", "driver.panic", "v1", reason, sizeof(reason)) ==
          INLET_E_FORBIDDEN);
    CHECK_STR(reason, "panic needs a client certificate");
    CHECK(inlet_acl_check_source(jwt, "mqtt", "driver.panic", "v1", reason, sizeof(reason)) ==
          INLET_E_FORBIDDEN);
    /* protocols: the bridge's source is "mqtt-bridge"; '-' and '_' are the same */
    CHECK(inlet_acl_check_source(token, "mqtt-bridge", "fleet.position", "v1", reason,
                                 sizeof(reason)) == INLET_E_FORBIDDEN);
    CHECK_STR(reason, "not via the bridge");
    CHECK(inlet_acl_check_source(token, "coap", "fleet.position", "v1", reason, sizeof(reason)) ==
          INLET_E_FORBIDDEN);
    CHECK(inlet_acl_check_source(token, "mqtt", "fleet.position", "v1", reason, sizeof(reason)) ==
          INLET_OK);
    CHECK(inlet_acl_check_source(token, "http", "fleet.position", "v1", reason, sizeof(reason)) ==
          INLET_OK);
    /* unknown protocol: rules naming protocols do not apply */
    CHECK(inlet_acl_check_source(token, NULL, "fleet.position", "v1", reason, sizeof(reason)) ==
          INLET_OK);
    inlet_identity_release(cert);
    inlet_identity_release(token);
    inlet_identity_release(jwt);
    inlet_tenants_release(set);
}

int main(void)
{
    char err[512];
    const char *docs[] = {acme, other};

    CHECK(build_yaml(docs, 2, &ts, err, sizeof(err)) == 0);
    if (!ts) {
        fprintf(stderr, "build failed: %s\n", err);
        return check_done();
    }
    test_rules();
    test_identity_for_device();
    inlet_tenants_release(ts);
    test_build_errors();
    test_protocols_and_methods();
    test_shared_topics();
    return check_done();
}
