/*
 * schema_internal.h - the compiled form of a schema, shared by the schema_*.c files only.
 *
 * A schema document compiles into a tree of schema_node. Everything a validation needs is
 * resolved at load time (regexes compiled, limits converted, enum lists rendered for messages)
 * so that validating a valid instance reads the tree and allocates nothing.
 */
#ifndef INLET_SCHEMA_INTERNAL_H
#define INLET_SCHEMA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "schema.h"

/* JSON Schema "type" names as bits; INTEGER is a number with zero fraction. */
enum {
    SCHEMA_T_NULL = 1u << 0,
    SCHEMA_T_BOOLEAN = 1u << 1,
    SCHEMA_T_OBJECT = 1u << 2,
    SCHEMA_T_ARRAY = 1u << 3,
    SCHEMA_T_NUMBER = 1u << 4,
    SCHEMA_T_STRING = 1u << 5,
    SCHEMA_T_INTEGER = 1u << 6,
};

/* Which optional constraints a node carries. */
enum {
    SCHEMA_F_FALSE = 1u << 0, /* the boolean schema false: nothing is valid */
    SCHEMA_F_MINIMUM = 1u << 1,
    SCHEMA_F_MAXIMUM = 1u << 2,
    SCHEMA_F_EXCL_MINIMUM = 1u << 3,
    SCHEMA_F_EXCL_MAXIMUM = 1u << 4,
    SCHEMA_F_MIN_LENGTH = 1u << 5,
    SCHEMA_F_MAX_LENGTH = 1u << 6,
    SCHEMA_F_MIN_ITEMS = 1u << 7,
    SCHEMA_F_MAX_ITEMS = 1u << 8,
    SCHEMA_F_DATE_TIME = 1u << 9,
    SCHEMA_F_NO_ADDITIONAL = 1u << 10, /* additionalProperties: false */
};

/* Longest rendered instance value, and longest schema value or enum list, quoted in a message;
 * together with the words around them they fit inlet_schema_error.message. */
#define SCHEMA_VALUE_MAX 96
#define SCHEMA_TEXT_MAX  128

/* A numeric limit: compared as long double, which holds every int64 and double exactly. */
typedef struct schema_bound {
    long double value;
    char text[32]; /* as the schema author wrote it: "90", "52.52" */
} schema_bound;

typedef struct schema_regex schema_regex;
typedef struct schema_node schema_node;

typedef struct schema_property {
    char *name; /* owned; may contain NUL, hence name_len */
    size_t name_len;
    schema_node *schema; /* owned */
} schema_property;

struct schema_node {
    unsigned types;  /* SCHEMA_T_* bits; 0 = any type */
    unsigned flags;  /* SCHEMA_F_* bits */
    char *type_text; /* "string or null", for "expected ..." messages; owned */

    schema_bound minimum, maximum, excl_minimum, excl_maximum;
    size_t min_length, max_length, min_items, max_items;

    schema_regex *pattern; /* owned */
    char *pattern_text;    /* the pattern quoted as JSON, for messages; owned */

    json_t *const_value; /* owned deep copy, NULL if absent */
    char *const_text;
    json_t *enum_values; /* owned deep copy (an array), NULL if absent */
    char *enum_text;     /* "[\"a\", \"b\", ...]" */

    schema_property *props; /* owned; in the order the schema lists them */
    size_t n_props;
    schema_property *required; /* names only (schema is NULL); owned */
    size_t n_required;
    schema_node *additional; /* additionalProperties as a schema; NULL = allowed; owned */

    schema_node *items; /* owned; NULL = any items */
};

struct inlet_schema {
    schema_node *root;
    char *name;    /* registry only */
    char *version; /* registry only, "v<N>" */
    unsigned long version_num;
    char *topic;       /* x-inlet-topic; NULL when compiled without one */
    char *key_pointer; /* x-inlet-key, default "/device_id" */
    /* x-inlet-layout, compiled; NULL without one; owned */
    inlet_layout *layout;
};

/* schema_compile.c: compile doc (borrowed) into *out; top-level x-inlet-* keys land in s. */
int schema_node_compile(const json_t *doc, const char *origin, inlet_schema *s, schema_node **out,
                        char *err, size_t err_len);
void schema_node_free(schema_node *n);

/* schema_layout.c: the x-inlet-layout against the root node (ids allowed, required produced). */
int schema_layout_check(const inlet_schema *s, const char *origin, char *err, size_t err_len);

/* schema_regex.c: ECMA-262-flavoured regexes through PCRE2 (UTF mode, unanchored search). */
int schema_regex_compile(const char *src, size_t len, schema_regex **out, char *err,
                         size_t err_len);
/* 1 = matches, 0 = does not, -1 = could not decide (match limit, invalid UTF-8). */
int schema_regex_search(const schema_regex *re, const char *subject, size_t len);
void schema_regex_free(schema_regex *re);

/* schema_render.c: values as a person would write them, for messages; truncated with "...". */
size_t schema_render_value(const json_t *v, char *buf, size_t buf_len);
/* "[a, b, ...]" of an array's elements, at most buf_len - 1 characters. */
size_t schema_render_list(const json_t *array, char *buf, size_t buf_len);
/* A double in its shortest round-trip form: 52.52, 270, 1e+300. */
void schema_render_real(double d, char *buf, size_t buf_len);

#endif
