/*
 * hello.c - the first frame: HELLO -> authentication -> WELCOME (docs/BINARY.md, HELLO).
 *
 * A TLS client certificate, on listeners with client_auth optional or require, decides; a
 * refused certificate is not rescued by a token. Otherwise the token goes to
 * host->auth_bearer(). A device id in HELLO, if given, must be the authenticated device's.
 * Refusals never echo the core's reason beyond "invalid token".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"

/* The core's word for a refusing WELCOME's status, for host->refusal(). */
static inlet_status status_of(uint8_t status)
{
    switch (status) {
    case BIN_ST_BAD_CREDENTIALS:
    case BIN_ST_NOT_AUTHORIZED:
        return INLET_E_UNAUTHENTICATED;
    case BIN_ST_UNAVAILABLE:
        return INLET_E_UNAVAILABLE;
    case BIN_ST_SHUTTING_DOWN:
        return INLET_E_SHUTTING_DOWN;
    case BIN_ST_QUOTA:
        return INLET_E_QUOTA;
    case BIN_ST_TOO_LARGE:
        return INLET_E_TOO_LARGE;
    default:
        return INLET_E_INVALID;
    }
}

/* Refuse the HELLO: why goes to the device, detail (the core's reason; NULL: why) to the
 * refusal log only. */
static bool refuse_detail(bin_conn *c, uint8_t status, const char *why, const char *detail)
{
    bin_module *m = c->loop->m;
    m->host->refusal(m->mod, status_of(status), c->peer, c->identity, detail ? detail : why);
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        BIN_LOG(m, INLET_LOG_DEBUG, "%s: HELLO refused: %s (%s)", c->listener->name,
                bin_status_name(status), why);
    bin_conn_close(c, true, status, why, BIN_CLOSE_HELLO_REFUSED);
    return false;
}

static bool refuse(bin_conn *c, uint8_t status, const char *why)
{
    return refuse_detail(c, status, why, NULL);
}

bool bin_hello_handle(bin_conn *c, const bin_header *h, const uint8_t *body)
{
    bin_loop *loop = c->loop;
    bin_module *m = loop->m;
    const bin_config *cfg = m->cfg;
    bin_hello hello;
    inlet_identity *id = NULL;
    uint8_t st = 0;
    const char *why = NULL;
    char msg[160] = "";

    if (bin_decode_hello(h, body, &hello, &st, &why) != 0)
        return refuse(c, st, why);
    if (atomic_load(&m->loopset.draining))
        return refuse(c, BIN_ST_UNAVAILABLE, "the server is shutting down");

    inlet_status ist = bin_tls_client_identity(m, c, &id);
    if (ist == INLET_E_UNAUTHENTICATED)
        return refuse(c, BIN_ST_NOT_AUTHORIZED, "the client certificate is not accepted");
    if (ist != INLET_OK)
        return refuse(c, BIN_ST_UNAVAILABLE, "authentication is not available now");
    if (id == NULL) {
        if (hello.method != BIN_AUTH_TOKEN)
            return refuse(c, BIN_ST_NOT_AUTHORIZED,
                          "a bearer token or a client certificate is required");
        ist = m->host->auth_bearer((const char *)hello.token.p, hello.token.len, &id, msg,
                                   sizeof(msg));
        if (ist != INLET_OK || id == NULL) {
            if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
                BIN_LOG(m, INLET_LOG_DEBUG, "%s: bearer token refused: %s", c->listener->name,
                        msg[0] ? msg : "unknown");
            char detail[200];
            snprintf(detail, sizeof(detail), "bearer token refused: %s", msg[0] ? msg : "unknown");
            if (ist == INLET_E_UNAUTHENTICATED || ist == INLET_E_FORBIDDEN)
                return refuse_detail(c, BIN_ST_BAD_CREDENTIALS, "invalid token", detail);
            return refuse(c, BIN_ST_UNAVAILABLE, "authentication is not available now");
        }
    }
    c->identity = id; /* owned; released in bin_conn_free() */
    bin_credential_arm(c);
    if (hello.device.len > 0 && (hello.device.len != strlen(id->device_id) ||
                                 memcmp(hello.device.p, id->device_id, hello.device.len) != 0))
        return refuse(c, BIN_ST_NOT_AUTHORIZED, "the device id is not the authenticated device's");
    ist = m->host->connection_open(m->mod, id, msg, sizeof(msg));
    if (ist != INLET_OK)
        return refuse(c, ist == INLET_E_QUOTA ? BIN_ST_QUOTA : BIN_ST_UNAVAILABLE, msg);
    c->quota_counted = true;

    c->slots = calloc((size_t)cfg->window, sizeof(*c->slots));
    if (c->slots == NULL)
        return refuse(c, BIN_ST_UNAVAILABLE, "out of memory");

    uint32_t ka = hello.keep_alive;
    if (ka == 0 || ka > m->max_keep_alive_s)
        ka = m->max_keep_alive_s;
    c->keep_alive_s = (ka * 3 + 1) / 2; /* one and a half times, as MQTT */
    c->state = BIN_CONN_OPEN;

    uint8_t buf[BIN_MAX_SERVER_FRAME];
    size_t n = bin_encode_welcome(buf, sizeof(buf), h->seq, BIN_ST_OK, (uint16_t)cfg->window,
                                  (uint16_t)ka, (uint32_t)cfg->max_frame_size, 0, NULL);
    bin_count_hello(m, BIN_ST_OK);
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        BIN_LOG(m, INLET_LOG_DEBUG, "%s/%s connected (%s, keep alive %us)", id->tenant,
                id->device_id, c->ssl ? "TLS" : "plaintext", ka);
    return bin_conn_send(c, buf, n);
}
