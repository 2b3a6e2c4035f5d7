/*
 * conn.c - one client connection: socket and TLS input, framing, timers, back-pressure, closing,
 * and the hand-over to another loop. The output side is conn_output.c.
 *
 * Input is read into the loop's shared buffer and processed in place. Only what cannot be
 * processed now is copied into a buffer of the connection's own: an incomplete packet (in a
 * buffer of exactly its size, known from the fixed header and bounded by max_packet_size before
 * anything is allocated: the CVE-2017-7651 class), or the rest of a read that a pause
 * interrupted (at most one read). An idle connection holds no buffer at all. Before CONNECT a
 * plaintext socket gets nothing but its mqtt_conn (read_connect_plain(); the CVE-2023-0809
 * class); on TLS, where records cannot be peeked, an incomplete CONNECT is kept like any
 * incomplete packet, bounded by max_connect_size.
 *
 * Sockets are edge-triggered: a connection is read until the socket says EAGAIN, unless it
 * used up its per-turn budget (then it goes round again via loop->ready) or must pause.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <openssl/err.h>

#include "mqtt.h"

static uint32_t connect_limit(const mqtt_module *m)
{
    uint64_t lim = m->cfg->max_connect_size < m->cfg->max_packet_size ? m->cfg->max_connect_size
                                                                      : m->cfg->max_packet_size;
    return (uint32_t)lim;
}

bool mqtt_conn_is_open(const mqtt_conn *c)
{
    return c->state == MQTT_CONN_AWAIT_CONNECT || c->state == MQTT_CONN_CONNECTED;
}

/* ---- lists ---- */

static void ready_push(mqtt_conn *c)
{
    if (c->in_ready)
        return;
    mqtt_list_push(&c->loop->ready, &c->ready_link);
    c->in_ready = true;
}

static void ready_unlink(mqtt_conn *c)
{
    if (!c->in_ready)
        return;
    mqtt_list_unlink(&c->ready_link);
    c->in_ready = false;
}

/* ---- back-pressure ---- */

/* May input be processed now (no side effect)? */
static bool may_process(const mqtt_conn *c)
{
    if (c->state == MQTT_CONN_AWAIT_CONNECT)
        return true;
    if (c->state != MQTT_CONN_CONNECTED || c->draining)
        return false;
    return !mqtt_loop_saturated(c->loop) &&
           c->kafka_inflight < (uint32_t)c->loop->m->cfg->receive_maximum;
}

bool mqtt_conn_can_process(mqtt_conn *c)
{
    if (may_process(c))
        return true;
    if (c->state == MQTT_CONN_CONNECTED && !c->draining && mqtt_loop_saturated(c->loop) &&
        !c->in_ready) {
        /* loop-wide bound: wait in loop->stalled until completions make room */
        mqtt_list_push(&c->loop->stalled, &c->ready_link);
        c->in_ready = true;
        c->loop->m->host->metric_add(c->loop->m->metrics.paused, 1);
    }
    /* the connection's own bound: a completion of its own wakes it */
    return false;
}

void mqtt_conn_wake(mqtt_conn *c)
{
    if (c->want_read && may_process(c))
        ready_push(c);
}

/* ---- timers ---- */

static void on_timer(mqtt_loop *loop, mqtt_timer *t)
{
    mqtt_conn *c = MQTT_CONTAINER(t, mqtt_conn, timer);
    uint32_t due;

    switch (c->state) {
    case MQTT_CONN_TLS_HANDSHAKE:
    case MQTT_CONN_AWAIT_CONNECT:
        mqtt_conn_abort(c, MQTT_CLOSE_CONNECT_TIMEOUT);
        break;
    case MQTT_CONN_CONNECTED:
        if (c->keep_alive_s == 0)
            break;
        /* Input we are not reading (back-pressure) is not the client's silence. */
        if (c->want_read && !may_process(c)) {
            mqtt_timer_arm(&loop->wheel, &c->timer, loop->now_s + c->keep_alive_s);
            break;
        }
        due = c->last_packet_s + c->keep_alive_s;
        if (loop->now_s >= due) /* MQTT 5.0 §3.1.2.10, 3.1.1 §3.1.2.10 */
            mqtt_conn_close(c, MQTT_RC_KEEP_ALIVE_TIMEOUT, "keep alive timeout",
                            MQTT_CLOSE_KEEP_ALIVE);
        else
            mqtt_timer_arm(&loop->wheel, &c->timer, due);
        break;
    case MQTT_CONN_CLOSING:
        mqtt_conn_abort(c, (enum mqtt_close_reason)c->close_reason);
        break;
    default:
        break;
    }
}

/*
 * The credential's end (MQTT 5.0 §4.13): DISCONNECT 0xA0 Maximum connect time, the code for "the
 * time this connection was authorized for is over". It tells the client its session was fine
 * and it should reconnect with a fresh token or certificate; 0x87 Not authorized would read as
 * a permanent refusal. 3.1.1 has no DISCONNECT from the server: the connection is closed.
 */
static void on_credential_expiry(mqtt_loop *loop, mqtt_timer *t)
{
    mqtt_conn *c = MQTT_CONTAINER(t, mqtt_conn, cred);
    (void)loop;
    if (c->state != MQTT_CONN_CONNECTED)
        return;
    mqtt_conn_close(c, MQTT_RC_MAXIMUM_CONNECT_TIME, "the credential expired",
                    MQTT_CLOSE_CREDENTIAL_EXPIRED);
}

void mqtt_conn_arm_credential(mqtt_conn *c)
{
    mqtt_loop *loop = c->loop;
    const inlet_host *host = loop->m->host;

    if (!INLET_HOST_HAS(host, identity_expires_at) || c->identity == NULL)
        return;
    int64_t at = host->identity_expires_at(c->identity);
    if (at == 0)
        return;
    int64_t left = at - host->now_us();
    /* round up: the timer must not fire while the credential is still valid */
    int64_t secs = left <= 0 ? 0 : (left + 999999) / 1000000;
    if (secs > UINT32_MAX - loop->now_s)
        return; /* beyond the loop clock's range: about 136 years */
    mqtt_timer_arm(&loop->wheel, &c->cred, loop->now_s + (uint32_t)secs);
}

bool mqtt_conn_credential_expired(const mqtt_conn *c)
{
    const inlet_host *host = c->loop->m->host;
    if (!INLET_HOST_HAS(host, identity_expires_at) || c->identity == NULL)
        return false;
    int64_t at = host->identity_expires_at(c->identity);
    return at != 0 && host->now_us() >= at;
}

void mqtt_conn_touch(mqtt_conn *c)
{
    c->last_packet_s = c->loop->now_s;
}

/* ---- socket and TLS I/O ---- */

static ssize_t io_read(mqtt_conn *c, uint8_t *buf, size_t cap)
{
    return inlet_support_stream_read(c->fd, c->ssl, buf, cap, &c->read_wants_write);
}

static void conn_end(mqtt_conn *c, enum mqtt_close_reason why)
{
    mqtt_loop *loop = c->loop;
    mqtt_module *m = loop->m;

    c->close_reason = (uint8_t)why;
    m->host->metric_add(m->metrics.disconnects[why], 1);
    if (c->quota_counted) {
        c->quota_counted = false;
        m->host->connection_close(m->mod, c->identity);
    }
    mqtt_timer_disarm(&loop->wheel, &c->cred);
    if (c->session != NULL) {
        mqtt_session *s = c->session;
        c->session = NULL;
        if (s->conn == c)
            mqtt_session_detach(loop, s);
        else
            mqtt_session_unref(loop, s);
    }
    ready_unlink(c);
    if (c->aliases != NULL) {
        for (int64_t i = 0; i < m->cfg->topic_aliases; i++)
            free(c->aliases[i]);
        free(c->aliases);
        c->aliases = NULL;
    }
    c->state = MQTT_CONN_CLOSING;
}

void mqtt_conn_close(mqtt_conn *c, uint8_t v5_reason, const char *reason_string,
                     enum mqtt_close_reason why)
{
    mqtt_loop *loop = c->loop;
    if (c->state == MQTT_CONN_CLOSING || c->state == MQTT_CONN_CLOSED)
        return;
    /* MQTT 5.0 §4.13: a server that closes because of an error SHOULD say why, with
     * DISCONNECT, but only after CONNACK. 3.1.1 just closes (3.1.1 §4.8). */
    bool say = c->version == MQTT_V5 && c->state == MQTT_CONN_CONNECTED && v5_reason >= 0x80;
    conn_end(c, why);
    if (say) {
        uint8_t buf[512];
        size_t n = mqtt_encode_disconnect(buf, sizeof(buf), MQTT_V5, v5_reason, reason_string,
                                          c->max_out_packet);
        if (n > 0 && n <= sizeof(buf) && !mqtt_conn_send(c, buf, n))
            return;
    }
    mqtt_timer_arm(&loop->wheel, &c->timer, loop->now_s + MQTT_LINGER_S);
    mqtt_conn_flush(c);
}

void mqtt_conn_abort(mqtt_conn *c, enum mqtt_close_reason why)
{
    mqtt_loop *loop = c->loop;
    mqtt_module *m = loop->m;
    if (c->state == MQTT_CONN_CLOSED)
        return;
    if (c->state != MQTT_CONN_CLOSING)
        conn_end(c, why);
    mqtt_timer_disarm(&loop->wheel, &c->timer);
    mqtt_timer_disarm(&loop->wheel, &c->cred);
    ready_unlink(c);
    if (c->in_flush) {
        mqtt_list_unlink(&c->flush_link);
        c->in_flush = false;
    }
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->state = MQTT_CONN_CLOSED;
    mqtt_list_unlink(&c->link);
    mqtt_list_push(&loop->closed, &c->link); /* freed after this iteration's events */
    loop->n_conns--;
    m->host->metric_add(m->metrics.connections, -1);
}

void mqtt_conn_free(mqtt_conn *c)
{
    mqtt_module *m = c->loop->m;
    free(c->in);
    mqtt_conn_out_release(c);
    free(c->info);
    if (c->identity != NULL)
        m->host->identity_release(c->identity);
    inlet_support_conn_release(&c->ticket);
    free(c);
}

/* ---- accepting, adopting, handing over ---- */

void mqtt_conn_accept(mqtt_loop *loop, const mqtt_listener *l, int fd,
                      const inlet_support_conn_ticket *ticket)
{
    mqtt_module *m = loop->m;
    mqtt_conn *c = calloc(1, sizeof(*c));
    inlet_support_conn_ticket t = *ticket;
    int one = 1;

    if (c == NULL) {
        inlet_support_conn_release(&t);
        close(fd);
        return;
    }
    c->poll.kind = MQTT_POLL_CONN;
    c->fd = fd;
    inlet_support_peer_of_fd(fd, c->peer, sizeof(c->peer));
    c->loop = loop;
    c->listener = l;
    mqtt_list_init(&c->link);
    mqtt_list_init(&c->ready_link);
    mqtt_list_init(&c->flush_link);
    mqtt_timer_init(&c->timer, on_timer);
    mqtt_timer_init(&c->cred, on_credential_expiry);
    /* acknowledgements are small and latency is what a device waits on */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    c->state = MQTT_CONN_AWAIT_CONNECT;
    if (l->ssl_ctx != NULL) {
        c->ssl = SSL_new(l->ssl_ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
            ERR_clear_error();
            SSL_free(c->ssl);
            free(c);
            inlet_support_conn_release(&t);
            close(fd);
            return;
        }
        SSL_set_accept_state(c->ssl);
        c->state = MQTT_CONN_TLS_HANDSHAKE;
    }

    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c->poll;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        SSL_free(c->ssl);
        free(c);
        inlet_support_conn_release(&t);
        close(fd);
        return;
    }
    c->ticket = t;
    mqtt_list_push(&loop->conns, &c->link);
    loop->n_conns++;
    m->host->metric_add(m->metrics.connections, 1);
    m->host->metric_add(m->metrics.connections_total, 1);
    /* Covers the TLS handshake too: a socket that says nothing useful is closed. */
    mqtt_timer_arm(&loop->wheel, &c->timer, loop->now_s + m->connect_timeout_s);
}

int mqtt_conn_adopt(mqtt_loop *loop, mqtt_conn *c)
{
    struct epoll_event ev;

    c->loop = loop;
    mqtt_list_push(&loop->conns, &c->link);
    loop->n_conns++;
    memset(&ev, 0, sizeof(ev));
    /* Edge-triggered registration reports what is already pending, so nothing is missed. */
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c->poll;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
        return -1;
    }
    return 0;
}

/* CONNECT was authenticated here but the session lives on another loop. The connection leaves
 * this loop whole, with its unprocessed input in c->in, before anything else happens on it. */
static void migrate(mqtt_conn *c)
{
    mqtt_loop *from = c->loop;
    mqtt_module *m = from->m;
    mqtt_loop *to = mqtt_loop_at(m, mqtt_owner_loop(m, c->info->hash));

    epoll_ctl(from->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    mqtt_timer_disarm(&from->wheel, &c->timer);
    mqtt_timer_disarm(&from->wheel, &c->cred);
    ready_unlink(c);
    if (c->in_flush) {
        mqtt_list_unlink(&c->flush_link);
        c->in_flush = false;
    }
    mqtt_list_unlink(&c->link);
    from->n_conns--;
    c->want_read = true; /* the new loop reads whatever is pending */
    if (!mqtt_loop_post(to, c)) {
        mqtt_list_push(&from->conns, &c->link);
        from->n_conns++;
        mqtt_conn_abort(c, MQTT_CLOSE_SHUTDOWN);
    }
}

/* ---- input ---- */

/* Process the complete packets at buf[0..len); returns the bytes consumed. Stops at an
 * incomplete packet, or as soon as the connection may not process input any more (closed,
 * handed over, paused). */
static size_t process(mqtt_conn *c, const uint8_t *buf, size_t len)
{
    mqtt_module *m = c->loop->m;
    size_t off = 0;

    while (off < len && may_process(c)) {
        const uint8_t *p = buf + off;
        bool first = c->state == MQTT_CONN_AWAIT_CONNECT;
        mqtt_fixed_header h;
        mqtt_error e = {0, NULL};

        /* MQTT 5.0 §3.1 / 3.1.1 §3.1 [MQTT-3.1.0-1]: decided on the first byte, before any
         * length is believed or anything is buffered. */
        if (first && (p[0] >> 4) != MQTT_CONNECT) {
            if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
                MQTT_LOG(m, INLET_LOG_DEBUG, "%s: first packet is %s, not CONNECT; closing",
                         c->listener->name, mqtt_packet_type_name(p[0] >> 4));
            mqtt_conn_abort(c, MQTT_CLOSE_NOT_CONNECT);
            break;
        }
        int r = mqtt_frame_parse(
            p, len - off, first ? connect_limit(m) : (uint32_t)m->cfg->max_packet_size, &h, &e);
        if (r == MQTT_NEED_MORE)
            break;
        if (r == MQTT_ERROR) {
            if (first) /* no version known yet: just close (5.0 §4.13.1) */
                mqtt_conn_abort(c, e.reason == MQTT_RC_PACKET_TOO_LARGE ? MQTT_CLOSE_TOO_LARGE
                                                                        : MQTT_CLOSE_NOT_CONNECT);
            else
                mqtt_packet_fail(c, &e);
            break;
        }
        size_t total = (size_t)h.header_len + h.remaining;
        if (len - off < total)
            break;
        off += total;
        mqtt_conn_touch(c);
        bool go_on = first ? mqtt_connect_handle(c, &h, p + h.header_len)
                           : mqtt_packet_handle(c, &h, p + h.header_len);
        if (!go_on)
            break;
    }
    return off;
}

static void in_consume(mqtt_conn *c, size_t used)
{
    if (used == 0)
        return;
    if (used >= c->in_len) {
        free(c->in);
        c->in = NULL;
        c->in_len = c->in_cap = 0;
        return;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= (uint32_t)used;
}

/* Keep data that could not be processed now. c->in is empty. */
static int in_stash(mqtt_conn *c, const uint8_t *data, size_t len)
{
    size_t cap = len < 8 ? 8 : len;
    c->in = malloc(cap);
    if (c->in == NULL)
        return -1;
    memcpy(c->in, data, len);
    c->in_len = (uint32_t)len;
    c->in_cap = (uint32_t)cap;
    return 0;
}

/* c->in holds the start of one packet: make room for all of it (its size is known from the
 * fixed header, and was checked against the limit by process()), or for a whole fixed header
 * if that is not complete yet. */
static int in_reserve(mqtt_conn *c)
{
    mqtt_module *m = c->loop->m;
    mqtt_fixed_header h;
    mqtt_error e;
    size_t need = 5; /* the longest fixed header */
    uint32_t limit =
        c->state == MQTT_CONN_AWAIT_CONNECT ? connect_limit(m) : (uint32_t)m->cfg->max_packet_size;
    if (mqtt_frame_parse(c->in, c->in_len, limit, &h, &e) == MQTT_OK)
        need = (size_t)h.header_len + h.remaining;
    if (need <= c->in_cap)
        return 0;
    uint8_t *p = realloc(c->in, need);
    if (p == NULL)
        return -1;
    c->in = p;
    c->in_cap = (uint32_t)need;
    return 0;
}

/* After a read: true if n bytes came; otherwise the connection is waiting or gone. */
static bool io_result(mqtt_conn *c, ssize_t n)
{
    if (n > 0)
        return true;
    if (n == IO_AGAIN) {
        c->want_read = false;
        return false;
    }
    if (n != 0) {
        mqtt_conn_abort(c, c->ssl != NULL ? MQTT_CLOSE_TLS_ERROR : MQTT_CLOSE_IO_ERROR);
        return false;
    }
    /* EOF. The client may only have shut down its sending side: what we owe it (a CONNACK,
     * acknowledgements) still goes out before the socket is closed. */
    c->eof = true;
    if (c->state == MQTT_CONN_CLOSING)
        mqtt_conn_abort(c, (enum mqtt_close_reason)c->close_reason);
    else
        mqtt_conn_close(c, 0, NULL, MQTT_CLOSE_EOF);
    return false;
}

/* A closing connection: read and drop until EOF (or the linger timer). */
static void discard_input(mqtt_conn *c, size_t budget)
{
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
    while (c->want_read && c->state == MQTT_CONN_CLOSING) {
        if (budget == 0) {
            ready_push(c);
            return;
        }
        ssize_t n = io_read(c, c->loop->rbuf, MQTT_READ_CHUNK);
        if (!io_result(c, n))
            return;
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
    }
}

/*
 * Plaintext, before CONNECT: the CONNECT stays in the socket's receive queue until all of it
 * has arrived (peeked, not read), so nothing at all is allocated for a client that has not
 * authenticated (the CVE-2023-0809 class). The edge-triggered socket reports every new segment.
 * Returns true when the CONNECT was taken and input processing may go on.
 */
static bool read_connect_plain(mqtt_conn *c)
{
    mqtt_module *m = c->loop->m;
    uint8_t *buf = c->loop->rbuf;
    uint32_t limit = connect_limit(m);
    mqtt_fixed_header h;
    mqtt_error e = {0, NULL};
    ssize_t n;

    do
        n = recv(c->fd, buf, (size_t)limit + 5, MSG_PEEK);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        io_result(c, n < 0 ? (errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERROR) : 0);
        return false;
    }
    if ((buf[0] >> 4) != MQTT_CONNECT) {
        mqtt_conn_abort(c, MQTT_CLOSE_NOT_CONNECT); /* [MQTT-3.1.0-1], on the first byte */
        return false;
    }
    int r = mqtt_frame_parse(buf, (size_t)n, limit, &h, &e);
    if (r == MQTT_ERROR) {
        mqtt_conn_abort(c, e.reason == MQTT_RC_PACKET_TOO_LARGE ? MQTT_CLOSE_TOO_LARGE
                                                                : MQTT_CLOSE_NOT_CONNECT);
        return false;
    }
    size_t total = r == MQTT_OK ? (size_t)h.header_len + h.remaining : SIZE_MAX;
    if ((size_t)n < total) {
        if (c->peer_closed) { /* the rest will never come */
            mqtt_conn_abort(c, MQTT_CLOSE_EOF);
            return false;
        }
        c->want_read = false; /* the rest is on its way; its arrival is the next edge */
        return false;
    }
    do
        n = recv(c->fd, buf, total, 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)total) {
        mqtt_conn_abort(c, MQTT_CLOSE_IO_ERROR);
        return false;
    }
    mqtt_conn_touch(c);
    if (!mqtt_connect_handle(c, &h, buf + h.header_len)) {
        if (c->state == MQTT_CONN_MIGRATING)
            migrate(c); /* exactly the CONNECT was read: nothing else travels */
        return false;
    }
    return true;
}

void mqtt_conn_read(mqtt_conn *c)
{
    mqtt_loop *loop = c->loop;
    size_t budget = MQTT_READ_BUDGET;

    while (c->want_read) {
        if (c->state == MQTT_CONN_CLOSING) {
            discard_input(c, budget);
            return;
        }
        if (!mqtt_conn_is_open(c) || !mqtt_conn_can_process(c))
            return;
        if (budget == 0) {
            ready_push(c);
            return;
        }
        if (c->state == MQTT_CONN_AWAIT_CONNECT && c->ssl == NULL) {
            if (!read_connect_plain(c))
                return;
            continue;
        }
        if (c->in_len > 0) {
            in_consume(c, process(c, c->in, c->in_len));
            if (c->state == MQTT_CONN_MIGRATING) {
                migrate(c);
                return;
            }
            if (!may_process(c))
                continue; /* the top decides: closing, closed or paused */
            if (c->in_len > 0) {
                /* an incomplete packet: read the rest of it into its own buffer */
                if (in_reserve(c) != 0) {
                    mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
                    return;
                }
                ssize_t n = io_read(c, c->in + c->in_len, c->in_cap - c->in_len);
                if (!io_result(c, n))
                    return;
                c->in_len += (uint32_t)n;
                budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
                continue;
            }
        }
        ssize_t n = io_read(c, loop->rbuf, MQTT_READ_CHUNK);
        if (!io_result(c, n))
            return;
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
        size_t used = process(c, loop->rbuf, (size_t)n);
        if (used < (size_t)n && (mqtt_conn_is_open(c) || c->state == MQTT_CONN_MIGRATING) &&
            in_stash(c, loop->rbuf + used, (size_t)n - used) != 0) {
            mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
            return;
        }
        if (c->state == MQTT_CONN_MIGRATING) {
            migrate(c);
            return;
        }
        /* A short read emptied the socket, and data arriving later is a new edge: skip the
         * recv() that would only say EAGAIN. Not with TLS (OpenSSL may hold more than it
         * returned), not when a pause left input unprocessed, and not once the peer closed:
         * the EOF behind the data will bring no new edge. */
        if (c->ssl == NULL && (size_t)n < MQTT_READ_CHUNK && !c->peer_closed && may_process(c))
            c->want_read = false;
    }
}

void mqtt_conn_on_event(mqtt_conn *c, uint32_t events)
{
    if (c->state == MQTT_CONN_CLOSED)
        return;
    if (events & EPOLLOUT) {
        c->want_write = false;
        if (c->read_wants_write) {
            c->read_wants_write = false;
            c->want_read = true;
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->want_read = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->peer_closed = true;

    if (c->state == MQTT_CONN_TLS_HANDSHAKE) {
        int r = mqtt_tls_handshake(c);
        if (r < 0) {
            mqtt_conn_abort(c, MQTT_CLOSE_TLS_ERROR);
            return;
        }
        if (r == 0)
            return;
        c->state = MQTT_CONN_AWAIT_CONNECT;
        c->want_read = true; /* the CONNECT may have come with the last handshake flight */
    }
    if (c->out_len > c->out_off && !c->want_write)
        mqtt_conn_flush(c);
    if (c->want_read && c->state != MQTT_CONN_CLOSED)
        mqtt_conn_read(c);
}
