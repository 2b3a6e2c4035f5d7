/*
 * support.h - helpers shared by the protocol modules (listening sockets, TLS server contexts,
 * loop threads, pending-submission records; topic patterns and UTF-8 in topic.h and utf8.h).
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

#include <openssl/ssl.h>

#include "inlet/module.h"
#include "topic.h"
#include "utf8.h"

/* ---- netaddr.c ---- */

/* "host:port", "[v6]:port", ":port" or "*:port" (any address) to a numeric socket address. */
int inlet_support_addr_resolve(const char *address, struct sockaddr_storage *addr,
                               socklen_t *addrlen, char *err, size_t err_len);

/*
 * A non-blocking listening socket on addr (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY). first: the
 * first loop's bind, which checks that no one else holds the port and, for port 0, writes the
 * port picked back into addr so the other loops bind the same one. Returns the descriptor.
 */
int inlet_support_listen(struct sockaddr_storage *addr, socklen_t addrlen, int backlog, bool first,
                         char *err, size_t err_len);

/* ---- tlsctx.c ---- */

enum inlet_support_client_auth {
    INLET_SUPPORT_CLIENT_AUTH_NONE,
    INLET_SUPPORT_CLIENT_AUTH_OPTIONAL,
    INLET_SUPPORT_CLIENT_AUTH_REQUIRE
};

typedef struct inlet_support_tls_params {
    const char *cert;           /* PEM chain, leaf first */
    const char *key;            /* PEM private key */
    int client_auth;            /* enum inlet_support_client_auth */
    bool min_tls13;             /* else TLS 1.2 */
    long mode;                  /* extra SSL_CTX_set_mode() flags, or 0 */
    const char *session_prefix; /* session id context: "<prefix>-<listener_index>" */
    size_t listener_index;
} inlet_support_tls_params;

/* Listener index's tls section: cert and key go together, client_auth needs them. */
int inlet_support_tls_config_check(size_t index, const char *cert, const char *key, int client_auth,
                                   char *err, size_t err_len);

/* The server SSL_CTX of a TLS listener; err gets "cert: why" or "key: why". */
SSL_CTX *inlet_support_tls_server_new(const inlet_support_tls_params *p, char *err, size_t err_len);

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

/* ---- loops.c ---- */

/* The start/stop handshakes between the core's thread and a module's loop threads. */
typedef struct inlet_support_loopsync {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t n_ready;      /* loops that finished initialising (well or not) */
    size_t n_failed;     /* ... of which failed; first error in start_err */
    size_t n_unlistened; /* loops that closed their listeners */
    char start_err[256];
} inlet_support_loopsync;

void inlet_support_loopsync_init(inlet_support_loopsync *s);
void inlet_support_loopsync_destroy(inlet_support_loopsync *s);
/* On a loop thread, once initialised; rc != 0: failed with err ("loop <index>: err"). */
void inlet_support_loopsync_ready(inlet_support_loopsync *s, size_t index, int rc, const char *err);
/* On the core's thread: wait for n_loops loops; -1 with the first failure in err. */
int inlet_support_loopsync_wait_ready(inlet_support_loopsync *s, size_t n_loops, char *err,
                                      size_t err_len);
/* On a loop thread, once its listening sockets are closed. */
void inlet_support_loopsync_unlistened(inlet_support_loopsync *s);
/* On the core's thread: wait (at most timeout_ms) until running loops have closed theirs. */
void inlet_support_loopsync_wait_unlistened(inlet_support_loopsync *s, size_t running,
                                            int64_t timeout_ms);

/*
 * Start a loop thread with every signal blocked (SIGTERM is the core's; SIGPIPE must not kill
 * the process when a client vanishes) and name it; err gets "pthread_create: why".
 */
int inlet_support_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg, const char *name,
                               char *err, size_t err_len);

/*
 * A loop's wake-up eventfd (*control_fd) and completion queue (*queue); each is left set as
 * far as it got, for the caller's cleanup. err gets "eventfd: why" or "completion queue: why".
 */
int inlet_support_loop_open(const inlet_host *host, inlet_module_ctx *mod, int *control_fd,
                            inlet_queue **queue, char *err, size_t err_len);
/* Any thread: set cmd in a loop's command word and wake it through its eventfd. */
void inlet_support_loop_signal(atomic_uint *commands, int control_fd, unsigned cmd);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t inlet_support_monotonic_ms(void);

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

#endif
