/* json_arena.c - see json_arena.h. */
#include "json_arena.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_DISABLED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_DISABLED 1
#endif
#endif

#ifndef ARENA_DISABLED
#define CHUNK_SIZE (64 * 1024)

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
} chunk;

static _Thread_local chunk *arena_head; /* newest first; the last one is kept between uses */
static _Thread_local int arena_active;

static int in_arena(const void *p)
{
    for (const chunk *c = arena_head; c; c = c->next)
        if ((const char *)p >= c->data && (const char *)p < c->data + c->cap)
            return 1;
    return 0;
}

static void *arena_malloc(size_t n)
{
    if (!arena_active)
        return malloc(n);
    n = (n + 15) & ~(size_t)15;
    chunk *c = arena_head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        nc->next = c;
        arena_head = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *p)
{
    /* A value from the arena dies with the arena; anything else was malloc'd. */
    if (p && !in_arena(p))
        free(p);
}

static void install_once(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

#endif /* ARENA_DISABLED */

void inlet_json_arena_install(void)
{
#ifndef ARENA_DISABLED
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_once);
#endif
}

void inlet_json_arena_begin(void)
{
#ifndef ARENA_DISABLED
    arena_active = 1;
#endif
}

void inlet_json_arena_end(void)
{
#ifndef ARENA_DISABLED
    arena_active = 0;
    /* Keep one chunk for the next request; give back what a big batch needed. */
    while (arena_head && arena_head->next) {
        chunk *next = arena_head->next;
        free(arena_head);
        arena_head = next;
    }
    if (arena_head && arena_head->cap > CHUNK_SIZE) {
        free(arena_head);
        arena_head = NULL;
    }
    if (arena_head)
        arena_head->used = 0;
#endif
}
