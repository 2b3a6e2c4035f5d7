/*
 * module.c - the binary protocol module's descriptor, configuration table, metrics and
 * lifecycle. The protocol is docs/BINARY.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "binary.h"

#define BIN_MODULE_VERSION "0.1.0"

_Static_assert(offsetof(bin_module, loopset) == 0, "inlet_support_module_stop() finds it");

#define OPT(name, type, field, def, min, max, desc)                                                \
    {                                                                                              \
        name, type, offsetof(bin_config, field), def, min, max, NULL, NULL, 0, 0, desc             \
    }

static const inlet_option tls_options[] = {
    INLET_SUPPORT_TLS_OPTIONS(0, "; the certificate wins over a token in HELLO."),
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    INLET_SUPPORT_LISTENER_OPTIONS(bin_listener_config, address, tls, "7000", tls_options,
                                   "Serve the binary protocol over TLS on this listener "
                                   "(absent: plaintext)."),
    INLET_SUPPORT_CONN_LIMIT_OPTIONS(offsetof(bin_listener_config, limits)),
    INLET_OPTIONS_END,
};

static const inlet_option bin_options[] = {
    OPT("threads", INLET_OPT_INT, threads, "2", 1, 256,
        "Event loops, each on its own thread with its own SO_REUSEPORT listening sockets."),
    OPT("window", INLET_OPT_INT, window, "16", 1, 65535,
        "DATA frames a connection may have unacknowledged, announced in WELCOME; one more "
        "closes the connection with CLOSE 0x93."),
    OPT("max_frame_size", INLET_OPT_SIZE, max_frame_size, "64k", 64, INT64_C(16) << 20,
        "Largest DATA frame body accepted, announced in WELCOME; checked on the frame header, "
        "before anything is buffered."),
    OPT("max_inflight_per_thread", INLET_OPT_INT, max_inflight_per_thread, "20000", 1, 10000000,
        "Frames a loop may have waiting for Kafka; beyond it the loop stops reading sockets "
        "until acknowledgements make room."),
    OPT("hello_timeout", INLET_OPT_DURATION, hello_timeout_ms, "10s", 1000, 600000,
        "Close a connection that has not sent HELLO (and finished TLS) by then."),
    OPT("max_keep_alive", INLET_OPT_DURATION, max_keep_alive_ms, "10m", 1000, 64800000,
        "Longest keep alive granted; HELLO's keep alive is capped to it, 0 gets it."),
    OPT("max_output_buffer", INLET_OPT_SIZE, max_output_buffer, "64k", 1024, INT64_C(64) << 20,
        "Acknowledgements waiting for a client that does not read; beyond it the connection "
        "is dropped."),
    OPT("shutdown_timeout", INLET_OPT_DURATION, shutdown_timeout_ms, "5s", 0, 600000,
        "At stop, how long to wait for outstanding Kafka acknowledgements before closing."),
    INLET_SUPPORT_LISTENERS_OPTION(bin_config, listeners, listener_options, bin_listener_config),
    INLET_OPTIONS_END,
};

/* ---- metrics: handles are created once here; the loops only add to them ---- */

static const uint8_t hello_codes[BIN_HELLO_SLOTS - 1] = {
    BIN_ST_OK,          BIN_ST_BAD_CREDENTIALS, BIN_ST_NOT_AUTHORIZED,
    BIN_ST_UNAVAILABLE, BIN_ST_PROTOCOL,        BIN_ST_MALFORMED};
static const uint8_t ack_codes[BIN_ACK_SLOTS - 1] = {BIN_ST_OK,
                                                     BIN_ST_NOT_AUTHORIZED,
                                                     BIN_ST_UNKNOWN_SCHEMA,
                                                     BIN_ST_QUOTA,
                                                     BIN_ST_PAYLOAD_INVALID,
                                                     BIN_ST_UNAVAILABLE,
                                                     BIN_ST_SHUTTING_DOWN,
                                                     BIN_ST_UNSPECIFIED};
static const char *const frame_names[BIN_FRAME_TYPES] = {"hello", "data", "ping", "bye"};
static const char *const close_names[BIN_CLOSE_REASONS] = {
    [BIN_CLOSE_BYE] = "bye",
    [BIN_CLOSE_EOF] = "eof",
    [BIN_CLOSE_IO_ERROR] = "io_error",
    [BIN_CLOSE_TLS_ERROR] = "tls_error",
    [BIN_CLOSE_HELLO_TIMEOUT] = "hello_timeout",
    [BIN_CLOSE_HELLO_REFUSED] = "hello_refused",
    [BIN_CLOSE_KEEP_ALIVE] = "keep_alive_timeout",
    [BIN_CLOSE_PROTOCOL] = "protocol_error",
    [BIN_CLOSE_TOO_LARGE] = "frame_too_large",
    [BIN_CLOSE_WINDOW] = "window_exceeded",
    [BIN_CLOSE_SLOW_READER] = "slow_reader",
    [BIN_CLOSE_SHUTDOWN] = "server_shutdown",
    [BIN_CLOSE_INTERNAL] = "internal_error",
    [BIN_CLOSE_CREDENTIAL_EXPIRED] = "credential_expired",
};

static size_t slot_of(const uint8_t *codes, size_t n, uint8_t status)
{
    size_t i = 0;
    while (i < n && codes[i] != status)
        i++;
    return i;
}

void bin_count_hello(bin_module *m, uint8_t status)
{
    m->host->metric_add(m->metrics.hellos[slot_of(hello_codes, BIN_HELLO_SLOTS - 1, status)], 1);
}

void bin_count_ack(bin_module *m, uint8_t status)
{
    bin_count_ack_n(m, status, 1);
}

void bin_count_ack_n(bin_module *m, uint8_t status, int64_t n)
{
    m->host->metric_add(m->metrics.acks[slot_of(ack_codes, BIN_ACK_SLOTS - 1, status)], n);
}

void bin_count_frame(bin_module *m, uint8_t type)
{
    if (type >= BIN_HELLO && type <= BIN_BYE)
        m->host->metric_add(m->metrics.frames[type - BIN_HELLO], 1);
}

static void create_metrics(bin_module *m)
{
    const inlet_host *h = m->host;
    bin_metrics *mt = &m->metrics;
    char labels[64];

    mt->connections =
        h->metric_gauge_for(m->mod, "inlet_binary_connections", "Open binary sockets.", NULL);
    mt->connections_total = h->metric_counter_for(m->mod, "inlet_binary_connections_total",
                                                  "Accepted binary sockets.", NULL);
    mt->refused_listener = h->metric_counter_for(
        m->mod, "inlet_binary_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"listener_full\"");
    mt->refused_address = h->metric_counter_for(
        m->mod, "inlet_binary_connections_refused_total",
        "Sockets closed at accept because a limit was reached.", "reason=\"address_full\"");
    for (size_t i = 0; i < BIN_HELLO_SLOTS; i++) {
        snprintf(labels, sizeof(labels), "result=\"%s\"",
                 i < BIN_HELLO_SLOTS - 1 ? bin_status_name(hello_codes[i]) : "other");
        mt->hellos[i] = h->metric_counter_for(m->mod, "inlet_binary_hellos_total",
                                              "HELLO frames answered, by result.", labels);
    }
    for (size_t i = 0; i < BIN_FRAME_TYPES; i++) {
        snprintf(labels, sizeof(labels), "type=\"%s\"", frame_names[i]);
        mt->frames[i] = h->metric_counter_for(m->mod, "inlet_binary_frames_total",
                                              "Client frames read, by type.", labels);
    }
    for (size_t i = 0; i < BIN_ACK_SLOTS; i++) {
        snprintf(labels, sizeof(labels), "status=\"%s\"",
                 i < BIN_ACK_SLOTS - 1 ? bin_status_name(ack_codes[i]) : "other");
        mt->acks[i] = h->metric_counter_for(m->mod, "inlet_binary_acks_total",
                                            "ACK frames sent, by status.", labels);
    }
    for (size_t i = 0; i < BIN_CLOSE_REASONS; i++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"", close_names[i]);
        mt->closes[i] = h->metric_counter_for(m->mod, "inlet_binary_closes_total",
                                              "Binary connections ended, by reason.", labels);
    }
    mt->inflight = h->metric_gauge_for(m->mod, "inlet_binary_frames_in_flight",
                                       "DATA frames waiting for Kafka acknowledgement.", NULL);
    mt->paused = h->metric_counter_for(
        m->mod, "inlet_binary_read_pauses_total",
        "Times a connection stopped being read because max_inflight_per_thread was reached.", NULL);
}

/* ---- lifecycle ---- */

static void bin_destroy(void *state);

static int bin_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                      void **state, char *err, size_t err_len)
{
    const bin_config *cfg = config;
    bin_module *m = NULL;

    *state = NULL;
    if ((m = inlet_support_module_new(host, mod, sizeof(*m), err, err_len)) == NULL)
        return -1;
    m->host = host;
    m->mod = mod;
    m->cfg = cfg;
    m->hello_timeout_s = (uint32_t)((cfg->hello_timeout_ms + 999) / 1000);
    m->max_keep_alive_s = (uint32_t)(cfg->max_keep_alive_ms / 1000);
    if (m->max_keep_alive_s > 65535)
        m->max_keep_alive_s = 65535; /* WELCOME carries it in 16 bits */
    if (inlet_support_listeners_new(
            &m->loopset.listeners, &m->loopset.n_listeners, &cfg->listeners,
            INLET_SUPPORT_LISTENER_LAYOUT(bin_listener_config, address, tls), &bin_tls_setup, err,
            err_len) != 0 ||
        inlet_support_listeners_limit(m->loopset.listeners, m->loopset.n_listeners,
                                      offsetof(bin_listener_config, limits), err, err_len) != 0)
        goto fail;
    inlet_support_loopset_report_cert_expiry(&m->loopset);
    create_metrics(m);
    *state = m;
    return 0;

fail:
    bin_destroy(m);
    return -1;
}

/* Every connection is a descriptor: take the hard limit if the soft one is lower. */
static void raise_fd_limit(bin_module *m)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        BIN_LOG(m, INLET_LOG_WARN, "cannot raise the descriptor limit: %s", strerror(errno));
}

static int bin_start(void *state, char *err, size_t err_len)
{
    bin_module *m = state;
    raise_fd_limit(m);
    return inlet_support_loopset_start(&m->loopset, (size_t)m->cfg->threads, &bin_loop_spec, m, err,
                                       err_len);
}

static void bin_destroy(void *state)
{
    bin_module *m = state;
    if (m == NULL)
        return;
    inlet_support_loopset_free(&m->loopset); /* joins the loops if the core skipped stop() */
    free(m);
}

static const inlet_module_desc bin_module_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "binary",
    .version = BIN_MODULE_VERSION,
    .description = "Inlet binary protocol over TCP/TLS: length-prefixed frames, a window of "
                   "unacknowledged data frames, each acknowledged in order once Kafka has it",
    .options = bin_options,
    .config_size = sizeof(bin_config),
    .create = bin_create,
    .start = bin_start,
    .stop_accepting = inlet_support_module_stop_accepting,
    .stop = inlet_support_module_stop,
    .destroy = bin_destroy,
};

INLET_MODULE_DEFINE(bin_module_desc)
