/*
 * value.h - the data model every payload format decodes into.
 *
 * JSON, CBOR, SenML and binary layouts all become a tree of inlet_value: JSON's seven kinds
 * (null, boolean, integer, real, string, array, object) plus byte strings, which only CBOR and
 * binary layouts produce and which a schema must say how to render (contentEncoding). Values
 * live in an inlet_arena: nothing in a tree is freed on its own, the arena is reset as a whole.
 *
 * Arrays and objects hold their elements contiguously, in document order, so that validation
 * and the envelope writer walk them without pointers chasing a hash table.
 */
#ifndef INLET_VALUE_H
#define INLET_VALUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/arena.h"

typedef enum inlet_vtype {
    INLET_V_NULL = 0,
    INLET_V_FALSE = 1,
    INLET_V_TRUE = 2,
    INLET_V_INT = 3,    /* an integer that fits int64_t */
    INLET_V_REAL = 4,   /* a finite double (JSON with a fraction or exponent, CBOR floats) */
    INLET_V_STRING = 5, /* UTF-8, may contain NUL only if the format allowed it (JSON does not) */
    INLET_V_BYTES = 6,  /* a byte string (CBOR major type 2, layout "bytes") */
    INLET_V_ARRAY = 7,
    INLET_V_OBJECT = 8,
} inlet_vtype;

typedef struct inlet_value inlet_value;
typedef struct inlet_member inlet_member;

struct inlet_value {
    uint8_t type;      /* inlet_vtype */
    uint8_t canonical; /* 1: raw holds exactly the compact text inlet_value_write_json writes */
    uint32_t n;        /* STRING/BYTES: length in bytes; ARRAY/OBJECT: number of elements */
    const char *raw;   /* JSON origin only: the value's source text (raw_len bytes), or NULL */
    uint32_t raw_len;
    union {
        int64_t i;             /* INT */
        double r;              /* REAL */
        const char *s;         /* STRING/BYTES: n bytes, NUL-terminated (not counted in n) */
        inlet_value *items;    /* ARRAY: n values */
        inlet_member *members; /* OBJECT: n members, keys unique */
    } u;
};

struct inlet_member {
    const char *key; /* UTF-8, NUL-terminated; key_len bytes */
    uint32_t key_len;
    inlet_value value;
};

/* Lookup by key in an object (linear: payload objects are small). NULL if absent or v is not
 * an object. */
const inlet_value *inlet_value_get(const inlet_value *obj, const char *key);
const inlet_value *inlet_value_getn(const inlet_value *obj, const char *key, size_t key_len);

static inline int inlet_value_is_number(const inlet_value *v)
{
    return v->type == INLET_V_INT || v->type == INLET_V_REAL;
}
static inline double inlet_value_number(const inlet_value *v)
{
    return v->type == INLET_V_INT ? (double)v->u.i : v->u.r;
}

/* Deep copy of a jansson value into arena a; NULL on ENOMEM. Used at schema-load time and by
 * tests; the hot path never sees jansson. */
inlet_value *inlet_value_from_json(inlet_arena *a, const json_t *j);
/* A new jansson value equal to v (BYTES become base64url strings); NULL on ENOMEM. */
json_t *inlet_value_to_json(const inlet_value *v);
/* Structural equality; objects compare as sets of members, INT 1 equals REAL 1.0 (JSON
 * Schema's rule for const and enum). */
int inlet_value_equal(const inlet_value *a, const inlet_value *b);

#endif
