/*
 * binary.h - internal declarations shared by the files of the binary protocol module. Not an
 * ABI. The protocol is docs/BINARY.md; the wire format is codec.h.
 *
 * Threading: `threads` event loops (struct bin_loop), each on its own pthread with its own
 * epoll instance, SO_REUSEPORT listening sockets (the support library's loops.c), completion
 * queue and connections. Everything reachable from a loop is touched only by its thread.
 *
 * Files: module.c (descriptor, options, metrics, lifecycle), loop.c (the epoll loop, accept,
 * timers, stop), conn.c (socket and TLS I/O, framing, output, closing), hello.c (HELLO,
 * authentication, WELCOME), data.c (DATA onto inlet_request, completions, ordered ACKs).
 */
#ifndef INLET_BINARY_H
#define INLET_BINARY_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "../support/support.h"
#include "codec.h"
#include "inlet/module.h"

/* ---- configuration (filled by the core from the option tables in module.c) ---- */

typedef struct bin_listener_config {
    char *address;
    inlet_support_tls_config tls;            /* cert NULL: plaintext */
    inlet_support_conn_limits_config limits; /* max_connections, max_connections_per_ip */
} bin_listener_config;

typedef struct bin_config {
    int64_t threads;
    int64_t window;
    uint64_t max_frame_size;
    int64_t max_inflight_per_thread;
    int64_t hello_timeout_ms;
    int64_t max_keep_alive_ms;
    uint64_t max_output_buffer;
    int64_t shutdown_timeout_ms;
    inlet_section_list listeners; /* of bin_listener_config */
} bin_config;

/* ---- intrusive list; an unlinked node points at itself ---- */

typedef struct bin_list {
    struct bin_list *prev, *next;
} bin_list;

static inline void bin_list_init(bin_list *l)
{
    l->prev = l->next = l;
}
static inline bool bin_list_empty(const bin_list *l)
{
    return l->next == l;
}
static inline bool bin_list_linked(const bin_list *n)
{
    return n->next != n;
}
static inline void bin_list_unlink(bin_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
static inline void bin_list_push(bin_list *anchor, bin_list *n)
{
    n->prev = anchor->prev;
    n->next = anchor;
    anchor->prev->next = n;
    anchor->prev = n;
}
#define BIN_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct bin_loop bin_loop;
typedef struct bin_module bin_module;
typedef struct bin_conn bin_conn;

/* What epoll's data.ptr points at: the first member of every watched object. */
enum bin_poll_kind { BIN_POLL_CONN = 1, BIN_POLL_LISTENER, BIN_POLL_CONTROL, BIN_POLL_QUEUE };
typedef struct bin_poll {
    uint8_t kind;
} bin_poll;

typedef struct bin_loop_listener {
    inlet_support_loop_listener base; /* first: loop, listener, fd */
    bin_poll poll;
} bin_loop_listener;

/* ---- connections ---- */

enum bin_conn_state {
    BIN_CONN_TLS_HANDSHAKE = 1,
    BIN_CONN_AWAIT_HELLO,
    BIN_CONN_OPEN,
    BIN_CONN_CLOSING, /* final frame queued; input is read and dropped until EOF or linger */
    BIN_CONN_CLOSED,  /* off the loop; freed once no submission refers to it */
};

/* Why a connection ended; one counter each. */
enum bin_close_reason {
    BIN_CLOSE_BYE = 0,
    BIN_CLOSE_EOF,
    BIN_CLOSE_IO_ERROR,
    BIN_CLOSE_TLS_ERROR,
    BIN_CLOSE_HELLO_TIMEOUT,
    BIN_CLOSE_HELLO_REFUSED,
    BIN_CLOSE_KEEP_ALIVE,
    BIN_CLOSE_PROTOCOL, /* malformed frame, unknown type, data before HELLO */
    BIN_CLOSE_TOO_LARGE,
    BIN_CLOSE_WINDOW,
    BIN_CLOSE_SLOW_READER,
    BIN_CLOSE_SHUTDOWN,
    BIN_CLOSE_INTERNAL,
    BIN_CLOSE_CREDENTIAL_EXPIRED,
    BIN_CLOSE_REASONS
};

/* One DATA frame waiting for its ACK, in arrival order. */
typedef struct bin_slot {
    uint16_t seq;
    bool done; /* the answer is known: status, flags, retry_after, reason */
    uint8_t status;
    uint8_t flags;
    uint16_t retry_after;
    char *reason; /* owned; NULL for none */
} bin_slot;

struct bin_conn {
    bin_poll poll;
    uint8_t state; /* enum bin_conn_state */
    uint8_t close_reason;
    bool want_read;        /* input may be waiting in the socket */
    bool want_write;       /* the socket was full: wait for EPOLLOUT */
    bool read_wants_write; /* TLS: SSL_read needs the socket writable */
    bool peer_closed;      /* epoll saw RDHUP/HUP/ERR */
    bool eof;
    bool in_ready;   /* linked in loop->ready or loop->stalled */
    bool in_flush;   /* linked in loop->flush */
    bool bye;        /* BYE read: no more input; CLOSE 0x00 once every ACK is out */
    bool has_schema; /* a DATA frame named schema/version */
    int fd;
    char peer[64]; /* "ip:port" of the device, for inlet_request.peer and host->refusal() */
    uint32_t refs; /* the loop's (until closed) + one per submission awaiting Kafka */

    bin_list link;       /* loop->conns while open or closing; then loop->zombies or ->dead */
    bin_list ready_link; /* loop->ready / loop->stalled */
    bin_list flush_link; /* loop->flush */

    bin_loop *loop;
    const inlet_support_listener *listener;
    inlet_support_conn_ticket ticket; /* the listener's limits; released when the socket closes */
    SSL *ssl;
    const inlet_identity *identity; /* owned reference once authenticated */
    bool quota_counted;             /* host->connection_open() admitted it: close once */

    uint32_t since_s;      /* loop seconds: accepted (before HELLO), else the last frame */
    uint32_t keep_alive_s; /* idle limit enforced (1.5 x keep alive) */
    uint32_t linger_s;     /* CLOSING: abort at this time */
    int64_t expires_at_us; /* the credential's end, wall clock; 0: none (credential.c) */

    bin_slot *slots; /* ring of `window` slots, allocated at WELCOME */
    uint32_t head, count;
    uint32_t inflight; /* of count: submitted, Kafka has not answered */

    char schema[BIN_MAX_SCHEMA + 1]; /* of the previous DATA frame */
    char version[8];

    uint8_t *in; /* unprocessed input: an incomplete frame, or what a pause left */
    uint32_t in_len, in_cap;
    uint8_t *out; /* output not yet written */
    uint32_t out_off, out_len, out_cap;
};

/* A submission in flight (inlet_request.opaque). */
typedef struct bin_pending {
    bin_list link;  /* loop->pending: freed at teardown if Kafka never answers */
    bin_conn *conn; /* holds a reference */
    uint32_t slot;  /* index in conn->slots */
} bin_pending;

struct bin_loop {
    inlet_support_loop base; /* first: index, thread, listening sockets, queue, commands */
    bin_module *m;
    int epfd;
    bin_poll queue_poll;
    bin_poll control_poll;
    bool draining;
    inlet_support_acceptor acceptor;
    uint32_t now_s;
    uint32_t swept_s; /* timers were last checked in this second */

    bin_list conns;   /* open and closing connections */
    bin_list ready;   /* connections to read from in this iteration */
    bin_list stalled; /* waiting for loop-wide in-flight room */
    bin_list flush;   /* connections with output to write */
    bin_list zombies; /* closed, waiting for their submissions' completions */
    bin_list pending; /* bin_pending records awaiting completion */
    bin_list dead;    /* closed and unreferenced: freed at the end of the iteration, since an
                         event of this iteration may still point at one */
    size_t n_conns;
    size_t inflight; /* submissions awaiting completion (all connections) */
    /* the hot counters, added to the shared metrics once per iteration (bin_loop_publish) */
    int64_t n_data, n_acks_ok;
    size_t inflight_published;

    uint8_t *rbuf;     /* shared read buffer, BIN_READ_CHUNK bytes */
    void *out_free;    /* idle output buffers of BIN_OUT_BUF bytes, linked through their start */
    size_t n_out_free; /* ... how many (at most BIN_OUT_CACHE) */
    char ct[64];       /* content type of the frame being submitted */
    char eid[BIN_MAX_EVENT_ID + 1];
};

enum { BIN_HELLO_SLOTS = 7, BIN_ACK_SLOTS = 9, BIN_FRAME_TYPES = 4 };

typedef struct bin_metrics {
    inlet_metric *connections;
    inlet_metric *connections_total;
    inlet_metric *refused_listener, *refused_address; /* closed at accept: a limit was reached */
    inlet_metric *hellos[BIN_HELLO_SLOTS];
    inlet_metric *frames[BIN_FRAME_TYPES];
    inlet_metric *acks[BIN_ACK_SLOTS];
    inlet_metric *closes[BIN_CLOSE_REASONS];
    inlet_metric *inflight;
    inlet_metric *paused;
} bin_metrics;

struct bin_module {
    inlet_support_loopset loopset; /* first: the descriptor's stop functions find it */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const bin_config *cfg;
    uint32_t hello_timeout_s;
    uint32_t max_keep_alive_s;
    bin_metrics metrics;
};

#define BIN_READ_CHUNK     65536u
#define BIN_READ_BUDGET    (4u * BIN_READ_CHUNK) /* per connection per turn: fairness */
#define BIN_OUT_BUF        1024u /* a connection's output buffer, recycled by its loop */
#define BIN_OUT_CACHE      1024u
#define BIN_LINGER_S       2u
#define BIN_PENDING_CACHE  4096u
#define BIN_LISTEN_BACKLOG 4096

#define BIN_LOG(m, level, ...) (m)->host->log((m)->mod, (level), __VA_ARGS__)

/* module.c */
void bin_count_hello(bin_module *m, uint8_t status);
void bin_count_ack(bin_module *m, uint8_t status);
void bin_count_ack_n(bin_module *m, uint8_t status, int64_t n);
void bin_count_frame(bin_module *m, uint8_t type);

/* loop.c */
extern const inlet_support_loop_spec bin_loop_spec;
bool bin_loop_saturated(const bin_loop *loop);
/* Add the loop's hot counters (DATA frames, ACKs 0x00, frames in flight) to the metrics. */
void bin_loop_publish(bin_loop *loop);

/* tls.c */
extern const inlet_support_tls_setup bin_tls_setup;
/* 1 done, 0 in progress, -1 failed. */
int bin_tls_handshake(bin_conn *c);
/* INLET_OK with *out, or *out NULL when there is no certificate to consider;
 * INLET_E_UNAUTHENTICATED when one was presented but no tenant accepts it. */
inlet_status bin_tls_client_identity(bin_module *m, bin_conn *c, inlet_identity **out);

/* conn.c */
enum {
    IO_AGAIN = INLET_SUPPORT_IO_AGAIN,
    IO_ERROR = INLET_SUPPORT_IO_ERROR,
    IO_AGAIN_READ = INLET_SUPPORT_IO_AGAIN_READ
};
/* fd was admitted by the listener's limits with ticket, which the connection now owns (also
 * when it cannot be set up: then it is released and fd closed). */
void bin_conn_accept(bin_loop *loop, const inlet_support_listener *l, int fd,
                     const inlet_support_conn_ticket *ticket);
void bin_conn_on_event(bin_conn *c, uint32_t events);
void bin_conn_read(bin_conn *c);
/* Queue bytes for the client (written at the end of the iteration); false if the connection
 * was dropped instead (output bound). */
bool bin_conn_send(bin_conn *c, const uint8_t *data, size_t len);
void bin_conn_flush(bin_conn *c);
/* CLOSE(status) then a lingering close; send_close false: no frame (refused HELLO). */
void bin_conn_close(bin_conn *c, bool send_close, uint8_t status, const char *reason,
                    enum bin_close_reason why);
void bin_conn_abort(bin_conn *c, enum bin_close_reason why);
/* Give a reference back; a closed connection with none left goes to loop->dead. */
void bin_conn_unref(bin_conn *c);
/* End of an iteration (and teardown): free loop->dead. */
void bin_conn_reap(bin_loop *loop);
void bin_conn_free(bin_conn *c);
/* Loop teardown: free the idle output buffers. */
void bin_conn_out_cache_free(bin_loop *loop);
/* Timers, once a second: hello timeout, keep alive, linger. */
void bin_conn_tick(bin_conn *c);
/* Back-pressure released: read again if input may be waiting. */
void bin_conn_wake(bin_conn *c);
bool bin_conn_may_process(const bin_conn *c);

/* credential.c: remember when the identity's credential ends (at WELCOME); check it: false when
 * it has ended and the connection was closed (CLOSE 0xA0). */
void bin_credential_arm(bin_conn *c);
bool bin_credential_check(bin_conn *c);

/* hello.c: the first frame. false when the connection was closed. */
bool bin_hello_handle(bin_conn *c, const bin_header *h, const uint8_t *body);

/* data.c */
/* DATA after WELCOME. false when the connection was closed. */
bool bin_data_handle(bin_conn *c, const bin_header *h, const uint8_t *body);
/* Send the ACKs at the head of the ring that are known, in order; then CLOSE after BYE. */
void bin_data_flush_acks(bin_conn *c);
/* Completion callback for host->queue_drain(); ctx is the loop. */
void bin_data_on_completion(void *ctx, const inlet_completion *comp);
/* Free the slots' reasons and the ring. */
void bin_data_free_slots(bin_conn *c);

#endif
