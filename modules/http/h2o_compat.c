/*
 * h2o_compat.c - what h2o 2.2 (libh2o-evloop 0.13) lacks an API for, in one place.
 *
 * Each function here relies on a detail of h2o 2.2's private structures or on one of its bugs.
 * They are checked where they can be and fenced by H2O_LIBRARY_VERSION where they cannot, so
 * that moving to another h2o release means revisiting this file only.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define H2O_IS_2_2 (H2O_LIBRARY_VERSION_MAJOR == 0 && H2O_LIBRARY_VERSION_MINOR <= 13)

/*
 * The SSL object of a socket: h2o 2.2 has no accessor. Its private struct st_h2o_socket_ssl_t
 * starts with these two members; the result is checked against the listener's SSL_CTX so that
 * a different layout yields NULL (and the caller fails closed) instead of misbehaving.
 */
struct h2o_socket_ssl_head {
    SSL_CTX *ssl_ctx;
    SSL *ossl;
};

SSL *http_h2o_socket_ssl(h2o_socket_t *sock, SSL_CTX *expected)
{
    const struct h2o_socket_ssl_head *head = (const void *)sock->ssl;
    if (head == NULL || head->ssl_ctx != expected || head->ossl == NULL)
        return NULL;
    if (SSL_get_SSL_CTX(head->ossl) != expected)
        return NULL;
    return head->ossl;
}

void http_h2o_context_dispose(h2o_context_t *ctx)
{
    /* the GOAWAY resend timer of h2o_context_request_shutdown() may still be armed, and
     * h2o_context_dispose() asserts that no timer is */
    h2o_timeout_unlink(&ctx->http2._graceful_shutdown_timeout);
    h2o_multithread_queue_t *mtq = ctx->queue;
    h2o_context_dispose(ctx);
#if H2O_IS_2_2
    /* h2o 2.2's evloop h2o_multithread_destroy_queue() forgets to free the queue */
    free(mtq);
#else
    (void)mtq;
#endif
}

/* Empty one of h2o's per-thread free lists for good. */
static void drain_recycler(h2o_mem_recycle_t *r)
{
    r->max = 0;
    while (r->cnt != 0)
        free(h2o_mem_alloc_recycle(r, 1));
}

/*
 * h2o 2.2 also keeps up to 16 memory-pool chunks per thread in a private free list. A pool
 * that needs new chunks takes them from that list first; the chunks are then freed directly
 * (each starts with its `next` link, and is the pointer malloc returned), not given back.
 */
static void drain_pool_chunk_cache(void)
{
#if H2O_IS_2_2
    enum { CHUNK_CACHE = 16, SMALL = 1008, PER_CHUNK = 4 }; /* 4 x 1008 fill a 4080-byte chunk */
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    for (int i = 0; i < (CHUNK_CACHE + 1) * PER_CHUNK; i++)
        h2o_mem_alloc_pool(&pool, SMALL);
    void *chunk = pool.chunks;
    while (chunk != NULL) {
        void *next = *(void **)chunk;
        free(chunk);
        chunk = next;
    }
#endif
}

/*
 * h2o caches freed buffers per thread; give them back before the thread's storage goes, or
 * they become unreachable (and LeakSanitizer rightly says so). One cache stays out of reach:
 * HTTP/2 write buffers (a static in h2o's http2/connection.c), see tests/lsan.supp.
 */
void http_h2o_release_thread_caches(void)
{
    drain_recycler(&h2o_socket_buffer_prototype.allocator);
    drain_pool_chunk_cache();
}

/*
 * h2o 2.2's HTTP/1 parser keeps Content-Length and Transfer-Encoding out of req->headers (it
 * takes one of them as "the entity header" and drops the rest), so their duplicates cannot be
 * seen from a handler. The request head is still the start of the socket's input buffer while
 * the request is being handled: h2o consumes it only once the response is sent, and decodes a
 * chunked body in place after it. Checked: the head must start with the request's method and a
 * space, and end with an empty line within H2O_MAX_REQLEN.
 */
h2o_iovec_t http_h2o_http1_request_head(h2o_req_t *req)
{
#if H2O_IS_2_2
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL || req->version >= 0x200)
        return h2o_iovec_init(NULL, 0);
    const char *p = sock->input->bytes;
    size_t n = sock->input->size < H2O_MAX_REQLEN ? sock->input->size : H2O_MAX_REQLEN;
    if (n <= req->method.len || memcmp(p, req->method.base, req->method.len) != 0 ||
        p[req->method.len] != ' ')
        return h2o_iovec_init(NULL, 0);
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\n' &&
            (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')))
            return h2o_iovec_init(p, i + 1);
    }
#else
    (void)req;
#endif
    return h2o_iovec_init(NULL, 0);
}
