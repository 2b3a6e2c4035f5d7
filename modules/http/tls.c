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

_Static_assert((int)HTTP_CLIENT_AUTH_NONE == (int)INLET_SUPPORT_CLIENT_AUTH_NONE &&
                   (int)HTTP_CLIENT_AUTH_OPTIONAL == (int)INLET_SUPPORT_CLIENT_AUTH_OPTIONAL &&
                   (int)HTTP_CLIENT_AUTH_REQUIRE == (int)INLET_SUPPORT_CLIENT_AUTH_REQUIRE,
               "client_auth values are passed through");

SSL_CTX *http_tls_context_new(const http_tls_config *cfg, size_t listener_index, char *err,
                              size_t err_len)
{
    const inlet_support_tls_params p = {
        .cert = cfg->cert,
        .key = cfg->key,
        .client_auth = cfg->client_auth,
        .min_tls13 = cfg->min_version == HTTP_TLS_1_3,
        .session_prefix = "inlet-http",
        .listener_index = listener_index,
    };
    SSL_CTX *ctx = inlet_support_tls_server_new(&p, err, err_len);
    if (ctx != NULL)
        h2o_ssl_register_alpn_protocols(ctx, cfg->http2 ? h2o_alpn_protocols : alpn_http1_only);
    return ctx;
}

void http_tls_check_client_cert(http_module *m, http_conn *conn)
{
    uint8_t *der[INLET_SUPPORT_MAX_CHAIN];
    size_t len[INLET_SUPPORT_MAX_CHAIN];
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
