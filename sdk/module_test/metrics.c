/* metrics.c - the fake host's metrics: kept by name and labels, for inlet_test_host_metric(). */
#include <stdlib.h>

#include "fake.h"

static inlet_metric *metric_get(const char *name, const char *help, const char *labels, int gauge)
{
    inlet_test_host *t = inlet_test_current;
    if (!name || !*name)
        fake_violation("a metric without a name");
    const char *l = labels ? labels : "";
    fake_metric *m = NULL;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_metrics && !m; i++)
        if (strcmp(t->metrics[i]->name, name) == 0 && strcmp(t->metrics[i]->labels, l) == 0)
            m = t->metrics[i];
    if (!m) {
        fake_metric **a = realloc(t->metrics, (t->n_metrics + 1) * sizeof(*a));
        m = calloc(1, sizeof(*m));
        if (!a || !m)
            abort();
        t->metrics = a;
        m->name = fake_strdup(name ? name : "");
        m->labels = fake_strdup(l);
        m->help = fake_strdup(help ? help : "");
        m->gauge = gauge;
        t->metrics[t->n_metrics++] = m;
    }
    pthread_mutex_unlock(&t->mu);
    return (inlet_metric *)m;
}

inlet_metric *fake_metric_counter(const char *name, const char *help, const char *labels)
{
    return metric_get(name, help, labels, 0);
}

inlet_metric *fake_metric_gauge(const char *name, const char *help, const char *labels)
{
    return metric_get(name, help, labels, 1);
}

static inlet_metric *scoped(inlet_module_ctx *mod, const char *name, const char *help,
                            const char *labels, int gauge)
{
    char buf[512];
    if (labels && labels[0])
        snprintf(buf, sizeof(buf), "module=\"%s\",%s", mod->instance, labels);
    else
        snprintf(buf, sizeof(buf), "module=\"%s\"", mod->instance);
    return metric_get(name, help, buf, gauge);
}

inlet_metric *fake_metric_counter_for(inlet_module_ctx *mod, const char *name, const char *help,
                                      const char *labels)
{
    return scoped(mod, name, help, labels, 0);
}

inlet_metric *fake_metric_gauge_for(inlet_module_ctx *mod, const char *name, const char *help,
                                    const char *labels)
{
    return scoped(mod, name, help, labels, 1);
}

void fake_metric_add(inlet_metric *m, int64_t delta)
{
    fake_metric *f = (fake_metric *)m;
    if (!f) {
        fake_violation("metric_add() on NULL");
        return;
    }
    if (!f->gauge && delta < 0)
        fake_violation("counter %s decremented", f->name);
    atomic_fetch_add(&f->value, delta);
}

char *fake_metrics_render(size_t *len)
{
    inlet_test_host *t = inlet_test_current;
    size_t cap = 1, used = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_metrics; i++)
        cap += strlen(t->metrics[i]->name) + strlen(t->metrics[i]->labels) + 32;
    char *out = malloc(cap);
    if (!out)
        abort();
    out[0] = '\0';
    for (size_t i = 0; i < t->n_metrics; i++) {
        const fake_metric *m = t->metrics[i];
        used += (size_t)snprintf(out + used, cap - used, "%s%s%s%s %lld\n", m->name,
                                 m->labels[0] ? "{" : "", m->labels, m->labels[0] ? "}" : "",
                                 (long long)atomic_load(&m->value));
    }
    pthread_mutex_unlock(&t->mu);
    if (len)
        *len = used;
    return out;
}

int64_t inlet_test_host_metric(inlet_test_host *t, const char *name, const char *labels)
{
    int64_t v = 0;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->n_metrics; i++)
        if (strcmp(t->metrics[i]->name, name) == 0 &&
            (!labels || strcmp(t->metrics[i]->labels, labels) == 0))
            v += atomic_load(&t->metrics[i]->value);
    pthread_mutex_unlock(&t->mu);
    return v;
}

void fake_metrics_free(inlet_test_host *t)
{
    for (size_t i = 0; i < t->n_metrics; i++) {
        free(t->metrics[i]->name);
        free(t->metrics[i]->labels);
        free(t->metrics[i]->help);
        free(t->metrics[i]);
    }
    free(t->metrics);
}
