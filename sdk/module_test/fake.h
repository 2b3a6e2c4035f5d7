/* fake.h - the state of the fake host (inlet/module_test.h), shared by its files. */
#ifndef INLET_TEST_FAKE_H
#define INLET_TEST_FAKE_H

#include <pthread.h>
#include <stdatomic.h>

#include "inlet/module_test.h"

struct inlet_module_ctx {
    char *instance;
};

typedef struct fake_identity {
    inlet_identity pub; /* first: the public pointer is the allocation */
    atomic_int refs;
    struct fake_identity *next; /* every identity made, for the leak count */
} fake_identity;

typedef struct fake_credential {
    char *key; /* a token or an IMEI */
    char *tenant, *device_id;
    inlet_auth_method method;
} fake_credential;

typedef struct fake_metric {
    char *name, *labels, *help;
    int gauge;
    atomic_llong value;
} fake_metric;

/* One completion waiting on a queue. */
typedef struct fake_completion {
    struct fake_completion *next;
    void *opaque;
    inlet_status status;
    size_t n_events;
    inlet_event_result *events; /* event_id strings owned */
} fake_completion;

struct inlet_queue {
    pthread_mutex_t mu;
    int efd;
    fake_completion *head, *tail;
    atomic_size_t pending; /* accepted and not yet drained */
    struct inlet_queue *next_live;
};

struct inlet_test_host {
    inlet_host table;
    struct inlet_module_ctx ctx;
    unsigned module_minor;
    pthread_mutex_t mu; /* everything below */
    pthread_cond_t cond;
    fake_credential *creds;
    size_t n_creds;
    char **denied;
    size_t n_denied;
    fake_identity *identities;
    inlet_test_submission **subs;
    size_t n_subs;
    inlet_status refuse_status;
    char *refuse_message;
    int32_t refuse_retry_after;
    int complete_now;
    inlet_status complete_now_status;
    size_t drained;
    fake_metric **metrics;
    size_t n_metrics;
    char **log_lines;
    size_t n_log_lines;
    size_t refusals[16];
    size_t connections, connection_quota;
    int kafka_ready, retry_after;
    size_t violations;
    size_t rejections_live;
    struct inlet_queue *queues;
};

/* The one fake host (the host functions take no host argument). */
extern inlet_test_host *inlet_test_current;

/* Print "inlet-module-test: contract violation: ..." and count it (t->mu not held). */
void fake_violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *fake_strdup(const char *s);

/* The host functions, by file. */
inlet_status fake_auth_bearer(const char *token, size_t len, inlet_identity **out, char *msg,
                              size_t msg_len);
inlet_status fake_auth_cert_chain(const uint8_t *const *chain, const size_t *chain_len, size_t n,
                                  inlet_identity **out, char *msg, size_t msg_len);
inlet_status fake_auth_psk(const char *psk_identity, size_t len, uint8_t *key, size_t key_cap,
                           size_t *key_len, inlet_identity **out, char *msg, size_t msg_len);
inlet_status fake_identity_for_device(const char *tenant, const char *device_id,
                                      inlet_identity **out, char *msg, size_t msg_len);
inlet_status fake_identity_for_imei(const char *imei, size_t len, inlet_identity **out, char *msg,
                                    size_t msg_len);
int64_t fake_identity_expires_at(const inlet_identity *id);
void fake_identity_ref(const inlet_identity *id);
void fake_identity_release(const inlet_identity *id);
inlet_status fake_authorize(const inlet_identity *id, const char *schema, const char *version,
                            char *msg, size_t msg_len);
int fake_schema_denied(inlet_test_host *t, const char *schema); /* t->mu held */
void fake_identities_free(inlet_test_host *t);

inlet_status fake_submit(inlet_module_ctx *mod, const inlet_request *req, inlet_rejection **rej);
void fake_rejection_free(inlet_rejection *rej);
void fake_submissions_free(inlet_test_host *t);

inlet_queue *fake_queue_new(inlet_module_ctx *mod, char *err, size_t err_len);
int fake_queue_fd(inlet_queue *q);
size_t fake_queue_drain(inlet_queue *q, inlet_completion_fn fn, void *ctx, size_t max);
size_t fake_queue_pending(inlet_queue *q);
void fake_queue_free(inlet_queue *q);
void fake_queue_push(inlet_queue *q, fake_completion *c);
void fake_queues_free(inlet_test_host *t);

inlet_metric *fake_metric_counter(const char *name, const char *help, const char *labels);
inlet_metric *fake_metric_gauge(const char *name, const char *help, const char *labels);
inlet_metric *fake_metric_counter_for(inlet_module_ctx *mod, const char *name, const char *help,
                                      const char *labels);
inlet_metric *fake_metric_gauge_for(inlet_module_ctx *mod, const char *name, const char *help,
                                    const char *labels);
void fake_metric_add(inlet_metric *m, int64_t delta);
char *fake_metrics_render(size_t *len);
void fake_metrics_free(inlet_test_host *t);

#endif
