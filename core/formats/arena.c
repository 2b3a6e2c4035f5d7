/* arena.c - see arena.h. */
#include "arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_EACH_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_EACH_MALLOC 1
#endif
#endif

#define CHUNK_SIZE (64 * 1024)

struct inlet_arena_chunk {
    inlet_arena_chunk *next;
    size_t used, cap;
    _Alignas(16) char data[];
};

void inlet_arena_init(inlet_arena *a, size_t limit)
{
    memset(a, 0, sizeof(*a));
    a->limit = limit;
}

static inlet_arena_chunk *chunk_new(inlet_arena_chunk *next, size_t cap)
{
    inlet_arena_chunk *c = malloc(sizeof(*c) + cap);
    if (!c)
        return NULL;
    c->next = next;
    c->used = 0;
    c->cap = cap;
    return c;
}

void *inlet_arena_alloc(inlet_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) {
        a->failed = 1;
        return NULL;
    }
#ifdef ARENA_EACH_MALLOC
    inlet_arena_chunk *c = chunk_new(a->head, n);
    if (!c) {
        a->failed = 1;
        return NULL;
    }
    a->head = c;
    c->used = n;
    a->used += n;
    return c->data;
#else
    inlet_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        c = chunk_new(a->head, n > CHUNK_SIZE ? n : CHUNK_SIZE);
        if (!c) {
            a->failed = 1;
            return NULL;
        }
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->used += n;
    return p;
#endif
}

void *inlet_arena_calloc(inlet_arena *a, size_t n)
{
    void *p = inlet_arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *inlet_arena_strndup(inlet_arena *a, const char *s, size_t n)
{
    char *p = inlet_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void inlet_arena_reset(inlet_arena *a)
{
    inlet_arena_chunk *keep = NULL;
    for (inlet_arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
#ifndef ARENA_EACH_MALLOC
        /* Keep one standard chunk, the oldest (the list is newest first). */
        if (!next && c->cap == CHUNK_SIZE) {
            keep = c;
            break;
        }
#endif
        free(c);
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used = 0;
    a->failed = 0;
}

void inlet_arena_fini(inlet_arena *a)
{
    for (inlet_arena_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->used = 0;
}

static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static _Thread_local inlet_arena *thread_arena;

static void thread_arena_free(void *p)
{
    inlet_arena_fini(p);
    free(p);
}

static void thread_key_create(void)
{
    (void)pthread_key_create(&thread_key, thread_arena_free);
}

inlet_arena *inlet_arena_thread(void)
{
    if (thread_arena)
        return thread_arena;
    pthread_once(&thread_once, thread_key_create);
    inlet_arena *a = malloc(sizeof(*a));
    if (!a)
        return NULL;
    inlet_arena_init(a, 0);
    thread_arena = a;
    (void)pthread_setspecific(thread_key, a);
    return a;
}
