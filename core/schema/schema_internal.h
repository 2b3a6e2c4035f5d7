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

#include "formats/arena.h"
#include "formats/value.h"
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
    SCHEMA_F_BASE64URL = 1u << 11,     /* contentEncoding "base64url": byte strings allowed */
    SCHEMA_F_CONST = 1u << 12,
    SCHEMA_F_ENUM = 1u << 13,
    SCHEMA_F_PATTERN = 1u << 14,
};

/* The flags that give a string something to check beyond its type. */
#define SCHEMA_F_TEXTUAL                                                                           \
    (SCHEMA_F_MIN_LENGTH | SCHEMA_F_MAX_LENGTH | SCHEMA_F_PATTERN | SCHEMA_F_DATE_TIME |           \
     SCHEMA_F_BASE64URL)

/* Longest rendered instance value, and longest schema value or enum list, quoted in a message;
 * together with the words around them they fit inlet_schema_error.message. */
#define SCHEMA_VALUE_MAX 96
#define SCHEMA_TEXT_MAX  128

/* A numeric limit: compared as long double, which holds every int64 and double exactly. One
 * the schema does not set is infinite (minimum -inf, maximum +inf), so it never fails. */
typedef struct schema_bound {
    long double value;
    char text[32]; /* as the schema author wrote it: "90", "52.52" */
} schema_bound;

typedef struct schema_regex schema_regex;
typedef struct schema_node schema_node;

typedef struct schema_property {
    char *name; /* owned; may contain NUL, hence name_len */
    size_t name_len;
    schema_node *schema;   /* owned */
    uint64_t required_bit; /* properties only: its bit in schema_node.required_fast, or 0 */
} schema_property;

struct schema_node {
    unsigned types; /* SCHEMA_T_* bits; 0 = any type */
    unsigned flags; /* SCHEMA_F_* bits */
    /* Bit (1 << inlet_vtype) set for the kinds of value this node lets past its first checks
     * (boolean schema false, byte strings, type), so that the valid path tests one bit. A REAL
     * under "type": "integer" is not set: whether it is an integer depends on the value. */
    unsigned accept;
    char *type_text; /* "string or null", for "expected ..." messages; owned */

    schema_bound minimum, maximum, excl_minimum, excl_maximum;
    size_t min_length, max_length, min_items, max_items;

    schema_regex *pattern; /* owned */
    char *pattern_text;    /* the pattern quoted as JSON, for messages; owned */

    const inlet_value *const_value; /* in the schema's arena; NULL if absent */
    char *const_text;
    const inlet_value *enum_values; /* in the schema's arena; n_enum of them, NULL if absent */
    size_t n_enum;
    char *enum_text; /* "[\"a\", \"b\", ...]" */

    schema_property *props; /* owned; in the order the schema lists them */
    size_t n_props;
    schema_property *required; /* names only (schema is NULL); owned */
    size_t n_required;
    /* The required names that are also properties get one bit each (the first 64), so that an
     * object's walk over its members proves them present; the others are looked up. */
    uint64_t required_fast;
    int required_slow;       /* some required name has no bit */
    schema_node *additional; /* additionalProperties as a schema; NULL = allowed; owned */

    schema_node *items; /* owned; NULL = any items */

    const char *unit; /* x-inlet-unit, in the schema's arena; NULL if absent */
};

struct inlet_schema {
    schema_node *root;
    char *name;    /* registry only */
    char *version; /* registry only, "v<N>" */
    unsigned long version_num;
    char *topic;           /* x-inlet-topic; NULL when compiled without one */
    char *key_pointer;     /* x-inlet-key, default "/device_id" */
    int topic_partitions;  /* x-inlet-topic-partitions; 0 = not declared */
    int topic_replication; /* x-inlet-topic-replication; 0 = not declared */
    unsigned formats;      /* x-inlet-formats as INLET_FMT_* bits; 0 = not given */
    inlet_arena arena;     /* const and enum values, units: freed with the schema */
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

/* schema_render.c: values as a person would write them, for messages; truncated with "...".
 * Byte strings are rendered as the envelope writes them, a base64url string. */
size_t schema_render_value(const inlet_value *v, char *buf, size_t buf_len);
/* "[a, b, ...]" of n values, at most buf_len - 1 characters. */
size_t schema_render_list(const inlet_value *items, size_t n, char *buf, size_t buf_len);
/* schema_base64url.c: RFC 4648 section 5 without padding, the text a byte string becomes in
 * the envelope. */
static inline size_t schema_base64url_length(size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}
/* 1 if s is canonical base64url: the URL-safe alphabet, no padding, no length that leaves a
 * lone character, unused trailing bits zero (so that one byte string has one text). */
int schema_base64url_valid(const char *s, size_t len);
/* Encodes n bytes (any n) into out, which holds schema_base64url_length(n) characters; no NUL. */
void schema_base64url_encode(const unsigned char *in, size_t n, char *out);
/* A double in its shortest round-trip form: 52.52, 270, 1e+300. */
void schema_render_real(double d, char *buf, size_t buf_len);

#endif
