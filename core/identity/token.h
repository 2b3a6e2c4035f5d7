/*
 * token.h - authenticating an opaque bearer token: hashed and looked up in the set's token
 * index. (inlet_token_hash_hex, for the CLI, is in tenant.h.)
 */
#ifndef INLET_TOKEN_H
#define INLET_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "tenant.h"

/* The identity the token names in ts (*out, the caller's reference), or UNAUTHENTICATED with
 * the reason in msg; a token whose not_after is at or before now_s is refused, and otherwise its
 * not_after is the identity's end (inlet_identity_expires_at). */
inlet_status inlet_token_auth(inlet_tenants *ts, const char *token, size_t len, int64_t now_s,
                              inlet_identity **out, char *msg, size_t msg_len);

#endif
