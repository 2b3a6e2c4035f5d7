/*
 * config_internal.h - private to core/config_*.c. The document layer (config_yaml.c) keeps the
 * libyaml document; an inlet_conf_node pointer is a yaml_node_t pointer into it. The table layer
 * (config_apply.c walks tables, config_value.c sets one field) reads nodes through the inline
 * accessors below; config_text.c holds the scalar parsers and the message formatting.
 */
#ifndef INLET_CONFIG_INTERNAL_H
#define INLET_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <string.h>
#include <yaml.h>

#include "config.h"

/* Aliases make the document a graph; walking it expanded could take exponential time ("billion
 * laughs") or never end (an alias inside its own anchor). Loading rejects documents beyond these.
 */
#define INLET_CONF_MAX_NODES     1000000
#define INLET_CONF_MAX_DEPTH     64
#define INLET_CONF_MAX_FILE_SIZE (16u << 20)

/* Room for a dotted key path in messages; longer paths are cut, never overflowed. */
#define INLET_CONF_PATH_MAX 256

struct inlet_conf_file {
    char *path; /* the name used in messages */
    char *dir;  /* relative PATH values are resolved against it; NULL leaves them as written */
    yaml_document_t doc;
};

static inline const yaml_node_t *conf_ynode(const inlet_conf_node *n)
{
    return (const yaml_node_t *)n;
}

static inline const inlet_conf_node *conf_cnode(const yaml_node_t *n)
{
    return (const inlet_conf_node *)n;
}

/* yaml_document_get_node() takes a mutable document; this is the same lookup for const. */
static inline const yaml_node_t *conf_doc_node(const inlet_conf_file *f, int index)
{
    if (!f || index < 1 || index > f->doc.nodes.top - f->doc.nodes.start)
        return NULL;
    return f->doc.nodes.start + index - 1;
}

static inline size_t conf_map_count(const yaml_node_t *n)
{
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static inline size_t conf_seq_count(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static inline const char *conf_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A scalar whose text would be cut short by an embedded NUL ("\0" in a quoted YAML string). */
static inline bool conf_has_nul(const yaml_node_t *n)
{
    return strlen(conf_text(n)) != n->data.scalar.length;
}

/* YAML 1.2 core schema null: ~, null, Null, NULL or nothing at all, unquoted; or tagged !!null. */
static inline bool conf_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE)
        return false;
    if (n->tag && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = conf_text(n);
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static inline int conf_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static inline void *conf_field(const inlet_option *opt, void *obj)
{
    return (char *)obj + opt->offset;
}

/* State of one apply (or defaults) walk through a table, shared by config_apply.c and
 * config_value.c. */
typedef struct inlet_conf_ctx {
    const inlet_conf_file *f; /* where nodes come from; a scratch file for container defaults */
    const char *dir;          /* PATH values resolve against it; NULL leaves them as written */
    bool in_default;          /* errors blame the table's default, not the file */
    char path[INLET_CONF_PATH_MAX]; /* dotted key of the value being set */
    char *err;
    size_t err_len;
    inlet_conf_errors *errs; /* apply_all: every error goes here and the walk goes on */
    inlet_conf_marks *marks; /* apply_all: the line of every key set */
    size_t n_errors;
} inlet_conf_ctx;

/* Record the line of the key that set field, or where a container starts (not for defaults). */
static inline void conf_mark(inlet_conf_ctx *c, const void *field, int kind, int line)
{
    if (c->marks && !c->in_default)
        inlet_conf_marks_add(c->marks, field, kind, line);
}

/* Writes "file:line: path: message" (or "path: invalid default: message") and returns -1. */
int inlet_conf_fail(inlet_conf_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set one field of every type but SECTION and SECTION_LIST from n, freeing what it held. */
int inlet_conf_set_leaf(inlet_conf_ctx *c, const inlet_option *opt, const yaml_node_t *n,
                        void *obj);
/* release_field frees what the field owns (recursing into sections) and NULLs it; reset_field
 * also zeroes bool, number and enum fields. */
void inlet_conf_release_field(const inlet_option *opt, void *obj);
void inlet_conf_reset_field(const inlet_option *opt, void *obj);

/* "a mapping", "a sequence", "an empty value" or "a scalar": what a message says it got. */
const char *inlet_conf_shape(const yaml_node_t *n);

/* Append ".key" (or "key" at the start) or "[index]" to path at len; returns the new length.
 * Control characters in key are shown as '?'. */
size_t inlet_conf_path_key(char *path, size_t len, const char *key, size_t key_len);
size_t inlet_conf_path_index(char *path, size_t len, size_t index);

/* Writes text in double quotes for a message: control characters as '?', cut after 40 bytes. */
void inlet_conf_quote(char *out, size_t out_len, const char *text, size_t text_len);

/* 1048576 -> "1m", 90000 -> "90s": the largest unit that divides the value. */
void inlet_conf_format_size(char *out, size_t out_len, uint64_t bytes);
void inlet_conf_format_duration(char *out, size_t out_len, int64_t ms);

/* Strict scalar parsers; return 0 on success. */
int inlet_conf_parse_bool(const char *s, bool *out);
int inlet_conf_parse_int(const char *s, int64_t *out);

#endif
