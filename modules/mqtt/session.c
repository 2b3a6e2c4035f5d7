/*
 * session.c - MQTT sessions of one loop: the client-id registry and per-session packet ids.
 *
 * A session is named by (tenant, client id): client identifiers are namespaced per tenant, so
 * two tenants may use the same one. The registry is per loop; session affinity (mqtt.h) makes
 * sure that a key is only ever looked up on the loop that owns it.
 *
 * The only server-side session state an ingestion proxy has is the state of the packet ids the
 * client used (MQTT 5.0 §4.1: "QoS 1 and QoS 2 messages which have been received from the
 * Client, but have not been completely acknowledged"). It is what keeps a duplicate from being
 * produced twice, and it is bounded by Receive Maximum (the CVE-2023-28366 class).
 */
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

/* ---- packet identifiers: open addressing, linear probing, backward-shift deletion ---- */

static uint32_t slot_of(const mqtt_ids *t, uint16_t id)
{
    /* Clients count ids up from 1, so the id itself spreads them perfectly. */
    return (uint32_t)id & (t->cap - 1);
}

mqtt_id_entry *mqtt_ids_find(mqtt_ids *t, uint16_t id)
{
    if (t->count == 0)
        return NULL;
    for (uint32_t i = slot_of(t, id);; i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i].id == id)
            return &t->slots[i];
        if (t->slots[i].id == 0)
            return NULL;
    }
}

static int ids_grow(mqtt_ids *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 8;
    mqtt_id_entry *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (t->slots[i].id == 0)
            continue;
        uint32_t j = (uint32_t)t->slots[i].id & (cap - 1);
        while (slots[j].id != 0)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

mqtt_id_entry *mqtt_ids_add(mqtt_ids *t, uint16_t id)
{
    /* keep the load at most one half, so probes stay short */
    if ((t->count + 1) * 2 > t->cap && ids_grow(t) != 0)
        return NULL;
    uint32_t i = slot_of(t, id);
    while (t->slots[i].id != 0)
        i = (i + 1) & (t->cap - 1);
    mqtt_id_entry *e = &t->slots[i];
    memset(e, 0, sizeof(*e));
    e->id = id;
    e->age = t->next_age++;
    t->count++;
    return e;
}

void mqtt_ids_remove(mqtt_ids *t, mqtt_id_entry *e)
{
    uint32_t mask = t->cap - 1;
    uint32_t hole = (uint32_t)(e - t->slots);

    /* Backward shift: move later members of the probe run into the hole, so that lookups
     * never need tombstones. */
    for (uint32_t i = (hole + 1) & mask; t->slots[i].id != 0; i = (i + 1) & mask) {
        uint32_t home = (uint32_t)t->slots[i].id & mask;
        /* may slot i move to hole? only if its home is not in (hole, i] cyclically */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            t->slots[hole] = t->slots[i];
            hole = i;
        }
    }
    t->slots[hole].id = 0;
    t->count--;
}

void mqtt_ids_trim(mqtt_ids *t)
{
    if (t->count == 0 && t->slots != NULL)
        mqtt_ids_free(t);
}

bool mqtt_ids_evict_unclaimed(mqtt_ids *t, uint64_t gen)
{
    mqtt_id_entry *oldest = NULL;
    for (uint32_t i = 0; i < t->cap; i++) {
        mqtt_id_entry *e = &t->slots[i];
        if (e->id == 0 || e->claim == gen)
            continue;
        if (e->state != MQTT_ID_QOS1_ACKED && e->state != MQTT_ID_QOS2_STORED)
            continue;
        /* ages wrap; compare by distance from the next age */
        if (oldest == NULL ||
            (uint32_t)(t->next_age - e->age) > (uint32_t)(t->next_age - oldest->age))
            oldest = e;
    }
    if (oldest == NULL)
        return false;
    mqtt_ids_remove(t, oldest);
    return true;
}

void mqtt_ids_free(mqtt_ids *t)
{
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* ---- the registry ---- */

/* FNV-1a over the key, keyed with a per-process seed, and a final avalanche (splitmix64) so that
 * every bit of the result is usable: the low bits pick the loop, the high bits the bucket. */
uint64_t mqtt_session_hash(const mqtt_module *m, const char *tenant, const uint8_t *client_id,
                           size_t client_id_len)
{
    uint64_t h = 0xcbf29ce484222325u ^ m->hash_seed;
    for (const char *p = tenant; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3u;
    h = (h ^ 0xffu) * 0x100000001b3u; /* separator: no byte of a tenant name is 0xff */
    for (size_t i = 0; i < client_id_len; i++)
        h = (h ^ client_id[i]) * 0x100000001b3u;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebu;
    h ^= h >> 31;
    return h;
}

static size_t bucket_of(const mqtt_loop *loop, uint64_t hash)
{
    return (size_t)(hash >> 32) & (loop->session_buckets - 1);
}

static bool key_equal(const mqtt_session *s, const char *tenant, const char *client_id,
                      size_t client_id_len)
{
    size_t tlen = strlen(tenant);
    return s->key_len == tlen + 1 + client_id_len && memcmp(s->key, tenant, tlen + 1) == 0 &&
           memcmp(s->key + tlen + 1, client_id, client_id_len) == 0;
}

mqtt_session *mqtt_session_find(mqtt_loop *loop, uint64_t hash, const char *tenant,
                                const char *client_id, size_t client_id_len)
{
    if (loop->session_buckets == 0)
        return NULL;
    for (mqtt_session *s = loop->sessions[bucket_of(loop, hash)]; s != NULL; s = s->hnext)
        if (s->hash == hash && key_equal(s, tenant, client_id, client_id_len))
            return s;
    return NULL;
}

static int registry_grow(mqtt_loop *loop)
{
    size_t n = loop->session_buckets ? loop->session_buckets * 2 : 256;
    mqtt_session **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return -1;
    size_t old_n = loop->session_buckets;
    mqtt_session **old = loop->sessions;
    loop->sessions = b;
    loop->session_buckets = n;
    for (size_t i = 0; i < old_n; i++) {
        mqtt_session *s = old[i];
        while (s != NULL) {
            mqtt_session *next = s->hnext;
            size_t j = bucket_of(loop, s->hash);
            s->hnext = b[j];
            b[j] = s;
            s = next;
        }
    }
    free(old);
    return 0;
}

static void on_expiry(mqtt_loop *loop, mqtt_timer *t)
{
    mqtt_session *s = MQTT_CONTAINER(t, mqtt_session, expiry);
    mqtt_session_forget(loop, s);
}

mqtt_session *mqtt_session_create(mqtt_loop *loop, uint64_t hash, const char *tenant,
                                  const char *client_id, size_t client_id_len,
                                  const char *device_id)
{
    size_t tlen = strlen(tenant), dlen = strlen(device_id);
    size_t key_len = tlen + 1 + client_id_len;
    if (key_len + 1 + dlen + 1 > UINT16_MAX)
        return NULL;
    if (loop->n_sessions + 1 > loop->session_buckets && registry_grow(loop) != 0)
        return NULL;
    mqtt_session *s = calloc(1, sizeof(*s) + key_len + 1 + dlen + 1);
    if (s == NULL)
        return NULL;
    memcpy(s->key, tenant, tlen + 1);
    memcpy(s->key + tlen + 1, client_id, client_id_len);
    s->key[key_len] = '\0';
    memcpy(s->key + key_len + 1, device_id, dlen + 1);
    s->key_len = (uint16_t)key_len;
    s->device_off = (uint16_t)(key_len + 1);
    s->hash = hash;
    s->refs = 1; /* the registry's */
    s->in_registry = true;
    mqtt_timer_init(&s->expiry, on_expiry);

    size_t b = bucket_of(loop, hash);
    s->hnext = loop->sessions[b];
    loop->sessions[b] = s;
    loop->n_sessions++;
    loop->m->host->metric_add(loop->m->metrics.sessions, 1);
    return s;
}

void mqtt_session_forget(mqtt_loop *loop, mqtt_session *s)
{
    if (!s->in_registry)
        return;
    mqtt_session **pp = &loop->sessions[bucket_of(loop, s->hash)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    s->hnext = NULL;
    s->in_registry = false;
    loop->n_sessions--;
    mqtt_timer_disarm(&loop->wheel, &s->expiry);
    mqtt_session_unref(loop, s);
}

void mqtt_session_ref(mqtt_session *s)
{
    s->refs++;
}

void mqtt_session_unref(mqtt_loop *loop, mqtt_session *s)
{
    if (--s->refs > 0)
        return;
    mqtt_timer_disarm(&loop->wheel, &s->expiry);
    mqtt_ids_free(&s->ids);
    loop->m->host->metric_add(loop->m->metrics.sessions, -1);
    free(s);
}

void mqtt_session_detach(mqtt_loop *loop, mqtt_session *s)
{
    s->conn = NULL;
    mqtt_ids_trim(&s->ids); /* a session without a connection holds no empty table */
    if (s->in_registry) {
        if (s->expiry_s == 0)
            mqtt_session_forget(loop, s); /* MQTT 5.0 §3.1.2.11.2: ends with the connection */
        else
            mqtt_timer_arm(&loop->wheel, &s->expiry, loop->now_s + s->expiry_s);
    }
    mqtt_session_unref(loop, s); /* the connection's reference */
}

void mqtt_sessions_free_all(mqtt_loop *loop)
{
    for (size_t i = 0; i < loop->session_buckets; i++)
        while (loop->sessions[i] != NULL)
            mqtt_session_forget(loop, loop->sessions[i]);
    free(loop->sessions);
    loop->sessions = NULL;
    loop->session_buckets = 0;
}
