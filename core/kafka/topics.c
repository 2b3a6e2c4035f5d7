/* topics.c - see topics.h. */
#include "topics.h"

#include <stdlib.h>
#include <string.h>

#include "identity/tenant_set.h"
#include "log.h"

static int need_cmp(const void *a, const void *b)
{
    return strcmp(((const inlet_topic_need *)a)->topic, ((const inlet_topic_need *)b)->topic);
}

void inlet_topics_free(inlet_topic_need *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        free(t[i].topic);
    free(t);
}

/* The distinct prefixes of tenants; "" when there is no tenant (the schema's own topic). */
static size_t distinct_prefixes(const inlet_tenants *tenants, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; tenants && i < tenants->n; i++) {
        const char *p = tenants->tenants[i].topic_prefix;
        size_t j = 0;
        while (j < n && strcmp(out[j], p) != 0)
            j++;
        if (j == n && n < cap)
            out[n++] = p;
    }
    if (n == 0)
        out[n++] = "";
    return n;
}

int inlet_topics_collect(const inlet_tenants *tenants, const inlet_schemas *schemas,
                         inlet_topic_need **out, size_t *n_out)
{
    size_t n_tenants = tenants ? tenants->n : 0;
    const char **prefixes = calloc(n_tenants + 1, sizeof(*prefixes));
    size_t np = prefixes ? distinct_prefixes(tenants, prefixes, n_tenants + 1) : 0;
    size_t ns = inlet_schemas_count(schemas), n = 0;
    inlet_topic_need *t = calloc(np * ns + 1, sizeof(*t));
    if (!prefixes || !t)
        goto oom;
    for (size_t pi = 0; pi < np; pi++)
        for (size_t si = 0; si < ns; si++) {
            const inlet_schema *s = inlet_schemas_at(schemas, si);
            const char *topic = inlet_schema_topic(s);
            size_t len = strlen(prefixes[pi]) + strlen(topic) + 1;
            char *name = malloc(len);
            if (!name)
                goto oom;
            snprintf(name, len, "%s%s", prefixes[pi], topic);
            size_t j = 0;
            while (j < n && strcmp(t[j].topic, name) != 0)
                j++;
            char what[96];
            snprintf(what, sizeof(what), "%s@%s", inlet_schema_name(s) ? inlet_schema_name(s) : "?",
                     inlet_schema_version(s) ? inlet_schema_version(s) : "?");
            if (j == n) {
                t[n].topic = name;
                snprintf(t[n].label, sizeof(t[n].label), "%s", what);
                n++;
            } else {
                free(name);
                size_t used = strlen(t[j].label);
                if (used + strlen(what) + 3 < sizeof(t[j].label))
                    snprintf(t[j].label + used, sizeof(t[j].label) - used, ", %s", what);
            }
            if (inlet_schema_topic_partitions(s) > t[j].partitions)
                t[j].partitions = inlet_schema_topic_partitions(s);
            if (inlet_schema_topic_replication(s) > t[j].replication)
                t[j].replication = inlet_schema_topic_replication(s);
        }
    free(prefixes);
    qsort(t, n, sizeof(*t), need_cmp);
    *out = t;
    *n_out = n;
    return 0;
oom:
    free(prefixes);
    inlet_topics_free(t, n);
    return -1;
}

void inlet_topics_watch(inlet_producer *p, const inlet_tenants *tenants,
                        const inlet_schemas *schemas, int wait_ms)
{
    inlet_kafka_health *h = inlet_producer_health(p);
    inlet_topic_need *t = NULL;
    size_t n = 0;
    if (!h)
        return;
    if (inlet_topics_collect(tenants, schemas, &t, &n) != 0) {
        inlet_log_error("out of memory listing the configuration's Kafka topics");
        return;
    }
    const char **names = calloc(n + 1, sizeof(*names));
    const char **labels = calloc(n + 1, sizeof(*labels));
    if (names && labels) {
        for (size_t i = 0; i < n; i++) {
            names[i] = t[i].topic;
            labels[i] = t[i].label;
        }
        inlet_kafka_health_set_topics(h, names, labels, n, wait_ms);
    }
    free(names);
    free(labels);
    inlet_topics_free(t, n);
}

int inlet_topics_refuse_missing(inlet_producer *p, const inlet_envelope *envs, size_t n, char *msg,
                                size_t msg_len)
{
    inlet_kafka_health *h = inlet_producer_health(p);
    for (size_t i = 0; h && i < n; i++) {
        if (i > 0 && envs[i].topic == envs[i - 1].topic)
            continue;
        if (inlet_kafka_health_topic_missing(h, envs[i].topic)) {
            snprintf(msg, msg_len,
                     "Kafka topic %s does not exist, so %s@%s is not ready; nothing was stored",
                     envs[i].topic, inlet_schema_name(envs[i].schema),
                     inlet_schema_version(envs[i].schema));
            return 1;
        }
    }
    return 0;
}

int inlet_topics_require(inlet_producer *p, const inlet_tenants *tenants,
                         const inlet_schemas *schemas, const inlet_tenants *prev_tenants,
                         const inlet_schemas *prev_schemas, int wait_ms, char *err, size_t err_len)
{
    inlet_kafka_health *h = inlet_producer_health(p);
    char missing[1024];
    if (!h)
        return 0;
    inlet_topics_watch(p, tenants, schemas, wait_ms);
    int n = inlet_kafka_health_missing_topics(h, missing, sizeof(missing));
    if (n < 0) {
        inlet_log_warn("cannot check that the Kafka topics exist (no metadata within %d ms); "
                       "events for a missing topic are refused once Kafka answers",
                       wait_ms);
        return 0;
    }
    if (n == 0)
        return 0;
    snprintf(err, err_len,
             "%d Kafka topic%s missing: %s (kafka.missing_topic: refuse_start; `inletd topics` "
             "prints the commands that create them)",
             n, n == 1 ? " is" : "s are", missing);
    if (prev_schemas)
        inlet_topics_watch(p, prev_tenants, prev_schemas, 0);
    return -1;
}

void inlet_topics_print_create(FILE *out, const inlet_tenants *tenants,
                               const inlet_schemas *schemas, const char *bootstrap,
                               int default_partitions, int default_replication)
{
    inlet_topic_need *t = NULL;
    size_t n = 0;
    if (inlet_topics_collect(tenants, schemas, &t, &n) != 0) {
        fprintf(stderr, "inletd: out of memory\n");
        return;
    }
    fprintf(out, "# Kafka topics of this configuration (tenant topic_prefix + schema "
                 "x-inlet-topic).\n");
    for (size_t i = 0; i < n; i++) {
        int partitions = t[i].partitions ? t[i].partitions : default_partitions;
        int replication = t[i].replication ? t[i].replication : default_replication;
        fprintf(out, "# %s%s\n", t[i].label,
                t[i].partitions && t[i].replication ? ""
                                                    : " (partitions or replication not "
                                                      "declared by the schema: defaults)");
        fprintf(out,
                "kafka-topics.sh --bootstrap-server %s --create --if-not-exists --topic %s "
                "--partitions %d --replication-factor %d",
                bootstrap, t[i].topic, partitions, replication);
        /* acks=all is only as strong as the in-sync replicas it waits for */
        if (replication >= 3)
            fprintf(out, " --config min.insync.replicas=2");
        fputc('\n', out);
    }
    inlet_topics_free(t, n);
}
