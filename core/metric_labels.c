/* metric_labels.c - see metric_labels.h. */
#include "metric_labels.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "module_ctx.h"

#define BUCKETS 1024

typedef struct cached {
    struct cached *next;
    inlet_metric *metric;
    char key[]; /* name{labels} */
} cached;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cached *buckets[BUCKETS];

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* value as a Prometheus label value: \ " and newline escaped. */
static size_t put_label_value(char *out, size_t cap, size_t n, const char *v)
{
    for (; v && *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[n++] = '\\';
            out[n++] = *v;
        } else if (*v == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *v;
        }
    }
    return n;
}

inlet_metric *inlet_metric_labelled(const char *name, const char *help, const char *const *keys,
                                    const char *const *values, size_t n)
{
    return inlet_metric_labelled_kind(name, help, keys, values, n, 0);
}

inlet_metric *inlet_metric_labelled_kind(const char *name, const char *help,
                                         const char *const *keys, const char *const *values,
                                         size_t n, int gauge)
{
    char key[1024];
    size_t name_len = strlen(name), len;
    if (name_len + 2 >= sizeof(key))
        return NULL;
    memcpy(key, name, name_len);
    len = name_len;
    key[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(key + len, sizeof(key) - len, "%s%s=\"", i ? "," : "", keys[i]);
        if (w < 0 || (size_t)w >= sizeof(key) - len)
            return NULL;
        len = put_label_value(key, sizeof(key), len + (size_t)w, values[i]);
        if (len + 2 >= sizeof(key))
            return NULL;
        key[len++] = '"';
    }
    key[len++] = '}';
    key[len] = '\0';

    uint32_t b = hash(key) % BUCKETS;
    inlet_metric *m = NULL;
    pthread_mutex_lock(&cache_mu);
    for (cached *c = buckets[b]; c; c = c->next)
        if (strcmp(c->key, key) == 0) {
            m = c->metric;
            goto out;
        }
    key[len - 1] = '\0'; /* the registry takes the labels without their braces */
    m = gauge ? inlet_metric_gauge(name, help, key + name_len + 1)
              : inlet_metric_counter(name, help, key + name_len + 1);
    key[len - 1] = '}';
    cached *c = m ? malloc(sizeof(*c) + len + 1) : NULL;
    if (c) {
        c->metric = m;
        memcpy(c->key, key, len + 1);
        c->next = buckets[b];
        buckets[b] = c;
    }
out:
    pthread_mutex_unlock(&cache_mu);
    return m;
}

/* The event path's own cache in front of the shared table: a few (module, tenant, schema)
 * triples per thread, compared by content (a pointer from before a reload may be reused). */
typedef struct recent {
    inlet_module_ctx *mod;
    char tenant[72], name[128], version[32];
    inlet_metric *metric;
    unsigned generation; /* of the shared table when it was filled */
} recent;

#define RECENT 8
static _Thread_local recent recents[RECENT];
static _Thread_local unsigned recent_next;
static _Atomic unsigned generation = 1; /* the shared table's; shutdown frees its metrics */

static inlet_metric *accepted_counter(inlet_module_ctx *mod, const char *tenant,
                                      const inlet_schema *schema)
{
    static const char *const keys[] = {"module", "tenant", "schema"};
    const char *name = inlet_schema_name(schema), *version = inlet_schema_version(schema);
    unsigned gen = atomic_load_explicit(&generation, memory_order_relaxed);
    for (unsigned i = 0; i < RECENT; i++) {
        const recent *r = &recents[i];
        if (r->metric && r->generation == gen && r->mod == mod && strcmp(r->tenant, tenant) == 0 &&
            strcmp(r->name, name) == 0 && strcmp(r->version, version) == 0)
            return r->metric;
    }
    char label[192];
    snprintf(label, sizeof(label), "%s@%s", name, version);
    const char *values[] = {mod && mod->instance ? mod->instance : "", tenant, label};
    inlet_metric *m = inlet_metric_labelled(
        "inlet_tenant_events_accepted_total",
        "Events handed to Kafka, by module instance, tenant and schema.", keys, values, 3);
    if (m && strlen(tenant) < sizeof(recents[0].tenant) && strlen(name) < sizeof(recents[0].name) &&
        strlen(version) < sizeof(recents[0].version)) {
        recent *r = &recents[recent_next++ % RECENT];
        r->mod = mod;
        strcpy(r->tenant, tenant);
        strcpy(r->name, name);
        strcpy(r->version, version);
        r->metric = m;
        r->generation = gen;
    }
    return m;
}

void inlet_metric_labels_accepted(inlet_module_ctx *mod, const inlet_identity *id,
                                  const inlet_envelope *envs, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && envs[j].schema == envs[i].schema)
            j++;
        inlet_metric_add(accepted_counter(mod, id->tenant, envs[i].schema), (int64_t)(j - i));
        i = j;
    }
}

void inlet_metric_labels_shutdown(void)
{
    atomic_fetch_add(&generation, 1);
    pthread_mutex_lock(&cache_mu);
    for (size_t b = 0; b < BUCKETS; b++) {
        cached *c = buckets[b];
        while (c) {
            cached *next = c->next;
            free(c);
            c = next;
        }
        buckets[b] = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
}
