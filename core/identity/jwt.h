/*
 * jwt.h - base64url without padding (base64url.h, included for its callers) and algorithm
 * names, shared by jwt.c, jwt_key.c, the inlet-token CLI and tests. Private to the core.
 */
#ifndef INLET_JWT_H
#define INLET_JWT_H

#include "base64url.h"

/* "HS256", "RS256" or "ES256" for an inlet_jwt_alg. */
const char *inlet_jwt_alg_name(int alg);

#endif
