/*
 * compat/khash.h - the part of klib's khash.h (0.2.8, as vendored by h2o 2.2) that
 * <h2o/http2_internal.h> needs, which Debian's libh2o-dev does not install: the hash table
 * layout of an int64-keyed map and its read-only lookup. Only h2guard.c includes it (through
 * http2_internal.h), to find h2o's streams by id and to count them; nothing here writes to a
 * table h2o owns. The layout and probing must stay those of the khash h2o was built with:
 * 32-bit bucket counts, two flag bits per bucket (empty, deleted), quadratic probing and
 * kh_int64_hash_func. A mismatch shows as streams never found (tests/integration/
 * test_http2_hardening.py fails), never as a write.
 */
#ifndef INLET_HTTP_COMPAT_KHASH_H
#define INLET_HTTP_COMPAT_KHASH_H

#include <stdint.h>

typedef uint32_t khint32_t;
typedef uint64_t khint64_t;
typedef khint32_t khint_t;
typedef khint_t khiter_t;

#define kh_inline   inline
#define klib_unused __attribute__((__unused__))

#define __ac_isempty(flag, i)  ((flag[i >> 4] >> ((i & 0xfU) << 1)) & 2)
#define __ac_isdel(flag, i)    ((flag[i >> 4] >> ((i & 0xfU) << 1)) & 1)
#define __ac_iseither(flag, i) ((flag[i >> 4] >> ((i & 0xfU) << 1)) & 3)

#define kh_int64_hash_func(key) (khint32_t)((key) >> 33 ^ (key) ^ (key) << 11)

#define KHASH_MAP_INIT_INT64(name, khval_t)                                                        \
    typedef struct kh_##name##_s {                                                                 \
        khint_t n_buckets, size, n_occupied, upper_bound;                                          \
        khint32_t *flags;                                                                          \
        khint64_t *keys;                                                                           \
        khval_t *vals;                                                                             \
    } kh_##name##_t;                                                                               \
    static kh_inline klib_unused khint_t kh_get_##name(const kh_##name##_t *h, khint64_t key)      \
    {                                                                                              \
        if (h->n_buckets == 0)                                                                     \
            return 0;                                                                              \
        khint_t mask = h->n_buckets - 1, step = 0;                                                 \
        khint_t i = kh_int64_hash_func(key) & mask, last = i;                                      \
        while (!__ac_isempty(h->flags, i) && (__ac_isdel(h->flags, i) || h->keys[i] != key)) {     \
            i = (i + (++step)) & mask;                                                             \
            if (i == last)                                                                         \
                return h->n_buckets;                                                               \
        }                                                                                          \
        return __ac_iseither(h->flags, i) ? h->n_buckets : i;                                      \
    }

#define khash_t(name)      kh_##name##_t
#define kh_get(name, h, k) kh_get_##name(h, k)
#define kh_end(h)          ((h)->n_buckets)
#define kh_val(h, x)       ((h)->vals[x])
#define kh_exist(h, x)     (!__ac_iseither((h)->flags, (x)))

#define kh_foreach_value(h, vvar, code)                                                            \
    {                                                                                              \
        for (khint_t __i = 0; __i != kh_end(h); ++__i) {                                           \
            if (!kh_exist(h, __i))                                                                 \
                continue;                                                                          \
            (vvar) = kh_val(h, __i);                                                               \
            code;                                                                                  \
        }                                                                                          \
    }

#endif
