/*
 * loop.c - the event loops: one thread each, with its own h2o context, listening sockets,
 * completion queue and connections; and their start and stop from the core's thread.
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

/* Completions handled per wake-up of the queue; the core re-signals the rest. */
#define HTTP_DRAIN_BATCH 512

static void close_listeners(http_loop *loop)
{
    if (loop->listeners_closed)
        return;
    loop->listeners_closed = true;
    for (size_t i = 0; i < loop->m->n_listeners; i++) {
        http_loop_listener *ll = &loop->listeners[i];
        if (ll->sock != NULL) {
            h2o_socket_read_stop(ll->sock);
            h2o_socket_close(ll->sock); /* closes ll->fd */
            ll->sock = NULL;
            ll->fd = -1;
        } else if (ll->fd >= 0) {
            close(ll->fd);
            ll->fd = -1;
        }
    }
    inlet_support_loopsync_unlistened(&loop->m->sync);
}

static void on_control(h2o_socket_t *sock, const char *err)
{
    http_loop *loop = sock->data;
    uint64_t v;
    ssize_t rc = read(loop->control_fd, &v, sizeof(v));
    (void)rc; /* EAGAIN: a spurious wake-up; the command word is what counts */
    (void)err;

    unsigned cmd = atomic_load(&loop->commands);
    if (cmd & (HTTP_CMD_STOP_ACCEPTING | HTTP_CMD_STOP)) {
        if (!loop->listeners_closed) {
            close_listeners(loop);
            /* HTTP/2: GOAWAY; HTTP/1.1: the next responses carry Connection: close. */
            h2o_context_request_shutdown(&loop->ctx);
        }
    }
    if (cmd & HTTP_CMD_STOP)
        loop->stopping = true;
}

static void on_queue(h2o_socket_t *sock, const char *err)
{
    http_loop *loop = sock->data;
    (void)err;
    loop->m->host->queue_drain(loop->queue, http_ingest_on_completion, loop, HTTP_DRAIN_BATCH);
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
    return loop->m->host->queue_pending(loop->queue) == 0;
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
                 loop->index, m->host->queue_pending(loop->queue));
    http_ingest_abandon_waiting(loop);

    h2o_evloop_run(loop->evloop, 0); /* HTTP/2 starts its writes from the loop */
    run_until(loop, no_writes, inlet_support_monotonic_ms() + 1000);
    http_conns_shutdown(loop);
    if (!run_until(loop, no_connections, inlet_support_monotonic_ms() + 1000)) {
        HTTP_LOG(m, INLET_LOG_ERROR, "loop %zu: connections would not close; leaking them",
                 loop->index);
        return false;
    }
    return true;
}

static void loop_teardown(http_loop *loop, bool h2o_clean)
{
    http_module *m = loop->m;

    close_listeners(loop);
    if (loop->queue_sock != NULL) {
        h2o_socket_read_stop(loop->queue_sock);
        h2o_socket_close(loop->queue_sock);
        loop->queue_sock = NULL;
    }
    if (loop->control_sock != NULL) {
        h2o_socket_read_stop(loop->control_sock);
        h2o_socket_close(loop->control_sock); /* closes control_fd */
        loop->control_sock = NULL;
        loop->control_fd = -1;
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
    inlet_support_pending_free(&loop->pending);
    if (loop->queue != NULL && m->host->queue_pending(loop->queue) == 0) {
        m->host->queue_free(loop->queue);
        loop->queue = NULL;
    } else if (loop->queue != NULL) {
        /* The core may still complete into it; freeing it would be worse than leaking it. */
        HTTP_LOG(m, INLET_LOG_ERROR, "loop %zu: completion queue kept, %zu submissions pending",
                 loop->index, m->host->queue_pending(loop->queue));
    }
    http_h2o_release_thread_caches();
}

static int loop_init(http_loop *loop, char *err, size_t err_len)
{
    http_module *m = loop->m;

    loop->evloop = h2o_evloop_create();
    h2o_context_init(&loop->ctx, loop->evloop, &m->globalconf);
    loop->ctx_ready = true;

    int qfd = dup(m->host->queue_fd(loop->queue)); /* h2o closes what it watches */
    if (qfd < 0) {
        snprintf(err, err_len, "dup: %s", strerror(errno));
        return -1;
    }
    loop->queue_sock = h2o_evloop_socket_create(loop->evloop, qfd, H2O_SOCKET_FLAG_DONT_READ);
    loop->queue_sock->data = loop;
    h2o_socket_read_start(loop->queue_sock, on_queue);

    loop->control_sock =
        h2o_evloop_socket_create(loop->evloop, loop->control_fd, H2O_SOCKET_FLAG_DONT_READ);
    loop->control_sock->data = loop;
    h2o_socket_read_start(loop->control_sock, on_control);

    for (size_t i = 0; i < m->n_listeners; i++) {
        http_loop_listener *ll = &loop->listeners[i];
        ll->accept_ctx.ctx = &loop->ctx;
        ll->accept_ctx.hosts = m->globalconf.hosts;
        ll->accept_ctx.ssl_ctx = ll->listener->ssl_ctx;
        ll->accept_ctx.expect_proxy_line = ll->listener->cfg->proxy_protocol;
        ll->sock = h2o_evloop_socket_create(loop->evloop, ll->fd, H2O_SOCKET_FLAG_DONT_READ);
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

    inlet_support_loopsync_ready(&m->sync, loop->index, rc, err);

    while (rc == 0 && !loop->stopping) {
        if (h2o_evloop_run(loop->evloop, INT32_MAX) != 0 && errno != EINTR) {
            HTTP_LOG(m, INLET_LOG_ERROR, "loop %zu: event loop failed: %s", loop->index,
                     strerror(errno));
            break;
        }
    }
    /* Wait for stop() even after a failure, so that teardown has one path. */
    while (!(atomic_load(&loop->commands) & HTTP_CMD_STOP))
        if (h2o_evloop_run(loop->evloop, 100) != 0)
            usleep(100 * 1000);

    bool clean = drain_and_close(loop);
    loop_teardown(loop, clean);
    return NULL;
}

/* ---- lifecycle, on the core's thread ---- */

static void loop_signal(http_loop *loop, unsigned cmd)
{
    inlet_support_loop_signal(&loop->commands, loop->control_fd, cmd);
}

/* Bind every listener of one loop. */
static int loop_bind(http_module *m, http_loop *loop, char *err, size_t err_len)
{
    for (size_t i = 0; i < m->n_listeners; i++) {
        int fd = http_listener_bind(&m->listeners[i], loop->index == 0, err, err_len);
        if (fd < 0)
            return -1;
        loop->listeners[i].fd = fd;
    }
    return 0;
}

int http_loops_start(http_module *m, char *err, size_t err_len)
{
    m->n_loops = (size_t)m->cfg->threads;
    m->loops = calloc(m->n_loops, sizeof(*m->loops));
    if (m->loops == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < m->n_loops; i++) {
        http_loop *loop = &m->loops[i];
        loop->m = m;
        loop->index = i;
        loop->control_fd = -1;
        h2o_linklist_init_anchor(&loop->conns);
        h2o_linklist_init_anchor(&loop->waiting);
        inlet_support_pending_init(&loop->pending, sizeof(http_pending), HTTP_PENDING_CACHE);
        loop->listeners = calloc(m->n_listeners, sizeof(*loop->listeners));
        if (loop->listeners == NULL) {
            snprintf(err, err_len, "out of memory");
            goto fail;
        }
        for (size_t j = 0; j < m->n_listeners; j++) {
            loop->listeners[j].loop = loop;
            loop->listeners[j].listener = &m->listeners[j];
            loop->listeners[j].fd = -1;
        }
        if (loop_bind(m, loop, err, err_len) != 0)
            goto fail;
        if (inlet_support_loop_open(m->host, m->mod, &loop->control_fd, &loop->queue, err,
                                    err_len) != 0)
            goto fail;
    }

    for (size_t i = 0; i < m->n_loops; i++) {
        http_loop *loop = &m->loops[i];
        char name[16];
        snprintf(name, sizeof(name), "inlet-http/%u", (unsigned)(i & 0xff)); /* threads <= 256 */
        if (inlet_support_thread_start(&loop->thread, loop_main, loop, name, err, err_len) != 0)
            goto fail;
        loop->thread_started = true;
    }

    if (inlet_support_loopsync_wait_ready(&m->sync, m->n_loops, err, err_len) != 0)
        goto fail;
    return 0;

fail:
    http_loops_stop(m);
    return -1;
}

void http_loops_stop_accepting(http_module *m)
{
    size_t running = 0;

    for (size_t i = 0; i < m->n_loops; i++) {
        if (m->loops[i].thread_started) {
            loop_signal(&m->loops[i], HTTP_CMD_STOP_ACCEPTING);
            running++;
        }
    }
    /* Return once the ports are closed, so the caller can rely on it; bounded. */
    inlet_support_loopsync_wait_unlistened(&m->sync, running, 2000);
}

void http_loops_stop(http_module *m)
{
    for (size_t i = 0; i < m->n_loops; i++)
        if (m->loops[i].thread_started)
            loop_signal(&m->loops[i], HTTP_CMD_STOP);
    for (size_t i = 0; i < m->n_loops; i++) {
        http_loop *loop = &m->loops[i];
        if (loop->thread_started) {
            pthread_join(loop->thread, NULL);
            loop->thread_started = false;
        }
    }
}

void http_loops_free(http_module *m)
{
    for (size_t i = 0; m->loops != NULL && i < m->n_loops; i++) {
        http_loop *loop = &m->loops[i];
        /* a thread that ran has already closed and freed what it owned */
        for (size_t j = 0; loop->listeners != NULL && j < m->n_listeners; j++)
            if (loop->listeners[j].fd >= 0 && loop->listeners[j].sock == NULL)
                close(loop->listeners[j].fd);
        if (loop->control_fd >= 0 && loop->control_sock == NULL)
            close(loop->control_fd);
        if (loop->queue != NULL && m->host->queue_pending(loop->queue) == 0)
            m->host->queue_free(loop->queue);
        free(loop->listeners);
    }
    free(m->loops);
    m->loops = NULL;
    m->n_loops = 0;
}
