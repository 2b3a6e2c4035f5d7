/*
 * loop.c - the epoll loop of each thread: accept, read and process, drain completions, write,
 * and the once-a-second timer sweep (hello timeout, keep alive, linger). The support library
 * (../support/loops.c) binds the listeners per loop and starts and stops the threads.
 *
 * Connection sockets are edge-triggered and registered once for input and output, so pausing a
 * socket (back-pressure) or waiting for output costs no epoll_ctl(). Timers are a sweep over
 * the loop's connections once a second rather than a wheel: deadlines are whole seconds and a
 * check is a few comparisons, so even 100,000 connections cost well under a millisecond.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "binary.h"

_Static_assert(offsetof(bin_loop, base) == 0 && offsetof(bin_loop_listener, base) == 0,
               "the support library finds its part first");

#define BIN_EPOLL_EVENTS 256
#define BIN_ACCEPT_BATCH 64
#define BIN_DRAIN_BATCH  1024

static uint32_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

bool bin_loop_saturated(const bin_loop *loop)
{
    return loop->inflight >= (size_t)loop->m->cfg->max_inflight_per_thread;
}

void bin_loop_publish(bin_loop *loop)
{
    bin_module *m = loop->m;
    const inlet_host *h = m->host;
    if (loop->n_data != 0) {
        h->metric_add(m->metrics.frames[BIN_DATA - BIN_HELLO], loop->n_data);
        loop->n_data = 0;
    }
    if (loop->n_acks_ok != 0) {
        bin_count_ack_n(m, BIN_ST_OK, loop->n_acks_ok);
        loop->n_acks_ok = 0;
    }
    if (loop->inflight != loop->inflight_published) {
        h->metric_add(m->metrics.inflight,
                      (int64_t)loop->inflight - (int64_t)loop->inflight_published);
        loop->inflight_published = loop->inflight;
    }
}

static void conn_accepted(inlet_support_loop *base, const inlet_support_listener *l, int fd,
                          const struct sockaddr_storage *peer, inlet_support_conn_ticket *ticket)
{
    (void)peer;
    bin_conn_accept((bin_loop *)base, l, fd, ticket);
}

static void on_control(bin_loop *loop)
{
    unsigned cmd = inlet_support_loop_commands(&loop->base, true);
    if (cmd & (INLET_SUPPORT_LOOP_STOP_ACCEPTING | INLET_SUPPORT_LOOP_STOP)) {
        loop->draining = true;
        inlet_support_loop_close_listeners(&loop->base);
    }
}

static void on_queue(bin_loop *loop)
{
    bool was_saturated = bin_loop_saturated(loop);
    loop->m->host->queue_drain(loop->base.queue, bin_data_on_completion, loop, BIN_DRAIN_BATCH);
    if (was_saturated && !bin_loop_saturated(loop)) {
        while (!bin_list_empty(&loop->stalled)) {
            bin_conn *c = BIN_CONTAINER(loop->stalled.next, bin_conn, ready_link);
            bin_list_unlink(&c->ready_link);
            c->in_ready = false;
            bin_conn_wake(c);
        }
    }
}

static void run_ready(bin_loop *loop)
{
    bin_list batch;
    if (bin_list_empty(&loop->ready))
        return;
    batch.next = loop->ready.next;
    batch.prev = loop->ready.prev;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    bin_list_init(&loop->ready);
    while (!bin_list_empty(&batch)) {
        bin_conn *c = BIN_CONTAINER(batch.next, bin_conn, ready_link);
        bin_list_unlink(&c->ready_link);
        c->in_ready = false;
        bin_conn_read(c);
    }
}

static void run_flush(bin_loop *loop)
{
    while (!bin_list_empty(&loop->flush)) {
        bin_conn *c = BIN_CONTAINER(loop->flush.next, bin_conn, flush_link);
        bin_list_unlink(&c->flush_link);
        c->in_flush = false;
        bin_conn_flush(c);
    }
}

static void sweep(bin_loop *loop)
{
    if (loop->now_s == loop->swept_s)
        return;
    loop->swept_s = loop->now_s;
    for (bin_list *n = loop->conns.next, *next; n != &loop->conns; n = next) {
        next = n->next; /* a tick may close the connection, moving it off the list */
        bin_conn_tick(BIN_CONTAINER(n, bin_conn, link));
    }
}

static int loop_turn(bin_loop *loop, int timeout_ms)
{
    struct epoll_event events[BIN_EPOLL_EVENTS];

    if (!bin_list_empty(&loop->ready) || !bin_list_empty(&loop->flush))
        timeout_ms = 0;
    else if (timeout_ms < 0 || timeout_ms > 1000)
        timeout_ms = 1000; /* the timer sweep */
    int n = epoll_wait(loop->epfd, events, BIN_EPOLL_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    loop->now_s = monotonic_s();

    for (int i = 0; i < n; i++) {
        bin_poll *p = events[i].data.ptr;
        switch (p->kind) {
        case BIN_POLL_CONN:
            bin_conn_on_event(BIN_CONTAINER(p, bin_conn, poll), events[i].events);
            break;
        case BIN_POLL_LISTENER:
            inlet_support_accept_run(&loop->acceptor,
                                     &BIN_CONTAINER(p, bin_loop_listener, poll)->base,
                                     inlet_support_monotonic_ms());
            break;
        case BIN_POLL_CONTROL:
            on_control(loop);
            break;
        case BIN_POLL_QUEUE:
            on_queue(loop);
            break;
        default:
            break;
        }
    }
    sweep(loop);
    inlet_support_accept_tick(&loop->acceptor, inlet_support_monotonic_ms());
    run_ready(loop);
    run_flush(loop);
    bin_conn_reap(loop);
    bin_loop_publish(loop);
    return 0;
}

static int loop_init(bin_loop *loop, char *err, size_t err_len)
{
    bin_module *m = loop->m;

    loop->queue_poll.kind = BIN_POLL_QUEUE;
    loop->control_poll.kind = BIN_POLL_CONTROL;
    if (inlet_support_loop_epoll_open(&loop->base, &loop->epfd, &loop->queue_poll,
                                      &loop->control_poll, err, err_len) != 0)
        return -1;
    if ((loop->rbuf = malloc(BIN_READ_CHUNK)) == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    loop->now_s = loop->swept_s = monotonic_s();
    loop->acceptor = (inlet_support_acceptor){
        .loop = &loop->base,
        .epfd = loop->epfd,
        .tag_at = offsetof(bin_loop_listener, poll),
        .batch = BIN_ACCEPT_BATCH,
        .refused_listener = m->metrics.refused_listener,
        .refused_address = m->metrics.refused_address,
        .accepted = conn_accepted,
    };
    for (size_t i = 0; i < m->loopset.n_listeners; i++) {
        bin_loop_listener *ll = inlet_support_loop_listener_at(&loop->base, i);
        ll->poll.kind = BIN_POLL_LISTENER;
        if (inlet_support_epoll_add(loop->epfd, ll->base.fd, EPOLLIN, &ll->poll) != 0) {
            snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/*
 * stop(): the core has drained Kafka (bounded), so the completions are (nearly) all queued.
 * Deliver them, which sends the ACKs owed, then CLOSE 0x8B to every connection.
 */
static void drain_and_close(bin_loop *loop)
{
    bin_module *m = loop->m;
    uint64_t deadline = inlet_support_monotonic_ms() + (uint64_t)m->cfg->shutdown_timeout_ms;

    while (loop->inflight > 0 && inlet_support_monotonic_ms() < deadline)
        loop_turn(loop, 50);
    if (loop->inflight > 0)
        BIN_LOG(m, INLET_LOG_WARN, "loop %zu: %zu frames still unacknowledged at stop",
                loop->base.index, loop->inflight);
    for (bin_list *n = loop->conns.next, *next; n != &loop->conns; n = next) {
        next = n->next;
        bin_conn *c = BIN_CONTAINER(n, bin_conn, link);
        if (c->state == BIN_CONN_OPEN)
            bin_conn_close(c, true, BIN_ST_SHUTTING_DOWN, "server shutting down",
                           BIN_CLOSE_SHUTDOWN);
        else if (c->state != BIN_CONN_CLOSING)
            bin_conn_abort(c, BIN_CLOSE_SHUTDOWN);
    }
    run_flush(loop);
    deadline = inlet_support_monotonic_ms() + 1000;
    while (!bin_list_empty(&loop->conns) && inlet_support_monotonic_ms() < deadline)
        loop_turn(loop, 50);
    while (!bin_list_empty(&loop->conns))
        bin_conn_abort(BIN_CONTAINER(loop->conns.next, bin_conn, link), BIN_CLOSE_SHUTDOWN);
}

static void loop_teardown(bin_loop *loop)
{
    bin_module *m = loop->m;

    inlet_support_loop_close_listeners(&loop->base);
    while (!bin_list_empty(&loop->conns))
        bin_conn_abort(BIN_CONTAINER(loop->conns.next, bin_conn, link), BIN_CLOSE_SHUTDOWN);
    if (loop->base.queue != NULL && loop->epfd >= 0) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, m->host->queue_fd(loop->base.queue), NULL);
        /* completions that still come free their connections; the rest stay zombies */
        m->host->queue_drain(loop->base.queue, bin_data_on_completion, loop, 0);
    }
    inlet_support_loop_release_queue(&loop->base);
    bin_conn_reap(loop);
    bin_loop_publish(loop);
    if (loop->epfd >= 0) {
        close(loop->epfd);
        loop->epfd = -1;
    }
}

static void *loop_main(void *arg)
{
    bin_loop *loop = arg;
    char err[200] = "";
    int rc = loop_init(loop, err, sizeof(err));

    inlet_support_loop_ready(&loop->base, rc, err);
    while (rc == 0 && !loop->base.stopping) {
        if (loop_turn(loop, -1) != 0) {
            BIN_LOG(loop->m, INLET_LOG_ERROR, "loop %zu: epoll_wait failed: %s", loop->base.index,
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

/* ---- set-up, on the core's thread ---- */

static int loop_setup(void *arg, void *module, char *err, size_t err_len)
{
    bin_loop *loop = arg;
    (void)err;
    (void)err_len;
    loop->m = module;
    loop->epfd = -1;
    bin_list_init(&loop->conns);
    bin_list_init(&loop->ready);
    bin_list_init(&loop->stalled);
    bin_list_init(&loop->flush);
    bin_list_init(&loop->zombies);
    bin_list_init(&loop->pending);
    bin_list_init(&loop->dead);
    return 0;
}

static void loop_fini(void *arg)
{
    bin_loop *loop = arg;
    if (loop->epfd >= 0)
        close(loop->epfd);
    /* submissions whose completions never came: nothing will drain the queue any more, so
     * their records and the connections they hold are freed here */
    while (loop->pending.next != NULL && !bin_list_empty(&loop->pending)) {
        bin_pending *p = BIN_CONTAINER(loop->pending.next, bin_pending, link);
        bin_list_unlink(&p->link);
        free(p);
    }
    while (!bin_list_empty(&loop->zombies)) {
        bin_conn *c = BIN_CONTAINER(loop->zombies.next, bin_conn, link);
        bin_list_unlink(&c->link);
        bin_conn_free(c);
    }
    if (loop->dead.next != NULL)
        bin_conn_reap(loop);
    bin_conn_out_cache_free(loop);
    free(loop->rbuf);
}

const inlet_support_loop_spec bin_loop_spec = {
    .thread_name = "inlet-binary",
    .scheme = "inlet-binary",
    .tls_scheme = "inlet-binary+tls",
    .backlog = BIN_LISTEN_BACKLOG,
    .loop_size = sizeof(bin_loop),
    .listener_size = sizeof(bin_loop_listener),
    .pending_size = sizeof(bin_pending),
    .pending_cache = BIN_PENDING_CACHE,
    .init = loop_setup,
    .fini = loop_fini,
    .main = loop_main,
};
