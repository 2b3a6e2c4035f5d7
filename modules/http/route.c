/*
 * route.c - the one h2o handler (path dispatch) and the logger that counts every answer.
 *
 * Both sit on the host's fallback path, which is also where h2o binds the errors it produces
 * itself (400 for broken framing, 413 for oversized bodies, 417), so those are counted too.
 */
#include <string.h>

#include "http.h"

static bool path_is(const h2o_req_t *req, const char *path)
{
    return path[0] != '\0' &&
           h2o_memis(req->path_normalized.base, req->path_normalized.len, path, strlen(path));
}

/* <ingest_path> itself, or below it (<ingest_path>/<schema>/<version>, checked by ingest.c). */
static bool path_is_ingest(const h2o_req_t *req, const char *path)
{
    size_t n = strlen(path);
    const h2o_iovec_t *p = &req->path_normalized;
    return n > 0 && p->len >= n && memcmp(p->base, path, n) == 0 &&
           (p->len == n || p->base[n] == '/');
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_module *m = ((http_handler *)self)->m;
    const http_config *cfg = m->cfg;
    http_conn *conn = http_conn_of(req);

    if (conn == NULL) { /* not one of our sockets: cannot happen, but never guess a listener */
        http_send_problem(m, req, 500, "connection state is missing");
        return 0;
    }
    const http_listener_config *lc = conn->listener->cfg;
    http_loop *loop = http_loop_of(req);
    const char *why = NULL;

    if (req->version < 0x200)
        http_budget_mark_busy(conn, req);
    if (!http_framing_valid(req, &why)) {
        req->http1_is_persistent = 0; /* what follows the body is not a request we trust */
        http_refuse(m, req, NULL, 400, why);
        return 0;
    }
    if (http_h2guard_over_budget(conn, req)) {
        http_send_problem(m, req, 503, "too many request bodies are being received; retry later");
        return 0;
    }

    if (lc->ingest && path_is_ingest(req, cfg->ingest_path)) {
        http_ingest_handle(m, loop, conn, req);
    } else if (lc->health && path_is(req, cfg->healthz_path)) {
        http_health_healthz(m, req);
    } else if (lc->health && path_is(req, cfg->readyz_path)) {
        http_health_readyz(m, req);
    } else if (lc->metrics && path_is(req, cfg->metrics_path)) {
        http_health_metrics(m, req);
    } else if (lc->admin && http_health_admin(m, req)) {
        /* answered by the core's admin resource */
    } else {
        http_send_problem(m, req, 404, "no such endpoint");
    }
    return 0;
}

static int metric_slot(int status)
{
    switch (status) {
    case 200:
        return 0;
    case 400:
        return 1;
    case 401:
        return 2;
    case 403:
        return 3;
    case 404:
        return 4;
    case 405:
        return 5;
    case 408:
        return 6;
    case 411:
        return 7;
    case 413:
        return 8;
    case 415:
        return 9;
    case 417:
        return 10;
    case 429:
        return 11;
    case 500:
        return 12;
    case 502:
        return 13;
    case 503:
        return 14;
    default:
        return 15;
    }
}

void http_metrics_count_status(http_module *m, int status)
{
    m->host->metric_add(m->metrics.requests[metric_slot(status)], 1);
}

/* Called by h2o when it disposes a request; status 0 means no answer was sent (the client
 * went away first), which is not a response and is not counted. */
static void log_access(h2o_logger_t *self, h2o_req_t *req)
{
    http_module *m = ((http_logger *)self)->m;
    if (req->res.status != 0)
        http_metrics_count_status(m, req->res.status);
}

void http_routes_register(http_module *m)
{
    h2o_pathconf_t *pathconf = &m->hostconf->fallback_path;
    http_handler *handler = (http_handler *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->m = m;
    http_logger *logger = (http_logger *)h2o_create_logger(pathconf, sizeof(*logger));
    logger->super.log_access = log_access;
    logger->m = m;
}
