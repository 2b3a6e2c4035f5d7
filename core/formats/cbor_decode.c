/*
 * cbor_decode.c - CBOR (RFC 8949) into the JSON data model (see formats.h).
 *
 * Heads come one at a time from cbor_head.c. The arrays and maps being filled sit on an
 * explicit stack in the arena, so 2048 levels cost no C stack. A definite-length container
 * gets its element array when it opens (its count is first checked against the bytes left,
 * each element taking at least one); an indefinite-length one grows by doubling in the arena.
 * Either way the elements end up contiguous and in document order, as value.h promises.
 */
#include "formats/formats.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/cbor_head.h"
#include "formats/cbor_keys.h"
#include "formats/rfc3339.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH, which the JSON path follows */

/* RFC 8949 §3.4 and the IANA CBOR tags registry */
#define TAG_DATE_TIME      0
#define TAG_EPOCH          1
#define TAG_BIGNUM         2
#define TAG_NEG_BIGNUM     3
#define TAG_DECIMAL        4
#define TAG_SELF_DESCRIBED 55799

typedef struct frame {
    size_t offset;     /* of the array or map head */
    uint64_t expected; /* definite length: elements (array) or pairs (map) declared */
    uint32_t count;    /* elements or pairs complete */
    uint32_t cap;
    uint8_t is_map, indefinite, have_key;
    inlet_value *items;
    inlet_member *members;
    size_t *key_offsets; /* map: where each key starts, for the duplicate refusal */
} frame;

typedef struct decoder {
    inlet_arena *a;
    const uint8_t *data;
    size_t len, pos;
    unsigned flags;
    inlet_format_error *err;
    frame *stack;
    size_t depth, stack_cap;
    int tagged; /* a tag other than 55799 waits for its content */
    uint64_t tag;
    size_t tag_offset;
    int done;
    inlet_value root;
} decoder;

/* The JSON pointer of the value being decoded, "" if it does not fit. */
static void build_pointer(const decoder *d, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < d->depth; i++) {
        const frame *f = &d->stack[i];
        char index[16];
        const char *seg;
        size_t seg_len;

        if (!f->is_map) {
            seg_len = (size_t)snprintf(index, sizeof(index), "%" PRIu32, f->count);
            seg = index;
        } else if (f->have_key) {
            seg = f->members[f->count].key;
            seg_len = f->members[f->count].key_len;
        } else {
            break; /* the problem is a key: point at its map */
        }
        if (o + 1 >= cap)
            goto too_long;
        out[o++] = '/';
        for (size_t j = 0; j < seg_len; j++) {
            if (o + 2 >= cap)
                goto too_long;
            /* RFC 6901 §3 */
            if (seg[j] == '~') {
                out[o++] = '~';
                out[o++] = '0';
            } else if (seg[j] == '/') {
                out[o++] = '~';
                out[o++] = '1';
            } else {
                out[o++] = seg[j];
            }
        }
    }
    out[o] = '\0';
    return;
too_long:
    out[0] = '\0';
}

static int vfail(decoder *d, int with_pointer, size_t offset, const char *fmt, va_list ap)
{
    d->err->offset = offset;
    d->err->pointer[0] = '\0';
    if (with_pointer)
        build_pointer(d, d->err->pointer, sizeof(d->err->pointer));
    vsnprintf(d->err->message, sizeof(d->err->message), fmt, ap);
    return -1;
}

/* Well-formed, but not representable in the data model: the pointer says where. */
static int refuse(decoder *d, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(decoder *d, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(d, 1, offset, fmt, ap);
    va_end(ap);
    return -1;
}

/* Not well-formed CBOR: only the offset means anything. */
static int malformed(decoder *d, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int malformed(decoder *d, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(d, 0, offset, fmt, ap);
    va_end(ap);
    return -1;
}

static void *alloc(decoder *d, size_t n)
{
    void *p = inlet_arena_alloc(d->a, n);
    if (!p)
        malformed(d, d->pos, "out of memory decoding CBOR at byte %zu", d->pos);
    return p;
}

static int next(decoder *d, inlet_cbor_head *h)
{
    return inlet_cbor_head_next(d->data, d->len, &d->pos, h, d->err);
}

static int is_int(const inlet_cbor_head *h)
{
    return h->kind == INLET_CBOR_UINT || h->kind == INLET_CBOR_NEGINT;
}

static int is_text(const inlet_cbor_head *h)
{
    return h->kind == INLET_CBOR_TEXT || h->kind == INLET_CBOR_TEXT_INDEF;
}

static int is_container(const inlet_cbor_head *h)
{
    return h->kind == INLET_CBOR_ARRAY || h->kind == INLET_CBOR_ARRAY_INDEF ||
           h->kind == INLET_CBOR_MAP || h->kind == INLET_CBOR_MAP_INDEF;
}

/* The decimal text of a CBOR integer of any size (major type 0 or 1). */
static void int_text(const inlet_cbor_head *h, char out[24])
{
    if (h->kind == INLET_CBOR_UINT)
        snprintf(out, 24, "%" PRIu64, h->arg);
    else if (h->arg == UINT64_MAX)
        snprintf(out, 24, "-18446744073709551616");
    else
        snprintf(out, 24, "-%" PRIu64, h->arg + 1);
}

/* RFC 8949 §3.1 major type 3 is UTF-8; JSON (and so the JSON path) has no NUL in strings. */
static int check_text(decoder *d, const uint8_t *s, size_t n, size_t item)
{
    size_t bad = inlet_utf8_check(s, n);

    if (bad < n)
        return refuse(d, item, "text string at byte %zu is not valid UTF-8 (byte %zu)", item,
                      (size_t)(s - d->data) + bad);
    if (memchr(s, 0, n))
        return refuse(
            d, item, "text string at byte %zu contains NUL, which the JSON path refuses too", item);
    return 0;
}

static int string_value(decoder *d, inlet_vtype type, const uint8_t *s, size_t n, size_t item,
                        inlet_value *v)
{
    if (n > UINT32_MAX)
        return refuse(d, item, "string at byte %zu is longer than 4 GiB", item);
    v->type = (uint8_t)type;
    v->n = (uint32_t)n;
    v->u.s = inlet_arena_strndup(d->a, (const char *)s, n);
    if (!v->u.s)
        return malformed(d, item, "out of memory decoding CBOR at byte %zu", item);
    return 0;
}

/* RFC 8949 §3.2.3: definite-length chunks of the same major type up to a break; a text
 * chunk is valid UTF-8 by itself. Read twice: once to check and measure, once to copy. */
static int chunked_value(decoder *d, const inlet_cbor_head *start, inlet_value *v)
{
    int text = start->kind == INLET_CBOR_TEXT_INDEF;
    inlet_cbor_kind want = text ? INLET_CBOR_TEXT : INLET_CBOR_BYTES;
    const char *what = text ? "text string" : "byte string";
    size_t first = d->pos, total = 0;
    inlet_cbor_head h;
    char *s;

    for (;;) {
        if (next(d, &h) != 0)
            return -1;
        if (h.kind == INLET_CBOR_BREAK)
            break;
        if (h.kind != want)
            return malformed(d, h.offset,
                             "chunk at byte %zu of the indefinite-length %s at byte %zu is %s, "
                             "not a definite-length %s (RFC 8949 §3.2.3)",
                             h.offset, what, start->offset, inlet_cbor_kind_name(h.kind), what);
        if (text && check_text(d, h.data, h.arg, h.offset) != 0)
            return -1;
        total += h.arg;
        if (total > UINT32_MAX)
            return refuse(d, start->offset, "string at byte %zu is longer than 4 GiB",
                          start->offset);
    }
    s = alloc(d, total + 1);
    if (!s)
        return -1;
    d->pos = first;
    for (size_t o = 0;;) {
        if (next(d, &h) != 0)
            return -1;
        if (h.kind == INLET_CBOR_BREAK)
            break;
        memcpy(s + o, h.data, h.arg);
        o += h.arg;
    }
    s[total] = '\0';
    v->type = text ? INLET_V_STRING : INLET_V_BYTES;
    v->n = (uint32_t)total;
    v->u.s = s;
    return 0;
}

/* The value of a head that is complete by itself (or a string made of chunks). */
static int scalar(decoder *d, const inlet_cbor_head *h, inlet_value *v)
{
    char num[24];

    memset(v, 0, sizeof(*v));
    switch (h->kind) {
    case INLET_CBOR_UINT:
    case INLET_CBOR_NEGINT:
        if (h->arg > INT64_MAX) {
            int_text(h, num);
            return refuse(d, h->offset, "integer %s at byte %zu is outside int64", num, h->offset);
        }
        v->type = INLET_V_INT;
        v->u.i = h->kind == INLET_CBOR_UINT ? (int64_t)h->arg : -1 - (int64_t)h->arg;
        return 0;
    case INLET_CBOR_BYTES:
        return string_value(d, INLET_V_BYTES, h->data, h->arg, h->offset, v);
    case INLET_CBOR_TEXT:
        if (check_text(d, h->data, h->arg, h->offset) != 0)
            return -1;
        return string_value(d, INLET_V_STRING, h->data, h->arg, h->offset, v);
    case INLET_CBOR_BYTES_INDEF:
    case INLET_CBOR_TEXT_INDEF:
        return chunked_value(d, h, v);
    case INLET_CBOR_FLOAT:
        if (isnan(h->f))
            return refuse(d, h->offset, "a CBOR NaN at byte %zu has no JSON equivalent", h->offset);
        if (isinf(h->f))
            return refuse(d, h->offset, "a CBOR %sinfinity at byte %zu has no JSON equivalent",
                          h->f < 0 ? "negative " : "", h->offset);
        v->type = INLET_V_REAL;
        v->u.r = h->f;
        return 0;
    case INLET_CBOR_FALSE:
        v->type = INLET_V_FALSE;
        return 0;
    case INLET_CBOR_TRUE:
        v->type = INLET_V_TRUE;
        return 0;
    case INLET_CBOR_NULL:
        v->type = INLET_V_NULL;
        return 0;
    case INLET_CBOR_UNDEFINED:
        return refuse(d, h->offset, "a CBOR undefined at byte %zu has no JSON equivalent",
                      h->offset);
    case INLET_CBOR_SIMPLE:
        return refuse(d, h->offset,
                      "a CBOR simple value (%" PRIu64 ") at byte %zu has no JSON equivalent",
                      h->arg, h->offset);
    default:
        return malformed(d, h->offset, "unexpected %s at byte %zu", inlet_cbor_kind_name(h->kind),
                         h->offset);
    }
}

/* RFC 8949 §3.4.4: tag 4 encloses [exponent, mantissa], two integers, meaning
 * mantissa * 10^exponent. strtod rounds the decimal text of that to the nearest double. */
static int decimal_fraction(decoder *d, const inlet_cbor_head *array, size_t tag_offset,
                            inlet_value *v)
{
    inlet_cbor_head part[2], end;
    char e[24], m[24], text[64];

    if (array->kind == INLET_CBOR_ARRAY && array->arg != 2)
        return refuse(d, tag_offset,
                      "decimal fraction (tag 4) at byte %zu must be an array of two integers, "
                      "not of %" PRIu64,
                      tag_offset, array->arg);
    for (int i = 0; i < 2; i++) {
        if (next(d, &part[i]) != 0)
            return -1;
        if (part[i].kind == INLET_CBOR_TAG &&
            (part[i].arg == TAG_BIGNUM || part[i].arg == TAG_NEG_BIGNUM))
            return refuse(d, part[i].offset,
                          "decimal fraction (tag 4) at byte %zu has a bignum mantissa (tag %" PRIu64
                          "), which Inlet does not decode",
                          tag_offset, part[i].arg);
        if (!is_int(&part[i]))
            return refuse(d, part[i].offset,
                          "decimal fraction (tag 4) at byte %zu must hold two integers; byte "
                          "%zu is %s",
                          tag_offset, part[i].offset, inlet_cbor_kind_name(part[i].kind));
    }
    if (array->kind == INLET_CBOR_ARRAY_INDEF) {
        if (next(d, &end) != 0)
            return -1;
        if (end.kind != INLET_CBOR_BREAK)
            return refuse(d, end.offset,
                          "decimal fraction (tag 4) at byte %zu must be an array of two integers",
                          tag_offset);
    }
    int_text(&part[0], e);
    int_text(&part[1], m);
    snprintf(text, sizeof(text), "%se%s", m, e);
    memset(v, 0, sizeof(*v));
    v->type = INLET_V_REAL;
    v->u.r = strtod(text, NULL);
    if (!isfinite(v->u.r))
        return refuse(d, tag_offset,
                      "decimal fraction (tag 4) at byte %zu is outside the range of a double",
                      tag_offset);
    return 0;
}

/* What the content of a tag Inlet understands must be. */
static const char *tag_rule(uint64_t tag)
{
    switch (tag) {
    case TAG_DATE_TIME:
        return "(date-time) must enclose a text string";
    case TAG_EPOCH:
        return "(epoch time) must enclose a number";
    default:
        return "(decimal fraction) must enclose an array of two integers";
    }
}

static int tag_content_ok(uint64_t tag, const inlet_cbor_head *h)
{
    switch (tag) {
    case TAG_DATE_TIME:
        return is_text(h);
    case TAG_EPOCH:
        return is_int(h) || h->kind == INLET_CBOR_FLOAT;
    default:
        return h->kind == INLET_CBOR_ARRAY || h->kind == INLET_CBOR_ARRAY_INDEF;
    }
}

static int on_tag(decoder *d, const inlet_cbor_head *h)
{
    /* §3.4.6: 55799 only marks the data as CBOR, wherever it appears. */
    if (h->arg == TAG_SELF_DESCRIBED)
        return 0;
    if (d->tagged)
        return refuse(d, h->offset, "tag %" PRIu64 " at byte %zu %s, not tag %" PRIu64, d->tag,
                      d->tag_offset, tag_rule(d->tag), h->arg);
    switch (h->arg) {
    case TAG_DATE_TIME:
    case TAG_EPOCH:
    case TAG_DECIMAL:
        d->tagged = 1;
        d->tag = h->arg;
        d->tag_offset = h->offset;
        return 0;
    case TAG_BIGNUM:
    case TAG_NEG_BIGNUM:
        return refuse(d, h->offset, "bignum (tag %" PRIu64 ") at byte %zu is outside int64", h->arg,
                      h->offset);
    default:
        return refuse(d, h->offset, "unknown tag %" PRIu64 " at byte %zu", h->arg, h->offset);
    }
}

static frame *top(decoder *d)
{
    return d->depth ? &d->stack[d->depth - 1] : NULL;
}

/* Room for one more element in an indefinite-length container. */
static int grow(decoder *d, frame *f)
{
    uint32_t cap;

    if (f->count < f->cap)
        return 0;
    if (f->count == UINT32_MAX)
        return refuse(d, d->pos, "container at byte %zu has too many elements", f->offset);
    cap = f->cap ? (f->cap > UINT32_MAX / 2 ? UINT32_MAX : f->cap * 2) : 8;
    if (f->is_map) {
        inlet_member *members = alloc(d, sizeof(*members) * cap);
        size_t *offsets = alloc(d, sizeof(*offsets) * cap);
        if (!members || !offsets)
            return -1;
        if (f->count) {
            memcpy(members, f->members, sizeof(*members) * f->count);
            memcpy(offsets, f->key_offsets, sizeof(*offsets) * f->count);
        }
        f->members = members;
        f->key_offsets = offsets;
    } else {
        inlet_value *items = alloc(d, sizeof(*items) * cap);
        if (!items)
            return -1;
        if (f->count)
            memcpy(items, f->items, sizeof(*items) * f->count);
        f->items = items;
    }
    f->cap = cap;
    return 0;
}

/* JSON objects have unique keys (jansson's JSON_REJECT_DUPLICATES), so CBOR maps do too.
 * Reports the second occurrence that comes first in the document. */
static int check_duplicates(decoder *d, const frame *f)
{
    uint32_t dup = 0, first = 0;
    char key[72];
    int found = inlet_cbor_find_duplicate(d->a, f->members, f->count, &dup, &first);

    if (found < 0)
        return malformed(d, d->pos, "out of memory decoding CBOR at byte %zu", d->pos);
    if (!found)
        return 0;
    inlet_cbor_quote(f->members[dup].key, f->members[dup].key_len, key);
    return refuse(d, f->key_offsets[dup], "duplicate map key %s at byte %zu (first at byte %zu)",
                  key, f->key_offsets[dup], f->key_offsets[first]);
}

static int empty_container(decoder *d, int is_map, inlet_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = is_map ? INLET_V_OBJECT : INLET_V_ARRAY;
    /* never NULL, as inlet_value_from_json does it */
    v->u.items = alloc(d, sizeof(inlet_member));
    return v->u.items ? 0 : -1;
}

/* Pop the container on top of the stack into v. */
static int close_frame(decoder *d, inlet_value *v)
{
    frame *f = top(d);

    if (f->count == 0) {
        if (empty_container(d, f->is_map, v) != 0)
            return -1;
    } else {
        if (f->is_map && check_duplicates(d, f) != 0)
            return -1;
        memset(v, 0, sizeof(*v));
        v->n = f->count;
        if (f->is_map) {
            v->type = INLET_V_OBJECT;
            v->u.members = f->members;
        } else {
            v->type = INLET_V_ARRAY;
            v->u.items = f->items;
        }
    }
    d->depth--;
    return 0;
}

/* Put a finished value into the container on top of the stack, closing each container it
 * completes; the outermost value is the result. */
static int place(decoder *d, inlet_value *v)
{
    for (;;) {
        frame *f = top(d);

        if (!f) {
            d->root = *v;
            d->done = 1;
            return 0;
        }
        if (f->is_map) {
            f->members[f->count++].value = *v;
            f->have_key = 0;
        } else {
            if (grow(d, f) != 0)
                return -1;
            f->items[f->count++] = *v;
        }
        if (f->indefinite || f->count < f->expected)
            return 0;
        if (close_frame(d, v) != 0)
            return -1;
    }
}

static int set_key(decoder *d, frame *f, const char *key, size_t len, size_t offset)
{
    inlet_member *m;

    if (grow(d, f) != 0)
        return -1;
    m = &f->members[f->count];
    m->key = key;
    m->key_len = (uint32_t)len;
    f->key_offsets[f->count] = offset;
    f->have_key = 1;
    return 0;
}

static int open_container(decoder *d, const inlet_cbor_head *h)
{
    int is_map = h->kind == INLET_CBOR_MAP || h->kind == INLET_CBOR_MAP_INDEF;
    int indefinite = h->kind == INLET_CBOR_ARRAY_INDEF || h->kind == INLET_CBOR_MAP_INDEF;
    size_t left = d->len - d->pos;
    inlet_value v;
    frame *f;

    if (d->depth >= MAX_DEPTH)
        return refuse(d, h->offset, "%s at byte %zu nests deeper than %d levels",
                      is_map ? "map" : "array", h->offset, MAX_DEPTH);
    if (!indefinite) {
        /* Each element takes at least one byte, each pair two. */
        if (h->arg > (is_map ? left / 2 : left))
            return malformed(
                d, h->offset, "%s at byte %zu declares %" PRIu64 " %s but only %zu bytes follow",
                is_map ? "map" : "array", h->offset, h->arg, is_map ? "pairs" : "items", left);
        if (h->arg > UINT32_MAX)
            return refuse(d, h->offset, "container at byte %zu has too many elements", h->offset);
        if (h->arg == 0)
            return empty_container(d, is_map, &v) != 0 ? -1 : place(d, &v);
    }
    if (d->depth == d->stack_cap) {
        size_t cap = d->stack_cap ? d->stack_cap * 2 : 16;
        frame *stack = alloc(d, sizeof(*stack) * cap);
        if (!stack)
            return -1;
        if (d->depth)
            memcpy(stack, d->stack, sizeof(*stack) * d->depth);
        d->stack = stack;
        d->stack_cap = cap;
    }
    f = &d->stack[d->depth++];
    memset(f, 0, sizeof(*f));
    f->offset = h->offset;
    f->is_map = (uint8_t)is_map;
    f->indefinite = (uint8_t)indefinite;
    if (!indefinite) {
        f->expected = h->arg;
        f->cap = (uint32_t)h->arg;
        if (is_map) {
            f->members = alloc(d, sizeof(*f->members) * f->cap);
            f->key_offsets = alloc(d, sizeof(*f->key_offsets) * f->cap);
            if (!f->members || !f->key_offsets)
                return -1;
        } else {
            f->items = alloc(d, sizeof(*f->items) * f->cap);
            if (!f->items)
                return -1;
        }
    }
    return 0;
}

static int on_break(decoder *d, const inlet_cbor_head *h)
{
    frame *f = top(d);
    inlet_value v;

    if (!f || !f->indefinite)
        return malformed(d, h->offset, "unexpected break (0xff) at byte %zu", h->offset);
    if (f->is_map && f->have_key)
        return malformed(d, h->offset, "map at byte %zu ends at byte %zu after a key with no value",
                         f->offset, h->offset);
    if (close_frame(d, &v) != 0)
        return -1;
    return place(d, &v);
}

static int map_key(decoder *d, frame *f, const inlet_cbor_head *h, int decimal)
{
    inlet_value v;

    if (is_int(h) && (d->flags & INLET_CBOR_INT_KEYS)) {
        char num[24];
        int_text(h, num);
        char *key = inlet_arena_strndup(d->a, num, strlen(num));
        if (!key)
            return malformed(d, h->offset, "out of memory decoding CBOR at byte %zu", h->offset);
        return set_key(d, f, key, strlen(num), h->offset);
    }
    if (!is_text(h))
        return refuse(d, h->offset, "map key at byte %zu is %s; only text keys %s", h->offset,
                      decimal ? "a decimal fraction" : inlet_cbor_kind_name(h->kind),
                      (d->flags & INLET_CBOR_INT_KEYS) ? "and integer keys are allowed here"
                                                       : "map onto JSON");
    if (scalar(d, h, &v) != 0)
        return -1;
    return set_key(d, f, v.u.s, v.n, h->offset);
}

/* RFC 8949 §3.4.1: the text of tag 0 is an RFC 3339 date-time. */
static int check_date_time(decoder *d, const inlet_value *v, size_t tag_offset)
{
    inlet_time t;
    char text[72];

    if (inlet_rfc3339_parse(v->u.s, v->n, &t) == 0)
        return 0;
    inlet_cbor_quote(v->u.s, v->n, text);
    return refuse(d, tag_offset,
                  "tag 0 (date-time) at byte %zu holds %s, which is not an "
                  "RFC 3339 date-time",
                  tag_offset, text);
}

static int step(decoder *d, const inlet_cbor_head *h)
{
    frame *f = top(d);
    int at_key = f && f->is_map && !f->have_key;
    int tagged = d->tagged;
    uint64_t tag = d->tag;
    size_t tag_offset = d->tag_offset;
    inlet_value v;

    if (h->kind == INLET_CBOR_TAG)
        return on_tag(d, h);
    d->tagged = 0;
    if (h->kind == INLET_CBOR_BREAK) {
        if (tagged)
            return malformed(d, h->offset, "tag at byte %zu has no content before the break",
                             tag_offset);
        return on_break(d, h);
    }
    if (tagged && !tag_content_ok(tag, h))
        return refuse(d, h->offset, "tag %" PRIu64 " at byte %zu %s, not %s", tag, tag_offset,
                      tag_rule(tag), inlet_cbor_kind_name(h->kind));
    if (at_key) {
        if (map_key(d, f, h, tagged && tag == TAG_DECIMAL) != 0)
            return -1;
        if (tagged && tag == TAG_DATE_TIME) {
            inlet_member *m = &f->members[f->count];
            inlet_value key = {.type = INLET_V_STRING, .n = m->key_len, .u.s = m->key};
            return check_date_time(d, &key, tag_offset);
        }
        return 0;
    }
    if (tagged && tag == TAG_DECIMAL) {
        if (decimal_fraction(d, h, tag_offset, &v) != 0)
            return -1;
        return place(d, &v);
    }
    if (is_container(h))
        return open_container(d, h);
    if (scalar(d, h, &v) != 0)
        return -1;
    if (tagged && tag == TAG_DATE_TIME && check_date_time(d, &v, tag_offset) != 0)
        return -1;
    return place(d, &v);
}

static int ends_early(decoder *d)
{
    const frame *f = top(d);

    if (d->tagged)
        return malformed(d, d->len,
                         "CBOR ends at byte %zu before the content of the tag at "
                         "byte %zu",
                         d->len, d->tag_offset);
    if (!f)
        return malformed(d, d->len, "CBOR ends at byte %zu before a data item", d->len);
    return malformed(d, d->len, "CBOR ends at byte %zu inside the %s that starts at byte %zu",
                     d->len, f->is_map ? "map" : "array", f->offset);
}

int inlet_cbor_decode(inlet_arena *a, const void *data, size_t len, unsigned flags,
                      inlet_value **out, inlet_format_error *err)
{
    decoder d = {.a = a, .data = data, .len = len, .flags = flags, .err = err};
    inlet_cbor_head h;
    inlet_value *root;

    memset(err, 0, sizeof(*err));
    *out = NULL;
    if (len == 0)
        return malformed(&d, 0, "empty input: no CBOR data item");
    while (!d.done) {
        if (d.pos == len)
            return ends_early(&d);
        if (next(&d, &h) != 0 || step(&d, &h) != 0)
            return -1;
    }
    if (d.pos != len)
        return malformed(&d, d.pos, "trailing bytes after the CBOR data item, from byte %zu",
                         d.pos);
    root = alloc(&d, sizeof(*root));
    if (!root)
        return -1;
    *root = d.root;
    *out = root;
    return 0;
}
