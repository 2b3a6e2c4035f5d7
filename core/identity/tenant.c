/*
 * tenant.c - building the immutable runtime tenant set from parsed tenant files: each tenant's
 * name, topic prefix, devices and groups, JWT keys, CA bundle and ACL, then the indexes across
 * tenants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tenant.h"
#include "tenant_internal.h"

#define TOPIC_PREFIX_MAX 200

static int tenant_name_valid(const char *s)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0 || len > INLET_TENANT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Kafka topic names allow only [A-Za-z0-9._-]. */
static int topic_prefix_valid(const char *s)
{
    size_t len = strlen(s);

    if (len > TOPIC_PREFIX_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_device(const void *a, const void *b)
{
    return strcmp(((const inlet_device *)a)->id, ((const inlet_device *)b)->id);
}

static int cmp_tenant_ptr(const void *a, const void *b)
{
    return strcmp((*(const inlet_tenant *const *)a)->name, (*(const inlet_tenant *const *)b)->name);
}

static int cmp_group_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

/* The tenant's group table: every group any device names, sorted and unique. */
static int tenant_build_groups(inlet_tenant *t, const inlet_tenant_conf *c, const char *where,
                               char *err, size_t err_len)
{
    const inlet_device_conf *dc = c->devices.items;
    size_t total = 0, n = 0;

    for (size_t i = 0; i < c->devices.count; i++)
        total += dc[i].groups.count;
    if (total == 0)
        return 0;
    t->group_names = calloc(total, sizeof(char *));
    if (!t->group_names)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < c->devices.count; i++) {
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            const char *g = dc[i].groups.items[j];
            const char *why = inlet_device_id_check(g, strlen(g));
            if (why)
                return inlet_ident_errf(err, err_len, "%s: devices[%zu].groups[%zu]: group %s",
                                        where, i, j, why);
            t->group_names[n] = strdup(g);
            if (!t->group_names[n])
                return inlet_ident_errf(err, err_len, "%s: out of memory", where);
            t->n_groups = ++n;
        }
    }
    qsort(t->group_names, n, sizeof(char *), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(t->group_names[u - 1], t->group_names[i]) == 0) {
            free(t->group_names[i]);
            continue;
        }
        t->group_names[u++] = t->group_names[i];
    }
    t->n_groups = u;
    t->group_words = (u + 63) / 64;
    return 0;
}

static int tenant_build_devices(inlet_tenant *t, const inlet_tenant_conf *c, const char *where,
                                char *err, size_t err_len)
{
    const inlet_device_conf *dc = c->devices.items;

    if (tenant_build_groups(t, c, where, err, err_len))
        return -1;
    if (c->devices.count == 0)
        return 0;
    t->devices = calloc(c->devices.count, sizeof(inlet_device));
    if (!t->devices)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < c->devices.count; i++) {
        inlet_device *d = &t->devices[i];
        const char *why = dc[i].id ? inlet_device_id_check(dc[i].id, strlen(dc[i].id)) : "missing";
        if (why)
            return inlet_ident_errf(err, err_len, "%s: devices[%zu].id: device id %s", where, i,
                                    why);
        t->n_devices = i + 1;
        d->id = strdup(dc[i].id);
        d->groups = t->group_words ? calloc(t->group_words, sizeof(uint64_t)) : NULL;
        if (!d->id || (t->group_words && !d->groups))
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            char **g = bsearch(dc[i].groups.items[j], t->group_names, t->n_groups, sizeof(char *),
                               cmp_group_key);
            size_t bit = (size_t)(g - t->group_names);
            d->groups[bit / 64] |= UINT64_C(1) << (bit % 64);
        }
    }
    qsort(t->devices, t->n_devices, sizeof(inlet_device), cmp_device);
    for (size_t i = 1; i < t->n_devices; i++) {
        if (strcmp(t->devices[i - 1].id, t->devices[i].id) == 0)
            return inlet_ident_errf(err, err_len, "%s: devices: device \"%s\" is listed twice",
                                    where, t->devices[i].id);
    }
    return 0;
}

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
    if (tenant_build_devices(t, c, where, err, err_len))
        return -1;

    if (c->jwt.count) {
        const inlet_jwt_key_conf *kc = c->jwt.items;
        t->keys = calloc(c->jwt.count, sizeof(inlet_jwt_key));
        if (!t->keys)
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        for (size_t i = 0; i < c->jwt.count; i++) {
            t->n_keys = i + 1;
            t->keys[i].tenant = t;
            if (inlet_jwt_key_load(&t->keys[i], &kc[i], why, sizeof(why)))
                return inlet_ident_errf(err, err_len, "%s: jwt[%zu]: %s", where, i, why);
        }
    }

    if (c->mtls.device_id_from < INLET_CERT_ID_CN || c->mtls.device_id_from > INLET_CERT_ID_SAN_URI)
        return inlet_ident_errf(err, err_len, "%s: mtls.device_id_from: out of range", where);
    t->device_id_from = c->mtls.device_id_from;
    if (c->mtls.ca_file && inlet_cert_ca_load(t, c->mtls.ca_file, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: mtls.ca_file: %s", where, why);

    if (inlet_acl_compile(t, &c->acl, why, sizeof(why)))
        return inlet_ident_errf(err, err_len, "%s: %s", where, why);
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
    if (inlet_token_index_build(ts, confs, origins, err, err_len))
        goto fail;
    if (inlet_jwt_index_build(ts, origins, err, err_len))
        goto fail;
    *out = ts;
    return 0;

fail:
    inlet_tenants_release(ts);
    return -1;
}
