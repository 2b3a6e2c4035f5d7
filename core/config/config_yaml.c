/*
 * config_yaml.c - the document layer: one YAML file parsed with libyaml into a document, checked
 * once for what libyaml allows but a configuration must not have (more than one document,
 * duplicate keys, unbounded alias expansion or nesting), and read through opaque nodes.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    if (!err || err_len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static void syntax_error(const char *name, const yaml_parser_t *p, const char *text, char *err,
                         size_t err_len)
{
    size_t line = 1;
    const char *problem = p->problem ? p->problem : "unknown error";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        set_err(err, err_len, "%s: out of memory while parsing YAML", name);
        return;
    case YAML_READER_ERROR:
        /* Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark. */
        for (size_t i = 0; i < p->problem_offset && text[i]; i++)
            line += text[i] == '\n';
        set_err(err, err_len, "%s:%zu: YAML syntax error: %s (files must be UTF-8)", name, line,
                problem);
        return;
    default:
        line = p->problem_mark.line + 1;
        if (p->context)
            set_err(err, err_len, "%s:%zu: YAML syntax error: %s (%s)", name, line, problem,
                    p->context);
        else
            set_err(err, err_len, "%s:%zu: YAML syntax error: %s", name, line, problem);
        return;
    }
}

/* The once-per-load walk over the expanded document. */
struct walk {
    const inlet_conf_file *f;
    size_t visits;
    unsigned char *marks; /* by node index: MARK_CHECKED, MARK_OPEN */
    char path[INLET_CONF_PATH_MAX];
    char *err;
    size_t err_len;
};

#define MARK_CHECKED 0x1 /* mapping already checked for duplicate keys */
#define MARK_OPEN    0x2 /* node is being walked: reaching it again is a cycle */

struct key_ref {
    const char *text;
    size_t len;
    size_t pos; /* pair index, so equal keys sort in document order */
    int line;
};

static int key_ref_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->text, y->text, n);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorting keeps a mapping with many keys from costing a quadratic compare. Reports the
 * duplicate that comes first in the file, at its own line. */
static int walk_node(struct walk *w, const yaml_node_t *n, int depth, size_t plen);

static int check_duplicates(struct walk *w, const yaml_node_t *map, size_t plen)
{
    size_t n = conf_map_count(map), count = 0;
    const struct key_ref *dup = NULL, *first = NULL;
    struct key_ref *keys;

    if (n < 2)
        return 0;
    keys = calloc(n, sizeof *keys);
    if (!keys) {
        set_err(w->err, w->err_len, "%s: out of memory", w->f->path);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = conf_doc_node(w->f, map->data.mapping.pairs.start[i].key);
        if (!k || k->type != YAML_SCALAR_NODE)
            continue;
        keys[count++] =
            (struct key_ref){conf_text(k), k->data.scalar.length, i, (int)k->start_mark.line + 1};
    }
    qsort(keys, count, sizeof *keys, key_ref_cmp);
    for (size_t i = 1; i < count; i++) {
        const struct key_ref *a = &keys[i - 1], *b = &keys[i];
        if (a->len != b->len || memcmp(a->text, b->text, a->len) != 0)
            continue;
        /* b is the second occurrence only if a is the first of its run. */
        if (i >= 2 && keys[i - 2].len == a->len && memcmp(keys[i - 2].text, a->text, a->len) == 0)
            continue;
        if (!dup || b->pos < dup->pos) {
            dup = b;
            first = a;
        }
    }
    if (dup) {
        inlet_conf_path_key(w->path, plen, dup->text, dup->len);
        set_err(w->err, w->err_len, "%s:%d: %s: duplicate key (first set on line %d)", w->f->path,
                dup->line, w->path, first->line);
    }
    free(keys);
    return dup ? -1 : 0;
}

static int walk_children(struct walk *w, const yaml_node_t *n, int depth, size_t plen)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        for (size_t i = 0; i < conf_seq_count(n); i++) {
            const yaml_node_t *item = conf_doc_node(w->f, n->data.sequence.items.start[i]);
            w->path[plen] = '\0';
            size_t len = inlet_conf_path_index(w->path, plen, i);
            if (item && walk_node(w, item, depth + 1, len) != 0)
                return -1;
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        for (size_t i = 0; i < conf_map_count(n); i++) {
            const yaml_node_pair_t *pair = &n->data.mapping.pairs.start[i];
            const yaml_node_t *k = conf_doc_node(w->f, pair->key);
            const yaml_node_t *v = conf_doc_node(w->f, pair->value);
            size_t len = plen;
            w->path[plen] = '\0';
            if (k && walk_node(w, k, depth + 1, plen) != 0)
                return -1;
            if (k && k->type == YAML_SCALAR_NODE)
                len = inlet_conf_path_key(w->path, plen, conf_text(k), k->data.scalar.length);
            if (v && walk_node(w, v, depth + 1, len) != 0)
                return -1;
        }
    }
    return 0;
}

static int walk_node(struct walk *w, const yaml_node_t *n, int depth, size_t plen)
{
    int line = (int)n->start_mark.line + 1;
    unsigned char *mark = &w->marks[n - w->f->doc.nodes.start];
    const char *sep = plen ? ": " : "";
    int rc;

    if (++w->visits > INLET_CONF_MAX_NODES) {
        set_err(w->err, w->err_len,
                "%s:%d: document too large: more than %d nodes once aliases are expanded",
                w->f->path, line, INLET_CONF_MAX_NODES);
        return -1;
    }
    if (*mark & MARK_OPEN) {
        set_err(w->err, w->err_len, "%s:%d: %s%san alias refers to a node that contains it",
                w->f->path, line, w->path, sep);
        return -1;
    }
    if (depth > INLET_CONF_MAX_DEPTH) {
        set_err(w->err, w->err_len, "%s:%d: %s%snested more than %d levels deep", w->f->path, line,
                w->path, sep, INLET_CONF_MAX_DEPTH);
        return -1;
    }
    if (n->type == YAML_MAPPING_NODE && !(*mark & MARK_CHECKED)) {
        *mark |= MARK_CHECKED;
        if (check_duplicates(w, n, plen) != 0)
            return -1;
    }
    *mark |= MARK_OPEN;
    rc = walk_children(w, n, depth, plen);
    *mark &= (unsigned char)~MARK_OPEN;
    return rc;
}

static int check_document(inlet_conf_file *f, char *err, size_t err_len)
{
    struct walk w = {.f = f, .err = err, .err_len = err_len};
    const yaml_node_t *root = conf_doc_node(f, 1);
    int rc;

    if (!root)
        return 0;
    w.marks = calloc((size_t)(f->doc.nodes.top - f->doc.nodes.start), 1);
    if (!w.marks) {
        set_err(err, err_len, "%s: out of memory", f->path);
        return -1;
    }
    rc = walk_node(&w, root, 1, 0);
    free(w.marks);
    return rc;
}

/* Parse text into a new file object; takes ownership of dir. */
static int parse_text(const char *name, char *dir, const char *text, size_t len,
                      inlet_conf_file **out, char *err, size_t err_len)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    int parser_ready = 0, doc_ready = 0;
    inlet_conf_file *f = calloc(1, sizeof *f);

    *out = NULL;
    if (!f || !(f->path = strdup(name))) {
        set_err(err, err_len, "%s: out of memory", name);
        goto fail;
    }
    f->dir = dir;
    dir = NULL;
    if (!yaml_parser_initialize(&parser)) {
        set_err(err, err_len, "%s: out of memory", name);
        goto fail;
    }
    parser_ready = 1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    /* Forcing UTF-8 makes a UTF-16 file an error instead of being silently decoded. */
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    if (!yaml_parser_load(&parser, &f->doc)) {
        syntax_error(name, &parser, text, err, err_len);
        goto fail;
    }
    doc_ready = 1;
    /* libyaml reads a stream of documents; a configuration file is exactly one. */
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(name, &parser, text, err, err_len);
        goto fail;
    }
    if (yaml_document_get_root_node(&extra)) {
        set_err(err, err_len, "%s:%zu: a second YAML document; a file holds only one", name,
                extra.start_mark.line + 1);
        yaml_document_delete(&extra);
        goto fail;
    }
    yaml_document_delete(&extra);
    yaml_parser_delete(&parser);
    parser_ready = 0;
    if (check_document(f, err, err_len) != 0)
        goto fail;
    *out = f;
    return 0;

fail:
    if (parser_ready)
        yaml_parser_delete(&parser);
    if (f) {
        if (doc_ready)
            yaml_document_delete(&f->doc);
        free(f->path);
        free(f->dir);
        free(f);
    }
    free(dir);
    return -1;
}

int inlet_conf_load_string(const char *name, const char *text, size_t len, inlet_conf_file **out,
                           char *err, size_t err_len)
{
    char *dir = NULL;
    const char *slash = strrchr(name, '/');

    /* Relative paths in a named text resolve against the name's directory, as for a file. */
    if (slash && !(dir = strndup(name, slash == name ? 1 : (size_t)(slash - name)))) {
        set_err(err, err_len, "%s: out of memory", name);
        *out = NULL;
        return -1;
    }
    return parse_text(name, dir, text, len, out, err, err_len);
}

static int read_file(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, used = 0;

    if (!fp) {
        set_err(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (used == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nbuf;
            if (cap >= INLET_CONF_MAX_FILE_SIZE) {
                set_err(err, err_len, "%s: larger than %u bytes", path, INLET_CONF_MAX_FILE_SIZE);
                goto fail;
            }
            if (!(nbuf = realloc(buf, ncap + 1))) {
                set_err(err, err_len, "%s: out of memory", path);
                goto fail;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t n = fread(buf + used, 1, cap - used, fp);
        used += n;
        if (n == 0)
            break;
    }
    if (ferror(fp)) {
        set_err(err, err_len, "%s: read error: %s", path, strerror(errno));
        goto fail;
    }
    fclose(fp);
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;

fail:
    fclose(fp);
    free(buf);
    return -1;
}

/* The file's directory made absolute, so PATH values stay right if the daemon changes directory. */
static char *file_dir(const char *path)
{
    char *copy = strdup(path), *dir = NULL;
    if (!copy)
        return NULL;
    dir = realpath(dirname(copy), NULL);
    if (!dir) {
        free(copy);
        copy = strdup(path);
        dir = copy ? strdup(dirname(copy)) : NULL;
    }
    free(copy);
    return dir;
}

int inlet_conf_load(const char *path, inlet_conf_file **out, char *err, size_t err_len)
{
    char *text = NULL, *dir;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (read_file(path, &text, &len, err, err_len) != 0)
        return -1;
    if (!(dir = file_dir(path))) {
        set_err(err, err_len, "%s: out of memory", path);
        free(text);
        return -1;
    }
    rc = parse_text(path, dir, text, len, out, err, err_len);
    free(text);
    return rc;
}

void inlet_conf_file_free(inlet_conf_file *f)
{
    if (!f)
        return;
    yaml_document_delete(&f->doc);
    free(f->path);
    free(f->dir);
    free(f);
}

const char *inlet_conf_file_path(const inlet_conf_file *f)
{
    return f ? f->path : NULL;
}

const inlet_conf_node *inlet_conf_root(const inlet_conf_file *f)
{
    const yaml_node_t *root = conf_doc_node(f, 1);
    /* "---" alone or only comments: the document is there but says nothing. */
    if (!root || conf_is_null(root))
        return NULL;
    return conf_cnode(root);
}

const inlet_conf_node *inlet_conf_get(const inlet_conf_file *f, const inlet_conf_node *map,
                                      const char *key)
{
    const yaml_node_t *m = conf_ynode(map);
    size_t key_len = strlen(key);

    if (!f || !m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (size_t i = 0; i < conf_map_count(m); i++) {
        const yaml_node_t *k = conf_doc_node(f, m->data.mapping.pairs.start[i].key);
        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == key_len &&
            memcmp(conf_text(k), key, key_len) == 0)
            return conf_cnode(conf_doc_node(f, m->data.mapping.pairs.start[i].value));
    }
    return NULL;
}

const char *inlet_conf_scalar(const inlet_conf_file *f, const inlet_conf_node *n)
{
    const yaml_node_t *y = conf_ynode(n);
    (void)f;
    return y && y->type == YAML_SCALAR_NODE ? conf_text(y) : NULL;
}

int inlet_conf_line(const inlet_conf_file *f, const inlet_conf_node *n)
{
    (void)f;
    return n ? (int)conf_ynode(n)->start_mark.line + 1 : 0;
}
