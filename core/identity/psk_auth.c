/*
 * psk_auth.c - a DTLS PSK identity "<device>@<tenant>" to the device's key and an identity.
 * Served from the immutable tenant set: the DTLS handshake callback calls it synchronously.
 */
#include <string.h>

#include "device_id.h"
#include "device_table.h"
#include "ident_error.h"
#include "identity.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"

#define PSK_IDENTITY_MAX 256

inlet_status inlet_tenants_auth_psk(inlet_tenants *ts, const char *identity, size_t len,
                                    uint8_t *key, size_t key_cap, size_t *key_len,
                                    inlet_identity **out, char *msg, size_t msg_len)
{
    char buf[PSK_IDENTITY_MAX + 1];

    *out = NULL;
    *key_len = 0;
    if (!ts) {
        inlet_ident_msgf(msg, msg_len, "no tenants loaded");
        return INLET_E_UNAUTHENTICATED;
    }
    if (!identity || len == 0 || len > PSK_IDENTITY_MAX || memchr(identity, '\0', len)) {
        inlet_ident_msgf(msg, msg_len, "PSK identity empty, too long or with NUL");
        return INLET_E_UNAUTHENTICATED;
    }
    memcpy(buf, identity, len);
    buf[len] = '\0';
    /* Tenant names have no '@' (tenant.c); device ids may, so the tenant is after the last. */
    char *at = strrchr(buf, '@');
    if (!at || at == buf) {
        inlet_ident_msgf(msg, msg_len, "PSK identity is not <device>@<tenant>");
        return INLET_E_UNAUTHENTICATED;
    }
    *at = '\0';
    const inlet_tenant *t = inlet_tenants_find(ts, at + 1);
    if (!t) {
        inlet_ident_msgf(msg, msg_len, "PSK identity: no such tenant");
        return INLET_E_UNAUTHENTICATED;
    }
    size_t dlen = (size_t)(at - buf);
    if (inlet_device_id_check(buf, dlen)) {
        inlet_ident_msgf(msg, msg_len, "PSK identity: invalid device id");
        return INLET_E_UNAUTHENTICATED;
    }
    const inlet_device *d = inlet_device_table_find(&t->devices, buf);
    if (!d || !d->psk) {
        inlet_ident_msgf(msg, msg_len, "PSK identity: device has no psk_file in tenant %s",
                         t->name);
        return INLET_E_UNAUTHENTICATED;
    }
    if (d->psk_len > key_cap) {
        inlet_ident_msgf(msg, msg_len, "PSK longer than the caller's buffer");
        return INLET_E_INTERNAL;
    }
    inlet_status st = inlet_identity_new(ts, t, buf, dlen, INLET_AUTH_PSK, out);
    if (st != INLET_OK)
        return st;
    memcpy(key, d->psk, d->psk_len);
    *key_len = d->psk_len;
    return INLET_OK;
}
