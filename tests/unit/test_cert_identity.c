/* test_cert_identity.c - TLS client certificate chains to (tenant, device). CAs and client
 * certificates are generated at test time with OpenSSL, so nothing here can expire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "config/config.h"
#include "identity/tenant.h"
#include "tenant_fixture.h"

#define DAY (24L * 3600)

static char dir[64];
static char alpha_ca_pem[128], beta_ca_pem[128], gamma_ca_pem[128], uri_ca_pem[128];
static inlet_tenants *ts;

typedef struct pki {
    EVP_PKEY *key;
    X509 *cert;
} pki;

static long serial = 1;

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/*
 * A certificate for a fresh P-256 key. issuer NULL = self-signed CA. Extensions follow the RFC
 * 5280 profile that X509_V_FLAG_X509_STRICT checks. eku NULL = clientAuth.
 */
static pki make_cert(const pki *issuer, int ca, const char *cn, const char *san, const char *eku,
                     long not_before, long not_after)
{
    pki p = {EVP_EC_gen("P-256"), X509_new()};
    X509V3_CTX ctx;
    X509_NAME *name;

    if (!p.key || !p.cert)
        goto fail;
    X509_set_version(p.cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(p.cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(p.cert), not_before);
    X509_gmtime_adj(X509_getm_notAfter(p.cert), not_after);
    X509_set_pubkey(p.cert, p.key);
    name = X509_get_subject_name(p.cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Inlet tests", -1,
                               -1, 0);
    if (cn)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(p.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509V3_set_ctx(&ctx, issuer ? issuer->cert : p.cert, p.cert, NULL, NULL, 0);
    if (add_ext(p.cert, &ctx, NID_basic_constraints,
                ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        add_ext(p.cert, &ctx, NID_key_usage,
                ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") ||
        add_ext(p.cert, &ctx, NID_subject_key_identifier, "hash"))
        goto fail;
    if (issuer && add_ext(p.cert, &ctx, NID_authority_key_identifier, "keyid:always"))
        goto fail;
    if (!ca && add_ext(p.cert, &ctx, NID_ext_key_usage, eku ? eku : "clientAuth"))
        goto fail;
    if (san && add_ext(p.cert, &ctx, NID_subject_alt_name, san))
        goto fail;
    if (X509_sign(p.cert, issuer ? issuer->key : p.key, EVP_sha256()) <= 0)
        goto fail;
    return p;
fail:
    fprintf(stderr, "certificate generation failed\n");
    EVP_PKEY_free(p.key);
    X509_free(p.cert);
    return (pki){NULL, NULL};
}

static pki make_ca(const char *cn)
{
    return make_cert(NULL, 1, cn, NULL, NULL, -DAY, 3650 * DAY);
}

static pki make_leaf(const pki *ca, const char *cn, const char *san)
{
    return make_cert(ca, 0, cn, san, NULL, -DAY, 365 * DAY);
}

static void pki_free(pki *p)
{
    EVP_PKEY_free(p->key);
    X509_free(p->cert);
}

static int write_pem(const char *path, X509 *a, X509 *b)
{
    FILE *f = fopen(path, "w");
    int ok = f && a && PEM_write_X509(f, a) == 1 && (!b || PEM_write_X509(f, b) == 1);
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

/* A CRL from ca revoking the certificates in revoked[0..n). */
static int write_crl(const char *path, const pki *ca, X509 *const *revoked, size_t n)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_new();
    X509V3_CTX ctx;
    FILE *f = NULL;
    int ok = crl && t && X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) == 1;

    ok = ok && X509_gmtime_adj(t, -3600) && X509_CRL_set1_lastUpdate(crl, t) == 1;
    ok = ok && X509_gmtime_adj(t, 30 * DAY) && X509_CRL_set1_nextUpdate(crl, t) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ok = r && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) == 1 &&
             X509_gmtime_adj(t, -60) && X509_REVOKED_set_revocationDate(r, t) == 1 &&
             X509_CRL_add0_revoked(crl, r) == 1;
        if (!ok)
            X509_REVOKED_free(r);
    }
    if (ok) {
        X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
        X509_EXTENSION *akid =
            X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
        ASN1_INTEGER *num = ASN1_INTEGER_new();
        ok = akid && num && ASN1_INTEGER_set(num, 1) == 1 && X509_CRL_add_ext(crl, akid, -1) == 1 &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1;
        X509_EXTENSION_free(akid);
        ASN1_INTEGER_free(num);
    }
    ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, ca->key, EVP_sha256()) > 0;
    ok = ok && (f = fopen(path, "w")) != NULL && PEM_write_X509_CRL(f, crl) == 1;
    if (f)
        fclose(f);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    return ok ? 0 : -1;
}

/* Authenticate a chain of certificates (leaf first). */
static inlet_status auth_chain(X509 *const *certs, size_t n, inlet_identity **id, char *msg,
                               size_t msg_len)
{
    unsigned char *der[4] = {NULL};
    size_t len[4];
    inlet_status st;

    for (size_t i = 0; i < n; i++) {
        int l = certs[i] ? i2d_X509(certs[i], &der[i]) : -1;
        len[i] = l > 0 ? (size_t)l : 0;
    }
    st = inlet_tenants_auth_cert(ts, (const uint8_t *const *)der, len, n, id, msg, msg_len);
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(der[i]);
    return st;
}

static void expect_identity(X509 *const *certs, size_t n, const char *tenant, const char *device)
{
    inlet_identity *id = NULL;
    char msg[256] = "";
    inlet_status st = auth_chain(certs, n, &id, msg, sizeof(msg));
    CHECK(st == INLET_OK);
    if (st != INLET_OK) {
        fprintf(stderr, "  refused: %s\n", msg);
        return;
    }
    CHECK(id->method == INLET_AUTH_CERT);
    CHECK(id->size == sizeof(inlet_identity));
    CHECK_STR(id->tenant, tenant);
    CHECK_STR(id->device_id, device);
    inlet_identity_release(id);
}

static void expect_refused(X509 *const *certs, size_t n, const char *needle)
{
    inlet_identity *id = (inlet_identity *)1;
    char msg[256] = "";
    CHECK(auth_chain(certs, n, &id, msg, sizeof(msg)) == INLET_E_UNAUTHENTICATED);
    CHECK(id == NULL);
    CHECK_CONTAINS(msg, needle);
}

int main(void)
{
    char alpha[512], beta[512], gamma[512], uri[512], err[512];
    pki alpha_ca = make_ca("Alpha CA"), beta_ca = make_ca("Beta CA"),
        gamma_ca = make_ca("Gamma CA");
    pki beta_old_ca = make_ca("Beta CA 2019");
    pki uri_ca = make_ca("URI CA"), rogue_ca = make_ca("Alpha CA"); /* same name, other key */
    pki alpha_int = make_cert(&alpha_ca, 1, "Alpha Issuing CA", NULL, NULL, -DAY, 3650 * DAY);

    snprintf(dir, sizeof(dir), "/tmp/inlet-test-cert-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(alpha_ca_pem, sizeof(alpha_ca_pem), "%s/alpha-ca.pem", dir);
    snprintf(beta_ca_pem, sizeof(beta_ca_pem), "%s/beta-ca.pem", dir);
    snprintf(gamma_ca_pem, sizeof(gamma_ca_pem), "%s/gamma-ca.pem", dir);
    snprintf(uri_ca_pem, sizeof(uri_ca_pem), "%s/uri-ca.pem", dir);
    CHECK(write_pem(alpha_ca_pem, alpha_ca.cert, NULL) == 0);
    /* Beta's bundle holds two CAs (a rollover): both issue beta's devices. */
    CHECK(write_pem(beta_ca_pem, beta_ca.cert, beta_old_ca.cert) == 0);
    CHECK(write_pem(gamma_ca_pem, gamma_ca.cert, NULL) == 0);
    CHECK(write_pem(uri_ca_pem, uri_ca.cert, NULL) == 0);

    snprintf(alpha, sizeof(alpha),
             "tenant: alpha\nmtls:\n  ca_file: %s\n  allow_unlisted_devices: true\n", alpha_ca_pem);
    snprintf(beta, sizeof(beta),
             "tenant: beta\nmtls:\n  ca_file: %s\n  device_id_from: san_dns\n"
             "  allow_unlisted_devices: true\n",
             beta_ca_pem);
    /* gamma lists its devices: its CA's other certificates are not gamma's devices. */
    snprintf(gamma, sizeof(gamma),
             "tenant: gamma\nmtls:\n  ca_file: %s\n  device_id_from: cn\n"
             "devices: [{id: truck-0042}]\n",
             gamma_ca_pem);
    snprintf(uri, sizeof(uri),
             "tenant: meters\nmtls:\n  ca_file: %s\n  device_id_from: san_uri\n"
             "devices:\n  - id: \"urn:dev:meter-9\"\n",
             uri_ca_pem);
    const char *docs[] = {alpha, beta, gamma, uri};
    CHECK(build_yaml(docs, 4, &ts, err, sizeof(err)) == 0);
    if (!ts) {
        fprintf(stderr, "build failed: %s\n", err);
        return check_done();
    }

    /* CN mapping, and the same CN under another tenant's CA stays that tenant's. */
    pki a1 = make_leaf(&alpha_ca, "truck-0042", "DNS:ignored.example");
    pki g1 = make_leaf(&gamma_ca, "truck-0042", NULL);
    expect_identity(&a1.cert, 1, "alpha", "truck-0042");
    expect_identity(&g1.cert, 1, "gamma", "truck-0042");
    {
        /* the identity ends with the leaf's notAfter (365 days), before the CA's */
        inlet_identity *id = NULL;
        char msg[256];
        CHECK(auth_chain(&a1.cert, 1, &id, msg, sizeof(msg)) == INLET_OK);
        int64_t left = id ? inlet_identity_expires_at(id) / 1000000 - (int64_t)time(NULL) : 0;
        CHECK(left > 365 * DAY - 60 && left <= 365 * DAY);
        inlet_identity_release(id);
    }
    /* Regression: any CN the CA signed used to authenticate, listed or not. */
    pki g2 = make_leaf(&gamma_ca, "truck-9999", NULL);
    expect_refused(&g2.cert, 1, "not in devices");

    /* SAN dNSName mapping: the first dNSName, not the CN, not an earlier IP entry. */
    pki b1 = make_leaf(&beta_ca, "alpha-truck-0042",
                       "IP:192.0.2.1,DNS:sensor-7.beta.example,DNS:second.example");
    expect_identity(&b1.cert, 1, "beta", "sensor-7.beta.example");
    pki b3 = make_leaf(&beta_old_ca, "x", "DNS:legacy-3.beta.example");
    expect_identity(&b3.cert, 1, "beta", "legacy-3.beta.example");
    pki b2 = make_leaf(&beta_ca, "no-san", NULL);
    expect_refused(&b2.cert, 1, "no SAN dNSName");

    /* SAN URI mapping; a URI with '/' is not a valid device id. */
    pki m1 = make_leaf(&uri_ca, "m", "URI:urn:dev:meter-9");
    expect_identity(&m1.cert, 1, "meters", "urn:dev:meter-9");
    pki m2 = make_leaf(&uri_ca, "m", "URI:spiffe://meters/dev/meter-9");
    expect_refused(&m2.cert, 1, "'+', '#' or '/'");

    /* Unknown CA, even one reusing a trusted CA's name. */
    pki r1 = make_leaf(&rogue_ca, "truck-0042", NULL);
    expect_refused(&r1.cert, 1, "not verified by any tenant's CA");
    X509 *rogue_chain[] = {r1.cert, rogue_ca.cert};
    expect_refused(rogue_chain, 2, "not verified by any tenant's CA");

    /* Expired, not yet valid. */
    pki e1 = make_cert(&alpha_ca, 0, "truck-old", NULL, NULL, -10 * DAY, -DAY);
    expect_refused(&e1.cert, 1, "expired");
    pki f1 = make_cert(&alpha_ca, 0, "truck-new", NULL, NULL, DAY, 10 * DAY);
    expect_refused(&f1.cert, 1, "not yet valid");

    /* A server certificate is not a client certificate. */
    pki s1 = make_cert(&alpha_ca, 0, "truck-srv", NULL, "serverAuth", -DAY, DAY);
    expect_refused(&s1.cert, 1, "purpose");

    /* Through an intermediate the client sends; without it the chain does not verify. */
    pki i1 = make_leaf(&alpha_int, "truck-0099", NULL);
    X509 *chain[] = {i1.cert, alpha_int.cert};
    expect_identity(chain, 2, "alpha", "truck-0099");
    expect_refused(&i1.cert, 1, "not verified by any tenant's CA");

    /* Device ids from certificates are validated like all others. */
    pki bad_cn = make_leaf(&alpha_ca, "sensors/+", NULL);
    expect_refused(&bad_cn.cert, 1, "'+', '#' or '/'");
    pki no_cn = make_leaf(&alpha_ca, NULL, "DNS:x.example");
    expect_refused(&no_cn.cert, 1, "no CN");

    /* Garbage and trailing bytes. */
    {
        const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
        const uint8_t *chain_junk[] = {junk};
        size_t len_junk[] = {sizeof(junk)};
        inlet_identity *id = NULL;
        char msg[256] = "";
        CHECK(inlet_tenants_auth_cert(ts, chain_junk, len_junk, 1, &id, msg, sizeof(msg)) ==
              INLET_E_UNAUTHENTICATED);
        CHECK_CONTAINS(msg, "not valid DER");
        unsigned char *der = NULL;
        int l = i2d_X509(a1.cert, &der);
        unsigned char *longer = malloc((size_t)l + 1);
        memcpy(longer, der, (size_t)l);
        longer[l] = 0;
        const uint8_t *chain_long[] = {longer};
        size_t len_long[] = {(size_t)l + 1};
        CHECK(inlet_tenants_auth_cert(ts, chain_long, len_long, 1, &id, msg, sizeof(msg)) ==
              INLET_E_UNAUTHENTICATED);
        CHECK(inlet_tenants_auth_cert(ts, chain_long, len_long, 0, &id, msg, sizeof(msg)) ==
              INLET_E_UNAUTHENTICATED);
        CHECK_CONTAINS(msg, "no client certificate");
        free(longer);
        OPENSSL_free(der);
    }
    inlet_tenants_release(ts);

    /* Regression: two tenants trusting the same CA loaded, and a certificate was only refused
     * as ambiguous when it was used. Now the set is refused, naming both and the CA. */
    char both[512];
    snprintf(both, sizeof(both), "tenant: alpha2\nmtls:\n  ca_file: %s\n", alpha_ca_pem);
    const char *overlap[] = {alpha, both};
    CHECK(build_yaml(overlap, 2, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "tenant alpha2");
    CHECK_CONTAINS(err, "tenant alpha's");
    CHECK_CONTAINS(err, "CN=Alpha CA");
    CHECK_CONTAINS(err, "is also in");

    /* Partial chains: "sub" trusts alpha's intermediate only; a leaf under it verifies with
     * nothing but the leaf. Next to alpha (which trusts the root above it) the set is refused:
     * sub's devices would verify as alpha's. */
    char int_pem[128], sub_doc[512];
    snprintf(int_pem, sizeof(int_pem), "%s/alpha-int.pem", dir);
    CHECK(write_pem(int_pem, alpha_int.cert, NULL) == 0);
    snprintf(sub_doc, sizeof(sub_doc),
             "tenant: sub\nmtls:\n  ca_file: %s\n  allow_unlisted_devices: true\n", int_pem);
    const char *sub_only[] = {sub_doc};
    CHECK(build_yaml(sub_only, 1, &ts, err, sizeof(err)) == 0);
    if (ts) {
        expect_identity(&i1.cert, 1, "sub", "truck-0099");
        expect_refused(&a1.cert, 1, "not verified");
        inlet_tenants_release(ts);
    }
    const char *nested[] = {alpha, sub_doc};
    CHECK(build_yaml(nested, 2, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "tenant sub: mtls.ca_file: certificate");
    CHECK_CONTAINS(err, "CN=Alpha Issuing CA");
    CHECK_CONTAINS(err, "is issued under tenant alpha's");
    const char *nested_rev[] = {sub_doc, alpha};
    CHECK(build_yaml(nested_rev, 2, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "CN=Alpha Issuing CA");

    /* CRLs: a revoked leaf is refused, its sibling is not; a reload re-reads the file. */
    char crl_pem[128], crl_doc[512];
    pki a2 = make_leaf(&alpha_ca, "truck-0043", NULL);
    snprintf(crl_pem, sizeof(crl_pem), "%s/alpha-crl.pem", dir);
    CHECK(write_crl(crl_pem, &alpha_ca, &a2.cert, 1) == 0);
    snprintf(crl_doc, sizeof(crl_doc),
             "tenant: alpha\nmtls:\n  ca_file: %s\n  crl_file: %s\n"
             "  allow_unlisted_devices: true\n",
             alpha_ca_pem, crl_pem);
    const char *crl_docs[] = {crl_doc};
    inlet_identity *held = NULL;
    CHECK(build_yaml(crl_docs, 1, &ts, err, sizeof(err)) == 0);
    if (ts) {
        expect_identity(&a1.cert, 1, "alpha", "truck-0042");
        expect_refused(&a2.cert, 1, "revoked");
        char msg[256];
        CHECK(auth_chain(&a1.cert, 1, &held, msg, sizeof(msg)) == INLET_OK);
        inlet_tenants_release(ts);
    }
    X509 *both_revoked[] = {a1.cert, a2.cert};
    CHECK(write_crl(crl_pem, &alpha_ca, both_revoked, 2) == 0);
    CHECK(build_yaml(crl_docs, 1, &ts, err, sizeof(err)) == 0);
    if (ts) {
        expect_refused(&a1.cert, 1, "revoked");
        /* a connection authenticated before the reload loses its identity at its next event */
        inlet_identity *fresh = NULL;
        char msg[256] = "";
        CHECK(held && inlet_identity_refresh(ts, held, &fresh, msg, sizeof(msg)) ==
                          INLET_E_UNAUTHENTICATED);
        CHECK_CONTAINS(msg, "revoked");
        inlet_tenants_release(ts);
    }
    inlet_identity_release(held);
    CHECK(write_pem(crl_pem, alpha_ca.cert, NULL) == 0); /* not a CRL */
    CHECK(build_yaml(crl_docs, 1, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "mtls.crl_file");
    unlink(crl_pem);
    unlink(int_pem);

    /* No tenant with mTLS at all. */
    const char *none[] = {"tenant: plain\n"};
    CHECK(build_yaml(none, 1, &ts, err, sizeof(err)) == 0);
    if (ts) {
        expect_refused(&a1.cert, 1, "no tenant has mtls.ca_file");
        inlet_tenants_release(ts);
    }

    /* Build errors: missing or empty CA file. */
    char bad[256];
    snprintf(bad, sizeof(bad), "tenant: x\nmtls:\n  ca_file: %s/missing.pem\n", dir);
    const char *bad_docs[] = {bad};
    CHECK(build_yaml(bad_docs, 1, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "mtls.ca_file");
    CHECK_CONTAINS(err, "missing.pem");
    snprintf(bad, sizeof(bad), "tenant: x\nmtls:\n  ca_file: /dev/null\n");
    CHECK(build_yaml(bad_docs, 1, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "no PEM certificates");
    /* A damaged second certificate is an error, not silently dropped. */
    char damaged[128];
    snprintf(damaged, sizeof(damaged), "%s/damaged.pem", dir);
    FILE *df = fopen(damaged, "w");
    if (df) {
        PEM_write_X509(df, alpha_ca.cert);
        fputs("-----BEGIN CERTIFICATE-----\nMIIBnotbase64!!\n-----END CERTIFICATE-----\n", df);
        fclose(df);
    }
    snprintf(bad, sizeof(bad), "tenant: x\nmtls:\n  ca_file: %s\n", damaged);
    CHECK(build_yaml(bad_docs, 1, &ts, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "certificate 2 is malformed");
    unlink(damaged);
    CHECK(build_yaml((const char *[]){"tenant: x\nmtls:\n  device_id_from: serial\n"}, 1, &ts, err,
                     sizeof(err)) != 0);
    CHECK_CONTAINS(err, "device_id_from");

    pki *all[] = {&alpha_ca, &beta_ca, &gamma_ca, &uri_ca,      &rogue_ca, &alpha_int, &a1, &g1,
                  &b1,       &b2,      &b3,       &beta_old_ca, &m1,       &m2,        &r1, &e1,
                  &f1,       &s1,      &i1,       &bad_cn,      &no_cn,    &g2,        &a2};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        pki_free(all[i]);
    unlink(alpha_ca_pem);
    unlink(beta_ca_pem);
    unlink(gamma_ca_pem);
    unlink(uri_ca_pem);
    rmdir(dir);
    return check_done();
}
