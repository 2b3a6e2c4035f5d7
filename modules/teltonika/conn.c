/*
 * conn.c - one tracker connection: TLS, the IMEI handshake, AVL packet framing, one submission
 * per packet, and the acknowledgement once Kafka has answered.
 *
 * A connection has at most one packet waiting for Kafka: a tracker sends a packet and waits for
 * its answer, so input that comes meanwhile stays unprocessed (and unread beyond one buffer).
 * Input is read into a buffer sized to the packet its header announces (bounded by
 * max_packet_size before anything is allocated); an idle connection holds no buffer.
 *
 * What the tracker is answered (docs/TELTONIKA.md):
 *   IMEI of a known device          01                        (a certificate may decide instead)
 *   unknown IMEI, not an IMEI       00, then the connection is closed
 *   a packet Kafka took whole       the record count, 4 bytes big-endian
 *   anything else about a packet    00000000 (bad CRC, counts, records, schema, ACL, Kafka)
 *   bad preamble, length past cap   00000000, then the connection is closed (no resync)
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "teltonika.h"

#define TLT_READ_MIN      4096u /* first buffer of a packet whose size is not known yet */
#define TLT_PACKET_BUDGET 64u   /* packets processed per connection per turn: fairness */
#define TLT_LINGER_MS     2000u /* after the last answer of a closing connection */

enum { IO_AGAIN = INLET_SUPPORT_IO_AGAIN, IO_ERROR = INLET_SUPPORT_IO_ERROR };

/* ---- lists ---- */

static void list_unlink(tlt_conn **head, tlt_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        *head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void list_push(tlt_conn **head, tlt_conn *c)
{
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
}

/* ---- I/O ---- */

static ssize_t io_read(tlt_conn *c, uint8_t *buf, size_t cap)
{
    return inlet_support_stream_read(c->fd, c->ssl, buf, cap, &c->read_wants_write);
}

static ssize_t io_write(tlt_conn *c, const uint8_t *buf, size_t len)
{
    ssize_t n = inlet_support_stream_write(c->fd, c->ssl, buf, len);
    return n == INLET_SUPPORT_IO_AGAIN_READ ? INLET_SUPPORT_IO_AGAIN : n;
}

/* ---- closing ---- */

void tlt_conn_abort(tlt_conn *c, enum tlt_close_reason why)
{
    tlt_loop *loop = c->loop;
    tlt_module *m = loop->m;

    if (c->state == TLT_CLOSED)
        return;
    if (c->state != TLT_CLOSING)
        c->close_reason = (uint8_t)why;
    m->host->metric_add(m->metrics.disconnects[c->close_reason], 1);
    m->host->metric_add(m->metrics.connections, -1);
    if (c->quota_counted) {
        c->quota_counted = false;
        m->host->connection_close(m->mod, c->identity);
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
     * connection waits for the completions of its submissions */
    inlet_support_conn_release(&c->ticket);
    c->state = TLT_CLOSED;
    list_unlink(&loop->conns, c);
    list_push(&loop->closed, c);
    loop->n_conns--;
    free(c->in);
    c->in = NULL;
    c->in_len = c->in_cap = 0;
}

void tlt_conn_free(tlt_conn *c)
{
    tlt_module *m = c->loop->m;
    free(c->in);
    if (c->ssl != NULL)
        SSL_free(c->ssl);
    if (c->fd >= 0)
        close(c->fd);
    if (c->identity != NULL)
        m->host->identity_release(c->identity);
    inlet_support_conn_release(&c->ticket); /* a no-op once aborted */
    free(c);
}

static void flush(tlt_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = io_write(c, c->out + c->out_off, c->out_len - c->out_off);
        if (n == IO_AGAIN)
            return; /* EPOLLOUT comes */
        if (n < 0) {
            tlt_conn_abort(c, TLT_CLOSE_IO_ERROR);
            return;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->state == TLT_CLOSING && c->fd >= 0) {
        /* All said: FIN (after close_notify), then read until the tracker closes too, so that
         * unread input does not turn the close into a reset that destroys the answer. */
        if (c->ssl != NULL) {
            ERR_clear_error();
            (void)SSL_shutdown(c->ssl);
            ERR_clear_error();
        }
        shutdown(c->fd, SHUT_WR);
    }
}

/* Queue an answer and write it now. */
static void answer(tlt_conn *c, const uint8_t *p, size_t n)
{
    if (c->out_len + n > sizeof(c->out)) {
        /* answers pile up: the tracker does not read them */
        tlt_conn_abort(c, TLT_CLOSE_IO_ERROR);
        return;
    }
    if (n > 0)
        memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
    flush(c);
}

static void answer_count(tlt_conn *c, uint32_t count)
{
    tlt_module *m = c->loop->m;
    uint8_t ack[4];
    tlt_ack_encode(ack, count);
    m->host->metric_add(count ? m->metrics.packets_acked : m->metrics.packets_refused, 1);
    answer(c, ack, sizeof(ack));
}

/* A refusal the module decided (not submit()'s, which the core reports), for the refusal log. */
static void report(tlt_conn *c, inlet_status st, const char *detail)
{
    tlt_module *m = c->loop->m;
    m->host->refusal(m->mod, st, c->peer[0] ? c->peer : NULL, c->identity, detail);
}

/* Answer, then close: the connection reads and drops input until EOF or the linger time. */
static void close_after(tlt_conn *c, const uint8_t *p, size_t n, enum tlt_close_reason why)
{
    c->close_reason = (uint8_t)why;
    c->state = TLT_CLOSING;
    c->last_active_ms = inlet_support_monotonic_ms();
    answer(c, p, n);
}

/* ---- the IMEI handshake ---- */

/* Who is this tracker? With a client certificate the certificate decides, and the IMEI may not
 * name another device; otherwise the IMEI does. */
static inlet_status authenticate(tlt_conn *c, const uint8_t *imei, inlet_identity **out)
{
    tlt_module *m = c->loop->m;
    inlet_identity *cert = NULL, *by_imei = NULL;
    char why[200] = "";

    *out = NULL;
    inlet_status st = tlt_tls_client_identity(c, &cert);
    if (st != INLET_OK)
        return st;
    st =
        m->host->identity_for_imei((const char *)imei, TLT_IMEI_DIGITS, &by_imei, why, sizeof(why));
    if (cert == NULL) {
        if (st != INLET_OK) {
            char detail[260];
            snprintf(detail, sizeof(detail), "IMEI %.15s refused: %s", (const char *)imei,
                     why[0] ? why : m->host->status_name(st));
            report(c, st, detail);
        }
        *out = by_imei;
        return st;
    }
    if (by_imei != NULL && (strcmp(by_imei->tenant, cert->tenant) != 0 ||
                            strcmp(by_imei->device_id, cert->device_id) != 0)) {
        char detail[300];
        snprintf(detail, sizeof(detail), "IMEI %.15s belongs to %s/%s, the certificate to %s/%s",
                 (const char *)imei, by_imei->tenant, by_imei->device_id, cert->tenant,
                 cert->device_id);
        report(c, INLET_E_FORBIDDEN, detail);
        m->host->identity_release(by_imei);
        m->host->identity_release(cert);
        return INLET_E_FORBIDDEN;
    }
    if (by_imei != NULL)
        m->host->identity_release(by_imei);
    *out = cert;
    return INLET_OK;
}

/* Returns the bytes consumed, 0 when the message is incomplete; closes on a refusal. */
static size_t handle_imei(tlt_conn *c)
{
    tlt_module *m = c->loop->m;
    const uint8_t *imei = NULL;
    const char *why = NULL;
    size_t used = 0;
    inlet_identity *id = NULL;
    static const uint8_t yes = 0x01, no = 0x00;

    int r = tlt_imei_parse(c->in, c->in_len, &imei, &used, &why);
    if (r == TLT_NEED_MORE)
        return 0;
    if (r == TLT_ERROR) {
        TLT_LOG(m, INLET_LOG_DEBUG, "%s: not an IMEI message: %s", c->listener->name, why);
        report(c, INLET_E_INVALID, why);
        m->host->metric_add(m->metrics.handshakes_refused, 1);
        close_after(c, &no, 1, TLT_CLOSE_BAD_IMEI);
        return c->in_len;
    }
    inlet_status st = authenticate(c, imei, &id);
    if (st != INLET_OK) {
        m->host->metric_add(m->metrics.handshakes_refused, 1);
        close_after(c, &no, 1, TLT_CLOSE_UNKNOWN_IMEI);
        return c->in_len;
    }
    /* Teltonika has no quota answer: a tracker over its connection quota is refused like an
     * unknown IMEI (00, closed) and reconnects later. */
    char qmsg[160];
    if (m->host->connection_open(m->mod, id, qmsg, sizeof(qmsg)) != INLET_OK) {
        if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
            TLT_LOG(m, INLET_LOG_DEBUG, "%s/%s (IMEI %.15s): refused: %s", id->tenant,
                    id->device_id, (const char *)imei, qmsg);
        m->host->identity_release(id);
        m->host->metric_add(m->metrics.handshakes_refused, 1);
        close_after(c, &no, 1, TLT_CLOSE_QUOTA);
        return c->in_len;
    }
    c->quota_counted = true;
    memcpy(c->imei, imei, TLT_IMEI_DIGITS);
    c->imei[TLT_IMEI_DIGITS] = '\0';
    c->identity = id;
    c->names = tlt_module_names_for(m, id->tenant);
    c->state = TLT_READY;
    m->host->metric_add(m->metrics.handshakes_accepted, 1);
    answer(c, &yes, 1);
    return used;
}

/* ---- AVL packets ---- */

static void refuse_packet(tlt_conn *c, const char *what, const char *why)
{
    tlt_module *m = c->loop->m;
    if (m->host->log_enabled(m->mod, INLET_LOG_INFO))
        TLT_LOG(m, INLET_LOG_INFO, "%s/%s (IMEI %s): packet answered 0: %s: %s",
                c->identity->tenant, c->identity->device_id, c->imei, what, why);
    answer_count(c, 0);
}

/* One whole packet of total bytes at c->in: submit it, or answer 0. */
static void handle_packet(tlt_conn *c, size_t total)
{
    tlt_loop *loop = c->loop;
    tlt_module *m = loop->m;
    const inlet_host *host = m->host;
    tlt_packet pk;
    const char *why = NULL;
    char msg[256];

    if (tlt_packet_parse(c->in, total, &pk, &why) != TLT_OK) {
        report(c, INLET_E_INVALID, why);
        refuse_packet(c, "packet", why);
        return;
    }
    if (tlt_records_decode(pk.codec, pk.records, pk.records_len, pk.count, loop->records, msg,
                           sizeof(msg)) != 0) {
        report(c, INLET_E_INVALID, msg);
        refuse_packet(c, "malformed", msg);
        return;
    }
    if (tlt_events_write(&loop->json, c->imei, loop->records, pk.count, c->names, msg,
                         sizeof(msg)) != 0) {
        report(c, INLET_E_INVALID, msg);
        refuse_packet(c, "mapping", msg);
        return;
    }

    tlt_pending *p = inlet_support_pending_get(&loop->base.pending);
    if (p == NULL) {
        refuse_packet(c, "submit", "out of memory");
        return;
    }
    p->conn = c;
    p->count = pk.count;

    inlet_request r;
    memset(&r, 0, sizeof(r));
    r.size = sizeof(r);
    r.identity = c->identity;
    r.form = INLET_FORM_BATCH;
    r.body = loop->json.p; /* borrowed: decoded and copied before submit() returns */
    r.body_len = loop->json.len;
    r.content_type = "application/json";
    r.schema = TLT_SCHEMA;
    r.schema_version = TLT_SCHEMA_VERSION;
    r.source = "teltonika";
    r.peer = c->peer[0] ? c->peer : NULL;
    r.received_at_us = host->now_us();
    r.max_events = pk.count;
    r.queue = loop->base.queue;
    r.opaque = p;

    inlet_rejection *rej = NULL;
    inlet_status st = host->submit(m->mod, &r, &rej);
    if (st != INLET_OK) {
        snprintf(msg, sizeof(msg), "%s: %s", host->status_name(st),
                 rej != NULL && rej->n_errors > 0 && rej->errors[0].message
                     ? rej->errors[0].message
                     : (rej != NULL && rej->message ? rej->message : ""));
        if (rej != NULL && rej->n_errors > 0 && rej->errors[0].pointer &&
            rej->errors[0].pointer[0]) {
            size_t n = strlen(msg);
            snprintf(msg + n, sizeof(msg) - n, " (event %zu, %s)", rej->errors[0].index,
                     rej->errors[0].pointer);
        }
        if (rej != NULL)
            host->rejection_free(rej);
        inlet_support_pending_put(&loop->base.pending, p);
        refuse_packet(c, "refused", msg);
        if (st == INLET_E_SHUTTING_DOWN && c->state == TLT_READY)
            close_after(c, NULL, 0, TLT_CLOSE_SHUTDOWN);
        return;
    }
    c->in_flight = true;
    c->packet_at_us = (uint64_t)r.received_at_us;
    loop->inflight++;
    host->metric_add(m->metrics.inflight, 1);
}

static void consume(tlt_conn *c, size_t used)
{
    if (used >= c->in_len) {
        /* an idle connection holds no buffer */
        free(c->in);
        c->in = NULL;
        c->in_len = c->in_cap = 0;
        return;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

static int reserve(tlt_conn *c, size_t need)
{
    if (need <= c->in_cap)
        return 0;
    uint8_t *p = realloc(c->in, need);
    if (p == NULL)
        return -1;
    c->in = p;
    c->in_cap = need;
    return 0;
}

/* May input be processed now? */
static bool may_process(const tlt_conn *c)
{
    return (c->state == TLT_AWAIT_IMEI || c->state == TLT_READY) && !c->in_flight;
}

/* Process the complete messages in c->in; then make room for the rest of an incomplete one.
 * Returns false when the connection may not read now (closed, closing, in flight, budget). */
static bool process(tlt_conn *c, unsigned *budget)
{
    tlt_module *m = c->loop->m;

    while (may_process(c)) {
        if (c->state == TLT_AWAIT_IMEI) {
            size_t used = handle_imei(c);
            if (used == 0)
                return true; /* the rest of it is on its way */
            if (c->state == TLT_CLOSED)
                return false;
            consume(c, used);
            continue;
        }
        size_t skip = 0;
        while (skip < c->in_len && c->in[skip] == TLT_KEEPALIVE)
            skip++;
        if (skip > 0)
            consume(c, skip);
        size_t total = 0;
        const char *why = NULL;
        int r = tlt_packet_size(c->in, c->in_len, (uint32_t)m->cfg->max_packet_size, &total, &why);
        if (r == TLT_ERROR) {
            static const uint8_t zero[4] = {0, 0, 0, 0};
            TLT_LOG(m, INLET_LOG_INFO, "%s/%s (IMEI %s): packet answered 0 and closed: %s",
                    c->identity->tenant, c->identity->device_id, c->imei, why);
            m->host->metric_add(m->metrics.packets_refused, 1);
            report(c, INLET_E_INVALID, why);
            close_after(c, zero, sizeof(zero), TLT_CLOSE_FRAMING);
            return false;
        }
        if (r == TLT_NEED_MORE || c->in_len < total) {
            size_t need = r == TLT_NEED_MORE ? TLT_READ_MIN : total;
            if (reserve(c, need < TLT_READ_MIN ? TLT_READ_MIN : need) != 0) {
                tlt_conn_abort(c, TLT_CLOSE_INTERNAL);
                return false;
            }
            return true;
        }
        if ((*budget)-- == 0) {
            tlt_loop_ready(c->loop, c);
            return false;
        }
        handle_packet(c, total);
        if (c->state == TLT_CLOSED)
            return false;
        consume(c, total);
    }
    return false;
}

/* EOF from the tracker. */
static void on_eof(tlt_conn *c)
{
    tlt_conn_abort(c, c->state == TLT_CLOSING ? (enum tlt_close_reason)c->close_reason
                                              : TLT_CLOSE_EOF);
}

static void discard_input(tlt_conn *c)
{
    uint8_t buf[4096];
    for (int i = 0; i < 64; i++) {
        ssize_t n = io_read(c, buf, sizeof(buf));
        if (n == IO_AGAIN) {
            c->want_read = false;
            return;
        }
        if (n <= 0) {
            on_eof(c);
            return;
        }
    }
    tlt_loop_ready(c->loop, c);
}

void tlt_conn_read(tlt_conn *c)
{
    unsigned budget = TLT_PACKET_BUDGET;

    if (c->state == TLT_CLOSING) {
        if (c->want_read)
            discard_input(c);
        return;
    }
    for (;;) {
        if (!may_process(c))
            return;
        if (c->state == TLT_READY && tlt_loop_saturated(c->loop)) {
            tlt_loop_stall(c->loop, c);
            return;
        }
        if (c->in_len > 0 && !process(c, &budget))
            return;
        if (!c->want_read)
            return;
        if (c->in_cap == c->in_len && reserve(c, c->in_len + TLT_READ_MIN) != 0) {
            tlt_conn_abort(c, TLT_CLOSE_INTERNAL);
            return;
        }
        /* in_cap is at most the packet being read, so a read never takes the next one's
         * bytes beyond what a pause would leave waiting */
        ssize_t n = io_read(c, c->in + c->in_len, c->in_cap - c->in_len);
        if (n == IO_AGAIN) {
            c->want_read = false;
            if (c->in_len == 0) {
                free(c->in);
                c->in = NULL;
                c->in_cap = 0;
            }
            return;
        }
        if (n == 0) {
            on_eof(c);
            return;
        }
        if (n < 0) {
            tlt_conn_abort(c, c->ssl ? TLT_CLOSE_TLS_ERROR : TLT_CLOSE_IO_ERROR);
            return;
        }
        c->in_len += (size_t)n;
        c->last_active_ms = inlet_support_monotonic_ms();
        if (!process(c, &budget))
            return;
    }
}

void tlt_conn_on_event(tlt_conn *c, uint32_t events)
{
    if (c->state == TLT_CLOSED)
        return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->want_read = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->peer_closed = true;
    if ((events & EPOLLOUT) && c->read_wants_write) {
        c->read_wants_write = false;
        c->want_read = true;
    }
    if (c->state == TLT_TLS_HANDSHAKE) {
        int r = tlt_tls_handshake(c);
        if (r < 0) {
            tlt_conn_abort(c, TLT_CLOSE_TLS_ERROR);
            return;
        }
        if (r == 0)
            return;
        c->state = TLT_AWAIT_IMEI;
        c->want_read = true; /* the IMEI may have come with the last flight */
    }
    if ((events & EPOLLOUT) && c->out_len > c->out_off)
        flush(c);
    if (c->state != TLT_CLOSED && c->want_read)
        tlt_conn_read(c);
}

void tlt_conn_accept(tlt_loop *loop, const inlet_support_listener *l, int fd,
                     const inlet_support_conn_ticket *ticket)
{
    tlt_module *m = loop->m;
    tlt_conn *c = calloc(1, sizeof(*c));
    inlet_support_conn_ticket t = *ticket;
    int one = 1;

    if (c == NULL) {
        inlet_support_conn_release(&t);
        close(fd);
        return;
    }
    c->poll.kind = TLT_POLL_CONN;
    c->fd = fd;
    inlet_support_peer_of_fd(fd, c->peer, sizeof(c->peer));
    c->loop = loop;
    c->listener = l;
    c->state = TLT_AWAIT_IMEI;
    c->last_active_ms = inlet_support_monotonic_ms();
    /* answers are 1 or 4 bytes and a tracker waits on each */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
        c->state = TLT_TLS_HANDSHAKE;
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
    list_push(&loop->conns, c);
    loop->n_conns++;
    m->host->metric_add(m->metrics.connections, 1);
}

void tlt_conn_on_completion(void *ctx, const inlet_completion *comp)
{
    tlt_loop *loop = ctx;
    tlt_module *m = loop->m;
    tlt_pending *p = comp->opaque;
    tlt_conn *c = p->conn;
    uint32_t count = p->count;

    inlet_support_pending_put(&loop->base.pending, p);
    loop->inflight--;
    m->host->metric_add(m->metrics.inflight, -1);
    c->in_flight = false;
    if (c->state == TLT_CLOSED)
        return; /* freed after this iteration */
    if (comp->status == INLET_OK) {
        m->host->metric_add(m->metrics.records, count);
        answer_count(c, count);
    } else {
        /* Only a count to answer with: 0 either way, and the log says whether the records are
         * possibly persisted (the resend duplicates them under the same event_ids) or not. */
        const char *kerr = NULL;
        for (size_t i = 0; i < comp->n_events && kerr == NULL; i++)
            if (comp->events[i].status == comp->status)
                kerr = comp->events[i].error;
        refuse_packet(c, "Kafka", kerr != NULL ? kerr : "not acknowledged");
    }
    if (c->state == TLT_READY)
        tlt_loop_ready(loop, c); /* what came meanwhile */
}

/* An mTLS tracker's connection ends at its certificate's notAfter (the earliest in the chain);
 * IMEI identities have no end (identity_expires_at 0). The protocol has no status frame: the
 * connection is closed, and a packet still waiting for Kafka is never acknowledged. */
static bool credential_expired(const tlt_conn *c)
{
    const inlet_host *host = c->loop->m->host;
    if (!INLET_HOST_HAS(host, identity_expires_at) || c->identity == NULL)
        return false;
    int64_t at = host->identity_expires_at(c->identity);
    return at != 0 && host->now_us() >= at;
}

void tlt_conn_check_timeout(tlt_conn *c, uint64_t now_ms)
{
    const tlt_config *cfg = c->loop->m->cfg;
    uint64_t age = now_ms - c->last_active_ms;

    switch (c->state) {
    case TLT_TLS_HANDSHAKE:
    case TLT_AWAIT_IMEI:
        if (age >= (uint64_t)cfg->handshake_timeout_ms)
            tlt_conn_abort(c, TLT_CLOSE_TIMEOUT);
        break;
    case TLT_READY:
        if (credential_expired(c)) {
            TLT_LOG(c->loop->m, INLET_LOG_INFO, "%s/%s: the client certificate expired; closing",
                    c->identity->tenant, c->identity->device_id);
            tlt_conn_abort(c, TLT_CLOSE_CREDENTIAL_EXPIRED);
        } else if (!c->in_flight && age >= (uint64_t)cfg->idle_timeout_ms)
            tlt_conn_abort(c, TLT_CLOSE_TIMEOUT);
        break;
    case TLT_CLOSING:
        if (age >= TLT_LINGER_MS)
            tlt_conn_abort(c, (enum tlt_close_reason)c->close_reason);
        break;
    default:
        break;
    }
}
