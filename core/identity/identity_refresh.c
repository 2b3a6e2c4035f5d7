/*
 * identity_refresh.c - carrying an identity over a configuration reload, so that long-lived
 * connections pick up the new groups and ACL and lose what the reload revoked.
 */
#include <string.h>

#include "ident_error.h"
#include "identity.h"
#include "imei_index.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"
#include "token_index.h"

inlet_status inlet_identity_refresh(inlet_tenants *ts, const inlet_identity *id,
                                    inlet_identity **out, char *msg, size_t msg_len)
{
    const inlet_identity_block *old = inlet_identity_block_of(id);
    *out = NULL;
    if (old->ts == ts) {
        inlet_identity_ref(id);
        *out = (inlet_identity *)id;
        return INLET_OK;
    }
    if (old->has_token &&
        !inlet_token_index_maps(&ts->tokens, old->token_digest, id->tenant, id->device_id)) {
        inlet_ident_msgf(msg, msg_len, "the token of %s/%s was revoked by a configuration reload",
                         id->tenant, id->device_id);
        return INLET_E_UNAUTHENTICATED;
    }
    if (old->imei[0]) {
        const inlet_imei_entry *e = inlet_imei_index_find(&ts->imeis, old->imei, INLET_IMEI_LEN);
        if (!e || strcmp(e->tenant->name, id->tenant) != 0 || strcmp(e->device, id->device_id)) {
            inlet_ident_msgf(msg, msg_len, "imei %s of %s/%s was removed by a configuration reload",
                             old->imei, id->tenant, id->device_id);
            return INLET_E_UNAUTHENTICATED;
        }
    }
    if (inlet_identity_for_device(ts, id->tenant, id->device_id, id->method, out) != INLET_OK) {
        inlet_ident_msgf(msg, msg_len, "tenant %s is no longer configured", id->tenant);
        return INLET_E_UNAUTHENTICATED;
    }
    inlet_identity_block *fresh = (inlet_identity_block *)(void *)*out;
    fresh->has_token = old->has_token;
    memcpy(fresh->token_digest, old->token_digest, sizeof(fresh->token_digest));
    memcpy(fresh->imei, old->imei, sizeof(fresh->imei));
    return INLET_OK;
}
