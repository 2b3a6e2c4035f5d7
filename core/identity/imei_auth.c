/*
 * imei_auth.c - identities for trackers that name themselves by IMEI (the Teltonika handshake).
 * The IMEI is looked up in the set's index (imei_index.c); it is an identifier, not a secret.
 */
#include <string.h>

#include "ident_error.h"
#include "identity.h"
#include "imei_index.h"
#include "tenant.h"
#include "tenant_set.h"

inlet_status inlet_tenants_auth_imei(inlet_tenants *ts, const char *imei, size_t len,
                                     inlet_identity **out, char *msg, size_t msg_len)
{
    *out = NULL;
    if (inlet_imei_check(imei, len)) {
        inlet_ident_msgf(msg, msg_len, "not an IMEI (15 digits)");
        return INLET_E_UNAUTHENTICATED;
    }
    const inlet_imei_entry *e = inlet_imei_index_find(&ts->imeis, imei, len);
    if (!e) {
        inlet_ident_msgf(msg, msg_len, "no device declares imei %.15s", imei);
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_status st =
        inlet_identity_new(ts, e->tenant, e->device, strlen(e->device), INLET_AUTH_IMEI, out);
    if (st != INLET_OK)
        return st;
    inlet_identity_block *b = (inlet_identity_block *)(void *)*out;
    memcpy(b->imei, e->imei, sizeof(b->imei));
    return INLET_OK;
}
