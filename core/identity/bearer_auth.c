/*
 * bearer_auth.c - a bearer token to an identity: a compact JWS goes to jwt.c, anything else is
 * an opaque token for token.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "ident_error.h"
#include "jwt.h"
#include "tenant.h"
#include "token.h"

#define BEARER_MAX 8192

inlet_status inlet_tenants_auth_bearer(inlet_tenants *ts, const char *token, size_t len,
                                       int64_t now_s, inlet_identity **out, char *msg,
                                       size_t msg_len)
{
    size_t dots = 0;

    *out = NULL;
    if (!ts) {
        inlet_ident_msgf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    if (!token || len == 0) {
        inlet_ident_msgf(msg, msg_len, "empty bearer token");
        return INLET_E_UNAUTHENTICATED;
    }
    if (len > BEARER_MAX) {
        inlet_ident_msgf(msg, msg_len, "bearer token longer than %d bytes", BEARER_MAX);
        return INLET_E_UNAUTHENTICATED;
    }
    for (size_t i = 0; i < len; i++)
        dots += token[i] == '.';
    /* A JWS in compact serialization is exactly three dot-separated parts (RFC 7515 7.1). */
    if (dots == 2)
        return inlet_jwt_auth(ts, token, len, now_s, out, msg, msg_len);
    return inlet_token_auth(ts, token, len, now_s, out, msg, msg_len);
}
