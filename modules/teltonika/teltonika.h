/*
 * teltonika.h - the Teltonika module's internal declarations: configuration, connections, loops.
 *
 * Files: module.c (descriptor, options, metrics, lifecycle), loop.c (the epoll loop of each
 * thread: accept, completions, idle timeouts), conn.c (one tracker connection: TLS, IMEI
 * handshake, packet framing, submission, acknowledgement), tls.c (TLS handshake, client
 * certificates); the pure parts: codec.c (framing, CRC), avl.c (records), mapping.c (records ->
 * events). docs/TELTONIKA.md is the reference.
 */
#ifndef INLET_TELTONIKA_H
#define INLET_TELTONIKA_H

#include <stdbool.h>
#include <stdint.h>

#include "../support/support.h"
#include "avl.h"
#include "codec.h"
#include "mapping.h"

/* ---- configuration (module.c's option table fills these) ---- */

typedef struct tlt_listener_config {
    char *address;
    inlet_support_tls_config tls;
    inlet_support_conn_limits_config limits; /* max_connections, max_connections_per_ip */
} tlt_listener_config;

typedef struct tlt_tenant_config {
    char *tenant;
    inlet_str_map io_names;
} tlt_tenant_config;

typedef struct tlt_config {
    int64_t threads;
    uint64_t max_packet_size; /* the data length cap, bytes */
    int64_t idle_timeout_ms;
    int64_t handshake_timeout_ms;
    int64_t max_inflight_per_thread;
    int64_t shutdown_timeout_ms;
    inlet_str_map io_names;     /* every tenant */
    inlet_section_list tenants; /* tlt_tenant_config: per-tenant io_names over io_names */
    inlet_section_list listeners;
} tlt_config;

typedef struct tlt_module tlt_module;
typedef struct tlt_loop tlt_loop;
typedef struct tlt_conn tlt_conn;

/* What epoll's data.ptr points at. */
enum tlt_poll_kind { TLT_POLL_CONN = 1, TLT_POLL_LISTENER, TLT_POLL_QUEUE, TLT_POLL_CONTROL };
typedef struct tlt_poll {
    int kind;
} tlt_poll;

typedef struct tlt_loop_listener {
    inlet_support_loop_listener base; /* first */
    tlt_poll poll;
} tlt_loop_listener;

/* ---- connections (conn.c) ---- */

enum tlt_conn_state {
    TLT_TLS_HANDSHAKE = 1,
    TLT_AWAIT_IMEI, /* nothing but the IMEI message is accepted */
    TLT_READY,      /* AVL packets */
    TLT_CLOSING,    /* the last answer is being written; then closed */
    TLT_CLOSED,     /* socket closed; freed once no submission refers to it */
};

/* Why a connection ended; one counter each. */
enum tlt_close_reason {
    TLT_CLOSE_EOF = 0, /* the tracker closed */
    TLT_CLOSE_IO_ERROR,
    TLT_CLOSE_TLS_ERROR,
    TLT_CLOSE_UNKNOWN_IMEI, /* answered 00 */
    TLT_CLOSE_BAD_IMEI,     /* not an IMEI message */
    TLT_CLOSE_FRAMING,      /* bad preamble or a length past the cap: answered 0, closed */
    TLT_CLOSE_TIMEOUT,      /* handshake or idle timeout */
    TLT_CLOSE_SHUTDOWN,
    TLT_CLOSE_INTERNAL,
    TLT_CLOSE_QUOTA,              /* the tenant's or device's connection quota: answered 00 */
    TLT_CLOSE_CREDENTIAL_EXPIRED, /* the client certificate's notAfter passed */
    TLT_CLOSE_REASONS
};

struct tlt_conn {
    tlt_poll poll;
    uint8_t state;        /* enum tlt_conn_state */
    uint8_t close_reason; /* enum tlt_close_reason */
    bool want_read;       /* input may be waiting in the socket */
    bool peer_closed;     /* RDHUP/HUP seen */
    bool in_flight;       /* a packet waits for Kafka: input is not processed */
    bool read_wants_write;
    bool queued; /* linked in loop->ready or loop->stalled through queue_next */
    int fd;
    char peer[64]; /* "ip:port" of the tracker, for inlet_request.peer and host->refusal() */
    tlt_conn *prev, *next; /* loop->conns, or loop->closed once closed */
    tlt_conn *queue_next;
    tlt_loop *loop;
    const inlet_support_listener *listener;
    inlet_support_conn_ticket ticket; /* the listener's limits; released when the socket closes */
    SSL *ssl;
    const inlet_identity *identity; /* owned reference once the IMEI was accepted */
    bool quota_counted;             /* host->connection_open() admitted it: close once */
    const tlt_io_names *names;      /* the tenant's IO names (module-owned), or NULL */
    char imei[TLT_IMEI_DIGITS + 1];
    uint64_t last_active_ms; /* monotonic; for CLOSING: when the close began */
    uint64_t packet_at_us;   /* when the packet in flight arrived (latency metric) */
    uint8_t *in;             /* input not processed yet; in_cap = max packet */
    size_t in_len, in_cap;
    uint8_t out[8]; /* an answer not yet written: 1 or 4 bytes */
    size_t out_off, out_len;
};

/* A submission awaiting Kafka (inlet_request.opaque): the connection and what to answer. */
typedef struct tlt_pending {
    tlt_conn *conn; /* stays allocated while this exists (in_flight) */
    uint32_t count;
} tlt_pending;

/* fd was admitted by the listener's limits with ticket, which the connection now owns (also
 * when it cannot be set up: then it is released and fd closed). */
void tlt_conn_accept(tlt_loop *loop, const inlet_support_listener *l, int fd,
                     const inlet_support_conn_ticket *ticket);
void tlt_conn_on_event(tlt_conn *c, uint32_t events);
/* Close now (socket closed; the struct waits for its completion if one is in flight). */
void tlt_conn_abort(tlt_conn *c, enum tlt_close_reason why);
/* Completion callback for host->queue_drain(); ctx is the loop. */
void tlt_conn_on_completion(void *ctx, const inlet_completion *comp);
/* The idle and handshake timeouts (once a second). */
void tlt_conn_check_timeout(tlt_conn *c, uint64_t now_ms);

/* ---- tls.c ---- */
extern const inlet_support_tls_setup tlt_tls_setup;
/* 1 done, 0 in progress, -1 failed. */
int tlt_tls_handshake(tlt_conn *c);
/* INLET_OK with *out NULL: no certificate to consider; with *out: the certificate's device;
 * INLET_E_UNAUTHENTICATED: a certificate no tenant accepts. */
inlet_status tlt_tls_client_identity(tlt_conn *c, inlet_identity **out);

/* ---- loops (loop.c) ---- */

struct tlt_loop {
    inlet_support_loop base; /* first */
    tlt_module *m;
    int epfd;
    tlt_poll queue_poll, control_poll;
    inlet_support_acceptor acceptor;
    bool draining;
    tlt_conn *conns;              /* open connections */
    tlt_conn *closed;             /* closed, freed after the iteration once nothing is in flight */
    tlt_conn *ready, *ready_tail; /* to read again this turn (budget used up, or woken) */
    tlt_conn *stalled;            /* waiting for loop-wide in-flight room */
    size_t n_conns;
    size_t inflight;
    uint64_t last_tick_ms;
    tlt_record *records; /* 255 entries: a packet's decoded records */
    tlt_buf json;        /* the batch being submitted */
};

extern const inlet_support_loop_spec tlt_loop_spec;
bool tlt_loop_saturated(const tlt_loop *loop);
/* Read c again in this turn (after the events). */
void tlt_loop_ready(tlt_loop *loop, tlt_conn *c);
/* Park c until completions make room. */
void tlt_loop_stall(tlt_loop *loop, tlt_conn *c);
/* conn.c: read and process what c has waiting. */
void tlt_conn_read(tlt_conn *c);
/* conn.c: free a closed connection (loop teardown, or nothing is in flight any more). */
void tlt_conn_free(tlt_conn *c);

/* ---- the module (module.c) ---- */

typedef struct tlt_metrics {
    inlet_metric *connections;
    inlet_metric *refused_listener, *refused_address; /* closed at accept: a limit was reached */
    inlet_metric *handshakes_accepted, *handshakes_refused;
    inlet_metric *packets_acked, *packets_refused;
    inlet_metric *records;
    inlet_metric *inflight;
    inlet_metric *disconnects[TLT_CLOSE_REASONS];
} tlt_metrics;

typedef struct tlt_tenant_names {
    const char *tenant; /* borrowed from the configuration */
    tlt_io_names names;
} tlt_tenant_names;

struct tlt_module {
    inlet_support_loopset loopset; /* first */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const tlt_config *cfg;
    tlt_io_names names; /* io_names, every tenant */
    tlt_tenant_names *tenant_names;
    size_t n_tenant_names;
    tlt_metrics metrics;
};

#define TLT_LOG(m, level, ...) (m)->host->log((m)->mod, (level), __VA_ARGS__)
/* The IO names that apply to a tenant's devices (NULL: none). */
const tlt_io_names *tlt_module_names_for(const tlt_module *m, const char *tenant);

#endif
