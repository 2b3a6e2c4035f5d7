/* fuzz_jwt.c - libFuzzer target for JWT authentication (core/identity/jwt*.c, base64url.c): the
 * input is a bearer token for a tenant set with HS256 keys selected by kid, by issuer and as the
 * sole key without either, plus an RS256 and an ES256 key, so splitting, base64url, header and
 * claim parsing, key selection, the alg pin and every claim check are reached. Signatures of
 * random input fail, so the HS256 secret is public in this file: inputs whose first byte is '!'
 * are re-signed with it (header.payload from the rest), to get past the signature into the
 * claims. Invariants: an accepted token names a configured tenant and a valid device id, and its
 * expiry is after now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config/config.h"
#include "identity/device_id.h"
#include "identity/jwt.h"
#include "identity/tenant.h"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define NOW 1800000000LL

static const char secret[] = "0123456789abcdef0123456789abcdef";
static inlet_tenants *ts;

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
}

static void write_pub(const char *path, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    if (!f || PEM_write_PUBKEY(f, k) != 1)
        abort();
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/inlet-fuzz-jwt-XXXXXX", hs[64], rs[64], es[64], a[1024], b[512], err[512];
    (void)argc, (void)argv;
    if (!mkdtemp(dir))
        abort();
    snprintf(hs, sizeof(hs), "%s/hs", dir);
    snprintf(rs, sizeof(rs), "%s/rs.pem", dir);
    snprintf(es, sizeof(es), "%s/es.pem", dir);
    write_file(hs, secret, strlen(secret));
    EVP_PKEY *r = EVP_RSA_gen(2048), *e = EVP_EC_gen("P-256");
    write_pub(rs, r);
    write_pub(es, e);
    EVP_PKEY_free(r);
    EVP_PKEY_free(e);
    snprintf(a, sizeof(a),
             "tenant: a\ntopic_prefix: a.\ndevices: [{id: d}]\n"
             "jwt:\n"
             "  - {kid: k1, alg: HS256, secret_file: %s, issuer: iss-a, audience: [inlet]}\n"
             "  - {kid: k2, alg: RS256, public_key_file: %s, issuer: iss-a}\n"
             "  - {kid: k3, alg: ES256, public_key_file: %s, device_claim: dev, "
             "max_lifetime: 1h}\n",
             hs, rs, es);
    snprintf(b, sizeof(b),
             "tenant: b\njwt:\n  - {alg: HS256, secret_file: %s, clock_skew: 0s}\n"
             "  - {alg: HS256, secret_file: %s, issuer: iss-b, max_lifetime: 0}\n",
             hs, hs);
    const char *docs[] = {a, b};
    inlet_tenant_conf confs[2];
    const inlet_tenant_conf *ptrs[2] = {&confs[0], &confs[1]};
    const char *origins[] = {"a", "b"};
    memset(confs, 0, sizeof(confs));
    for (int i = 0; i < 2; i++) {
        inlet_conf_file *f = NULL;
        if (inlet_conf_load_string("t.yaml", docs[i], strlen(docs[i]), &f, err, sizeof(err)) ||
            inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &confs[i], NULL, err,
                             sizeof(err))) {
            fprintf(stderr, "fuzz_jwt: %s\n", err);
            abort();
        }
        inlet_conf_file_free(f);
    }
    if (inlet_tenants_build(ptrs, origins, 2, &ts, err, sizeof(err))) {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }
    for (int i = 0; i < 2; i++)
        inlet_conf_release(inlet_tenant_options, &confs[i]);
    unlink(hs);
    unlink(rs);
    unlink(es);
    rmdir(dir);
    return 0;
}

static void check(const char *tok, size_t len)
{
    inlet_identity *id = NULL;
    char msg[256] = "";
    inlet_status st = inlet_tenants_auth_bearer(ts, tok, len, NOW, &id, msg, sizeof(msg));
    if (st != INLET_OK) {
        ASSERT(id == NULL);
        ASSERT(memchr(msg, '\0', sizeof(msg)) != NULL);
        return;
    }
    ASSERT(strcmp(id->tenant, "a") == 0 || strcmp(id->tenant, "b") == 0);
    ASSERT(inlet_device_id_check(id->device_id, strlen(id->device_id)) == NULL);
    if (id->method == INLET_AUTH_JWT)
        ASSERT(inlet_identity_expires_at(id) > NOW * 1000000LL);
    inlet_identity_release(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    check((const char *)data, size);
    if (size > 1 && data[0] == '!') {
        /* rest = "<header json>\n<claims json>": encode and sign with the known secret */
        const char *nl = memchr(data + 1, '\n', size - 1);
        if (!nl)
            return 0;
        size_t hl = (size_t)(nl - (const char *)data) - 1, cl = size - 2 - hl;
        char *h = malloc(hl * 2 + 8), *c = malloc(cl * 2 + 8);
        size_t hn = h ? inlet_base64url_encode(data + 1, hl, h, hl * 2 + 8) : 0;
        size_t cn = c ? inlet_base64url_encode((const uint8_t *)nl + 1, cl, c, cl * 2 + 8) : 0;
        char *tok = hn && cn ? malloc(hn + cn + 64) : NULL;
        if (tok) {
            size_t in_len = hn + 1 + cn, mac_len = 0;
            unsigned char mac[EVP_MAX_MD_SIZE];
            memcpy(tok, h, hn);
            tok[hn] = '.';
            memcpy(tok + hn + 1, c, cn);
            if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, strlen(secret),
                          (unsigned char *)tok, in_len, mac, sizeof(mac), &mac_len)) {
                tok[in_len] = '.';
                size_t sn = inlet_base64url_encode(mac, mac_len, tok + in_len + 1, 62);
                if (sn)
                    check(tok, in_len + 1 + sn);
            }
            free(tok);
        }
        free(h);
        free(c);
    }
    return 0;
}
