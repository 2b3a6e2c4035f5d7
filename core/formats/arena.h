/*
 * arena.h - bump allocation for everything one submission decodes.
 *
 * A decoder allocates its values here and never frees them one by one; the owner resets the
 * arena when the submission is done and keeps its first chunk for the next one. An arena
 * belongs to one thread at a time. Under AddressSanitizer every allocation is a separate
 * malloc so that overruns stay visible.
 */
#ifndef INLET_ARENA_H
#define INLET_ARENA_H

#include <stddef.h>

typedef struct inlet_arena_chunk inlet_arena_chunk;

typedef struct inlet_arena {
    inlet_arena_chunk *head; /* newest first */
    size_t limit;            /* refuse allocations past this many bytes in total (0 = none) */
    size_t used;             /* bytes handed out since the last reset */
    int failed;              /* set once an allocation failed */
} inlet_arena;

void inlet_arena_init(inlet_arena *a, size_t limit);
/* 16-byte aligned, uninitialized; NULL (and a->failed set) when over the limit or ENOMEM. */
void *inlet_arena_alloc(inlet_arena *a, size_t n);
void *inlet_arena_calloc(inlet_arena *a, size_t n);
/* A NUL-terminated copy of n bytes. */
char *inlet_arena_strndup(inlet_arena *a, const char *s, size_t n);
/* Forget every allocation; keeps one chunk for reuse. */
void inlet_arena_reset(inlet_arena *a);
/* Free everything. */
void inlet_arena_fini(inlet_arena *a);

/* This thread's arena for the submission being processed (created on first use, limit 0). */
inlet_arena *inlet_arena_thread(void);

#endif
