/*
 * support.h - what the protocol modules share, so that a new one (CoAP, binary TCP, Teltonika)
 * writes only its protocol. A listener module:
 *   - declares its listener section with INLET_SUPPORT_LISTENER_OPTIONS() and
 *     INLET_SUPPORT_TLS_OPTIONS(), and its "listeners" key with INLET_SUPPORT_LISTENERS_OPTION()
 *     (listeners.c);
 *   - starts its state struct with an inlet_support_loopset; create() makes the state with
 *     inlet_support_module_new() and the listeners with inlet_support_listeners_new();
 *   - start() runs inlet_support_loopset_start() with an inlet_support_loop_spec (its loop
 *     struct, per-loop listener struct, pending record, thread function); the descriptor's
 *     stop_accepting and stop are inlet_support_module_stop_accepting / _stop; destroy() calls
 *     inlet_support_loopset_free() (loops.c);
 *   - on a loop thread: inlet_support_loop_commands(), _close_listeners(), _release_queue(), the
 *     epoll helpers, and base.pending for what it passes as inlet_request.opaque (pending.c);
 *   - routes messages by topic with topic.h and checks text with utf8.h (both pure).
 *
 * Linked statically into each module; like a module, it sees the public header and nothing
 * else of the core.
 * Errors go to a caller-supplied buffer as "what: why"; functions return 0 or a descriptor
 * on success and -1 (or NULL) on failure.
 */
#ifndef INLET_MODULE_SUPPORT_H
#define INLET_MODULE_SUPPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "inlet/module.h"
#include "inlet/support.h"
#include "topic.h"
#include "utf8.h"

/* ---- netaddr.c, udp.c: the public part, inlet/support.h (libinlet-support) ---- */

/* ---- tlsctx.c ---- */

enum inlet_support_client_auth {
    INLET_SUPPORT_CLIENT_AUTH_NONE,
    INLET_SUPPORT_CLIENT_AUTH_OPTIONAL,
    INLET_SUPPORT_CLIENT_AUTH_REQUIRE
};

enum inlet_support_tls_version { INLET_SUPPORT_TLS_1_2, INLET_SUPPORT_TLS_1_3 };

/* A listener's tls section, as INLET_SUPPORT_TLS_OPTIONS() (listeners.c) fills it. */
typedef struct inlet_support_tls_config {
    char *cert;      /* PEM chain, leaf first; NULL: the listener is plaintext */
    char *key;       /* PEM private key */
    int client_auth; /* enum inlet_support_client_auth */
    int min_version; /* enum inlet_support_tls_version */
} inlet_support_tls_config;

struct inlet_support_listener; /* listeners.c */

/* What a module adds to its listeners' server contexts. */
typedef struct inlet_support_tls_setup {
    const char *session_prefix; /* session id context: "<prefix>-<listener index>" */
    long mode;                  /* extra SSL_CTX_set_mode() flags, or 0 */
    /* Called with each new context, e.g. to register ALPN protocols; may be NULL. The listener
     * is the one inlet_support_listeners_new() is making (name, cfg and tls are set). */
    void (*ready)(SSL_CTX *ctx, const struct inlet_support_listener *l);
} inlet_support_tls_setup;

/* Listener index's tls section: cert and key go together, client_auth needs them. */
int inlet_support_tls_config_check(size_t index, const inlet_support_tls_config *cfg, char *err,
                                   size_t err_len);

/* inlet_tls_certificate_expiry_seconds{module,listener} = the notAfter (seconds since the
 * epoch) of the server certificate in cert_file (PEM, its first certificate); nothing if it
 * does not read. For every module's TLS listeners, called once at create(). */
void inlet_support_tls_report_expiry(const inlet_host *host, inlet_module_ctx *mod,
                                     const char *listener, const char *cert_file);

/* The server SSL_CTX of a TLS listener; err gets "cert: why" or "key: why". */
SSL_CTX *inlet_support_tls_server_new(const inlet_support_tls_config *cfg,
                                      const inlet_support_tls_setup *setup, size_t listener_index,
                                      char *err, size_t err_len);

/* OpenSSL's last error as text (or "unknown error"); clears the error queue. */
void inlet_support_openssl_reason(char *buf, size_t len);

/* Most certificates taken from a client chain; longer chains are cut (the leaf always stays). */
#define INLET_SUPPORT_MAX_CHAIN 10

/*
 * The DER encodings of leaf and then the rest of ssl's peer chain, for host->auth_cert_chain().
 * der and len have INLET_SUPPORT_MAX_CHAIN entries; *n counts those filled, also on failure.
 * The caller frees them with inlet_support_tls_chain_free().
 */
int inlet_support_tls_chain_der(SSL *ssl, X509 *leaf, uint8_t **der, size_t *len, size_t *n);
void inlet_support_tls_chain_free(uint8_t **der, size_t n);

/* ---- listeners.c ---- */

/*
 * A module's listeners: the configuration keys every listener has (address, tls) as option
 * table entries, and the listeners made from them at create(). Every loop then binds its own
 * socket for each (inlet_support_listen(), SO_REUSEPORT).
 */

/* The words of the client_auth and min_version keys. */
extern const char *const inlet_support_client_auth_values[];
extern const char *const inlet_support_tls_version_values[];

/* One inlet_option without bounds, positionally; the entries below are built from it. */
#define INLET_SUPPORT_OPTION(name, type, offset, def, values, section, size, flags, desc)          \
    {                                                                                              \
        name, type, offset, def, 0, 0, values, section, size, flags, desc                          \
    }

/* clang-format off */

/*
 * Option table entries of a tls section: cert, key, client_auth, min_version. They fill an
 * inlet_support_tls_config at offset `at` of the section's struct (0 if it is the whole struct).
 * client_auth_note ends the client_auth description: "." or what else a certificate competes
 * with in the protocol ("; the certificate wins over a password.").
 */
#define INLET_SUPPORT_TLS_OPTIONS(at, client_auth_note)                                            \
    INLET_SUPPORT_OPTION("cert", INLET_OPT_PATH, (at) + offsetof(inlet_support_tls_config, cert),  \
        NULL, NULL, NULL, 0, 0, "PEM certificate chain of the server, leaf first."),               \
    INLET_SUPPORT_OPTION("key", INLET_OPT_PATH, (at) + offsetof(inlet_support_tls_config, key),    \
        NULL, NULL, NULL, 0, INLET_OPT_SECRET, "PEM private key matching cert."),                  \
    INLET_SUPPORT_OPTION("client_auth", INLET_OPT_ENUM,                                            \
        (at) + offsetof(inlet_support_tls_config, client_auth), "none",                            \
        inlet_support_client_auth_values, NULL, 0, 0,                                              \
        "Ask devices for a client certificate (mTLS): none, optional or require. The tenant "      \
        "whose CA verifies the chain authenticates the device" client_auth_note),                  \
    INLET_SUPPORT_OPTION("min_version", INLET_OPT_ENUM,                                            \
        (at) + offsetof(inlet_support_tls_config, min_version), "tls1.2",                          \
        inlet_support_tls_version_values, NULL, 0, 0, "Oldest TLS version accepted.")

/*
 * Option table entries "address" and "tls" of a listener section (struct type), with the fields
 * they fill; port: the example in the address description ("8080"); tls_table: the tls
 * section's table; tls_desc: what tls switches on.
 */
#define INLET_SUPPORT_LISTENER_OPTIONS(type, address, tls, port, tls_table, tls_desc)              \
    INLET_SUPPORT_OPTION("address", INLET_OPT_STRING, offsetof(type, address), NULL, NULL, NULL,   \
        0, INLET_OPT_REQUIRED,                                                                     \
        "host:port to listen on (\"[::]:" port "\" for IPv6, \":" port                             \
        "\" for every IPv4 address)."),                                                            \
    INLET_SUPPORT_OPTION("tls", INLET_OPT_SECTION, offsetof(type, tls), NULL, NULL, tls_table,     \
        sizeof(((type *)0)->tls), 0, tls_desc)

/* The "listeners" entry of a module's table (struct type, its inlet_section_list field). */
#define INLET_SUPPORT_LISTENERS_OPTION(type, field, listener_table, listener_type)                 \
    INLET_SUPPORT_OPTION("listeners", INLET_OPT_SECTION_LIST, offsetof(type, field), NULL, NULL,   \
        listener_table, sizeof(listener_type), INLET_OPT_REQUIRED,                                 \
        "Addresses to listen on, each plaintext or TLS.")

/* clang-format on */

/* Where a listener section keeps its address (char *) and its inlet_support_tls_config. */
#define INLET_SUPPORT_LISTENER_LAYOUT(type, address, tls)                                          \
    sizeof(type), offsetof(type, address), offsetof(type, tls)

/* One configured listener, made at create(); shared read-only by every loop. */
typedef struct inlet_support_listener {
    size_t index;
    char name[80]; /* the address as written, for logs */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    SSL_CTX *ssl_ctx;                       /* NULL for plaintext; owned */
    const inlet_support_tls_config *tls;    /* its tls section (borrowed, like cfg) */
    const void *cfg;                        /* the module's listener section item */
    struct inlet_support_connlimit *limits; /* connlimit.c; owned; shared by every loop */
} inlet_support_listener;

/*
 * The listeners of a listeners section list (at least one), whose items are laid out as
 * INLET_SUPPORT_LISTENER_LAYOUT(type, address, tls) says: addresses resolved and distinct, TLS
 * sections checked, server contexts made with setup. *out is the caller's, also on failure
 * (*n counts what it holds): free it with inlet_support_listeners_free(). err gets
 * "listeners[i].address: why", "listeners[i].tls.cert: why"...
 */
int inlet_support_listeners_new(inlet_support_listener **out, size_t *n,
                                const inlet_section_list *list, size_t item_size, size_t address_at,
                                size_t tls_at, const inlet_support_tls_setup *setup, char *err,
                                size_t err_len);
void inlet_support_listeners_free(inlet_support_listener *ls, size_t n);

/* ---- connlimit.c ---- */

/*
 * Connections a listener admits before anyone authenticated: in all (over every loop) and per
 * source address. inlet_support_listeners_new() gives every listener the defaults below; a
 * module that declares INLET_SUPPORT_CONN_LIMIT_OPTIONS() in its listener section applies what
 * was configured with inlet_support_listeners_limit(). Its accept path asks
 * inlet_support_conn_admit() for each new socket (closing it when refused) and calls
 * inlet_support_conn_release() once when that connection is gone, from any thread.
 */
#define INLET_SUPPORT_MAX_CONNECTIONS_DEFAULT        "10000"
#define INLET_SUPPORT_MAX_CONNECTIONS_PER_IP_DEFAULT "256"

typedef struct inlet_support_conn_limits_config {
    int64_t max_connections;        /* per listener over all loops; 0: no limit */
    int64_t max_connections_per_ip; /* per source address on the listener; 0: no limit */
} inlet_support_conn_limits_config;

/* clang-format off */
/* Option table entries max_connections and max_connections_per_ip of a listener section, filling
 * an inlet_support_conn_limits_config at offset `at` of the section's struct. */
#define INLET_SUPPORT_CONN_LIMIT_OPTIONS(at)                                                      \
    {"max_connections", INLET_OPT_INT,                                                             \
        (at) + offsetof(inlet_support_conn_limits_config, max_connections),                        \
        INLET_SUPPORT_MAX_CONNECTIONS_DEFAULT, 0, 1000000, NULL, NULL, 0, 0,                       \
        "Most connections this listener holds at once, over all threads (0: no limit); more are "  \
        "closed as soon as they are accepted."},                                                   \
    {"max_connections_per_ip", INLET_OPT_INT,                                                      \
        (at) + offsetof(inlet_support_conn_limits_config, max_connections_per_ip),                 \
        INLET_SUPPORT_MAX_CONNECTIONS_PER_IP_DEFAULT, 0, 1000000, NULL, NULL, 0, 0,                \
        "Most connections one source address holds on this listener (0: no limit); more are "      \
        "closed as soon as they are accepted. Devices behind one NAT share an address."}
/* clang-format on */

typedef enum inlet_support_conn_verdict {
    INLET_SUPPORT_CONN_ADMITTED = 0,
    INLET_SUPPORT_CONN_LISTENER_FULL, /* max_connections reached */
    INLET_SUPPORT_CONN_ADDRESS_FULL,  /* max_connections_per_ip reached for this address */
} inlet_support_conn_verdict;

/* What an admitted connection holds until inlet_support_conn_release(); zeroed when refused. */
typedef struct inlet_support_conn_ticket {
    struct inlet_support_connlimit *limits; /* NULL: nothing to release */
    uint8_t key[16];
    bool per_address;
} inlet_support_conn_ticket;

/* Replace l's limits (at create(), before the loops run). err: "listeners[i]: why". */
int inlet_support_listener_set_limits(inlet_support_listener *l,
                                      const inlet_support_conn_limits_config *cfg, char *err,
                                      size_t err_len);
/* The limits configured in each listener section, whose inlet_support_conn_limits_config is at
 * offset limits_at of the item (what INLET_SUPPORT_CONN_LIMIT_OPTIONS(limits_at) fills). */
int inlet_support_listeners_limit(inlet_support_listener *ls, size_t n, size_t limits_at, char *err,
                                  size_t err_len);
void inlet_support_listener_free_limits(inlet_support_listener *l);
/*
 * Any thread: may a connection from peer (NULL: unknown, e.g. behind a PROXY protocol load
 * balancer, where only the listener's limit applies) be kept? ADMITTED fills *t, which the
 * caller releases exactly once; otherwise the caller closes the socket.
 */
inlet_support_conn_verdict inlet_support_conn_admit(const inlet_support_listener *l,
                                                    const struct sockaddr *peer,
                                                    inlet_support_conn_ticket *t);
/* Any thread; again (or on a zeroed ticket) is a no-op. */
void inlet_support_conn_release(inlet_support_conn_ticket *t);
/* Connections the listener holds now (for tests and metrics). */
size_t inlet_support_listener_connections(const inlet_support_listener *l);

/* Log "listening on <address:port as bound> (<scheme>[, mTLS])" for each, at INFO. */
void inlet_support_listeners_log(const inlet_host *host, inlet_module_ctx *mod,
                                 const inlet_support_listener *ls, size_t n, const char *scheme,
                                 const char *tls_scheme);

/* ---- stream.c ---- */

/* What a stream read or write returns instead of a byte count. */
enum {
    INLET_SUPPORT_IO_AGAIN = -1,      /* would block: wait for the socket as the call needs */
    INLET_SUPPORT_IO_ERROR = -2,      /* the connection is broken */
    INLET_SUPPORT_IO_AGAIN_READ = -3, /* a TLS write that needs the socket readable first */
};

/* Read up to cap bytes from fd (plaintext, ssl NULL) or ssl: the count, 0 at the peer's orderly
 * close, or INLET_SUPPORT_IO_AGAIN / _ERROR. A TLS read that has to write first sets
 * *read_wants_write (retry it when the socket is writable). */
ssize_t inlet_support_stream_read(int fd, SSL *ssl, uint8_t *buf, size_t cap,
                                  bool *read_wants_write);
/* Write up to len bytes (MSG_NOSIGNAL): the count, or INLET_SUPPORT_IO_AGAIN / _AGAIN_READ /
 * _ERROR. With TLS, retry with the same buffer contents (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
 * lets it move). */
ssize_t inlet_support_stream_write(int fd, SSL *ssl, const uint8_t *buf, size_t len);

typedef enum inlet_support_handshake {
    INLET_SUPPORT_HANDSHAKE_DONE,
    INLET_SUPPORT_HANDSHAKE_WANT_READ,
    INLET_SUPPORT_HANDSHAKE_WANT_WRITE,
    INLET_SUPPORT_HANDSHAKE_FAILED, /* why says what OpenSSL said */
} inlet_support_handshake;

/* One step of a non-blocking server handshake. */
inlet_support_handshake inlet_support_stream_handshake(SSL *ssl, char *why, size_t why_len);

/*
 * The identity of ssl's client certificate on listener l: INLET_OK with *out NULL when there is
 * none to check (plaintext, client_auth none, no certificate sent), INLET_OK with a new
 * reference in *out (the caller releases it), or the core's refusal with msg saying why (for
 * logs). The handshake accepted any chain; which tenant it belongs to is the core's decision.
 */
inlet_status inlet_support_stream_client_identity(const inlet_host *host, SSL *ssl,
                                                  const inlet_support_listener *l,
                                                  inlet_identity **out, char *msg, size_t msg_len);

/* ---- pending.c ---- */

/*
 * The records a loop keeps for its submissions awaiting their Kafka completion (what it passes
 * as inlet_request.opaque: the request to answer, the packet id to acknowledge...), recycled.
 * One per loop, touched only by its thread.
 */
typedef struct inlet_support_pending_cache {
    void *free;      /* recycled records, linked through their first bytes */
    size_t n_free;   /* ... how many */
    size_t max_free; /* more are freed, not kept */
    size_t size;     /* bytes of one record */
} inlet_support_pending_cache;

/* size: sizeof the module's record; max_free: how many idle ones to keep at most. */
void inlet_support_pending_init(inlet_support_pending_cache *c, size_t size, size_t max_free);
/* A zeroed record, or NULL when out of memory. */
void *inlet_support_pending_get(inlet_support_pending_cache *c);
/* Hand a record back (its contents are overwritten). */
void inlet_support_pending_put(inlet_support_pending_cache *c, void *p);
/* Free the idle records: at loop teardown. */
void inlet_support_pending_free(inlet_support_pending_cache *c);

/* ---- loops.c ---- */

/*
 * A module's event loops: `threads` of them, each on its own thread with its own listening
 * sockets (one per listener, SO_REUSEPORT), completion queue and wake-up eventfd, driven by
 * whatever event library the module uses (h2o, epoll...). This file owns their start and stop
 * from the core's thread; the module writes the loop thread itself.
 *
 * start() makes the loops (the module's struct, which starts with an inlet_support_loop, and
 * per listener the module's struct starting with an inlet_support_loop_listener), lets the
 * module set its part up, binds every socket on the core's thread (so "address in use" reaches
 * the operator before anything runs), opens the eventfd and the queue, starts the threads and
 * waits until each said it is ready. The core's thread then talks to a loop only through its
 * command word and eventfd. A module whose state struct starts with its inlet_support_loopset
 * takes inlet_support_module_stop_accepting() and _stop() as its descriptor's functions.
 */

/* Command bits; a module's own start at INLET_SUPPORT_LOOP_CMD_USER. */
enum {
    INLET_SUPPORT_LOOP_STOP_ACCEPTING = 1u, /* close the listening sockets, keep serving */
    INLET_SUPPORT_LOOP_STOP = 2u,           /* finish: drain, close, end the thread */
    INLET_SUPPORT_LOOP_CMD_USER = 1u << 8,
};

/* The start/stop handshakes between the core's thread and the loop threads. */
typedef struct inlet_support_loopsync {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t n_ready;      /* loops that finished initialising (well or not) */
    size_t n_failed;     /* ... of which failed; first error in start_err */
    size_t n_unlistened; /* loops that closed their listeners */
    char start_err[256];
} inlet_support_loopsync;

typedef struct inlet_support_loopset inlet_support_loopset;
typedef struct inlet_support_loop inlet_support_loop;

/* A listener's socket on one loop: the FIRST member of the module's per-loop listener struct. */
typedef struct inlet_support_loop_listener {
    inlet_support_loop *loop;
    const inlet_support_listener *listener;
    int fd; /* bound and listening; -1 once closed, or once the module's event library owns it
             * (set it so) */
} inlet_support_loop_listener;

/* What every loop has: the FIRST member of a module's loop struct. Loop thread only, except the
 * fields marked "any thread". */
struct inlet_support_loop {
    inlet_support_loopset *set;
    size_t index;
    pthread_t thread;
    bool thread_started;
    bool set_up;           /* the module's init() ran, so its fini() will */
    void *listeners;       /* set->n_listeners structs of spec->listener_size bytes */
    bool listeners_closed; /* inlet_support_loop_close_listeners() ran */
    inlet_queue *queue;    /* owned; freed by inlet_support_loop_release_queue() */
    int control_fd;        /* eventfd: "look at commands" (any thread writes); -1 once closed */
    inlet_support_pending_cache pending; /* records of spec->pending_size bytes */
    atomic_uint commands;                /* INLET_SUPPORT_LOOP_* bits (any thread) */
    bool stopping;                       /* STOP seen */
};

/* How a module's loops are made, started and freed. */
typedef struct inlet_support_loop_spec {
    const char *thread_name; /* "inlet-http": threads "inlet-http/0", "inlet-http/1"... */
    const char *scheme;      /* for "listening on ... (http)": plaintext... */
    const char *tls_scheme;  /* ... and TLS listeners ("https") */
    int backlog;             /* of every listening socket */
    size_t loop_size;        /* sizeof the module's loop struct */
    size_t listener_size;    /* sizeof its per-loop listener struct */
    size_t pending_size;     /* sizeof its record of a submission awaiting Kafka (opaque) */
    size_t pending_cache;    /* idle records each loop keeps for reuse */
    /* On the core's thread, before binding: set up the module's part of a zeroed loop (module:
     * what start() was given). -1 with err fails start(). */
    int (*init)(void *loop, void *module, char *err, size_t err_len);
    /* In inlet_support_loopset_free(): free what init() (also one that failed) and the thread
     * left; may be NULL. */
    void (*fini)(void *loop);
    void *(*main)(void *loop); /* the loop thread */
} inlet_support_loop_spec;

struct inlet_support_loopset {
    const inlet_host *host;
    inlet_module_ctx *mod;
    const inlet_support_loop_spec *spec;
    inlet_support_listener *listeners; /* from inlet_support_listeners_new(); owned */
    size_t n_listeners;
    void *loops; /* n loop structs of spec->loop_size bytes */
    size_t n;
    atomic_int draining; /* stop_accepting() or stop() was called (any thread) */
    inlet_support_loopsync sync;
};

/* Loop i of s, and listener i of loop l (the module's structs). */
static inline void *inlet_support_loop_at(const inlet_support_loopset *s, size_t i)
{
    return (char *)s->loops + i * s->spec->loop_size;
}
static inline void *inlet_support_loop_listener_at(const inlet_support_loop *l, size_t i)
{
    return (char *)l->listeners + i * l->set->spec->listener_size;
}

/* At create(), before anything can fail. */
void inlet_support_loopset_init(inlet_support_loopset *s, const inlet_host *host,
                                inlet_module_ctx *mod);
/* inlet_support_tls_report_expiry() for each of the set's TLS listeners (after they are made). */
void inlet_support_loopset_report_cert_expiry(const inlet_support_loopset *s);
/*
 * start(): n loops as spec says, on s->listeners (which create() made with
 * inlet_support_listeners_new(&s->listeners, &s->n_listeners, ...)); spec->init gets module.
 * Logs the listeners once all loops are ready; -1 with err ("listeners[i] address: why",
 * "loop i: why"...) after stopping what started. inlet_support_loopset_free() frees the loops
 * either way.
 */
int inlet_support_loopset_start(inlet_support_loopset *s, size_t n,
                                const inlet_support_loop_spec *spec, void *module, char *err,
                                size_t err_len);
/* stop_accepting(): every running loop closes its listeners; returns once they did (bounded). */
void inlet_support_loopset_stop_accepting(inlet_support_loopset *s);
/* stop(): tell every loop to stop and join the threads; again is a no-op. */
void inlet_support_loopset_stop(inlet_support_loopset *s);
/* destroy(): stop() if the core did not, close the sockets and eventfds no thread took, free
 * the queues that nothing is pending on, spec->fini() each loop, free the loops, their idle
 * pending records and the listeners. */
void inlet_support_loopset_free(inlet_support_loopset *s);

/*
 * The start of a module's create(): check that the host has the functions of ABI 1.0, then a
 * zeroed state of size bytes that starts with its inlet_support_loopset, initialised. NULL with
 * err on failure; free it with inlet_support_loopset_free() and free().
 */
void *inlet_support_module_new(const inlet_host *host, inlet_module_ctx *mod, size_t size,
                               char *err, size_t err_len);

/* Descriptor functions for a module whose state struct starts with its inlet_support_loopset. */
void inlet_support_module_stop_accepting(void *state);
void inlet_support_module_stop(void *state);

/* Any thread: set cmd in a loop's command word and wake it. */
void inlet_support_loop_signal(inlet_support_loop *l, unsigned cmd);

/* ---- on the loop thread ---- */

/* Once initialised; rc != 0: the loop failed with err (start() then fails with it). */
void inlet_support_loop_ready(inlet_support_loop *l, int rc, const char *err);
/* The control eventfd is readable: empty it and return the commands (clear: also reset them);
 * STOP sets l->stopping. */
unsigned inlet_support_loop_commands(inlet_support_loop *l, bool clear);
/* Has stop() been called? (For a loop that failed and waits to be stopped.) */
bool inlet_support_loop_stop_requested(const inlet_support_loop *l);
/* Close the listening sockets still open (once) and tell stop_accepting(). A module whose event
 * library owns some closes those first. */
void inlet_support_loop_close_listeners(inlet_support_loop *l);
/* At teardown: free the queue if nothing is pending on it, else keep it (the core may still
 * complete into it) and say so. */
void inlet_support_loop_release_queue(inlet_support_loop *l);

/* An epoll loop: a new epoll instance (*epfd) watching the queue (data.ptr queue_tag) and the
 * control eventfd (control_tag) for input. err gets "epoll_create1: why" or "epoll_ctl: why". */
int inlet_support_loop_epoll_open(inlet_support_loop *l, int *epfd, void *queue_tag,
                                  void *control_tag, char *err, size_t err_len);
/* epoll_ctl(ADD) with events and data.ptr. */
int inlet_support_epoll_add(int epfd, int fd, uint32_t events, void *ptr);

/* ---- accept.c: accepting on an epoll loop ---- */

/*
 * A loop's accepting state. The module fills the fields above the line when its loop starts,
 * calls inlet_support_accept_run() when a listening socket is readable and
 * inlet_support_accept_tick() once per loop iteration.
 */
typedef struct inlet_support_acceptor {
    inlet_support_loop *loop;
    int epfd;      /* the loop's epoll instance, where the listening sockets are registered */
    size_t tag_at; /* offset of the epoll data.ptr tag in the module's per-loop listener struct */
    int batch;     /* connections accepted per readiness at most */
    /* counters of sockets closed at accept by the listener's limits; NULL: not counted */
    inlet_metric *refused_listener, *refused_address;
    /* An admitted connection: fd (non-blocking) and ticket are the module's from here on. */
    void (*accepted)(inlet_support_loop *loop, const inlet_support_listener *l, int fd,
                     const struct sockaddr_storage *peer, inlet_support_conn_ticket *ticket);
    /* ---- */
    bool paused; /* out of descriptors or memory: the listeners are off until resume_ms */
    uint64_t resume_ms;
} inlet_support_acceptor;

/* Accept what is waiting on ll, up to a->batch. */
void inlet_support_accept_run(inlet_support_acceptor *a, inlet_support_loop_listener *ll,
                              uint64_t now_ms);
/* Turn the listeners back on once a pause is over; true while accepting is paused (the loop
 * should then wake within a second). */
bool inlet_support_accept_tick(inlet_support_acceptor *a, uint64_t now_ms);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t inlet_support_monotonic_ms(void);

#endif
