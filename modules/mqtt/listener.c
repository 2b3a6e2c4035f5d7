/*
 * listener.c - the epoll loop of each thread.
 *
 * The support library (../support/loops.c) binds every listener once per loop (SO_REUSEPORT:
 * the kernel spreads connections over the loops) on the core's thread, so that "address in use"
 * is reported synchronously, and starts and stops the threads. Each loop runs on its own
 * thread: epoll_wait, accept, read and process, drain completions, write, timers. Connection
 * sockets are edge-triggered and registered once for input and output, so pausing a socket
 * (back-pressure) or waiting for output costs no epoll_ctl() call.
 *
 * The core's thread and the other loops talk to a loop only through its eventfd plus an atomic
 * command word, and its inbox of connections handed over (session affinity, mqtt.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mqtt.h"

_Static_assert(offsetof(mqtt_loop, base) == 0 && offsetof(mqtt_loop_listener, base) == 0,
               "the support library finds its part first");

#define MQTT_EPOLL_EVENTS 256
/* Connections taken per wake-up of a listening socket, so that a connection storm does not
 * starve the loop's established connections. */
#define MQTT_ACCEPT_BATCH 64
/* Completions handled per wake-up of the queue; the core re-signals the rest. */
#define MQTT_DRAIN_BATCH 1024

/* A reconnect storm after an outage is the normal case for a fleet: a deep backlog. */
#define MQTT_LISTEN_BACKLOG 4096

/* ---- time ---- */

static uint32_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

/* ---- the loop ---- */

bool mqtt_loop_saturated(const mqtt_loop *loop)
{
    return loop->inflight >= (size_t)loop->m->cfg->max_inflight_per_thread;
}

static void conn_accepted(inlet_support_loop *base, const inlet_support_listener *l, int fd,
                          const struct sockaddr_storage *peer, inlet_support_conn_ticket *ticket)
{
    (void)peer;
    mqtt_conn_accept((mqtt_loop *)base, l, fd, ticket);
}

static void handle_inbox(mqtt_loop *loop)
{
    mqtt_list in;
    mqtt_list_init(&in);
    pthread_mutex_lock(&loop->inbox_mu);
    if (!mqtt_list_empty(&loop->inbox)) {
        in.next = loop->inbox.next;
        in.prev = loop->inbox.prev;
        in.next->prev = &in;
        in.prev->next = &in;
        mqtt_list_init(&loop->inbox);
    }
    pthread_mutex_unlock(&loop->inbox_mu);

    while (!mqtt_list_empty(&in)) {
        mqtt_conn *c = MQTT_CONTAINER(in.next, mqtt_conn, ready_link);
        mqtt_list_unlink(&c->ready_link);
        if (mqtt_conn_adopt(loop, c) != 0)
            continue;
        mqtt_connect_attach(loop, c);
        /* input that came with the CONNECT waits in c->in (or in OpenSSL's buffer) */
        mqtt_conn_wake(c);
    }
}

static void on_control(mqtt_loop *loop)
{
    /* cleared: INBOX comes again and again; STOP is kept in base.stopping */
    unsigned cmd = inlet_support_loop_commands(&loop->base, true);
    if (cmd & MQTT_CMD_INBOX)
        handle_inbox(loop);
    if (cmd & (INLET_SUPPORT_LOOP_STOP_ACCEPTING | INLET_SUPPORT_LOOP_STOP)) {
        loop->draining = true;
        inlet_support_loop_close_listeners(&loop->base);
    }
}

bool mqtt_loop_post(mqtt_loop *to, mqtt_conn *c)
{
    pthread_mutex_lock(&to->inbox_mu);
    bool open = !to->inbox_closed;
    if (open)
        mqtt_list_push(&to->inbox, &c->ready_link);
    pthread_mutex_unlock(&to->inbox_mu);
    if (open)
        inlet_support_loop_signal(&to->base, MQTT_CMD_INBOX);
    return open;
}

static void on_queue(mqtt_loop *loop)
{
    bool was_saturated = mqtt_loop_saturated(loop);
    loop->m->host->queue_drain(loop->base.queue, mqtt_publish_on_completion, loop,
                               MQTT_DRAIN_BATCH);
    /* Room again: every connection parked for the loop-wide bound may read. */
    if (was_saturated && !mqtt_loop_saturated(loop)) {
        while (!mqtt_list_empty(&loop->stalled)) {
            mqtt_conn *c = MQTT_CONTAINER(loop->stalled.next, mqtt_conn, ready_link);
            mqtt_list_unlink(&c->ready_link);
            c->in_ready = false;
            mqtt_conn_wake(c);
        }
    }
}

/* Read from the connections that have input and may process it; each gets one budget per
 * iteration, and those that used it up go round again after the next epoll_wait. */
static void run_ready(mqtt_loop *loop)
{
    mqtt_list batch;
    if (mqtt_list_empty(&loop->ready))
        return;
    batch.next = loop->ready.next;
    batch.prev = loop->ready.prev;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    mqtt_list_init(&loop->ready);
    while (!mqtt_list_empty(&batch)) {
        mqtt_conn *c = MQTT_CONTAINER(batch.next, mqtt_conn, ready_link);
        mqtt_list_unlink(&c->ready_link);
        c->in_ready = false;
        mqtt_conn_read(c);
    }
}

static void run_flush(mqtt_loop *loop)
{
    while (!mqtt_list_empty(&loop->flush)) {
        mqtt_conn *c = MQTT_CONTAINER(loop->flush.next, mqtt_conn, flush_link);
        mqtt_list_unlink(&c->flush_link);
        c->in_flush = false;
        mqtt_conn_flush(c);
    }
}

static void free_closed(mqtt_loop *loop)
{
    while (!mqtt_list_empty(&loop->closed)) {
        mqtt_conn *c = MQTT_CONTAINER(loop->closed.next, mqtt_conn, link);
        mqtt_list_unlink(&c->link);
        mqtt_conn_free(c);
    }
}

/* One turn of the loop: wait at most timeout_ms, then handle everything that is due. */
static int loop_turn(mqtt_loop *loop, int timeout_ms)
{
    struct epoll_event events[MQTT_EPOLL_EVENTS];

    if (!mqtt_list_empty(&loop->ready) || !mqtt_list_empty(&loop->flush))
        timeout_ms = 0;
    else if (loop->wheel.count > 0 || loop->acceptor.paused)
        timeout_ms = timeout_ms < 0 || timeout_ms > 1000 ? 1000 : timeout_ms;
    int n = epoll_wait(loop->epfd, events, MQTT_EPOLL_EVENTS, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return -1;
    }
    loop->now_s = monotonic_s();

    for (int i = 0; i < n; i++) {
        mqtt_poll *p = events[i].data.ptr;
        switch (p->kind) {
        case MQTT_POLL_CONN:
            mqtt_conn_on_event(MQTT_CONTAINER(p, mqtt_conn, poll), events[i].events);
            break;
        case MQTT_POLL_LISTENER:
            inlet_support_accept_run(&loop->acceptor,
                                     &MQTT_CONTAINER(p, mqtt_loop_listener, poll)->base,
                                     inlet_support_monotonic_ms());
            break;
        case MQTT_POLL_CONTROL:
            on_control(loop);
            break;
        case MQTT_POLL_QUEUE:
            on_queue(loop);
            break;
        default:
            break;
        }
    }
    mqtt_wheel_advance(loop, &loop->wheel, loop->now_s);
    inlet_support_accept_tick(&loop->acceptor, inlet_support_monotonic_ms());
    run_ready(loop);
    run_flush(loop);
    free_closed(loop);
    return 0;
}

static int loop_init(mqtt_loop *loop, char *err, size_t err_len)
{
    mqtt_module *m = loop->m;

    loop->queue_poll.kind = MQTT_POLL_QUEUE;
    loop->control_poll.kind = MQTT_POLL_CONTROL;
    if (inlet_support_loop_epoll_open(&loop->base, &loop->epfd, &loop->queue_poll,
                                      &loop->control_poll, err, err_len) != 0)
        return -1;
    loop->rbuf = malloc(MQTT_READ_CHUNK);
    loop->headers = calloc(MQTT_MAX_USER_PROPERTIES, sizeof(*loop->headers));
    if (loop->rbuf == NULL || loop->headers == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    loop->now_s = monotonic_s();
    mqtt_wheel_init(&loop->wheel, loop->now_s);
    if (getrandom(&loop->rng, sizeof(loop->rng), 0) != (ssize_t)sizeof(loop->rng) || loop->rng == 0)
        loop->rng = inlet_support_monotonic_ms() * 0x9e3779b97f4a7c15u + loop->base.index + 1;

    loop->acceptor = (inlet_support_acceptor){
        .loop = &loop->base,
        .epfd = loop->epfd,
        .tag_at = offsetof(mqtt_loop_listener, poll),
        .batch = MQTT_ACCEPT_BATCH,
        .refused_listener = m->metrics.refused_listener,
        .refused_address = m->metrics.refused_address,
        .accepted = conn_accepted,
    };
    for (size_t i = 0; i < m->loopset.n_listeners; i++) {
        mqtt_loop_listener *ll = mqtt_loop_listener_at(loop, i);
        ll->poll.kind = MQTT_POLL_LISTENER;
        if (inlet_support_epoll_add(loop->epfd, ll->base.fd, EPOLLIN, &ll->poll) != 0) {
            snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

static bool all_closed(mqtt_loop *loop)
{
    return mqtt_list_empty(&loop->conns);
}

/*
 * stop(): the core has drained Kafka (bounded), so the completions are (nearly) all queued.
 * Deliver them, which sends the PUBACKs and PUBRECs owed, then say goodbye: MQTT 5 clients get
 * DISCONNECT 0x8B (server shutting down). Connections get a moment to read it and close.
 */
static void drain_and_close(mqtt_loop *loop)
{
    mqtt_module *m = loop->m;
    uint64_t deadline = inlet_support_monotonic_ms() + (uint64_t)m->cfg->shutdown_timeout_ms;

    while (loop->inflight > 0 && inlet_support_monotonic_ms() < deadline)
        loop_turn(loop, 50);
    if (loop->inflight > 0)
        MQTT_LOG(m, INLET_LOG_WARN, "loop %zu: %zu publishes still unacknowledged at stop",
                 loop->base.index, loop->inflight);

    /* conns is walked with a saved next: closing moves a connection to loop->closed */
    for (mqtt_list *n = loop->conns.next, *next; n != &loop->conns; n = next) {
        next = n->next;
        mqtt_conn *c = MQTT_CONTAINER(n, mqtt_conn, link);
        if (c->state == MQTT_CONN_CONNECTED)
            mqtt_conn_close(c, MQTT_RC_SERVER_SHUTTING_DOWN, "server shutting down",
                            MQTT_CLOSE_SHUTDOWN);
        else if (c->state != MQTT_CONN_CLOSING)
            mqtt_conn_abort(c, MQTT_CLOSE_SHUTDOWN);
    }
    run_flush(loop);
    free_closed(loop);
    deadline = inlet_support_monotonic_ms() + 1000;
    while (!all_closed(loop) && inlet_support_monotonic_ms() < deadline)
        loop_turn(loop, 50);
    while (!mqtt_list_empty(&loop->conns))
        mqtt_conn_abort(MQTT_CONTAINER(loop->conns.next, mqtt_conn, link), MQTT_CLOSE_SHUTDOWN);
    free_closed(loop);
}

static void loop_teardown(mqtt_loop *loop)
{
    mqtt_module *m = loop->m;

    inlet_support_loop_close_listeners(&loop->base);
    /* Connections handed over after this loop stopped are dropped, not adopted. */
    pthread_mutex_lock(&loop->inbox_mu);
    loop->inbox_closed = true;
    while (!mqtt_list_empty(&loop->inbox)) {
        mqtt_conn *c = MQTT_CONTAINER(loop->inbox.next, mqtt_conn, ready_link);
        mqtt_list_unlink(&c->ready_link);
        mqtt_list_push(&loop->conns, &c->link);
        loop->n_conns++;
        mqtt_conn_abort(c, MQTT_CLOSE_SHUTDOWN);
    }
    pthread_mutex_unlock(&loop->inbox_mu);
    free_closed(loop);

    mqtt_sessions_free_all(loop);
    mqtt_out_cache_free(loop);
    if (loop->base.queue != NULL && loop->epfd >= 0)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, m->host->queue_fd(loop->base.queue), NULL);
    inlet_support_loop_release_queue(&loop->base);
    if (loop->epfd >= 0) {
        close(loop->epfd);
        loop->epfd = -1;
    }
    free(loop->rbuf);
    loop->rbuf = NULL;
    free(loop->scratch);
    loop->scratch = NULL;
    free(loop->headers);
    loop->headers = NULL;
}

static void *loop_main(void *arg)
{
    mqtt_loop *loop = arg;
    mqtt_module *m = loop->m;
    char err[200] = "";
    int rc = loop_init(loop, err, sizeof(err));

    inlet_support_loop_ready(&loop->base, rc, err);

    while (rc == 0 && !loop->base.stopping) {
        if (loop_turn(loop, -1) != 0) {
            MQTT_LOG(m, INLET_LOG_ERROR, "loop %zu: epoll_wait failed: %s", loop->base.index,
                     strerror(errno));
            rc = -1;
        }
    }
    /* Wait for stop() even after a failure, so that teardown has one path. */
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
    mqtt_loop *loop = arg;
    (void)err;
    (void)err_len;
    loop->m = module;
    loop->epfd = -1;
    pthread_mutex_init(&loop->inbox_mu, NULL);
    mqtt_list_init(&loop->inbox);
    mqtt_list_init(&loop->conns);
    mqtt_list_init(&loop->ready);
    mqtt_list_init(&loop->stalled);
    mqtt_list_init(&loop->flush);
    mqtt_list_init(&loop->closed);
    return 0;
}

/* What a thread that never ran (or failed early) left. */
static void loop_fini(void *arg)
{
    mqtt_loop *loop = arg;
    if (loop->epfd >= 0)
        close(loop->epfd);
    free(loop->rbuf);
    free(loop->scratch);
    free(loop->headers);
    pthread_mutex_destroy(&loop->inbox_mu);
}

const inlet_support_loop_spec mqtt_loop_spec = {
    .thread_name = "inlet-mqtt",
    .scheme = "mqtt",
    .tls_scheme = "mqtts",
    .backlog = MQTT_LISTEN_BACKLOG,
    .loop_size = sizeof(mqtt_loop),
    .listener_size = sizeof(mqtt_loop_listener),
    .pending_size = sizeof(mqtt_pending),
    .pending_cache = MQTT_PENDING_CACHE,
    .init = loop_setup,
    .fini = loop_fini,
    .main = loop_main,
};
