/*
 * trust_store.c - building a tenant's trust store from its CA bundle and CRLs, and refusing
 * tenant sets whose bundles overlap (see trust_store.h).
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "file_read.h"
#include "ident_error.h"
#include "tenant_runtime.h"
#include "trust_store.h"

#define PEM_FILE_MAX (4 * 1024 * 1024)

/* The PEM loop ends at "no start line" after the last object; anything else is damage that would
 * otherwise be dropped without a word. */
static int pem_ended_cleanly(void)
{
    unsigned long e = ERR_peek_last_error();
    return !e || (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

static int certs_add(X509_STORE *store, BIO *bio, const char *ca_file, char *err, size_t err_len)
{
    size_t count = 0;
    X509 *cert;

    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        int added = X509_STORE_add_cert(store, cert);
        X509_free(cert);
        if (!added)
            return inlet_ident_errf(err, err_len, "%s: certificate %zu could not be added", ca_file,
                                    count + 1);
        count++;
    }
    if (!pem_ended_cleanly())
        return inlet_ident_errf(err, err_len, "%s: certificate %zu is malformed", ca_file,
                                count + 1);
    if (count == 0)
        return inlet_ident_errf(err, err_len, "%s: no PEM certificates", ca_file);
    return 0;
}

static int crls_add(X509_STORE *store, const char *crl_file, char *err, size_t err_len)
{
    unsigned char *pem = NULL;
    size_t pem_len = 0, count = 0;
    BIO *bio = NULL;
    X509_CRL *crl;
    int rc = -1;

    if (inlet_file_read(crl_file, PEM_FILE_MAX, &pem, &pem_len, err, err_len))
        return -1;
    ERR_clear_error();
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!bio) {
        inlet_ident_errf(err, err_len, "%s: out of memory", crl_file);
        goto done;
    }
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
        int added = X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        if (!added) {
            inlet_ident_errf(err, err_len, "%s: CRL %zu could not be added", crl_file, count + 1);
            goto done;
        }
        count++;
    }
    if (!pem_ended_cleanly()) {
        inlet_ident_errf(err, err_len, "%s: CRL %zu is malformed", crl_file, count + 1);
        goto done;
    }
    if (count == 0) {
        inlet_ident_errf(err, err_len, "%s: no PEM CRLs (X509 CRL)", crl_file);
        goto done;
    }
    rc = 0;
done:
    BIO_free(bio);
    free(pem);
    return rc;
}

X509_STORE *inlet_trust_store_load(const char *ca_file, const char *crl_file, char *err,
                                   size_t err_len)
{
    char why[400];
    unsigned char *pem = NULL;
    size_t pem_len = 0;
    X509_STORE *store = NULL, *loaded = NULL;
    BIO *bio = NULL;
    unsigned long flags = X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN;

    if (inlet_file_read(ca_file, PEM_FILE_MAX, &pem, &pem_len, why, sizeof(why))) {
        inlet_ident_errf(err, err_len, "mtls.ca_file: %s", why);
        return NULL;
    }
    ERR_clear_error();
    store = X509_STORE_new();
    bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (!store || !bio) {
        inlet_ident_errf(err, err_len, "%s: out of memory", ca_file);
        goto done;
    }
    if (certs_add(store, bio, ca_file, why, sizeof(why))) {
        inlet_ident_errf(err, err_len, "mtls.ca_file: %s", why);
        goto done;
    }
    if (crl_file) {
        if (crls_add(store, crl_file, why, sizeof(why))) {
            inlet_ident_errf(err, err_len, "mtls.crl_file: %s", why);
            goto done;
        }
        flags |= X509_V_FLAG_CRL_CHECK;
    }
    /* RFC 5280 profile checks, a client-auth purpose on every certificate in the chain, no
     * default CA paths: the store trusts this tenant's bundle and nothing else. PARTIAL_CHAIN
     * makes every certificate of the bundle an anchor, so a tenant may trust an intermediate of
     * a shared root (which the overlap check keeps out of every other tenant's bundle). */
    if (X509_STORE_set_flags(store, flags) != 1 ||
        X509_STORE_set_purpose(store, X509_PURPOSE_SSL_CLIENT) != 1) {
        inlet_ident_errf(err, err_len, "%s: cannot configure the trust store", ca_file);
        goto done;
    }
    loaded = store;
    store = NULL;
done:
    ERR_clear_error();
    X509_STORE_free(store);
    BIO_free(bio);
    free(pem);
    return loaded;
}

/* ---- overlap between tenants ---- */

static int issued_by(X509 *issuer, X509 *subject)
{
    EVP_PKEY *key = X509_get0_pubkey(issuer);
    int ok =
        X509_check_issued(issuer, subject) == X509_V_OK && key && X509_verify(subject, key) == 1;
    ERR_clear_error();
    return ok;
}

/* The certificates of a store (the caller frees the stack and its references), or NULL. */
static STACK_OF(X509) * store_certs(X509_STORE *store)
{
    return store ? X509_STORE_get1_all_certs(store) : NULL;
}

static void subject_text(X509 *x, char *buf, size_t len)
{
    X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len);
}

/*
 * Is a certificate of b's bundle under a's? Marks b's certificates that are, repeatedly, so a
 * chain inside b's bundle (its intermediate, and a sub-CA of that) is followed. *found is the
 * first certificate of b found under a, and *by the certificate (of a or b) it is under.
 */
static int bundle_under(STACK_OF(X509) * a, STACK_OF(X509) * b, X509 **found, X509 **by, int *same)
{
    int nb = sk_X509_num(b), progress = 1;
    char *under = calloc(nb > 0 ? (size_t)nb : 1, 1);

    *found = *by = NULL;
    if (!under)
        return -1;
    while (progress) {
        progress = 0;
        for (int i = 0; i < nb; i++) {
            X509 *x = sk_X509_value(b, i);
            if (under[i])
                continue;
            for (int j = 0; j < sk_X509_num(a) && !under[i]; j++) {
                X509 *y = sk_X509_value(a, j);
                if (X509_cmp(x, y) == 0 || issued_by(y, x)) {
                    under[i] = 1;
                    if (!*found) {
                        *found = x;
                        *by = y;
                        *same = X509_cmp(x, y) == 0;
                    }
                }
            }
            for (int j = 0; j < nb && !under[i]; j++) {
                if (under[j] && j != i && issued_by(sk_X509_value(b, j), x))
                    under[i] = 1;
            }
            progress |= under[i];
        }
    }
    free(under);
    return *found != NULL;
}

int inlet_trust_store_overlap(const inlet_tenant *tenants, size_t n, const char *const *origins,
                              char *err, size_t err_len)
{
    STACK_OF(X509) **certs = calloc(n ? n : 1, sizeof(*certs));
    int rc = 0;

    if (!certs)
        return inlet_ident_errf(err, err_len, "tenants: out of memory");
    for (size_t i = 0; i < n; i++)
        certs[i] = store_certs(tenants[i].ca);
    for (size_t a = 0; a < n && rc == 0; a++) {
        for (size_t b = 0; b < n && rc == 0; b++) {
            X509 *found, *by;
            int same = 0, r;
            char what[256], whose[256];
            if (a == b || !certs[a] || !certs[b])
                continue;
            r = bundle_under(certs[a], certs[b], &found, &by, &same);
            if (r < 0) {
                rc = inlet_ident_errf(err, err_len, "tenants: out of memory");
            } else if (r > 0) {
                subject_text(found, what, sizeof(what));
                subject_text(by, whose, sizeof(whose));
                rc = inlet_ident_errf(
                    err, err_len,
                    "%s: tenant %s: mtls.ca_file: certificate \"%s\" %s tenant %s's \"%s\" (%s): "
                    "%s's devices would also verify as %s's; give each tenant its own CA",
                    origins && origins[b] ? origins[b] : "tenant", tenants[b].name, what,
                    same ? "is also in" : "is issued under", tenants[a].name, whose,
                    origins && origins[a] ? origins[a] : "tenant", tenants[b].name,
                    tenants[a].name);
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        sk_X509_pop_free(certs[i], X509_free);
    free(certs);
    return rc;
}
