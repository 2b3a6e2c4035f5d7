/*
 * tenant_set.c - the lifetime of a runtime tenant set (allocation, references, freeing) and
 * finding a tenant in it by name.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "acl.h"
#include "ack_policy.h"
#include "device_table.h"
#include "imei_index.h"
#include "jwt_index.h"
#include "jwt_key.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"
#include "token_index.h"

static int cmp_tenant_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, (*(const inlet_tenant *const *)elem)->name);
}

/* Also frees a partly built tenant: everything not yet built is zero. */
static void tenant_free(inlet_tenant *t)
{
    free(t->name);
    free(t->topic_prefix);
    inlet_device_table_free(&t->devices);
    for (size_t i = 0; i < t->n_keys; i++)
        inlet_jwt_key_free(&t->keys[i]);
    free(t->keys);
    X509_STORE_free(t->ca);
    inlet_acl_free(&t->acl);
    free(t->dead_letter_topic);
    inlet_ack_policy_free(&t->ack);
}

static void tenants_free(inlet_tenants *ts)
{
    inlet_token_index_free(&ts->tokens);
    inlet_jwt_index_free(&ts->jwt);
    inlet_imei_index_free(&ts->imeis);
    for (size_t i = 0; i < ts->n; i++)
        tenant_free(&ts->tenants[i]);
    free(ts->tenants);
    free(ts->by_name);
    free(ts);
}

inlet_tenants *inlet_tenants_alloc(size_t n)
{
    inlet_tenants *ts = calloc(1, sizeof(*ts));

    if (!ts)
        return NULL;
    atomic_init(&ts->refs, 1);
    ts->tenants = calloc(n ? n : 1, sizeof(inlet_tenant));
    ts->by_name = calloc(n ? n : 1, sizeof(inlet_tenant *));
    if (!ts->tenants || !ts->by_name) {
        tenants_free(ts);
        return NULL;
    }
    return ts;
}

void inlet_tenants_ref(inlet_tenants *ts)
{
    if (ts)
        atomic_fetch_add_explicit(&ts->refs, 1, memory_order_relaxed);
}

void inlet_tenants_release(inlet_tenants *ts)
{
    if (ts && atomic_fetch_sub_explicit(&ts->refs, 1, memory_order_acq_rel) == 1)
        tenants_free(ts);
}

size_t inlet_tenants_count(const inlet_tenants *ts)
{
    return ts ? ts->n : 0;
}

const inlet_tenant *inlet_tenants_find(const inlet_tenants *ts, const char *name)
{
    const inlet_tenant *const *t =
        bsearch(name, ts->by_name, ts->n, sizeof(inlet_tenant *), cmp_tenant_key);
    return t ? *t : NULL;
}
