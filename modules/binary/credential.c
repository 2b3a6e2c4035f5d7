/*
 * credential.c - a connection lasts no longer than the credential it authenticated with
 * (docs/BINARY.md, "Credential expiry"; docs/SECURITY.md, "checked continuously").
 *
 * At WELCOME the identity's end (host->identity_expires_at: a JWT's exp plus the key's clock
 * skew, a client certificate's notAfter) is remembered; the once-a-second sweep ends the
 * connection then with CLOSE 0xA0, and a DATA frame read after it is not produced. Nothing on a
 * core without identity_expires_at (ABI < 1.4) or for credentials without an end (opaque tokens).
 */
#include "binary.h"

void bin_credential_arm(bin_conn *c)
{
    const inlet_host *host = c->loop->m->host;
    c->expires_at_us = 0;
    if (INLET_HOST_HAS(host, identity_expires_at) && c->identity != NULL)
        c->expires_at_us = host->identity_expires_at(c->identity);
}

bool bin_credential_check(bin_conn *c)
{
    bin_module *m = c->loop->m;
    if (c->expires_at_us == 0 || m->host->now_us() < c->expires_at_us)
        return true;
    if (m->host->log_enabled(m->mod, INLET_LOG_INFO))
        BIN_LOG(m, INLET_LOG_INFO, "%s/%s: the credential expired; closing the connection",
                c->identity->tenant, c->identity->device_id);
    bin_conn_close(c, true, BIN_ST_CONNECT_TIME, "the credential expired",
                   BIN_CLOSE_CREDENTIAL_EXPIRED);
    return false;
}
