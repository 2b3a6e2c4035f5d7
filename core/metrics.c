/* metrics.c - see metrics.h. Few metrics exist (tens to hundreds), so the registry is a list. */
#include "metrics.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct inlet_metric {
    struct inlet_metric *next;
    int type;
    char *name;
    char *help;
    char *labels;          /* "" when none */
    _Atomic int64_t value; /* histograms: the sum of observations in microseconds */
    /* Histograms only: n_bounds upper bounds in seconds, ascending, and n_bounds + 1 bucket
     * counters (the last is +Inf), each counting its own range; rendering accumulates them. */
    size_t n_bounds;
    double *bounds;
    _Atomic int64_t *buckets;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static inlet_metric *registry_head, *registry_tail;

static int valid_name(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_' || *s == ':'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
            return 0;
    return 1;
}

static void metric_free(inlet_metric *m)
{
    free(m->name);
    free(m->help);
    free(m->labels);
    free(m->bounds);
    free((void *)m->buckets);
    free(m);
}

static inlet_metric *metric_get(int type, const char *name, const char *help, const char *labels,
                                const double *bounds, size_t n_bounds)
{
    if (!valid_name(name))
        return NULL;
    if (!labels)
        labels = "";
    pthread_mutex_lock(&registry_mu);
    inlet_metric *m;
    for (m = registry_head; m; m = m->next)
        if (strcmp(m->name, name) == 0 && strcmp(m->labels, labels) == 0)
            goto out;
    m = calloc(1, sizeof(*m));
    if (!m)
        goto out;
    m->type = type;
    m->name = strdup(name);
    m->help = strdup(help ? help : "");
    m->labels = strdup(labels);
    if (type == METRIC_HISTOGRAM) {
        m->n_bounds = n_bounds;
        m->bounds = malloc((n_bounds ? n_bounds : 1) * sizeof(*m->bounds));
        m->buckets = calloc(n_bounds + 1, sizeof(*m->buckets));
        if (m->bounds)
            memcpy(m->bounds, bounds, n_bounds * sizeof(*bounds));
    }
    if (!m->name || !m->help || !m->labels ||
        (type == METRIC_HISTOGRAM && (!m->bounds || !m->buckets))) {
        metric_free(m);
        m = NULL;
        goto out;
    }
    /* Appended after any existing series of the same name, so rendering can group them. */
    inlet_metric *after = NULL;
    for (inlet_metric *it = registry_head; it; it = it->next)
        if (strcmp(it->name, name) == 0)
            after = it;
    if (after) {
        m->next = after->next;
        after->next = m;
        if (registry_tail == after)
            registry_tail = m;
    } else if (registry_tail) {
        registry_tail->next = m;
        registry_tail = m;
    } else {
        registry_head = registry_tail = m;
    }
out:
    pthread_mutex_unlock(&registry_mu);
    return m;
}

inlet_metric *inlet_metric_counter(const char *name, const char *help, const char *labels)
{
    return metric_get(METRIC_COUNTER, name, help, labels, NULL, 0);
}

inlet_metric *inlet_metric_gauge(const char *name, const char *help, const char *labels)
{
    return metric_get(METRIC_GAUGE, name, help, labels, NULL, 0);
}

inlet_metric *inlet_metric_histogram(const char *name, const char *help, const char *labels,
                                     const double *bounds, size_t n_bounds)
{
    for (size_t i = 1; i < n_bounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    return metric_get(METRIC_HISTOGRAM, name, help, labels, bounds, n_bounds);
}

void inlet_metric_observe_us(inlet_metric *m, int64_t us)
{
    if (!m || m->type != METRIC_HISTOGRAM)
        return;
    double s = (double)us / 1e6;
    size_t i = 0;
    while (i < m->n_bounds && s > m->bounds[i]) /* a dozen buckets: a scan beats a search */
        i++;
    atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->value, us, memory_order_relaxed);
}

int64_t inlet_metric_histogram_count(const inlet_metric *m)
{
    int64_t n = 0;
    if (!m || m->type != METRIC_HISTOGRAM)
        return 0;
    for (size_t i = 0; i <= m->n_bounds; i++)
        n += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
    return n;
}

void inlet_metric_add(inlet_metric *m, int64_t delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->value, delta, memory_order_relaxed);
}

void inlet_metric_set(inlet_metric *m, int64_t value)
{
    if (m)
        atomic_store_explicit(&m->value, value, memory_order_relaxed);
}

int64_t inlet_metric_value(const inlet_metric *m)
{
    return m ? atomic_load_explicit(&((inlet_metric *)m)->value, memory_order_relaxed) : 0;
}

/* Buckets are read one by one while observations go on, so a scrape may be off by the few
 * observations in between; each counter itself is exact and only grows. */
static void render_histogram(FILE *f, const inlet_metric *m)
{
    const char *sep = m->labels[0] ? "," : "";
    int64_t cum = 0;
    for (size_t i = 0; i <= m->n_bounds; i++) {
        cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (i < m->n_bounds)
            fprintf(f, "%s_bucket{%s%sle=\"%g\"} %lld\n", m->name, m->labels, sep, m->bounds[i],
                    (long long)cum);
        else
            fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %lld\n", m->name, m->labels, sep,
                    (long long)cum);
    }
    double sum = (double)inlet_metric_value(m) / 1e6;
    if (m->labels[0]) {
        fprintf(f, "%s_sum{%s} %.6f\n", m->name, m->labels, sum);
        fprintf(f, "%s_count{%s} %lld\n", m->name, m->labels, (long long)cum);
    } else {
        fprintf(f, "%s_sum %.6f\n%s_count %lld\n", m->name, sum, m->name, (long long)cum);
    }
}

char *inlet_metrics_render(size_t *len)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    pthread_mutex_lock(&registry_mu);
    const char *last_name = "";
    for (inlet_metric *m = registry_head; m; m = m->next) {
        if (strcmp(m->name, last_name) != 0) {
            fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                    m->type == METRIC_COUNTER ? "counter"
                    : m->type == METRIC_GAUGE ? "gauge"
                                              : "histogram");
            last_name = m->name;
        }
        if (m->type == METRIC_HISTOGRAM)
            render_histogram(f, m);
        else if (m->labels[0])
            fprintf(f, "%s{%s} %lld\n", m->name, m->labels, (long long)inlet_metric_value(m));
        else
            fprintf(f, "%s %lld\n", m->name, (long long)inlet_metric_value(m));
    }
    pthread_mutex_unlock(&registry_mu);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = size;
    return buf;
}

void inlet_metrics_shutdown(void)
{
    pthread_mutex_lock(&registry_mu);
    inlet_metric *m = registry_head;
    registry_head = registry_tail = NULL;
    pthread_mutex_unlock(&registry_mu);
    while (m) {
        inlet_metric *next = m->next;
        metric_free(m);
        m = next;
    }
}
