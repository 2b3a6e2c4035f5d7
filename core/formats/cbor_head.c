/*
 * cbor_head.c - see cbor_head.h.
 *
 * libcbor's cbor_stream_decode() reads exactly one head per call and reports it through a
 * callback; it allocates nothing. It refuses some well-formed heads it has no callback for
 * (simple values, tags 6 to 20), so those are decoded here before it sees them, and its bare
 * CBOR_DECODER_ERROR is turned into a message that names the rule broken.
 */
#include "formats/cbor_head.h"

#include <cbor.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static inlet_cbor_head *head_of(void *ctx)
{
    return ctx;
}

static void on_uint8(void *c, uint8_t v)
{
    head_of(c)->kind = INLET_CBOR_UINT;
    head_of(c)->arg = v;
}
static void on_uint16(void *c, uint16_t v)
{
    head_of(c)->kind = INLET_CBOR_UINT;
    head_of(c)->arg = v;
}
static void on_uint32(void *c, uint32_t v)
{
    head_of(c)->kind = INLET_CBOR_UINT;
    head_of(c)->arg = v;
}
static void on_uint64(void *c, uint64_t v)
{
    head_of(c)->kind = INLET_CBOR_UINT;
    head_of(c)->arg = v;
}
static void on_negint8(void *c, uint8_t v)
{
    head_of(c)->kind = INLET_CBOR_NEGINT;
    head_of(c)->arg = v;
}
static void on_negint16(void *c, uint16_t v)
{
    head_of(c)->kind = INLET_CBOR_NEGINT;
    head_of(c)->arg = v;
}
static void on_negint32(void *c, uint32_t v)
{
    head_of(c)->kind = INLET_CBOR_NEGINT;
    head_of(c)->arg = v;
}
static void on_negint64(void *c, uint64_t v)
{
    head_of(c)->kind = INLET_CBOR_NEGINT;
    head_of(c)->arg = v;
}
static void on_bytes(void *c, cbor_data d, size_t n)
{
    head_of(c)->kind = INLET_CBOR_BYTES;
    head_of(c)->data = d;
    head_of(c)->arg = n;
}
static void on_bytes_indef(void *c)
{
    head_of(c)->kind = INLET_CBOR_BYTES_INDEF;
}
static void on_text(void *c, cbor_data d, size_t n)
{
    head_of(c)->kind = INLET_CBOR_TEXT;
    head_of(c)->data = d;
    head_of(c)->arg = n;
}
static void on_text_indef(void *c)
{
    head_of(c)->kind = INLET_CBOR_TEXT_INDEF;
}
static void on_array(void *c, size_t n)
{
    head_of(c)->kind = INLET_CBOR_ARRAY;
    head_of(c)->arg = n;
}
static void on_array_indef(void *c)
{
    head_of(c)->kind = INLET_CBOR_ARRAY_INDEF;
}
static void on_map(void *c, size_t n)
{
    head_of(c)->kind = INLET_CBOR_MAP;
    head_of(c)->arg = n;
}
static void on_map_indef(void *c)
{
    head_of(c)->kind = INLET_CBOR_MAP_INDEF;
}
static void on_tag(void *c, uint64_t v)
{
    head_of(c)->kind = INLET_CBOR_TAG;
    head_of(c)->arg = v;
}
static void on_float2(void *c, float v)
{
    head_of(c)->kind = INLET_CBOR_FLOAT;
    head_of(c)->f = v; /* every half-precision value is exact as a float */
    head_of(c)->float_bits = 16;
}
static void on_float4(void *c, float v)
{
    head_of(c)->kind = INLET_CBOR_FLOAT;
    head_of(c)->f = v;
    head_of(c)->float_bits = 32;
}
static void on_float8(void *c, double v)
{
    head_of(c)->kind = INLET_CBOR_FLOAT;
    head_of(c)->f = v;
    head_of(c)->float_bits = 64;
}
static void on_undefined(void *c)
{
    head_of(c)->kind = INLET_CBOR_UNDEFINED;
}
static void on_null(void *c)
{
    head_of(c)->kind = INLET_CBOR_NULL;
}
static void on_boolean(void *c, bool v)
{
    head_of(c)->kind = v ? INLET_CBOR_TRUE : INLET_CBOR_FALSE;
}
static void on_break(void *c)
{
    head_of(c)->kind = INLET_CBOR_BREAK;
}

static const struct cbor_callbacks callbacks = {
    .uint8 = on_uint8,
    .uint16 = on_uint16,
    .uint32 = on_uint32,
    .uint64 = on_uint64,
    .negint8 = on_negint8,
    .negint16 = on_negint16,
    .negint32 = on_negint32,
    .negint64 = on_negint64,
    .byte_string = on_bytes,
    .byte_string_start = on_bytes_indef,
    .string = on_text,
    .string_start = on_text_indef,
    .array_start = on_array,
    .indef_array_start = on_array_indef,
    .map_start = on_map,
    .indef_map_start = on_map_indef,
    .tag = on_tag,
    .float2 = on_float2,
    .float4 = on_float4,
    .float8 = on_float8,
    .undefined = on_undefined,
    .null = on_null,
    .boolean = on_boolean,
    .indef_break = on_break,
};

static int fail(inlet_format_error *err, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(inlet_format_error *err, size_t offset, const char *fmt, ...)
{
    va_list ap;

    err->offset = offset;
    err->pointer[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static int truncated(inlet_format_error *err, size_t offset, size_t len)
{
    if (offset >= len)
        return fail(err, offset, "CBOR ends early, at byte %zu", len);
    return fail(err, offset, "CBOR ends at byte %zu, inside the data item at byte %zu", len,
                offset);
}

int inlet_cbor_head_next(const uint8_t *data, size_t len, size_t *pos, inlet_cbor_head *h,
                         inlet_format_error *err)
{
    size_t at = *pos;

    memset(h, 0, sizeof(*h));
    h->offset = at;
    if (at >= len)
        return truncated(err, at, len);

    uint8_t ib = data[at];
    unsigned major = ib >> 5, ai = ib & 0x1f;

    /* RFC 8949 §3: additional information 28-30 is reserved in every major type. */
    if (ai >= 28 && ai <= 30)
        return fail(err, at,
                    "malformed CBOR at byte %zu: additional information %u is reserved "
                    "(RFC 8949 §3)",
                    at, ai);
    /* §3.2.4: integers and tags have no indefinite-length form. */
    if (ai == 31 && (major == 0 || major == 1 || major == 6))
        return fail(err, at,
                    "malformed CBOR at byte %zu: indefinite length is not allowed for integers "
                    "and tags (RFC 8949 §3.2.4)",
                    at);
    /* §3.3: simple values 0-19 in the initial byte, 32-255 in one more byte. */
    if (major == 7 && ai < 20) {
        h->kind = INLET_CBOR_SIMPLE;
        h->arg = ai;
        *pos = at + 1;
        return 0;
    }
    if (ib == 0xf8) {
        if (len - at < 2)
            return truncated(err, at, len);
        if (data[at + 1] < 32)
            return fail(err, at,
                        "malformed CBOR at byte %zu: a two-byte simple value below 32 "
                        "(RFC 8949 §3.3)",
                        at);
        h->kind = INLET_CBOR_SIMPLE;
        h->arg = data[at + 1];
        *pos = at + 2;
        return 0;
    }
    /* Tags 6-20 in the initial byte: libcbor refuses them as unassigned. */
    if (major == 6 && ai >= 6 && ai <= 20) {
        h->kind = INLET_CBOR_TAG;
        h->arg = ai;
        *pos = at + 1;
        return 0;
    }

    struct cbor_decoder_result r = cbor_stream_decode(data + at, len - at, &callbacks, h);
    if (r.status == CBOR_DECODER_NEDATA)
        return truncated(err, at, len);
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
        return fail(err, at, "malformed CBOR at byte %zu", at);
    h->offset = at;
    *pos = at + r.read;
    return 0;
}

const char *inlet_cbor_kind_name(inlet_cbor_kind kind)
{
    switch (kind) {
    case INLET_CBOR_UINT:
    case INLET_CBOR_NEGINT:
        return "an integer";
    case INLET_CBOR_BYTES:
    case INLET_CBOR_BYTES_INDEF:
        return "a byte string";
    case INLET_CBOR_TEXT:
    case INLET_CBOR_TEXT_INDEF:
        return "a text string";
    case INLET_CBOR_ARRAY:
    case INLET_CBOR_ARRAY_INDEF:
        return "an array";
    case INLET_CBOR_MAP:
    case INLET_CBOR_MAP_INDEF:
        return "a map";
    case INLET_CBOR_TAG:
        return "a tag";
    case INLET_CBOR_FLOAT:
        return "a float";
    case INLET_CBOR_SIMPLE:
        return "a simple value";
    case INLET_CBOR_FALSE:
    case INLET_CBOR_TRUE:
        return "a boolean";
    case INLET_CBOR_NULL:
        return "null";
    case INLET_CBOR_UNDEFINED:
        return "undefined";
    case INLET_CBOR_BREAK:
        return "a break";
    }
    return "an item";
}
