/*
 * cert_identity.c - TLS client certificates to identities. Each tenant with mtls.ca_file has its
 * own trust store holding only its CA bundle and CRLs (trust_store.c); a chain names the tenant
 * whose store verifies it, and the device id is read from the leaf as that tenant configures.
 * Nothing the client asserts (a CN that looks like another tenant's device, an SNI, a header)
 * chooses the tenant.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "device_id.h"
#include "device_table.h"
#include "ident_error.h"
#include "identity.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"

#define CHAIN_MAX 10

static X509 *der_decode(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;

    if (!der || len == 0 || len > (size_t)LONG_MAX)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    /* Trailing bytes after the certificate mean it was not what the peer sent as one. */
    if (x && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The device id as configured; *out is malloc'd. */
static const char *device_id_read(X509 *leaf, int from, char **out, size_t *out_len)
{
    *out = NULL;
    if (from == INLET_CERT_ID_CN) {
        X509_NAME *subject = X509_get_subject_name(leaf);
        int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        unsigned char *utf8 = NULL;
        int len;
        if (idx < 0)
            return "certificate subject has no CN";
        if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0)
            return "certificate subject has several CNs";
        len =
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)));
        if (len < 0)
            return "certificate CN is not a valid string";
        *out = malloc((size_t)len + 1);
        if (*out) {
            memcpy(*out, utf8, (size_t)len);
            (*out)[len] = '\0';
            *out_len = (size_t)len;
        }
        OPENSSL_free(utf8);
        return *out ? NULL : "out of memory";
    }

    int type = from == INLET_CERT_ID_SAN_DNS ? GEN_DNS : GEN_URI;
    GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    const char *why =
        type == GEN_DNS ? "certificate has no SAN dNSName" : "certificate has no SAN URI";
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type != type)
            continue;
        /* dNSName and URI are both IA5String (RFC 5280 4.2.1.6). */
        const ASN1_IA5STRING *s = type == GEN_DNS ? gn->d.dNSName : gn->d.uniformResourceIdentifier;
        int len = ASN1_STRING_length(s);
        why = "out of memory";
        *out = malloc(len > 0 ? (size_t)len + 1 : 1);
        if (*out) {
            memcpy(*out, ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0);
            (*out)[len > 0 ? len : 0] = '\0';
            *out_len = len > 0 ? (size_t)len : 0;
            why = NULL;
        }
        break;
    }
    GENERAL_NAMES_free(names);
    return why;
}

/* The earliest notAfter of the verified chain, wall clock microseconds (0 if unreadable). */
static int64_t chain_expires_at(X509_STORE_CTX *ctx)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int64_t earliest = 0;

    for (int i = 0; epoch && i < sk_X509_num(chain); i++) {
        int days = 0, secs = 0;
        if (ASN1_TIME_diff(&days, &secs, epoch, X509_get0_notAfter(sk_X509_value(chain, i))) != 1)
            continue;
        int64_t at = ((int64_t)days * 86400 + secs) * 1000000;
        if (at > 0 && (earliest == 0 || at < earliest))
            earliest = at;
    }
    ASN1_TIME_free(epoch);
    return earliest;
}

/* "unable to get issuer" only says this tenant's CA is not the issuer; any other failure (expired,
 * bad purpose, bad signature) is what an operator wants to read. */
static int error_is_informative(int e)
{
    return e != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY &&
           e != X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT &&
           e != X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT && e != X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
}

inlet_status inlet_tenants_auth_cert(inlet_tenants *ts, const uint8_t *const *chain,
                                     const size_t *chain_len, size_t n, inlet_identity **out,
                                     char *msg, size_t msg_len)
{
    inlet_status st = INLET_E_UNAUTHENTICATED;
    X509 *leaf = NULL;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE_CTX *ctx = NULL;
    const inlet_tenant *match = NULL, *second = NULL;
    int verify_err = X509_V_OK;
    char *device = NULL;
    size_t device_len = 0;
    const char *why;
    int64_t expires_at_us = 0;

    *out = NULL;
    if (!ts || !chain || !chain_len || n == 0) {
        inlet_ident_msgf(msg, msg_len, "no client certificate");
        return st;
    }
    if (n > CHAIN_MAX) {
        inlet_ident_msgf(msg, msg_len, "client certificate chain longer than %d", CHAIN_MAX);
        return st;
    }
    leaf = der_decode(chain[0], chain_len[0]);
    untrusted = sk_X509_new_null();
    if (!leaf || !untrusted) {
        inlet_ident_msgf(msg, msg_len, "client certificate is not valid DER");
        goto done;
    }
    for (size_t i = 1; i < n; i++) {
        X509 *x = der_decode(chain[i], chain_len[i]);
        if (!x || !sk_X509_push(untrusted, x)) {
            X509_free(x);
            inlet_ident_msgf(msg, msg_len, "certificate %zu of the chain is not valid DER", i);
            goto done;
        }
    }
    ctx = X509_STORE_CTX_new();
    if (!ctx) {
        st = INLET_E_INTERNAL;
        inlet_ident_msgf(msg, msg_len, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ts->n; i++) {
        const inlet_tenant *t = &ts->tenants[i];
        if (!t->ca)
            continue;
        if (X509_STORE_CTX_init(ctx, t->ca, leaf, untrusted) != 1) {
            st = INLET_E_INTERNAL;
            inlet_ident_msgf(msg, msg_len, "cannot initialise certificate verification");
            goto done;
        }
        if (X509_verify_cert(ctx) == 1) {
            if (!match) {
                match = t;
                expires_at_us = chain_expires_at(ctx);
            } else if (!second)
                second = t;
        } else {
            int e = X509_STORE_CTX_get_error(ctx);
            if (verify_err == X509_V_OK ||
                (error_is_informative(e) && !error_is_informative(verify_err)))
                verify_err = e;
        }
        X509_STORE_CTX_cleanup(ctx);
    }
    if (!match) {
        inlet_ident_msgf(msg, msg_len, "client certificate not verified by any tenant's CA: %s",
                         verify_err == X509_V_OK ? "no tenant has mtls.ca_file"
                                                 : X509_verify_cert_error_string(verify_err));
        goto done;
    }
    /* Overlapping CA bundles would let the chain pick its tenant: refuse rather than guess. */
    if (second) {
        inlet_ident_msgf(msg, msg_len,
                         "client certificate verifies under the CAs of tenants %s and %s; "
                         "refused as ambiguous",
                         match->name, second->name);
        goto done;
    }
    why = device_id_read(leaf, match->device_id_from, &device, &device_len);
    if (!why)
        why = inlet_device_id_check(device, device_len);
    if (why) {
        inlet_ident_msgf(msg, msg_len, "tenant %s: device id from certificate: %s", match->name,
                         why);
        goto done;
    }
    /* A CA usually certifies more than this tenant's fleet (a company CA, a vendor CA): only
     * listed devices, unless the tenant says its CA is exactly its fleet. */
    if (!match->allow_unlisted && !inlet_device_table_find(&match->devices, device)) {
        char shown[64];
        inlet_ident_msgf(msg, msg_len,
                         "tenant %s: certificate names device \"%s\", which is not in devices "
                         "(mtls.allow_unlisted_devices is false)",
                         match->name, inlet_ident_printable(device, shown, sizeof(shown)));
        goto done;
    }
    st = inlet_identity_new(ts, match, device, device_len, INLET_AUTH_CERT, out);
    if (st == INLET_OK) {
        inlet_identity_block *b = inlet_identity_block_mut(*out);
        b->expires_at_us = expires_at_us;
        b->chain = inlet_identity_chain_copy(chain, chain_len, n);
        if (!b->chain) {
            inlet_identity_release(*out);
            *out = NULL;
            st = INLET_E_INTERNAL;
        }
    }
    if (st != INLET_OK)
        inlet_ident_msgf(msg, msg_len, "out of memory");
done:
    ERR_clear_error();
    free(device);
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    X509_free(leaf);
    return st;
}
