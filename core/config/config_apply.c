/*
 * config_apply.c - option tables applied to parsed YAML: defaults first, then every key of a
 * mapping set through its option (config_value.c), unknown keys refused with a suggestion,
 * required keys checked; nested sections and section lists recurse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

#define SUGGEST_MAX_LEN 64

static int apply_map(inlet_conf_ctx *c, const inlet_option *table, void *obj,
                     const yaml_node_t *map, int line, const char *const *skip);
static int fill_defaults(inlet_conf_ctx *c, const inlet_option *table, void *obj, size_t plen);

static int set_section_list(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n,
                            void *obj)
{
    inlet_section_list *field = conf_field(opt, obj), list = {NULL, 0};
    size_t plen = strlen(c->path), count;
    bool failed = false;
    int rc = -1;

    if (n->type != YAML_SEQUENCE_NODE)
        return inlet_conf_fail(c, conf_line(n), "expected a sequence of mappings, got %s",
                               inlet_conf_shape(n));
    if (!opt->section || opt->section_size == 0)
        return inlet_conf_fail(c, conf_line(n), "the option table has no section for this list");
    count = conf_seq_count(n);
    if (count && !(list.items = calloc(count, opt->section_size)))
        return inlet_conf_fail(c, conf_line(n), "out of memory");
    list.count = count;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = conf_doc_node(c->f, n->data.sequence.items.start[i]);
        void *slot = (char *)list.items + i * opt->section_size;
        size_t len = inlet_conf_path_index(c->path, plen, i);
        if (!item)
            continue;
        conf_mark(c, slot, INLET_CONF_MARK_ITEM, conf_line(item));
        if (item->type != YAML_MAPPING_NODE) {
            inlet_conf_fail(c, conf_line(item), "expected a mapping, got %s",
                            inlet_conf_shape(item));
            failed = true;
        } else if (fill_defaults(c, opt->section, slot, len) != 0 ||
                   apply_map(c, opt->section, slot, item, conf_line(item), NULL) != 0) {
            failed = true;
        }
        c->path[plen] = '\0';
        /* apply_all goes on with the next item; a plain apply stops at the first error */
        if (failed && !c->errs)
            goto done;
    }
    if (failed)
        goto done;
    inlet_conf_release_field(opt, obj);
    *field = list;
    list.items = NULL;
    list.count = 0;
    rc = 0;

done:
    /* Items not reached are still zeroed, which release accepts. */
    for (size_t i = 0; i < list.count; i++)
        inlet_conf_release(opt->section, (char *)list.items + i * opt->section_size);
    free(list.items);
    return rc;
}

static int set_value(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n, void *obj)
{
    switch (opt->type) {
    case INLET_OPT_SECTION:
        if (!opt->section)
            return inlet_conf_fail(c, conf_line(n), "the option table has no section for this key");
        if (n->type != YAML_MAPPING_NODE)
            return inlet_conf_fail(c, conf_line(n), "expected a mapping, got %s",
                                   inlet_conf_shape(n));
        return apply_map(c, opt->section, conf_field(opt, obj), n, conf_line(n), NULL);
    case INLET_OPT_SECTION_LIST:
        return set_section_list(c, opt, n, obj);
    default:
        return inlet_conf_set_leaf(c, opt, n, obj);
    }
}

size_t inlet_conf_edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[SUGGEST_MAX_LEN + 1];
    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *suggest(const inlet_option *table, const char *key, size_t key_len)
{
    const char *best = NULL;
    size_t best_d = 3;
    if (key_len > SUGGEST_MAX_LEN)
        return NULL;
    for (const inlet_option *o = table; o->name; o++) {
        size_t len = strlen(o->name);
        if (len > SUGGEST_MAX_LEN)
            continue;
        size_t d = inlet_conf_edit_distance(key, key_len, o->name, len);
        /* Two edits turn any two-letter word into any other: not a useful suggestion. */
        if (d < best_d && d < key_len && d < len) {
            best = o->name;
            best_d = d;
        }
    }
    return best;
}

static bool in_list(const char *const *list, const char *key, size_t key_len)
{
    for (; list && *list; list++)
        if (strlen(*list) == key_len && memcmp(*list, key, key_len) == 0)
            return true;
    return false;
}

static const inlet_option *find_option(const inlet_option *table, const char *key, size_t key_len)
{
    for (const inlet_option *o = table; o->name; o++)
        if (strlen(o->name) == key_len && memcmp(o->name, key, key_len) == 0)
            return o;
    return NULL;
}

/* map may be NULL (nothing given); line is where required keys are reported missing. A section
 * absent from the file keeps its defaults and its required keys are not asked for: they are
 * required only when the section is given. */
static int apply_map(inlet_conf_ctx *c, const inlet_option *table, void *obj,
                     const yaml_node_t *map, int line, const char *const *skip)
{
    size_t plen = strlen(c->path), n_opts = 0, pairs = map ? conf_map_count(map) : 0;
    unsigned char *seen;
    bool failed = false;
    int rc = -1;

    for (const inlet_option *o = table; o->name; o++)
        n_opts++;
    if (!(seen = calloc(n_opts + 1, 1)))
        return inlet_conf_fail(c, line, "out of memory");
    for (size_t i = 0; i < pairs; i++) {
        const yaml_node_t *k = conf_doc_node(c->f, map->data.mapping.pairs.start[i].key);
        const yaml_node_t *v = conf_doc_node(c->f, map->data.mapping.pairs.start[i].value);
        const inlet_option *opt;
        const char *key;
        size_t key_len;
        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE || conf_is_null(k)) {
            inlet_conf_fail(c, conf_line(k), "expected a key name, got %s", inlet_conf_shape(k));
            goto next;
        }
        key = conf_text(k);
        key_len = k->data.scalar.length;
        if (in_list(skip, key, key_len))
            continue;
        inlet_conf_path_key(c->path, plen, key, key_len);
        if (!(opt = find_option(table, key, key_len))) {
            const char *hint = suggest(table, key, key_len);
            if (hint)
                inlet_conf_fail(c, conf_line(k), "unknown option (did you mean \"%s\"?)", hint);
            else
                inlet_conf_fail(c, conf_line(k), "unknown option");
            goto next;
        }
        seen[opt - table] = 1;
        conf_mark(c, conf_field(opt, obj),
                  opt->type == INLET_OPT_SECTION ? INLET_CONF_MARK_ITEM : INLET_CONF_MARK_KEY,
                  conf_line(k));
        /* Null would unset a string: for a required one that is as good as missing. */
        if (opt->flags & INLET_OPT_REQUIRED && conf_is_null(v) &&
            (opt->type == INLET_OPT_STRING || opt->type == INLET_OPT_PATH)) {
            inlet_conf_fail(c, conf_line(v), "required option has an empty value");
            goto next;
        }
        if (set_value(c, opt, v, obj) == 0) {
            c->path[plen] = '\0';
            continue;
        }
    next:
        c->path[plen] = '\0';
        failed = true;
        if (!c->errs)
            goto done;
    }
    for (size_t i = 0; i < n_opts; i++) {
        if (!seen[i] && table[i].flags & INLET_OPT_REQUIRED) {
            inlet_conf_path_key(c->path, plen, table[i].name, strlen(table[i].name));
            inlet_conf_fail(c, line, "required option missing");
            c->path[plen] = '\0';
            failed = true;
            if (!c->errs)
                goto done;
        }
    }
    if (failed)
        goto done;
    rc = 0;

done:
    free(seen);
    return rc;
}

/* Containers' defaults are YAML text ("[a, b]", "{k: v}"), parsed and applied like a file's. */
static int container_default(inlet_conf_ctx *c, const inlet_option *opt, void *obj)
{
    const inlet_conf_file *outer = c->f;
    inlet_conf_file *scratch = NULL;
    const yaml_node_t *root;
    char perr[256];
    int rc;

    if (inlet_conf_load_string("default", opt->default_value, strlen(opt->default_value), &scratch,
                               perr, sizeof perr) != 0)
        return inlet_conf_fail(c, 0, "%s", perr);
    if (!(root = conf_doc_node(scratch, 1))) {
        inlet_conf_file_free(scratch);
        return inlet_conf_fail(c, 0, "empty");
    }
    c->f = scratch;
    if (opt->type == INLET_OPT_SECTION)
        rc = conf_is_null(root) ? 0 : set_value(c, opt, root, obj);
    else
        rc = set_value(c, opt, root, obj);
    c->f = outer;
    inlet_conf_file_free(scratch);
    return rc;
}

static int fill_defaults(inlet_conf_ctx *c, const inlet_option *table, void *obj, size_t plen)
{
    bool was = c->in_default;
    int rc = 0;

    c->in_default = true;
    for (const inlet_option *o = table; o->name && rc == 0; o++) {
        inlet_conf_path_key(c->path, plen, o->name, strlen(o->name));
        inlet_conf_reset_field(o, obj);
        if (o->type == INLET_OPT_SECTION && o->section) {
            size_t len = strlen(c->path);
            rc = fill_defaults(c, o->section, conf_field(o, obj), len);
            c->path[len] = '\0';
        }
        if (rc != 0 || !o->default_value)
            continue;
        switch (o->type) {
        case INLET_OPT_STRING_LIST:
        case INLET_OPT_STRING_MAP:
        case INLET_OPT_SECTION:
        case INLET_OPT_SECTION_LIST:
            rc = container_default(c, o, obj);
            break;
        default: {
            /* A scalar default is its text exactly as written, as if double-quoted. */
            yaml_node_t n = {.type = YAML_SCALAR_NODE};
            n.data.scalar.value = (yaml_char_t *)o->default_value;
            n.data.scalar.length = strlen(o->default_value);
            n.data.scalar.style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
            rc = set_value(c, o, &n, obj);
            break;
        }
        }
    }
    if (rc == 0)
        c->path[plen] = '\0';
    c->in_default = was;
    return rc;
}

int inlet_conf_defaults(const inlet_option *table, void *obj, char *err, size_t err_len)
{
    inlet_conf_ctx c = {.err = err, .err_len = err_len};
    if (fill_defaults(&c, table, obj, 0) != 0) {
        inlet_conf_release(table, obj);
        return -1;
    }
    return 0;
}

static int apply_with(inlet_conf_ctx *c, const inlet_conf_node *map, const inlet_option *table,
                      void *obj, const char *const *skip)
{
    const yaml_node_t *m = conf_ynode(map);
    int line = m ? conf_line(m) : 1;

    if (fill_defaults(c, table, obj, 0) != 0)
        goto fail;
    if (m && conf_is_null(m))
        m = NULL;
    if (m && m->type != YAML_MAPPING_NODE) {
        inlet_conf_fail(c, line, "expected a mapping, got %s", inlet_conf_shape(m));
        goto fail;
    }
    conf_mark(c, obj, INLET_CONF_MARK_ITEM, line);
    if (apply_map(c, table, obj, m, line, skip) != 0)
        goto fail;
    return 0;

fail:
    inlet_conf_release(table, obj);
    return -1;
}

int inlet_conf_apply(const inlet_conf_file *f, const inlet_conf_node *map,
                     const inlet_option *table, void *obj, const char *const *skip, char *err,
                     size_t err_len)
{
    inlet_conf_ctx c = {.f = f, .dir = f ? f->dir : NULL, .err = err, .err_len = err_len};
    return apply_with(&c, map, table, obj, skip);
}

int inlet_conf_apply_all(const inlet_conf_file *f, const inlet_conf_node *map,
                         const inlet_option *table, void *obj, const char *const *skip,
                         inlet_conf_marks *marks, inlet_conf_errors *errs)
{
    inlet_conf_ctx c = {.f = f, .dir = f ? f->dir : NULL, .errs = errs, .marks = marks};
    if (apply_with(&c, map, table, obj, skip) != 0 && c.n_errors == 0)
        c.n_errors = 1; /* cannot happen: every failure is reported */
    return (int)c.n_errors;
}
