/*
 * json_arena.h - per-thread bump allocation for the JSON values of one request.
 *
 * Parsing a body with jansson allocates every value, key and hashtable separately; on the
 * ingestion hot path malloc/free was a quarter of the CPU. While an arena is active on a thread,
 * jansson's allocations on that thread come from a bump arena and its frees are no-ops; the
 * arena is reset when the request is done. Everything else (other threads, other times) uses
 * malloc as before. Under AddressSanitizer the arena is off, so use-after-free stays visible.
 */
#ifndef INLET_JSON_ARENA_H
#define INLET_JSON_ARENA_H

/* Route jansson through the arena hooks; idempotent, thread-safe. */
void inlet_json_arena_install(void);
/* Start using this thread's arena. Every JSON value created until inlet_json_arena_end() must
 * be released (json_decref) before it. */
void inlet_json_arena_begin(void);
void inlet_json_arena_end(void);

#endif
