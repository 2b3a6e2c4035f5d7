/* test_imei.c - IMEI identities (core/identity/imei_index.c, imei_auth.c): lookup across
 * tenants, the 15-digit check, uniqueness across tenants with both files named, identities
 * carried over a reload or revoked by it. Tenant sets are built from YAML through the config
 * engine, the same path inletd takes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "identity/tenant.h"

#define TENANT_FIXTURE_LETTERS
#define TENANT_FIXTURE_OWN_TOPICS
#include "tenant_fixture.h"

static const char *doc_a = "tenant: acme\ntopic_prefix: \"acme.\"\n"
                           "devices:\n"
                           "  - {id: truck-1, imei: \"356307042441013\"}\n"
                           "  - {id: truck-2, imei: \"356307042441014\"}\n"
                           "  - {id: van-3}\n";
static const char *doc_b = "tenant: beta\ntopic_prefix: \"beta.\"\n"
                           "devices: [{id: tracker-9, imei: \"490154203237518\"}]\n";

static void test_lookup(void)
{
    const char *docs[] = {doc_a, doc_b};
    inlet_tenants *ts = NULL;
    inlet_identity *id = NULL;
    char err[512] = "", msg[200] = "";

    CHECK(build_yaml(docs, 2, &ts, err, sizeof(err)) == 0);
    if (!ts) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(inlet_tenants_auth_imei(ts, "356307042441014", 15, &id, msg, sizeof(msg)) == INLET_OK);
    CHECK(id && strcmp(id->tenant, "acme") == 0 && strcmp(id->device_id, "truck-2") == 0);
    CHECK(id && id->method == INLET_AUTH_IMEI);
    inlet_identity_release(id);
    CHECK(inlet_tenants_auth_imei(ts, "490154203237518", 15, &id, msg, sizeof(msg)) == INLET_OK);
    CHECK(id && strcmp(id->tenant, "beta") == 0 && strcmp(id->device_id, "tracker-9") == 0);
    inlet_identity_release(id);
    /* length, not NUL, ends the IMEI */
    CHECK(inlet_tenants_auth_imei(ts, "3563070424410139", 15, &id, msg, sizeof(msg)) == INLET_OK);
    inlet_identity_release(id);

    CHECK(inlet_tenants_auth_imei(ts, "356307042441015", 15, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK(id == NULL);
    CHECK_CONTAINS(msg, "356307042441015");
    CHECK(inlet_tenants_auth_imei(ts, "35630704244101", 14, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK(inlet_tenants_auth_imei(ts, "35630704244101x", 15, &id, msg, sizeof(msg)) ==
          INLET_E_UNAUTHENTICATED);
    CHECK(inlet_tenants_auth_imei(ts, "", 0, &id, msg, sizeof(msg)) == INLET_E_UNAUTHENTICATED);
    inlet_tenants_release(ts);
}

static void expect_error(const char *a, const char *b, const char *n1, const char *n2)
{
    const char *docs[] = {a, b};
    inlet_tenants *ts = NULL;
    char err[512] = "";

    CHECK(build_yaml(docs, b ? 2 : 1, &ts, err, sizeof(err)) != 0);
    CHECK(ts == NULL);
    CHECK_CONTAINS(err, n1);
    if (n2)
        CHECK_CONTAINS(err, n2);
    inlet_tenants_release(ts);
}

static void test_build_errors(void)
{
    expect_error("tenant: a\ndevices: [{id: x, imei: \"35630704244101\"}]\n", NULL, "tenant-a.yaml",
                 "devices[0].imei: must be 15 digits");
    expect_error("tenant: a\ndevices: [{id: x, imei: \"3563070424410131\"}]\n", NULL,
                 "devices[0].imei", NULL);
    expect_error("tenant: a\ndevices: [{id: x, imei: \"35630704244101a\"}]\n", NULL,
                 "devices[0].imei", NULL);
    /* unique within a tenant and across tenants; the message names both files */
    expect_error("tenant: a\ndevices:\n  - {id: x, imei: \"356307042441013\"}\n"
                 "  - {id: y, imei: \"356307042441013\"}\n",
                 NULL, "device x of tenant a", "already declared");
    expect_error(doc_a, "tenant: beta\ndevices: [{id: t, imei: \"356307042441013\"}]\n",
                 "tenant-b.yaml", "tenant-a.yaml");
}

static void test_reload(void)
{
    const char *before[] = {doc_a, doc_b};
    const char *moved[] = {
        "tenant: acme\ntopic_prefix: a.\ndevices: [{id: truck-1}, {id: truck-2, imei: "
        "\"356307042441014\"}]\n",
        "tenant: beta\ntopic_prefix: b.\ndevices: [{id: tracker-9, imei: \"490154203237518\"},"
        " {id: truck-1, imei: \"356307042441013\"}]\n"};
    inlet_tenants *ts1 = NULL, *ts2 = NULL;
    inlet_identity *id1 = NULL, *id2 = NULL, *fresh = NULL;
    char err[512] = "", msg[200] = "";

    CHECK(build_yaml(before, 2, &ts1, err, sizeof(err)) == 0);
    CHECK(build_yaml(moved, 2, &ts2, err, sizeof(err)) == 0);
    if (!ts1 || !ts2) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(inlet_tenants_auth_imei(ts1, "356307042441013", 15, &id1, msg, sizeof(msg)) == INLET_OK);
    CHECK(inlet_tenants_auth_imei(ts1, "356307042441014", 15, &id2, msg, sizeof(msg)) == INLET_OK);
    /* the IMEI of acme/truck-1 moved to beta: the old identity is revoked */
    CHECK(inlet_identity_refresh(ts2, id1, &fresh, msg, sizeof(msg)) == INLET_E_UNAUTHENTICATED);
    CHECK(fresh == NULL);
    CHECK_CONTAINS(msg, "356307042441013");
    /* the one that stayed carries over */
    CHECK(inlet_identity_refresh(ts2, id2, &fresh, msg, sizeof(msg)) == INLET_OK);
    CHECK(fresh && strcmp(fresh->device_id, "truck-2") == 0 && fresh->method == INLET_AUTH_IMEI);
    inlet_identity_release(fresh);
    fresh = NULL;
    CHECK(inlet_tenants_auth_imei(ts2, "356307042441013", 15, &fresh, msg, sizeof(msg)) ==
          INLET_OK);
    CHECK(fresh && strcmp(fresh->tenant, "beta") == 0);
    inlet_identity_release(fresh);
    inlet_identity_release(id1);
    inlet_identity_release(id2);
    inlet_tenants_release(ts1);
    inlet_tenants_release(ts2);
}

int main(void)
{
    test_lookup();
    test_build_errors();
    test_reload();
    return check_done();
}
