/*
 * module.c - the HTTP module's descriptor, configuration table and lifecycle.
 *
 * Devices POST JSON batches to the ingest endpoint over HTTP/1.1 or HTTP/2 (TLS with ALPN);
 * the answer waits until Kafka acknowledged every event. Transport and sockets live in
 * listener.c, TLS in tls.c, request handling in route.c / ingest.c / health.c.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define HTTP_MODULE_VERSION "0.1.0"

_Static_assert(offsetof(http_module, loopset) == 0, "inlet_support_module_stop() finds it");

#define OPT(name, type, field, def, min, max, desc)                                                \
    {                                                                                              \
        name, type, offsetof(http_config, field), def, min, max, NULL, NULL, 0, 0, desc            \
    }

static const inlet_option tls_options[] = {
    INLET_SUPPORT_TLS_OPTIONS(offsetof(http_tls_config, base), "."),
    {"http2", INLET_OPT_BOOL, offsetof(http_tls_config, http2), "true", 0, 0, NULL, NULL, 0, 0,
     "Offer HTTP/2 by ALPN (h2) besides http/1.1."},
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    INLET_SUPPORT_LISTENER_OPTIONS(http_listener_config, address, tls, "8080", tls_options,
                                   "Serve HTTPS on this listener (absent: plaintext HTTP/1.1)."),
    {"proxy_protocol", INLET_OPT_BOOL, offsetof(http_listener_config, proxy_protocol), "false", 0,
     0, NULL, NULL, 0, 0,
     "Expect a PROXY protocol v1 header from a load balancer before each connection."},
    INLET_SUPPORT_CONN_LIMIT_OPTIONS(offsetof(http_listener_config, limits)),
    {"ingest", INLET_OPT_BOOL, offsetof(http_listener_config, ingest), "true", 0, 0, NULL, NULL, 0,
     0, "Serve the ingest endpoint on this listener."},
    {"health", INLET_OPT_BOOL, offsetof(http_listener_config, health), "true", 0, 0, NULL, NULL, 0,
     0, "Serve the liveness and readiness endpoints on this listener."},
    {"metrics", INLET_OPT_BOOL, offsetof(http_listener_config, metrics), "false", 0, 0, NULL, NULL,
     0, 0, "Serve Prometheus metrics on this listener too (they are on admin_address already)."},
    INLET_OPTIONS_END,
};

static const inlet_option http_options[] = {
    OPT("threads", INLET_OPT_INT, threads, "2", 1, 256,
        "Event loops, each on its own thread with its own SO_REUSEPORT listening sockets."),
    OPT("max_body_size", INLET_OPT_SIZE, max_body_size, "1m", 64, INT64_C(1) << 30,
        "Largest request body accepted; larger ones get 413."),
    OPT("max_receiving_bytes", INLET_OPT_SIZE, max_receiving_bytes, "64m", 64 * 1024,
        INT64_C(1) << 40,
        "Request bodies being received at once, over every connection, before any is "
        "authenticated; past it, requests still receiving a body and new ones with a body get "
        "503 with Retry-After."),
    OPT("max_events", INLET_OPT_INT, max_events, "1000", 1, 1000000,
        "Most events in one request; more get 413."),
    OPT("idle_timeout", INLET_OPT_DURATION, idle_timeout_ms, "30s", 100, 3600000,
        "Close a keep-alive connection idle for this long (also the time allowed to send a "
        "request)."),
    OPT("handshake_timeout", INLET_OPT_DURATION, handshake_timeout_ms, "10s", 100, 600000,
        "Close a connection whose TLS handshake takes longer."),
    OPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "5s", 0, 600000,
        "At stop, how long to wait for outstanding Kafka acknowledgements and responses."),
    OPT("http2_max_concurrent_requests", INLET_OPT_INT, http2_max_concurrent_requests, "100", 1,
        256, "Requests one HTTP/2 connection may have in flight."),
    OPT("http2_max_concurrent_streams", INLET_OPT_INT, http2_max_concurrent_streams, "16", 1, 100,
        "Streams one HTTP/2 connection may have receiving their request (headers or body) at "
        "once; a new stream beyond it is refused with RST_STREAM(REFUSED_STREAM)."),
    OPT("http2_max_requests_per_second", INLET_OPT_INT, http2_max_requests_per_second, "1000", 1,
        1000000,
        "New streams one HTTP/2 connection may open within a second; more close it with "
        "GOAWAY(ENHANCE_YOUR_CALM)."),
    OPT("http2_max_resets_per_second", INLET_OPT_INT, http2_max_resets_per_second, "100", 1,
        1000000,
        "RST_STREAM frames one HTTP/2 client may send within a second; more close the connection "
        "with GOAWAY(ENHANCE_YOUR_CALM) (rapid reset, CVE-2023-44487)."),
    OPT("http2_cleartext", INLET_OPT_BOOL, http2_cleartext, "false", 0, 0,
        "Accept HTTP/2 without TLS (prior knowledge or Upgrade: h2c) on plaintext listeners."),
    OPT("ingest_path", INLET_OPT_STRING, ingest_path, "/ingest", 0, 0,
        "Path of the ingest endpoint (POST)."),
    OPT("healthz_path", INLET_OPT_STRING, healthz_path, "/healthz", 0, 0,
        "Liveness endpoint; \"\" disables it."),
    OPT("readyz_path", INLET_OPT_STRING, readyz_path, "/readyz", 0, 0,
        "Readiness endpoint (200 when Kafka is reachable); \"\" disables it."),
    OPT("metrics_path", INLET_OPT_STRING, metrics_path, "/metrics", 0, 0,
        "Prometheus metrics endpoint; \"\" disables it."),
    OPT("admin_address", INLET_OPT_STRING, admin_address, "127.0.0.1:9100", 0, 0,
        "Listener for the operator endpoints (metrics, liveness, readiness; no ingest), plaintext; "
        "\"\" for none."),
    INLET_SUPPORT_LISTENERS_OPTION(http_config, listeners, listener_options, http_listener_config),
    INLET_OPTIONS_END,
};

static int check_path(const char *key, const char *path, bool may_be_empty, char *err,
                      size_t err_len)
{
    if (path == NULL || path[0] == '\0') {
        if (may_be_empty)
            return 0;
        snprintf(err, err_len, "%s: must not be empty", key);
        return -1;
    }
    if (path[0] != '/' || strpbrk(path, "?# \t") != NULL) {
        snprintf(err, err_len, "%s: \"%s\" is not an absolute path without query", key, path);
        return -1;
    }
    return 0;
}

static int check_config(const http_config *cfg, char *err, size_t err_len)
{
    if (cfg->admin_address != NULL && cfg->admin_address[0] != '\0') {
        for (size_t i = 0; i < cfg->listeners.count; i++) {
            const http_listener_config *l = (const http_listener_config *)cfg->listeners.items + i;
            if (l->address != NULL && strcmp(l->address, cfg->admin_address) == 0) {
                snprintf(err, err_len,
                         "admin_address: %s is also listeners[%zu]; give the admin listener its "
                         "own address, or set admin_address: \"\" and metrics: true there",
                         cfg->admin_address, i);
                return -1;
            }
        }
    }
    if (check_path("ingest_path", cfg->ingest_path, false, err, err_len) != 0 ||
        check_path("healthz_path", cfg->healthz_path, true, err, err_len) != 0 ||
        check_path("readyz_path", cfg->readyz_path, true, err, err_len) != 0 ||
        check_path("metrics_path", cfg->metrics_path, true, err, err_len) != 0)
        return -1;
    return 0;
}

/* Counter handles are created once here; the request path only adds to them. */
static void create_metrics(http_module *m)
{
    static const char *const codes[HTTP_STATUS_SLOTS] = {"200", "400", "401", "403",  "404", "405",
                                                         "408", "411", "413", "415",  "417", "429",
                                                         "500", "502", "503", "other"};
    const inlet_host *h = m->host;
    for (size_t i = 0; i < HTTP_STATUS_SLOTS; i++) {
        char labels[32];
        snprintf(labels, sizeof(labels), "code=\"%s\"", codes[i]);
        m->metrics.requests[i] = h->metric_counter_for(
            m->mod, "inlet_http_requests_total", "HTTP requests answered, by status code.", labels);
    }
    m->metrics.connections =
        h->metric_gauge_for(m->mod, "inlet_http_connections", "Open HTTP connections.", NULL);
    m->metrics.connections_total = h->metric_counter_for(m->mod, "inlet_http_connections_total",
                                                         "Accepted HTTP connections.", NULL);
    m->metrics.refused_listener = h->metric_counter_for(
        m->mod, "inlet_http_connections_refused_total",
        "Connections closed at accept because a limit was reached.", "reason=\"listener_full\"");
    m->metrics.refused_address = h->metric_counter_for(
        m->mod, "inlet_http_connections_refused_total",
        "Connections closed at accept because a limit was reached.", "reason=\"address_full\"");
    m->metrics.h2_refused_streams =
        h->metric_counter_for(m->mod, "inlet_http2_refused_streams_total",
                              "HTTP/2 streams refused beyond http2_max_concurrent_streams.", NULL);
    m->metrics.h2_calm_requests = h->metric_counter_for(
        m->mod, "inlet_http2_goaway_total",
        "HTTP/2 connections closed with GOAWAY(ENHANCE_YOUR_CALM).", "reason=\"requests\"");
    m->metrics.h2_calm_resets = h->metric_counter_for(
        m->mod, "inlet_http2_goaway_total",
        "HTTP/2 connections closed with GOAWAY(ENHANCE_YOUR_CALM).", "reason=\"resets\"");
    m->metrics.refused_budget = h->metric_counter_for(
        m->mod, "inlet_http_body_budget_refused_total",
        "Requests answered 503 because max_receiving_bytes of bodies were being received.", NULL);
    m->metrics.receiving_bytes =
        h->metric_gauge_for(m->mod, "inlet_http_receiving_bytes",
                            "Bytes of request bodies being received (max_receiving_bytes).", NULL);
    m->metrics.in_flight =
        h->metric_gauge_for(m->mod, "inlet_http_requests_in_flight",
                            "Ingest requests waiting for Kafka acknowledgement.", NULL);
}

/*
 * h2o keeps process-wide objects (its OpenSSL BIO method, for one) in static storage and has
 * no teardown for them. Keep libh2o mapped when the core unloads this module, so they stay
 * reachable instead of leaking; a later load of the module then reuses them.
 */
static void pin_h2o(void)
{
    Dl_info info;
    if (dladdr((void *)h2o_config_init, &info) != 0 && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static void http_destroy(void *state);

/*
 * The configured listeners, then the admin listener: plaintext, operator endpoints only, the
 * support library's default connection limits. The module owns the copy; the strings stay the
 * config's.
 */
static int make_listener_items(http_module *m, char *err, size_t err_len)
{
    const inlet_section_list *l = &m->cfg->listeners;
    bool admin = m->cfg->admin_address != NULL && m->cfg->admin_address[0] != '\0';
    size_t n = l->count + (admin ? 1 : 0);
    http_listener_config *items = calloc(n ? n : 1, sizeof(*items));

    if (items == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (l->count != 0)
        memcpy(items, l->items, l->count * sizeof(*items));
    if (admin) {
        http_listener_config *a = &items[l->count];
        a->address = m->cfg->admin_address;
        a->health = true;
        a->metrics = true;
        a->admin = true;
        a->limits.max_connections = atoll(INLET_SUPPORT_MAX_CONNECTIONS_DEFAULT);
        a->limits.max_connections_per_ip = atoll(INLET_SUPPORT_MAX_CONNECTIONS_PER_IP_DEFAULT);
    }
    m->listener_items.items = items;
    m->listener_items.count = n;
    return 0;
}

static int http_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                       void **state, char *err, size_t err_len)
{
    const http_config *cfg = config;
    http_module *m = NULL;

    *state = NULL;
    if (check_config(cfg, err, err_len) != 0)
        return -1;
    if ((m = inlet_support_module_new(host, mod, sizeof(*m), err, err_len)) == NULL)
        return -1;
    m->host = host;
    m->mod = mod;
    m->cfg = cfg;

    if (cfg->listeners.count == 0) {
        snprintf(err, err_len, "listeners: at least one listener is needed");
        goto fail;
    }
    if (make_listener_items(m, err, err_len) != 0)
        goto fail;
    if (inlet_support_listeners_new(
            &m->loopset.listeners, &m->loopset.n_listeners, &m->listener_items,
            INLET_SUPPORT_LISTENER_LAYOUT(http_listener_config, address, tls.base), &http_tls_setup,
            err, err_len) != 0 ||
        inlet_support_listeners_limit(m->loopset.listeners, m->loopset.n_listeners,
                                      offsetof(http_listener_config, limits), err, err_len) != 0)
        goto fail;
    inlet_support_loopset_report_cert_expiry(&m->loopset);

    pin_h2o();
    h2o_config_init(&m->globalconf);
    m->globalconf_ready = true;
    m->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("inlet"));
    /*
     * h2o's own limit is a little above ours. HTTP/1.1: a Content-Length over it gets h2o's
     * plain 413 before any of the body is read; a body between the two reaches the handler and
     * gets a problem+json 413. HTTP/2: h2guard.c ends a body at the frame that crosses
     * max_body_size, so h2o's limit (whose reset says REFUSED_STREAM, i.e. "retry") is never
     * reached: one frame (at most 16 KiB, h2o's SETTINGS_MAX_FRAME_SIZE) past ours.
     */
    m->globalconf.max_request_entity_size = (size_t)cfg->max_body_size + HTTP_BODY_SLACK;
    m->globalconf.handshake_timeout = (uint64_t)cfg->handshake_timeout_ms;
    m->globalconf.http1.req_timeout = (uint64_t)cfg->idle_timeout_ms;
    m->globalconf.http1.upgrade_to_http2 = cfg->http2_cleartext;
    m->globalconf.http2.idle_timeout = (uint64_t)cfg->idle_timeout_ms;
    m->globalconf.http2.max_concurrent_requests_per_connection =
        (size_t)cfg->http2_max_concurrent_requests;
    /* after stop_accepting's GOAWAY, connections stay until stop() closes them */
    m->globalconf.http2.graceful_shutdown_timeout = 0;
    m->hostconf =
        h2o_config_register_host(&m->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    http_routes_register(m);

    create_metrics(m);
    *state = m;
    return 0;

fail:
    http_destroy(m);
    return -1;
}

static int http_start(void *state, char *err, size_t err_len)
{
    http_module *m = state;
    return inlet_support_loopset_start(&m->loopset, (size_t)m->cfg->threads, &http_loop_spec, m,
                                       err, err_len);
}

static void http_destroy(void *state)
{
    http_module *m = state;
    if (m == NULL)
        return;
    inlet_support_loopset_free(&m->loopset); /* joins the loops if the core skipped stop() */
    if (m->globalconf_ready)
        h2o_config_dispose(&m->globalconf);
    free(m->listener_items.items);

    free(m);
}

static const inlet_module_desc http_module_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "http",
    .version = HTTP_MODULE_VERSION,
    .description = "HTTP/1.1 and HTTP/2 ingestion (POST JSON batches), bearer tokens or mTLS",
    .options = http_options,
    .config_size = sizeof(http_config),
    .create = http_create,
    .start = http_start,
    .stop_accepting = inlet_support_module_stop_accepting,
    .stop = inlet_support_module_stop,
    .destroy = http_destroy,
};

INLET_MODULE_DEFINE(http_module_desc)
