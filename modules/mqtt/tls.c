/*
 * tls.c - TLS contexts of MQTTS listeners, the non-blocking handshake, and client-certificate
 * authentication.
 *
 * Like the HTTP module, the handshake asks for a client certificate (client_auth optional or
 * require) and accepts any chain: which tenant, if any, a chain belongs to is the core's
 * decision, taken once per connection at CONNECT with host->auth_cert_chain().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "mqtt.h"

/* Most certificates taken from a client chain; longer chains are cut (the leaf always stays). */
#define MQTT_MAX_CHAIN 10

static void openssl_reason(char *buf, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, len, "unknown error");
    else
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

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

SSL_CTX *mqtt_tls_context_new(const mqtt_tls_config *cfg, size_t listener_index, char *err,
                              size_t err_len)
{
    char why[200];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        openssl_reason(why, sizeof(why));
        snprintf(err, err_len, "cert: cannot create a TLS context: %s", why);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, cfg->min_version == MQTT_TLS_1_3 ? TLS1_3_VERSION
                                                                        : TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);
    /* Idle connections give their 16 KB record buffers back (many idle devices); writes may
     * be partial and resumed from a moved buffer, since the output buffer is reallocated. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

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
    int sid_len = snprintf(sid_ctx, sizeof(sid_ctx), "inlet-mqtt-%zu", listener_index);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_ctx, (unsigned)sid_len);

    if (cfg->client_auth != MQTT_CLIENT_AUTH_NONE) {
        int mode = SSL_VERIFY_PEER;
        if (cfg->client_auth == MQTT_CLIENT_AUTH_REQUIRE)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, accept_any_chain);
        /* Stateless tickets keep only the leaf of the client chain; cached sessions keep the
         * whole chain, so a resumed connection authenticates exactly like a full handshake. */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int mqtt_tls_handshake(mqtt_conn *c)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1)
        return 1;
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        c->want_read = false;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->want_write = true;
        return 0;
    default: {
        mqtt_module *m = c->loop->m;
        if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG)) {
            char why[200];
            openssl_reason(why, sizeof(why));
            MQTT_LOG(m, INLET_LOG_DEBUG, "%s: TLS handshake failed: %s", c->listener->name, why);
        }
        ERR_clear_error();
        return -1;
    }
    }
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

inlet_status mqtt_tls_client_identity(mqtt_module *m, mqtt_conn *c, inlet_identity **out)
{
    uint8_t *der[MQTT_MAX_CHAIN];
    size_t len[MQTT_MAX_CHAIN];
    size_t n = 0;
    char msg[200] = "";
    inlet_status st = INLET_E_UNAUTHENTICATED;

    *out = NULL;
    if (c->ssl == NULL || c->listener->cfg->tls.client_auth == MQTT_CLIENT_AUTH_NONE)
        return INLET_OK;
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    if (leaf == NULL)
        return INLET_OK;

    if (chain_push(der, len, &n, leaf) != 0)
        goto done;
    /* On the server side the peer chain normally excludes the leaf; skip it if present. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain) && n < MQTT_MAX_CHAIN; i++) {
        X509 *x = sk_X509_value(chain, i);
        if (X509_cmp(x, leaf) == 0)
            continue;
        if (chain_push(der, len, &n, x) != 0)
            goto done;
    }
    st = m->host->auth_cert_chain((const uint8_t *const *)der, len, n, out, msg, sizeof(msg));
    if (st == INLET_OK && *out == NULL)
        st = INLET_E_INTERNAL; /* a core bug; never treat "no identity" as success */
    if (st != INLET_OK && m->host->log_enabled(m->mod, INLET_LOG_INFO))
        MQTT_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", c->listener->name,
                 msg[0] ? msg : "no tenant CA verifies it");

done:
    for (size_t i = 0; i < n; i++)
        OPENSSL_free(der[i]);
    ERR_clear_error();
    return st;
}
