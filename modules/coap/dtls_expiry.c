/*
 * dtls_expiry.c - a DTLS session lasts no longer than the client certificate it authenticated
 * with (docs/COAP.md, docs/SECURITY.md "checked continuously").
 *
 * A certificate's identity is taken at the session's first request and kept for the session;
 * each later request checks host->identity_expires_at() (the earliest notAfter of the chain).
 * Once it has passed, the identity is released and the request, like every later one of that
 * session, is answered 4.01: the device must handshake again, with a certificate that is valid
 * (an expired one then fails the handshake). The session itself ends by session_idle, as any.
 * PSK sessions have no expiry; their key is re-resolved per request (dtls.c). Uri-Query tokens
 * (JWT) are verified, exp included, on every request.
 */
#include "coap_module.h"

bool coap_dtls_cert_expired(coap_loop *l, coap_peer *p)
{
    const inlet_host *host = l->m->host;
    if (!INLET_HOST_HAS(host, identity_expires_at) || !p->identity)
        return false;
    int64_t at = host->identity_expires_at(p->identity);
    if (at == 0 || host->now_us() < at)
        return false;
    COAP_LOG(l->m, INLET_LOG_INFO,
             "%s/%s: the client certificate expired; the DTLS session must "
             "handshake again",
             p->identity->tenant, p->identity->device_id);
    host->identity_release(p->identity);
    p->identity = NULL;
    p->expired = true;
    return true;
}
