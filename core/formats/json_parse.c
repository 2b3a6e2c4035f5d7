/*
 * json_parse.c - RFC 8259 JSON into an inlet_value tree (formats.h), accepting exactly what
 * jansson 2.14's json_loadb(JSON_REJECT_DUPLICATES) accepts.
 *
 * One pass, no recursion: a goto state machine whose hot state stays in locals and whose
 * rare state lives in struct cold. Children of the open containers wait on two stacks (array
 * elements on one, object members on the other) and are copied, contiguously, when their
 * container closes, into a block allocated with the string pool (the arena is asked once for
 * a typical body). The pool is a copy of the input in which strings decode in place
 * (json_string.h). Duplicate keys are caught by a 64-bit filter per object, compared only on
 * a hit, and by a hash index once an object is big.
 *
 * Bounds: a document is valid only if, trailing whitespace aside, its last byte is ']' or
 * '}'. Then every scan (whitespace, digits, letters, structure) stops at that byte at the
 * latest, and only the string scanner, literals and the step past a closing bracket compare
 * with the end. A document that ends otherwise is refused whatever it holds; to find where,
 * it is parsed from an arena copy ended by a byte that no token accepts.
 *
 * jansson rules mirrored beyond RFC 8259 (tests/fuzz/fuzz_json_parse.c holds us to them):
 * - the top level is an object or an array;
 * - every value counts towards the depth limit of 2048, scalars included;
 * - "\u0000", invalid UTF-8, lone or mismatched surrogate escapes are refused (json_string.h);
 * - a NUL byte right after a number or true/false/null is skipped: jansson reads one byte
 *   past those tokens and, putting a NUL back, loses it ("[1\0]" is [1], "[\"a\"\0]" is
 *   refused);
 * - integers are strtoll's and refused outside int64, reals strtod's and refused on overflow
 *   (json_number.h);
 * - duplicate keys are refused.
 *
 * err->offset is the byte where the offending token or byte starts (jansson reports the byte
 * after it).
 */
#include "formats/formats.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/json_number.h"
#include "formats/json_string.h"

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

#define MAX_DEPTH    2048   /* JSON_PARSER_MAX_DEPTH */
#define SMALL_OBJECT 16     /* keys compared one by one up to here, through a hash index past it */
#define SENTINEL     '\x01' /* ends the copy of a document that does not end with a bracket */
/* Container storage allocated with the pool: this much per input byte (the reference
 * telemetry body needs 2.6), up to BLOCK_MAX; past it containers go to the arena one by one. */
#define BLOCK_PER_BYTE 3
#define BLOCK_MAX      16384

typedef struct frame {
    const char *start;  /* its '[' or '{' */
    size_t base;        /* byte offset of its first child in vals (array) or mems (object) */
    uint64_t keys;      /* object: a bit per key hash; all ones once the index takes over */
    uint32_t *index;    /* big object: open addressing of member number + 1, 0 = empty */
    uint32_t index_cap; /* a power of two */
    char close;         /* ']' or '}' */
} frame;

/* Helpers off the hot path are kept out of line so that the main loop keeps its registers. */

/* The arena copy of arr (used of cap elements) with room for twice as many; NULL on ENOMEM.
 * The old copy stays in the arena until it is reset. */
static __attribute__((noinline)) void *grow(inlet_arena *a, const void *arr, size_t used,
                                            size_t cap, size_t elem)
{
    void *n = inlet_arena_alloc(a, 2 * cap * elem);
    if (n)
        memcpy(n, arr, used * elem);
    return n;
}

static uint32_t key_hash(const char *k, uint32_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 16777619u;
    return h;
}

/* One of 64 bits from the length and the first and last bytes: keys of one object rarely
 * share all three, so a key whose bit is clear is new without a comparison. k[-1] is the pool
 * copy of the opening quote, so an empty key reads it. */
static inline uint64_t key_bit(const char *k, uint32_t n)
{
    unsigned h = (unsigned char)k[0] + 2u * (unsigned char)k[(ptrdiff_t)n - 1] + 5u * n;
    return UINT64_C(1) << (h & 63);
}

static void index_put(frame *f, const char *k, uint32_t n, uint32_t number)
{
    uint32_t mask = f->index_cap - 1, h = key_hash(k, n) & mask;
    while (f->index[h])
        h = (h + 1) & mask;
    f->index[h] = number + 1;
}

/*
 * Whether key k, whose bit f->keys has, is already in object f, whose members so far run
 * from byte f->base of mems up to mtop: 1 if so, 0 if not, -1 on ENOMEM. Small objects compare
 * key by key; from SMALL_OBJECT members on, a hash index (which k joins) keeps a big object
 * linear time, as jansson's hash table does. Keys whose bit is clear skip this function, but
 * the 65th key of an object hits a set bit at the latest, and the index then takes in every
 * member so far.
 */
static __attribute__((noinline)) int key_seen(inlet_arena *a, frame *f, const inlet_member *mems,
                                              const inlet_member *mtop, const char *k, uint32_t n)
{
    const inlet_member *first = (const inlet_member *)(const void *)((const char *)mems + f->base);
    uint32_t count = (uint32_t)(mtop - first);

    if (!f->index && count < SMALL_OBJECT) {
        for (const inlet_member *m = first; m < mtop; m++)
            if (m->key_len == n && memcmp(m->key, k, n) == 0)
                return 1;
        return 0;
    }
    if (!f->index || (count + 1) * 2 > f->index_cap) {
        uint32_t cap = f->index ? f->index_cap * 2 : 4 * SMALL_OBJECT;
        uint32_t *idx = inlet_arena_calloc(a, (size_t)cap * sizeof(*idx));
        if (!idx)
            return -1;
        f->index = idx;
        f->index_cap = cap;
        f->keys = ~UINT64_C(0); /* from now on every key comes here */
        for (uint32_t i = 0; i < count; i++)
            index_put(f, first[i].key, first[i].key_len, i);
    }
    uint32_t mask = f->index_cap - 1;
    for (uint32_t h = key_hash(k, n) & mask; f->index[h]; h = (h + 1) & mask) {
        const inlet_member *m = &first[f->index[h] - 1];
        if (m->key_len == n && memcmp(m->key, k, n) == 0)
            return 1;
    }
    index_put(f, k, n, count);
    return 0;
}

/* jansson reads a whole run of letters as one word, so "truex" is no literal. A literal
 * never ends the input (a bracket does), so p[n] is there to look at. */
static inline int literal(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) > n && memcmp(p, word, n) == 0 &&
           (unsigned char)((p[n] | 0x20) - 'a') >= 26;
}

/* Clinger's fast path needs each double operation rounded once, to double. Without it every
 * number goes to json_number.c (the fuzz target is run that way too). */
#ifndef INLET_JSON_FAST_NUMBERS
#define INLET_JSON_FAST_NUMBERS (FLT_EVAL_METHOD == 0)
#endif
#if INLET_JSON_FAST_NUMBERS
static const double pow10_small[10] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/*
 * The numbers devices send: an integer of at most 15 digits, or d.d of at most 15 digits with
 * at most 9 after the point and no exponent. Both parts then fit a double exactly, so one
 * division gives the correctly rounded value, as strtod; the text is canonical unless it is
 * "-0" or ends its fraction with 0 (json_number.c says why). NULL for anything else, errors
 * included: inlet_json_number_parse decides those. Digit runs stop before the end (a bracket
 * or the sentinel ends the input).
 */
static inline __attribute__((always_inline)) const char *number_fast(const char *p, inlet_value *v)
{
    int neg = *p == '-';
    const char *d = p + neg, *dot;
    uint64_t w = (unsigned char)*d - '0';
    unsigned dig;

    if (w > 9)
        return NULL;
    dig = (unsigned char)*++d - '0';
    if (dig < 10) {
        if (w == 0) /* a leading zero */
            return NULL;
        do {
            w = w * 10 + dig;
            dig = (unsigned char)*++d - '0';
        } while (dig < 10);
        if (d - p - neg > 15)
            return NULL;
    }
    if (*d != '.') {
        if ((*d | 0x20) == 'e')
            return NULL;
        v->type = INLET_V_INT;
        v->canonical = !(neg && w == 0);
        v->u.i = neg ? -(int64_t)w : (int64_t)w;
        goto done;
    }
    dot = d;
    dig = (unsigned char)*++d - '0';
    if (dig > 9)
        return NULL;
    do {
        w = w * 10 + dig;
        dig = (unsigned char)*++d - '0';
    } while (dig < 10);
    /* At most 9 decimals and 15 digits in all. */
    if (d - dot > 10 || d - p - neg > 16 || (*d | 0x20) == 'e')
        return NULL;
    double r = (double)w / pow10_small[d - dot - 1];
    v->type = INLET_V_REAL;
    v->canonical = d[-1] != '0';
    v->u.r = neg ? -r : r;
done:
    v->n = 0;
    v->raw = p;
    v->raw_len = (uint32_t)(d - p);
    return d;
}
#else
static inline const char *number_fast(const char *p, inlet_value *v)
{
    (void)p, (void)v;
    return NULL;
}
#endif

/* ' ', '\t', '\n', '\r': one compare for the usual byte above ' ', a bit test otherwise. */
#define IS_WS(c)                                                                                   \
    ((unsigned char)(c) <= ' ' && ((UINT64_C(1) << (unsigned char)(c)) &                           \
                                   (UINT64_C(1) << ' ' | 1u << '\t' | 1u << '\n' | 1u << '\r')))

/* Skip whitespace (which stops before the end); any makes the open containers
 * non-canonical. */
#define SKIP_WS()                                                                                  \
    do {                                                                                           \
        if (UNLIKELY(IS_WS(*p))) {                                                                 \
            dirty = p;                                                                             \
            do                                                                                     \
                p++;                                                                               \
            while (IS_WS(*p));                                                                     \
        }                                                                                          \
    } while (0)

/* What the parser touches only now and then, kept out of the registers of the main loop. */
typedef struct cold {
    inlet_arena *a;
    inlet_value *vals; /* the two stacks of children */
    inlet_member *mems;
    frame *frames; /* the open containers */
    size_t depth, capframes;
    char *blk, *blk_end;  /* container storage still free in the block */
    const char *start;    /* the text parsed: the input, or its copy ended by the sentinel */
    const char *sentinel; /* in the copy: where the input ended */
    inlet_value *vtop;    /* the array stack's top: arrays are the rarer containers */
    inlet_value *vlim;    /* ends of the stacks */
    inlet_member *mlim;
} cold;

/* Double a stack: the new top, NULL on ENOMEM. */
static __attribute__((noinline)) inlet_value *vals_grow(cold *c, inlet_value **vals,
                                                        inlet_value *top)
{
    size_t used = (size_t)(top - *vals), cap = (size_t)(c->vlim - *vals);
    inlet_value *n = grow(c->a, *vals, used, cap, sizeof(*n));
    if (!n)
        return NULL;
    *vals = n;
    c->vlim = n + 2 * cap;
    return n + used;
}

static __attribute__((noinline)) inlet_member *mems_grow(cold *c, inlet_member **mems,
                                                         inlet_member *top)
{
    size_t used = (size_t)(top - *mems), cap = (size_t)(c->mlim - *mems);
    inlet_member *n = grow(c->a, *mems, used, cap, sizeof(*n));
    if (!n)
        return NULL;
    *mems = n;
    c->mlim = n + 2 * cap;
    return n + used;
}

/* Copy a closed container's children; one child (the usual {"events":[...]} envelope) with
 * moves the compiler inlines. */
static inline void children_copy(char *to, const void *from, size_t size)
{
    if (size == sizeof(inlet_member))
        memcpy(to, from, sizeof(inlet_member));
    else if (size == sizeof(inlet_value))
        memcpy(to, from, sizeof(inlet_value));
    else
        memcpy(to, from, size);
}

/* Storage for a closed container's children: from the block while it lasts. */
static inline void *carve(cold *c, size_t size)
{
    if (__builtin_expect((size_t)(c->blk_end - c->blk) >= size, 1)) {
        void *r = c->blk;
        c->blk += size;
        return r;
    }
    return inlet_arena_alloc(c->a, size);
}

/* v = the slot for the next value of container f: its pending member's value, or a new
 * element. */
#define SLOT(v)                                                                                    \
    do {                                                                                           \
        if (f->close == '}') {                                                                     \
            (v) = &mtop[-1].value;                                                                 \
        } else {                                                                                   \
            if (UNLIKELY(c.vtop == c.vlim) && !(c.vtop = vals_grow(&c, &c.vals, c.vtop)))          \
                goto nomem;                                                                        \
            (v) = c.vtop++;                                                                        \
        }                                                                                          \
    } while (0)

#define FAIL(at, ...)                                                                              \
    do {                                                                                           \
        inlet_json_fault_set(&fault, (at), __VA_ARGS__);                                           \
        goto fail;                                                                                 \
    } while (0)

int inlet_json_parse(inlet_arena *a, const void *text, size_t len, inlet_value **out,
                     inlet_format_error *err)
{
    inlet_value local_vals[64];
    inlet_member local_mems[32];
    frame local_frames[32];
    cold c;                 /* every field is set before use: no zero fill on the way in */
    inlet_json_fault fault; /* set on every way to fail */
    inlet_value *v, *root = NULL;
    inlet_member *mtop = local_mems;
    frame *f = NULL;
    const char *p, *end, *q;
    const char *tail; /* end - 16 if the text has 16 bytes, for the string scanner */
    ptrdiff_t delta;  /* pool - text */
    inlet_json_str s;
    const char *dirty; /* the last text the writer would spell otherwise */

    c.a = a;
    c.vals = c.vtop = local_vals;
    c.vlim = local_vals + sizeof(local_vals) / sizeof(*local_vals);
    c.mems = local_mems;
    c.mlim = local_mems + sizeof(local_mems) / sizeof(*local_mems);
    c.frames = local_frames;
    c.depth = 0;
    c.capframes = sizeof(local_frames) / sizeof(*local_frames);
    c.start = text ? text : "";
    c.sentinel = NULL;
    p = dirty = c.start;
    end = p + len;
    *out = NULL;
    if (len > UINT32_MAX)
        FAIL(p, "document of %zu bytes is too large", len);
    while (p < end && IS_WS(*p))
        p++;
    if (p == end || (*p != '[' && *p != '{'))
        FAIL(p, "'[' or '{' expected");
    while (IS_WS(end[-1]))
        end--;
    if (end[-1] != ']' && end[-1] != '}') {
        /* Refused; parse a copy ended by the sentinel to say where and why. */
        char *copy = inlet_arena_alloc(a, len + 1);
        if (!copy)
            goto nomem;
        memcpy(copy, c.start, len);
        copy[len] = SENTINEL;
        p = copy + (p - c.start);
        c.start = dirty = copy;
        end = c.sentinel = copy + len;
        end++;
    }
    {
        size_t n = (size_t)(end - c.start), pool_size = (n + 15) & ~(size_t)15;
        size_t blk = n < BLOCK_MAX / BLOCK_PER_BYTE ? BLOCK_PER_BYTE * n + 64 : BLOCK_MAX;
        char *pool = inlet_arena_alloc(a, pool_size + blk);
        if (!pool)
            goto nomem;
        memcpy(pool, c.start, n);
        delta = pool - c.start;
        tail = n >= 16 ? end - 16 : NULL;
        c.blk = pool + pool_size;
        c.blk_end = c.blk + blk;
    }

value: /* p where a value must start */
    switch (*p) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
        SKIP_WS();
        goto value;
    case '[':
    case '{':
        if (UNLIKELY(c.depth == c.capframes)) {
            if (!(c.frames = grow(a, c.frames, c.depth, c.capframes, sizeof(*c.frames))))
                goto nomem;
            c.capframes *= 2;
        }
        f = &c.frames[c.depth++];
        f->start = p;
        f->close = *p == '{' ? '}' : ']';
        p++;
        SKIP_WS();
        if (*p == f->close) {
            f->base = f->close == '}' ? (size_t)((char *)mtop - (char *)c.mems)
                                      : (size_t)((char *)c.vtop - (char *)c.vals);
            goto close;
        }
        /* A container at the deepest level may only be empty: its values would be deeper. */
        if (UNLIKELY(c.depth == MAX_DEPTH))
            FAIL(p, "maximum parsing depth reached");
        if (f->close == '}') {
            f->base = (size_t)((char *)mtop - (char *)c.mems);
            f->keys = 0;
            f->index = NULL;
            goto key;
        }
        f->base = (size_t)((char *)c.vtop - (char *)c.vals);
        goto value;
    case '"':
        q = p;
        if (UNLIKELY(!(p = inlet_json_string_parse(p, end, tail, delta, &s, &fault))))
            goto fail;
        SLOT(v);
        v->type = INLET_V_STRING;
        v->canonical = (uint8_t)s.canonical;
        v->n = s.n;
        v->raw = q;
        v->raw_len = (uint32_t)(p - q);
        v->u.s = s.s;
        if (UNLIKELY(!s.canonical))
            dirty = q;
        goto after; /* the closing quote ends it: no byte was put back */
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        SLOT(v);
        q = p;
        if (UNLIKELY(!(p = number_fast(q, v)))) {
            inlet_json_number_status st;
            if (!(p = inlet_json_number_parse(a, q, end, v, &st))) {
                static const char *const why[] = {
                    [INLET_JSON_NUMBER_OK] = "",
                    [INLET_JSON_NUMBER_INVALID] = "invalid token",
                    [INLET_JSON_NUMBER_BIG_INT] = "too big integer",
                    [INLET_JSON_NUMBER_BIG_NEG_INT] = "too big negative integer",
                    [INLET_JSON_NUMBER_REAL_OVERFLOW] = "real number overflow",
                    [INLET_JSON_NUMBER_NOMEM] = "out of memory",
                };
                FAIL(q, "%s", why[st]);
            }
        }
        if (UNLIKELY(!v->canonical))
            dirty = q;
        goto after;
    }
    case 't':
        if (!literal(p, end, "true", 4))
            break;
        SLOT(v);
        v->type = INLET_V_TRUE;
        v->raw_len = 4;
        goto after_literal;
    case 'f':
        if (!literal(p, end, "false", 5))
            break;
        SLOT(v);
        v->type = INLET_V_FALSE;
        v->raw_len = 5;
        goto after_literal;
    case 'n':
        if (!literal(p, end, "null", 4))
            break;
        SLOT(v);
        v->type = INLET_V_NULL;
        v->raw_len = 4;
        goto after_literal;
    case ',':
    case ':':
    case ']':
    case '}':
        FAIL(p, "unexpected token");
    }
    FAIL(p, "invalid token");

after_literal:
    v->canonical = 1;
    v->n = 0;
    v->raw = p;
    v->u.i = 0;
    p += v->raw_len;
after: /* p after a value inside container f; whitespace is looked for when nothing else fits */
    if (__builtin_expect(*p == ',', 1)) {
        p++;
        if (f->close == '}')
            goto key;
        goto value;
    }
    if (*p == f->close)
        goto close;
    if (UNLIKELY(IS_WS(*p))) {
        SKIP_WS();
        goto after;
    }
    /* jansson loses a NUL that ends a number or a literal (see the top of the file): those are
     * the values that end in a digit or a letter. */
    if (*p == '\0' &&
        ((unsigned char)((p[-1] | 0x20) - 'a') < 26 || (unsigned char)(p[-1] - '0') < 10)) {
        dirty = p++;
        goto after;
    }
    FAIL(p, f->close == '}' ? "'}' expected" : "']' expected");

key: /* p where a key of object f must start */
    if (UNLIKELY(*p != '"')) {
        if (IS_WS(*p)) {
            SKIP_WS();
            goto key;
        }
        FAIL(p, "string or '}' expected");
    }
    q = p;
    if (UNLIKELY(!(p = inlet_json_string_parse(p, end, tail, delta, &s, &fault)))) {
        if (strcmp(fault.what, INLET_JSON_NUL_VALUE) == 0)
            snprintf(fault.what, sizeof(fault.what), "NUL byte in object key not supported");
        goto fail;
    }
    if (UNLIKELY(!s.canonical))
        dirty = q;
    {
        uint64_t bit = key_bit(s.s, s.n);
        if (UNLIKELY(f->keys & bit)) {
            int seen = key_seen(a, f, c.mems, mtop, s.s, s.n);
            if (seen < 0)
                goto nomem;
            if (seen)
                FAIL(q, "duplicate object key");
        }
        f->keys |= bit;
    }
    {
        inlet_member *m = mtop;
        if (UNLIKELY(m == c.mlim) && !(m = mems_grow(&c, &c.mems, m)))
            goto nomem;
        m->key = s.s;
        m->key_len = s.n;
        mtop = m + 1;
    }
    if (UNLIKELY(*p != ':')) {
        SKIP_WS();
        if (*p != ':')
            FAIL(p, "':' expected");
    }
    p++;
    goto value;

close : /* p at the closing bracket of f */
{
    const char *open = f->start;
    const void *from;
    size_t size;
    uint32_t n;
    uint8_t type;
    char *mem = NULL;

    if (f->close == '}') {
        inlet_member *first = (inlet_member *)(void *)((char *)c.mems + f->base);
        from = first;
        n = (uint32_t)(mtop - first);
        size = n * sizeof(inlet_member);
        mtop = first;
        type = INLET_V_OBJECT;
    } else {
        inlet_value *first = (inlet_value *)(void *)((char *)c.vals + f->base);
        from = first;
        n = (uint32_t)(c.vtop - first);
        size = n * sizeof(inlet_value);
        c.vtop = first;
        type = INLET_V_ARRAY;
    }
    p++;
    if (UNLIKELY(c.depth == 1)) {
        /* The root shares the storage of its children. */
        if (!(root = carve(&c, sizeof(inlet_value) + size)))
            goto nomem;
        mem = (char *)(root + 1);
        children_copy(mem, from, size);
        v = root;
    } else {
        if (n) {
            if (!(mem = carve(&c, size)))
                goto nomem;
            children_copy(mem, from, size);
        }
        c.depth--;
        f--;
        if (UNLIKELY(p == end)) /* that bracket ended the input */
            FAIL(p, f->close == '}' ? "'}' expected" : "']' expected");
        SLOT(v);
    }
    v->type = type;
    v->canonical = dirty <= open;
    v->n = n;
    v->raw = open;
    v->raw_len = (uint32_t)(p - open);
    if (type == INLET_V_OBJECT)
        v->u.members = n ? (inlet_member *)(void *)mem : NULL;
    else
        v->u.items = n ? (inlet_value *)(void *)mem : NULL;
    if (v == root)
        goto done;
    goto after;
}

done:
    while (p < end && IS_WS(*p))
        p++;
    if (p != end)
        FAIL(p, "end of file expected");
    *out = root;
    return 0;

nomem:
    inlet_json_fault_set(&fault, p, "out of memory");
fail:
    if (c.sentinel && fault.at >= c.sentinel) {
        /* The sentinel is not the document's: what it stopped was cut short. */
        fault.at = c.sentinel;
        if (strncmp(fault.what, "control character", 17) == 0 ||
            strcmp(fault.what, "invalid token") == 0)
            snprintf(fault.what, sizeof(fault.what), "premature end of input");
    }
    if (err) {
        err->offset = (size_t)(fault.at - c.start);
        err->pointer[0] = '\0';
        snprintf(err->message, sizeof(err->message), "malformed JSON at byte %zu: %s", err->offset,
                 fault.what);
    }
    return -1;
}
