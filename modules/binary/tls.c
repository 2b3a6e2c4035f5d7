/*
 * tls.c - TLS of binary listeners: the non-blocking handshake and client-certificate
 * authentication. As in the MQTT module, the handshake accepts any chain the client presents;
 * which tenant (if any) it belongs to is the core's decision, taken once at HELLO.
 */

#include "binary.h"

const inlet_support_tls_setup bin_tls_setup = {
    .session_prefix = "inlet-binary",
    /* idle devices give their record buffers back; the output buffer may move between writes */
    .mode = SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
};

int bin_tls_handshake(bin_conn *c)
{
    char why[200];
    switch (inlet_support_stream_handshake(c->ssl, why, sizeof(why))) {
    case INLET_SUPPORT_HANDSHAKE_DONE:
        return 1;
    case INLET_SUPPORT_HANDSHAKE_WANT_READ:
        c->want_read = false;
        return 0;
    case INLET_SUPPORT_HANDSHAKE_WANT_WRITE:
        c->want_write = true;
        return 0;
    case INLET_SUPPORT_HANDSHAKE_FAILED:
        break;
    }
    bin_module *m = c->loop->m;
    BIN_LOG(m, INLET_LOG_DEBUG, "%s: TLS handshake failed: %s", c->listener->name, why);
    return -1;
}

inlet_status bin_tls_client_identity(bin_module *m, bin_conn *c, inlet_identity **out)
{
    char msg[200];
    inlet_status st =
        inlet_support_stream_client_identity(m->host, c->ssl, c->listener, out, msg, sizeof(msg));
    if (st != INLET_OK)
        BIN_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", c->listener->name, msg);
    return st;
}
