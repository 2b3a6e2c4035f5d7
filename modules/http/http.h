/*
 * http.h - internal declarations shared by the files of the HTTP module. Not part of any ABI.
 *
 * Threading: the module runs `threads` event loops (struct http_loop), each on its own pthread
 * with its own h2o context, listening sockets (SO_REUSEPORT), completion queue and connections.
 * Everything reachable from a loop is touched only by that loop's thread, except the fields
 * marked "any thread". The module object (struct http_module) is read-only once start()
 * returns, apart from its atomics and the start/stop handshake under its mutex.
 */
#ifndef INLET_HTTP_H
#define INLET_HTTP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <h2o.h>
#include <openssl/ssl.h>

#include "../support/support.h"
#include "inlet/module.h"

/* ---- configuration (filled by the core from the option tables in module.c) ---- */

typedef struct http_tls_config {
    inlet_support_tls_config base; /* cert (NULL: plaintext), key, client_auth, min_version */
    bool http2;                    /* offer "h2" by ALPN */
} http_tls_config;

typedef struct http_listener_config {
    char *address; /* "host:port", "[v6]:port", ":port" */
    http_tls_config tls;
    bool proxy_protocol; /* expect a PROXY protocol v1 line before anything else */
    inlet_support_conn_limits_config limits; /* max_connections, max_connections_per_ip */
    bool ingest;                             /* serve the ingest endpoint */
    bool health;                             /* serve /healthz and /readyz */
    bool metrics;                            /* serve /metrics */
    bool admin; /* the admin listener: also the core's admin resources (not an option) */
} http_listener_config;

typedef struct http_config {
    int64_t threads;
    uint64_t max_body_size;
    uint64_t max_receiving_bytes; /* all request bodies being received, over every connection */
    int64_t max_events;
    int64_t idle_timeout_ms;
    int64_t handshake_timeout_ms;
    int64_t shutdown_timeout_ms;
    int64_t http2_max_concurrent_requests;
    int64_t http2_max_concurrent_streams;
    int64_t http2_max_requests_per_second;
    int64_t http2_max_resets_per_second;
    bool http2_cleartext;
    char *ingest_path;
    char *healthz_path;
    char *readyz_path;
    char *metrics_path;
    char *admin_address;          /* the admin listener ("": none) */
    inlet_section_list listeners; /* of http_listener_config */
} http_config;

/* ---- runtime objects ---- */

typedef struct http_module http_module;
typedef struct http_loop http_loop;

/* One configured listener (support.h); its cfg is an http_listener_config. */
typedef inlet_support_listener http_listener;

static inline const http_listener_config *http_listener_cfg(const http_listener *l)
{
    return l->cfg;
}

/* A listener's socket on one loop. */
typedef struct http_loop_listener {
    inlet_support_loop_listener base; /* first: loop, listener, fd (until sock takes it) */
    h2o_socket_t *sock;
    h2o_accept_ctx_t accept_ctx;
} http_loop_listener;

/* Per accepted connection; found from a request through its socket's on_close hook. */
typedef enum http_cert_state {
    HTTP_CERT_UNCHECKED = 0,
    HTTP_CERT_NONE,     /* plaintext, or TLS without a client certificate */
    HTTP_CERT_ACCEPTED, /* identity holds the device */
    HTTP_CERT_REJECTED, /* a certificate no tenant CA verifies: every request gets 401 */
} http_cert_state;

struct st_h2o_http2_conn_t;
typedef ssize_t (*http_h2_expect_fn)(struct st_h2o_http2_conn_t *conn, const uint8_t *src,
                                     size_t len, const char **err_desc);

/* Streams whose body was cut at max_body_size and whose further DATA is discarded. */
#define HTTP_H2_CUT_STREAMS 8

/* What h2guard.c keeps for an HTTP/2 connection. */
typedef struct http_h2_guard {
    http_h2_expect_fn inner; /* h2o's frame reader, called after the checks */
    uint64_t window_start_ms;
    uint32_t opened, resets; /* in the current one-second window */
    uint32_t cut[HTTP_H2_CUT_STREAMS];
    uint32_t next_cut;
    uint32_t over_budget[HTTP_H2_CUT_STREAMS]; /* cut streams to answer 503, not 413 */
    uint32_t next_over_budget;
    size_t charged; /* bytes of the bodies its streams are receiving, as last counted */
} http_h2_guard;

typedef struct http_busy_mark http_busy_mark;

typedef struct http_conn {
    h2o_linklist_t link; /* in loop->conns */
    http_loop *loop;
    const http_listener *listener;
    h2o_socket_t *sock;
    http_cert_state cert_state;
    inlet_identity *cert_identity;    /* owned reference while cert_state == ACCEPTED */
    inlet_support_conn_ticket ticket; /* the listener's connection count, released at close */
    http_h2_guard h2;                 /* HTTP/2 only */
    http_busy_mark *busy;             /* HTTP/1: the request being handled (in its pool), if any */
    bool refused;                     /* answered 503 over the body budget; closing */
} http_conn;

/*
 * A request waiting for its completion. Two references: the request's (dropped when h2o
 * disposes the request, possibly long before the completion if the client goes away) and the
 * core's (dropped when the completion arrives). req != NULL means "still owed an answer".
 */
typedef struct http_pending {
    h2o_linklist_t link; /* in loop->waiting while req != NULL */
    h2o_req_t *req;
    unsigned refs;
    const inlet_identity *counted; /* one reference: connection_close() at the completion */
} http_pending;

/* h2o's body limit is max_body_size plus this (module.c, h2guard.c). */
#define HTTP_BODY_SLACK (64 * 1024)

/* Idle pending objects kept per loop. */
#define HTTP_PENDING_CACHE 1024

struct http_loop {
    inlet_support_loop base; /* first: index, thread, listening sockets, queue, commands */
    http_module *m;

    h2o_evloop_t *evloop;
    h2o_context_t ctx;
    bool ctx_ready;

    h2o_socket_t *queue_sock;   /* watches a dup() of the queue's eventfd */
    h2o_socket_t *control_sock; /* owns base.control_fd once made */

    h2o_linklist_t conns;   /* http_conn */
    h2o_linklist_t waiting; /* http_pending with req != NULL */

    /* budget.c: bytes of request bodies being received on this loop, as of its last sweep
     * (written by the loop, read by every loop) */
    atomic_size_t receiving;
    uint64_t last_sweep_ms;
};

enum { HTTP_STATUS_SLOTS = 16 }; /* per-code request counters, see http_metric_slot() */

typedef struct http_metrics {
    inlet_metric *requests[HTTP_STATUS_SLOTS];
    inlet_metric *connections;        /* gauge: open connections */
    inlet_metric *connections_total;  /* counter: accepted connections */
    inlet_metric *refused_listener;   /* counter: closed at accept, listener full */
    inlet_metric *refused_address;    /* counter: closed at accept, source address full */
    inlet_metric *in_flight;          /* gauge: requests waiting for Kafka */
    inlet_metric *h2_refused_streams; /* counter: streams over http2_max_concurrent_streams */
    inlet_metric *h2_calm_requests;   /* counter: GOAWAY(ENHANCE_YOUR_CALM), request flood */
    inlet_metric *h2_calm_resets;     /* counter: GOAWAY(ENHANCE_YOUR_CALM), rapid reset */
    inlet_metric *refused_budget;     /* counter: requests refused with 503 over the budget */
    inlet_metric *receiving_bytes;    /* gauge: bytes of bodies being received, all loops */
} http_metrics;

typedef struct http_handler {
    h2o_handler_t super;
    http_module *m;
} http_handler;

typedef struct http_logger {
    h2o_logger_t super;
    http_module *m;
} http_logger;

struct http_module {
    inlet_support_loopset loopset; /* first (the descriptor's stop functions find it): loops */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const http_config *cfg;
    /* cfg->listeners plus the admin listener: what the listeners' cfg pointers point into */
    inlet_section_list listener_items;

    h2o_globalconf_t globalconf;
    bool globalconf_ready;
    h2o_hostconf_t *hostconf;

    http_metrics metrics; /* readiness turns false with loopset.draining */
};

/* module.c */
#define HTTP_LOG(m, level, ...) (m)->host->log((m)->mod, (level), __VA_ARGS__)

/* tls.c */
/* How listeners' server contexts are made (ALPN as tls.http2 says). */
extern const inlet_support_tls_setup http_tls_setup;
/* Decide once per connection whether a client certificate authenticates it. */
void http_tls_check_client_cert(http_module *m, http_conn *conn);

/* loop.c */
/* How the support library makes and runs the loops (start() gives it the module). */
extern const inlet_support_loop_spec http_loop_spec;

static inline http_loop_listener *http_loop_listener_at(http_loop *loop, size_t i)
{
    return inlet_support_loop_listener_at(&loop->base, i);
}

/* conn.c */
/* Read callback of a listening socket (sock->data is its http_loop_listener). */
void http_conn_on_accept(h2o_socket_t *listen_sock, const char *err);
/* The connection a request arrived on (never NULL for requests on our listeners). */
http_conn *http_conn_of(h2o_req_t *req);
/* The same from the socket (NULL if it is not one of the module's connections). */
http_conn *http_conn_of_socket(h2o_socket_t *sock);
bool http_conns_writing(http_loop *loop);
/* Cut every connection of the loop; h2o closes them on its next iteration. */
void http_conns_shutdown(http_loop *loop);

/* h2o_compat.c */
/* The OpenSSL object of a TLS socket accepted with ctx, or NULL if it cannot be reached. */
SSL *http_h2o_socket_ssl(h2o_socket_t *sock, SSL_CTX *ctx);
void http_h2o_context_dispose(h2o_context_t *ctx);
/* Free h2o's per-thread caches; the last thing a loop thread does. */
void http_h2o_release_thread_caches(void);
/* The raw head (request line and header lines, up to the empty line) of an HTTP/1.x request
 * being handled, or {NULL, 0} if it cannot be found. */
h2o_iovec_t http_h2o_http1_request_head(h2o_req_t *req);

static inline http_loop *http_loop_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(http_loop, ctx, req->conn->ctx);
}

/* h2guard.c */
/* Put the HTTP/2 checks in front of the connections h2o created since the last call. */
void http_h2guard_adopt(http_loop *loop);
/* Was this HTTP/2 request cut at its HEADERS because the body budget was spent (answer 503)? */
bool http_h2guard_over_budget(http_conn *conn, h2o_req_t *req);

/* budget.c */
/* Bytes of request bodies being received over all loops (as of their last sweeps). */
size_t http_budget_total(http_module *m);
/* After each loop iteration: recount this loop's share and, past max_receiving_bytes, refuse
 * HTTP/1.x requests still receiving their body (503 + Retry-After, connection closed). */
void http_budget_sweep(http_loop *loop);
/* route.c, for HTTP/1.x: the connection's request is being handled until its pool goes. */
void http_budget_mark_busy(http_conn *conn, h2o_req_t *req);
/* conn.c, at close. */
void http_budget_conn_closed(http_conn *conn);

/* route.c */
void http_routes_register(http_module *m);

/* framing.c */
/* false (with why) for an HTTP/1.x request whose body framing is ambiguous: Content-Length
 * with Transfer-Encoding, conflicting Content-Lengths, a last coding other than chunked. The
 * caller answers 400 and closes the connection (RFC 9112 section 6.3). */
bool http_framing_valid(h2o_req_t *req, const char **why);

/* ingest.c */
void http_ingest_handle(http_module *m, http_loop *loop, http_conn *conn, h2o_req_t *req);
/* Completion callback for host->queue_drain(); ctx is the loop. */
void http_ingest_on_completion(void *ctx, const inlet_completion *c);
/* At stop(): answer 503 to every request still waiting on this loop. */
void http_ingest_abandon_waiting(http_loop *loop);

/* auth.c */
typedef struct http_auth_result {
    inlet_status status;
    const inlet_identity *identity; /* valid until the handler returns */
    bool owned;                     /* identity is a reference to release */
    bool token_given;               /* an Authorization: Bearer header was present */
    char why[160];                  /* the core's reason for a refused token, for the log */
} http_auth_result;

void http_auth_request(http_module *m, http_conn *conn, h2o_req_t *req, http_auth_result *out);
void http_auth_done(http_module *m, http_auth_result *res);

/* health.c */
void http_health_healthz(http_module *m, h2o_req_t *req);
void http_health_readyz(http_module *m, h2o_req_t *req);
void http_health_metrics(http_module *m, h2o_req_t *req);
/* The core's admin resources (/refusals, /console, ...); false if the core has none there. */
bool http_health_admin(http_module *m, h2o_req_t *req);

/* respond.c */
int http_status_of(inlet_status s);
/* Send body (already in req->pool or static) with the given status and content type. */
void http_send(h2o_req_t *req, int status, const char *content_type, h2o_iovec_t body);
void http_add_retry_after(http_module *m, h2o_req_t *req);
/* problem+json (RFC 9457) without extension members. */
void http_send_problem(http_module *m, h2o_req_t *req, int status, const char *detail);
void http_send_method_not_allowed(http_module *m, h2o_req_t *req, const char *allow);
void http_send_unauthenticated(http_module *m, h2o_req_t *req, bool token_given,
                               const char *detail);
/* A refusal from submit(); rej may be NULL. */
void http_send_rejection(http_module *m, h2o_req_t *req, inlet_status status,
                         const inlet_rejection *rej, bool token_given);
/* The answer owed once Kafka acknowledged (or failed) every event. */
void http_send_completion(http_module *m, h2o_req_t *req, const inlet_completion *c);

/* refusal.c */
/* The request's source as "ip:port" / "[ip6]:port" (the PROXY protocol's if used); "" unknown. */
void http_peer_of(h2o_req_t *req, char *out, size_t cap);
/* Tell the core about a refusal this module decided (host->refusal()); id may be NULL. */
void http_report_refusal(http_module *m, h2o_req_t *req, inlet_status st, const inlet_identity *id,
                         const char *detail);
/* Report and answer problem+json with status (400, 411, 413, 415, 503). */
void http_refuse(http_module *m, h2o_req_t *req, const inlet_identity *id, int status,
                 const char *detail);

/* metrics (route.c) */
void http_metrics_count_status(http_module *m, int status);

#endif
