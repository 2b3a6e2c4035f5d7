/*
 * quota.c - see quota.h.
 *
 * The registry is 64 shards, each a chained hash table under its own mutex, keyed by
 * "tenant\0device": one short, uncontended lock the first time an identity is seen (never a
 * global lock; the entries are then cached in the identity), then only atomics. A submission from a
 * tenant and device without limits returns before the lookup. Entries are never freed before exit:
 * there is one per device that ever sent, a few dozen bytes each.
 */
#include "quota.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "rejection.h"
#include "token_bucket.h"
#include "identity/tenant.h"

#define SHARDS 64

enum { LIM_EVENTS, LIM_BYTES, LIM_CONNECTIONS, LIM_COUNT };
static const char *const limit_names[LIM_COUNT] = {"events", "bytes", "connections"};

/* A bucket and the limits it was last used with: when they change, it starts full. */
typedef struct limited_bucket {
    inlet_token_bucket b;
    _Atomic uint64_t fp;
} limited_bucket;

typedef struct inlet_quota_entry {
    struct inlet_quota_entry *next;
    uint64_t hash;
    limited_bucket events, bytes, dead_letter;
    atomic_llong connections;
    /* tenant entries: inlet_quota_refusals_total by limit and scope (device, tenant) */
    _Atomic(inlet_metric *) refused[LIM_COUNT][2];
    size_t key_len;
    char key[]; /* tenant NUL device NUL */
} quota_entry;

typedef struct shard {
    pthread_mutex_t mu;
    quota_entry **slots;
    size_t n, cap;
} shard;

static shard shards[SHARDS] = {[0 ... SHARDS - 1] = {.mu = PTHREAD_MUTEX_INITIALIZER}};

static uint64_t fnv1a(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int shard_grow(shard *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    quota_entry **slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        for (quota_entry *e = s->slots[i], *next; e; e = next) {
            next = e->next;
            e->next = slots[(e->hash / SHARDS) & (cap - 1)];
            slots[(e->hash / SHARDS) & (cap - 1)] = e;
        }
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

static quota_entry *entry_get(const char *tenant, const char *device)
{
    char key[64 + 1 + 256 + 1];
    size_t tl = strlen(tenant), dl = device ? strlen(device) : 0;
    if (tl + dl + 2 > sizeof(key))
        return NULL;
    memcpy(key, tenant, tl + 1);
    if (dl)
        memcpy(key + tl + 1, device, dl);
    key[tl + 1 + dl] = '\0';
    size_t len = tl + dl + 2;
    uint64_t h = fnv1a(key, len);
    shard *s = &shards[h % SHARDS];
    quota_entry *e = NULL;

    pthread_mutex_lock(&s->mu);
    if (s->cap) {
        for (e = s->slots[(h / SHARDS) & (s->cap - 1)]; e; e = e->next) {
            if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
                goto out;
        }
    }
    if ((s->n >= s->cap && shard_grow(s) != 0) || !(e = calloc(1, sizeof(*e) + len)))
        goto out;
    e->hash = h;
    e->key_len = len;
    memcpy(e->key, key, len);
    size_t i = (h / SHARDS) & (s->cap - 1);
    e->next = s->slots[i];
    s->slots[i] = e;
    s->n++;
out:
    pthread_mutex_unlock(&s->mu);
    return e;
}

/* The entry of id's device (tenant_scope 0) or tenant (1), cached in the identity: one look-up
 * per identity, none per event of a long-lived connection. */
static quota_entry *entry_of(const inlet_identity *id, int tenant_scope)
{
    _Atomic(void *) *slot = &inlet_identity_quota_slots(id)[tenant_scope];
    quota_entry *e = atomic_load_explicit(slot, memory_order_acquire);
    if (!e && (e = entry_get(id->tenant, tenant_scope ? NULL : id->device_id)))
        atomic_store_explicit(slot, e, memory_order_release);
    return e;
}

static uint64_t fingerprint(int64_t rate, int64_t burst)
{
    return ((uint64_t)rate * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)burst;
}

static inlet_bucket_result take(limited_bucket *lb, int64_t rate, int64_t burst, int64_t n,
                                int64_t now, int64_t *wait)
{
    uint64_t want = fingerprint(rate, burst), had = atomic_load(&lb->fp);
    if (had != want && atomic_compare_exchange_strong(&lb->fp, &had, want))
        inlet_bucket_reset(&lb->b);
    return inlet_bucket_take(&lb->b, rate, burst, n, now, wait);
}

static void count_refusal(quota_entry *tenant_e, const char *tenant, int limit, int device_scope)
{
    if (!tenant_e)
        return;
    inlet_metric *m = atomic_load(&tenant_e->refused[limit][device_scope]);
    if (!m) {
        char labels[200];
        snprintf(labels, sizeof(labels), "tenant=\"%.64s\",limit=\"%s\",scope=\"%s\"", tenant,
                 limit_names[limit], device_scope ? "device" : "tenant");
        m = inlet_metric_counter("inlet_quota_refusals_total",
                                 "Submissions and connections refused by a rate limit or a "
                                 "connection quota, by tenant, limit and scope.",
                                 labels);
        atomic_store(&tenant_e->refused[limit][device_scope], m);
    }
    inlet_metric_add(m, 1);
}

static int has_rates(const inlet_limits *l)
{
    return l->events_per_second > 0 || l->bytes_per_second > 0;
}

/* One of the four buckets of a submission. */
typedef struct charge {
    limited_bucket *lb;
    int64_t rate, burst, n;
    int limit, device_scope;
} charge;

/* The buckets a submission of id takes from (device first, then tenant); the tenant's entry in
 * *te for counting. Returns how many. */
static size_t charges_of(const inlet_identity *id, size_t n_events, size_t n_bytes, charge c[4],
                         quota_entry **te_out)
{
    const inlet_limits *dl = inlet_identity_device_limits(id),
                       *tl = inlet_identity_tenant_limits(id);
    size_t nc = 0;
    *te_out = NULL;
    if (!has_rates(dl) && !has_rates(tl))
        return 0;
    quota_entry *de = has_rates(dl) ? entry_of(id, 0) : NULL;
    quota_entry *te = entry_of(id, 1);
    if (de && dl->events_per_second > 0)
        c[nc++] = (charge){
            &de->events, dl->events_per_second, dl->burst, (int64_t)n_events, LIM_EVENTS, 1};
    if (de && dl->bytes_per_second > 0)
        c[nc++] = (charge){
            &de->bytes, dl->bytes_per_second, dl->bytes_burst, (int64_t)n_bytes, LIM_BYTES, 1};
    if (te && tl->events_per_second > 0)
        c[nc++] = (charge){
            &te->events, tl->events_per_second, tl->burst, (int64_t)n_events, LIM_EVENTS, 0};
    if (te && tl->bytes_per_second > 0)
        c[nc++] = (charge){
            &te->bytes, tl->bytes_per_second, tl->bytes_burst, (int64_t)n_bytes, LIM_BYTES, 0};
    *te_out = te;
    return nc;
}

void inlet_quota_refund(const inlet_identity *id, size_t n_events, size_t n_bytes)
{
    charge c[4];
    quota_entry *te;
    size_t nc = charges_of(id, n_events, n_bytes, c, &te);
    for (size_t i = 0; i < nc; i++)
        inlet_bucket_refund(&c[i].lb->b, c[i].rate, c[i].n);
}

inlet_status inlet_quota_submit(const inlet_identity *id, size_t n_events, size_t n_bytes,
                                inlet_rejection **rej)
{
    charge c[4];
    quota_entry *te;
    size_t nc = charges_of(id, n_events, n_bytes, c, &te);
    if (nc == 0)
        return INLET_OK;

    int64_t now = inlet_bucket_now_ns(), wait = 0;
    for (size_t i = 0; i < nc; i++) {
        inlet_bucket_result r = take(c[i].lb, c[i].rate, c[i].burst, c[i].n, now, &wait);
        if (r == INLET_BUCKET_OK)
            continue;
        for (size_t j = 0; j < i; j++)
            inlet_bucket_refund(&c[j].lb->b, c[j].rate, c[j].n);
        count_refusal(te, id->tenant, c[i].limit, c[i].device_scope);
        const char *what = c[i].limit == LIM_EVENTS ? "events" : "bytes";
        const char *who = c[i].device_scope ? "device" : "tenant";
        char msg[300];
        inlet_status st;
        if (r == INLET_BUCKET_NEVER) {
            snprintf(msg, sizeof(msg),
                     "the request's %lld %s exceed the %s's burst of %lld %s: split it",
                     (long long)c[i].n, what, who, (long long)c[i].burst, what);
            st = INLET_E_TOO_LARGE;
        } else {
            snprintf(msg, sizeof(msg),
                     "rate limit: the %s may send %lld %s per second (burst %lld); nothing "
                     "was stored",
                     who, (long long)c[i].rate, what, (long long)c[i].burst);
            st = INLET_E_QUOTA;
        }
        if (rej) {
            *rej = inlet_rejection_simple(st, msg);
            if (*rej && st == INLET_E_QUOTA) {
                int64_t s = (wait + 999999999LL) / 1000000000LL;
                (*rej)->retry_after_s = (int32_t)(s < 1 ? 1 : s > 86400 ? 86400 : s);
            }
        }
        return st;
    }
    return INLET_OK;
}

inlet_status inlet_quota_connection_open(const inlet_identity *id, char *msg, size_t msg_len)
{
    const inlet_limits *dl = inlet_identity_device_limits(id),
                       *tl = inlet_identity_tenant_limits(id);
    quota_entry *de = entry_of(id, 0), *te = entry_of(id, 1);
    if (msg && msg_len)
        msg[0] = '\0';
    if (!de || !te) {
        if (msg)
            snprintf(msg, msg_len, "out of memory counting connections");
        return INLET_E_INTERNAL;
    }
    long long d = atomic_fetch_add(&de->connections, 1) + 1;
    long long t = atomic_fetch_add(&te->connections, 1) + 1;
    int device_over = dl->connections > 0 && d > dl->connections;
    if (device_over || (tl->connections > 0 && t > tl->connections)) {
        atomic_fetch_sub(&de->connections, 1);
        atomic_fetch_sub(&te->connections, 1);
        count_refusal(te, id->tenant, LIM_CONNECTIONS, device_over);
        if (msg)
            snprintf(msg, msg_len, "connection quota: the %s may have %lld connections at once",
                     device_over ? "device" : "tenant",
                     (long long)(device_over ? dl->connections : tl->connections));
        return INLET_E_QUOTA;
    }
    return INLET_OK;
}

void inlet_quota_connection_close(const inlet_identity *id)
{
    quota_entry *de = entry_of(id, 0), *te = entry_of(id, 1);
    if (de)
        atomic_fetch_sub(&de->connections, 1);
    if (te)
        atomic_fetch_sub(&te->connections, 1);
}

int inlet_quota_dead_letter_take(const char *tenant, int64_t rate)
{
    quota_entry *te = entry_get(tenant, NULL);
    int64_t wait;
    return te && rate > 0 &&
           take(&te->dead_letter, rate, rate, 1, inlet_bucket_now_ns(), &wait) == INLET_BUCKET_OK;
}

void inlet_quota_fini(void)
{
    for (size_t i = 0; i < SHARDS; i++) {
        shard *s = &shards[i];
        pthread_mutex_lock(&s->mu);
        for (size_t j = 0; j < s->cap; j++) {
            for (quota_entry *e = s->slots[j], *next; e; e = next) {
                next = e->next;
                free(e);
            }
        }
        free(s->slots);
        s->slots = NULL;
        s->n = s->cap = 0;
        pthread_mutex_unlock(&s->mu);
    }
}
