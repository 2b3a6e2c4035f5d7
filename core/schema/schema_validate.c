/*
 * schema_validate.c - an instance checked against a compiled schema tree.
 *
 * The valid path only reads: the JSON pointer of the value being checked is a chain of stack
 * frames (vpath) that is turned into text only when an error is reported, and messages are
 * formatted only then too. Every error is counted; the first max_errs are written.
 *
 * Byte strings (CBOR, binary layouts) have no JSON form of their own: they are valid only where
 * the schema declares contentEncoding "base64url", so parts of an instance that no keyword
 * constrains are still walked for them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "formats/rfc3339.h"
#include "schema_internal.h"

typedef struct vpath {
    const struct vpath *parent;
    const char *key; /* NULL: this step is an array index */
    size_t key_len;
    size_t index;
} vpath;

typedef struct vctx {
    const char *base;
    inlet_schema_error *errs;
    size_t max_errs;
    size_t count;
} vctx;

static void validate_node(vctx *c, const schema_node *n, const inlet_value *v, const vpath *path);

static size_t put_path(const vpath *p, char *buf, size_t len, size_t cap)
{
    char index[24];
    size_t n;

    if (!p)
        return len;
    len = put_path(p->parent, buf, len, cap);
    if (len < cap)
        buf[len++] = '/';
    if (!p->key) {
        n = (size_t)snprintf(index, sizeof(index), "%zu", p->index);
        for (size_t i = 0; i < n && len < cap; i++)
            buf[len++] = index[i];
        return len;
    }
    /* RFC 6901: "~" and "/" inside a key are written "~0" and "~1". */
    for (size_t i = 0; i < p->key_len && len < cap; i++) {
        if (p->key[i] == '~' || p->key[i] == '/') {
            if (len + 2 > cap)
                break;
            buf[len++] = '~';
            buf[len++] = p->key[i] == '~' ? '0' : '1';
        } else {
            buf[len++] = p->key[i];
        }
    }
    return len;
}

/* The message is the rendered value v (if any) followed by fmt. Kept out of line so that the
 * buffers it needs never weigh on the recursion of the valid path. */
__attribute__((noinline, cold, format(printf, 4, 5))) static void
report(vctx *c, const vpath *path, const inlet_value *v, const char *fmt, ...)
{
    inlet_schema_error *e;
    size_t len = 0, cap;
    va_list ap;

    if (c->count++ >= c->max_errs)
        return;
    e = &c->errs[c->count - 1];
    cap = sizeof(e->pointer) - 1;
    if (c->base) {
        len = strlen(c->base);
        if (len > cap)
            len = cap;
        memcpy(e->pointer, c->base, len);
    }
    len = put_path(path, e->pointer, len, cap);
    e->pointer[len] = '\0';

    /* The value is cut shorter than the message so that what is said about it still fits. */
    len = v ? schema_render_value(v, e->message, SCHEMA_VALUE_MAX) : 0;
    va_start(ap, fmt);
    vsnprintf(e->message + len, sizeof(e->message) - len, fmt, ap);
    va_end(ap);
}

#define BYTES_NO_JSON                                                                              \
    "a byte string has no JSON form; the schema may declare contentEncoding \"base64url\""

static const char *type_name(const inlet_value *v)
{
    switch ((inlet_vtype)v->type) {
    case INLET_V_OBJECT:
        return "object";
    case INLET_V_ARRAY:
        return "array";
    case INLET_V_STRING:
    case INLET_V_BYTES: /* only reached where contentEncoding makes it a string */
        return "string";
    case INLET_V_INT:
    case INLET_V_REAL:
        return "number";
    case INLET_V_TRUE:
    case INLET_V_FALSE:
        return "boolean";
    case INLET_V_NULL:
        break;
    }
    return "null";
}

/* v is of a kind n->accept does not let through: 1 if it passes all the same, else 0 with the
 * error reported. Out of line, like the checks below, so that validate_node stays a dispatch. */
__attribute__((noinline)) static int check_kind(vctx *c, const schema_node *n, const inlet_value *v,
                                                const vpath *path)
{
    if (n->flags & SCHEMA_F_FALSE) {
        report(c, path, NULL, "no value is allowed here");
        return 0;
    }
    if (v->type == INLET_V_BYTES && !(n->flags & SCHEMA_F_BASE64URL)) {
        report(c, path, NULL, BYTES_NO_JSON);
        return 0;
    }
    /* JSON Schema's integer is about the value, not the spelling: 1.0 is an integer. */
    if (v->type == INLET_V_REAL && (n->types & SCHEMA_T_INTEGER) && floor(v->u.r) == v->u.r)
        return 1;
    /* A value of the wrong type would only repeat the same mistake through other keywords. */
    report(c, path, NULL, "expected %s, got %s", n->type_text, type_name(v));
    return 0;
}

static int enum_has(const schema_node *n, const inlet_value *v)
{
    const inlet_value *e = n->enum_values;

    /* Enums are mostly lists of strings: their lengths rule out all but the match. */
    if (v->type == INLET_V_STRING) {
        for (size_t i = 0; i < n->n_enum; i++)
            if (e[i].type == INLET_V_STRING && e[i].n == v->n && inlet_value_equal(&e[i], v))
                return 1;
        return 0;
    }
    for (size_t i = 0; i < n->n_enum; i++)
        if (inlet_value_equal(&e[i], v))
            return 1;
    return 0;
}

__attribute__((noinline)) static void check_values(vctx *c, const schema_node *n,
                                                   const inlet_value *v, const vpath *path)
{
    if ((n->flags & SCHEMA_F_CONST) && !inlet_value_equal(n->const_value, v))
        report(c, path, v, " is not %s", n->const_text);
    if ((n->flags & SCHEMA_F_ENUM) && !enum_has(n, v))
        report(c, path, v, " is not one of %s", n->enum_text);
}

/* long double holds every int64 and every double exactly. */
static inline long double number_value(const inlet_value *v)
{
    return v->type == INLET_V_INT ? (long double)v->u.i : (long double)v->u.r;
}

/* Absent bounds are infinite (see schema_node), so this needs no test per keyword. */
static inline int number_in_bounds(const schema_node *n, const inlet_value *v)
{
    long double x = number_value(v);
    return x >= n->minimum.value && x <= n->maximum.value && x > n->excl_minimum.value &&
           x < n->excl_maximum.value;
}

__attribute__((noinline, cold)) static void report_number(vctx *c, const schema_node *n,
                                                          const inlet_value *v, const vpath *path)
{
    long double x = number_value(v);

    if ((n->flags & SCHEMA_F_MINIMUM) && x < n->minimum.value)
        report(c, path, v, " is less than minimum %s", n->minimum.text);
    if ((n->flags & SCHEMA_F_MAXIMUM) && x > n->maximum.value)
        report(c, path, v, " is greater than maximum %s", n->maximum.text);
    if ((n->flags & SCHEMA_F_EXCL_MINIMUM) && x <= n->excl_minimum.value)
        report(c, path, v, " is less than or equal to exclusive minimum %s", n->excl_minimum.text);
    if ((n->flags & SCHEMA_F_EXCL_MAXIMUM) && x >= n->excl_maximum.value)
        report(c, path, v, " is greater than or equal to exclusive maximum %s",
               n->excl_maximum.text);
}

/* Lengths are in Unicode code points (2020-12 validation section 6.3.1), not bytes. */
static size_t utf8_length(const char *s, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i < len; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

/* v is a string, or a byte string where contentEncoding allows one: then it is checked as the
 * base64url text the envelope will carry (compile refuses pattern and format beside it). */
__attribute__((noinline)) static void check_string(vctx *c, const schema_node *n,
                                                   const inlet_value *v, const vpath *path)
{
    const char *s = v->u.s;
    size_t len = v->n, chars;
    inlet_time t;
    int rc;

    if ((n->flags & SCHEMA_F_BASE64URL) && v->type == INLET_V_STRING &&
        !schema_base64url_valid(s, len))
        report(c, path, v, " is not base64url (RFC 4648 section 5, without padding)");
    if (n->flags & (SCHEMA_F_MIN_LENGTH | SCHEMA_F_MAX_LENGTH)) {
        chars = v->type == INLET_V_BYTES ? schema_base64url_length(len) : utf8_length(s, len);
        if ((n->flags & SCHEMA_F_MIN_LENGTH) && chars < n->min_length)
            report(c, path, v, " is shorter than %zu character%s", n->min_length,
                   n->min_length == 1 ? "" : "s");
        if ((n->flags & SCHEMA_F_MAX_LENGTH) && chars > n->max_length)
            report(c, path, v, " is longer than %zu character%s", n->max_length,
                   n->max_length == 1 ? "" : "s");
    }
    if (v->type != INLET_V_STRING)
        return;
    if (n->pattern) {
        rc = schema_regex_search(n->pattern, s, len);
        if (rc == 0)
            report(c, path, v, " does not match pattern %s", n->pattern_text);
        else if (rc < 0)
            report(c, path, v, " could not be matched against pattern %s", n->pattern_text);
    }
    if ((n->flags & SCHEMA_F_DATE_TIME) && inlet_rfc3339_parse(s, len, &t) != 0)
        report(c, path, v, " is not a valid date-time");
}

/* A value no keyword constrains: still, a byte string in it has no place in the envelope. */
static void check_no_bytes(vctx *c, const inlet_value *v, const vpath *path)
{
    vpath child = {path, NULL, 0, 0};

    switch ((inlet_vtype)v->type) {
    case INLET_V_BYTES:
        report(c, path, NULL, BYTES_NO_JSON);
        break;
    case INLET_V_ARRAY:
        for (child.index = 0; child.index < v->n; child.index++)
            check_no_bytes(c, &v->u.items[child.index], &child);
        break;
    case INLET_V_OBJECT:
        for (uint32_t i = 0; i < v->n; i++) {
            child.key = v->u.members[i].key;
            child.key_len = v->u.members[i].key_len;
            check_no_bytes(c, &v->u.members[i].value, &child);
        }
        break;
    default:
        break;
    }
}

/* memcmp(a, b, len) == 0 for the short keys of payloads without a library call: two loads that
 * may overlap cover any length from 1 to 16, and never read outside [0, len). */
static inline int key_equal(const char *a, const char *b, size_t len)
{
    uint64_t x8, y8, u8, w8;
    uint32_t x4, y4, u4, w4;
    uint16_t x2, y2, u2, w2;

    if (len >= 8 && len <= 16) {
        memcpy(&x8, a, 8);
        memcpy(&y8, b, 8);
        memcpy(&u8, a + len - 8, 8);
        memcpy(&w8, b + len - 8, 8);
        return ((x8 ^ y8) | (u8 ^ w8)) == 0;
    }
    if (len >= 4 && len < 8) {
        memcpy(&x4, a, 4);
        memcpy(&y4, b, 4);
        memcpy(&u4, a + len - 4, 4);
        memcpy(&w4, b + len - 4, 4);
        return ((x4 ^ y4) | (u4 ^ w4)) == 0;
    }
    if (len >= 2 && len < 4) {
        memcpy(&x2, a, 2);
        memcpy(&y2, b, 2);
        memcpy(&u2, a + len - 2, 2);
        memcpy(&w2, b + len - 2, 2);
        return ((x2 ^ y2) | (u2 ^ w2)) == 0;
    }
    if (len == 1)
        return a[0] == b[0];
    return len == 0 || memcmp(a, b, len) == 0;
}

/* Payload schemas have a handful of properties, and payloads mostly list their members in the
 * schema's order: the property after the previous match is tried first, then all of them. */
static const schema_property *find_property(const schema_node *n, const char *key, size_t len,
                                            size_t *hint)
{
    const schema_property *p = &n->props[*hint];

    if (*hint < n->n_props && p->name_len == len && key_equal(p->name, key, len)) {
        ++*hint;
        return p;
    }
    for (size_t i = 0; i < n->n_props; i++) {
        p = &n->props[i];
        if (p->name_len == len && key_equal(p->name, key, len)) {
            *hint = i + 1;
            return p;
        }
    }
    return NULL;
}

__attribute__((noinline)) static void check_object(vctx *c, const schema_node *n,
                                                   const inlet_value *v, const vpath *path)
{
    const schema_property *p;
    const inlet_value *value;
    vpath child = {path, NULL, 0, 0};
    uint64_t seen = 0;
    size_t hint = 0;

    for (uint32_t i = 0; i < v->n; i++) {
        child.key = v->u.members[i].key;
        child.key_len = v->u.members[i].key_len;
        value = &v->u.members[i].value;
        p = n->n_props ? find_property(n, child.key, child.key_len, &hint) : NULL;
        if (p) {
            seen |= p->required_bit;
            validate_node(c, p->schema, value, &child);
        } else if (n->flags & SCHEMA_F_NO_ADDITIONAL) {
            report(c, &child, NULL, "additional property not allowed");
        } else if (n->additional) {
            validate_node(c, n->additional, value, &child);
        } else {
            check_no_bytes(c, value, &child);
        }
    }
    /* Member keys are unique, so seeing every bit proves every such name present. */
    if ((seen & n->required_fast) == n->required_fast && !n->required_slow)
        return;
    for (size_t i = 0; i < n->n_required; i++) {
        const schema_property *r = &n->required[i];
        if (r->required_bit ? !(seen & r->required_bit)
                            : !inlet_value_getn(v, r->name, r->name_len))
            report(c, path, NULL, "missing required property \"%s\"", r->name);
    }
}

__attribute__((noinline)) static void check_array(vctx *c, const schema_node *n,
                                                  const inlet_value *v, const vpath *path)
{
    size_t size = v->n;
    vpath child = {path, NULL, 0, 0};

    if ((n->flags & SCHEMA_F_MIN_ITEMS) && size < n->min_items)
        report(c, path, NULL, "expected at least %zu item%s, got %zu", n->min_items,
               n->min_items == 1 ? "" : "s", size);
    if ((n->flags & SCHEMA_F_MAX_ITEMS) && size > n->max_items)
        report(c, path, NULL, "expected at most %zu item%s, got %zu", n->max_items,
               n->max_items == 1 ? "" : "s", size);
    for (child.index = 0; child.index < size; child.index++) {
        if (n->items)
            validate_node(c, n->items, &v->u.items[child.index], &child);
        else
            check_no_bytes(c, &v->u.items[child.index], &child);
    }
}

/* What the value's type asks for; every call here is a tail call. */
static inline void check_by_type(vctx *c, const schema_node *n, const inlet_value *v,
                                 const vpath *path)
{
    switch ((inlet_vtype)v->type) {
    case INLET_V_INT:
    case INLET_V_REAL:
        if (!number_in_bounds(n, v))
            report_number(c, n, v, path);
        break;
    case INLET_V_STRING:
    case INLET_V_BYTES:
        if (n->flags & SCHEMA_F_TEXTUAL)
            check_string(c, n, v, path);
        break;
    case INLET_V_OBJECT:
        check_object(c, n, v, path);
        break;
    case INLET_V_ARRAY:
        check_array(c, n, v, path);
        break;
    default:
        break;
    }
}

/* The path for values that need more than check_by_type: a kind n->accept does not let
 * through, const, enum. */
__attribute__((noinline)) static void validate_full(vctx *c, const schema_node *n,
                                                    const inlet_value *v, const vpath *path)
{
    if (!(n->accept >> v->type & 1) && !check_kind(c, n, v, path))
        return;
    if (n->flags & (SCHEMA_F_CONST | SCHEMA_F_ENUM))
        check_values(c, n, v, path);
    check_by_type(c, n, v, path);
}

/* Runs for every value of the instance, so it only decides where to go: it makes no call it
 * must come back from, and saves no registers. */
static void validate_node(vctx *c, const schema_node *n, const inlet_value *v, const vpath *path)
{
    if (!(n->accept >> v->type & 1) || (n->flags & (SCHEMA_F_CONST | SCHEMA_F_ENUM)))
        validate_full(c, n, v, path);
    else
        check_by_type(c, n, v, path);
}

size_t inlet_schema_validate(const inlet_schema *s, const inlet_value *instance,
                             const char *base_pointer, inlet_schema_error *errs, size_t max_errs)
{
    vctx c = {base_pointer, errs, errs ? max_errs : 0, 0};

    if (!instance) {
        report(&c, NULL, NULL, "no value");
        return c.count;
    }
    validate_node(&c, s->root, instance, NULL);
    return c.count;
}
