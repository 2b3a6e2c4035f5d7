/*
 * tls.c - TLS contexts of HTTPS listeners and client-certificate authentication.
 *
 * The module has no CA of its own: the core decides which tenant (if any) a client chain
 * belongs to. So the handshake asks for a certificate and accepts any chain, and the chain is
 * handed to host->auth_cert_chain() once per connection, on its first request.
 */
#include <stdio.h>

#include <openssl/x509.h>

#include "http.h"

/* ALPN list for listeners with HTTP/2 switched off. */
static const h2o_iovec_t alpn_http1_only[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};

static void register_alpn(SSL_CTX *ctx, const inlet_support_listener *l)
{
    const http_listener_config *lc = l->cfg;
    h2o_ssl_register_alpn_protocols(ctx, lc->tls.http2 ? h2o_alpn_protocols : alpn_http1_only);
}

const inlet_support_tls_setup http_tls_setup = {
    .session_prefix = "inlet-http",
    .ready = register_alpn,
};

void http_tls_check_client_cert(http_module *m, http_conn *conn)
{
    uint8_t *der[INLET_SUPPORT_MAX_CHAIN];
    size_t len[INLET_SUPPORT_MAX_CHAIN];
    size_t n = 0;
    char msg[200] = "";

    conn->cert_state = HTTP_CERT_NONE;
    if (conn->listener->ssl_ctx == NULL ||
        conn->listener->tls->client_auth == INLET_SUPPORT_CLIENT_AUTH_NONE)
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
    if (inlet_support_tls_chain_der(ssl, leaf, der, len, &n) != 0)
        goto done;

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
    inlet_support_tls_chain_free(der, n);
}
