/*
 * dtls.c - DTLS 1.2 for coaps:// listeners (libcoap's OpenSSL backend): PSK identities
 * "<device>@<tenant>" resolved through host->auth_psk() during the handshake, and X.509
 * client certificates verified by the core against the tenants' CAs (host->auth_cert_chain)
 * at the session's first request, as the HTTP and MQTT modules do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "coap_module.h"

static coap_peer *peer_of(coap_session_t *s, bool create)
{
    coap_peer *p = coap_session_get_app_data(s);
    if (!p && create) {
        p = calloc(1, sizeof(*p));
        coap_session_set_app_data(s, p);
    }
    return p;
}

/* The PSK callback (coap_dtls_spsk_t.validate_id_call_back): synchronous, from memory. The key
 * returned must outlive the handshake: it lives in the session's coap_peer. */
static const coap_bin_const_t *psk_for_identity(coap_bin_const_t *identity, coap_session_t *session,
                                                void *arg)
{
    coap_loop *l = arg;
    const inlet_host *host = l->m->host;
    coap_peer *p = peer_of(session, true);
    char msg[160];
    size_t key_len = 0;
    inlet_identity *id = NULL;

    if (!p || identity->length >= sizeof(p->psk_identity))
        return NULL;
    inlet_status st = host->auth_psk((const char *)identity->s, identity->length, p->psk,
                                     sizeof(p->psk), &key_len, &id, msg, sizeof(msg));
    if (st != INLET_OK) {
        char peer[64] = "", detail[200];
        const coap_address_t *remote = coap_session_get_addr_remote(session);
        if (remote)
            inlet_support_addr_format(&remote->addr.sa, peer, sizeof(peer));
        snprintf(detail, sizeof(detail), "DTLS-PSK refused: %s", msg);
        host->refusal(l->m->mod, st, peer[0] ? peer : NULL, NULL, detail);
        return NULL; /* the handshake fails with an alert */
    }
    if (p->identity)
        host->identity_release(p->identity);
    p->identity = id;
    memcpy(p->psk_identity, identity->s, identity->length);
    p->psk_identity[identity->length] = '\0';
    p->psk_bin.s = p->psk;
    p->psk_bin.length = key_len;
    return &p->psk_bin;
}

/* OpenSSL's verdict is not the one that counts: the tenant whose CA verifies the chain decides,
 * at the first request (coap_dtls_identity). Accept here so that libcoap's callback, which
 * knows only one set of root CAs, does not refuse another tenant's devices. */
static int accept_chain(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;
    (void)ctx;
    return 1;
}

static int tls_setup(void *ssl, coap_dtls_pki_t *setup)
{
    const coap_listener *ls = setup->cn_call_back_arg;
    int mode = SSL_VERIFY_PEER;
    if (ls->cfg->client_auth == INLET_SUPPORT_CLIENT_AUTH_REQUIRE && !ls->cfg->psk)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    if (ls->cfg->client_auth == INLET_SUPPORT_CLIENT_AUTH_NONE)
        mode = SSL_VERIFY_NONE;
    SSL_set_verify(ssl, mode, accept_chain);
    return 1;
}

int coap_dtls_setup(coap_loop *l, const coap_listener *ls, char *err, size_t err_len)
{
    if (!coap_dtls_is_supported()) {
        snprintf(err, err_len, "%s: libcoap was built without DTLS", ls->name);
        return -1;
    }
    if (ls->cfg->psk) {
        coap_dtls_spsk_t sp;
        memset(&sp, 0, sizeof(sp));
        sp.version = COAP_DTLS_SPSK_SETUP_VERSION;
        sp.validate_id_call_back = psk_for_identity;
        sp.id_call_back_arg = l;
        if (!coap_context_set_psk2(l->ctx, &sp)) {
            snprintf(err, err_len, "%s: coap_context_set_psk2 failed", ls->name);
            return -1;
        }
    }
    if (ls->cfg->cert && l->base.index == 0) /* once, not per loop */
        inlet_support_tls_report_expiry(l->m->host, l->m->mod, ls->name, ls->cfg->cert);
    if (ls->cfg->cert) {
        coap_dtls_pki_t pk;
        memset(&pk, 0, sizeof(pk));
        pk.version = COAP_DTLS_PKI_SETUP_VERSION;
        pk.verify_peer_cert = ls->cfg->client_auth != INLET_SUPPORT_CLIENT_AUTH_NONE;
        pk.check_common_ca = 0;
        pk.allow_self_signed = 1;
        pk.cert_chain_validation = 1;
        pk.cert_chain_verify_depth = INLET_SUPPORT_MAX_CHAIN;
        pk.additional_tls_setup_call_back = tls_setup;
        pk.cn_call_back_arg = (void *)ls;
        pk.pki_key.key_type = COAP_PKI_KEY_PEM;
        pk.pki_key.key.pem.public_cert = ls->cfg->cert;
        pk.pki_key.key.pem.private_key = ls->cfg->key;
        pk.pki_key.key.pem.ca_file = NULL;
        if (!coap_context_set_pki(l->ctx, &pk)) {
            snprintf(err, err_len, "%s: coap_context_set_pki failed (cert or key)", ls->name);
            return -1;
        }
    }
    return 0;
}

int coap_dtls_event(coap_session_t *session, coap_event_t event)
{
    coap_loop *l = coap_get_app_data(coap_session_get_context(session));
    const inlet_host *host = l->m->host;
    switch (event) {
    case COAP_EVENT_DTLS_CONNECTED:
        host->metric_add(l->m->metrics.handshakes_ok, 1);
        break;
    case COAP_EVENT_DTLS_ERROR:
        host->metric_add(l->m->metrics.handshakes_failed, 1);
        /* A session whose handshake failed (a wrong key after the PSK callback found the
         * identity) is freed without SERVER_SESSION_DEL in 4.3.1: free its peer now. */
        __attribute__((fallthrough));
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_SERVER_SESSION_DEL: {
        coap_peer *p = peer_of(session, false);
        if (p) {
            if (p->counted) {
                host->connection_close(l->m->mod, p->counted);
                host->identity_release(p->counted);
            }
            if (p->identity)
                host->identity_release(p->identity);
            OPENSSL_cleanse(p->psk, sizeof(p->psk));
            free(p);
            coap_session_set_app_data(session, NULL);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static inlet_identity *cert_identity(coap_loop *l, coap_session_t *session, coap_peer *p,
                                     inlet_status *st, const char **why)
{
    const inlet_host *host = l->m->host;
    coap_tls_library_t lib;
    SSL *ssl = coap_session_get_tls(session, &lib);
    uint8_t *der[INLET_SUPPORT_MAX_CHAIN];
    size_t len[INLET_SUPPORT_MAX_CHAIN], n = 0;
    char msg[160];

    *st = INLET_E_UNAUTHENTICATED;
    *why = "a PSK or a client certificate of a tenant's CA is required";
    if (!ssl || lib != COAP_TLS_LIBRARY_OPENSSL)
        return NULL;
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (!leaf)
        return NULL;
    int rc = inlet_support_tls_chain_der(ssl, leaf, der, len, &n);
    X509_free(leaf);
    p->cert_tried = true;
    if (rc == 0) {
        inlet_identity *id = NULL;
        p->cert_status =
            host->auth_cert_chain((const uint8_t *const *)der, len, n, &id, msg, sizeof(msg));
        if (p->cert_status == INLET_OK)
            p->identity = id;
        else
            COAP_LOG(l->m, INLET_LOG_INFO, "client certificate refused: %s", msg);
    }
    inlet_support_tls_chain_free(der, n);
    if (!p->identity) {
        *why = "the client certificate is not accepted";
        return NULL;
    }
    return p->identity;
}

/* A DTLS session is a connection for the connection quota, counted at its first request (when
 * its device is known) until the session goes. id: a reference the caller gives up on refusal. */
static inlet_identity *admit(coap_loop *l, coap_peer *p, inlet_identity *id, inlet_status *st,
                             const char **why)
{
    const inlet_host *host = l->m->host;
    if (p->counted)
        return id;
    inlet_status q = host->connection_open(l->m->mod, id, p->quota_why, sizeof(p->quota_why));
    if (q != INLET_OK) {
        host->identity_release(id);
        *st = q;
        *why = p->quota_why;
        return NULL;
    }
    host->identity_ref(id);
    p->counted = id;
    return id;
}

inlet_identity *coap_dtls_identity(coap_loop *l, coap_session_t *session, inlet_status *st,
                                   const char **why)
{
    const inlet_host *host = l->m->host;
    coap_peer *p = peer_of(session, true);
    inlet_identity *id = NULL;

    *st = INLET_E_UNAUTHENTICATED;
    *why = "a PSK or a client certificate of a tenant's CA is required";
    if (!p)
        return NULL;
    if (p->psk_identity[0]) {
        /* Re-resolved per request, so that a reload that removed the device or changed its
         * key stops this session too (the session's key is the handshake's). */
        uint8_t key[64];
        size_t key_len = 0;
        char msg[160];
        inlet_status s = host->auth_psk(p->psk_identity, strlen(p->psk_identity), key, sizeof(key),
                                        &key_len, &id, msg, sizeof(msg));
        bool same = s == INLET_OK && key_len == p->psk_bin.length &&
                    CRYPTO_memcmp(key, p->psk, key_len) == 0;
        OPENSSL_cleanse(key, sizeof(key));
        if (!same) {
            if (id)
                host->identity_release(id);
            *why = "the PSK of this DTLS session is no longer configured: handshake again";
            return NULL;
        }
        return admit(l, p, id, st, why);
    }
    if (!p->identity && !p->cert_tried)
        cert_identity(l, session, p, st, why);
    if (p->identity && coap_dtls_cert_expired(l, p)) {
        *why = "the client certificate expired: handshake again with a valid one";
        return NULL;
    }
    if (!p->identity) {
        if (p->cert_tried && !p->expired)
            *why = "the client certificate is not accepted";
        else if (p->expired)
            *why = "the client certificate expired: handshake again with a valid one";
        return NULL;
    }
    host->identity_ref(p->identity);
    return admit(l, p, p->identity, st, why);
}
