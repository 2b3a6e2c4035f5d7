/*
 * block1.c - Block1 reassembly with the body limit checked before anything grows. Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "block1.h"

int coap_block1_init(coap_block1_table *tb, size_t max_transfers, size_t max_body, uint64_t idle_ms)
{
    memset(tb, 0, sizeof(*tb));
    tb->t = calloc(max_transfers ? max_transfers : 1, sizeof(*tb->t));
    if (!tb->t)
        return -1;
    tb->max_transfers = max_transfers;
    tb->max_body = max_body;
    tb->idle_ms = idle_ms;
    return 0;
}

static void drop(coap_block1_transfer *x)
{
    free(x->buf);
    memset(x, 0, sizeof(*x));
}

void coap_block1_free(coap_block1_table *tb)
{
    for (size_t i = 0; tb->t && i < tb->max_transfers; i++)
        drop(&tb->t[i]);
    free(tb->t);
    memset(tb, 0, sizeof(*tb));
}

static coap_block1_transfer *find(coap_block1_table *tb, const void *key, size_t key_len)
{
    for (size_t i = 0; i < tb->max_transfers; i++) {
        coap_block1_transfer *x = &tb->t[i];
        if (x->used && x->key_len == key_len && memcmp(x->key, key, key_len) == 0)
            return x;
    }
    return NULL;
}

static coap_block1_transfer *take_free(coap_block1_table *tb, uint64_t now_ms)
{
    coap_block1_expire(tb, now_ms);
    for (size_t i = 0; i < tb->max_transfers; i++)
        if (!tb->t[i].used)
            return &tb->t[i];
    return NULL;
}

coap_block1_result coap_block1_put(coap_block1_table *tb, const void *key, size_t key_len,
                                   uint32_t num, int more, unsigned szx, const uint8_t *data,
                                   size_t len, unsigned content_format, uint64_t size1,
                                   uint64_t now_ms, uint8_t **body, size_t *body_len)
{
    *body = NULL;
    *body_len = 0;
    if (key_len > COAP_BLOCK1_KEY_MAX)
        key_len = COAP_BLOCK1_KEY_MAX;
    coap_block1_transfer *x = find(tb, key, key_len);

    /* szx 7 is reserved (RFC 7959 §2.2); a middle block is exactly the block size (§2.3). */
    size_t bsize = (size_t)1 << (szx + 4);
    if (szx > 6 || (more && len != bsize) || len > bsize) {
        if (x)
            drop(x);
        return COAP_BLOCK1_BAD;
    }
    /* The limit, before anything is allocated: the announced total (Size1, §4), then the end
     * of this block. num < 2^20 and bsize <= 1024, so the product fits. */
    uint64_t end = (uint64_t)num * bsize + len;
    if (size1 > tb->max_body || end > tb->max_body) {
        if (x)
            drop(x);
        return COAP_BLOCK1_TOO_LARGE;
    }
    if (num == 0) {
        /* Block 0 again with the same bytes is a duplicate (a late or re-sent copy under a
         * new Message ID), however far the transfer got; other bytes start a new transfer. */
        if (x && more && x->szx == szx && x->len >= len && memcmp(x->buf, data, len) == 0) {
            x->last_ms = now_ms;
            return COAP_BLOCK1_DUPLICATE;
        }
        if (x)
            drop(x);
        if (!more) {
            /* One block: no transfer state at all. */
            if ((*body = malloc(len ? len : 1)) == NULL)
                return COAP_BLOCK1_BUSY;
            memcpy(*body, data, len);
            *body_len = len;
            return COAP_BLOCK1_COMPLETE;
        }
        if ((x = take_free(tb, now_ms)) == NULL)
            return COAP_BLOCK1_BUSY;
        x->used = 1;
        memcpy(x->key, key, key_len);
        x->key_len = key_len;
        x->szx = szx;
        x->content_format = content_format;
    } else {
        if (!x)
            return COAP_BLOCK1_INCOMPLETE;
        if (num < x->next_num && szx == x->szx) {
            /* A block already stored: a duplicate only if it is that block, byte for byte;
             * else the client's body changed under the transfer, which is out of step. */
            if (more && memcmp(x->buf + (size_t)num * bsize, data, len) == 0) {
                x->last_ms = now_ms;
                return COAP_BLOCK1_DUPLICATE;
            }
            drop(x);
            return COAP_BLOCK1_INCOMPLETE;
        }
        /* Only the size of block 0 is taken; a client changing it, skipping a block, or
         * changing the Content-Format mid-transfer is out of step (4.08, §2.9.2). */
        if (num != x->next_num || szx != x->szx || content_format != x->content_format ||
            (uint64_t)num * bsize != x->len) {
            drop(x);
            return COAP_BLOCK1_INCOMPLETE;
        }
    }
    uint8_t *nb = realloc(x->buf, x->len + len ? x->len + len : 1);
    if (!nb) {
        drop(x);
        return COAP_BLOCK1_BUSY;
    }
    x->buf = nb;
    memcpy(x->buf + x->len, data, len);
    x->len += len;
    x->next_num = num + 1;
    x->last_ms = now_ms;
    if (more)
        return COAP_BLOCK1_CONTINUE;
    *body = x->buf;
    *body_len = x->len;
    x->buf = NULL;
    drop(x);
    return COAP_BLOCK1_COMPLETE;
}

size_t coap_block1_expire(coap_block1_table *tb, uint64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < tb->max_transfers; i++) {
        if (tb->t[i].used && now_ms - tb->t[i].last_ms >= tb->idle_ms) {
            drop(&tb->t[i]);
            n++;
        }
    }
    return n;
}

size_t coap_block1_active(const coap_block1_table *tb)
{
    size_t n = 0;
    for (size_t i = 0; i < tb->max_transfers; i++)
        n += tb->t[i].used != 0;
    return n;
}
