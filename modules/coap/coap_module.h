/*
 * coap_module.h - the CoAP module's state, shared by its files:
 *   module.c    descriptor, option table, metrics, lifecycle
 *   loop.c      the loop threads: one libcoap context each, epoll, completions, timers
 *   dtls.c      DTLS-PSK and PKI set-up and the sessions' identities
 *   request.c   a request: dedup, routing, authentication, Block1, submission
 *   respond.c   building answers: codes, options, diagnostics, piggybacked or separate
 *   route.c, exchange.c, block1.c   the pure parts (paths, dedup keys, Block1 bookkeeping)
 */
#ifndef INLET_COAP_MODULE_H
#define INLET_COAP_MODULE_H

#include <stdbool.h>
#include <stdint.h>

#include <coap3/coap.h>

#include "../support/support.h"
#include "block1.h"
#include "exchange.h"
#include "route.h"

#define COAP_LOG(m, lvl, ...) (m)->host->log((m)->mod, (lvl), __VA_ARGS__)

/* CoAP response codes (RFC 7252 §12.1.2) as class << 5 | detail. */
#define COAP_CODE(c, d) ((uint8_t)((c) << 5 | (d)))

enum { COAP_SECURITY_NONE = 0, COAP_SECURITY_DTLS = 1 };

typedef struct coap_listener_config {
    char *address;
    int security;     /* COAP_SECURITY_* */
    bool psk;         /* DTLS: accept PSK identities <device>@<tenant> */
    char *cert;       /* DTLS: PEM chain for certificate (PKI) handshakes */
    char *key;        /* ... its key */
    int client_auth;  /* enum inlet_support_client_auth: ask for client certificates */
    bool allow_token; /* plain UDP: a bearer token in Uri-Query t=... authenticates */
} coap_listener_config;

typedef struct coap_config {
    int64_t threads;
    uint64_t max_body_size;
    int64_t max_events;
    int64_t ack_timeout_ms;
    int64_t max_inflight_per_thread;
    int64_t dedup_entries;
    int64_t exchange_lifetime_ms;
    int64_t max_block_transfers;
    int64_t block_timeout_ms;
    int64_t max_sessions;
    int64_t session_idle_ms;
    int64_t shutdown_timeout_ms;
    char *ingest_path;
    char *payload_path;
    inlet_section_list routes;    /* coap_route_config, tried before the two paths above */
    inlet_section_list listeners; /* coap_listener_config */
} coap_config;

/* Metric slots of requests_total{method, code}. */
#define COAP_METHODS 3 /* GET, POST, other */
#define COAP_CODES   16
extern const uint8_t coap_code_slots[COAP_CODES - 1];

typedef struct coap_metrics {
    inlet_metric *requests[COAP_METHODS][COAP_CODES];
    inlet_metric *in_flight;
    inlet_metric *retransmissions; /* duplicates answered from the exchange cache */
    inlet_metric *handshakes_ok, *handshakes_failed;
    inlet_metric *events; /* submissions accepted by the core */
} coap_metrics;

typedef struct coap_listener {
    size_t index;
    const coap_listener_config *cfg;
    char name[80];
    coap_address_t addr;
} coap_listener;

typedef struct coap_module {
    inlet_support_loopset loopset; /* first: inlet_support_module_stop() finds it */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const coap_config *cfg;
    coap_listener *listeners;
    size_t n_listeners;
    coap_route_table routes;
    coap_metrics metrics;
    uint64_t seed;
} coap_module;

/* A submission waiting for Kafka: inlet_request.opaque. */
typedef struct coap_pending {
    void *free_link; /* first: the support pending cache links idle records through it */
    struct coap_pending *prev, *next; /* the loop's ack-timer list while !empty_acked */
    coap_session_t *session;          /* one reference held */
    coap_exchange_key key;
    uint16_t mid;
    uint8_t token[8];
    uint8_t token_len;
    bool con;
    bool empty_acked;
    bool timed;
    int32_t block1; /* Block1 value of the last block, repeated in the answer; -1 = none */
    int method_slot;
    uint64_t deadline_ms;
} coap_pending;

typedef struct coap_loop {
    inlet_support_loop base; /* first */
    coap_module *m;
    coap_context_t *ctx;
    int epfd;
    coap_exchange_cache exchanges;
    coap_block1_table blocks;
    coap_pending *timer_head, *timer_tail; /* by deadline: all share ack_timeout */
    size_t inflight;
    uint64_t last_expire_ms;
    int coap_fd;          /* libcoap's epoll fd, in epfd */
    uint64_t coap_due_ms; /* when coap_io_prepare_epoll() is next due (loop.c) */
    uint64_t coap_last_ms;
    bool coap_kick; /* a CON or an empty ACK was sent: libcoap's timers changed */
} coap_loop;

/* Per DTLS session: who the handshake authenticated. coap_session app data; dtls.c. */
typedef struct coap_peer {
    inlet_identity *identity; /* PSK or certificate; NULL until one authenticated */
    char psk_identity[257];   /* the PSK identity, re-resolved per request after reloads */
    uint8_t psk[64];
    coap_bin_const_t psk_bin; /* what the PSK callback returned (points into psk) */
    bool cert_tried;
    bool expired; /* the certificate's notAfter passed: the identity was released */
    inlet_status cert_status;
    const inlet_identity *counted; /* connection_open() admitted the session (one reference) */
    char quota_why[160];           /* why it did not */
} coap_peer;

extern const inlet_support_loop_spec coap_loop_spec;

/* dtls.c */
int coap_dtls_setup(coap_loop *l, const coap_listener *ls, char *err, size_t err_len);
int coap_dtls_event(coap_session_t *session, coap_event_t event);
/* The identity of a DTLS session (a new reference), or NULL with st / why. */
inlet_identity *coap_dtls_identity(coap_loop *l, coap_session_t *session, inlet_status *st,
                                   const char **why);

/* dtls_expiry.c: true when the session's certificate identity has expired (notAfter, via
 * host->identity_expires_at); the identity is then released and every later request of the
 * session is refused 4.01 until the device handshakes again. */
bool coap_dtls_cert_expired(coap_loop *l, coap_peer *p);

/* request.c */
void coap_request_handler(coap_resource_t *resource, coap_session_t *session,
                          const coap_pdu_t *request, const coap_string_t *query,
                          coap_pdu_t *response);
void coap_request_on_completion(void *ctx, const inlet_completion *c);

/* respond.c */
typedef struct coap_answer {
    uint8_t code;
    uint32_t max_age;   /* 0 = none */
    uint32_t size1;     /* 0 = none */
    int32_t block1;     /* -1 = none */
    int content_format; /* -1 = none */
    const char *payload;
    size_t payload_len;
} coap_answer;

void coap_answer_init(coap_answer *a, uint8_t code);
/* The answer to a refused submission or a failed completion (the diagnostic in diag). */
void coap_answer_for_status(coap_module *m, coap_answer *a, inlet_status st,
                            const inlet_rejection *rej, char *diag, size_t diag_len);
/* Fill libcoap's response PDU, or a PDU of our own. */
void coap_answer_fill(coap_pdu_t *pdu, const coap_answer *a);
/* Keep a in the exchange, to answer its retransmissions alike. */
void coap_answer_remember(coap_exchange *e, const coap_answer *a);
void coap_answer_from_exchange(coap_answer *a, const coap_exchange *e);
/* Send an empty ACK for mid, or a response to p as ACK (piggybacked) / CON / NON. */
void coap_send_empty_ack(coap_session_t *session, uint16_t mid);
void coap_send_answer(coap_session_t *session, int type, uint16_t mid, const uint8_t *token,
                      size_t token_len, const coap_answer *a);
/* Count a request's answer in requests_total. */
void coap_count(coap_module *m, int method_slot, uint8_t code);
int coap_method_slot(coap_pdu_code_t method);

#endif
