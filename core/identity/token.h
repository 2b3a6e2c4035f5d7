/*
 * token.h - authenticating an opaque bearer token: hashed and looked up in the set's token
 * index. (inlet_token_hash_hex, for the CLI, is in tenant.h.)
 */
#ifndef INLET_TOKEN_H
#define INLET_TOKEN_H

#include <stddef.h>

#include "tenant.h"

/* The identity the token names in ts (*out, the caller's reference), or UNAUTHENTICATED with
 * the reason in msg. */
inlet_status inlet_token_auth(inlet_tenants *ts, const char *token, size_t len,
                              inlet_identity **out, char *msg, size_t msg_len);

#endif
