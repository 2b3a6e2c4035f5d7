/*
 * pending.c - the per-loop cache of pending-submission records (see support.h).
 *
 * A record handed back is kept for the next submission instead of freed, up to a bound, so that
 * the hot path (one record per submit()) does not reach malloc. The free list is linked through
 * each record's first bytes: a recycled record has no other owner.
 */
#include <stdlib.h>
#include <string.h>

#include "support.h"

void inlet_support_pending_init(inlet_support_pending_cache *c, size_t size, size_t max_free)
{
    memset(c, 0, sizeof(*c));
    c->size = size < sizeof(void *) ? sizeof(void *) : size;
    c->max_free = max_free;
}

void *inlet_support_pending_get(inlet_support_pending_cache *c)
{
    void *p = c->free;
    if (p != NULL) {
        memcpy(&c->free, p, sizeof(void *));
        c->n_free--;
    } else if ((p = malloc(c->size)) == NULL) {
        return NULL;
    }
    memset(p, 0, c->size);
    return p;
}

void inlet_support_pending_put(inlet_support_pending_cache *c, void *p)
{
    if (c->n_free >= c->max_free) {
        free(p);
        return;
    }
    memcpy(p, &c->free, sizeof(void *));
    c->free = p;
    c->n_free++;
}

void inlet_support_pending_free(inlet_support_pending_cache *c)
{
    while (c->free != NULL) {
        void *p = c->free;
        memcpy(&c->free, p, sizeof(void *));
        free(p);
    }
    c->n_free = 0;
}
