/*
 * tls.c - TLS of Teltonika listeners: the non-blocking handshake and client-certificate
 * authentication. As in the other modules the handshake accepts any chain; which tenant, if
 * any, it belongs to is the core's decision (host->auth_cert_chain()), taken once, at the IMEI.
 */
#include <stdio.h>

#include "teltonika.h"

const inlet_support_tls_setup tlt_tls_setup = {
    .session_prefix = "inlet-teltonika",
    /* Trackers idle between packets: idle connections give their record buffers back. */
    .mode = SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE,
};

int tlt_tls_handshake(tlt_conn *c)
{
    char why[200];
    switch (inlet_support_stream_handshake(c->ssl, why, sizeof(why))) {
    case INLET_SUPPORT_HANDSHAKE_DONE:
        return 1;
    case INLET_SUPPORT_HANDSHAKE_WANT_READ:
    case INLET_SUPPORT_HANDSHAKE_WANT_WRITE:
        return 0;
    case INLET_SUPPORT_HANDSHAKE_FAILED:
        break;
    }
    tlt_module *m = c->loop->m;
    TLT_LOG(m, INLET_LOG_DEBUG, "%s: TLS handshake failed: %s", c->listener->name, why);
    return -1;
}

inlet_status tlt_tls_client_identity(tlt_conn *c, inlet_identity **out)
{
    tlt_module *m = c->loop->m;
    char msg[200];
    inlet_status st =
        inlet_support_stream_client_identity(m->host, c->ssl, c->listener, out, msg, sizeof(msg));
    if (st != INLET_OK)
        TLT_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", c->listener->name, msg);
    return st;
}
