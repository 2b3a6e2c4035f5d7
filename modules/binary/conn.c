/*
 * conn.c - one device connection: socket and TLS I/O, framing, the output buffer, timers,
 * back-pressure and closing.
 *
 * Input is read into the loop's shared buffer and processed in place; only what cannot be
 * processed now is kept in a buffer of the connection's own: an incomplete frame (in a buffer
 * of exactly its size, known from the header and checked against the limit before anything is
 * allocated), or the rest of a read that a pause interrupted. An idle connection holds no
 * buffer. Output (ACKs) is queued and written at the end of the loop iteration, bounded by
 * max_output_buffer; once written, the buffer goes back to the loop's cache of BIN_OUT_BUF-byte
 * buffers, so that the ACKs of an iteration cost no malloc()/free() pair.
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

#include "binary.h"

static uint32_t frame_limit(const bin_conn *c)
{
    return c->state == BIN_CONN_AWAIT_HELLO ? BIN_MAX_HELLO_BODY
                                            : (uint32_t)c->loop->m->cfg->max_frame_size;
}

/* ---- lists and back-pressure ---- */

static void ready_push(bin_conn *c)
{
    if (c->in_ready)
        return;
    bin_list_push(&c->loop->ready, &c->ready_link);
    c->in_ready = true;
}

static void ready_unlink(bin_conn *c)
{
    if (!c->in_ready)
        return;
    bin_list_unlink(&c->ready_link);
    c->in_ready = false;
}

bool bin_conn_may_process(const bin_conn *c)
{
    if (c->state == BIN_CONN_AWAIT_HELLO)
        return true;
    return c->state == BIN_CONN_OPEN && !c->bye && !bin_loop_saturated(c->loop);
}

/* May input be processed now? If not because of the loop-wide bound, park the connection. */
static bool can_process(bin_conn *c)
{
    if (bin_conn_may_process(c))
        return true;
    if (c->state == BIN_CONN_OPEN && !c->bye && !c->in_ready) {
        bin_list_push(&c->loop->stalled, &c->ready_link);
        c->in_ready = true;
        c->loop->m->host->metric_add(c->loop->m->metrics.paused, 1);
    }
    return false;
}

void bin_conn_wake(bin_conn *c)
{
    if (c->want_read && bin_conn_may_process(c))
        ready_push(c);
}

/* ---- I/O ---- */

static ssize_t io_read(bin_conn *c, uint8_t *buf, size_t cap)
{
    return inlet_support_stream_read(c->fd, c->ssl, buf, cap, &c->read_wants_write);
}

static ssize_t io_write(bin_conn *c, const uint8_t *buf, size_t len)
{
    return inlet_support_stream_write(c->fd, c->ssl, buf, len);
}

/* ---- output ---- */

static uint8_t *out_get(bin_loop *loop)
{
    void *p = loop->out_free;
    if (p == NULL)
        return malloc(BIN_OUT_BUF);
    memcpy(&loop->out_free, p, sizeof(void *));
    loop->n_out_free--;
    return p;
}

/* Give c's output buffer back: to the loop's cache if it has the usual size, else free it. */
static void out_release(bin_conn *c)
{
    bin_loop *loop = c->loop;
    if (c->out != NULL && c->out_cap == BIN_OUT_BUF && loop->n_out_free < BIN_OUT_CACHE) {
        memcpy(c->out, &loop->out_free, sizeof(void *));
        loop->out_free = c->out;
        loop->n_out_free++;
    } else {
        free(c->out);
    }
    c->out = NULL;
    c->out_off = c->out_len = c->out_cap = 0;
}

void bin_conn_out_cache_free(bin_loop *loop)
{
    while (loop->out_free != NULL) {
        void *p = loop->out_free;
        memcpy(&loop->out_free, p, sizeof(void *));
        free(p);
    }
    loop->n_out_free = 0;
}

bool bin_conn_send(bin_conn *c, const uint8_t *data, size_t len)
{
    bin_module *m = c->loop->m;
    if (c->state == BIN_CONN_CLOSED)
        return false;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out == NULL && len <= BIN_OUT_BUF) {
        if ((c->out = out_get(c->loop)) == NULL) {
            bin_conn_abort(c, BIN_CLOSE_INTERNAL);
            return false;
        }
        c->out_cap = BIN_OUT_BUF;
    }
    if ((uint64_t)c->out_len - c->out_off + len > m->cfg->max_output_buffer) {
        /* the client does not read its ACKs: never buffer without bound */
        bin_conn_abort(c, BIN_CLOSE_SLOW_READER);
        return false;
    }
    if (c->out_len + len > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap ? (size_t)c->out_cap * 2 : 256;
        if (cap < c->out_len + len)
            cap = c->out_len + len;
        uint8_t *p = realloc(c->out, cap);
        if (p == NULL) {
            bin_conn_abort(c, BIN_CLOSE_INTERNAL);
            return false;
        }
        c->out = p;
        c->out_cap = (uint32_t)cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += (uint32_t)len;
    if (!c->in_flush) {
        bin_list_push(&c->loop->flush, &c->flush_link);
        c->in_flush = true;
    }
    return true;
}

void bin_conn_flush(bin_conn *c)
{
    if (c->state == BIN_CONN_CLOSED || c->state == BIN_CONN_TLS_HANDSHAKE)
        return;
    while (c->out_off < c->out_len) {
        ssize_t n = io_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (uint32_t)n;
        } else if (n == IO_AGAIN || n == IO_AGAIN_READ) {
            c->want_write = n == IO_AGAIN;
            return;
        } else {
            bin_conn_abort(c, BIN_CLOSE_IO_ERROR);
            return;
        }
    }
    out_release(c); /* an idle connection holds no buffer */
    if (c->state == BIN_CONN_CLOSING) {
        if (c->eof) {
            bin_conn_abort(c, (enum bin_close_reason)c->close_reason);
            return;
        }
        /* all said: FIN (and close_notify), then read until the client closes too, so that
         * unread input does not turn our close into a reset that destroys the CLOSE frame */
        if (c->ssl != NULL) {
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl);
            ERR_clear_error();
        }
        shutdown(c->fd, SHUT_WR);
    }
}

/* ---- closing ---- */

static void conn_end(bin_conn *c, enum bin_close_reason why)
{
    bin_module *m = c->loop->m;
    c->close_reason = (uint8_t)why;
    m->host->metric_add(m->metrics.closes[why], 1);
    if (c->quota_counted) {
        c->quota_counted = false;
        m->host->connection_close(m->mod, c->identity);
    }
    ready_unlink(c);
    c->state = BIN_CONN_CLOSING;
}

void bin_conn_close(bin_conn *c, bool send_close, uint8_t status, const char *reason,
                    enum bin_close_reason why)
{
    bin_loop *loop = c->loop;
    uint8_t buf[BIN_MAX_SERVER_FRAME];
    size_t n = 0;

    if (c->state == BIN_CONN_CLOSING || c->state == BIN_CONN_CLOSED)
        return;
    /* a frame the module refused itself (HELLO refusals are reported by hello.c) */
    if (why == BIN_CLOSE_PROTOCOL || why == BIN_CLOSE_TOO_LARGE || why == BIN_CLOSE_WINDOW)
        loop->m->host->refusal(loop->m->mod,
                               why == BIN_CLOSE_TOO_LARGE ? INLET_E_TOO_LARGE : INLET_E_INVALID,
                               c->peer, c->identity, reason);
    if (send_close && c->state == BIN_CONN_AWAIT_HELLO) {
        /* before WELCOME, the final status is a refusing WELCOME */
        uint16_t retry = status == BIN_ST_QUOTA ? (uint16_t)loop->m->host->retry_after_s() : 0;
        n = bin_encode_welcome(buf, sizeof(buf), 0, status, 0, 0, 0, retry, reason);
        bin_count_hello(loop->m, status);
    } else if (send_close && c->state == BIN_CONN_OPEN) {
        uint16_t retry =
            status == BIN_ST_SHUTTING_DOWN ? (uint16_t)loop->m->host->retry_after_s() : 0;
        n = bin_encode_close(buf, sizeof(buf), status, retry, reason);
    }
    conn_end(c, why);
    if (n > 0 && !bin_conn_send(c, buf, n))
        return;
    c->linger_s = loop->now_s + BIN_LINGER_S;
    bin_conn_flush(c);
}

void bin_conn_abort(bin_conn *c, enum bin_close_reason why)
{
    bin_loop *loop = c->loop;
    bin_module *m = loop->m;

    if (c->state == BIN_CONN_CLOSED)
        return;
    if (c->state != BIN_CONN_CLOSING)
        conn_end(c, why);
    ready_unlink(c);
    if (c->in_flush) {
        bin_list_unlink(&c->flush_link);
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
    /* the socket is gone: its place under the listener's limits is free, even while the
     * connection waits here for the completions of its submissions */
    inlet_support_conn_release(&c->ticket);
    c->state = BIN_CONN_CLOSED;
    bin_list_unlink(&c->link);
    bin_list_push(&loop->zombies, &c->link);
    loop->n_conns--;
    m->host->metric_add(m->metrics.connections, -1);
    bin_conn_unref(c); /* the loop's */
}

void bin_conn_unref(bin_conn *c)
{
    if (--c->refs > 0 || c->state != BIN_CONN_CLOSED)
        return;
    bin_list_unlink(&c->link);
    bin_list_push(&c->loop->dead, &c->link);
}

void bin_conn_free(bin_conn *c)
{
    bin_module *m = c->loop->m;
    bin_data_free_slots(c);
    free(c->in);
    out_release(c);
    if (c->identity != NULL)
        m->host->identity_release(c->identity);
    inlet_support_conn_release(&c->ticket); /* a no-op once closed */
    free(c);
}

void bin_conn_reap(bin_loop *loop)
{
    while (!bin_list_empty(&loop->dead)) {
        bin_conn *c = BIN_CONTAINER(loop->dead.next, bin_conn, link);
        bin_list_unlink(&c->link);
        bin_conn_free(c);
    }
}

/* ---- timers ---- */

void bin_conn_tick(bin_conn *c)
{
    bin_loop *loop = c->loop;
    bin_module *m = loop->m;

    switch (c->state) {
    case BIN_CONN_TLS_HANDSHAKE:
    case BIN_CONN_AWAIT_HELLO:
        if (loop->now_s - c->since_s >= m->hello_timeout_s)
            bin_conn_abort(c, BIN_CLOSE_HELLO_TIMEOUT);
        break;
    case BIN_CONN_OPEN:
        if (!bin_credential_check(c))
            break;
        if (c->keep_alive_s == 0 || loop->now_s - c->since_s < c->keep_alive_s)
            break;
        /* input we are not reading (back-pressure, BYE) is not the client's silence */
        if (c->bye || (c->want_read && !bin_conn_may_process(c))) {
            c->since_s = loop->now_s;
            break;
        }
        bin_conn_close(c, true, BIN_ST_KEEP_ALIVE, "keep alive timeout", BIN_CLOSE_KEEP_ALIVE);
        break;
    case BIN_CONN_CLOSING:
        if (loop->now_s >= c->linger_s)
            bin_conn_abort(c, (enum bin_close_reason)c->close_reason);
        break;
    default:
        break;
    }
}

/* ---- accepting ---- */

void bin_conn_accept(bin_loop *loop, const inlet_support_listener *l, int fd,
                     const inlet_support_conn_ticket *ticket)
{
    bin_module *m = loop->m;
    bin_conn *c = calloc(1, sizeof(*c));
    inlet_support_conn_ticket t = *ticket;
    int one = 1;

    if (c == NULL) {
        inlet_support_conn_release(&t);
        close(fd);
        return;
    }
    c->poll.kind = BIN_POLL_CONN;
    c->fd = fd;
    inlet_support_peer_of_fd(fd, c->peer, sizeof(c->peer));
    c->loop = loop;
    c->listener = l;
    c->refs = 1;
    c->since_s = loop->now_s;
    bin_list_init(&c->link);
    bin_list_init(&c->ready_link);
    bin_list_init(&c->flush_link);
    /* ACKs are small and latency is what a device waits on */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->state = BIN_CONN_AWAIT_HELLO;
    if (l->ssl_ctx != NULL) {
        c->ssl = SSL_new(l->ssl_ctx);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
            ERR_clear_error();
            goto fail;
        }
        SSL_set_accept_state(c->ssl);
        c->state = BIN_CONN_TLS_HANDSHAKE;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = &c->poll;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        goto fail;
    c->ticket = t;
    bin_list_push(&loop->conns, &c->link);
    loop->n_conns++;
    m->host->metric_add(m->metrics.connections, 1);
    m->host->metric_add(m->metrics.connections_total, 1);
    return;

fail:
    SSL_free(c->ssl);
    free(c);
    inlet_support_conn_release(&t);
    close(fd);
}

/* ---- input ---- */

/* One complete frame. false when the connection may not go on (closed, BYE). */
static bool dispatch(bin_conn *c, const bin_header *h, const uint8_t *body)
{
    bin_module *m = c->loop->m;
    uint8_t st;
    const char *why;

    if (h->type == BIN_DATA)
        c->loop->n_data++; /* published once per iteration */
    else
        bin_count_frame(m, h->type);
    if (c->state == BIN_CONN_AWAIT_HELLO) {
        if (h->type != BIN_HELLO) {
            bin_conn_close(c, true, BIN_ST_PROTOCOL, "the first frame must be HELLO",
                           BIN_CLOSE_PROTOCOL);
            return false;
        }
        return bin_hello_handle(c, h, body);
    }
    switch (h->type) {
    case BIN_DATA:
        return bin_data_handle(c, h, body);
    case BIN_PING: {
        uint8_t buf[BIN_HEADER_LEN];
        if (bin_decode_empty(h, &st, &why) != 0)
            break;
        size_t n = bin_encode_pong(buf, sizeof(buf), h->seq);
        return bin_conn_send(c, buf, n);
    }
    case BIN_BYE:
        if (bin_decode_empty(h, &st, &why) != 0)
            break;
        c->bye = true;
        bin_data_flush_acks(c); /* CLOSE 0x00 at once if nothing is owed */
        return false;
    case BIN_HELLO:
        st = BIN_ST_PROTOCOL;
        why = "a second HELLO";
        break;
    default:
        st = BIN_ST_PROTOCOL;
        why = "unknown frame type";
        break;
    }
    bin_conn_close(c, true, st, why, BIN_CLOSE_PROTOCOL);
    return false;
}

/* Process the complete frames at buf[0..len); returns the bytes consumed. */
static size_t process(bin_conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (off < len && bin_conn_may_process(c)) {
        bin_header h;
        uint8_t st = 0;
        int r = bin_header_parse(buf + off, len - off, frame_limit(c), &h, &st);
        if (r == BIN_NEED_MORE)
            break;
        if (r == BIN_ERROR) {
            bin_conn_close(c, true, st, "frame too large", BIN_CLOSE_TOO_LARGE);
            break;
        }
        size_t total = BIN_HEADER_LEN + (size_t)h.length;
        if (len - off < total)
            break;
        off += total;
        c->since_s = c->loop->now_s;
        if (!dispatch(c, &h, buf + off - h.length))
            break;
    }
    return off;
}

static void in_consume(bin_conn *c, size_t used)
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

static int in_stash(bin_conn *c, const uint8_t *data, size_t len)
{
    size_t cap = len < BIN_HEADER_LEN ? BIN_HEADER_LEN : len;
    if ((c->in = malloc(cap)) == NULL)
        return -1;
    memcpy(c->in, data, len);
    c->in_len = (uint32_t)len;
    c->in_cap = (uint32_t)cap;
    return 0;
}

/* c->in holds the start of one frame: room for all of it (its length was checked against the
 * limit by process()), or for its header if that is not complete yet. */
static int in_reserve(bin_conn *c)
{
    bin_header h;
    uint8_t st;
    size_t need = BIN_HEADER_LEN;
    if (bin_header_parse(c->in, c->in_len, frame_limit(c), &h, &st) == BIN_OK)
        need += h.length;
    if (need <= c->in_cap)
        return 0;
    uint8_t *p = realloc(c->in, need);
    if (p == NULL)
        return -1;
    c->in = p;
    c->in_cap = (uint32_t)need;
    return 0;
}

static bool io_result(bin_conn *c, ssize_t n)
{
    if (n > 0)
        return true;
    if (n == IO_AGAIN) {
        c->want_read = false;
        return false;
    }
    if (n != 0) {
        bin_conn_abort(c, c->ssl != NULL ? BIN_CLOSE_TLS_ERROR : BIN_CLOSE_IO_ERROR);
        return false;
    }
    /* EOF: the client may only have shut down its sending side; what we owe it still goes */
    c->eof = true;
    c->want_read = false;
    if (c->state == BIN_CONN_CLOSING)
        bin_conn_abort(c, (enum bin_close_reason)c->close_reason);
    else if (c->state == BIN_CONN_OPEN && c->count > 0)
        c->bye = true; /* answer what is in flight, then close */
    else
        bin_conn_abort(c, BIN_CLOSE_EOF);
    return false;
}

static void discard_input(bin_conn *c, size_t budget)
{
    while (c->want_read && c->state == BIN_CONN_CLOSING && budget > 0) {
        ssize_t n = io_read(c, c->loop->rbuf, BIN_READ_CHUNK);
        if (!io_result(c, n))
            return;
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
    }
    if (c->want_read && c->state == BIN_CONN_CLOSING)
        ready_push(c);
}

void bin_conn_read(bin_conn *c)
{
    bin_loop *loop = c->loop;
    size_t budget = BIN_READ_BUDGET;

    while (c->want_read) {
        if (c->state == BIN_CONN_CLOSING) {
            discard_input(c, budget);
            return;
        }
        if (c->state != BIN_CONN_AWAIT_HELLO && c->state != BIN_CONN_OPEN)
            return;
        if (c->bye) {
            /* after BYE nothing more is read; an EOF still tells us the client is gone */
            if (budget == 0) {
                ready_push(c);
                return;
            }
            ssize_t n = io_read(c, loop->rbuf, BIN_READ_CHUNK);
            if (!io_result(c, n))
                return;
            budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
            continue;
        }
        if (!can_process(c))
            return;
        if (budget == 0) {
            ready_push(c);
            return;
        }
        if (c->in_len > 0) {
            in_consume(c, process(c, c->in, c->in_len));
            if (!bin_conn_may_process(c))
                continue; /* the top decides: closing, closed, BYE or paused */
            if (c->in_len > 0) {
                if (in_reserve(c) != 0) {
                    bin_conn_abort(c, BIN_CLOSE_INTERNAL);
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
        ssize_t n = io_read(c, loop->rbuf, BIN_READ_CHUNK);
        if (!io_result(c, n))
            return;
        budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
        size_t used = process(c, loop->rbuf, (size_t)n);
        if (used < (size_t)n && (c->state == BIN_CONN_AWAIT_HELLO || c->state == BIN_CONN_OPEN) &&
            !c->bye && in_stash(c, loop->rbuf + used, (size_t)n - used) != 0) {
            bin_conn_abort(c, BIN_CLOSE_INTERNAL);
            return;
        }
        /* a short read emptied the socket (not with TLS, which may hold more) */
        if (c->ssl == NULL && (size_t)n < BIN_READ_CHUNK && !c->peer_closed &&
            bin_conn_may_process(c))
            c->want_read = false;
    }
}

void bin_conn_on_event(bin_conn *c, uint32_t events)
{
    if (c->state == BIN_CONN_CLOSED)
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
    if (c->state == BIN_CONN_TLS_HANDSHAKE) {
        int r = bin_tls_handshake(c);
        if (r < 0) {
            bin_conn_abort(c, BIN_CLOSE_TLS_ERROR);
            return;
        }
        if (r == 0)
            return;
        c->state = BIN_CONN_AWAIT_HELLO;
        c->want_read = true; /* HELLO may have come with the last handshake flight */
    }
    if (c->out_len > c->out_off && !c->want_write)
        bin_conn_flush(c);
    if (c->want_read && c->state != BIN_CONN_CLOSED)
        bin_conn_read(c);
}
