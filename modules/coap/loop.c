/*
 * loop.c - a CoAP loop thread: its own libcoap context (libcoap 4.3.1 is not thread-safe) with
 * one endpoint per listener, driven by epoll on coap_context_get_coap_fd() (which also covers
 * libcoap's retransmission timer), the completion queue's fd and the control eventfd; the
 * ack_timeout timers of CON requests waiting for Kafka; the exchange cache and Block1 table.
 *
 * libcoap is driven by its two halves rather than coap_io_process(): coap_io_do_epoll() for
 * the datagrams (and its timerfd), and coap_io_prepare_epoll() -- retransmissions, DTLS
 * timeouts, idle sessions -- at most once per millisecond and when the time it returned comes.
 * coap_io_process() runs both on every call, and the second walks every session: with 1000
 * devices that walk, once per datagram and once per Kafka completion, was most of the loop's
 * CPU (docs/BENCHMARKS.md "CoAP").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "coap_module.h"

static char tag_queue, tag_control, tag_coap;

const coap_listener *coap_loop_listener_of(coap_loop *l, coap_session_t *session)
{
    const coap_address_t *local = coap_session_get_addr_local(session);
    coap_proto_t proto = coap_session_get_proto(session);
    int want = proto == COAP_PROTO_DTLS ? COAP_SECURITY_DTLS : COAP_SECURITY_NONE;
    uint16_t port = coap_address_get_port(local);
    for (size_t i = 0; i < l->m->n_listeners; i++) {
        const coap_listener *ls = &l->m->listeners[i];
        if (ls->cfg->security == want && coap_address_get_port(&ls->addr) == port &&
            ls->addr.addr.sa.sa_family == local->addr.sa.sa_family)
            return ls;
    }
    /* an IPv4 peer on a dual-stack socket, or a wildcard: the first with that port and kind */
    for (size_t i = 0; i < l->m->n_listeners; i++) {
        const coap_listener *ls = &l->m->listeners[i];
        if (ls->cfg->security == want && coap_address_get_port(&ls->addr) == port)
            return ls;
    }
    return NULL;
}

void coap_loop_timer_add(coap_loop *l, coap_pending *p)
{
    p->deadline_ms = inlet_support_monotonic_ms() + (uint64_t)l->m->cfg->ack_timeout_ms;
    p->timed = true;
    p->next = NULL;
    p->prev = l->timer_tail;
    if (l->timer_tail)
        l->timer_tail->next = p;
    else
        l->timer_head = p;
    l->timer_tail = p;
}

void coap_loop_timer_remove(coap_loop *l, coap_pending *p)
{
    if (!p->timed)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        l->timer_head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        l->timer_tail = p->prev;
    p->prev = p->next = NULL;
    p->timed = false;
}

/* CONs whose Kafka result is late: the empty ACK now stops the client's retransmissions, and
 * the response follows as a CON (RFC 7252 §5.2.2). */
static void timers_run(coap_loop *l, uint64_t now)
{
    while (l->timer_head && l->timer_head->deadline_ms <= now) {
        coap_pending *p = l->timer_head;
        coap_loop_timer_remove(l, p);
        p->empty_acked = true;
        coap_send_empty_ack(p->session, p->mid);
        coap_exchange *e = coap_exchange_find(&l->exchanges, &p->key, now);
        if (e)
            e->state = COAP_EXCHANGE_EMPTY_ACKED;
    }
}

static int next_timeout(coap_loop *l, uint64_t now)
{
    int t = 1000; /* Block1 expiry and the stop check at least once a second */
    if (l->timer_head) {
        uint64_t d = l->timer_head->deadline_ms > now ? l->timer_head->deadline_ms - now : 0;
        if (d < (uint64_t)t)
            t = (int)d;
    }
    uint64_t d = l->coap_due_ms > now ? l->coap_due_ms - now : 0;
    return d < (uint64_t)t ? (int)d : t;
}

/* libcoap's datagrams: its epoll fd (level-triggered, one datagram per endpoint and call) read
 * until empty or for a bounded number of rounds, so that completions are not starved. */
static bool loop_read(coap_loop *l)
{
    struct epoll_event ev[16];
    bool any = false;
    for (int round = 0; round < 64; round++) {
        int n = epoll_wait(l->coap_fd, ev, 16, 0);
        if (n <= 0)
            break;
        coap_io_do_epoll(l->ctx, ev, (size_t)n);
        any = true;
    }
    return any;
}

/* libcoap's timed work, when due; at most once a millisecond while datagrams keep coming (the
 * walk over every session is what costs), and at once after a send that libcoap may have to
 * retransmit (l->coap_kick). */
static void loop_timed(coap_loop *l, bool io, uint64_t now)
{
    if (!(now >= l->coap_due_ms || l->coap_kick || (io && now > l->coap_last_ms)))
        return;
    coap_tick_t t;
    coap_ticks(&t);
    unsigned int wait = coap_io_prepare_epoll(l->ctx, t);
    l->coap_last_ms = now;
    l->coap_kick = false;
    /* 0: nothing timed; still look once a second (sessions ageing out) */
    l->coap_due_ms = now + (wait ? wait : 1000);
    if (io && l->coap_due_ms > now + 1)
        l->coap_due_ms = now + 1; /* a datagram may have queued work: look again soon */
}

static int endpoints_open(coap_loop *l, char *err, size_t err_len)
{
    coap_module *m = l->m;
    for (size_t i = 0; i < m->n_listeners; i++) {
        const coap_listener *ls = &m->listeners[i];
        bool dtls = ls->cfg->security == COAP_SECURITY_DTLS;
        if (dtls && coap_dtls_setup(l, ls, err, err_len) != 0)
            return -1;
        if (!coap_new_endpoint(l->ctx, &ls->addr, dtls ? COAP_PROTO_DTLS : COAP_PROTO_UDP)) {
            snprintf(err, err_len, "listeners[%zu] %s: cannot bind (in use?)", i, ls->name);
            return -1;
        }
    }
    return 0;
}

static int loop_init(void *loop, void *module, char *err, size_t err_len)
{
    coap_loop *l = loop;
    coap_module *m = module;
    const coap_config *cfg = m->cfg;

    l->m = m;
    l->epfd = -1;
    if (coap_exchange_cache_init(&l->exchanges, (size_t)cfg->dedup_entries,
                                 (uint64_t)cfg->exchange_lifetime_ms, m->seed + l->base.index) ||
        coap_block1_init(&l->blocks, (size_t)cfg->max_block_transfers, cfg->max_body_size,
                         (uint64_t)cfg->block_timeout_ms)) {
        snprintf(err, err_len, "loop %zu: out of memory", l->base.index);
        return -1;
    }
    return 0;
}

static void loop_fini(void *loop)
{
    coap_loop *l = loop;
    coap_exchange_cache_free(&l->exchanges);
    coap_block1_free(&l->blocks);
}

static int loop_open(coap_loop *l, char *err, size_t err_len)
{
    coap_module *m = l->m;
    if ((l->ctx = coap_new_context(NULL)) == NULL) {
        snprintf(err, err_len, "coap_new_context failed");
        return -1;
    }
    coap_set_app_data(l->ctx, l);
    /* No COAP_BLOCK_USE_LIBCOAP: block1.c sees every block and bounds the body (see there). */
    coap_context_set_block_mode(l->ctx, 0);
    coap_context_set_max_idle_sessions(l->ctx, (unsigned)m->cfg->max_sessions);
    coap_context_set_session_timeout(l->ctx, (unsigned)(m->cfg->session_idle_ms / 1000));
    coap_context_set_max_handshake_sessions(l->ctx, 1000);
    coap_register_event_handler(l->ctx, coap_dtls_event);
    /* Every path goes to one handler that routes by pattern (route.c): the unknown-resource
     * handler of libcoap, for every method (POST, and GET/PUT to answer 4.05), plus the
     * .well-known/core resource so that libcoap's default one does not answer instead. */
    coap_resource_t *any = coap_resource_unknown_init2(coap_request_handler, 0);
    coap_register_request_handler(any, COAP_REQUEST_POST, coap_request_handler);
    coap_register_request_handler(any, COAP_REQUEST_GET, coap_request_handler);
    coap_register_request_handler(any, COAP_REQUEST_FETCH, coap_request_handler);
    coap_add_resource(l->ctx, any);
    coap_resource_t *wk = coap_resource_init(coap_make_str_const(".well-known/core"), 0);
    coap_register_request_handler(wk, COAP_REQUEST_GET, coap_request_handler);
    coap_register_request_handler(wk, COAP_REQUEST_POST, coap_request_handler);
    coap_add_resource(l->ctx, wk);
    if (endpoints_open(l, err, err_len) != 0)
        return -1;
    int fd = coap_context_get_coap_fd(l->ctx);
    l->coap_fd = fd;
    if (fd < 0) {
        snprintf(err, err_len, "libcoap has no epoll support (coap_context_get_coap_fd)");
        return -1;
    }
    if (inlet_support_loop_epoll_open(&l->base, &l->epfd, &tag_queue, &tag_control, err, err_len) !=
            0 ||
        inlet_support_epoll_add(l->epfd, fd, EPOLLIN, &tag_coap) != 0) {
        if (!err[0])
            snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void drain(coap_loop *l)
{
    l->m->host->queue_drain(l->base.queue, coap_request_on_completion, l, 0);
}

static void *loop_main(void *arg)
{
    coap_loop *l = arg;
    coap_module *m = l->m;
    char err[256] = "";
    int rc = loop_open(l, err, sizeof(err));

    inlet_support_loop_ready(&l->base, rc, err);
    if (rc != 0) {
        while (!inlet_support_loop_stop_requested(&l->base))
            usleep(100000);
        goto out;
    }
    uint64_t stop_deadline = 0;
    for (;;) {
        struct epoll_event ev[16];
        uint64_t now = inlet_support_monotonic_ms();
        int n = epoll_wait(l->epfd, ev, 16, next_timeout(l, now));
        bool readable = false;
        for (int i = 0; i < n; i++) {
            if (ev[i].data.ptr == &tag_control) {
                unsigned cmd = inlet_support_loop_commands(&l->base, true);
                if (cmd & INLET_SUPPORT_LOOP_STOP_ACCEPTING)
                    inlet_support_loop_close_listeners(&l->base);
            } else if (ev[i].data.ptr == &tag_coap) {
                readable = true;
            }
        }
        /* Completions before datagrams: they free in-flight room. */
        drain(l);
        bool io = readable && loop_read(l);
        now = inlet_support_monotonic_ms();
        timers_run(l, now);
        loop_timed(l, io, now);
        if (now - l->last_expire_ms >= 1000) {
            coap_block1_expire(&l->blocks, now);
            l->last_expire_ms = now;
        }
        if (l->base.stopping) {
            if (stop_deadline == 0)
                stop_deadline = now + (uint64_t)m->cfg->shutdown_timeout_ms;
            if (m->host->queue_pending(l->base.queue) == 0 || now >= stop_deadline)
                break;
        }
    }
    /* Let the last separate responses leave. */
    coap_io_process(l->ctx, COAP_IO_NO_WAIT);
out:
    while (l->timer_head)
        coap_loop_timer_remove(l, l->timer_head);
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->ctx)
        coap_free_context(l->ctx); /* the endpoints' sockets go with it */
    l->ctx = NULL;
    inlet_support_loop_close_listeners(&l->base);
    inlet_support_loop_release_queue(&l->base);
    return NULL;
}

const inlet_support_loop_spec coap_loop_spec = {
    .thread_name = "inlet-coap",
    .scheme = "coap",
    .tls_scheme = "coaps",
    .backlog = 0,
    .loop_size = sizeof(coap_loop),
    .listener_size = sizeof(inlet_support_loop_listener),
    .pending_size = sizeof(coap_pending),
    .pending_cache = 1024,
    .init = loop_init,
    .fini = loop_fini,
    .main = loop_main,
};
