/*
 * tlsctx.c - server TLS contexts and client-certificate chains.
 *
 * The modules have no CA of their own: the core decides which tenant (if any) a client chain
 * belongs to. So the handshake asks for a certificate and accepts any chain, and the module
 * hands the chain, DER-encoded, to host->auth_cert_chain().
 */
#include <errno.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "support.h"

void inlet_support_openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

int inlet_support_tls_config_check(size_t index, const inlet_support_tls_config *cfg, char *err,
                                   size_t err_len)
{
    if ((cfg->cert == NULL) != (cfg->key == NULL)) {
        snprintf(err, err_len, "listeners[%zu].tls: cert and key go together", index);
        return -1;
    }
    if (cfg->cert == NULL && cfg->client_auth != INLET_SUPPORT_CLIENT_AUTH_NONE) {
        snprintf(err, err_len, "listeners[%zu].tls.client_auth: needs cert and key", index);
        return -1;
    }
    return 0;
}

/* OpenSSL's "system lib" says less than errno does. */
static int check_readable(const char *key, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_len, "%s: cannot read %s: %s", key, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* Verification is the core's job; the handshake only collects the chain. */
static int accept_any_chain(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

static int load_cert_and_key(SSL_CTX *ctx, const char *cert, const char *key, char *err,
                             size_t err_len)
{
    char why[200];
    if (check_readable("cert", cert, err, err_len) != 0 ||
        check_readable("key", key, err, err_len) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        inlet_support_openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: %s is not a PEM certificate chain: %s", cert, why);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        inlet_support_openssl_reason(why, sizeof(why));
        if (mismatch)
            snprintf(err, err_len, "key: %s does not match the certificate in %s", key, cert);
        else
            snprintf(err, err_len, "key: %s is not a PEM private key: %s", key, why);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        inlet_support_openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "key: %s does not match the certificate in %s: %s", key, cert, why);
        return -1;
    }
    return 0;
}

static void request_client_cert(SSL_CTX *ctx, int client_auth)
{
    int mode = SSL_VERIFY_PEER;
    if (client_auth == INLET_SUPPORT_CLIENT_AUTH_REQUIRE)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, accept_any_chain);
    /*
     * Stateless tickets keep only the leaf of the client chain; with SSL_OP_NO_TICKET the
     * sessions stay in the server cache with their whole chain, so a resumed connection
     * authenticates exactly like a full handshake.
     */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

SSL_CTX *inlet_support_tls_server_new(const inlet_support_tls_config *cfg,
                                      const inlet_support_tls_setup *setup, size_t listener_index,
                                      char *err, size_t err_len)
{
    char why[200];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        inlet_support_openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: cannot create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, cfg->min_version == INLET_SUPPORT_TLS_1_3 ? TLS1_3_VERSION
                                                                                 : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);
    if (setup->mode != 0)
        SSL_CTX_set_mode(ctx, setup->mode);
    if (load_cert_and_key(ctx, cfg->cert, cfg->key, err, err_len) != 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }

    /* Resumption with client certificates needs a session id context, or OpenSSL refuses it. */
    char sid_ctx[32];
    int sid_len =
        snprintf(sid_ctx, sizeof(sid_ctx), "%s-%zu", setup->session_prefix, listener_index);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx, (unsigned)sid_len);

    if (cfg->client_auth != INLET_SUPPORT_CLIENT_AUTH_NONE)
        request_client_cert(ctx, cfg->client_auth);
    return ctx;
}

static int chain_push(uint8_t **der, size_t *len, size_t *n, X509 *x)
{
    unsigned char *p = NULL;
    int l = i2d_X509(x, &p);
    if (l <= 0)
        return -1;
    der[*n] = p;
    len[*n] = (size_t)l;
    (*n)++;
    return 0;
}

int inlet_support_tls_chain_der(SSL *ssl, X509 *leaf, uint8_t **der, size_t *len, size_t *n)
{
    *n = 0;
    if (chain_push(der, len, n, leaf) != 0)
        return -1;
    /* On the server side the peer chain normally excludes the leaf; skip it if present. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain) && *n < INLET_SUPPORT_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf) == 0)
            continue;
        if (chain_push(der, len, n, x) != 0)
            return -1;
    }
    return 0;
}

void inlet_support_tls_chain_free(uint8_t **der, size_t n)
{
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(der[i]);
}

void inlet_support_tls_report_expiry(const inlet_host *host, inlet_module_ctx *mod,
                                     const char *listener, const char *cert_file)
{
    BIO *bio = cert_file ? BIO_new_file(cert_file, "r") : NULL;
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    struct tm tm;
    if (x != NULL && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
        char labels[160];
        snprintf(labels, sizeof(labels), "listener=\"%.100s\"", listener);
        inlet_metric *g = host->metric_gauge_for(
            mod, "inlet_tls_certificate_expiry_seconds",
            "notAfter of each TLS listener's server certificate, seconds since the epoch.", labels);
        host->metric_add(g, (int64_t)timegm(&tm));
    }
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
}

void inlet_support_loopset_report_cert_expiry(const inlet_support_loopset *s)
{
    for (size_t i = 0; i < s->n_listeners; i++)
        if (s->listeners[i].tls != NULL && s->listeners[i].tls->cert != NULL)
            inlet_support_tls_report_expiry(s->host, s->mod, s->listeners[i].name,
                                            s->listeners[i].tls->cert);
}
