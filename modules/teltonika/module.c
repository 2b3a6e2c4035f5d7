/*
 * module.c - the Teltonika module's descriptor, configuration table, IO names, metrics and
 * lifecycle.
 *
 * Trackers connect over TCP or TLS (Teltonika's usual port is 5027), name themselves by IMEI
 * and send AVL data packets; every packet becomes one submission of all its records, and the
 * tracker gets the record count back only once Kafka has every one (docs/TELTONIKA.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teltonika.h"

#define TLT_MODULE_VERSION "0.1.0"

_Static_assert(offsetof(tlt_module, loopset) == 0, "inlet_support_module_stop() finds it");

#define OPT(name, type, field, def, min, max, desc)                                                \
    {                                                                                              \
        name, type, offsetof(tlt_config, field), def, min, max, NULL, NULL, 0, 0, desc             \
    }

static const inlet_option tls_options[] = {
    INLET_SUPPORT_TLS_OPTIONS(0, "; with a certificate the IMEI must not belong to another "
                                 "device, and require refuses trackers without one."),
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    INLET_SUPPORT_LISTENER_OPTIONS(tlt_listener_config, address, tls, "5027", tls_options,
                                   "Serve trackers over TLS on this listener (absent: plaintext)."),
    INLET_SUPPORT_CONN_LIMIT_OPTIONS(offsetof(tlt_listener_config, limits)),
    INLET_OPTIONS_END,
};

static const inlet_option tenant_options[] = {
    {"tenant", INLET_OPT_STRING, offsetof(tlt_tenant_config, tenant), NULL, 0, 0, NULL, NULL, 0,
     INLET_OPT_REQUIRED, "The tenant whose devices these names apply to."},
    {"io_names", INLET_OPT_STRING_MAP, offsetof(tlt_tenant_config, io_names), NULL, 0, 0, NULL,
     NULL, 0, 0, "IO id -> name for this tenant, over the module-wide io_names."},
    INLET_OPTIONS_END,
};

static const inlet_option tlt_options[] = {
    OPT("threads", INLET_OPT_INT, threads, "2", 1, 256,
        "Event loops, each on its own thread with its own SO_REUSEPORT listening sockets."),
    OPT("max_packet_size", INLET_OPT_SIZE, max_packet_size, "64k", 64, INT64_C(16) << 20,
        "Largest AVL data length accepted (Teltonika devices send at most a few KB); a packet "
        "whose header announces more is answered 0 and its connection closed, before anything "
        "is buffered."),
    OPT("handshake_timeout", INLET_OPT_DURATION, handshake_timeout_ms, "10s", 1000, 600000,
        "Close a connection that has not sent its IMEI (and finished TLS) by then."),
    OPT("idle_timeout", INLET_OPT_DURATION, idle_timeout_ms, "10m", 1000, INT64_C(86400000),
        "Close a connection that sends nothing for this long (trackers reconnect)."),
    OPT("max_inflight_per_thread", INLET_OPT_INT, max_inflight_per_thread, "20000", 1, 10000000,
        "Packets a loop may have waiting for Kafka; beyond it the loop stops reading sockets."),
    OPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "5s", 0, 600000,
        "At stop, how long to wait for outstanding Kafka acknowledgements before closing."),
    {"io_names", INLET_OPT_STRING_MAP, offsetof(tlt_config, io_names), NULL, 0, 0, NULL, NULL, 0, 0,
     "IO id -> name for every tenant, e.g. {239: ignition, 66: external_voltage}: the key the "
     "id gets in the event's io map (names: a-z 0-9 _, not all digits)."},
    {"tenants", INLET_OPT_SECTION_LIST, offsetof(tlt_config, tenants), NULL, 0, 0, NULL,
     tenant_options, sizeof(tlt_tenant_config), 0, "Per-tenant io_names."},
    INLET_SUPPORT_LISTENERS_OPTION(tlt_config, listeners, listener_options, tlt_listener_config),
    INLET_OPTIONS_END,
};

static const char *const close_names[TLT_CLOSE_REASONS] = {
    [TLT_CLOSE_EOF] = "eof",
    [TLT_CLOSE_IO_ERROR] = "io_error",
    [TLT_CLOSE_TLS_ERROR] = "tls_error",
    [TLT_CLOSE_UNKNOWN_IMEI] = "unknown_imei",
    [TLT_CLOSE_BAD_IMEI] = "bad_imei",
    [TLT_CLOSE_FRAMING] = "framing_error",
    [TLT_CLOSE_TIMEOUT] = "timeout",
    [TLT_CLOSE_SHUTDOWN] = "server_shutdown",
    [TLT_CLOSE_INTERNAL] = "internal_error",
    [TLT_CLOSE_QUOTA] = "quota",
    [TLT_CLOSE_CREDENTIAL_EXPIRED] = "credential_expired",
};

const tlt_io_names *tlt_module_names_for(const tlt_module *m, const char *tenant)
{
    for (size_t i = 0; i < m->n_tenant_names; i++) {
        if (strcmp(m->tenant_names[i].tenant, tenant) == 0)
            return &m->tenant_names[i].names;
    }
    return m->names.n > 0 ? &m->names : NULL;
}

static int names_build(tlt_module *m, char *err, size_t err_len)
{
    const tlt_config *cfg = m->cfg;
    char why[200];

    if (tlt_io_names_build(&m->names, (const char *const *)cfg->io_names.keys,
                           (const char *const *)cfg->io_names.values, cfg->io_names.count, NULL,
                           why, sizeof(why)) != 0) {
        snprintf(err, err_len, "io_names: %s", why);
        return -1;
    }
    if (cfg->tenants.count == 0)
        return 0;
    m->tenant_names = calloc(cfg->tenants.count, sizeof(*m->tenant_names));
    if (m->tenant_names == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    const tlt_tenant_config *tc = cfg->tenants.items;
    for (size_t i = 0; i < cfg->tenants.count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(tc[i].tenant, tc[j].tenant) == 0) {
                snprintf(err, err_len, "tenants[%zu]: tenant %s is listed twice", i, tc[i].tenant);
                return -1;
            }
        }
        if (tlt_io_names_build(&m->tenant_names[i].names, (const char *const *)tc[i].io_names.keys,
                               (const char *const *)tc[i].io_names.values, tc[i].io_names.count,
                               &m->names, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "tenants[%zu].io_names: %s", i, why);
            return -1;
        }
        m->tenant_names[i].tenant = tc[i].tenant;
        m->n_tenant_names = i + 1;
    }
    return 0;
}

static void create_metrics(tlt_module *m)
{
    const inlet_host *h = m->host;
    tlt_metrics *mt = &m->metrics;
    char labels[64];

    mt->connections = h->metric_gauge_for(m->mod, "inlet_teltonika_connections",
                                          "Open Teltonika connections.", NULL);
    mt->refused_listener = h->metric_counter_for(
        m->mod, "inlet_teltonika_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"listener_full\"");
    mt->refused_address = h->metric_counter_for(
        m->mod, "inlet_teltonika_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"address_full\"");
    mt->handshakes_accepted =
        h->metric_counter_for(m->mod, "inlet_teltonika_handshakes_total",
                              "IMEI handshakes answered, by result.", "result=\"accepted\"");
    mt->handshakes_refused =
        h->metric_counter_for(m->mod, "inlet_teltonika_handshakes_total",
                              "IMEI handshakes answered, by result.", "result=\"refused\"");
    mt->packets_acked =
        h->metric_counter_for(m->mod, "inlet_teltonika_packets_total",
                              "AVL packets answered, by answer.", "answer=\"count\"");
    mt->packets_refused =
        h->metric_counter_for(m->mod, "inlet_teltonika_packets_total",
                              "AVL packets answered, by answer.", "answer=\"zero\"");
    mt->records = h->metric_counter_for(m->mod, "inlet_teltonika_records_total",
                                        "AVL records acknowledged after Kafka had them.", NULL);
    mt->inflight = h->metric_gauge_for(m->mod, "inlet_teltonika_packets_in_flight",
                                       "AVL packets waiting for Kafka acknowledgement.", NULL);
    for (size_t i = 0; i < TLT_CLOSE_REASONS; i++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"", close_names[i]);
        mt->disconnects[i] =
            h->metric_counter_for(m->mod, "inlet_teltonika_disconnects_total",
                                  "Teltonika connections ended, by reason.", labels);
    }
}

static void tlt_destroy(void *state);

static int tlt_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                      void **state, char *err, size_t err_len)
{
    tlt_module *m = NULL;

    *state = NULL;
    if (!INLET_HOST_HAS(host, identity_for_imei)) {
        snprintf(err, err_len, "the core lacks identity_for_imei (ABI 1.4)");
        return -1;
    }
    if ((m = inlet_support_module_new(host, mod, sizeof(*m), err, err_len)) == NULL)
        return -1;
    m->host = host;
    m->mod = mod;
    m->cfg = config;
    if (names_build(m, err, err_len) != 0)
        goto fail;
    if (inlet_support_listeners_new(
            &m->loopset.listeners, &m->loopset.n_listeners, &m->cfg->listeners,
            INLET_SUPPORT_LISTENER_LAYOUT(tlt_listener_config, address, tls), &tlt_tls_setup, err,
            err_len) != 0 ||
        inlet_support_listeners_limit(m->loopset.listeners, m->loopset.n_listeners,
                                      offsetof(tlt_listener_config, limits), err, err_len) != 0)
        goto fail;
    inlet_support_loopset_report_cert_expiry(&m->loopset);
    create_metrics(m);
    *state = m;
    return 0;

fail:
    tlt_destroy(m);
    return -1;
}

static int tlt_start(void *state, char *err, size_t err_len)
{
    tlt_module *m = state;
    return inlet_support_loopset_start(&m->loopset, (size_t)m->cfg->threads, &tlt_loop_spec, m, err,
                                       err_len);
}

static void tlt_destroy(void *state)
{
    tlt_module *m = state;
    if (m == NULL)
        return;
    inlet_support_loopset_free(&m->loopset);
    tlt_io_names_free(&m->names);
    for (size_t i = 0; i < m->n_tenant_names; i++)
        tlt_io_names_free(&m->tenant_names[i].names);
    free(m->tenant_names);
    free(m);
}

static const inlet_module_desc tlt_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "teltonika",
    .version = TLT_MODULE_VERSION,
    .description = "Teltonika trackers over TCP/TLS: IMEI handshake, Codec 8, 8 Extended and 16 "
                   "AVL packets, acknowledged once Kafka has every record.",
    .options = tlt_options,
    .config_size = sizeof(tlt_config),
    .create = tlt_create,
    .start = tlt_start,
    .stop_accepting = inlet_support_module_stop_accepting,
    .stop = inlet_support_module_stop,
    .destroy = tlt_destroy,
};

INLET_MODULE_DEFINE(tlt_desc)
