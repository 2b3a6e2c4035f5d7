/*
 * layout_internal.h - the compiled form of an x-inlet-layout, shared by layout_compile.c and
 * layout_decode.c only.
 *
 * A layout compiles into a flat array of field ops, one per seq entry, in seq order. Every
 * choice that depends on the schema (endianness, how to turn the raw value into a JSON value)
 * is made at compile time, so that decoding is one switch per field and no lookups by name.
 */
#ifndef INLET_LAYOUT_INTERNAL_H
#define INLET_LAYOUT_INTERNAL_H

#include <stdint.h>

#include "layout.h"

/* Bounds written as data, so that compile errors and docs agree. */
#define LAYOUT_MAX_FIELDS 1024       /* seq entries */
#define LAYOUT_MAX_SIZE   0xffffffff /* size and pos: an inlet_value length is 32 bits */

/* How the bytes of a field are read. */
enum {
    OP_UINT,  /* width bytes, unsigned */
    OP_SINT,  /* width bytes, two's complement */
    OP_FLOAT, /* IEEE 754, width 4 or 8 */
    OP_BITS,  /* width bits, big-endian bit order, packed with the bit fields around it */
    OP_BYTES, /* size bytes, or as many as the width-byte unsigned prefix says */
    OP_STR,   /* the same, and UTF-8 */
};

/* What a field becomes in the output object. */
enum {
    OUT_NONE,       /* padding: read (bounds-checked) but not output */
    OUT_INT,        /* the raw integer */
    OUT_INT_AFFINE, /* raw × iscale + ioffset, all integers, overflow-checked */
    OUT_REAL,       /* raw × scale + offset as a finite double (see real_affine in decode) */
    OUT_BOOL,       /* b1 alone: Kaitai's rule, a single bit is a boolean */
    OUT_ENUM,       /* the text enums[] maps the raw integer to */
    OUT_BYTES,
    OUT_TEXT,
};

typedef struct layout_enum_entry {
    int64_t raw;
    char *text; /* owned, NUL-terminated, no NUL inside */
    uint32_t len;
} layout_enum_entry;

typedef struct layout_op {
    uint8_t kind;     /* OP_* */
    uint8_t out;      /* OUT_* */
    uint8_t width;    /* bytes of an integer, float or size prefix; bits of OP_BITS */
    uint8_t big;      /* big-endian (integers, floats, size prefix) */
    uint8_t prefixed; /* OP_BYTES/OP_STR: length from a prefix, else size */
    uint8_t has_pos;
    uint8_t has_absent;
    uint32_t size;  /* OP_BYTES/OP_STR without a prefix */
    uint32_t pos;   /* absolute byte position when has_pos */
    int64_t absent; /* raw value that means "leave the member out" when has_absent */

    /* OUT_INT_AFFINE */
    int64_t iscale, ioffset;
    /* OUT_REAL: divisor != 0 means (raw + pre) / divisor + post, else raw × scale + offset */
    double scale, offset, divisor, pre, post;

    layout_enum_entry *enums; /* owned, sorted by raw */
    uint32_t n_enums;

    char *key; /* owned output member name; NULL for padding */
    uint32_t key_len;
} layout_op;

struct inlet_layout {
    uint32_t n_ops;
    uint32_t n_out; /* ops with a key: the most members a frame decodes into */
    layout_op ops[];
};

/* layout_compile.c: the field's type as a layout writes it ("s4be", "b3", "str"), for messages. */
const char *layout_type_name(const layout_op *op, char *buf, size_t len);

#endif
