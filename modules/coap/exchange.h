/*
 * exchange.h - the deduplication cache of one loop (RFC 7252 §4.5): a CON or NON seen from a
 * peer with a Message ID is remembered for EXCHANGE_LIFETIME (247 s, §4.8.2) with the answer
 * it got, so that a retransmission is never produced twice and gets the same answer again.
 * libcoap 4.3.1 keeps no such state once a response was piggybacked (docs/COAP.md).
 *
 * Bounded: at most `max` entries; when full, the oldest is evicted (a retransmission of it
 * arriving later would be produced again: size the cache for peak requests x 247 s, or
 * reduce the lifetime). Pure: no libcoap, no clock of its own; one thread.
 */
#ifndef INLET_COAP_EXCHANGE_H
#define INLET_COAP_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COAP_EXCHANGE_KEY_MAX 40  /* listener index, sockaddr bytes, Message ID */
#define COAP_EXCHANGE_DIAG    120 /* cached diagnostic payload bytes */

typedef enum coap_exchange_state {
    COAP_EXCHANGE_PENDING = 1, /* waiting for Kafka; nothing sent yet: a duplicate is ignored */
    COAP_EXCHANGE_EMPTY_ACKED, /* empty ACK sent, separate response to follow or sent:
                                  a duplicate gets the empty ACK again (§5.2.2) */
    COAP_EXCHANGE_ANSWERED,    /* the response below was piggybacked (or sent as NON) */
} coap_exchange_state;

typedef struct coap_exchange_key {
    uint8_t len;
    uint8_t b[COAP_EXCHANGE_KEY_MAX];
} coap_exchange_key;

typedef struct coap_exchange {
    coap_exchange_key key;
    uint64_t born_ms;
    coap_exchange_state state;
    uint8_t code;     /* response code, e.g. 0x44 = 2.04 */
    uint32_t max_age; /* Max-Age option to repeat; 0 = none */
    uint32_t size1;   /* Size1 option to repeat; 0 = none */
    int32_t block1;   /* Block1 option value to repeat; -1 = none */
    uint8_t token_len;
    uint8_t token[8];
    uint8_t diag_len;
    char diag[COAP_EXCHANGE_DIAG];
    /* internal */
    uint32_t next; /* hash chain: slot + 1, 0 = end */
    uint32_t used; /* 1 if the slot holds an entry */
} coap_exchange;

typedef struct coap_exchange_cache {
    coap_exchange *slots; /* ring in insertion order: the oldest is at `head` */
    uint32_t *buckets;    /* slot + 1, 0 = empty */
    size_t max, n_buckets, head, count;
    uint64_t lifetime_ms;
    uint64_t seed;
} coap_exchange_cache;

int coap_exchange_cache_init(coap_exchange_cache *c, size_t max, uint64_t lifetime_ms,
                             uint64_t seed);
void coap_exchange_cache_free(coap_exchange_cache *c);

/* key from a listener index, a peer address (raw sockaddr bytes) and a Message ID. */
void coap_exchange_key_make(coap_exchange_key *k, size_t listener, const void *addr,
                            size_t addr_len, uint16_t mid);

/* The live entry for k, or NULL (expired entries are not returned). */
coap_exchange *coap_exchange_find(coap_exchange_cache *c, const coap_exchange_key *k,
                                  uint64_t now_ms);
/* A new PENDING entry for k (evicting the oldest when full or expired); never NULL once
 * initialised. The pointer is valid until the next insert. */
coap_exchange *coap_exchange_insert(coap_exchange_cache *c, const coap_exchange_key *k,
                                    uint64_t now_ms);

#endif
