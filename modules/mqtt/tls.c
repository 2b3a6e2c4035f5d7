/*
 * tls.c - TLS contexts of MQTTS listeners, the non-blocking handshake, and client-certificate
 * authentication.
 *
 * Like the HTTP module, the handshake asks for a client certificate (client_auth optional or
 * require) and accepts any chain: which tenant, if any, a chain belongs to is the core's
 * decision, taken once per connection at CONNECT with host->auth_cert_chain().
 */
#include <stdio.h>

#include "mqtt.h"

const inlet_support_tls_setup mqtt_tls_setup = {
    .session_prefix = "inlet-mqtt",
    /* Idle connections give their 16 KB record buffers back (many idle devices); writes may be
     * partial and resumed from a moved buffer, since the output buffer is reallocated. */
    .mode = SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
};

int mqtt_tls_handshake(mqtt_conn *c)
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
    mqtt_module *m = c->loop->m;
    MQTT_LOG(m, INLET_LOG_DEBUG, "%s: TLS handshake failed: %s", c->listener->name, why);
    return -1;
}

inlet_status mqtt_tls_client_identity(mqtt_module *m, mqtt_conn *c, inlet_identity **out)
{
    char msg[200];
    inlet_status st =
        inlet_support_stream_client_identity(m->host, c->ssl, c->listener, out, msg, sizeof(msg));
    if (st != INLET_OK)
        MQTT_LOG(m, INLET_LOG_INFO, "%s: client certificate refused: %s", c->listener->name, msg);
    return st;
}
