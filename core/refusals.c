/* refusals.c - see refusals.h. */
#include "refusals.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "metric_labels.h"
#include "metrics.h"
#include "module_ctx.h"
#include "pipeline/rejection.h"

/* What the ring keeps of a refusal: fixed-size copies, so recording never allocates. */
typedef struct kept {
    int64_t ts_us;
    inlet_status status;
    char module[48], protocol[24], peer[64], tenant[72], device[136], schema[160], pointer[128],
        detail[256];
} kept;

/* A (tenant, reason) pair's log budget in the current window. */
typedef struct limiter {
    char tenant[72];
    inlet_status status;
    int64_t window_start_us;
    unsigned logged;
    uint64_t suppressed;
} limiter;

#define LIMITERS 256 /* (tenant, reason) pairs with a budget of their own; the rest share one */

static struct {
    pthread_mutex_t mu;
    kept *ring;
    size_t cap, next, count;
    uint64_t total;
    unsigned burst;
    int64_t window_us;
    limiter limiters[LIMITERS];
    size_t n_limiters;
    limiter overflow; /* the budget of every pair past LIMITERS */
    int64_t last_sweep_us;
} rf = {.mu = PTHREAD_MUTEX_INITIALIZER, .burst = 10, .window_us = 10 * 1000000LL};

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void inlet_refusals_configure(size_t keep, unsigned burst, unsigned window_s)
{
    kept *ring = keep ? calloc(keep, sizeof(*ring)) : NULL;
    pthread_mutex_lock(&rf.mu);
    if (keep != rf.cap && (ring || !keep)) {
        free(rf.ring);
        rf.ring = ring;
        rf.cap = keep;
        rf.next = rf.count = 0;
        ring = NULL;
    }
    rf.burst = burst;
    rf.window_us = (int64_t)(window_s ? window_s : 1) * 1000000;
    pthread_mutex_unlock(&rf.mu);
    free(ring);
}

static limiter *limiter_for(const char *tenant, inlet_status st)
{
    for (size_t i = 0; i < rf.n_limiters; i++)
        if (rf.limiters[i].status == st && strcmp(rf.limiters[i].tenant, tenant) == 0)
            return &rf.limiters[i];
    if (rf.n_limiters == LIMITERS) {
        copy(rf.overflow.tenant, sizeof(rf.overflow.tenant), "*");
        rf.overflow.status = st;
        return &rf.overflow;
    }
    limiter *l = &rf.limiters[rf.n_limiters++];
    memset(l, 0, sizeof(*l));
    copy(l->tenant, sizeof(l->tenant), tenant);
    l->status = st;
    return l;
}

static void log_suppressed(const limiter *l, uint64_t n)
{
    char count[24], msg[160];
    snprintf(count, sizeof(count), "%llu", (unsigned long long)n);
    snprintf(msg, sizeof(msg), "suppressed %llu refusal log lines in the last %llds",
             (unsigned long long)n, (long long)(rf.window_us / 1000000));
    inlet_log_field f[] = {
        {"event", "refusals_suppressed"},
        {"tenant", l->tenant[0] ? l->tenant : "-"},
        {"reason", l == &rf.overflow ? "*" : inlet_status_name(l->status)},
        {"suppressed", count},
    };
    inlet_log_fields(INLET_LOG_INFO, "refusal", msg, f, 4);
}

static void flush_if_ended(limiter *l, int64_t now)
{
    if (l->suppressed && now - l->window_start_us >= rf.window_us) {
        log_suppressed(l, l->suppressed);
        l->suppressed = 0;
        l->logged = 0;
        l->window_start_us = now;
    }
}

/* Summaries of windows that ended, at most once a second (called with rf.mu held). */
static void sweep(int64_t now)
{
    if (now - rf.last_sweep_us < 1000000)
        return;
    rf.last_sweep_us = now;
    for (size_t i = 0; i < rf.n_limiters; i++)
        flush_if_ended(&rf.limiters[i], now);
    flush_if_ended(&rf.overflow, now);
}

/* Whether this refusal gets its own log line (called with rf.mu held). */
static int admit_log_line(const char *tenant, inlet_status st, int64_t now)
{
    limiter *l = limiter_for(tenant, st);
    if (now - l->window_start_us >= rf.window_us) {
        if (l->suppressed)
            log_suppressed(l, l->suppressed);
        l->window_start_us = now;
        l->logged = 0;
        l->suppressed = 0;
    }
    if (l->logged < rf.burst) {
        l->logged++;
        return 1;
    }
    l->suppressed++;
    return 0;
}

static void log_refusal(const inlet_refusal *r)
{
    char msg[64];
    snprintf(msg, sizeof(msg), "refused %s", inlet_status_name(r->status));
    inlet_log_field f[] = {
        {"event", "refusal"},
        {"reason", inlet_status_name(r->status)},
        {"module", r->module},
        {"protocol", r->protocol},
        {"peer", r->peer ? r->peer : "-"},
        {"tenant", r->tenant ? r->tenant : "-"},
        {"device", r->device ? r->device : "-"},
        {"schema", r->schema},
        {"pointer", r->pointer && r->pointer[0] ? r->pointer : NULL},
        {"detail", r->detail},
    };
    inlet_log_fields(INLET_LOG_INFO, "refusal", msg, f, sizeof(f) / sizeof(f[0]));
}

static void count(const inlet_refusal *r)
{
    static const char *const keys[] = {"module", "tenant", "schema", "reason"};
    const char *values[] = {r->module, r->tenant, r->schema, inlet_status_name(r->status)};
    inlet_metric_add(
        inlet_metric_labelled("inlet_refusals_total",
                              "Refusals (submissions and module-decided ones such as failed "
                              "authentication), by module instance, tenant, schema and reason.",
                              keys, values, 4),
        1);
}

void inlet_refusal_record(const inlet_refusal *r)
{
    int64_t now = now_us();
    count(r);
    pthread_mutex_lock(&rf.mu);
    rf.total++;
    if (rf.cap) {
        kept *k = &rf.ring[rf.next];
        rf.next = (rf.next + 1) % rf.cap;
        if (rf.count < rf.cap)
            rf.count++;
        k->ts_us = now;
        k->status = r->status;
        copy(k->module, sizeof(k->module), r->module);
        copy(k->protocol, sizeof(k->protocol), r->protocol);
        copy(k->peer, sizeof(k->peer), r->peer);
        copy(k->tenant, sizeof(k->tenant), r->tenant);
        copy(k->device, sizeof(k->device), r->device);
        copy(k->schema, sizeof(k->schema), r->schema);
        copy(k->pointer, sizeof(k->pointer), r->pointer);
        copy(k->detail, sizeof(k->detail), r->detail);
    }
    sweep(now);
    int log_it = admit_log_line(r->tenant ? r->tenant : "", r->status, now);
    pthread_mutex_unlock(&rf.mu);
    if (log_it)
        log_refusal(r);
}

void inlet_refusal_from_submit(inlet_module_ctx *mod, const inlet_request *req, inlet_status st,
                               const inlet_rejection *rej)
{
    const inlet_identity *id = req ? req->identity : NULL;
    const inlet_event_error *first = rej && rej->n_errors ? &rej->errors[0] : NULL;
    char detail[256];
    if (first && rej->n_errors > 1)
        snprintf(detail, sizeof(detail), "%s (event %zu; %zu errors)", first->message, first->index,
                 rej->n_errors);
    else if (first)
        snprintf(detail, sizeof(detail), "%s (event %zu)", first->message, first->index);
    else
        snprintf(detail, sizeof(detail), "%s", rej && rej->message ? rej->message : "");
    inlet_refusal r = {
        .module = mod && mod->instance ? mod->instance : NULL,
        .protocol = req ? req->source : NULL,
        .status = st,
        /* peer is read only when the module's struct has it (ABI 1.5) */
        .peer = req && req->size >= offsetof(inlet_request, peer) + sizeof(req->peer) ? req->peer
                                                                                      : NULL,
        .tenant = id ? id->tenant : NULL,
        .device = id ? id->device_id : NULL,
        .schema = rej ? inlet_rejection_schema(rej) : NULL,
        .pointer = first ? first->pointer : NULL,
        .detail = detail,
    };
    inlet_refusal_record(&r);
}

static void put_json(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_member(FILE *f, const char *key, const char *value)
{
    fprintf(f, ",\"%s\":", key);
    put_json(f, value);
}

char *inlet_refusals_render_json(size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    pthread_mutex_lock(&rf.mu);
    fprintf(f, "{\"total\":%llu,\"kept\":%zu,\"refusals\":[", (unsigned long long)rf.total, rf.cap);
    for (size_t i = 0; i < rf.count; i++) {
        const kept *k = &rf.ring[(rf.next + rf.cap - 1 - i) % rf.cap];
        char ts[40];
        time_t sec = (time_t)(k->ts_us / 1000000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + n, sizeof(ts) - n, ".%03dZ", (int)(k->ts_us / 1000 % 1000));
        fprintf(f, "%s{\"ts\":\"%s\"", i ? "," : "", ts);
        put_member(f, "reason", inlet_status_name(k->status));
        put_member(f, "module", k->module);
        put_member(f, "protocol", k->protocol);
        put_member(f, "peer", k->peer);
        put_member(f, "tenant", k->tenant);
        put_member(f, "device", k->device);
        put_member(f, "schema", k->schema);
        put_member(f, "pointer", k->pointer);
        put_member(f, "detail", k->detail);
        fputc('}', f);
    }
    fputs("]}\n", f);
    pthread_mutex_unlock(&rf.mu);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = size;
    return buf;
}

void inlet_refusals_shutdown(void)
{
    pthread_mutex_lock(&rf.mu);
    free(rf.ring);
    rf.ring = NULL;
    rf.cap = rf.next = rf.count = 0;
    rf.n_limiters = 0;
    pthread_mutex_unlock(&rf.mu);
}
