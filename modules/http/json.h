/*
 * json.h - a bounded JSON writer: the caller sizes the buffer from upper bounds (jstr_bound,
 * JINT_BOUND) and writes once. Writes past the capacity are cut, never overflow.
 */
#ifndef INLET_HTTP_JSON_H
#define INLET_HTTP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <h2o/memory.h>

typedef struct jbuf {
    char *p;
    size_t len, cap;
} jbuf;

#define JINT_BOUND 21 /* "-9223372036854775808" */

/* cap bytes from pool; they live as long as the pool (the request). */
void jb_init_pool(jbuf *b, h2o_mem_pool_t *pool, size_t cap);
void jb_raw(jbuf *b, const char *s, size_t n);
#define jb_lit(b, s) jb_raw((b), (s), sizeof(s) - 1)
/* Room a jb_str(s) may take: an escaped byte needs at most 6 ("\u00XX"), plus the quotes. */
size_t jstr_bound(const char *s);
/* A JSON string; invalid UTF-8 becomes U+FFFD so the body always parses. NULL gives null. */
void jb_str(jbuf *b, const char *s);
void jb_int(jbuf *b, int64_t v);

static inline h2o_iovec_t jb_iovec(const jbuf *b)
{
    return h2o_iovec_init(b->p, b->len);
}

#endif
