/* submit.c - the fake host's submit(): copies of the requests, the policy that accepts or
 * refuses them, and the completions the test chooses. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "fake.h"

typedef struct fake_rejection {
    inlet_rejection pub; /* first: the public pointer is the allocation */
    inlet_event_error error;
    char *message;
} fake_rejection;

void inlet_test_host_refuse(inlet_test_host *t, inlet_status status, const char *message,
                            int32_t retry_after_s)
{
    pthread_mutex_lock(&t->mu);
    t->refuse_status = status;
    free(t->refuse_message);
    t->refuse_message = fake_strdup(message ? message : "refused by the test");
    t->refuse_retry_after = retry_after_s;
    pthread_mutex_unlock(&t->mu);
}

void inlet_test_host_complete_on_submit(inlet_test_host *t, int on, inlet_status status)
{
    pthread_mutex_lock(&t->mu);
    t->complete_now = on;
    t->complete_now_status = status;
    pthread_mutex_unlock(&t->mu);
}

/* What the core would refuse as a programming error of the module; NULL if the request is fine. */
static const char *request_fault(const inlet_request *req)
{
    if (req->size < offsetof(inlet_request, opaque) + sizeof(req->opaque))
        return "inlet_request.size is smaller than ABI 1.0's request";
    if (!req->identity)
        return "a request without an identity";
    if (!req->queue)
        return "a request without a completion queue";
    if (!req->body && req->body_len)
        return "body is NULL but body_len is not 0";
    if (req->form == INLET_FORM_PAYLOAD && (!req->schema || !req->schema_version))
        return "INLET_FORM_PAYLOAD without schema and schema_version";
    if (req->form < INLET_FORM_BATCH || req->form > INLET_FORM_PAYLOAD)
        return "an unknown body form";
    for (size_t i = 0; req->size >= sizeof(inlet_request) && i < 3; i++)
        if (req->reserved[i])
            return "inlet_request.reserved is not zero";
    return NULL;
}

static inlet_test_submission *copy_request(const inlet_request *req, size_t index)
{
    inlet_test_submission *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->index = index;
    s->form = req->form;
    s->body = malloc(req->body_len + 1);
    if (!s->body)
        abort();
    if (req->body_len)
        memcpy(s->body, req->body, req->body_len);
    s->body[req->body_len] = '\0';
    s->body_len = req->body_len;
    s->content_type = fake_strdup(req->content_type);
    s->schema = fake_strdup(req->schema);
    s->schema_version = fake_strdup(req->schema_version);
    s->event_id = fake_strdup(req->event_id);
    s->source = fake_strdup(req->source);
    if (req->size >= offsetof(inlet_request, peer) + sizeof(req->peer))
        s->peer = fake_strdup(req->peer);
    if (req->identity) {
        s->tenant = fake_strdup(req->identity->tenant);
        s->device_id = fake_strdup(req->identity->device_id);
    }
    s->n_headers = req->headers ? req->n_headers : 0;
    s->header_names = calloc(s->n_headers + 1, sizeof(char *));
    s->header_values = calloc(s->n_headers + 1, sizeof(char *));
    if (!s->header_names || !s->header_values)
        abort();
    for (size_t i = 0; i < s->n_headers; i++) {
        s->header_names[i] = fake_strdup(req->headers[i].name);
        s->header_values[i] = strndup(req->headers[i].value ? req->headers[i].value : "",
                                      req->headers[i].value ? req->headers[i].value_len : 0);
    }
    s->received_at_us = req->received_at_us;
    s->max_events = req->max_events;
    s->queue = req->queue;
    s->opaque = req->opaque;
    return s;
}

static inlet_rejection *rejection_new(inlet_status status, const char *message, int32_t retry)
{
    fake_rejection *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->message = fake_strdup(message);
    r->pub.size = sizeof(r->pub);
    r->pub.status = status;
    r->pub.message = r->message;
    r->pub.n_events = 1;
    r->pub.n_errors = 1;
    r->pub.errors = &r->error;
    r->pub.retry_after_s = retry;
    r->error = (inlet_event_error){0, status, "", r->message};
    return &r->pub;
}

static int complete_locked(inlet_test_host *t, size_t i, inlet_status status, size_t n,
                           const char *const *ids);

inlet_status fake_submit(inlet_module_ctx *mod, const inlet_request *req, inlet_rejection **rej)
{
    inlet_test_host *t = inlet_test_current;
    if (rej)
        *rej = NULL;
    const char *fault = mod == &t->ctx ? request_fault(req) : "submit() with another module's ctx";
    if (fault)
        fake_violation("submit(): %s", fault);
    pthread_mutex_lock(&t->mu);
    size_t index = t->n_subs;
    inlet_test_submission **subs = realloc(t->subs, (index + 1) * sizeof(*subs));
    if (!subs)
        abort();
    t->subs = subs;
    inlet_test_submission *s = copy_request(req, index);
    t->subs[t->n_subs++] = s;
    const char *message = t->refuse_message;
    inlet_status st = t->refuse_status;
    char denied[256];
    if (fault) {
        st = INLET_E_INTERNAL;
        message = fault;
    } else if (st == INLET_OK && fake_schema_denied(t, req->schema)) {
        snprintf(denied, sizeof(denied), "schema %s denied", req->schema);
        st = INLET_E_FORBIDDEN;
        message = denied;
    }
    s->submit_status = st;
    if (st != INLET_OK) {
        if (rej) {
            *rej = rejection_new(st, message, st == t->refuse_status ? t->refuse_retry_after : 0);
            t->rejections_live++;
        }
    } else {
        atomic_fetch_add(&req->queue->pending, 1);
        if (t->complete_now)
            complete_locked(t, index, t->complete_now_status, 1, NULL);
    }
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->mu);
    return st;
}

void fake_rejection_free(inlet_rejection *rej)
{
    if (!rej)
        return;
    fake_rejection *r = (fake_rejection *)rej;
    inlet_test_host *t = inlet_test_current;
    pthread_mutex_lock(&t->mu);
    t->rejections_live--;
    pthread_mutex_unlock(&t->mu);
    free(r->message);
    free(r);
}

size_t inlet_test_host_submitted(inlet_test_host *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->n_subs;
    pthread_mutex_unlock(&t->mu);
    return n;
}

const inlet_test_submission *inlet_test_host_submission(inlet_test_host *t, size_t i)
{
    pthread_mutex_lock(&t->mu);
    const inlet_test_submission *s = i < t->n_subs ? t->subs[i] : NULL;
    pthread_mutex_unlock(&t->mu);
    return s;
}

/* Wait on t->cond until *counter >= n or timeout_ms passed. */
static int wait_for(inlet_test_host *t, const size_t *counter, size_t n, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&t->mu);
    while (*counter < n && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&t->cond, &t->mu, &deadline);
    int ok = *counter >= n;
    pthread_mutex_unlock(&t->mu);
    return ok ? 0 : -1;
}

int inlet_test_host_wait_submitted(inlet_test_host *t, size_t n, int timeout_ms)
{
    return wait_for(t, &t->n_subs, n, timeout_ms);
}

size_t inlet_test_host_drained(inlet_test_host *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->drained;
    pthread_mutex_unlock(&t->mu);
    return n;
}

int inlet_test_host_wait_drained(inlet_test_host *t, size_t n, int timeout_ms)
{
    return wait_for(t, &t->drained, n, timeout_ms);
}

static int complete_locked(inlet_test_host *t, size_t i, inlet_status status, size_t n,
                           const char *const *ids)
{
    if (i >= t->n_subs || t->subs[i]->submit_status != INLET_OK || t->subs[i]->completed)
        return -1;
    inlet_test_submission *s = t->subs[i];
    /* The real core hides the 1.5 status from modules that do not know it. */
    if (status == INLET_E_POSSIBLY_PERSISTED && t->module_minor < 5)
        status = INLET_E_UNAVAILABLE;
    fake_completion *c = calloc(1, sizeof(*c));
    if (!c || !(c->events = calloc(n ? n : 1, sizeof(*c->events))))
        abort();
    c->opaque = s->opaque;
    c->status = status;
    c->n_events = n;
    for (size_t k = 0; k < n; k++) {
        char made[64];
        snprintf(made, sizeof(made), "test-%zu-%zu", i, k);
        const char *id = ids && ids[k] ? ids[k] : n == 1 && s->event_id ? s->event_id : made;
        c->events[k] = (inlet_event_result){
            .status = status,
            .event_id = fake_strdup(id),
            .topic = status == INLET_OK ? "test.topic" : NULL,
            .partition = status == INLET_OK ? 0 : -1,
            .offset = status == INLET_OK ? (int64_t)(i * 1000 + k) : -1,
            .error = status == INLET_OK ? NULL : "failed by the test",
        };
    }
    s->completed = 1;
    fake_queue_push(s->queue, c);
    return 0;
}

int inlet_test_host_complete_events(inlet_test_host *t, size_t i, inlet_status status,
                                    size_t n_events, const char *const *event_ids)
{
    pthread_mutex_lock(&t->mu);
    int rc = complete_locked(t, i, status, n_events, event_ids);
    pthread_mutex_unlock(&t->mu);
    return rc;
}

int inlet_test_host_complete(inlet_test_host *t, size_t i, inlet_status status)
{
    return inlet_test_host_complete_events(t, i, status, 1, NULL);
}

size_t inlet_test_host_complete_all(inlet_test_host *t, inlet_status status)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_subs; i++)
        n += complete_locked(t, i, status, 1, NULL) == 0;
    pthread_mutex_unlock(&t->mu);
    return n;
}

void fake_submissions_free(inlet_test_host *t)
{
    for (size_t i = 0; i < t->n_subs; i++) {
        inlet_test_submission *s = t->subs[i];
        char **strings[] = {&s->body,           &s->content_type, &s->schema,
                            &s->schema_version, &s->event_id,     &s->source,
                            &s->peer,           &s->tenant,       &s->device_id};
        for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
            free(*strings[k]);
        for (size_t k = 0; k < s->n_headers; k++) {
            free(s->header_names[k]);
            free(s->header_values[k]);
        }
        free(s->header_names);
        free(s->header_values);
        free(s);
    }
    free(t->subs);
}
