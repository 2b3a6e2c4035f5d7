/*
 * auth.c - who sent a request: a client certificate (decided once per connection) or else a
 * bearer token (RFC 6750 section 2.1). A certificate wins over a token: a device that presents
 * one is that device, and a refused certificate is not rescued by a token.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "parse.h"

/* Longest token passed to the core; anything longer cannot be one we issued. */
#define HTTP_MAX_TOKEN 8192

void http_auth_request(http_module *m, http_conn *conn, h2o_req_t *req, http_auth_result *out)
{
    memset(out, 0, sizeof(*out));
    out->status = INLET_E_UNAUTHENTICATED;

    if (conn->cert_state == HTTP_CERT_UNCHECKED)
        http_tls_check_client_cert(m, conn);
    if (conn->cert_state == HTTP_CERT_ACCEPTED) {
        out->status = INLET_OK;
        out->identity = conn->cert_identity; /* the connection keeps the reference */
        return;
    }
    if (conn->cert_state == HTTP_CERT_REJECTED)
        return;

    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    const char *token;
    size_t token_len;
    bool well_formed;
    if (i < 0 ||
        !http_parse_bearer(req->headers.entries[i].value.base, req->headers.entries[i].value.len,
                           &token, &token_len, &well_formed))
        return;
    out->token_given = true;
    /* not a b64token (RFC 6750 section 2.1): no token we issued, so not worth a look-up */
    if (!well_formed || token_len > HTTP_MAX_TOKEN)
        return;

    inlet_identity *id = NULL;
    char msg[160] = "";
    out->status = m->host->auth_bearer(token, token_len, &id, msg, sizeof(msg));
    if (out->status == INLET_OK && id != NULL) {
        out->identity = id;
        out->owned = true;
    } else {
        if (out->status == INLET_OK) /* a core bug; never treat "no identity" as success */
            out->status = INLET_E_INTERNAL;
        snprintf(out->why, sizeof(out->why), "bearer token refused: %s", msg[0] ? msg : "unknown");
        if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
            HTTP_LOG(m, INLET_LOG_DEBUG, "bearer token refused: %s", msg[0] ? msg : "unknown");
    }
}

void http_auth_done(http_module *m, http_auth_result *res)
{
    if (res->owned && res->identity != NULL)
        m->host->identity_release(res->identity);
    res->identity = NULL;
    res->owned = false;
}
