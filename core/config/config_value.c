/*
 * config_value.c - one option's field: parsed from a YAML node by the option's type (every type
 * but the two section types, which config_apply.c walks), reset to zero, and released.
 *
 * Setting a field frees what it held, so an object must start zeroed (or hold an earlier apply's
 * values). Values of SECRET options never appear in messages.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

int inlet_conf_fail(inlet_conf_ctx *c, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    char local[1024];
    char *err = c->err && c->err_len ? c->err : local;
    size_t err_len = c->err && c->err_len ? c->err_len : sizeof(local);

    if (!c->err && !c->errs)
        return -1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->in_default)
        snprintf(err, err_len, "%s: invalid default: %s", c->path, msg);
    else if (c->path[0])
        snprintf(err, err_len, "%s:%d: %s: %s", c->f ? c->f->path : "?", line, c->path, msg);
    else
        snprintf(err, err_len, "%s:%d: %s", c->f ? c->f->path : "?", line, msg);
    c->n_errors++;
    if (c->errs)
        inlet_conf_errors_add(c->errs, "%s", err);
    return -1;
}

/* ", got \"text\"" for a bad scalar, nothing for a secret, so its value never reaches a log. */
static const char *got_text(const inlet_option *opt, const yaml_node_t *n, char *buf, size_t len)
{
    char quoted[64];
    if (opt->flags & INLET_OPT_SECRET) {
        buf[0] = '\0';
        return buf;
    }
    inlet_conf_quote(quoted, sizeof quoted, conf_text(n), n->data.scalar.length);
    snprintf(buf, len, ", got %s", quoted);
    return buf;
}

/* The node as a non-null scalar without NULs, or an error saying what was expected instead. */
static const char *need_scalar(inlet_conf_ctx *c, const yaml_node_t *n, const char *expected)
{
    if (n->type != YAML_SCALAR_NODE || conf_is_null(n)) {
        inlet_conf_fail(c, conf_line(n), "expected %s, got %s", expected, inlet_conf_shape(n));
        return NULL;
    }
    if (conf_has_nul(n)) {
        inlet_conf_fail(c, conf_line(n), "expected %s, got text with a NUL character", expected);
        return NULL;
    }
    return conf_text(n);
}

static void free_strings(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

static int bounded(const inlet_option *opt)
{
    return opt->min != 0 || opt->max != 0;
}

static int set_int(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    const char *s = need_scalar(c, n, "an integer");
    char got[96];
    int64_t v;
    if (!s)
        return -1;
    if (inlet_conf_parse_int(s, &v) != 0)
        return inlet_conf_fail(c, conf_line(n), "expected an integer%s",
                               got_text(opt, n, got, sizeof got));
    if (bounded(opt) && v < opt->min)
        return opt->flags & INLET_OPT_SECRET
                   ? inlet_conf_fail(c, conf_line(n), "value is below the minimum %" PRId64,
                                     opt->min)
                   : inlet_conf_fail(c, conf_line(n), "%" PRId64 " is below the minimum %" PRId64,
                                     v, opt->min);
    if (bounded(opt) && v > opt->max)
        return opt->flags & INLET_OPT_SECRET
                   ? inlet_conf_fail(c, conf_line(n), "value is above the maximum %" PRId64,
                                     opt->max)
                   : inlet_conf_fail(c, conf_line(n), "%" PRId64 " is above the maximum %" PRId64,
                                     v, opt->max);
    *(int64_t *)conf_field(opt, obj) = v;
    return 0;
}

/* Bound messages for SIZE and DURATION repeat the value as written and the bound in units. */
static int out_of_bounds(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n,
                         bool below, const char *bound)
{
    char quoted[64];
    const char *what = below ? "below the minimum" : "above the maximum";
    if (opt->flags & INLET_OPT_SECRET)
        return inlet_conf_fail(c, conf_line(n), "value is %s %s", what, bound);
    inlet_conf_quote(quoted, sizeof quoted, conf_text(n), n->data.scalar.length);
    /* The text parsed as a size or duration, so it reads well without the quotes. */
    quoted[strlen(quoted) - 1] = '\0';
    return inlet_conf_fail(c, conf_line(n), "%s is %s %s", quoted + 1, what, bound);
}

static int set_size(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    static const char expected[] = "a size such as 512, 64k, 16m or 1g";
    const char *s = need_scalar(c, n, expected);
    char got[96], bound[32];
    uint64_t v;
    if (!s)
        return -1;
    if (inlet_conf_parse_size(s, &v) != 0)
        return inlet_conf_fail(c, conf_line(n), "expected %s%s", expected,
                               got_text(opt, n, got, sizeof got));
    if (bounded(opt) && opt->min > 0 && v < (uint64_t)opt->min) {
        inlet_conf_format_size(bound, sizeof bound, (uint64_t)opt->min);
        return out_of_bounds(c, opt, n, true, bound);
    }
    if (bounded(opt) && (opt->max < 0 || v > (uint64_t)opt->max)) {
        inlet_conf_format_size(bound, sizeof bound, opt->max < 0 ? 0 : (uint64_t)opt->max);
        return out_of_bounds(c, opt, n, false, bound);
    }
    *(uint64_t *)conf_field(opt, obj) = v;
    return 0;
}

static int set_duration(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    static const char expected[] = "a duration such as 250ms, 5s, 2m or 1h";
    const char *s = need_scalar(c, n, expected);
    char got[96], bound[32];
    int64_t v;
    if (!s)
        return -1;
    if (inlet_conf_parse_duration_ms(s, &v) != 0)
        return inlet_conf_fail(c, conf_line(n), "expected %s%s", expected,
                               got_text(opt, n, got, sizeof got));
    if (bounded(opt) && v < opt->min) {
        inlet_conf_format_duration(bound, sizeof bound, opt->min);
        return out_of_bounds(c, opt, n, true, bound);
    }
    if (bounded(opt) && v > opt->max) {
        inlet_conf_format_duration(bound, sizeof bound, opt->max);
        return out_of_bounds(c, opt, n, false, bound);
    }
    *(int64_t *)conf_field(opt, obj) = v;
    return 0;
}

static int set_bool(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    const char *s = need_scalar(c, n, "true or false");
    char got[96];
    bool v;
    if (!s)
        return -1;
    if (inlet_conf_parse_bool(s, &v) != 0)
        return inlet_conf_fail(c, conf_line(n), "expected true or false%s",
                               got_text(opt, n, got, sizeof got));
    *(bool *)conf_field(opt, obj) = v;
    return 0;
}

static int set_enum(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    char expected[512], got[96];
    size_t used, count = 0;
    const char *s;

    if (!opt->enum_values || !opt->enum_values[0])
        return inlet_conf_fail(c, conf_line(n), "the option table lists no allowed values");
    for (const char *const *w = opt->enum_values; *w; w++)
        count++;
    /* "one of a, b or c" */
    used = (size_t)snprintf(expected, sizeof expected, "%s", count == 1 ? "" : "one of ");
    for (size_t i = 0; i < count && used < sizeof expected; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int k = snprintf(expected + used, sizeof expected - used, "%s%s", sep, opt->enum_values[i]);
        used += k > 0 ? (size_t)k : 0;
    }
    if (!(s = need_scalar(c, n, expected)))
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(s, opt->enum_values[i]) == 0) {
            *(int *)conf_field(opt, obj) = (int)i;
            return 0;
        }
    }
    return inlet_conf_fail(c, conf_line(n), "expected %s%s", expected,
                           got_text(opt, n, got, sizeof got));
}

/* A fresh copy of a scalar for a STRING or PATH; relative paths get the file's directory. */
static char *string_value(const inlet_conf_ctx *c, const inlet_option *opt, const char *s)
{
    size_t dlen, slen;
    char *out;
    if (opt->type != INLET_OPT_PATH || !c->dir || !c->dir[0] || s[0] == '/' || s[0] == '\0')
        return strdup(s);
    dlen = strlen(c->dir);
    slen = strlen(s);
    if (!(out = malloc(dlen + 1 + slen + 1)))
        return NULL;
    memcpy(out, c->dir, dlen);
    if (c->dir[dlen - 1] != '/')
        out[dlen++] = '/';
    memcpy(out + dlen, s, slen + 1);
    return out;
}

static int set_string(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    char **field = conf_field(opt, obj);
    const char *expected = opt->type == INLET_OPT_PATH ? "a path" : "a string";
    const char *s;
    char *v = NULL;

    /* Null unsets a string, also one that has a default. */
    if (!conf_is_null(n)) {
        if (!(s = need_scalar(c, n, expected)))
            return -1;
        if (!(v = string_value(c, opt, s)))
            return inlet_conf_fail(c, conf_line(n), "out of memory");
    }
    free(*field);
    *field = v;
    return 0;
}

static int set_string_list(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n,
                           void *obj)
{
    inlet_str_list *field = conf_field(opt, obj), list = {NULL, 0};
    size_t plen = strlen(c->path), count;

    if (n->type == YAML_MAPPING_NODE || conf_is_null(n))
        return inlet_conf_fail(c, conf_line(n),
                               "expected a string or a sequence of strings, got %s",
                               inlet_conf_shape(n));
    count = n->type == YAML_SEQUENCE_NODE ? conf_seq_count(n) : 1;
    if (count && !(list.items = calloc(count, sizeof *list.items)))
        return inlet_conf_fail(c, conf_line(n), "out of memory");
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = n->type == YAML_SEQUENCE_NODE
                                      ? conf_doc_node(c->f, n->data.sequence.items.start[i])
                                      : n;
        const char *s;
        if (n->type == YAML_SEQUENCE_NODE)
            inlet_conf_path_index(c->path, plen, i);
        if (!item || !(s = need_scalar(c, item, "a string")))
            goto fail;
        conf_mark(c, &list.items[list.count], INLET_CONF_MARK_KEY, conf_line(item));
        if (!(list.items[list.count++] = strdup(s))) {
            inlet_conf_fail(c, conf_line(item), "out of memory");
            goto fail;
        }
        c->path[plen] = '\0';
    }
    inlet_conf_release_field(opt, obj);
    *field = list;
    return 0;

fail:
    free_strings(list.items, list.count);
    return -1;
}

static int set_string_map(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n,
                          void *obj)
{
    inlet_str_map *field = conf_field(opt, obj), map = {NULL, NULL, 0};
    size_t plen = strlen(c->path), count;

    if (n->type != YAML_MAPPING_NODE)
        return inlet_conf_fail(c, conf_line(n), "expected a mapping of strings, got %s",
                               inlet_conf_shape(n));
    count = conf_map_count(n);
    if (count && (!(map.keys = calloc(count, sizeof *map.keys)) ||
                  !(map.values = calloc(count, sizeof *map.values)))) {
        inlet_conf_fail(c, conf_line(n), "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *k = conf_doc_node(c->f, n->data.mapping.pairs.start[i].key);
        const yaml_node_t *v = conf_doc_node(c->f, n->data.mapping.pairs.start[i].value);
        const char *ks, *vs;
        if (!k || !v)
            continue;
        if (!(ks = need_scalar(c, k, "a string as key")))
            goto fail;
        inlet_conf_path_key(c->path, plen, ks, k->data.scalar.length);
        if (!(vs = need_scalar(c, v, "a string")))
            goto fail;
        map.keys[map.count] = strdup(ks);
        map.values[map.count] = strdup(vs);
        map.count++;
        if (!map.keys[map.count - 1] || !map.values[map.count - 1]) {
            inlet_conf_fail(c, conf_line(v), "out of memory");
            goto fail;
        }
        c->path[plen] = '\0';
    }
    inlet_conf_release_field(opt, obj);
    *field = map;
    return 0;

fail:
    free_strings(map.keys, map.count);
    free_strings(map.values, map.count);
    return -1;
}

int inlet_conf_set_leaf(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    switch (opt->type) {
    case INLET_OPT_BOOL:
        return set_bool(c, opt, n, obj);
    case INLET_OPT_INT:
        return set_int(c, opt, n, obj);
    case INLET_OPT_SIZE:
        return set_size(c, opt, n, obj);
    case INLET_OPT_DURATION:
        return set_duration(c, opt, n, obj);
    case INLET_OPT_STRING:
    case INLET_OPT_PATH:
        return set_string(c, opt, n, obj);
    case INLET_OPT_ENUM:
        return set_enum(c, opt, n, obj);
    case INLET_OPT_STRING_LIST:
        return set_string_list(c, opt, n, obj);
    case INLET_OPT_STRING_MAP:
        return set_string_map(c, opt, n, obj);
    default:
        return inlet_conf_fail(c, conf_line(n), "the option table gives an unknown type %d",
                               (int)opt->type);
    }
}

/* Zero one field, freeing what it owned. */
void inlet_conf_reset_field(const inlet_option *opt, void *obj)
{
    void *field = conf_field(opt, obj);
    inlet_conf_release_field(opt, obj);
    switch (opt->type) {
    case INLET_OPT_BOOL:
        *(bool *)field = false;
        break;
    case INLET_OPT_INT:
    case INLET_OPT_DURATION:
        *(int64_t *)field = 0;
        break;
    case INLET_OPT_SIZE:
        *(uint64_t *)field = 0;
        break;
    case INLET_OPT_ENUM:
        *(int *)field = 0;
        break;
    default:
        break;
    }
}

void inlet_conf_release_field(const inlet_option *opt, void *obj)
{
    void *field = conf_field(opt, obj);
    switch (opt->type) {
    case INLET_OPT_STRING:
    case INLET_OPT_PATH:
        free(*(char **)field);
        *(char **)field = NULL;
        break;
    case INLET_OPT_STRING_LIST: {
        inlet_str_list *l = field;
        free_strings(l->items, l->count);
        *l = (inlet_str_list){NULL, 0};
        break;
    }
    case INLET_OPT_STRING_MAP: {
        inlet_str_map *m = field;
        free_strings(m->keys, m->count);
        free_strings(m->values, m->count);
        *m = (inlet_str_map){NULL, NULL, 0};
        break;
    }
    case INLET_OPT_SECTION:
        inlet_conf_release(opt->section, field);
        break;
    case INLET_OPT_SECTION_LIST: {
        inlet_section_list *l = field;
        for (size_t i = 0; opt->section && i < l->count; i++)
            inlet_conf_release(opt->section, (char *)l->items + i * opt->section_size);
        free(l->items);
        *l = (inlet_section_list){NULL, 0};
        break;
    }
    default:
        break;
    }
}

void inlet_conf_release(const inlet_option *table, void *obj)
{
    if (!table || !obj)
        return;
    for (const inlet_option *o = table; o->name; o++)
        inlet_conf_release_field(o, obj);
}
