/* host.c - the fake host's table, lifecycle, logs and the small services (inlet/module_test.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/time.h>

#include "fake.h"

inlet_test_host *inlet_test_current;
int inlet_test_passed, inlet_test_failed;

char *fake_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        abort(); /* a test host out of memory has nothing sensible left to do */
    return c;
}

void fake_violation(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "inlet-module-test: contract violation: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    inlet_test_host *t = inlet_test_current;
    if (t) {
        pthread_mutex_lock(&t->mu);
        t->violations++;
        pthread_mutex_unlock(&t->mu);
    }
}

static void fake_log(inlet_module_ctx *mod, inlet_log_level level, const char *fmt, ...)
{
    static const char *const words[] = {"error", "warn", "info", "debug"};
    inlet_test_host *t = inlet_test_current;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    const char *v = getenv("INLET_TEST_VERBOSE");
    if (v && *v == '1')
        fprintf(stderr, "%-5s [%s] %s\n", level <= INLET_LOG_DEBUG ? words[level] : "?",
                mod ? mod->instance : "?", line);
    pthread_mutex_lock(&t->mu);
    char **lines = realloc(t->log_lines, (t->n_log_lines + 1) * sizeof(*lines));
    if (lines) {
        t->log_lines = lines;
        t->log_lines[t->n_log_lines++] = fake_strdup(line);
    }
    pthread_mutex_unlock(&t->mu);
}

static int fake_log_enabled(inlet_module_ctx *mod, inlet_log_level level)
{
    (void)mod, (void)level;
    return 1; /* every line is captured */
}

static int fake_kafka_ready(void)
{
    return inlet_test_current->kafka_ready;
}

static int fake_retry_after_s(void)
{
    return inlet_test_current->retry_after;
}

static int64_t fake_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static const char *fake_status_name(inlet_status status)
{
    static const char *const names[] = {
        "ok",         "unauthenticated",   "forbidden",   "invalid", "unknown_schema",
        "media_type", "too_large",         "unavailable", "quota",   "shutting_down",
        "internal",   "possibly_persisted"};
    return (unsigned)status < sizeof(names) / sizeof(names[0]) ? names[status] : "unknown";
}

static const char *const content_types[] = {"application/json", "application/cbor",
                                            "application/senml+json", "application/senml+cbor",
                                            "application/octet-stream"};
static const unsigned coap_formats[] = {50, 60, 110, 112, 42};

static const char *fake_content_type_for_coap(unsigned cf)
{
    for (size_t i = 0; i < 5; i++)
        if (coap_formats[i] == cf)
            return content_types[i];
    return NULL;
}

static int fake_content_type_supported(const char *ct)
{
    if (!ct)
        return 0;
    size_t n = strcspn(ct, "; \t");
    for (size_t i = 0; i < 5; i++)
        if (strlen(content_types[i]) == n && strncasecmp(ct, content_types[i], n) == 0)
            return 1;
    return 0;
}

static const char *fake_instance_name(inlet_module_ctx *mod)
{
    return mod->instance;
}

static inlet_status fake_connection_open(inlet_module_ctx *mod, const inlet_identity *id, char *msg,
                                         size_t msg_len)
{
    (void)mod;
    inlet_test_host *t = inlet_test_current;
    inlet_status st = INLET_OK;
    if (!id)
        fake_violation("connection_open() without an identity");
    pthread_mutex_lock(&t->mu);
    if (t->connection_quota && t->connections >= t->connection_quota)
        st = INLET_E_QUOTA;
    else
        t->connections++;
    pthread_mutex_unlock(&t->mu);
    if (msg && msg_len)
        snprintf(msg, msg_len, "%s", st == INLET_OK ? "" : "connection quota reached");
    return st;
}

static void fake_connection_close(inlet_module_ctx *mod, const inlet_identity *id)
{
    (void)mod, (void)id;
    inlet_test_host *t = inlet_test_current;
    pthread_mutex_lock(&t->mu);
    int over = t->connections == 0;
    if (!over)
        t->connections--;
    pthread_mutex_unlock(&t->mu);
    if (over)
        fake_violation("connection_close() without a connection_open()");
}

static void fake_refusal(inlet_module_ctx *mod, inlet_status status, const char *peer,
                         const inlet_identity *id, const char *detail)
{
    inlet_test_host *t = inlet_test_current;
    fake_log(mod, INLET_LOG_INFO, "refused %s: tenant=%s device=%s peer=%s: %s",
             fake_status_name(status), id ? id->tenant : "-", id ? id->device_id : "-",
             peer ? peer : "-", detail ? detail : "");
    pthread_mutex_lock(&t->mu);
    t->refusals[(unsigned)status < 16 ? status : 15]++;
    pthread_mutex_unlock(&t->mu);
}

/* The fake core serves nothing on an admin listener. */
static int fake_admin_resource(const char *path, size_t path_len, char **body, size_t *len,
                               const char **content_type)
{
    (void)path;
    (void)path_len;
    *body = NULL;
    *len = 0;
    *content_type = NULL;
    return 404;
}

static const inlet_host fake_table = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_host),
    .log = fake_log,
    .log_enabled = fake_log_enabled,
    .auth_bearer = fake_auth_bearer,
    .auth_cert_chain = fake_auth_cert_chain,
    .identity_ref = fake_identity_ref,
    .identity_release = fake_identity_release,
    .authorize = fake_authorize,
    .submit = fake_submit,
    .rejection_free = fake_rejection_free,
    .queue_new = fake_queue_new,
    .queue_fd = fake_queue_fd,
    .queue_drain = fake_queue_drain,
    .queue_pending = fake_queue_pending,
    .queue_free = fake_queue_free,
    .kafka_ready = fake_kafka_ready,
    .retry_after_s = fake_retry_after_s,
    .metric_counter = fake_metric_counter,
    .metric_gauge = fake_metric_gauge,
    .metric_add = fake_metric_add,
    .metrics_render = fake_metrics_render,
    .now_us = fake_now_us,
    .identity_for_device = fake_identity_for_device,
    .status_name = fake_status_name,
    .content_type_for_coap = fake_content_type_for_coap,
    .content_type_supported = fake_content_type_supported,
    .auth_psk = fake_auth_psk,
    .identity_for_imei = fake_identity_for_imei,
    .identity_expires_at = fake_identity_expires_at,
    .instance_name = fake_instance_name,
    .metric_counter_for = fake_metric_counter_for,
    .metric_gauge_for = fake_metric_gauge_for,
    .connection_open = fake_connection_open,
    .connection_close = fake_connection_close,
    .refusal = fake_refusal,
    .admin_resource = fake_admin_resource,
};

inlet_test_host *inlet_test_host_new(const char *instance)
{
    if (inlet_test_current)
        return NULL;
    inlet_test_host *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->table = fake_table;
    t->ctx.instance = fake_strdup(instance ? instance : "test");
    t->module_minor = INLET_ABI_MINOR;
    t->kafka_ready = 1;
    t->retry_after = 5;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cond, NULL);
    inlet_test_current = t;
    return t;
}

size_t inlet_test_host_free(inlet_test_host *t)
{
    if (!t)
        return 0;
    size_t held = inlet_test_host_identities_held(t);
    if (held)
        fake_violation("%zu identity references never released", held);
    if (t->rejections_live)
        fake_violation("%zu rejections never given to rejection_free()", t->rejections_live);
    fake_queues_free(t);
    fake_submissions_free(t);
    fake_identities_free(t);
    fake_metrics_free(t);
    for (size_t i = 0; i < t->n_creds; i++) {
        free(t->creds[i].key);
        free(t->creds[i].tenant);
        free(t->creds[i].device_id);
    }
    free(t->creds);
    for (size_t i = 0; i < t->n_denied; i++)
        free(t->denied[i]);
    free(t->denied);
    for (size_t i = 0; i < t->n_log_lines; i++)
        free(t->log_lines[i]);
    free(t->log_lines);
    free(t->refuse_message);
    free(t->ctx.instance);
    size_t violations = t->violations;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cond);
    inlet_test_current = NULL;
    free(t);
    return violations;
}

const inlet_host *inlet_test_host_table(inlet_test_host *t)
{
    return &t->table;
}

inlet_module_ctx *inlet_test_host_ctx(inlet_test_host *t)
{
    return &t->ctx;
}

int inlet_test_module_create(inlet_test_host *t, const inlet_module_desc *desc, const void *config,
                             void **state, char *err, size_t err_len)
{
    size_t need = offsetof(inlet_module_desc, destroy) + sizeof(desc->destroy);
    if (desc->abi_major != INLET_ABI_MAJOR || desc->abi_minor > INLET_ABI_MINOR) {
        snprintf(err, err_len, "module ABI %u.%u, test host ABI %d.%d", desc->abi_major,
                 desc->abi_minor, INLET_ABI_MAJOR, INLET_ABI_MINOR);
        return -1;
    }
    if (desc->size < need || !desc->name || !desc->create || !desc->start ||
        !desc->stop_accepting || !desc->stop || !desc->destroy ||
        (desc->config_size && !desc->options)) {
        snprintf(err, err_len, "module descriptor is incomplete");
        return -1;
    }
    t->module_minor = desc->abi_minor;
    return desc->create(&t->table, &t->ctx, config, state, err, err_len);
}

size_t inlet_test_host_logged(inlet_test_host *t, const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_log_lines; i++)
        n += strstr(t->log_lines[i], needle) != NULL;
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t inlet_test_host_refusals(inlet_test_host *t, inlet_status status)
{
    size_t n = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < 16; i++)
        if (status == INLET_OK || (size_t)status == i)
            n += t->refusals[i];
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t inlet_test_host_connections(inlet_test_host *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->connections;
    pthread_mutex_unlock(&t->mu);
    return n;
}

void inlet_test_host_connection_quota(inlet_test_host *t, size_t max)
{
    pthread_mutex_lock(&t->mu);
    t->connection_quota = max;
    pthread_mutex_unlock(&t->mu);
}

void inlet_test_host_set_kafka_ready(inlet_test_host *t, int ready)
{
    t->kafka_ready = ready;
}

void inlet_test_host_set_retry_after(inlet_test_host *t, int seconds)
{
    t->retry_after = seconds;
}

size_t inlet_test_host_violations(inlet_test_host *t)
{
    pthread_mutex_lock(&t->mu);
    size_t n = t->violations;
    pthread_mutex_unlock(&t->mu);
    return n;
}
