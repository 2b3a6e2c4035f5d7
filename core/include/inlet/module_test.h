/*
 * inlet/module_test.h - a fake inlet_host for a module's unit tests (library inlet-module-test).
 *
 * No Kafka, no daemon, no configuration files: the test makes a fake host, declares the tokens
 * and devices it knows, calls the module's create() and start() with it, speaks the module's
 * protocol over a real socket (or calls its functions), and then looks at what the module
 * submitted, completes the submissions with the results it wants (accepted, refused with a
 * status, a Kafka failure, possibly persisted), immediately or later, and checks what the module
 * answered, logged and counted.
 *
 * The fake keeps the core's contract: submit() copies the request (every string may die when it
 * returns), queues are real eventfds that a module's epoll/poll loop waits on, queue_drain()
 * runs the callbacks on the calling thread, identities are reference counted. What a module
 * does against the contract (a request without a queue, a non-zero reserved field, a queue freed
 * with submissions pending, an identity released twice, a rejection never freed) is a
 * violation: printed to stderr and counted by inlet_test_host_violations().
 *
 * The host functions of inlet_host take no host argument, so there is one fake host per
 * process at a time. Every function here is thread-safe (the module's threads submit while the
 * test thread completes). Link with -linlet-module-test (pkg-config inlet-module-test, or CMake
 * target Inlet::module_test).
 */
#ifndef INLET_MODULE_TEST_H
#define INLET_MODULE_TEST_H

#include <stdio.h>
#include <string.h>

#include "inlet/module.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct inlet_test_host inlet_test_host;

/* The entry of the module under test, when its sources are linked into the test program (as
 * INLET_MODULE_DEFINE() defines it). */
const inlet_module_desc *inlet_module_entry(void);

/* A fake host whose module instance is called instance (NULL: "test"). NULL if one exists. */
inlet_test_host *inlet_test_host_new(const char *instance);
/* Frees everything; reports identities, rejections and queues the module never gave back as
 * violations. Returns the number of violations over the host's life (0: the module was clean). */
size_t inlet_test_host_free(inlet_test_host *t);

/* What create() receives. */
const inlet_host *inlet_test_host_table(inlet_test_host *t);
inlet_module_ctx *inlet_test_host_ctx(inlet_test_host *t);

/*
 * Checks desc like the loader does (ABI major and minor, size, name, required functions) and
 * calls desc->create(host, ctx, config, state). config is the module's struct, filled by the
 * test (the option table's defaults are not applied: set every field the module reads).
 * Remembers desc->abi_minor: a module that declares < 1.5 gets INLET_E_UNAVAILABLE where a
 * completion says INLET_E_POSSIBLY_PERSISTED, as from the real core. Returns create()'s result.
 */
int inlet_test_module_create(inlet_test_host *t, const inlet_module_desc *desc, const void *config,
                             void **state, char *err, size_t err_len);

/* ---- identities and authorization ---- */

/* auth_bearer(token) yields device_id of tenant (method INLET_AUTH_TOKEN); any other token is
 * INLET_E_UNAUTHENTICATED. The device also exists for identity_for_device(). */
void inlet_test_host_add_token(inlet_test_host *t, const char *token, const char *tenant,
                               const char *device_id);
/* identity_for_imei(imei) yields device_id of tenant (INLET_AUTH_IMEI). */
void inlet_test_host_add_imei(inlet_test_host *t, const char *imei, const char *tenant,
                              const char *device_id);
/* authorize() and submit() refuse schema (any version) with INLET_E_FORBIDDEN. */
void inlet_test_host_deny_schema(inlet_test_host *t, const char *schema);
/* References the module holds now (auth_* and identity_ref minus identity_release). */
size_t inlet_test_host_identities_held(inlet_test_host *t);

/* ---- submissions ---- */

/* A copy of one inlet_request as submit() saw it; strings are NUL-terminated copies (NULL where
 * the request had NULL), body is body_len bytes plus a NUL. Valid until the host is freed. */
typedef struct inlet_test_submission {
    size_t index; /* 0, 1, 2... in submit() order */
    inlet_body_form form;
    char *body;
    size_t body_len;
    char *content_type, *schema, *schema_version, *event_id, *source, *peer;
    char *tenant, *device_id; /* of the identity */
    size_t n_headers;
    char **header_names, **header_values; /* values NUL-terminated copies of value_len bytes */
    int64_t received_at_us;
    size_t max_events;
    inlet_queue *queue;
    void *opaque;
    inlet_status submit_status; /* what submit() returned */
    int completed;              /* its completion was queued */
} inlet_test_submission;

/* Every submission from now on is refused by submit() with status and a rejection carrying
 * message (and retry_after_s); INLET_OK goes back to accepting. */
void inlet_test_host_refuse(inlet_test_host *t, inlet_status status, const char *message,
                            int32_t retry_after_s);
/* on: every accepted submission is completed with status before submit() returns (the
 * completion waits on the queue like any other). off (the default): the test completes them. */
void inlet_test_host_complete_on_submit(inlet_test_host *t, int on, inlet_status status);

/* submit() calls so far, accepted or not. */
size_t inlet_test_host_submitted(inlet_test_host *t);
/* Submission i, or NULL. */
const inlet_test_submission *inlet_test_host_submission(inlet_test_host *t, size_t i);
/* Wait until at least n submit() calls happened; 0, or -1 after timeout_ms. */
int inlet_test_host_wait_submitted(inlet_test_host *t, size_t n, int timeout_ms);

/*
 * Complete accepted submission i with n_events results of status (INLET_OK: every event
 * acknowledged; INLET_E_UNAVAILABLE: Kafka failed; INLET_E_POSSIBLY_PERSISTED: a timeout after
 * sending). event_ids names them (NULL: the request's event_id, or "test-<i>-<k>"). The
 * completion is queued on the submission's queue and its fd becomes readable. -1 if i was
 * refused, is already completed or does not exist.
 */
int inlet_test_host_complete_events(inlet_test_host *t, size_t i, inlet_status status,
                                    size_t n_events, const char *const *event_ids);
/* The same with one event. */
int inlet_test_host_complete(inlet_test_host *t, size_t i, inlet_status status);
/* Every accepted submission not yet completed; returns how many. */
size_t inlet_test_host_complete_all(inlet_test_host *t, inlet_status status);
/* Completions the module's queue_drain() calls delivered so far, and a wait for n of them. */
size_t inlet_test_host_drained(inlet_test_host *t);
int inlet_test_host_wait_drained(inlet_test_host *t, size_t n, int timeout_ms);

/* ---- what the module logged, counted and refused ---- */

/* The value of the metric name with exactly these labels (as the module passed them; for the
 * _for variants with module="<instance>" first); labels NULL: the sum over all its series.
 * 0 if it does not exist. */
int64_t inlet_test_host_metric(inlet_test_host *t, const char *name, const char *labels);
/* Log lines containing needle (every level; lines also go to stderr with INLET_TEST_VERBOSE=1). */
size_t inlet_test_host_logged(inlet_test_host *t, const char *needle);
/* host->refusal() calls with status (INLET_OK: any status). */
size_t inlet_test_host_refusals(inlet_test_host *t, inlet_status status);
/* Connections open now (connection_open minus connection_close), and a quota: beyond max
 * connection_open() answers INLET_E_QUOTA (0: none, the default). */
size_t inlet_test_host_connections(inlet_test_host *t);
void inlet_test_host_connection_quota(inlet_test_host *t, size_t max);
/* What kafka_ready() and retry_after_s() answer (defaults 1 and 5). */
void inlet_test_host_set_kafka_ready(inlet_test_host *t, int ready);
void inlet_test_host_set_retry_after(inlet_test_host *t, int seconds);
/* Contract violations so far (each also printed to stderr). */
size_t inlet_test_host_violations(inlet_test_host *t);

/* ---- checks ---- */

/* Failed checks so far; INLET_TEST_DONE() prints the counts and is main()'s return value. */
extern int inlet_test_passed, inlet_test_failed;

#define INLET_TEST_CHECK(cond)                                                                     \
    do {                                                                                           \
        if (cond) {                                                                                \
            inlet_test_passed++;                                                                   \
        } else {                                                                                   \
            inlet_test_failed++;                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define INLET_TEST_CHECK_STR(a, b)                                                                 \
    do {                                                                                           \
        const char *inlet_a_ = (a), *inlet_b_ = (b);                                               \
        if (inlet_a_ && inlet_b_ && strcmp(inlet_a_, inlet_b_) == 0) {                             \
            inlet_test_passed++;                                                                   \
        } else {                                                                                   \
            inlet_test_failed++;                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s == %s\n  got:      %s\n  expected: %s\n",     \
                    __FILE__, __LINE__, #a, #b, inlet_a_ ? inlet_a_ : "(null)",                    \
                    inlet_b_ ? inlet_b_ : "(null)");                                               \
        }                                                                                          \
    } while (0)

#define INLET_TEST_DONE()                                                                          \
    (fprintf(stderr, "%d passed, %d failed\n", inlet_test_passed, inlet_test_failed),              \
     inlet_test_failed ? 1 : 0)

#ifdef __cplusplus
}
#endif

#endif /* INLET_MODULE_TEST_H */
