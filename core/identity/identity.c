/*
 * identity.c - the reference-counted identities handed to modules: one allocation per identity,
 * holding a reference to the tenant set it was made from, and what a module reads through one
 * (its topic prefix, its ACL decisions).
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "device_id.h"
#include "device_table.h"
#include "identity.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "tenant_set.h"

inlet_status inlet_identity_new(inlet_tenants *ts, const inlet_tenant *t, const char *device,
                                size_t len, inlet_auth_method method, inlet_identity **out)
{
    size_t rule_words = inlet_acl_rule_words(&t->acl);
    inlet_identity_block *b;
    const inlet_device *d;
    char *dev;

    *out = NULL;
    /* One block: header, rule bits, then the device id. sizeof(*b) is a multiple of its
     * alignment, which is at least uint64_t's. */
    b = calloc(1, sizeof(*b) + rule_words * sizeof(uint64_t) + len + 1);
    if (!b)
        return INLET_E_INTERNAL;
    b->rules = (uint64_t *)(void *)(b + 1);
    dev = (char *)(b->rules + rule_words);
    memcpy(dev, device, len);
    dev[len] = '\0';
    d = inlet_device_table_find(&t->devices, dev);
    b->groups = d ? d->groups : NULL;
    b->limits = d ? &d->limits : &t->device_limits;
    inlet_acl_device_rules(&t->acl, &t->devices, dev, b->groups, method, b->rules);

    b->pub.size = sizeof(inlet_identity);
    b->pub.tenant = t->name;
    b->pub.device_id = dev;
    b->pub.method = method;
    b->tenant = t;
    inlet_tenants_ref(ts);
    b->ts = ts;
    atomic_init(&b->refs, 1);
    *out = &b->pub;
    return INLET_OK;
}

void inlet_identity_ref(const inlet_identity *id)
{
    if (id) {
        inlet_identity_block *b = (inlet_identity_block *)(void *)id;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    }
}

void inlet_identity_release(const inlet_identity *id)
{
    if (id) {
        inlet_identity_block *b = (inlet_identity_block *)(void *)id;
        if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
            /* nobody else can reach b now, so its successor needs no lock */
            if (b->successor)
                inlet_identity_release(&b->successor->pub);
            free(b->chain);
            inlet_tenants_release(b->ts);
            free(b);
        }
    }
}

inlet_identity_chain *inlet_identity_chain_copy(const uint8_t *const *chain, const size_t *len,
                                                size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += len[i];
    inlet_identity_chain *c = malloc(sizeof(*c) + n * (sizeof(uint8_t *) + sizeof(size_t)) + bytes);
    if (!c)
        return NULL;
    c->n = n;
    c->der = (const uint8_t **)(void *)(c + 1);
    c->len = (size_t *)(void *)(c->der + n);
    uint8_t *p = (uint8_t *)(c->len + n);
    for (size_t i = 0; i < n; i++) {
        memcpy(p, chain[i], len[i]);
        c->der[i] = p;
        c->len[i] = len[i];
        p += len[i];
    }
    return c;
}

int64_t inlet_identity_expires_at(const inlet_identity *id)
{
    return id ? inlet_identity_block_of(id)->expires_at_us : 0;
}

const char *inlet_identity_topic_prefix(const inlet_identity *id)
{
    return inlet_identity_block_of(id)->tenant->topic_prefix;
}

const inlet_limits *inlet_identity_tenant_limits(const inlet_identity *id)
{
    return &inlet_identity_block_of(id)->tenant->limits;
}

const inlet_limits *inlet_identity_device_limits(const inlet_identity *id)
{
    return inlet_identity_block_of(id)->limits;
}

_Atomic(void *) *inlet_identity_quota_slots(const inlet_identity *id)
{
    return inlet_identity_block_mut((inlet_identity *)id)->quota_slots;
}

const char *inlet_identity_dead_letter(const inlet_identity *id, int64_t *rate)
{
    const inlet_tenant *t = inlet_identity_block_of(id)->tenant;
    *rate = t->dead_letter_rate;
    return t->dead_letter_topic;
}

inlet_status inlet_identity_for_device(inlet_tenants *ts, const char *tenant, const char *device,
                                       inlet_auth_method method, inlet_identity **out)
{
    const inlet_tenant *t;

    *out = NULL;
    if (!ts || !tenant || !device)
        return INLET_E_INVALID;
    t = inlet_tenants_find(ts, tenant);
    if (!t || inlet_device_id_check(device, strlen(device)))
        return INLET_E_INVALID;
    return inlet_identity_new(ts, t, device, strlen(device), method, out);
}

/* The device and method half of every rule was evaluated when the identity was made
 * (b->rules). */
inlet_status inlet_acl_check_source(const inlet_identity *id, const char *source,
                                    const char *schema, const char *version, char *reason,
                                    size_t reason_len)
{
    return inlet_acl_check_rule(id, source, schema, version, reason, reason_len, NULL);
}

inlet_status inlet_acl_check_rule(const inlet_identity *id, const char *source, const char *schema,
                                  const char *version, char *reason, size_t reason_len,
                                  size_t *rule)
{
    const inlet_identity_block *b = inlet_identity_block_of(id);

    return inlet_acl_decide_rule(&b->tenant->acl, b->rules, id->device_id,
                                 inlet_acl_protocol_bit(source), schema, version, reason,
                                 reason_len, rule);
}

inlet_status inlet_acl_check(const inlet_identity *id, const char *schema, const char *version,
                             char *reason, size_t reason_len)
{
    return inlet_acl_check_source(id, NULL, schema, version, reason, reason_len);
}
