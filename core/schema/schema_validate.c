/*
 * schema_validate.c - an instance checked against a compiled schema tree.
 *
 * The valid path only reads: the JSON pointer of the value being checked is a chain of stack
 * frames (vpath) that is turned into text only when an error is reported, and messages are
 * formatted only then too. Every error is counted; the first max_errs are written.
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

static void validate_node(vctx *c, const schema_node *n, const json_t *v, const vpath *path);

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
report(vctx *c, const vpath *path, const json_t *v, const char *fmt, ...)
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

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        break;
    }
    return "null";
}

static int type_matches(unsigned types, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return (types & SCHEMA_T_OBJECT) != 0;
    case JSON_ARRAY:
        return (types & SCHEMA_T_ARRAY) != 0;
    case JSON_STRING:
        return (types & SCHEMA_T_STRING) != 0;
    case JSON_INTEGER:
        return (types & (SCHEMA_T_NUMBER | SCHEMA_T_INTEGER)) != 0;
    case JSON_REAL: {
        double d = json_real_value(v);
        /* JSON Schema's integer is about the value, not the spelling: 1.0 is an integer. */
        return (types & SCHEMA_T_NUMBER) || ((types & SCHEMA_T_INTEGER) && floor(d) == d);
    }
    case JSON_TRUE:
    case JSON_FALSE:
        return (types & SCHEMA_T_BOOLEAN) != 0;
    case JSON_NULL:
        break;
    }
    return (types & SCHEMA_T_NULL) != 0;
}

static long double number_value(const json_t *v)
{
    return json_is_integer(v) ? (long double)json_integer_value(v)
                              : (long double)json_real_value(v);
}

/* JSON equality as JSON Schema defines it (2020-12 core section 4.2.2): numbers by value. */
static int json_equal_values(const json_t *a, const json_t *b)
{
    const char *key;
    size_t key_len, i;
    json_t *item, *other;

    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return number_value(a) == number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        json_array_foreach(a, i, item) if (!json_equal_values(item, json_array_get(b, i))) return 0;
        return 1;
    case JSON_OBJECT:
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_keylen_foreach((json_t *)a, key, key_len, item)
        {
            other = json_object_getn(b, key, key_len);
            if (!other || !json_equal_values(item, other))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

static void check_number(vctx *c, const schema_node *n, const json_t *v, const vpath *path)
{
    long double x;

    if (!(n->flags &
          (SCHEMA_F_MINIMUM | SCHEMA_F_MAXIMUM | SCHEMA_F_EXCL_MINIMUM | SCHEMA_F_EXCL_MAXIMUM)))
        return;
    x = number_value(v);
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

static void check_string(vctx *c, const schema_node *n, const json_t *v, const vpath *path)
{
    const char *s = json_string_value(v);
    size_t len = json_string_length(v), chars;
    inlet_time t;
    int rc;

    if (n->flags & (SCHEMA_F_MIN_LENGTH | SCHEMA_F_MAX_LENGTH)) {
        chars = utf8_length(s, len);
        if ((n->flags & SCHEMA_F_MIN_LENGTH) && chars < n->min_length)
            report(c, path, v, " is shorter than %zu character%s", n->min_length,
                   n->min_length == 1 ? "" : "s");
        if ((n->flags & SCHEMA_F_MAX_LENGTH) && chars > n->max_length)
            report(c, path, v, " is longer than %zu character%s", n->max_length,
                   n->max_length == 1 ? "" : "s");
    }
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

static const schema_property *find_property(const schema_node *n, const char *key, size_t len)
{
    /* Payload schemas have a handful of properties; a scan beats hashing at that size. */
    for (size_t i = 0; i < n->n_props; i++)
        if (n->props[i].name_len == len && memcmp(n->props[i].name, key, len) == 0)
            return &n->props[i];
    return NULL;
}

static void check_object(vctx *c, const schema_node *n, const json_t *v, const vpath *path)
{
    const schema_property *p;
    vpath child = {path, NULL, 0, 0};
    void *it;

    if (n->n_props || n->additional || (n->flags & SCHEMA_F_NO_ADDITIONAL)) {
        /* jansson iterates without modifying; its API just lacks a const variant. */
        for (it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            child.key = json_object_iter_key(it);
            child.key_len = json_object_iter_key_len(it);
            p = find_property(n, child.key, child.key_len);
            if (p)
                validate_node(c, p->schema, json_object_iter_value(it), &child);
            else if (n->flags & SCHEMA_F_NO_ADDITIONAL)
                report(c, &child, NULL, "additional property not allowed");
            else if (n->additional)
                validate_node(c, n->additional, json_object_iter_value(it), &child);
        }
    }
    for (size_t i = 0; i < n->n_required; i++)
        if (!json_object_getn(v, n->required[i].name, n->required[i].name_len))
            report(c, path, NULL, "missing required property \"%s\"", n->required[i].name);
}

static void check_array(vctx *c, const schema_node *n, const json_t *v, const vpath *path)
{
    size_t size = json_array_size(v);
    vpath child = {path, NULL, 0, 0};

    if ((n->flags & SCHEMA_F_MIN_ITEMS) && size < n->min_items)
        report(c, path, NULL, "expected at least %zu item%s, got %zu", n->min_items,
               n->min_items == 1 ? "" : "s", size);
    if ((n->flags & SCHEMA_F_MAX_ITEMS) && size > n->max_items)
        report(c, path, NULL, "expected at most %zu item%s, got %zu", n->max_items,
               n->max_items == 1 ? "" : "s", size);
    if (!n->items)
        return;
    for (child.index = 0; child.index < size; child.index++)
        validate_node(c, n->items, json_array_get(v, child.index), &child);
}

static void validate_node(vctx *c, const schema_node *n, const json_t *v, const vpath *path)
{
    size_t i;

    if (n->flags & SCHEMA_F_FALSE) {
        report(c, path, NULL, "no value is allowed here");
        return;
    }
    /* A value of the wrong type would only repeat the same mistake through other keywords. */
    if (n->types && !type_matches(n->types, v)) {
        report(c, path, NULL, "expected %s, got %s", n->type_text, json_type_name(v));
        return;
    }
    if (n->const_value && !json_equal_values(n->const_value, v))
        report(c, path, v, " is not %s", n->const_text);
    if (n->enum_values) {
        for (i = 0; i < json_array_size(n->enum_values); i++)
            if (json_equal_values(json_array_get(n->enum_values, i), v))
                break;
        if (i == json_array_size(n->enum_values))
            report(c, path, v, " is not one of %s", n->enum_text);
    }
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        check_number(c, n, v, path);
        break;
    case JSON_STRING:
        check_string(c, n, v, path);
        break;
    case JSON_OBJECT:
        check_object(c, n, v, path);
        break;
    case JSON_ARRAY:
        check_array(c, n, v, path);
        break;
    default:
        break;
    }
}

size_t inlet_schema_validate(const inlet_schema *s, const json_t *instance,
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
