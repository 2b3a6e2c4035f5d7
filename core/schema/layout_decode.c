/*
 * layout_decode.c - one binary frame through a compiled layout into an inlet_value object.
 *
 * This is the hot path of application/octet-stream: one pass over the op array with a switch
 * per field and a bounds check before every read. The only allocations are the output object
 * (one block holding every member, in seq order) and the bytes of str and bytes fields, all in
 * the caller's arena; member keys and enum texts point into the layout.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "layout_internal.h"

/* The object and its members in one allocation. */
typedef struct frame_out {
    inlet_value obj;
    inlet_member members[];
} frame_out;

static uint64_t load_uint(const unsigned char *p, unsigned width, int big)
{
    uint64_t v = 0;

    if (big)
        for (unsigned i = 0; i < width; i++)
            v = v << 8 | p[i];
    else
        for (unsigned i = width; i-- > 0;)
            v = v << 8 | p[i];
    return v;
}

/* width bits (1 to 64) from bit number bit (0 = the most significant) of p[0] on. */
static uint64_t load_bits(const unsigned char *p, unsigned bit, unsigned width)
{
    uint64_t v = 0;

    while (width) {
        unsigned avail = 8 - bit, take = width < avail ? width : avail;
        v = v << take | ((unsigned)*p >> (avail - take) & ((1u << take) - 1));
        width -= take;
        bit += take;
        if (bit == 8) {
            bit = 0;
            p++;
        }
    }
    return v;
}

/* Offset of the first byte that is NUL or not part of valid UTF-8 (RFC 3629 §4: no overlong
 * forms, no surrogates, nothing above U+10FFFF); len when there is none. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0, n;
    unsigned c, lo, hi;

    while (i < len) {
        c = s[i];
        if (c >= 0x01 && c < 0x80) {
            i++;
            continue;
        }
        lo = 0x80;
        hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            lo = c == 0xe0 ? 0xa0 : lo;
            hi = c == 0xed ? 0x9f : hi;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            lo = c == 0xf0 ? 0x90 : lo;
            hi = c == 0xf4 ? 0x8f : hi;
        } else {
            return i;
        }
        if (n >= len - i || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

/* --- errors --------------------------------------------------------------------------------- */

/* "\"lat\"" or "the padding at seq/3", for messages. */
static const char *label(const inlet_layout *l, const layout_op *op, char *buf, size_t len)
{
    if (op->key)
        snprintf(buf, len, "\"%.64s\"", op->key);
    else
        snprintf(buf, len, "the padding at seq/%zu", (size_t)(op - l->ops));
    return buf;
}

/* Sets err; value errors (at != NULL) also point at the member "/<id>" (RFC 6901). */
__attribute__((format(printf, 4, 5))) static int fail(inlet_format_error *err, size_t offset,
                                                      const layout_op *at, const char *fmt, ...)
{
    size_t n = 0, cap = sizeof(err->pointer) - 1;
    va_list ap;

    err->offset = offset;
    if (at) {
        err->pointer[n++] = '/';
        for (uint32_t i = 0; i < at->key_len && n < cap; i++) {
            char ch = at->key[i];
            if (ch != '~' && ch != '/') {
                err->pointer[n++] = ch;
            } else if (n + 2 <= cap) {
                err->pointer[n++] = '~';
                err->pointer[n++] = ch == '~' ? '0' : '1';
            } else {
                break;
            }
        }
    }
    err->pointer[n] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* The frame ended before the field (or its length prefix, or its content) did. */
static int cut(const inlet_layout *l, const layout_op *op, size_t len, size_t start, unsigned bit,
               int in_prefix, uint64_t size, inlet_format_error *err)
{
    layout_op prefix = {.kind = OP_UINT, .width = op->width, .big = op->big};
    char name[80], type[16];

    label(l, op, name, sizeof(name));
    if (start > len) /* a pos past the end: the problem is where the frame stops */
        return fail(err, len, NULL, "frame ends at byte %zu, before %s at offset %zu", len, name,
                    start);
    if (op->kind == OP_BITS)
        return fail(err, start, NULL,
                    "frame ends at byte %zu, inside %s (b%u at bit %u of byte %zu)", len, name,
                    op->width, bit, start);
    if (in_prefix)
        return fail(err, start, NULL,
                    "frame ends at byte %zu, inside the length prefix of %s (%s at offset %zu)",
                    len, name, layout_type_name(&prefix, type, sizeof(type)), start);
    if (op->kind == OP_BYTES || op->kind == OP_STR)
        return fail(err, start, NULL,
                    "frame ends at byte %zu, inside %s (%s of %llu bytes at offset %zu)", len, name,
                    op->kind == OP_STR ? "str" : "bytes", (unsigned long long)size, start);
    return fail(err, start, NULL, "frame ends at byte %zu, inside %s (%s, %u byte%s at offset %zu)",
                len, name, layout_type_name(op, type, sizeof(type)), op->width,
                op->width == 1 ? "" : "s", start);
}

/* --- values --------------------------------------------------------------------------------- */

static double real_affine(const layout_op *op, double x)
{
    /* See prepare_real in layout_compile.c for why a divisor. */
    if (op->divisor != 0)
        return (x + op->pre) / op->divisor + op->post;
    return x * op->scale + op->offset;
}

static int put_real(const layout_op *op, double d, inlet_value *v, size_t start,
                    inlet_format_error *err)
{
    /* JSON has no NaN or infinity, and a schema could not say what to do with one. */
    if (!isfinite(d))
        return fail(err, start, op, "\"%.64s\": %s has no JSON form%s", op->key,
                    isnan(d) ? "NaN" : "an infinity", op->out == OUT_REAL ? " (after scale)" : "");
    v->type = INLET_V_REAL;
    v->u.r = d;
    return 0;
}

/* An integer field's output; 1 when the raw value is its "absent" one. */
static int put_integer(const layout_op *op, uint64_t u, inlet_value *v, size_t start,
                       inlet_format_error *err)
{
    unsigned bits = op->kind == OP_BITS ? op->width : op->width * 8u;
    int64_t raw, r;

    if (op->kind == OP_SINT && bits < 64) {
        uint64_t sign = (uint64_t)1 << (bits - 1);
        raw = (int64_t)((u ^ sign) - sign);
    } else if (op->kind == OP_SINT || u <= (uint64_t)INT64_MAX) {
        raw = (int64_t)u;
    } else {
        return fail(err, start, op, "\"%.64s\": %llu does not fit a signed 64-bit integer", op->key,
                    (unsigned long long)u);
    }
    if (op->has_absent && raw == op->absent)
        return 1;
    switch (op->out) {
    case OUT_BOOL:
        v->type = raw ? INLET_V_TRUE : INLET_V_FALSE;
        return 0;
    case OUT_ENUM: {
        uint32_t lo = 0, hi = op->n_enums;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (op->enums[mid].raw < raw) {
                lo = mid + 1;
            } else if (op->enums[mid].raw > raw) {
                hi = mid;
            } else {
                v->type = INLET_V_STRING;
                v->n = op->enums[mid].len;
                v->u.s = op->enums[mid].text;
                return 0;
            }
        }
        return fail(err, start, op, "\"%.64s\": %lld is not one of its enum values", op->key,
                    (long long)raw);
    }
    case OUT_INT_AFFINE:
        if (__builtin_mul_overflow(raw, op->iscale, &r) ||
            __builtin_add_overflow(r, op->ioffset, &r))
            return fail(err, start, op,
                        "\"%.64s\": %lld × scale + offset is outside the 64-bit integer range",
                        op->key, (long long)raw);
        v->type = INLET_V_INT;
        v->u.i = r;
        return 0;
    case OUT_REAL:
        return put_real(op, real_affine(op, (double)raw), v, start, err);
    default:
        v->type = INLET_V_INT;
        v->u.i = raw;
        return 0;
    }
}

static int put_float(const layout_op *op, uint64_t u, inlet_value *v, size_t start,
                     inlet_format_error *err)
{
    double d;

    if (op->width == 4) {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, sizeof(f));
        d = f;
    } else {
        memcpy(&d, &u, sizeof(d));
    }
    if (!isfinite(d))
        return fail(err, start, op, "\"%.64s\": %s has no JSON form", op->key,
                    isnan(d) ? "NaN" : "an infinity");
    return put_real(op, real_affine(op, d), v, start, err);
}

static int put_string(const layout_op *op, inlet_arena *a, const unsigned char *s, size_t n,
                      inlet_value *v, size_t start, inlet_format_error *err)
{
    size_t bad;
    char *copy;

    if (n > UINT32_MAX)
        return fail(err, start, op, "\"%.64s\": %zu bytes is longer than a value can be", op->key,
                    n);
    if (op->out == OUT_TEXT && (bad = utf8_check(s, n)) != n)
        return fail(err, start + bad, op,
                    s[bad]
                        ? "\"%.64s\": not valid UTF-8 at byte %zu"
                        : "\"%.64s\": a NUL byte in text at byte %zu (binary data is type bytes)",
                    op->key, start + bad);
    if (!(copy = inlet_arena_alloc(a, n + 1)))
        return fail(err, start, NULL, "out of memory (arena)");
    memcpy(copy, s, n);
    copy[n] = '\0';
    v->type = op->out == OUT_TEXT ? INLET_V_STRING : INLET_V_BYTES;
    v->n = (uint32_t)n;
    v->u.s = copy;
    return 0;
}

/* --- the frame ------------------------------------------------------------------------------ */

int inlet_layout_decode(const inlet_layout *l, inlet_arena *a, const void *data, size_t len,
                        inlet_value **out, inlet_format_error *err)
{
    const unsigned char *p = data;
    const layout_op *last = NULL; /* the field that ends furthest, for the trailing message */
    inlet_format_error spare;
    size_t at = 0, end = 0;
    unsigned bit = 0; /* bits of p[at] that bit fields have consumed */
    frame_out *f;
    char name[80];

    *out = NULL;
    if (!err)
        err = &spare;
    if (!(f = inlet_arena_alloc(a, sizeof(*f) + l->n_out * sizeof(f->members[0]))))
        return fail(err, 0, NULL, "out of memory (arena)");
    memset(&f->obj, 0, sizeof(f->obj));
    f->obj.type = INLET_V_OBJECT;
    f->obj.u.members = f->members;

    for (uint32_t i = 0; i < l->n_ops; i++) {
        const layout_op *op = &l->ops[i];
        inlet_member *m = &f->members[f->obj.n];
        uint64_t u = 0, n = 0;
        size_t start;
        int rc;

        if (op->has_pos) {
            at = op->pos;
            bit = 0;
        } else if (bit && op->kind != OP_BITS) {
            at++; /* a byte-aligned field after bit fields starts at the next byte */
            bit = 0;
        }
        start = at;
        switch (op->kind) {
        case OP_BITS:
            if (at > len || (bit + op->width + 7u) / 8 > len - at)
                return cut(l, op, len, start, bit, 0, 0, err);
            u = load_bits(p + at, bit, op->width);
            at += (bit + op->width) / 8;
            bit = (bit + op->width) % 8;
            break;
        case OP_UINT:
        case OP_SINT:
        case OP_FLOAT:
            if (at > len || op->width > len - at)
                return cut(l, op, len, start, 0, 0, 0, err);
            u = load_uint(p + at, op->width, op->big);
            at += op->width;
            break;
        default: /* OP_BYTES, OP_STR */
            n = op->size;
            if (op->prefixed) {
                if (at > len || op->width > len - at)
                    return cut(l, op, len, start, 0, 1, 0, err);
                n = load_uint(p + at, op->width, op->big);
                at += op->width;
            }
            if (at > len || n > len - at)
                return cut(l, op, len, at, 0, 0, n, err);
            at += n;
            break;
        }
        if (at + (bit != 0) >= end) {
            end = at + (bit != 0);
            last = op;
        }
        if (op->out == OUT_NONE)
            continue;

        memset(m, 0, sizeof(*m));
        m->key = op->key;
        m->key_len = op->key_len;
        if (op->kind == OP_FLOAT)
            rc = put_float(op, u, &m->value, start, err);
        else if (op->kind == OP_BYTES || op->kind == OP_STR)
            rc = put_string(op, a, p + at - n, (size_t)n, &m->value, at - n, err);
        else
            rc = put_integer(op, u, &m->value, start, err);
        if (rc < 0)
            return -1;
        f->obj.n += rc == 0; /* 1: the absent value, no member */
    }
    if (end != len)
        return fail(err, end, NULL,
                    "%zu trailing byte%s after %s, where the layout ends (byte %zu)", len - end,
                    len - end == 1 ? "" : "s", last ? label(l, last, name, sizeof(name)) : "", end);
    *out = &f->obj;
    return 0;
}
