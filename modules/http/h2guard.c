/*
 * h2guard.c - what inletd enforces on HTTP/2 connections that h2o 2.2 does not: streams still
 * receiving their request, oversized bodies, and floods of requests or stream resets.
 *
 * h2o 2.2 has no hook between the frame parser and its frame handlers, but each connection
 * reads its frames through one function pointer (h2o_http2_conn_t._read_expect, in the
 * installed http2_internal.h). Every loop iteration, loop.c hands the connections h2o created
 * since the last one to http_h2guard_adopt(), which puts guard_expect() in front of that
 * pointer: it sees every frame before h2o does. (Frames h2o parses in the very read that
 * created the connection, i.e. those sent together with the TLS handshake or the preface, pass
 * unguarded; everything after does not.)
 *
 *   - A new stream beyond http2_max_concurrent_streams streams still receiving their request
 *     is refused with RST_STREAM(REFUSED_STREAM): it was not processed, so a retry is safe (RFC
 *     9113 section 8.7). h2o itself always advertises SETTINGS_MAX_CONCURRENT_STREAMS 100.
 *   - A DATA frame that takes a body past max_body_size ends the request there: the handler
 *     answers 413 (RFC 9113 section 8.1 allows a complete response before the request is
 *     complete), the rest of the body is discarded, and once the response is sent the stream is
 *     reset with NO_ERROR, "without error" as section 8.1 says. h2o's own limit would reset with
 *     REFUSED_STREAM, which invites the client to send the same body again.
 *   - More than http2_max_requests_per_second new streams, or http2_max_resets_per_second
 *     RST_STREAM frames from the client, within one second close the connection with
 *     GOAWAY(ENHANCE_YOUR_CALM) (RFC 9113 section 10.5; CVE-2023-44487 "rapid reset", which
 *     h2o 2.2 predates).
 */
#include <string.h>

#include "http.h"
/* after h2o.h, which it needs; its "khash.h" is compat/khash.h */
#include <h2o/http2.h>
#include <h2o/http2_internal.h>

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static ssize_t guard_expect(h2o_http2_conn_t *h2, const uint8_t *src, size_t len,
                            const char **err_desc);

static http_conn *guarded_conn(h2o_http2_conn_t *h2)
{
    if (h2->sock == NULL)
        return NULL;
    return http_conn_of_socket(h2->sock);
}

static bool is_cut(const http_conn *conn, uint32_t stream_id)
{
    for (size_t i = 0; i < HTTP_H2_CUT_STREAMS; i++)
        if (conn->h2.cut[i] == stream_id)
            return true;
    return false;
}

/* What h2o's handle_data_frame() does for the connection window with a frame it accepts. */
static void consume_connection_window(h2o_http2_conn_t *h2, size_t n)
{
    h2o_http2_window_consume_window(&h2->_input_window, n);
    ssize_t avail = h2o_http2_window_get_window(&h2->_input_window);
    if (avail * 2 < (ssize_t)H2O_HTTP2_SETTINGS_HOST.initial_window_size) {
        int32_t delta = (int32_t)(H2O_HTTP2_SETTINGS_HOST.initial_window_size - avail);
        h2o_http2_encode_window_update_frame(&h2->_write.buf, 0, delta);
        h2o_http2_conn_request_write(h2);
        h2o_http2_window_update(&h2->_input_window, delta);
    }
}

/* Disposed with the request of a cut stream, i.e. once its response went out (or the
 * connection is going away): tell the client to stop sending the body (section 8.1). */
typedef struct cut_guard {
    h2o_http2_conn_t *h2;
    uint32_t stream_id;
} cut_guard;

static void on_cut_stream_disposed(void *data)
{
    cut_guard *g = data;
    if (g->h2->state < H2O_HTTP2_CONN_STATE_IS_CLOSING) {
        h2o_http2__encode_rst_stream_frame(&g->h2->_write.buf, g->stream_id, 0 /* NO_ERROR */);
        h2o_http2_conn_request_write(g->h2);
    }
}

/* The frame makes the body larger than max_body_size: end the request with this frame. */
static void cut_stream(http_module *m, http_conn *conn, h2o_http2_stream_t *stream, uint8_t *hdr)
{
    (void)m;
    hdr[4] |= H2O_HTTP2_FRAME_FLAG_END_STREAM;   /* h2o then runs the request now */
    stream->_expected_content_length = SIZE_MAX; /* ... whatever content-length said */
    conn->h2.cut[conn->h2.next_cut++ % HTTP_H2_CUT_STREAMS] = stream->stream_id;
    cut_guard *g = h2o_mem_alloc_shared(&stream->req.pool, sizeof(*g), on_cut_stream_disposed);
    g->h2 = (h2o_http2_conn_t *)stream->req.conn;
    g->stream_id = stream->stream_id;
}

static size_t receiving_streams(h2o_http2_conn_t *h2)
{
    size_t n = 0;
    h2o_http2_stream_t *s;
    kh_foreach_value(h2->streams, s, {
        if (s->state == H2O_HTTP2_STREAM_STATE_RECV_HEADERS ||
            s->state == H2O_HTTP2_STREAM_STATE_RECV_BODY)
            n++;
    });
    return n;
}

static bool in_ring(const uint32_t *ring, uint32_t id)
{
    for (size_t i = 0; i < HTTP_H2_CUT_STREAMS; i++)
        if (ring[i] == id)
            return true;
    return false;
}

bool http_h2guard_over_budget(http_conn *conn, h2o_req_t *req)
{
    if (req->version < 0x200 || conn->h2.inner == NULL)
        return false;
    const h2o_http2_stream_t *s = H2O_STRUCT_FROM_MEMBER(h2o_http2_stream_t, req, req);
    return in_ring(conn->h2.over_budget, s->stream_id);
}

/* Bytes of the bodies the connection's streams are receiving (budget.c sums them per loop). */
static size_t receiving_bytes(h2o_http2_conn_t *h2)
{
    size_t n = 0;
    h2o_http2_stream_t *s;
    kh_foreach_value(h2->streams, s, {
        if (s->state == H2O_HTTP2_STREAM_STATE_RECV_BODY && s->_req_body != NULL)
            n += s->_req_body->capacity; /* what it holds, rounded up as h2o grows it */
    });
    return n;
}

/* true once a per-second budget is exceeded (counted per connection). */
static bool over_rate(http_conn *conn, uint32_t *count, int64_t limit)
{
    uint64_t now = inlet_support_monotonic_ms();
    if (now - conn->h2.window_start_ms >= 1000) {
        conn->h2.window_start_ms = now;
        conn->h2.opened = conn->h2.resets = 0;
    }
    return ++*count > (uint64_t)limit;
}

static ssize_t guard_expect(h2o_http2_conn_t *h2, const uint8_t *src, size_t len,
                            const char **err_desc)
{
    http_conn *conn = guarded_conn(h2);
    if (conn == NULL || conn->h2.inner == NULL) { /* cannot happen: fail closed */
        *err_desc = "connection state is missing";
        return H2O_HTTP2_ERROR_INTERNAL;
    }
    http_module *m = conn->loop->m;
    const http_config *cfg = m->cfg;
    http_h2_expect_fn inner = conn->h2.inner;
    h2o_http2_frame_t frame;
    bool opens = false, data = false, budget_cut = false;

    memset(&frame, 0, sizeof(frame));

    /* Only whole, well-formed frames are looked at; h2o reports everything else itself. */
    if ((len >= sizeof(PREFACE) - 1 && memcmp(src, PREFACE, sizeof(PREFACE) - 1) == 0) ||
        h2o_http2_decode_frame(&frame, src, len, &H2O_HTTP2_SETTINGS_HOST, err_desc) < 0) {
        *err_desc = NULL;
        goto pass;
    }
    switch (frame.type) {
    case H2O_HTTP2_FRAME_TYPE_RST_STREAM:
        if (over_rate(conn, &conn->h2.resets, cfg->http2_max_resets_per_second)) {
            m->host->metric_add(m->metrics.h2_calm_resets, 1);
            *err_desc = "too many stream resets";
            return H2O_HTTP2_ERROR_ENHANCE_YOUR_CALM;
        }
        break;
    case H2O_HTTP2_FRAME_TYPE_HEADERS:
        if (frame.stream_id > h2->pull_stream_ids.max_open) {
            opens = true;
            if (over_rate(conn, &conn->h2.opened, cfg->http2_max_requests_per_second)) {
                m->host->metric_add(m->metrics.h2_calm_requests, 1);
                *err_desc = "too many requests";
                return H2O_HTTP2_ERROR_ENHANCE_YOUR_CALM;
            }
            /* A body is coming and the budget is spent: end the request at its headers, so
             * that the handler answers 503 before any of the body is read (budget.c). */
            if ((frame.flags & H2O_HTTP2_FRAME_FLAG_END_STREAM) == 0 &&
                (frame.flags & H2O_HTTP2_FRAME_FLAG_END_HEADERS) != 0 &&
                h2->state < H2O_HTTP2_CONN_STATE_HALF_CLOSED &&
                http_budget_total(m) > cfg->max_receiving_bytes) {
                ((uint8_t *)src)[4] |= H2O_HTTP2_FRAME_FLAG_END_STREAM;
                conn->h2.over_budget[conn->h2.next_over_budget++ % HTTP_H2_CUT_STREAMS] =
                    frame.stream_id;
                conn->h2.cut[conn->h2.next_cut++ % HTTP_H2_CUT_STREAMS] = frame.stream_id;
                budget_cut = true;
            }
        }
        break;
    case H2O_HTTP2_FRAME_TYPE_DATA: {
        data = true;
        if (h2->state >= H2O_HTTP2_CONN_STATE_HALF_CLOSED)
            break;
        if (is_cut(conn, frame.stream_id)) { /* the rest of a body already answered 413 */
            consume_connection_window(h2, frame.length);
            return (ssize_t)(H2O_HTTP2_FRAME_HEADER_SIZE + frame.length);
        }
        h2o_http2_stream_t *stream = h2o_http2_conn_get_stream(h2, frame.stream_id);
        if (stream != NULL && stream->state == H2O_HTTP2_STREAM_STATE_RECV_BODY &&
            (frame.flags & H2O_HTTP2_FRAME_FLAG_END_STREAM) == 0 &&
            stream->_req_body->size + frame.length > cfg->max_body_size)
            cut_stream(m, conn, stream, (uint8_t *)src);
        break;
    }
    default:
        break;
    }

pass:;
    ssize_t ret = inner(h2, src, len, err_desc);
    /* h2o moves between its preface, frame and CONTINUATION readers by assigning the pointer */
    if (h2->_read_expect != guard_expect) {
        conn->h2.inner = h2->_read_expect;
        h2->_read_expect = guard_expect;
    }
    if (ret >= 0 && budget_cut && h2->state < H2O_HTTP2_CONN_STATE_IS_CLOSING) {
        /* after the 503, ask the client to stop sending the body it had announced (8.1) */
        h2o_http2_stream_t *stream = h2o_http2_conn_get_stream(h2, frame.stream_id);
        if (stream != NULL) {
            cut_guard *g =
                h2o_mem_alloc_shared(&stream->req.pool, sizeof(*g), on_cut_stream_disposed);
            g->h2 = h2;
            g->stream_id = stream->stream_id;
        }
    }
    if (data || opens || frame.type == H2O_HTTP2_FRAME_TYPE_RST_STREAM)
        conn->h2.charged = h2->state < H2O_HTTP2_CONN_STATE_IS_CLOSING ? receiving_bytes(h2) : 0;
    if (ret >= 0 && opens && h2->state < H2O_HTTP2_CONN_STATE_IS_CLOSING &&
        receiving_streams(h2) > (size_t)cfg->http2_max_concurrent_streams) {
        h2o_http2_stream_t *stream = h2o_http2_conn_get_stream(h2, frame.stream_id);
        if (stream != NULL && (stream->state == H2O_HTTP2_STREAM_STATE_RECV_HEADERS ||
                               stream->state == H2O_HTTP2_STREAM_STATE_RECV_BODY)) {
            m->host->metric_add(m->metrics.h2_refused_streams, 1);
            h2o_http2_encode_rst_stream_frame(&h2->_write.buf, stream->stream_id,
                                              -H2O_HTTP2_ERROR_REFUSED_STREAM);
            h2o_http2_conn_request_write(h2);
            h2o_http2_stream_reset(h2, stream);
        }
    }
    return ret;
}

/* New connections are appended to ctx->http2._conns (h2o_http2_accept): walk back from the
 * tail to the first one already guarded. */
void http_h2guard_adopt(http_loop *loop)
{
    h2o_linklist_t *anchor = &loop->ctx.http2._conns;
    for (h2o_linklist_t *n = anchor->prev; n != anchor; n = n->prev) {
        h2o_http2_conn_t *h2 = H2O_STRUCT_FROM_MEMBER(h2o_http2_conn_t, _conns, n);
        if (h2->_read_expect == guard_expect)
            break;
        http_conn *conn = guarded_conn(h2);
        if (conn == NULL) /* an h2c upgrade still in progress: next time */
            continue;
        conn->h2.inner = h2->_read_expect;
        h2->_read_expect = guard_expect;
        conn->h2.charged = receiving_bytes(h2); /* what the first read already brought */
    }
}
