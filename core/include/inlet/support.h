/*
 * inlet/support.h - small helpers every network module needs, as a public library
 * (libinlet-support: pkg-config inlet-module includes it, CMake target Inlet::support).
 *
 * Stable like the module ABI: functions are only added. Pure POSIX sockets, no OpenSSL, no core
 * state, thread-safe. Errors go to a caller-supplied buffer as one line; functions return a
 * descriptor or 0 on success and -1 on failure. The in-tree modules use the same functions
 * (modules/support/support.h includes this header).
 */
#ifndef INLET_SUPPORT_H
#define INLET_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "inlet/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* "host:port", "[v6]:port", ":port" or "*:port" (any IPv4 address) to a numeric socket address;
 * host names are resolved once, here. err: "\"x\" is not host:port", "\"x\": bad port"... */
int inlet_support_addr_resolve(const char *address, struct sockaddr_storage *addr,
                               socklen_t *addrlen, char *err, size_t err_len);

/*
 * A non-blocking TCP listening socket on addr (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY). first:
 * the first of several sockets on one address (one per thread): checks that no one else holds
 * the port and, for port 0, writes the port picked back into addr so the others bind the same.
 */
int inlet_support_listen(struct sockaddr_storage *addr, socklen_t addrlen, int backlog, bool first,
                         char *err, size_t err_len);

/* A non-blocking, close-on-exec UDP socket bound to address (as inlet_support_addr_resolve()
 * reads it). If bound is not NULL it receives the address as bound ("127.0.0.1:40123" for
 * port 0), as inlet_support_addr_format() writes it. */
int inlet_support_udp_bind(const char *address, char *bound, size_t bound_len, char *err,
                           size_t err_len);

/* Room for any address inlet_support_addr_format() writes, with its NUL. */
#define INLET_SUPPORT_ADDR_MAX 56

/* addr as "ip:port" or "[ip6]:port" (what inlet_request.peer wants; an IPv4-mapped IPv6
 * address as IPv4); "" for NULL or another family. Returns out. */
char *inlet_support_addr_format(const struct sockaddr *addr, char *out, size_t out_len);
/* The same for the peer of a connected socket ("" if it has none). */
void inlet_support_peer_of_fd(int fd, char *out, size_t out_len);

/*
 * A worker: one thread that waits on a descriptor (a socket) and on a completion queue it owns,
 * the loop a simple module needs (docs/MODULES.md, contrib/example-module). On the worker's
 * thread, on_readable(ctx) runs when fd is readable (read what is there; the fd is
 * non-blocking) and on_completion(ctx, c) for every completion. Everything else is for the
 * core's thread: the module's start(), stop_accepting(), stop() and destroy().
 */
typedef struct inlet_support_worker inlet_support_worker;

/* From start(): a queue (for inlet_request.queue, see inlet_support_worker_queue()) and the
 * thread. fd becomes the worker's, also when this fails: inlet_support_worker_free() (or this
 * function, failing) closes it; the module may send on it until then. NULL with err on
 * failure. */
inlet_support_worker *inlet_support_worker_start(const inlet_host *host, inlet_module_ctx *mod,
                                                 int fd, void (*on_readable)(void *ctx),
                                                 inlet_completion_fn on_completion, void *ctx,
                                                 char *err, size_t err_len);
/* The worker's completion queue. */
inlet_queue *inlet_support_worker_queue(inlet_support_worker *w);
/* stop_accepting(): stop watching fd (returns at once; on_readable() may be running). */
void inlet_support_worker_stop_accepting(inlet_support_worker *w);
/* stop(): deliver the completions still to come (at most timeout_ms), then end the thread. */
void inlet_support_worker_stop(inlet_support_worker *w, int timeout_ms);
/* destroy(): stop (if not done), free the queue unless submissions are still pending (then the
 * core may complete into it: it is left, and said so in the log), free w. NULL is a no-op. */
void inlet_support_worker_free(inlet_support_worker *w);

/* Descriptor functions (stop_accepting, stop with a 5 s bound) for a module whose state struct
 * has its inlet_support_worker pointer as its FIRST member (NULL before start() made it). */
void inlet_support_worker_module_stop_accepting(void *state);
void inlet_support_worker_module_stop(void *state);

#ifdef __cplusplus
}
#endif

#endif /* INLET_SUPPORT_H */
