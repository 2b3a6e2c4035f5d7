/*
 * block1.h - reassembly of block-wise request bodies (RFC 7959 §2.3, Block1) for one loop.
 *
 * libcoap 4.3.1's own reassembly (COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY) allocates
 * whatever Size1 announces up front; this one checks every block against max_body before it
 * grows the buffer, so a body is never larger than max_body and memory is bounded by
 * max_transfers x max_body. A transfer is keyed by what identifies the request (§2.3: the
 * endpoint and the request's options other than Block1: listener, peer, path and query) and
 * ends when its last block arrives, on error, or after idle_ms. Pure; one thread.
 */
#ifndef INLET_COAP_BLOCK1_H
#define INLET_COAP_BLOCK1_H

#include <stddef.h>
#include <stdint.h>

#define COAP_BLOCK1_KEY_MAX 320

typedef enum coap_block1_result {
    COAP_BLOCK1_CONTINUE = 1, /* stored; answer 2.31 Continue with the same Block1 */
    COAP_BLOCK1_DUPLICATE,    /* a block already stored: answer 2.31 again, nothing changes */
    COAP_BLOCK1_COMPLETE,     /* last block stored: the body is *body / *body_len */
    COAP_BLOCK1_TOO_LARGE,    /* over max_body (by Size1 or by this block): 4.13 + Size1 */
    COAP_BLOCK1_INCOMPLETE,   /* a block out of order, or no transfer for it: 4.08 */
    COAP_BLOCK1_BAD,          /* a middle block whose size is not the block size, szx 7: 4.00 */
    COAP_BLOCK1_BUSY,         /* too many transfers in progress: 5.03 */
} coap_block1_result;

typedef struct coap_block1_transfer {
    uint8_t key[COAP_BLOCK1_KEY_MAX];
    size_t key_len;
    uint8_t *buf; /* owned */
    size_t len;
    uint32_t next_num; /* the block expected next */
    unsigned szx;
    unsigned content_format; /* of block 0; later blocks must match */
    uint64_t last_ms;
    int used;
} coap_block1_transfer;

typedef struct coap_block1_table {
    coap_block1_transfer *t;
    size_t max_transfers;
    size_t max_body;
    uint64_t idle_ms;
} coap_block1_table;

int coap_block1_init(coap_block1_table *tb, size_t max_transfers, size_t max_body,
                     uint64_t idle_ms);
void coap_block1_free(coap_block1_table *tb);

/*
 * One request carrying Block1 (num, more, szx as decoded from the option value; RFC 7959 §2.2)
 * with payload data/len, content_format of the request (or ~0u) and the Size1 it announced
 * (0 = none). On COMPLETE, *body (malloc'd, the caller's) and *body_len are set and the
 * transfer is gone; on TOO_LARGE, INCOMPLETE and BAD the transfer is dropped.
 */
coap_block1_result coap_block1_put(coap_block1_table *tb, const void *key, size_t key_len,
                                   uint32_t num, int more, unsigned szx, const uint8_t *data,
                                   size_t len, unsigned content_format, uint64_t size1,
                                   uint64_t now_ms, uint8_t **body, size_t *body_len);

/* Drop transfers idle longer than idle_ms; returns how many. */
size_t coap_block1_expire(coap_block1_table *tb, uint64_t now_ms);

/* Transfers in progress. */
size_t coap_block1_active(const coap_block1_table *tb);

#endif
