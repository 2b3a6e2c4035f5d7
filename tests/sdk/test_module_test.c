/* test_module_test.c - the test kit itself (inlet/module_test.h): identities, submissions and
 * their copies, completions through a real eventfd, submit() from a completion callback, the
 * 1.5 status hidden from older modules, metrics, quotas, and the contract violations it must
 * catch. */
#include <poll.h>
#include <stdlib.h>

#include "inlet/module_test.h"

static const inlet_host *h;
static inlet_module_ctx *mod;
static inlet_queue *q;
static inlet_status seen[8];
static const char *seen_id[8];
static size_t n_seen, pending_inside;
static int resubmit;
static inlet_identity *ident;

static inlet_request request(const char *schema)
{
    inlet_request r = {.size = sizeof(r),
                       .identity = ident,
                       .form = INLET_FORM_PAYLOAD,
                       .body = "{\"lat\":1}",
                       .body_len = 9,
                       .schema = schema,
                       .schema_version = "v1",
                       .source = "test",
                       .queue = q,
                       .peer = "1.2.3.4:5"};
    return r;
}

static void on_completion(void *ctx, const inlet_completion *c)
{
    (void)ctx;
    seen[n_seen] = c->status;
    seen_id[n_seen++] = c->n_events ? strdup(c->events[0].event_id) : NULL;
    pending_inside = h->queue_pending(q);
    if (resubmit-- > 0) { /* allowed: its completion comes in a later drain */
        inlet_request r = request("fleet.position");
        INLET_TEST_CHECK(h->submit(mod, &r, NULL) == INLET_OK);
    }
}

static int readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
}

static int create(const inlet_host *host, inlet_module_ctx *m, const void *config, void **state,
                  char *err, size_t err_len)
{
    (void)host, (void)m, (void)config, (void)err, (void)err_len;
    *state = NULL;
    return 0;
}
static int start(void *state, char *err, size_t err_len)
{
    (void)state, (void)err, (void)err_len;
    return 0;
}
static void nothing(void *state)
{
    (void)state;
}

int main(void)
{
    inlet_test_host *t = inlet_test_host_new("kit");
    INLET_TEST_CHECK(t && inlet_test_host_new("again") == NULL); /* one at a time */
    h = inlet_test_host_table(t);
    mod = inlet_test_host_ctx(t);
    INLET_TEST_CHECK(h->abi_minor == INLET_ABI_MINOR && INLET_HOST_HAS(h, refusal));
    INLET_TEST_CHECK_STR(h->instance_name(mod), "kit");
    char err[128];
    q = h->queue_new(mod, err, sizeof(err));

    /* Identities: what the test declared, nothing else; references counted. */
    inlet_test_host_add_token(t, "tok", "acme", "dev-1");
    inlet_test_host_add_imei(t, "356307042441013", "acme", "tracker-1");
    INLET_TEST_CHECK(h->auth_bearer("tok", 3, &ident, NULL, 0) == INLET_OK);
    INLET_TEST_CHECK_STR(ident->tenant, "acme");
    INLET_TEST_CHECK_STR(ident->device_id, "dev-1");
    inlet_identity *other = NULL;
    INLET_TEST_CHECK(h->auth_bearer("tok2", 4, &other, err, sizeof(err)) ==
                         INLET_E_UNAUTHENTICATED &&
                     other == NULL);
    INLET_TEST_CHECK(h->identity_for_imei("356307042441013", 15, &other, NULL, 0) == INLET_OK);
    INLET_TEST_CHECK_STR(other->device_id, "tracker-1");
    h->identity_release(other);
    INLET_TEST_CHECK(h->identity_for_device("acme", "dev-1", &other, NULL, 0) == INLET_OK);
    h->identity_release(other);
    INLET_TEST_CHECK(h->identity_for_device("acme", "nobody", &other, NULL, 0) ==
                     INLET_E_UNAUTHENTICATED);
    INLET_TEST_CHECK(inlet_test_host_identities_held(t) == 1);

    /* A submission is copied: the request's strings may die at once. */
    char schema[32] = "fleet.position";
    inlet_request r = request(schema);
    INLET_TEST_CHECK(h->submit(mod, &r, NULL) == INLET_OK);
    memset(schema, 'x', sizeof(schema) - 1);
    const inlet_test_submission *s = inlet_test_host_submission(t, 0);
    INLET_TEST_CHECK_STR(s->schema, "fleet.position");
    INLET_TEST_CHECK_STR(s->body, "{\"lat\":1}");
    INLET_TEST_CHECK_STR(s->peer, "1.2.3.4:5");
    INLET_TEST_CHECK_STR(s->tenant, "acme");
    INLET_TEST_CHECK(h->queue_pending(q) == 1 && !readable(h->queue_fd(q)));

    /* Completed by the test: the eventfd wakes, drain runs the callback with the chosen ids;
     * pending drops only after the callback; submit() from the callback works. */
    const char *ids[] = {"e-1", "e-2"};
    INLET_TEST_CHECK(inlet_test_host_complete_events(t, 0, INLET_OK, 2, ids) == 0);
    INLET_TEST_CHECK(inlet_test_host_complete(t, 0, INLET_OK) == -1); /* only once */
    INLET_TEST_CHECK(readable(h->queue_fd(q)));
    resubmit = 1;
    INLET_TEST_CHECK(h->queue_drain(q, on_completion, NULL, 0) == 1);
    INLET_TEST_CHECK(n_seen == 1 && seen[0] == INLET_OK && pending_inside == 1);
    INLET_TEST_CHECK_STR(seen_id[0], "e-1");
    INLET_TEST_CHECK(inlet_test_host_submitted(t) == 2 && h->queue_pending(q) == 1);
    INLET_TEST_CHECK(inlet_test_host_complete_all(t, INLET_E_UNAVAILABLE) == 1);
    INLET_TEST_CHECK(h->queue_drain(q, on_completion, NULL, 0) == 1);
    INLET_TEST_CHECK(n_seen == 2 && seen[1] == INLET_E_UNAVAILABLE && h->queue_pending(q) == 0);
    INLET_TEST_CHECK(inlet_test_host_drained(t) == 2);

    /* Refusals: by policy, by schema; the rejection must be freed. */
    inlet_test_host_refuse(t, INLET_E_QUOTA, "slow down", 7);
    inlet_rejection *rej = NULL;
    INLET_TEST_CHECK(h->submit(mod, &r, &rej) == INLET_E_QUOTA);
    INLET_TEST_CHECK(rej && rej->retry_after_s == 7);
    INLET_TEST_CHECK_STR(rej->message, "slow down");
    h->rejection_free(rej);
    inlet_test_host_refuse(t, INLET_OK, NULL, 0);
    inlet_test_host_deny_schema(t, "secret.thing");
    INLET_TEST_CHECK(h->authorize(ident, "secret.thing", "v1", NULL, 0) == INLET_E_FORBIDDEN);
    inlet_request denied = request("secret.thing");
    INLET_TEST_CHECK(h->submit(mod, &denied, &rej) == INLET_E_FORBIDDEN);
    h->rejection_free(rej);
    INLET_TEST_CHECK(h->queue_pending(q) == 0 && inlet_test_host_violations(t) == 0);

    /* A module that declares ABI 1.4 never sees INLET_E_POSSIBLY_PERSISTED. */
    inlet_module_desc old = {1,      4,     sizeof(old), "old",   "1",     "",   NULL,  0,
                             create, start, nothing,     nothing, nothing, NULL, {NULL}};
    void *state;
    INLET_TEST_CHECK(inlet_test_module_create(t, &old, NULL, &state, err, sizeof(err)) == 0);
    INLET_TEST_CHECK(h->submit(mod, &r, NULL) == INLET_OK);
    INLET_TEST_CHECK(inlet_test_host_complete(t, 4, INLET_E_POSSIBLY_PERSISTED) == 0);
    h->queue_drain(q, on_completion, NULL, 0);
    INLET_TEST_CHECK(n_seen == 3 && seen[2] == INLET_E_UNAVAILABLE);
    old.abi_minor = 99;
    INLET_TEST_CHECK(inlet_test_module_create(t, &old, NULL, &state, err, sizeof(err)) == -1);

    /* Metrics, quotas, refusals, logs. */
    inlet_metric *a = h->metric_counter_for(mod, "inlet_kit_total", "K.", "x=\"1\"");
    inlet_metric *b = h->metric_counter("inlet_kit_total", "K.", NULL);
    h->metric_add(a, 2);
    h->metric_add(b, 3);
    INLET_TEST_CHECK(inlet_test_host_metric(t, "inlet_kit_total", "module=\"kit\",x=\"1\"") == 2);
    INLET_TEST_CHECK(inlet_test_host_metric(t, "inlet_kit_total", NULL) == 5);
    inlet_test_host_connection_quota(t, 1);
    INLET_TEST_CHECK(h->connection_open(mod, ident, NULL, 0) == INLET_OK);
    INLET_TEST_CHECK(h->connection_open(mod, ident, NULL, 0) == INLET_E_QUOTA);
    h->connection_close(mod, ident);
    INLET_TEST_CHECK(inlet_test_host_connections(t) == 0);
    h->refusal(mod, INLET_E_FORBIDDEN, "1.2.3.4:5", ident, "acl");
    INLET_TEST_CHECK(inlet_test_host_refusals(t, INLET_E_FORBIDDEN) == 1);
    h->log(mod, INLET_LOG_WARN, "hello %d", 42);
    INLET_TEST_CHECK(inlet_test_host_logged(t, "hello 42") == 1);

    /* Violations: a request without a queue, a queue freed with a submission pending, an
     * identity never released. */
    inlet_request bad = request("fleet.position");
    bad.queue = NULL;
    INLET_TEST_CHECK(h->submit(mod, &bad, NULL) == INLET_E_INTERNAL);
    INLET_TEST_CHECK(inlet_test_host_violations(t) == 1);
    INLET_TEST_CHECK(h->submit(mod, &r, NULL) == INLET_OK);
    h->queue_free(q);
    INLET_TEST_CHECK(inlet_test_host_violations(t) == 2);
    INLET_TEST_CHECK(inlet_test_host_free(t) == 3); /* + ident, still held */
    for (size_t i = 0; i < n_seen; i++)
        free((char *)seen_id[i]);
    return INLET_TEST_DONE();
}
