/*
 * cbor_head.h - one CBOR head at a time (RFC 8949 §3), through libcbor's streaming decoder.
 *
 * A head is the initial byte and its argument: an integer, a float, a simple value, a tag
 * number, the length of an array or map, or a whole definite-length string (whose content
 * follows the head and is handed back as a pointer into the input). Internal to
 * formats/cbor_decode.c, which builds values out of heads.
 */
#ifndef INLET_CBOR_HEAD_H
#define INLET_CBOR_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"

typedef enum inlet_cbor_kind {
    INLET_CBOR_UINT,        /* arg */
    INLET_CBOR_NEGINT,      /* -1 - arg */
    INLET_CBOR_BYTES,       /* arg bytes at data */
    INLET_CBOR_BYTES_INDEF, /* chunks follow, then a break */
    INLET_CBOR_TEXT,        /* arg bytes at data, not yet checked for UTF-8 */
    INLET_CBOR_TEXT_INDEF,
    INLET_CBOR_ARRAY, /* arg items follow */
    INLET_CBOR_ARRAY_INDEF,
    INLET_CBOR_MAP, /* arg pairs follow */
    INLET_CBOR_MAP_INDEF,
    INLET_CBOR_TAG,    /* tag number arg; its content follows */
    INLET_CBOR_FLOAT,  /* f, from a float_bits wide encoding */
    INLET_CBOR_SIMPLE, /* simple value arg other than false/true/null/undefined */
    INLET_CBOR_FALSE,
    INLET_CBOR_TRUE,
    INLET_CBOR_NULL,
    INLET_CBOR_UNDEFINED,
    INLET_CBOR_BREAK,
} inlet_cbor_kind;

typedef struct inlet_cbor_head {
    inlet_cbor_kind kind;
    size_t offset; /* of the initial byte */
    uint64_t arg;
    double f;
    int float_bits; /* 16, 32 or 64 */
    const uint8_t *data;
} inlet_cbor_head;

/* Decode the head at *pos (and the content of a definite-length string) and move *pos past
 * it. Returns 0, or -1 with err->offset and err->message set when the input is not
 * well-formed there or ends too early. */
int inlet_cbor_head_next(const uint8_t *data, size_t len, size_t *pos, inlet_cbor_head *h,
                         inlet_format_error *err);

/* "an integer", "a text string", "an array", ... for messages. */
const char *inlet_cbor_kind_name(inlet_cbor_kind kind);

#endif
