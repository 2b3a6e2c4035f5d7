/*
 * loop.c - the epoll loop of each thread: accept, connection events, completions, the ready and
 * stalled lists, the once-a-second timeout sweep, and the drain at stop.
 *
 * The support library (../support/loops.c) binds every listener once per loop (SO_REUSEPORT),
 * on the core's thread, and starts and stops the threads; the core's thread talks to a loop
 * only through its command word and eventfd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "teltonika.h"

_Static_assert(offsetof(tlt_loop, base) == 0 && offsetof(tlt_loop_listener, base) == 0,
               "the support library finds its part first");

#define TLT_EPOLL_EVENTS   256
#define TLT_ACCEPT_BATCH   64
#define TLT_DRAIN_BATCH    1024
#define TLT_LISTEN_BACKLOG 4096 /* a fleet reconnecting after an outage */
#define TLT_PENDING_CACHE  4096u

#define CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

bool tlt_loop_saturated(const tlt_loop *loop)
{
    return loop->inflight >= (size_t)loop->m->cfg->max_inflight_per_thread;
}

void tlt_loop_ready(tlt_loop *loop, tlt_conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    c->queue_next = NULL;
    if (loop->ready_tail)
        loop->ready_tail->queue_next = c;
    else
        loop->ready = c;
    loop->ready_tail = c;
}

void tlt_loop_stall(tlt_loop *loop, tlt_conn *c)
{
    if (c->queued)
        return;
    c->queued = true;
    c->queue_next = loop->stalled;
    loop->stalled = c;
}

static void conn_accepted(inlet_support_loop *base, const inlet_support_listener *l, int fd,
                          const struct sockaddr_storage *peer, inlet_support_conn_ticket *ticket)
{
    (void)peer;
    tlt_conn_accept((tlt_loop *)base, l, fd, ticket);
}

static void on_control(tlt_loop *loop)
{
    unsigned cmd = inlet_support_loop_commands(&loop->base, true);
    if (cmd & (INLET_SUPPORT_LOOP_STOP_ACCEPTING | INLET_SUPPORT_LOOP_STOP)) {
        loop->draining = true;
        inlet_support_loop_close_listeners(&loop->base);
    }
}

static void on_queue(tlt_loop *loop)
{
    bool was_saturated = tlt_loop_saturated(loop);
    loop->m->host->queue_drain(loop->base.queue, tlt_conn_on_completion, loop, TLT_DRAIN_BATCH);
    if (was_saturated && !tlt_loop_saturated(loop)) {
        while (loop->stalled) {
            tlt_conn *c = loop->stalled;
            loop->stalled = c->queue_next;
            c->queued = false;
            tlt_loop_ready(loop, c);
        }
    }
}

static void run_ready(tlt_loop *loop)
{
    tlt_conn *c = loop->ready;
    loop->ready = loop->ready_tail = NULL;
    while (c) {
        tlt_conn *next = c->queue_next;
        c->queued = false;
        if (c->state != TLT_CLOSED) {
            c->want_read = true; /* re-read: input may be waiting behind what was processed */
            tlt_conn_read(c);
        }
        c = next;
    }
}

static void free_closed(tlt_loop *loop)
{
    tlt_conn *c = loop->closed;
    while (c) {
        tlt_conn *next = c->next;
        if (!c->in_flight && !c->queued) {
            if (c->prev)
                c->prev->next = c->next;
            else
                loop->closed = c->next;
            if (c->next)
                c->next->prev = c->prev;
            tlt_conn_free(c);
        }
        c = next;
    }
}

static void sweep_timeouts(tlt_loop *loop)
{
    uint64_t now = inlet_support_monotonic_ms();
    if (now - loop->last_tick_ms < 1000)
        return;
    loop->last_tick_ms = now;
    for (tlt_conn *c = loop->conns, *next; c; c = next) {
        next = c->next; /* a timeout moves c to the closed list */
        tlt_conn_check_timeout(c, now);
    }
}

static int loop_turn(tlt_loop *loop, int timeout_ms)
{
    struct epoll_event events[TLT_EPOLL_EVENTS];

    if (loop->ready)
        timeout_ms = 0;
    else if (timeout_ms < 0 || timeout_ms > 1000)
        timeout_ms = 1000;
    int n = epoll_wait(loop->epfd, events, TLT_EPOLL_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        tlt_poll *p = events[i].data.ptr;
        switch (p->kind) {
        case TLT_POLL_CONN:
            tlt_conn_on_event(CONTAINER(p, tlt_conn, poll), events[i].events);
            break;
        case TLT_POLL_LISTENER:
            inlet_support_accept_run(&loop->acceptor, &CONTAINER(p, tlt_loop_listener, poll)->base,
                                     inlet_support_monotonic_ms());
            break;
        case TLT_POLL_CONTROL:
            on_control(loop);
            break;
        case TLT_POLL_QUEUE:
            on_queue(loop);
            break;
        default:
            break;
        }
    }
    inlet_support_accept_tick(&loop->acceptor, inlet_support_monotonic_ms());
    run_ready(loop);
    sweep_timeouts(loop);
    free_closed(loop);
    return 0;
}

static int loop_init(tlt_loop *loop, char *err, size_t err_len)
{
    tlt_module *m = loop->m;

    loop->queue_poll.kind = TLT_POLL_QUEUE;
    loop->control_poll.kind = TLT_POLL_CONTROL;
    if (inlet_support_loop_epoll_open(&loop->base, &loop->epfd, &loop->queue_poll,
                                      &loop->control_poll, err, err_len) != 0)
        return -1;
    loop->records = calloc(256, sizeof(*loop->records));
    if (loop->records == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    loop->last_tick_ms = inlet_support_monotonic_ms();
    loop->acceptor = (inlet_support_acceptor){
        .loop = &loop->base,
        .epfd = loop->epfd,
        .tag_at = offsetof(tlt_loop_listener, poll),
        .batch = TLT_ACCEPT_BATCH,
        .refused_listener = m->metrics.refused_listener,
        .refused_address = m->metrics.refused_address,
        .accepted = conn_accepted,
    };
    for (size_t i = 0; i < m->loopset.n_listeners; i++) {
        tlt_loop_listener *ll = inlet_support_loop_listener_at(&loop->base, i);
        ll->poll.kind = TLT_POLL_LISTENER;
        if (inlet_support_epoll_add(loop->epfd, ll->base.fd, EPOLLIN, &ll->poll) != 0) {
            snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* stop(): the core has drained Kafka (bounded): deliver the completions still due, which
 * answers the trackers waiting, then close every connection. */
static void drain_and_close(tlt_loop *loop)
{
    tlt_module *m = loop->m;
    uint64_t deadline = inlet_support_monotonic_ms() + (uint64_t)m->cfg->shutdown_timeout_ms;

    while (loop->inflight > 0 && inlet_support_monotonic_ms() < deadline)
        loop_turn(loop, 50);
    if (loop->inflight > 0)
        TLT_LOG(m, INLET_LOG_WARN, "loop %zu: %zu packets still unacknowledged at stop",
                loop->base.index, loop->inflight);
    while (loop->conns)
        tlt_conn_abort(loop->conns, TLT_CLOSE_SHUTDOWN);
}

static void loop_teardown(tlt_loop *loop)
{
    tlt_module *m = loop->m;

    inlet_support_loop_close_listeners(&loop->base);
    while (loop->conns)
        tlt_conn_abort(loop->conns, TLT_CLOSE_SHUTDOWN);
    /* Nothing drains the queue any more: connections still in flight go too. */
    while (loop->closed) {
        tlt_conn *c = loop->closed;
        loop->closed = c->next;
        tlt_conn_free(c);
    }
    if (loop->base.queue != NULL && loop->epfd >= 0)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, m->host->queue_fd(loop->base.queue), NULL);
    inlet_support_loop_release_queue(&loop->base);
    if (loop->epfd >= 0) {
        close(loop->epfd);
        loop->epfd = -1;
    }
    free(loop->records);
    loop->records = NULL;
    tlt_buf_free(&loop->json);
}

static void *loop_main(void *arg)
{
    tlt_loop *loop = arg;
    char err[200] = "";
    int rc = loop_init(loop, err, sizeof(err));

    inlet_support_loop_ready(&loop->base, rc, err);
    while (rc == 0 && !loop->base.stopping) {
        if (loop_turn(loop, -1) != 0) {
            TLT_LOG(loop->m, INLET_LOG_ERROR, "loop %zu: epoll_wait failed: %s", loop->base.index,
                    strerror(errno));
            rc = -1;
        }
    }
    while (!inlet_support_loop_stop_requested(&loop->base))
        usleep(50000);
    if (rc == 0)
        drain_and_close(loop);
    loop_teardown(loop);
    return NULL;
}

static int loop_setup(void *arg, void *module, char *err, size_t err_len)
{
    tlt_loop *loop = arg;
    (void)err;
    (void)err_len;
    loop->m = module;
    loop->epfd = -1;
    return 0;
}

static void loop_fini(void *arg)
{
    tlt_loop *loop = arg;
    if (loop->epfd >= 0)
        close(loop->epfd);
    free(loop->records);
    tlt_buf_free(&loop->json);
}

const inlet_support_loop_spec tlt_loop_spec = {
    .thread_name = "inlet-teltonika",
    .scheme = "teltonika",
    .tls_scheme = "teltonika+tls",
    .backlog = TLT_LISTEN_BACKLOG,
    .loop_size = sizeof(tlt_loop),
    .listener_size = sizeof(tlt_loop_listener),
    .pending_size = sizeof(tlt_pending),
    .pending_cache = TLT_PENDING_CACHE,
    .init = loop_setup,
    .fini = loop_fini,
    .main = loop_main,
};
