/*
 * health.c - liveness (/healthz), readiness (/readyz), Prometheus metrics (/metrics) and, on the
 * admin listener, the core's admin resources (/refusals, /console: docs/CONSOLE.md).
 * These carry no credentials: /metrics is served by the admin listener (admin_address, loopback
 * by default) and only where listeners[].metrics asks for it besides.
 */
#include <stdlib.h>

#include "http.h"

#define TEXT_PLAIN      "text/plain; charset=utf-8"
#define PROMETHEUS_TEXT "text/plain; version=0.0.4; charset=utf-8"

static bool is_get_or_head(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) ||
           h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
}

void http_health_healthz(http_module *m, h2o_req_t *req)
{
    if (!is_get_or_head(req)) {
        http_send_method_not_allowed(m, req, "GET, HEAD");
        return;
    }
    http_send(req, 200, TEXT_PLAIN, h2o_iovec_init(H2O_STRLIT("ok\n")));
}

void http_health_readyz(http_module *m, h2o_req_t *req)
{
    if (!is_get_or_head(req)) {
        http_send_method_not_allowed(m, req, "GET, HEAD");
        return;
    }
    if (atomic_load(&m->loopset.draining)) {
        http_add_retry_after(m, req);
        http_send(req, 503, TEXT_PLAIN, h2o_iovec_init(H2O_STRLIT("shutting down\n")));
    } else if (!m->host->kafka_ready()) {
        http_add_retry_after(m, req);
        http_send(req, 503, TEXT_PLAIN, h2o_iovec_init(H2O_STRLIT("kafka unavailable\n")));
    } else {
        http_send(req, 200, TEXT_PLAIN, h2o_iovec_init(H2O_STRLIT("ready\n")));
    }
}

/* The rendered text is malloc'd by the core; the request's pool frees it after sending. */
static void free_rendered(void *slot)
{
    free(*(char **)slot);
}

void http_health_metrics(http_module *m, h2o_req_t *req)
{
    if (!is_get_or_head(req)) {
        http_send_method_not_allowed(m, req, "GET, HEAD");
        return;
    }
    size_t len = 0;
    char *text = m->host->metrics_render(&len);
    if (text == NULL) {
        http_send_problem(m, req, 500, "metrics could not be rendered");
        return;
    }
    char **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), free_rendered);
    *slot = text;
    http_send(req, 200, PROMETHEUS_TEXT, h2o_iovec_init(text, len));
}

bool http_health_admin(http_module *m, h2o_req_t *req)
{
    char *body = NULL;
    size_t len = 0;
    const char *type = NULL;
    int status = m->host->admin_resource(req->path_normalized.base, req->path_normalized.len, &body,
                                         &len, &type);
    if (status == 404)
        return false;
    if (!is_get_or_head(req)) {
        free(body);
        http_send_method_not_allowed(m, req, "GET, HEAD");
        return true;
    }
    if (status != 200 || body == NULL) {
        free(body);
        http_send_problem(m, req, 500, "the admin resource could not be rendered");
        return true;
    }
    char **slot = h2o_mem_alloc_shared(&req->pool, sizeof(*slot), free_rendered);
    *slot = body;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    http_send(req, 200, type, h2o_iovec_init(body, len));
    return true;
}
