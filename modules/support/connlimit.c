/*
 * connlimit.c - how many connections a listener holds, in all and per source address, counted
 * over every loop (a connection may be accepted by one loop and end on another).
 *
 * Before a client authenticates, the only thing that bounds what it costs is how many of its
 * connections are admitted. The per-address counts are an open-addressing table (linear
 * probing, backward-shift deletion) that never holds more addresses than the listener holds
 * connections, so it is sized once from max_connections and never grows. One mutex per
 * listener: taken once per accept and once per close, never on the data path.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

typedef struct connlimit_slot {
    uint8_t key[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
    uint32_t count;  /* 0: free */
} connlimit_slot;

struct inlet_support_connlimit {
    size_t max_connections;        /* 0: no limit */
    size_t max_connections_per_ip; /* 0: no limit */
    pthread_mutex_t mu;
    size_t n; /* connections admitted, under mu */
    connlimit_slot *slots;
    size_t mask; /* slots - 1 (a power of two), or 0 without per-address limit */
};

static void key_of(const struct sockaddr *sa, uint8_t key[16])
{
    memset(key, 0, 16);
    if (sa->sa_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else if (sa->sa_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    }
}

static size_t hash_of(const uint8_t key[16])
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ key[i]) * 1099511628211u;
    return (size_t)(h ^ (h >> 29));
}

/* The slot holding key, or the free slot where it would go. */
static size_t find(const struct inlet_support_connlimit *c, const uint8_t key[16])
{
    size_t i = hash_of(key) & c->mask;
    while (c->slots[i].count != 0 && memcmp(c->slots[i].key, key, 16) != 0)
        i = (i + 1) & c->mask;
    return i;
}

/* Backward-shift deletion keeps every probe sequence unbroken without tombstones. */
static void remove_at(struct inlet_support_connlimit *c, size_t i)
{
    size_t j = i;
    for (;;) {
        c->slots[i].count = 0;
        for (;;) {
            j = (j + 1) & c->mask;
            if (c->slots[j].count == 0)
                return;
            size_t home = hash_of(c->slots[j].key) & c->mask;
            /* j's entry may move to i unless its home lies cyclically in (i, j] */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        c->slots[i] = c->slots[j];
        i = j;
    }
}

int inlet_support_listener_set_limits(inlet_support_listener *l,
                                      const inlet_support_conn_limits_config *cfg, char *err,
                                      size_t err_len)
{
    struct inlet_support_connlimit *c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto oom;
    c->max_connections = (size_t)cfg->max_connections;
    c->max_connections_per_ip = (size_t)cfg->max_connections_per_ip;
    pthread_mutex_init(&c->mu, NULL);
    if (c->max_connections_per_ip != 0) {
        /* distinct addresses <= admitted connections <= max_connections: at most half full */
        size_t want = c->max_connections != 0 ? c->max_connections * 2 : 1u << 16;
        size_t cap = 16;
        while (cap < want)
            cap <<= 1;
        if ((c->slots = calloc(cap, sizeof(*c->slots))) == NULL) {
            pthread_mutex_destroy(&c->mu);
            free(c);
            goto oom;
        }
        c->mask = cap - 1;
        if (c->max_connections == 0 || c->max_connections > cap - 1)
            c->max_connections = cap - 1; /* the table must keep a free slot */
    }
    inlet_support_listener_free_limits(l);
    l->limits = c;
    return 0;

oom:
    snprintf(err, err_len, "listeners[%zu]: out of memory for connection limits", l->index);
    return -1;
}

void inlet_support_listener_free_limits(inlet_support_listener *l)
{
    struct inlet_support_connlimit *c = l->limits;
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->slots);
    free(c);
    l->limits = NULL;
}

int inlet_support_listeners_limit(inlet_support_listener *ls, size_t n, size_t limits_at, char *err,
                                  size_t err_len)
{
    for (size_t i = 0; i < n; i++) {
        const inlet_support_conn_limits_config *cfg =
            (const void *)((const char *)ls[i].cfg + limits_at);
        if (inlet_support_listener_set_limits(&ls[i], cfg, err, err_len) != 0)
            return -1;
    }
    return 0;
}

inlet_support_conn_verdict inlet_support_conn_admit(const inlet_support_listener *l,
                                                    const struct sockaddr *peer,
                                                    inlet_support_conn_ticket *t)
{
    struct inlet_support_connlimit *c = l->limits;
    inlet_support_conn_verdict v = INLET_SUPPORT_CONN_ADMITTED;

    memset(t, 0, sizeof(*t));
    if (c == NULL)
        return v;
    pthread_mutex_lock(&c->mu);
    if (c->max_connections != 0 && c->n >= c->max_connections) {
        v = INLET_SUPPORT_CONN_LISTENER_FULL;
        goto done;
    }
    if (c->mask != 0 && peer != NULL &&
        (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)) {
        key_of(peer, t->key);
        size_t i = find(c, t->key);
        if (c->slots[i].count >= c->max_connections_per_ip) {
            v = INLET_SUPPORT_CONN_ADDRESS_FULL;
            goto done;
        }
        if (c->slots[i].count++ == 0)
            memcpy(c->slots[i].key, t->key, 16);
        t->per_address = true;
    }
    c->n++;
    t->limits = c;

done:
    pthread_mutex_unlock(&c->mu);
    return v;
}

void inlet_support_conn_release(inlet_support_conn_ticket *t)
{
    struct inlet_support_connlimit *c = t->limits;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->n--;
    if (t->per_address) {
        size_t i = find(c, t->key);
        if (c->slots[i].count != 0 && --c->slots[i].count == 0)
            remove_at(c, i);
    }
    pthread_mutex_unlock(&c->mu);
    t->limits = NULL;
}

size_t inlet_support_listener_connections(const inlet_support_listener *l)
{
    struct inlet_support_connlimit *c = l->limits;
    if (c == NULL)
        return 0;
    pthread_mutex_lock(&c->mu);
    size_t n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}
