/* fuzz_cert_chain.c - libFuzzer target for X.509 chains to identities
 * (core/identity/cert_identity.c, trust_store.c): the input is a chain of DER certificates,
 * each preceded by a 2-byte big-endian length, for a tenant set with two CAs (one of which
 * trusts only an intermediate, the partial-chain case) and a CRL. The seeds are real chains
 * from those CAs (written by the target when FUZZ_CERT_SEEDS names a directory), so mutations
 * start from certificates that verify. Invariants: an accepted chain names one of the tenants and
 * a listed device, and its expiry is set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "identity/tenant.h"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inlet_tenants *ts;

typedef struct pki {
    EVP_PKEY *key;
    X509 *cert;
} pki;

static void ext(X509 *x, X509V3_CTX *ctx, int nid, const char *v)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, v);
    if (!e || X509_add_ext(x, e, -1) != 1)
        abort();
    X509_EXTENSION_free(e);
}

static pki make(const pki *issuer, int ca, const char *cn, long serial)
{
    pki p = {EVP_EC_gen("P-256"), X509_new()};
    X509V3_CTX ctx;
    X509_set_version(p.cert, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(p.cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(p.cert), -86400);
    X509_gmtime_adj(X509_getm_notAfter(p.cert), 3650L * 86400);
    X509_set_pubkey(p.cert, p.key);
    X509_NAME *name = X509_get_subject_name(p.cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(p.cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509V3_set_ctx(&ctx, issuer ? issuer->cert : p.cert, p.cert, NULL, NULL, 0);
    ext(p.cert, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ext(p.cert, &ctx, NID_key_usage,
        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    ext(p.cert, &ctx, NID_subject_key_identifier, "hash");
    if (issuer)
        ext(p.cert, &ctx, NID_authority_key_identifier, "keyid:always");
    if (!ca)
        ext(p.cert, &ctx, NID_ext_key_usage, "clientAuth");
    if (X509_sign(p.cert, issuer ? issuer->key : p.key, EVP_sha256()) <= 0)
        abort();
    return p;
}

static void pem(const char *path, X509 *x)
{
    FILE *f = fopen(path, "w");
    if (!f || PEM_write_X509(f, x) != 1)
        abort();
    fclose(f);
}

/* A seed: the chain in the input format. */
static void seed(const char *dir, const char *name, X509 *const *chain, int n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    for (int i = 0; f && i < n; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(chain[i], &der);
        unsigned char hdr[2] = {(unsigned char)(len >> 8), (unsigned char)len};
        fwrite(hdr, 1, 2, f);
        fwrite(der, 1, (size_t)len, f);
        OPENSSL_free(der);
    }
    if (f)
        fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/inlet-fuzz-cert-XXXXXX", a_pem[64], i_pem[64], docs[2][512], err[512];
    (void)argc, (void)argv;
    if (!mkdtemp(dir))
        abort();
    pki root_a = make(NULL, 1, "A root", 1), root_b = make(NULL, 1, "B root", 2);
    pki int_b = make(&root_b, 1, "B issuing", 3);
    pki leaf_a = make(&root_a, 0, "d", 4), leaf_b = make(&int_b, 0, "d", 5);
    snprintf(a_pem, sizeof(a_pem), "%s/a.pem", dir);
    snprintf(i_pem, sizeof(i_pem), "%s/b.pem", dir);
    pem(a_pem, root_a.cert);
    pem(i_pem, int_b.cert); /* tenant b trusts its intermediate only */
    snprintf(docs[0], sizeof(docs[0]),
             "tenant: a\ntopic_prefix: a.\ndevices: [{id: d}]\nmtls: {ca_file: %s}\n", a_pem);
    snprintf(docs[1], sizeof(docs[1]),
             "tenant: b\ndevices: [{id: d}]\nmtls: {ca_file: %s, device_id_from: cn, "
             "allow_unlisted_devices: true}\n",
             i_pem);
    inlet_tenant_conf confs[2];
    const inlet_tenant_conf *ptrs[2] = {&confs[0], &confs[1]};
    const char *origins[] = {"a", "b"};
    memset(confs, 0, sizeof(confs));
    for (int i = 0; i < 2; i++) {
        inlet_conf_file *f = NULL;
        if (inlet_conf_load_string("t.yaml", docs[i], strlen(docs[i]), &f, err, sizeof(err)) ||
            inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &confs[i], NULL, err,
                             sizeof(err)))
            abort();
        inlet_conf_file_free(f);
    }
    if (inlet_tenants_build(ptrs, origins, 2, &ts, err, sizeof(err))) {
        fprintf(stderr, "fuzz_cert_chain: %s\n", err);
        abort();
    }
    for (int i = 0; i < 2; i++)
        inlet_conf_release(inlet_tenant_options, &confs[i]);
    const char *seeds = getenv("FUZZ_CERT_SEEDS");
    if (seeds) {
        X509 *ca[] = {leaf_a.cert}, *cb[] = {leaf_b.cert, int_b.cert},
             *cr[] = {leaf_b.cert, int_b.cert, root_b.cert};
        seed(seeds, "leaf-a", ca, 1);
        seed(seeds, "leaf-b-int", cb, 2);
        seed(seeds, "leaf-b-int-root", cr, 3);
    }
    pki *all[] = {&root_a, &root_b, &int_b, &leaf_a, &leaf_b};
    for (size_t i = 0; i < 5; i++) {
        EVP_PKEY_free(all[i]->key);
        X509_free(all[i]->cert);
    }
    unlink(a_pem);
    unlink(i_pem);
    rmdir(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *chain[12];
    size_t len[12], n = 0, off = 0;

    while (off + 2 <= size && n < 12) {
        size_t l = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (l > size - off)
            l = size - off;
        chain[n] = data + off;
        len[n++] = l;
        off += l;
    }
    inlet_identity *id = NULL;
    char msg[256] = "";
    inlet_status st = inlet_tenants_auth_cert(ts, chain, len, n, &id, msg, sizeof(msg));
    ASSERT(memchr(msg, '\0', sizeof(msg)) != NULL);
    if (st == INLET_OK) {
        ASSERT(strcmp(id->tenant, "a") == 0 || strcmp(id->tenant, "b") == 0);
        ASSERT(strcmp(id->tenant, "b") == 0 || strcmp(id->device_id, "d") == 0);
        ASSERT(inlet_identity_expires_at(id) > 0);
        inlet_identity *fresh = NULL;
        ASSERT(inlet_identity_refresh(ts, id, &fresh, msg, sizeof(msg)) == INLET_OK);
        inlet_identity_release(fresh);
        inlet_identity_release(id);
    } else {
        ASSERT(id == NULL);
    }
    return 0;
}
