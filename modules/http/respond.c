/*
 * respond.c - response bodies: application/json for acknowledgements, application/problem+json
 * (RFC 9457) for every refusal, written straight into the request's memory pool.
 *
 * Each body is sized from an upper bound first (see json.h), so it is written once, in place,
 * with no reallocation or copy.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "json.h"

#define PROBLEM_JSON "application/problem+json"
#define APP_JSON     "application/json"

/* ---- status mapping ---- */

int http_status_of(inlet_status s)
{
    switch (s) {
    case INLET_OK:
        return 200;
    case INLET_E_UNAUTHENTICATED:
        return 401;
    case INLET_E_FORBIDDEN:
        return 403;
    case INLET_E_INVALID:
    case INLET_E_UNKNOWN_SCHEMA:
        return 400;
    case INLET_E_MEDIA_TYPE:
        return 415;
    case INLET_E_TOO_LARGE:
        return 413;
    case INLET_E_QUOTA:
        return 429;
    case INLET_E_UNAVAILABLE:
    case INLET_E_POSSIBLY_PERSISTED:
    case INLET_E_SHUTTING_DOWN:
        return 503;
    case INLET_E_INTERNAL:
        return 500;
    }
    return 500;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

typedef struct problem_kind {
    const char *type;
    const char *title;
} problem_kind;

static problem_kind problem_of(int status, inlet_status st)
{
    if (st == INLET_E_UNKNOWN_SCHEMA)
        return (problem_kind){"urn:inlet:problem:unknown-schema", "Unknown schema or version"};
    if (st == INLET_E_SHUTTING_DOWN)
        return (problem_kind){"urn:inlet:problem:shutting-down", "Shutting down"};
    switch (status) {
    case 400:
        return (problem_kind){"urn:inlet:problem:invalid", "Invalid request"};
    case 401:
        return (problem_kind){"urn:inlet:problem:unauthenticated", "Unauthenticated"};
    case 403:
        return (problem_kind){"urn:inlet:problem:forbidden", "Forbidden"};
    case 404:
        return (problem_kind){"urn:inlet:problem:not-found", "Not found"};
    case 405:
        return (problem_kind){"urn:inlet:problem:method-not-allowed", "Method not allowed"};
    case 411:
        return (problem_kind){"urn:inlet:problem:length-required", "Length required"};
    case 413:
        return (problem_kind){"urn:inlet:problem:too-large", "Request too large"};
    case 415:
        return (problem_kind){"urn:inlet:problem:unsupported-media-type", "Unsupported media type"};
    case 429:
        return (problem_kind){"urn:inlet:problem:quota-exceeded", "Quota exceeded"};
    case 503:
        return (problem_kind){"urn:inlet:problem:unavailable", "Service unavailable"};
    default:
        return (problem_kind){"urn:inlet:problem:internal", "Internal error"};
    }
}

static const char *default_detail(inlet_status st)
{
    switch (st) {
    case INLET_E_UNAUTHENTICATED:
        return "authentication failed";
    case INLET_E_FORBIDDEN:
        return "not allowed";
    case INLET_E_INVALID:
        return "the request is invalid";
    case INLET_E_UNKNOWN_SCHEMA:
        return "unknown schema or version";
    case INLET_E_MEDIA_TYPE:
        return "unsupported content type";
    case INLET_E_TOO_LARGE:
        return "the request is too large";
    case INLET_E_UNAVAILABLE:
        return "Kafka is unavailable; retry later";
    case INLET_E_POSSIBLY_PERSISTED:
        return "possibly persisted: resend with the same event_id";
    case INLET_E_QUOTA:
        return "quota exceeded; retry later";
    case INLET_E_SHUTTING_DOWN:
        return "the server is shutting down; retry later";
    default:
        return "internal error";
    }
}

/* ---- sending ---- */

void http_send(h2o_req_t *req, int status, const char *content_type, h2o_iovec_t body)
{
    static h2o_generator_t generator = {NULL, NULL};

    req->res.status = status;
    req->res.reason = reason_phrase(status);
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                   strlen(content_type));
    h2o_start_response(req, &generator);
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void add_retry_after_s(h2o_req_t *req, int s)
{
    char *v = h2o_mem_alloc_pool(&req->pool, 12);
    int n = snprintf(v, 12, "%d", s > 0 ? s : 1);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, v, (size_t)n);
}

void http_add_retry_after(http_module *m, h2o_req_t *req)
{
    add_retry_after_s(req, m->host->retry_after_s());
}

/* Refusals a device should retry carry Retry-After (RFC 9110 section 10.2.3): the refusal's own
 * advice when it has one (a rate limit's refill time, ABI 1.5), else the configured one. */
static void add_retry_after_if_transient(http_module *m, h2o_req_t *req, int status,
                                         const inlet_rejection *rej)
{
    if (status != 503 && status != 429)
        return;
    if (rej && rej->size >= offsetof(inlet_rejection, reserved) && rej->retry_after_s > 0)
        add_retry_after_s(req, rej->retry_after_s);
    else
        http_add_retry_after(m, req);
}

static void problem_head(jbuf *b, int status, inlet_status st, const char *detail)
{
    problem_kind k = problem_of(status, st);
    jb_lit(b, "{\"type\":");
    jb_str(b, k.type);
    jb_lit(b, ",\"title\":");
    jb_str(b, k.title);
    jb_lit(b, ",\"status\":");
    jb_int(b, status);
    jb_lit(b, ",\"detail\":");
    jb_str(b, detail);
}

static size_t problem_head_bound(const char *detail)
{
    return 200 + jstr_bound(detail);
}

static void send_problem_st(http_module *m, h2o_req_t *req, int status, inlet_status st,
                            const char *detail, const inlet_rejection *rej)
{
    jbuf b;
    jb_init_pool(&b, &req->pool, problem_head_bound(detail) + 2);
    problem_head(&b, status, st, detail);
    jb_lit(&b, "}\n");
    add_retry_after_if_transient(m, req, status, rej);
    http_send(req, status, PROBLEM_JSON, jb_iovec(&b));
}

void http_send_problem(http_module *m, h2o_req_t *req, int status, const char *detail)
{
    send_problem_st(m, req, status, status == 503 ? INLET_E_UNAVAILABLE : INLET_OK, detail, NULL);
}

void http_send_method_not_allowed(http_module *m, h2o_req_t *req, const char *allow)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    http_send_problem(m, req, 405, "this endpoint only accepts the methods in Allow");
}

void http_send_unauthenticated(http_module *m, h2o_req_t *req, bool token_given, const char *detail)
{
    /* RFC 6750 section 3: the error attribute only when a token was actually presented. */
    static const char plain[] = "Bearer realm=\"inlet\"";
    static const char invalid[] = "Bearer realm=\"inlet\", error=\"invalid_token\"";
    if (token_given)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, invalid,
                       sizeof(invalid) - 1);
    else
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, plain,
                       sizeof(plain) - 1);
    send_problem_st(m, req, 401, INLET_E_UNAUTHENTICATED, detail, NULL);
}

void http_send_rejection(http_module *m, h2o_req_t *req, inlet_status st,
                         const inlet_rejection *rej, bool token_given)
{
    int status = http_status_of(st);
    const char *detail = rej != NULL && rej->message != NULL ? rej->message : default_detail(st);

    if (st == INLET_E_UNAUTHENTICATED) {
        http_send_unauthenticated(m, req, token_given, detail);
        return;
    }
    if (rej == NULL || rej->n_errors == 0 || rej->errors == NULL) {
        send_problem_st(m, req, status, st, detail, rej);
        return;
    }

    size_t bound = problem_head_bound(detail) + 16;
    for (size_t i = 0; i < rej->n_errors; i++)
        bound += 64 + JINT_BOUND + jstr_bound(rej->errors[i].pointer) +
                 jstr_bound(rej->errors[i].message);
    jbuf b;
    jb_init_pool(&b, &req->pool, bound);
    problem_head(&b, status, st, detail);
    jb_lit(&b, ",\"errors\":[");
    for (size_t i = 0; i < rej->n_errors; i++) {
        const inlet_event_error *e = &rej->errors[i];
        if (i != 0)
            jb_lit(&b, ",");
        jb_lit(&b, "{\"index\":");
        jb_int(&b, (int64_t)e->index);
        jb_lit(&b, ",\"pointer\":");
        jb_str(&b, e->pointer != NULL ? e->pointer : "");
        jb_lit(&b, ",\"detail\":");
        jb_str(&b, e->message != NULL ? e->message : default_detail(e->status));
        jb_lit(&b, "}");
    }
    jb_lit(&b, "]}\n");
    add_retry_after_if_transient(m, req, status, rej);
    http_send(req, status, PROBLEM_JSON, jb_iovec(&b));
}

/* Failed deliveries are worth a retry unless the events themselves were at fault. */
static int completion_status(inlet_status st)
{
    switch (st) {
    case INLET_OK:
    case INLET_E_INVALID:
    case INLET_E_UNKNOWN_SCHEMA:
    case INLET_E_FORBIDDEN:
    case INLET_E_TOO_LARGE:
        return http_status_of(st);
    default:
        return 503;
    }
}

void http_send_completion(http_module *m, h2o_req_t *req, const inlet_completion *c)
{
    int status = completion_status(c->status);
    size_t accepted = 0;
    size_t bound = 256;

    size_t maybe = 0; /* possibly persisted: resend with the same event_id */
    for (size_t i = 0; i < c->n_events; i++) {
        const inlet_event_result *e = &c->events[i];
        accepted += e->status == INLET_OK;
        maybe += e->status == INLET_E_POSSIBLY_PERSISTED;
        bound += 96 + 2 * JINT_BOUND + jstr_bound(e->event_id) + jstr_bound(e->topic) +
                 jstr_bound(e->error);
    }
    char detail[192];
    if (maybe == 0)
        snprintf(detail, sizeof(detail),
                 "%zu of %zu events were not persisted; safe to resend them",
                 c->n_events - accepted, c->n_events);
    else
        snprintf(detail, sizeof(detail),
                 "%zu of %zu events were not persisted and %zu possibly persisted; resend them "
                 "with the same event_id (consumers drop duplicates by event_id)",
                 c->n_events - accepted - maybe, c->n_events, maybe);
    bound += problem_head_bound(detail) + problem_head_bound(default_detail(c->status));

    jbuf b;
    jb_init_pool(&b, &req->pool, bound);
    if (status == 200) {
        jb_lit(&b, "{");
    } else {
        if (status == 503) {
            if (maybe == 0)
                jb_lit(&b, "{\"type\":\"urn:inlet:problem:not-persisted\","
                           "\"title\":\"Not every event was persisted\",\"status\":503,"
                           "\"detail\":");
            else
                jb_lit(&b, "{\"type\":\"urn:inlet:problem:possibly-persisted\","
                           "\"title\":\"Some events may have been persisted\",\"status\":503,"
                           "\"detail\":");
            jb_str(&b, detail);
        } else {
            problem_head(&b, status, c->status, default_detail(c->status));
        }
        jb_lit(&b, ",");
    }
    jb_lit(&b, "\"accepted\":");
    jb_int(&b, (int64_t)accepted);
    jb_lit(&b, ",\"results\":[");
    for (size_t i = 0; i < c->n_events; i++) {
        const inlet_event_result *e = &c->events[i];
        if (i != 0)
            jb_lit(&b, ",");
        jb_lit(&b, "{\"event_id\":");
        jb_str(&b, e->event_id);
        jb_lit(&b, ",\"status\":");
        jb_str(&b, m->host->status_name(e->status));
        if (e->topic != NULL) {
            jb_lit(&b, ",\"topic\":");
            jb_str(&b, e->topic);
        }
        if (e->status == INLET_OK) {
            jb_lit(&b, ",\"partition\":");
            jb_int(&b, e->partition);
            jb_lit(&b, ",\"offset\":");
            jb_int(&b, e->offset);
        } else {
            jb_lit(&b, ",\"error\":");
            jb_str(&b, e->error != NULL ? e->error : default_detail(e->status));
        }
        jb_lit(&b, "}");
    }
    jb_lit(&b, "]}\n");
    add_retry_after_if_transient(m, req, status, NULL);
    http_send(req, status, status == 200 ? APP_JSON : PROBLEM_JSON, jb_iovec(&b));
}
