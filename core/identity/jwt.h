/*
 * jwt.h - authenticating a bearer JWT (jwt.c). Private to the core.
 *
 * Also includes base64url.h, which the inlet-token CLI and the tests have always reached
 * through this header.
 */
#ifndef INLET_JWT_H
#define INLET_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "base64url.h"
#include "tenant.h"

/*
 * Verify the compact JWS token (len bytes) against the key ts selects for it, its claims
 * against that key's settings and now_s (the wall clock), and make the identity of the device
 * it names (*out, the caller's reference). UNAUTHENTICATED with the reason in msg otherwise.
 */
inlet_status inlet_jwt_auth(inlet_tenants *ts, const char *token, size_t len, int64_t now_s,
                            inlet_identity **out, char *msg, size_t msg_len);

#endif
