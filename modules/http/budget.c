/*
 * budget.c - one budget for the request bodies inletd is receiving, over every connection and
 * loop (max_receiving_bytes), so that memory before authentication has a bound that does not
 * grow with the number of connections.
 *
 * h2o 2.2 runs a handler, and so authentication, only once a request's whole body is in memory
 * (it has no request-header hook and no streaming request bodies: proceed_req came in 2.3). So
 * what a body costs before anyone knows who sent it is bounded here instead:
 *   - HTTP/1.x: a connection whose request is not being handled yet holds its partial request in
 *     the socket's input buffer; a request being handled is marked busy until h2o disposes it.
 *   - HTTP/2: h2guard.c counts the bodies its streams are receiving.
 * After every loop iteration the loop recounts its share. Past the budget, the HTTP/1.x
 * connections still receiving a body are refused (503 + Retry-After, then closed) until the
 * total is within it again, and h2guard.c answers new HTTP/2 requests with a body 503 at their
 * HEADERS, before any of it is read.
 */
#include <string.h>
#include <sys/socket.h>

#include "http.h"

/* How often a loop recounts at most: a busy loop must not walk its connections per event. */
#define HTTP_SWEEP_MS 20

struct http_busy_mark {
    http_conn *conn; /* NULL once the connection closed first */
};

static void on_busy_disposed(void *data)
{
    http_busy_mark *b = data;
    if (b->conn != NULL && b->conn->busy == b)
        b->conn->busy = NULL;
}

void http_budget_mark_busy(http_conn *conn, h2o_req_t *req)
{
    http_busy_mark *b = h2o_mem_alloc_shared(&req->pool, sizeof(*b), on_busy_disposed);
    b->conn = conn;
    conn->busy = b;
}

void http_budget_conn_closed(http_conn *conn)
{
    if (conn->busy != NULL)
        conn->busy->conn = NULL;
    conn->busy = NULL;
}

size_t http_budget_total(http_module *m)
{
    size_t total = 0;
    for (size_t i = 0; i < m->loopset.n; i++) {
        http_loop *l = inlet_support_loop_at(&m->loopset, i);
        total += atomic_load_explicit(&l->receiving, memory_order_relaxed);
    }
    return total;
}

/* An HTTP/1.x connection's partial request: the memory of its input buffer (what it holds,
 * rounded up as h2o grows it) while nothing handles it. An idle connection has no bytes. */
static size_t http1_receiving(const http_conn *conn)
{
    const h2o_buffer_t *in = conn->sock->input;
    if (conn->h2.inner != NULL || conn->busy != NULL || conn->refused || in == NULL ||
        in->size == 0 || !h2o_socket_is_reading(conn->sock))
        return 0;
    return in->capacity;
}

/*
 * 503 before the body is complete (RFC 9110 section 15.6.4), then close: h2o sees the socket
 * end and frees the connection. Plaintext only gets the answer (a TLS record cannot be written
 * past h2o); a TLS connection is closed.
 */
static void refuse(http_module *m, http_conn *conn)
{
    char buf[400];
    int s = m->host->retry_after_s();
    static const char body[] =
        "{\"type\":\"urn:inlet:problem:unavailable\",\"title\":\"Service unavailable\","
        "\"status\":503,\"detail\":\"too many request bodies are being received; retry "
        "later\"}\n";
    int fd = h2o_socket_get_fd(conn->sock);

    conn->refused = true;
    m->host->metric_add(m->metrics.refused_budget, 1);
    if (conn->listener->ssl_ctx == NULL && !h2o_socket_is_writing(conn->sock)) {
        int n = snprintf(buf, sizeof(buf),
                         "HTTP/1.1 503 Service Unavailable\r\nRetry-After: %d\r\n"
                         "Content-Type: application/problem+json\r\nConnection: close\r\n"
                         "Content-Length: %zu\r\n\r\n%s",
                         s > 0 ? s : 1, sizeof(body) - 1, body);
        if (n > 0 && (size_t)n < sizeof(buf))
            (void)send(fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    shutdown(fd, SHUT_RDWR); /* h2o, reading, then sees the end and frees the connection */
}

void http_budget_sweep(http_loop *loop)
{
    http_module *m = loop->m;
    uint64_t now = inlet_support_monotonic_ms();
    if (now - loop->last_sweep_ms < HTTP_SWEEP_MS)
        return;
    loop->last_sweep_ms = now;

    size_t mine = 0;
    for (h2o_linklist_t *n = loop->conns.next; n != &loop->conns; n = n->next) {
        http_conn *c = H2O_STRUCT_FROM_MEMBER(http_conn, link, n);
        mine += http1_receiving(c) + c->h2.charged;
    }
    size_t before = atomic_exchange(&loop->receiving, mine);
    m->host->metric_add(m->metrics.receiving_bytes, (int64_t)mine - (int64_t)before);

    size_t total = http_budget_total(m);
    for (h2o_linklist_t *n = loop->conns.next;
         n != &loop->conns && total > m->cfg->max_receiving_bytes; n = n->next) {
        http_conn *c = H2O_STRUCT_FROM_MEMBER(http_conn, link, n);
        size_t r = http1_receiving(c);
        if (r == 0)
            continue;
        refuse(m, c);
        total -= r;
        mine -= r;
    }
    before = atomic_exchange(&loop->receiving, mine);
    m->host->metric_add(m->metrics.receiving_bytes, (int64_t)mine - (int64_t)before);
}
