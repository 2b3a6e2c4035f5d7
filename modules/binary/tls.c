/*
 * tls.c - TLS of binary listeners: the non-blocking handshake and client-certificate
 * authentication. As in the MQTT module, the handshake accepts any chain the client presents;
 * which tenant (if any) it belongs to is the core's decision, taken once at HELLO.
 */
#include <openssl/err.h>
#include <openssl/x509.h>

#include "binary.h"

const inlet_support_tls_setup bin_tls_setup = {
    .session_prefix = "inlet-binary",
    /* idle devices give their record buffers back; the output buffer may move between writes */
    .mode = SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
};

int bin_tls_handshake(bin_conn *c)
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
        bin_module *m = c->loop->m;
        if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG)) {
            char why[200];
            inlet_support_openssl_reason(why, sizeof(why));
            BIN_LOG(m, INLET_LOG_DEBUG, "%s: TLS handshake failed: %s", c->listener->name, why);
        }
        ERR_clear_error();
        return -1;
    }
    }
}

inlet_status bin_tls_client_identity(bin_module *m, bin_conn *c, inlet_identity **out)
{
    uint8_t *der[INLET_SUPPORT_MAX_CHAIN];
    size_t len[INLET_SUPPORT_MAX_CHAIN];
    size_t n = 0;
    char msg[200] = "";
    inlet_status st = INLET_E_UNAUTHENTICATED;

    *out = NULL;
    if (c->ssl == NULL || c->listener->tls->client_auth == INLET_SUPPORT_CLIENT_AUTH_NONE)
        return INLET_OK;
    X509 *leaf = SSL_get0_peer_certificate(c->ssl);
    if (leaf == NULL)
        return INLET_OK;
    if (inlet_support_tls_chain_der(c->ssl, leaf, der, len, &n) != 0)
        goto done;
    st = m->host->auth_cert_chain((const uint8_t *const *)der, len, n, out, msg, sizeof(msg));
    if (st == INLET_OK && *out == NULL)
        st = INLET_E_INTERNAL; /* never treat "no identity" as success */
    if (st != INLET_OK && m->host->log_enabled(m->mod, INLET_LOG_INFO))
        BIN_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", c->listener->name,
                msg[0] ? msg : "no tenant CA verifies it");
done:
    inlet_support_tls_chain_free(der, n);
    ERR_clear_error();
    return st;
}
