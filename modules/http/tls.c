/*
 * tls.c - TLS contexts of HTTPS listeners and client-certificate authentication.
 *
 * The module has no CA of its own: the core decides which tenant (if any) a client chain
 * belongs to. So the handshake asks for a certificate and accepts any chain, and the chain is
 * handed to host->auth_cert_chain() once per connection, on its first request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "http.h"

/* ALPN list for listeners with HTTP/2 switched off. */
static const h2o_iovec_t alpn_http1_only[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};

/* Most certificates taken from a client chain; longer chains are cut (the leaf always stays). */
#define HTTP_MAX_CHAIN 10

static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
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

SSL_CTX *http_tls_context_new(const http_tls_config *cfg, size_t listener_index, char *err,
                              size_t err_len)
{
    char why[200];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: cannot create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, cfg->min_version == HTTP_TLS_1_3 ? TLS1_3_VERSION
                                                                        : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);

    if (check_readable("cert", cfg->cert, err, err_len) != 0 ||
        check_readable("key", cfg->key, err, err_len) != 0)
        goto fail;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: %s is not a PEM certificate chain: %s", cfg->cert, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        openssl_reason(why, sizeof(why));
        if (mismatch)
            snprintf(err, err_len, "key: %s does not match the certificate in %s", cfg->key,
                     cfg->cert);
        else
            snprintf(err, err_len, "key: %s is not a PEM private key: %s", cfg->key, why);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "key: %s does not match the certificate in %s: %s", cfg->key,
                 cfg->cert, why);
        goto fail;
    }

    /* Resumption with client certificates needs a session id context, or OpenSSL refuses it. */
    char sid_ctx[32];
    int sid_len = snprintf(sid_ctx, sizeof(sid_ctx), "inlet-http-%zu", listener_index);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx, (unsigned)sid_len);

    if (cfg->client_auth != HTTP_CLIENT_AUTH_NONE) {
        int mode = SSL_VERIFY_PEER;
        if (cfg->client_auth == HTTP_CLIENT_AUTH_REQUIRE)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, accept_any_chain);
        /*
         * Stateless tickets keep only the leaf of the client chain; with SSL_OP_NO_TICKET the
         * sessions stay in the server cache with their whole chain, so a resumed connection
         * authenticates exactly like a full handshake.
         */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }

    h2o_ssl_register_alpn_protocols(ctx, cfg->http2 ? h2o_alpn_protocols : alpn_http1_only);
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
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

void http_tls_check_client_cert(http_module *m, http_conn *conn)
{
    uint8_t *der[HTTP_MAX_CHAIN];
    size_t len[HTTP_MAX_CHAIN];
    size_t n = 0;
    char msg[200] = "";

    conn->cert_state = HTTP_CERT_NONE;
    if (conn->listener->ssl_ctx == NULL ||
        conn->listener->cfg->tls.client_auth == HTTP_CLIENT_AUTH_NONE)
        return;

    SSL *ssl = http_h2o_socket_ssl(conn->sock, conn->listener->ssl_ctx);
    if (ssl == NULL) {
        /* Fail closed: a certificate we cannot read must not fall back to a weaker credential. */
        HTTP_LOG(m, INLET_LOG_ERROR,
                 "%s: cannot reach the TLS session of a connection; "
                 "rejecting its client certificate",
                 conn->listener->name);
        conn->cert_state = HTTP_CERT_REJECTED;
        return;
    }
    X509 *leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == NULL)
        return;

    conn->cert_state = HTTP_CERT_REJECTED;
    if (chain_push(der, len, &n, leaf) != 0)
        goto done;
    /* On the server side the peer chain normally excludes the leaf; skip it if present. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain) && n < HTTP_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf) == 0)
            continue;
        if (chain_push(der, len, &n, x) != 0)
            goto done;
    }

    inlet_identity *id = NULL;
    inlet_status st =
        m->host->auth_cert_chain((const uint8_t *const *)der, len, n, &id, msg, sizeof(msg));
    if (st == INLET_OK && id != NULL) {
        conn->cert_identity = id;
        conn->cert_state = HTTP_CERT_ACCEPTED;
    } else if (m->host->log_enabled(m->mod, INLET_LOG_INFO)) {
        HTTP_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", conn->listener->name,
                 msg[0] ? msg : "no tenant CA verifies it");
    }

done:
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(der[i]);
}
