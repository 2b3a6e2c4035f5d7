/*
 * exchange.c - the bounded (peer, Message ID) cache: a ring of slots in insertion order plus a
 * chained hash index over it. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "exchange.h"

static uint64_t hash_key(const coap_exchange_cache *c, const coap_exchange_key *k)
{
    /* FNV-1a, seeded so that a peer cannot aim for one bucket. */
    uint64_t h = 0xcbf29ce484222325u ^ c->seed;
    for (size_t i = 0; i < k->len; i++) {
        h ^= k->b[i];
        h *= 0x100000001b3u;
    }
    return h ^ (h >> 29);
}

int coap_exchange_cache_init(coap_exchange_cache *c, size_t max, uint64_t lifetime_ms,
                             uint64_t seed)
{
    memset(c, 0, sizeof(*c));
    if (max == 0 || max > UINT32_MAX / 2)
        return -1;
    c->max = max;
    c->n_buckets = 1;
    while (c->n_buckets < max)
        c->n_buckets <<= 1;
    c->slots = calloc(max, sizeof(*c->slots));
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    c->lifetime_ms = lifetime_ms;
    c->seed = seed;
    if (!c->slots || !c->buckets) {
        coap_exchange_cache_free(c);
        return -1;
    }
    return 0;
}

void coap_exchange_cache_free(coap_exchange_cache *c)
{
    free(c->slots);
    free(c->buckets);
    memset(c, 0, sizeof(*c));
}

void coap_exchange_key_make(coap_exchange_key *k, size_t listener, const void *addr,
                            size_t addr_len, uint16_t mid)
{
    size_t n = addr_len > COAP_EXCHANGE_KEY_MAX - 3 ? COAP_EXCHANGE_KEY_MAX - 3 : addr_len;
    memset(k, 0, sizeof(*k));
    k->b[0] = (uint8_t)listener;
    k->b[1] = (uint8_t)(mid >> 8);
    k->b[2] = (uint8_t)mid;
    memcpy(k->b + 3, addr, n);
    k->len = (uint8_t)(n + 3);
}

static bool key_eq(const coap_exchange_key *a, const coap_exchange_key *b)
{
    return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

static void unlink_slot(coap_exchange_cache *c, uint32_t slot)
{
    coap_exchange *e = &c->slots[slot];
    uint32_t *p = &c->buckets[hash_key(c, &e->key) & (c->n_buckets - 1)];
    while (*p && *p != slot + 1)
        p = &c->slots[*p - 1].next;
    if (*p)
        *p = e->next;
    e->used = 0;
    c->count--;
}

coap_exchange *coap_exchange_find(coap_exchange_cache *c, const coap_exchange_key *k,
                                  uint64_t now_ms)
{
    uint32_t s = c->buckets[hash_key(c, k) & (c->n_buckets - 1)];
    while (s) {
        coap_exchange *e = &c->slots[s - 1];
        if (key_eq(&e->key, k))
            return now_ms - e->born_ms < c->lifetime_ms ? e : NULL;
        s = e->next;
    }
    return NULL;
}

coap_exchange *coap_exchange_insert(coap_exchange_cache *c, const coap_exchange_key *k,
                                    uint64_t now_ms)
{
    /* A stale entry for the same key (expired, or a Message ID reused after 247 s) goes. */
    uint32_t s = c->buckets[hash_key(c, k) & (c->n_buckets - 1)];
    while (s) {
        coap_exchange *e = &c->slots[s - 1];
        uint32_t next = e->next;
        if (key_eq(&e->key, k))
            unlink_slot(c, s - 1);
        s = next;
    }
    /* The ring's next slot is the oldest entry (or free): take it. */
    uint32_t slot = (uint32_t)c->head;
    c->head = (c->head + 1) % c->max;
    if (c->slots[slot].used)
        unlink_slot(c, slot);
    coap_exchange *e = &c->slots[slot];
    memset(e, 0, sizeof(*e));
    e->key = *k;
    e->born_ms = now_ms;
    e->state = COAP_EXCHANGE_PENDING;
    e->block1 = -1;
    e->used = 1;
    uint32_t *b = &c->buckets[hash_key(c, k) & (c->n_buckets - 1)];
    e->next = *b;
    *b = slot + 1;
    c->count++;
    return e;
}
