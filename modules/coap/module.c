/*
 * module.c - the CoAP module's descriptor, configuration table, metrics and lifecycle.
 *
 * Devices POST events over coap:// (UDP) or coaps:// (DTLS 1.2, PSK or certificates) on
 * libcoap 4.3.1; a request is answered 2.04 only once Kafka acknowledged its events. See
 * coap_module.h for the files, docs/COAP.md for the behaviour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>
#include <time.h>

#include "coap_module.h"

#define COAP_MODULE_VERSION "0.1.0"

_Static_assert(offsetof(coap_module, loopset) == 0, "inlet_support_module_stop() finds it");

static const char *const security_values[] = {"none", "dtls", NULL};

#define OPT(name, type, field, def, min, max, desc)                                                \
    {                                                                                              \
        name, type, offsetof(coap_config, field), def, min, max, NULL, NULL, 0, 0, desc            \
    }
#define LOPT(name, type, field, def, values, flags, desc)                                          \
    {                                                                                              \
        name, type, offsetof(coap_listener_config, field), def, 0, 0, values, NULL, 0, flags, desc \
    }

static const inlet_option listener_options[] = {
    LOPT("address", INLET_OPT_STRING, address, NULL, NULL, INLET_OPT_REQUIRED,
         "host:port to listen on (UDP), e.g. 127.0.0.1:5683, [::]:5684."),
    LOPT("security", INLET_OPT_ENUM, security, "none", security_values, 0,
         "none: coap:// over plain UDP; dtls: coaps:// over DTLS 1.2."),
    LOPT("psk", INLET_OPT_BOOL, psk, "true", NULL, 0,
         "DTLS: accept pre-shared keys; the PSK identity is <device>@<tenant>, the key the "
         "device's psk_file in its tenant file."),
    LOPT("cert", INLET_OPT_PATH, cert, NULL, NULL, 0,
         "DTLS: PEM certificate chain of the server, for certificate (PKI) handshakes."),
    LOPT("key", INLET_OPT_PATH, key, NULL, NULL, INLET_OPT_SECRET, "DTLS: PEM key of cert."),
    LOPT("client_auth", INLET_OPT_ENUM, client_auth, "optional", inlet_support_client_auth_values,
         0,
         "DTLS with cert: ask devices for a client certificate (none, optional, require); the "
         "tenant whose CA verifies the chain authenticates the device."),
    LOPT("allow_token", INLET_OPT_BOOL, allow_token, "false", NULL, 0,
         "Plain UDP: authenticate a request by the bearer token in its Uri-Query t=<token>. "
         "The token crosses the network in clear text: for trusted networks only."),
    INLET_OPTIONS_END,
};

static const char *const form_values[] = {"payload", "events", NULL};

#define ROPT(name, type, field, def, values, flags, desc)                                          \
    {                                                                                              \
        name, type, offsetof(coap_route_config, field), def, 0, 0, values, NULL, 0, flags, desc    \
    }

static const inlet_option route_options[] = {
    ROPT("tenant", INLET_OPT_STRING, tenant, NULL, NULL, 0,
         "Apply this route to the devices of one tenant only (absent: every tenant); another "
         "tenant's device gets 4.04 on its path."),
    ROPT("path", INLET_OPT_STRING, path, NULL, NULL, INLET_OPT_REQUIRED,
         "Uri-Path pattern: literal segments and the placeholders {schema} and {version}, e.g. "
         "/acme/{schema}/{version}."),
    ROPT("form", INLET_OPT_ENUM, form, "payload", form_values, 0,
         "payload: the bare payload of one schema and version (from the path or the keys "
         "below); events: {\"events\": [...]} or one event, as ingest_path."),
    ROPT("schema", INLET_OPT_STRING, schema, NULL, NULL, 0,
         "form payload: the schema, when the path has no {schema}."),
    ROPT("version", INLET_OPT_STRING, version, NULL, NULL, 0,
         "form payload: the schema version, when the path has no {version}."),
    INLET_OPTIONS_END,
};

static const inlet_option coap_options[] = {
    OPT("threads", INLET_OPT_INT, threads, "1", 1, 1,
        "Event loops. libcoap 4.3.1 binds its sockets without SO_REUSEPORT, so a second loop "
        "on the same port would receive nothing: 1 (docs/COAP.md)."),
    OPT("max_body_size", INLET_OPT_SIZE, max_body_size, "64k", 16, 16 << 20,
        "Largest request body, also reassembled from Block1 blocks; checked per block before "
        "anything is allocated (4.13 with Size1 beyond)."),
    OPT("max_events", INLET_OPT_INT, max_events, "1000", 1, 100000,
        "Most events in one request (a batch or a SenML pack)."),
    OPT("ack_timeout", INLET_OPT_DURATION, ack_timeout_ms, "500ms", 10, 10000,
        "A CON whose Kafka acknowledgement takes longer gets an empty ACK then and its answer "
        "as a separate CON (RFC 7252 5.2.2); faster answers are piggybacked."),
    OPT("max_inflight_per_thread", INLET_OPT_INT, max_inflight_per_thread, "20000", 1, 10000000,
        "Requests a loop may have waiting for Kafka; beyond, 5.03 with Max-Age."),
    OPT("dedup_entries", INLET_OPT_INT, dedup_entries, "200000", 16, 50000000,
        "(peer, Message ID) pairs remembered per loop to answer retransmissions alike "
        "(about 220 bytes each); the oldest go first."),
    OPT("exchange_lifetime", INLET_OPT_DURATION, exchange_lifetime_ms, "247s", 1000, 3600000,
        "How long a Message ID is remembered (EXCHANGE_LIFETIME, RFC 7252 4.8.2)."),
    OPT("max_block_transfers", INLET_OPT_INT, max_block_transfers, "256", 1, 100000,
        "Block1 uploads in progress per loop; each holds up to max_body_size."),
    OPT("block_timeout", INLET_OPT_DURATION, block_timeout_ms, "60s", 1000, 3600000,
        "A Block1 upload idle this long is dropped."),
    OPT("max_sessions", INLET_OPT_INT, max_sessions, "100000", 0, 10000000,
        "Idle sessions (peers; DTLS sessions) kept per loop; 0: libcoap's default."),
    OPT("session_idle", INLET_OPT_DURATION, session_idle_ms, "300s", 1000, 86400000,
        "A session without traffic this long is closed (a DTLS device then handshakes again)."),
    OPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "5s", 0, 600000,
        "At stop, how long to wait for outstanding Kafka acknowledgements."),
    OPT("ingest_path", INLET_OPT_STRING, ingest_path, "/ingest", 0, 0,
        "Resource for events: {\"events\": [...]}, one event, in JSON or CBOR."),
    OPT("payload_path", INLET_OPT_STRING, payload_path, "/e/{schema}/{version}", 0, 0,
        "Resource for a bare payload (any format, SenML packs too) of the schema and version "
        "its {schema} and {version} segments name."),
    {"routes", INLET_OPT_SECTION_LIST, offsetof(coap_config, routes), NULL, 0, 0, NULL,
     route_options, sizeof(coap_route_config), 0,
     "Resources per tenant, as MQTT's mappings: tried in order before ingest_path and "
     "payload_path, the first that matches the path for the device's tenant wins. Not listed "
     "in /.well-known/core."},
    {"listeners", INLET_OPT_SECTION_LIST, offsetof(coap_config, listeners), NULL, 0, 0, NULL,
     listener_options, sizeof(coap_listener_config), INLET_OPT_REQUIRED,
     "UDP addresses to serve, each coap:// or coaps://."},
    INLET_OPTIONS_END,
};

static void create_metrics(coap_module *m)
{
    const inlet_host *h = m->host;
    coap_metrics *mt = &m->metrics;
    static const char *const methods[COAP_METHODS] = {"GET", "POST", "other"};
    char labels[64];

    for (int i = 0; i < COAP_METHODS; i++) {
        for (int j = 0; j < COAP_CODES; j++) {
            if (j < COAP_CODES - 1)
                snprintf(labels, sizeof(labels), "method=\"%s\",code=\"%d.%02d\"", methods[i],
                         coap_code_slots[j] >> 5, coap_code_slots[j] & 31);
            else
                snprintf(labels, sizeof(labels), "method=\"%s\",code=\"other\"", methods[i]);
            mt->requests[i][j] =
                h->metric_counter_for(m->mod, "inlet_coap_requests_total",
                                      "CoAP requests answered, by method and code.", labels);
        }
    }
    mt->in_flight = h->metric_gauge_for(m->mod, "inlet_coap_requests_in_flight",
                                        "CoAP requests waiting for Kafka acknowledgement.", NULL);
    mt->retransmissions = h->metric_counter_for(
        m->mod, "inlet_coap_retransmissions_total",
        "Retransmitted requests (same peer and Message ID) answered without producing.", NULL);
    mt->handshakes_ok = h->metric_counter_for(m->mod, "inlet_coap_dtls_handshakes_total",
                                              "DTLS handshakes, by result.", "result=\"ok\"");
    mt->handshakes_failed =
        h->metric_counter_for(m->mod, "inlet_coap_dtls_handshakes_total",
                              "DTLS handshakes, by result.", "result=\"failed\"");
    mt->events = h->metric_counter_for(m->mod, "inlet_coap_submissions_total",
                                       "CoAP requests handed to the core.", NULL);
}

static void coap_mod_destroy(void *state);

static int listeners_make(coap_module *m, char *err, size_t err_len)
{
    const inlet_section_list *list = &m->cfg->listeners;
    const coap_listener_config *lc = list->items;

    m->listeners = calloc(list->count ? list->count : 1, sizeof(*m->listeners));
    if (!m->listeners)
        return snprintf(err, err_len, "out of memory"), -1;
    for (size_t i = 0; i < list->count; i++) {
        coap_listener *ls = &m->listeners[i];
        struct sockaddr_storage ss;
        socklen_t sl;
        char why[200];
        ls->index = i;
        ls->cfg = &lc[i];
        snprintf(ls->name, sizeof(ls->name), "%s", lc[i].address);
        if (inlet_support_addr_resolve(lc[i].address, &ss, &sl, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "listeners[%zu].address: %s", i, why);
            return -1;
        }
        coap_address_init(&ls->addr);
        memcpy(&ls->addr.addr, &ss, sl);
        ls->addr.size = sl;
        if (lc[i].security == COAP_SECURITY_NONE && (lc[i].cert || lc[i].key)) {
            snprintf(err, err_len, "listeners[%zu]: cert and key need security: dtls", i);
            return -1;
        }
        if (lc[i].security == COAP_SECURITY_DTLS && !lc[i].psk && !lc[i].cert) {
            snprintf(err, err_len, "listeners[%zu]: DTLS needs psk: true or a cert", i);
            return -1;
        }
        if ((lc[i].cert == NULL) != (lc[i].key == NULL)) {
            snprintf(err, err_len, "listeners[%zu]: cert and key go together", i);
            return -1;
        }
        if (lc[i].allow_token && lc[i].security == COAP_SECURITY_DTLS) {
            snprintf(err, err_len,
                     "listeners[%zu].allow_token: DTLS listeners authenticate by PSK or "
                     "certificate",
                     i);
            return -1;
        }
        m->n_listeners = i + 1;
    }
    return 0;
}

static int coap_mod_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                           void **state, char *err, size_t err_len)
{
    const coap_config *cfg = config;
    coap_module *m = NULL;

    *state = NULL;
    if (!INLET_HOST_HAS(host, content_type_for_coap) || !INLET_HOST_HAS(host, auth_psk)) {
        snprintf(err, err_len, "the core lacks ABI 1.4 (auth_psk, content_type_for_coap)");
        return -1;
    }
    if ((m = inlet_support_module_new(host, mod, sizeof(*m), err, err_len)) == NULL)
        return -1;
    m->host = host;
    m->mod = mod;
    m->cfg = cfg;
    if (getrandom(&m->seed, sizeof(m->seed), 0) != (ssize_t)sizeof(m->seed))
        m->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15u;
    char why[200];
    if (coap_route_compile(&m->routes.ingest, cfg->ingest_path, false, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "ingest_path: %s", why);
        goto fail;
    }
    if (coap_route_compile(&m->routes.payload, cfg->payload_path, true, why, sizeof(why)) != 0) {
        snprintf(err, err_len, "payload_path: %s", why);
        goto fail;
    }
    if (coap_route_table_add(&m->routes, cfg->routes.items, cfg->routes.count, err, err_len) != 0)
        goto fail;
    if (listeners_make(m, err, err_len) != 0)
        goto fail;
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    create_metrics(m);
    *state = m;
    return 0;

fail:
    coap_mod_destroy(m);
    return -1;
}

static int coap_mod_start(void *state, char *err, size_t err_len)
{
    coap_module *m = state;
    int rc = inlet_support_loopset_start(&m->loopset, (size_t)m->cfg->threads, &coap_loop_spec, m,
                                         err, err_len);
    for (size_t i = 0; rc == 0 && i < m->n_listeners; i++)
        COAP_LOG(m, INLET_LOG_INFO, "listening on %s (%s)", m->listeners[i].name,
                 m->listeners[i].cfg->security == COAP_SECURITY_DTLS ? "coaps" : "coap");
    return rc;
}

static void coap_mod_destroy(void *state)
{
    coap_module *m = state;
    if (m == NULL)
        return;
    inlet_support_loopset_free(&m->loopset);
    coap_route_table_free(&m->routes);
    free(m->listeners);
    free(m);
}

static const inlet_module_desc coap_module_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "coap",
    .version = COAP_MODULE_VERSION,
    .description = "CoAP over UDP and DTLS (libcoap): POSTs answered 2.04 once Kafka has them; "
                   "DTLS-PSK, certificates or a Uri-Query token",
    .options = coap_options,
    .config_size = sizeof(coap_config),
    .create = coap_mod_create,
    .start = coap_mod_start,
    .stop_accepting = inlet_support_module_stop_accepting,
    .stop = inlet_support_module_stop,
    .destroy = coap_mod_destroy,
};

INLET_MODULE_DEFINE(coap_module_desc)
