/*
 * tenant.c - building the immutable runtime tenant set from parsed tenant files: each tenant's
 * name, topic prefix, device table, JWT keys, CA bundle and ACL, then the indexes across
 * tenants (names, opaque tokens, JWT keys). The top of identity/: it uses every part, and no
 * part uses it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "ca_expiry.h"
#include "acl.h"
#include "device_table.h"
#include "ident_error.h"
#include "imei_index.h"
#include "jwt_index.h"
#include "jwt_key.h"
#include "limits.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"
#include "token_index.h"
#include "trust_store.h"

#define TENANT_NAME_MAX  64
#define TOPIC_PREFIX_MAX 200

/* The characters of a Kafka topic name, [A-Za-z0-9._-]; tenant names use the same. */
static int topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static int tenant_name_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > TENANT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!topic_char(s[i]))
            return 0;
    }
    return 1;
}

static int topic_prefix_valid(const char *s)
{
    size_t len = strlen(s);

    if (len > TOPIC_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!topic_char(s[i]))
            return 0;
    }
    return 1;
}

static int cmp_tenant_ptr(const void *a, const void *b)
{
    return strcmp((*(const inlet_tenant *const *)a)->name, (*(const inlet_tenant *const *)b)->name);
}

static int keys_load(inlet_tenant *t, const inlet_section_list *jwt, const char *where, char *err,
                     size_t err_len)
{
    const inlet_jwt_key_conf *kc = jwt->items;
    char why[512];

    if (jwt->count == 0)
        return 0;
    t->keys = calloc(jwt->count, sizeof(inlet_jwt_key));
    if (!t->keys)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < jwt->count; i++) {
        t->n_keys = i + 1;
        t->keys[i].tenant = t;
        if (inlet_jwt_key_load(&t->keys[i], &kc[i], why, sizeof(why)))
            return inlet_ident_errf(err, err_len, "%s: jwt[%zu]: %s", where, i, why);
    }
    return 0;
}

/* Fill the zeroed t from c; on failure t holds what was built, for tenant_set.c to free. */
static int tenant_build(inlet_tenant *t, const inlet_tenant_conf *c, const char *origin, char *err,
                        size_t err_len)
{
    char where[256], why[512];

    if (!tenant_name_valid(c->name))
        return inlet_ident_errf(
            err, err_len, "%s: tenant: name must be 1..64 characters of A-Z a-z 0-9 . _ -", origin);
    snprintf(where, sizeof(where), "%s: tenant %s", origin, c->name);
    t->name = strdup(c->name);
    t->topic_prefix = strdup(c->topic_prefix ? c->topic_prefix : "");
    if (!t->name || !t->topic_prefix)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    if (!topic_prefix_valid(t->topic_prefix))
        return inlet_ident_errf(err, err_len,
                                "%s: topic_prefix: at most %d characters of A-Z a-z 0-9 . _ -",
                                where, TOPIC_PREFIX_MAX);
    if (inlet_device_table_build(&t->devices, &c->devices, where, err, err_len))
        return -1;
    if (keys_load(t, &c->jwt, where, err, err_len))
        return -1;

    if (c->mtls.device_id_from < INLET_CERT_ID_CN || c->mtls.device_id_from > INLET_CERT_ID_SAN_URI)
        return inlet_ident_errf(err, err_len, "%s: mtls.device_id_from: out of range", where);
    t->device_id_from = c->mtls.device_id_from;
    t->allow_unlisted = c->mtls.allow_unlisted_devices;
    if (c->mtls.ca_file) {
        t->ca = inlet_trust_store_load(c->mtls.ca_file, c->mtls.crl_file, why, sizeof(why));
        if (!t->ca)
            return inlet_ident_errf(err, err_len, "%s: mtls: %s", where, why);
        inlet_ca_expiry_report(t->name, t->ca);
    } else if (c->mtls.crl_file) {
        return inlet_ident_errf(err, err_len, "%s: mtls.crl_file: needs mtls.ca_file", where);
    }

    if (inlet_acl_compile(&t->acl, &t->devices, &c->acl, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: %s", where, why);
    if (inlet_ack_policy_compile(&t->ack, c->ack, &c->ack_schemas, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: %s", where, why);
    return inlet_limits_build(t, c, where, err, err_len);
}

/*
 * Tenant isolation on Kafka: two tenants with the same topic_prefix produce into the same topics,
 * and the record key is the device id, so their truck-0042s would share a key, a partition and,
 * under compaction, a history. Allowed only when every tenant involved says shared_topics: the
 * choice is each tenant's, so a tenant file added later cannot join another's topics unasked.
 */
static int topics_shared_check(const inlet_tenants *ts, const inlet_tenant_conf *const *confs,
                               const char *const *origins, char *err, size_t err_len)
{
    for (size_t i = 0; i < ts->n; i++) {
        for (size_t j = 0; j < i; j++) {
            const inlet_tenant *a = &ts->tenants[j], *b = &ts->tenants[i];
            if (strcmp(a->topic_prefix, b->topic_prefix) != 0)
                continue;
            if (confs[i]->shared_topics && confs[j]->shared_topics)
                continue;
            return inlet_ident_errf(
                err, err_len,
                "%s: tenant %s: topic_prefix \"%s\" is also tenant %s's (%s): both would produce "
                "into the same Kafka topics, keyed by device id; give each its own "
                "topic_prefix, or set shared_topics: true in both",
                origins && origins[i] ? origins[i] : "tenant", b->name, b->topic_prefix, a->name,
                origins && origins[j] ? origins[j] : "tenant");
        }
    }
    return 0;
}

int inlet_tenants_build(const inlet_tenant_conf *const *confs, const char *const *origins, size_t n,
                        inlet_tenants **out, char *err, size_t err_len)
{
    inlet_tenants *ts = inlet_tenants_alloc(n);

    *out = NULL;
    if (!ts)
        return inlet_ident_errf(err, err_len, "tenants: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *origin = origins && origins[i] ? origins[i] : "tenant";
        ts->n = i + 1;
        if (tenant_build(&ts->tenants[i], confs[i], origin, err, err_len))
            goto fail;
        ts->by_name[i] = &ts->tenants[i];
    }
    qsort(ts->by_name, n, sizeof(inlet_tenant *), cmp_tenant_ptr);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(ts->by_name[i - 1]->name, ts->by_name[i]->name) == 0) {
            size_t second = (size_t)(ts->by_name[i] - ts->tenants);
            size_t first = (size_t)(ts->by_name[i - 1] - ts->tenants);
            if (second < first)
                second = first;
            inlet_ident_errf(err, err_len, "%s: tenant %s is defined twice",
                             origins && origins[second] ? origins[second] : "tenant",
                             ts->by_name[i]->name);
            goto fail;
        }
    }
    if (inlet_token_index_build(&ts->tokens, ts->tenants, ts->n, confs, origins, err, err_len))
        goto fail;
    if (inlet_jwt_index_build(&ts->jwt, ts->tenants, ts->n, origins, err, err_len))
        goto fail;
    if (inlet_imei_index_build(&ts->imeis, ts->tenants, ts->n, confs, origins, err, err_len))
        goto fail;
    if (inlet_trust_store_overlap(ts->tenants, ts->n, origins, err, err_len))
        goto fail;
    /* last: each tenant's own errors (a bad token, key or CA) are the ones to read first */
    if (topics_shared_check(ts, confs, origins, err, err_len))
        goto fail;
    *out = ts;
    return 0;

fail:
    /* The only reference: frees the tenants built so far. */
    inlet_tenants_release(ts);
    return -1;
}
