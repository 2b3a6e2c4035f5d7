/*
 * layout_compile.c - an x-inlet-layout value compiled into the flat op array of
 * layout_internal.h. The vocabulary is Kaitai Struct's, kept small (docs/FORMATS.md). Keywords
 * are table rows that say which field types they apply to; anything else is refused with its
 * JSON pointer, so that a layout never silently means less than its author thinks.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "layout_internal.h"

/* The keyword is top-level only (schema_compile.c refuses it deeper), so this is its pointer. */
#define ROOT_POINTER "/x-inlet-layout"
#define EXACT_INT    9007199254740992.0 /* 2^53: every integer up to here is a double */

typedef struct lctx {
    const char *origin;
    char *err;
    size_t err_len;
    int endian; /* the layout's default: 'b', 'l', or 0 when every type must say */
    size_t ptr_len;
    char ptr[512];
} lctx;

__attribute__((format(printf, 2, 3))) static int fail(lctx *c, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(c->err, c->err_len, "%s: %s: %s", c->origin, c->ptr, msg);
    return -1;
}

/* Appends "/seg" (RFC 6901 escaped); returns the length to restore. A pointer longer than the
 * buffer is cut, which only shortens an error message. */
static size_t ptr_push(lctx *c, const char *seg, size_t seg_len)
{
    size_t saved = c->ptr_len, cap = sizeof(c->ptr) - 1;

    if (c->ptr_len < cap)
        c->ptr[c->ptr_len++] = '/';
    for (size_t i = 0; i < seg_len && c->ptr_len < cap; i++) {
        if (seg[i] != '~' && seg[i] != '/') {
            c->ptr[c->ptr_len++] = seg[i];
        } else if (c->ptr_len + 2 <= cap) {
            c->ptr[c->ptr_len++] = '~';
            c->ptr[c->ptr_len++] = seg[i] == '~' ? '0' : '1';
        } else {
            break;
        }
    }
    c->ptr[c->ptr_len] = '\0';
    return saved;
}

static void ptr_pop(lctx *c, size_t saved)
{
    c->ptr_len = saved;
    c->ptr[saved] = '\0';
}

static size_t ptr_push_index(lctx *c, size_t i)
{
    char buf[24];
    return ptr_push(c, buf, (size_t)snprintf(buf, sizeof(buf), "%zu", i));
}

/* fail() with the pointer of one keyword of the current object. */
__attribute__((format(printf, 3, 4))) static int fail_at(lctx *c, const char *key, const char *fmt,
                                                         ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ptr_push(c, key, strlen(key));
    return fail(c, "%s", msg);
}

/* --- keyword tables ------------------------------------------------------------------------- */

typedef struct layout_src {
    const json_t *endian, *seq, *doc;
} layout_src;

typedef struct field_src {
    const json_t *id, *type, *size, *size_prefix, *encoding, *enum_map, *scale, *offset, *pos,
        *absent, *doc;
} field_src;

#define K(op)     (1u << (op))
#define K_INTEGER (K(OP_UINT) | K(OP_SINT) | K(OP_BITS))
#define K_NUMBER  (K_INTEGER | K(OP_FLOAT))
#define K_STRING  (K(OP_BYTES) | K(OP_STR))
#define K_ANY     (K_NUMBER | K_STRING)

typedef struct src_key {
    const char *name;
    size_t slot;       /* where collect() puts the value */
    unsigned kinds;    /* K() of the field types the keyword applies to */
    const char *where; /* those types, for the message */
    int needs_id;      /* meaningless on a padding field, so refused there */
} src_key;

static const src_key layout_keys[] = {
    {"endian", offsetof(layout_src, endian), 0, NULL, 0},
    {"seq", offsetof(layout_src, seq), 0, NULL, 0},
    {"doc", offsetof(layout_src, doc), 0, NULL, 0},
};

static const src_key field_keys[] = {
    {"id", offsetof(field_src, id), K_ANY, NULL, 0},
    {"type", offsetof(field_src, type), K_ANY, NULL, 0},
    {"pos", offsetof(field_src, pos), K_ANY, NULL, 0},
    {"doc", offsetof(field_src, doc), K_ANY, NULL, 0},
    {"size", offsetof(field_src, size), K_STRING, "bytes and str", 0},
    {"size-prefix", offsetof(field_src, size_prefix), K_STRING, "bytes and str", 0},
    {"encoding", offsetof(field_src, encoding), K(OP_STR), "str", 0},
    {"enum", offsetof(field_src, enum_map), K_INTEGER, "integer and bit types", 1},
    {"absent", offsetof(field_src, absent), K_INTEGER, "integer and bit types", 1},
    {"scale", offsetof(field_src, scale), K_NUMBER, "integer, bit and float types", 1},
    {"offset", offsetof(field_src, offset), K_NUMBER, "integer, bit and float types", 1},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Sorts the members of obj into the slots of src; a key the table lacks is refused. */
static int collect(lctx *c, const json_t *obj, const src_key *keys, size_t n_keys, void *src)
{
    const char *key;
    size_t key_len, i;
    json_t *v;

    json_object_keylen_foreach((json_t *)obj, key, key_len, v)
    {
        for (i = 0; i < n_keys; i++)
            if (strlen(keys[i].name) == key_len && memcmp(keys[i].name, key, key_len) == 0)
                break;
        if (i == n_keys) {
            ptr_push(c, key, key_len);
            return fail(c, "unsupported keyword");
        }
        *(const json_t **)((char *)src + keys[i].slot) = v;
    }
    return 0;
}

/* Each keyword present is one that applies to this kind of field. */
static int check_applies(lctx *c, const field_src *src, unsigned kind)
{
    for (size_t i = 0; i < N_OF(field_keys); i++) {
        const src_key *k = &field_keys[i];
        if (!*(const json_t *const *)((const char *)src + k->slot))
            continue;
        if (!(k->kinds & K(kind)))
            return fail_at(c, k->name, "applies only to %s", k->where);
        if (k->needs_id && !src->id)
            return fail_at(c, k->name, "has no effect on a padding field (one without an id)");
    }
    return 0;
}

/* --- types ---------------------------------------------------------------------------------- */

static const struct layout_type {
    const char *name;
    uint8_t kind, width;
} layout_types[] = {
    {"u1", OP_UINT, 1},  {"u2", OP_UINT, 2},  {"u4", OP_UINT, 4},     {"u8", OP_UINT, 8},
    {"s1", OP_SINT, 1},  {"s2", OP_SINT, 2},  {"s4", OP_SINT, 4},     {"s8", OP_SINT, 8},
    {"f4", OP_FLOAT, 4}, {"f8", OP_FLOAT, 8}, {"bytes", OP_BYTES, 0}, {"str", OP_STR, 0},
};

/* "u2be" → OP_UINT, 2, 'b'; "b12" → OP_BITS, 12. *endian is 0 without a suffix. */
static int parse_type(const char *s, size_t len, uint8_t *kind, uint8_t *width, int *endian)
{
    unsigned bits = 0;

    *endian = 0;
    if (len >= 2 && len <= 3 && s[0] == 'b' && s[1] >= '1' && s[1] <= '9') {
        for (size_t i = 1; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            bits = bits * 10 + (unsigned)(s[i] - '0');
        }
        if (bits > 64)
            return -1;
        *kind = OP_BITS;
        *width = (uint8_t)bits;
        return 0;
    }
    for (size_t i = 0; i < N_OF(layout_types); i++) {
        const struct layout_type *t = &layout_types[i];
        size_t n = strlen(t->name);
        if (len < n || memcmp(s, t->name, n) != 0)
            continue;
        if (len == n + 2 && t->width > 1 &&
            (memcmp(s + n, "be", 2) == 0 || memcmp(s + n, "le", 2) == 0))
            *endian = s[n];
        else if (len != n)
            continue;
        *kind = t->kind;
        *width = t->width;
        return 0;
    }
    return -1;
}

/* A type keyword's value into kind, width and byte order; key names it in errors. */
static int compile_type(lctx *c, const char *key, const json_t *v, layout_op *op)
{
    const char *s;
    size_t len;
    int endian;

    if (!json_is_string(v))
        return fail_at(c, key, "must be a string such as \"u2be\"");
    s = json_string_value(v);
    len = json_string_length(v);
    if (parse_type(s, len, &op->kind, &op->width, &endian) != 0)
        return fail_at(c, key, "unknown type \"%.32s\"", s);
    if (op->width > 1 && op->kind != OP_BITS && !endian && !(endian = c->endian))
        return fail_at(c, key,
                       "\"%s\" needs a byte order: write %sbe or %sle, or give the layout an "
                       "\"endian\"",
                       s, s, s);
    op->big = endian == 'b';
    return 0;
}

/* The raw values a field can hold, within int64 (u8 and b64 above INT64_MAX never decode). */
static void raw_range(const layout_op *op, int64_t *lo, int64_t *hi)
{
    unsigned bits = op->kind == OP_BITS ? op->width : op->width * 8u;

    if (op->kind == OP_SINT) {
        *lo = bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1));
        *hi = bits == 64 ? INT64_MAX : ((int64_t)1 << (bits - 1)) - 1;
    } else {
        *lo = 0;
        *hi = bits >= 63 ? INT64_MAX : ((int64_t)1 << bits) - 1;
    }
}

const char *layout_type_name(const layout_op *op, char *buf, size_t len)
{
    static const char prefix[] = {[OP_UINT] = 'u', [OP_SINT] = 's', [OP_FLOAT] = 'f'};

    if (op->kind == OP_BITS)
        snprintf(buf, len, "b%u", op->width);
    else if (op->kind == OP_BYTES || op->kind == OP_STR)
        snprintf(buf, len, "%s", op->kind == OP_STR ? "str" : "bytes");
    else
        snprintf(buf, len, "%c%u%s", prefix[op->kind], op->width,
                 op->width == 1 ? ""
                 : op->big      ? "be"
                                : "le");
    return buf;
}

/* --- field keywords ------------------------------------------------------------------------- */

static int compile_id(lctx *c, const inlet_layout *l, size_t index, const json_t *v, layout_op *op)
{
    const char *s;
    size_t len;

    if (!json_is_string(v) || json_string_length(v) == 0)
        return fail_at(c, "id", "must be a non-empty string (the output member name)");
    s = json_string_value(v);
    len = json_string_length(v);
    if (memchr(s, '\0', len))
        return fail_at(c, "id", "must not contain NUL");
    for (size_t i = 0; i < index; i++)
        if (l->ops[i].key && l->ops[i].key_len == len && memcmp(l->ops[i].key, s, len) == 0)
            return fail_at(c, "id", "\"%.64s\" is also the id of /x-inlet-layout/seq/%zu", s, i);
    if (!(op->key = strdup(s)))
        return fail(c, "out of memory");
    op->key_len = (uint32_t)len;
    return 0;
}

static int json_to_u32(const json_t *v, uint32_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > LAYOUT_MAX_SIZE)
        return -1;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

static int compile_size(lctx *c, const field_src *src, layout_op *op)
{
    layout_op prefix = {0};

    if (src->size && src->size_prefix)
        return fail_at(c, "size-prefix", "cannot be combined with size");
    if (src->size) {
        if (json_to_u32(src->size, &op->size) != 0)
            return fail_at(c, "size", "must be an integer from 0 to %u", LAYOUT_MAX_SIZE);
        return 0;
    }
    if (!src->size_prefix)
        return fail(c, "%s needs a size or a size-prefix", op->kind == OP_STR ? "str" : "bytes");
    if (compile_type(c, "size-prefix", src->size_prefix, &prefix) != 0)
        return -1;
    if (prefix.kind != OP_UINT)
        return fail_at(c, "size-prefix", "must be an unsigned integer type (u1, u2be, u4le, ...)");
    op->prefixed = 1;
    op->width = prefix.width;
    op->big = prefix.big;
    return 0;
}

static int compile_encoding(lctx *c, const json_t *v)
{
    if (!json_is_string(v))
        return fail_at(c, "encoding", "must be a string");
    /* Text lands in JSON, which is Unicode: any other encoding would need transcoding. */
    if (strcasecmp(json_string_value(v), "UTF-8") != 0)
        return fail_at(c, "encoding", "unsupported encoding \"%.32s\" (only UTF-8)",
                       json_string_value(v));
    return 0;
}

/* An enum key: decimal ("-3", "200") or hexadecimal ("0x1f"), as Kaitai's YAML allows. */
static int parse_key(const char *s, size_t len, int64_t *out)
{
    uint64_t v = 0, limit = (uint64_t)INT64_MAX;
    int neg = 0, hex = 0, d;
    size_t i = 0;

    if (len > 0 && s[0] == '-') {
        neg = 1;
        limit++;
        i = 1;
    } else if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        hex = 1;
        i = 2;
    }
    if (i == len || (!hex && s[i] == '0' && len - i > 1) || (neg && s[i] == '0'))
        return -1;
    for (; i < len; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (hex && s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else if (hex && s[i] >= 'A' && s[i] <= 'F')
            d = s[i] - 'A' + 10;
        else
            return -1;
        if (v > (limit - (uint64_t)d) / (hex ? 16 : 10))
            return -1;
        v = v * (hex ? 16 : 10) + (uint64_t)d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int enum_cmp(const void *a, const void *b)
{
    int64_t x = ((const layout_enum_entry *)a)->raw, y = ((const layout_enum_entry *)b)->raw;
    return (x > y) - (x < y);
}

static int compile_enum(lctx *c, const json_t *v, layout_op *op)
{
    const char *key;
    size_t key_len, saved;
    int64_t lo, hi;
    json_t *text;
    char tbuf[16];

    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail_at(c, "enum", "must be a non-empty object from integers to text");
    if (!(op->enums = calloc(json_object_size(v), sizeof(*op->enums))))
        return fail(c, "out of memory");
    raw_range(op, &lo, &hi);
    saved = ptr_push(c, "enum", 4);
    json_object_keylen_foreach((json_t *)v, key, key_len, text)
    {
        layout_enum_entry *e = &op->enums[op->n_enums];
        size_t s0 = ptr_push(c, key, key_len);
        if (parse_key(key, key_len, &e->raw) != 0)
            return fail(c, "the key must be an integer, decimal or 0x hexadecimal");
        if (e->raw < lo || e->raw > hi)
            return fail(c, "is out of range for %s", layout_type_name(op, tbuf, sizeof(tbuf)));
        if (!json_is_string(text) ||
            memchr(json_string_value(text), '\0', json_string_length(text)))
            return fail(c, "must be a string without NUL");
        if (!(e->text = strdup(json_string_value(text))))
            return fail(c, "out of memory");
        e->len = (uint32_t)json_string_length(text);
        op->n_enums++;
        ptr_pop(c, s0);
    }
    qsort(op->enums, op->n_enums, sizeof(*op->enums), enum_cmp);
    for (uint32_t i = 1; i < op->n_enums; i++)
        if (op->enums[i].raw == op->enums[i - 1].raw)
            return fail(c, "maps %lld twice", (long long)op->enums[i].raw);
    ptr_pop(c, saved);
    return 0;
}

static int compile_absent(lctx *c, const json_t *v, layout_op *op)
{
    int64_t lo, hi;
    char tbuf[16];

    raw_range(op, &lo, &hi);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail_at(c, "absent", "must be an integer %s can hold",
                       layout_type_name(op, tbuf, sizeof(tbuf)));
    op->absent = json_integer_value(v);
    op->has_absent = 1;
    return 0;
}

/*
 * raw / 10^k is correctly rounded where raw × 10^-k is not always (10^-k has no exact double):
 * 525200000 with scale 1e-7 gives 52.52 by dividing and 52.520000000000003 by multiplying. So a
 * scale whose reciprocal is an integer divides, and an offset that is a whole number of such
 * steps is added before it, keeping a single rounding: (612 + -400) / 10 = 21.2.
 */
static void prepare_real(layout_op *op)
{
    double r = 1.0 / op->scale, k;

    op->divisor = 0;
    op->pre = 0;
    op->post = op->offset;
    if (!isfinite(r) || fabs(r) > EXACT_INT || floor(r) != r || 1.0 / r != op->scale)
        return;
    op->divisor = r;
    k = op->offset * r;
    if (fabs(k) <= EXACT_INT && floor(k) == k) {
        op->pre = k;
        op->post = 0;
    }
}

static int compile_affine(lctx *c, const field_src *src, layout_op *op)
{
    int integral = op->kind != OP_FLOAT;

    op->scale = 1;
    op->iscale = 1;
    if (src->scale) {
        if (!json_is_number(src->scale) || json_number_value(src->scale) == 0)
            return fail_at(c, "scale", "must be a non-zero number");
        op->scale = json_number_value(src->scale);
        integral = integral && json_is_integer(src->scale);
        if (json_is_integer(src->scale))
            op->iscale = json_integer_value(src->scale);
    }
    if (src->offset) {
        if (!json_is_number(src->offset))
            return fail_at(c, "offset", "must be a number");
        op->offset = json_number_value(src->offset);
        integral = integral && json_is_integer(src->offset);
        if (json_is_integer(src->offset))
            op->ioffset = json_integer_value(src->offset);
    }
    op->out = integral ? OUT_INT_AFFINE : OUT_REAL;
    if (!integral)
        prepare_real(op);
    return 0;
}

static int compile_field(lctx *c, inlet_layout *l, size_t index, const json_t *v)
{
    layout_op *op = &l->ops[index];
    field_src src = {0};

    if (!json_is_object(v))
        return fail(c, "must be an object (a field)");
    if (collect(c, v, field_keys, N_OF(field_keys), &src) != 0)
        return -1;
    if (src.type) {
        if (compile_type(c, "type", src.type, op) != 0)
            return -1;
    } else if (src.size || src.size_prefix) {
        op->kind = OP_BYTES; /* Kaitai: a field with a size and no type is raw bytes */
    } else {
        return fail(c, "needs a type (or a size, for raw bytes)");
    }
    if (check_applies(c, &src, op->kind) != 0)
        return -1;
    if (src.id && compile_id(c, l, index, src.id, op) != 0)
        return -1;
    if (src.doc && !json_is_string(src.doc))
        return fail_at(c, "doc", "must be a string");
    if (src.pos) {
        if (json_to_u32(src.pos, &op->pos) != 0)
            return fail_at(c, "pos", "must be a byte position from 0 to %u", LAYOUT_MAX_SIZE);
        op->has_pos = 1;
    }
    if ((op->kind == OP_BYTES || op->kind == OP_STR) && compile_size(c, &src, op) != 0)
        return -1;
    if (src.encoding && compile_encoding(c, src.encoding) != 0)
        return -1;
    if (src.enum_map && (src.scale || src.offset))
        return fail_at(c, "enum", "cannot be combined with scale or offset");
    if (src.enum_map && compile_enum(c, src.enum_map, op) != 0)
        return -1;
    if (src.absent && compile_absent(c, src.absent, op) != 0)
        return -1;

    if (!op->key)
        op->out = OUT_NONE;
    else if (op->kind == OP_BYTES)
        op->out = OUT_BYTES;
    else if (op->kind == OP_STR)
        op->out = OUT_TEXT;
    else if (src.enum_map)
        op->out = OUT_ENUM;
    else if (src.scale || src.offset || op->kind == OP_FLOAT)
        return compile_affine(c, &src, op);
    else if (op->kind == OP_BITS && op->width == 1)
        op->out = OUT_BOOL;
    else
        op->out = OUT_INT;
    return 0;
}

/* --- entry points --------------------------------------------------------------------------- */

int inlet_layout_compile(const json_t *doc, const char *origin, inlet_layout **out, char *err,
                         size_t err_len)
{
    lctx c = {.origin = origin ? origin : "schema", .err = err, .err_len = err_len};
    layout_src src = {0};
    inlet_layout *l = NULL;
    size_t n, saved;

    *out = NULL;
    c.ptr_len = strlen(ROOT_POINTER);
    memcpy(c.ptr, ROOT_POINTER, c.ptr_len + 1);
    if (!json_is_object(doc))
        return fail(&c, "must be an object with a \"seq\" array of fields");
    if (collect(&c, doc, layout_keys, N_OF(layout_keys), &src) != 0)
        return -1;
    if (src.endian) {
        const char *e = json_is_string(src.endian) ? json_string_value(src.endian) : "";
        if (strcmp(e, "be") != 0 && strcmp(e, "le") != 0)
            return fail_at(&c, "endian", "must be \"be\" or \"le\"");
        c.endian = e[0];
    }
    if (src.doc && !json_is_string(src.doc))
        return fail_at(&c, "doc", "must be a string");
    if (!src.seq)
        return fail(&c, "needs a \"seq\" array of fields");
    n = json_is_array(src.seq) ? json_array_size(src.seq) : 0;
    if (n == 0 || n > LAYOUT_MAX_FIELDS)
        return fail_at(&c, "seq", "must be an array of 1 to %d fields", LAYOUT_MAX_FIELDS);

    /* calloc: a failure part way leaves zeroed ops that inlet_layout_free skips. */
    if (!(l = calloc(1, sizeof(*l) + n * sizeof(l->ops[0]))))
        return fail(&c, "out of memory");
    l->n_ops = (uint32_t)n;
    saved = ptr_push(&c, "seq", 3);
    for (size_t i = 0; i < n; i++) {
        size_t s0 = ptr_push_index(&c, i);
        if (compile_field(&c, l, i, json_array_get(src.seq, i)) != 0)
            goto fail;
        l->n_out += l->ops[i].key != NULL;
        ptr_pop(&c, s0);
    }
    ptr_pop(&c, saved);
    *out = l;
    return 0;

fail:
    inlet_layout_free(l);
    return -1;
}

void inlet_layout_free(inlet_layout *l)
{
    if (!l)
        return;
    for (uint32_t i = 0; i < l->n_ops; i++) {
        for (uint32_t j = 0; j < l->ops[i].n_enums; j++)
            free(l->ops[i].enums[j].text);
        free(l->ops[i].enums);
        free(l->ops[i].key);
    }
    free(l);
}

size_t inlet_layout_count(const inlet_layout *l)
{
    return l->n_ops;
}

const char *inlet_layout_id(const inlet_layout *l, size_t i, size_t *len)
{
    if (i >= l->n_ops || !l->ops[i].key) {
        *len = 0;
        return NULL;
    }
    *len = l->ops[i].key_len;
    return l->ops[i].key;
}
