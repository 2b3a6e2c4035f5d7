/*
 * loop.c - the event loops: one thread each, with its own h2o context, listening sockets,
 * completion queue and connections. Binding, threads, start and stop are the support
 * library's (../support/loops.c); this file is what runs on a loop thread.
 *
 * Each loop thread builds its h2o objects itself, because h2o keeps per-thread buffer caches
 * that must belong to the thread using them. The core's thread talks to a loop only through
 * an eventfd plus an atomic command word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

_Static_assert(offsetof(http_loop, base) == 0 && offsetof(http_loop_listener, base) == 0,
               "the support library finds its part first");

/* Completions handled per wake-up of the queue; the core re-signals the rest. */
#define HTTP_DRAIN_BATCH 512

static void close_listeners(http_loop *loop)
{
    if (loop->base.listeners_closed)
        return;
    for (size_t i = 0; i < loop->m->loopset.n_listeners; i++) {
        http_loop_listener *ll = http_loop_listener_at(loop, i);
        if (ll->sock != NULL) {
            h2o_socket_read_stop(ll->sock);
            h2o_socket_close(ll->sock); /* closes the descriptor */
            ll->sock = NULL;
        }
    }
    inlet_support_loop_close_listeners(&loop->base); /* those h2o never took */
}

static void on_control(h2o_socket_t *sock, const char *err)
{
    http_loop *loop = sock->data;
    (void)err;

    /* not cleared: the failure path of loop_main() looks for STOP in the word itself */
    unsigned cmd = inlet_support_loop_commands(&loop->base, false);
    if (cmd & (INLET_SUPPORT_LOOP_STOP_ACCEPTING | INLET_SUPPORT_LOOP_STOP)) {
        if (!loop->base.listeners_closed) {
            close_listeners(loop);
            /* HTTP/2: GOAWAY; HTTP/1.1: the next responses carry Connection: close. */
            h2o_context_request_shutdown(&loop->ctx);
        }
    }
}

static void on_queue(h2o_socket_t *sock, const char *err)
{
    http_loop *loop = sock->data;
    (void)err;
    loop->m->host->queue_drain(loop->base.queue, http_ingest_on_completion, loop, HTTP_DRAIN_BATCH);
}

/* Run the loop until done(loop) or the deadline; returns done(loop). */
static bool run_until(http_loop *loop, bool (*done)(http_loop *), uint64_t deadline)
{
    while (!done(loop)) {
        uint64_t now = inlet_support_monotonic_ms();
        if (now >= deadline)
            return false;
        uint64_t wait = deadline - now;
        h2o_evloop_run(loop->evloop, (int32_t)(wait < 50 ? wait : 50));
    }
    return true;
}

static bool nothing_pending(http_loop *loop)
{
    return loop->m->host->queue_pending(loop->base.queue) == 0;
}

static bool no_connections(http_loop *loop)
{
    return h2o_linklist_is_empty(&loop->conns);
}

static bool no_writes(http_loop *loop)
{
    return !http_conns_writing(loop);
}

/*
 * stop(): the core has drained Kafka, so the completions are (nearly) all queued. Deliver
 * them, answer whatever is still waiting, let responses go out, then cut the connections that
 * remain (keep-alive idlers) by shutting their sockets down, which makes h2o close them
 * through its normal error path and free everything it holds.
 */
static bool drain_and_close(http_loop *loop)
{
    http_module *m = loop->m;
    uint64_t deadline = inlet_support_monotonic_ms() + (uint64_t)m->cfg->shutdown_timeout_ms;

    if (!run_until(loop, nothing_pending, deadline))
        HTTP_LOG(m, INLET_LOG_WARN, "loop %zu: %zu submissions still unacknowledged at stop",
                 loop->base.index, m->host->queue_pending(loop->base.queue));
    http_ingest_abandon_waiting(loop);

    h2o_evloop_run(loop->evloop, 0); /* HTTP/2 starts its writes from the loop */
    run_until(loop, no_writes, inlet_support_monotonic_ms() + 1000);
    http_conns_shutdown(loop);
    if (!run_until(loop, no_connections, inlet_support_monotonic_ms() + 1000)) {
        HTTP_LOG(m, INLET_LOG_ERROR, "loop %zu: connections would not close; leaking them",
                 loop->base.index);
        return false;
    }
    return true;
}

static void loop_teardown(http_loop *loop, bool h2o_clean)
{
    close_listeners(loop);
    if (loop->queue_sock != NULL) {
        h2o_socket_read_stop(loop->queue_sock);
        h2o_socket_close(loop->queue_sock);
        loop->queue_sock = NULL;
    }
    if (loop->control_sock != NULL) {
        h2o_socket_read_stop(loop->control_sock);
        h2o_socket_close(loop->control_sock); /* closes base.control_fd */
        loop->control_sock = NULL;
        loop->base.control_fd = -1;
    }
    if (h2o_clean) {
        if (loop->ctx_ready) {
            http_h2o_context_dispose(&loop->ctx);
            loop->ctx_ready = false;
        }
        if (loop->evloop != NULL) {
            h2o_evloop_run(loop->evloop, 0); /* frees the sockets closed above */
            h2o_evloop_destroy(loop->evloop);
            loop->evloop = NULL;
        }
    }
    inlet_support_loop_release_queue(&loop->base);
    http_h2o_release_thread_caches();
}

static int loop_init(http_loop *loop, char *err, size_t err_len)
{
    http_module *m = loop->m;

    loop->evloop = h2o_evloop_create();
    h2o_context_init(&loop->ctx, loop->evloop, &m->globalconf);
    loop->ctx_ready = true;

    int qfd = dup(m->host->queue_fd(loop->base.queue)); /* h2o closes what it watches */
    if (qfd < 0) {
        snprintf(err, err_len, "dup: %s", strerror(errno));
        return -1;
    }
    loop->queue_sock = h2o_evloop_socket_create(loop->evloop, qfd, H2O_SOCKET_FLAG_DONT_READ);
    loop->queue_sock->data = loop;
    h2o_socket_read_start(loop->queue_sock, on_queue);

    loop->control_sock =
        h2o_evloop_socket_create(loop->evloop, loop->base.control_fd, H2O_SOCKET_FLAG_DONT_READ);
    loop->control_sock->data = loop;
    h2o_socket_read_start(loop->control_sock, on_control);

    for (size_t i = 0; i < m->loopset.n_listeners; i++) {
        http_loop_listener *ll = http_loop_listener_at(loop, i);
        ll->accept_ctx.ctx = &loop->ctx;
        ll->accept_ctx.hosts = m->globalconf.hosts;
        ll->accept_ctx.ssl_ctx = ll->base.listener->ssl_ctx;
        ll->accept_ctx.expect_proxy_line = http_listener_cfg(ll->base.listener)->proxy_protocol;
        ll->sock = h2o_evloop_socket_create(loop->evloop, ll->base.fd, H2O_SOCKET_FLAG_DONT_READ);
        ll->base.fd = -1; /* h2o's now */
        ll->sock->data = ll;
        h2o_socket_read_start(ll->sock, http_conn_on_accept);
    }
    return 0;
}

static void *loop_main(void *arg)
{
    http_loop *loop = arg;
    http_module *m = loop->m;
    char err[200] = "";
    int rc = loop_init(loop, err, sizeof(err));

    inlet_support_loop_ready(&loop->base, rc, err);

    while (rc == 0 && !loop->base.stopping) {
        /* woken at least every 100 ms, so that the body budget is recounted when idle too */
        if (h2o_evloop_run(loop->evloop, 100) != 0 && errno != EINTR) {
            HTTP_LOG(m, INLET_LOG_ERROR, "loop %zu: event loop failed: %s", loop->base.index,
                     strerror(errno));
            break;
        }
        http_h2guard_adopt(loop);
        http_budget_sweep(loop);
    }
    /* Wait for stop() even after a failure, so that teardown has one path. */
    while (!inlet_support_loop_stop_requested(&loop->base))
        if (h2o_evloop_run(loop->evloop, 100) != 0)
            usleep(100 * 1000);

    bool clean = drain_and_close(loop);
    loop_teardown(loop, clean);
    return NULL;
}

/* ---- set-up, on the core's thread ---- */

static int loop_setup(void *arg, void *module, char *err, size_t err_len)
{
    http_loop *loop = arg;
    (void)err;
    (void)err_len;
    loop->m = module;
    h2o_linklist_init_anchor(&loop->conns);
    h2o_linklist_init_anchor(&loop->waiting);
    return 0;
}

const inlet_support_loop_spec http_loop_spec = {
    .thread_name = "inlet-http",
    .scheme = "http",
    .tls_scheme = "https",
    .backlog = H2O_SOMAXCONN,
    .loop_size = sizeof(http_loop),
    .listener_size = sizeof(http_loop_listener),
    .pending_size = sizeof(http_pending),
    .pending_cache = HTTP_PENDING_CACHE,
    .init = loop_setup,
    .main = loop_main,
};
