/*
 * ingest.c - POST <ingest_path>: check, authenticate, submit, and answer when the completion
 * says what Kafka did with every event.
 *
 * The answer is deferred, and the client may vanish before it is ready (h2o then disposes the
 * request). So the request owns a small guard in its memory pool whose dispose hook detaches
 * the pending object; the pending object itself lives until both the request and the core are
 * done with it. Pending objects are recycled per loop (support.h) to keep malloc off the hot path.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "parse.h"

static void pending_release(http_loop *loop, http_pending *p)
{
    if (--p->refs == 0)
        inlet_support_pending_put(&loop->base.pending, p);
}

/* The guard lives in the request's pool: one pointer back to the pending object. */
typedef struct http_guard {
    http_pending *pending;
    http_loop *loop;
} http_guard;

static void on_request_disposed(void *data)
{
    http_guard *g = data;
    http_pending *p = g->pending;
    if (p->req != NULL) { /* the client left before its answer */
        h2o_linklist_unlink(&p->link);
        p->req = NULL;
    }
    pending_release(g->loop, p);
}

/* Below <ingest_path>: "/<schema>/<version>" names the schema of a bare payload, as MQTT topics
 * do; the body is then the payload in any format the core decodes (JSON, CBOR, SenML, a binary
 * layout). Copies go into the request's pool. false: not of that shape (404). */
static bool parse_schema_path(h2o_req_t *req, size_t prefix_len, const char **schema,
                              const char **version)
{
    const char *p = req->path_normalized.base + prefix_len;
    size_t len = req->path_normalized.len - prefix_len;
    *schema = *version = NULL;
    if (len == 0)
        return true;
    if (p[0] != '/')
        return false;
    p++;
    len--;
    const char *slash = memchr(p, '/', len);
    if (slash == NULL || slash == p || (size_t)(slash - p) > 128)
        return false;
    size_t sn = (size_t)(slash - p), vn = len - sn - 1;
    if (vn == 0 || vn > 16 || memchr(slash + 1, '/', vn) != NULL)
        return false;
    for (size_t i = 0; i < sn; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
              p[i] == '_' || p[i] == '-'))
            return false;
    *schema = h2o_strdup(&req->pool, p, sn).base;
    *version = h2o_strdup(&req->pool, slash + 1, vn).base;
    return true;
}

void http_ingest_handle(http_module *m, http_loop *loop, http_conn *conn, h2o_req_t *req)
{
    const inlet_host *host = m->host;
    http_auth_result auth;
    inlet_rejection *rej = NULL;
    http_pending *p = NULL;
    const inlet_identity *counted = NULL; /* connection_open() succeeded for it */

    const char *schema = NULL, *version = NULL;
    if (!parse_schema_path(req, strlen(m->cfg->ingest_path), &schema, &version)) {
        http_send_problem(m, req, 404,
                          "no such endpoint (POST <ingest_path> or "
                          "<ingest_path>/<schema>/<version>)");
        return;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        http_send_method_not_allowed(m, req, "POST");
        return;
    }

    http_auth_request(m, conn, req, &auth);
    if (auth.status == INLET_E_UNAUTHENTICATED) {
        const char *detail =
            conn->cert_state == HTTP_CERT_REJECTED ? "the client certificate is not accepted"
            : auth.token_given                     ? "the bearer token is not valid"
                               : "a client certificate or an Authorization: Bearer token is "
                                 "required";
        http_report_refusal(m, req, auth.status, NULL, auth.why[0] ? auth.why : detail);
        http_send_unauthenticated(m, req, auth.token_given, detail);
        goto done;
    }
    if (auth.status != INLET_OK) {
        http_report_refusal(m, req, auth.status, NULL, auth.why);
        http_send_rejection(m, req, auth.status, NULL, auth.token_given);
        goto done;
    }
    /* The connection quota counts requests in progress (an HTTP connection has no identity
     * of its own when it carries bearer tokens): from here until Kafka answered. */
    char qmsg[160];
    if (host->connection_open(m->mod, auth.identity, qmsg, sizeof(qmsg)) != INLET_OK) {
        inlet_rejection q = {.size = sizeof(q), .status = INLET_E_QUOTA, .message = qmsg};
        http_send_rejection(m, req, INLET_E_QUOTA, &q, auth.token_given);
        goto done;
    }
    counted = auth.identity;

    /* HTTP/1.x without Content-Length or chunked framing: h2o saw no body at all. */
    if (req->entity.base == NULL && req->version < 0x200) {
        req->http1_is_persistent = 0; /* unframed body bytes may follow: do not parse them */
        http_refuse(m, req, auth.identity, 411,
                    "a Content-Length or chunked request body is required");
        goto done;
    }
    if (req->entity.len > m->cfg->max_body_size) {
        http_refuse(m, req, auth.identity, 413, "the request body is larger than max_body_size");
        goto done;
    }
    /* The core decodes every format it knows and answers 415 for the others. */
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct < 0) {
        http_refuse(m, req, auth.identity, 415,
                    "a Content-Type is required (application/json, "
                    "application/cbor, application/senml+json, "
                    "application/senml+cbor, application/octet-stream)");
        goto done;
    }
    http_media_type mt;
    if (!http_parse_media_type(req->headers.entries[ct].value.base,
                               req->headers.entries[ct].value.len, &mt)) {
        /* the core reads only the part before ';': refuse what it would misread */
        http_refuse(m, req, auth.identity, 415,
                    "the Content-Type is not a media type (RFC 9110 section 8.3.1)");
        goto done;
    }
    if (req->entity.len == 0) {
        http_refuse(m, req, auth.identity, 400, "the request body is empty");
        goto done;
    }

    if ((p = inlet_support_pending_get(&loop->base.pending)) == NULL) {
        http_send_problem(m, req, 503, "out of memory");
        goto done;
    }
    inlet_request r;
    memset(&r, 0, sizeof(r));
    r.size = sizeof(r);
    r.identity = auth.identity;
    r.form = schema != NULL ? INLET_FORM_PAYLOAD : INLET_FORM_BATCH;
    r.schema = schema;
    r.schema_version = version;
    r.body = req->entity.base; /* borrowed: the core copies what it keeps before returning */
    r.body_len = req->entity.len;
    r.content_type = h2o_strdup(&req->pool, req->headers.entries[ct].value.base,
                                req->headers.entries[ct].value.len)
                         .base;
    r.source = "http";
    char peer[64];
    http_peer_of(req, peer, sizeof(peer));
    r.peer = peer[0] ? peer : NULL;
    r.received_at_us = host->now_us();
    r.max_events = (size_t)m->cfg->max_events;
    r.queue = loop->base.queue;
    r.opaque = p;

    inlet_status st = host->submit(m->mod, &r, &rej);
    if (st != INLET_OK) {
        inlet_support_pending_put(&loop->base.pending, p);
        http_send_rejection(m, req, st, rej, auth.token_given);
        if (rej != NULL)
            host->rejection_free(rej);
        goto done;
    }

    /* Accepted: one reference for the request, one for the completion. */
    p->refs = 2;
    p->req = req;
    h2o_linklist_insert(&loop->waiting, &p->link);
    http_guard *g = h2o_mem_alloc_shared(&req->pool, sizeof(*g), on_request_disposed);
    g->pending = p;
    g->loop = loop;
    host->metric_add(m->metrics.in_flight, 1);
    host->identity_ref(counted);
    p->counted = counted;
    counted = NULL;

done:
    if (counted != NULL)
        host->connection_close(m->mod, counted);
    http_auth_done(m, &auth);
}

void http_ingest_on_completion(void *ctx, const inlet_completion *c)
{
    http_loop *loop = ctx;
    http_pending *p = c->opaque;

    if (p->req != NULL) {
        h2o_req_t *req = p->req;
        h2o_linklist_unlink(&p->link);
        p->req = NULL;
        http_send_completion(loop->m, req, c);
    }
    loop->m->host->metric_add(loop->m->metrics.in_flight, -1);
    if (p->counted != NULL) {
        loop->m->host->connection_close(loop->m->mod, p->counted);
        loop->m->host->identity_release(p->counted);
        p->counted = NULL;
    }
    pending_release(loop, p);
}

void http_ingest_abandon_waiting(http_loop *loop)
{
    while (!h2o_linklist_is_empty(&loop->waiting)) {
        http_pending *p = H2O_STRUCT_FROM_MEMBER(http_pending, link, loop->waiting.next);
        h2o_req_t *req = p->req;
        h2o_linklist_unlink(&p->link);
        p->req = NULL;
        /* Nothing is known about these events; the device must retry. The core reference
         * stays: the queue is then kept rather than freed under a late completion. */
        http_send_rejection(loop->m, req, INLET_E_SHUTTING_DOWN, NULL, false);
    }
}
