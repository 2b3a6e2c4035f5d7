/*
 * cbor_encode.h - for the fuzz targets: jansson values and inlet_values into CBOR through
 * libcbor (cbor_build_* and cbor_serialize_alloc), and a type-exact comparison of values.
 *
 * Encoding choices the decoder must not care about (integer widths, definite or indefinite
 * lengths, how a string is cut into chunks, float32 for a double it holds exactly, the
 * self-described tag 55799) are drawn from a generator seeded by the input, so that each
 * input tries one variant and the fuzzer's mutations try the others. Integers stay CBOR
 * integers and reals stay CBOR floats, so types survive the trip.
 */
#ifndef INLET_FUZZ_CBOR_ENCODE_H
#define INLET_FUZZ_CBOR_ENCODE_H

#include <stdint.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "formats/value.h"

typedef struct enc_rng {
    uint64_t s;
} enc_rng;

static inline enc_rng enc_seed(const uint8_t *data, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    return (enc_rng){h | 1};
}

static inline unsigned enc_pick(enc_rng *r, unsigned n)
{
    r->s ^= r->s << 13; /* xorshift64 */
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (unsigned)(r->s % n);
}

/* An unsigned head argument in its shortest width, or a wider one. */
static inline cbor_item_t *enc_uint(enc_rng *r, uint64_t v)
{
    unsigned w = enc_pick(r, 4) == 0 ? enc_pick(r, 4) : 0;
    if (w <= 0 && v <= UINT8_MAX)
        return cbor_build_uint8((uint8_t)v);
    if (w <= 1 && v <= UINT16_MAX)
        return cbor_build_uint16((uint16_t)v);
    if (w <= 2 && v <= UINT32_MAX)
        return cbor_build_uint32((uint32_t)v);
    return cbor_build_uint64(v);
}

static inline cbor_item_t *enc_negint(enc_rng *r, uint64_t arg)
{
    cbor_item_t *item = enc_uint(r, arg);
    if (item)
        cbor_mark_negint(item);
    return item;
}

static inline cbor_item_t *enc_int(enc_rng *r, int64_t v)
{
    return v >= 0 ? enc_uint(r, (uint64_t)v) : enc_negint(r, (uint64_t)(-1 - v));
}

static inline cbor_item_t *enc_real(enc_rng *r, double d)
{
    if ((double)(float)d == d && enc_pick(r, 2))
        return cbor_build_float4((float)d);
    return cbor_build_float8(d);
}

/* Definite, or indefinite in chunks cut at character boundaries (RFC 8949 §3.2.3). */
static inline cbor_item_t *enc_string(enc_rng *r, const char *s, size_t n, int text)
{
    cbor_item_t *item;

    if (enc_pick(r, 4) != 0)
        return text ? cbor_build_stringn(s, n) : cbor_build_bytestring((cbor_data)s, n);
    item = text ? cbor_new_indefinite_string() : cbor_new_indefinite_bytestring();
    for (size_t o = 0, chunks = 0; item && (o < n || (chunks < 2 && enc_pick(r, 2)));) {
        size_t len = enc_pick(r, 4) == 0 ? 0 : 1 + enc_pick(r, 8);
        cbor_item_t *chunk;
        if (len > n - o)
            len = n - o;
        while (text && o + len < n && ((unsigned char)s[o + len] & 0xc0) == 0x80)
            len++;
        chunk =
            text ? cbor_build_stringn(s + o, len) : cbor_build_bytestring((cbor_data)s + o, len);
        /* the add takes a reference of its own */
        int added = chunk && (text ? cbor_string_add_chunk(item, chunk)
                                   : cbor_bytestring_add_chunk(item, chunk));
        if (chunk)
            cbor_decref(&chunk);
        if (!added) {
            cbor_decref(&item);
            return NULL;
        }
        o += len;
        chunks += o == n;
    }
    return item;
}

static inline cbor_item_t *enc_array(enc_rng *r, size_t n)
{
    return enc_pick(r, 3) == 0 ? cbor_new_indefinite_array() : cbor_new_definite_array(n);
}

static inline cbor_item_t *enc_map(enc_rng *r, size_t n)
{
    return enc_pick(r, 3) == 0 ? cbor_new_indefinite_map() : cbor_new_definite_map(n);
}

/* Both take a reference of their own and drop the caller's. */
static inline int enc_push(cbor_item_t *array, cbor_item_t *item)
{
    int ok = item && cbor_array_push(array, item);
    if (item)
        cbor_decref(&item);
    return ok;
}

static inline int enc_add(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
    int ok = key && value && cbor_map_add(map, (struct cbor_pair){key, value});
    if (key)
        cbor_decref(&key);
    if (value)
        cbor_decref(&value);
    return ok;
}

static inline cbor_item_t *enc_json(enc_rng *r, const json_t *j)
{
    cbor_item_t *item = NULL;

    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        item = enc_map(r, json_object_size(j));
        json_object_foreach((json_t *)j, key, val)
        {
            if (item && !enc_add(item, enc_string(r, key, strlen(key), 1), enc_json(r, val)))
                cbor_decref(&item);
        }
        break;
    }
    case JSON_ARRAY:
        item = enc_array(r, json_array_size(j));
        for (size_t i = 0; item && i < json_array_size(j); i++)
            if (!enc_push(item, enc_json(r, json_array_get(j, i))))
                cbor_decref(&item);
        break;
    case JSON_STRING:
        return enc_string(r, json_string_value(j), json_string_length(j), 1);
    case JSON_INTEGER:
        return enc_int(r, json_integer_value(j));
    case JSON_REAL:
        return enc_real(r, json_real_value(j));
    case JSON_TRUE:
        return cbor_build_bool(true);
    case JSON_FALSE:
        return cbor_build_bool(false);
    case JSON_NULL:
        return cbor_new_null();
    }
    return item;
}

static inline cbor_item_t *enc_value(enc_rng *r, const inlet_value *v)
{
    cbor_item_t *item = NULL;

    switch ((inlet_vtype)v->type) {
    case INLET_V_OBJECT:
        item = enc_map(r, v->n);
        for (uint32_t i = 0; item && i < v->n; i++) {
            const inlet_member *m = &v->u.members[i];
            if (!enc_add(item, enc_string(r, m->key, m->key_len, 1), enc_value(r, &m->value)))
                cbor_decref(&item);
        }
        break;
    case INLET_V_ARRAY:
        item = enc_array(r, v->n);
        for (uint32_t i = 0; item && i < v->n; i++)
            if (!enc_push(item, enc_value(r, &v->u.items[i])))
                cbor_decref(&item);
        break;
    case INLET_V_STRING:
        return enc_string(r, v->u.s, v->n, 1);
    case INLET_V_BYTES:
        return enc_string(r, v->u.s, v->n, 0);
    case INLET_V_INT:
        return enc_int(r, v->u.i);
    case INLET_V_REAL:
        return enc_real(r, v->u.r);
    case INLET_V_TRUE:
        return cbor_build_bool(true);
    case INLET_V_FALSE:
        return cbor_build_bool(false);
    case INLET_V_NULL:
        return cbor_new_null();
    }
    return item;
}

/* The serialized item, sometimes behind the self-described tag (RFC 8949 §3.4.6); consumes
 * item. NULL on failure. */
static inline unsigned char *enc_finish(enc_rng *r, cbor_item_t *item, size_t *len)
{
    unsigned char *out = NULL;
    size_t cap = 0;

    *len = 0;
    if (!item)
        return NULL;
    if (enc_pick(r, 8) == 0) {
        cbor_item_t *tagged = cbor_build_tag(55799, item);
        cbor_decref(&item);
        if (!tagged)
            return NULL;
        item = tagged;
    }
    *len = cbor_serialize_alloc(item, &out, &cap);
    cbor_decref(&item);
    if (*len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Same types (an INT is not a REAL here), bit-identical reals, same member order. */
static inline int strict_equal(const inlet_value *a, const inlet_value *b)
{
    if (a->type != b->type || a->n != b->n)
        return 0;
    switch (a->type) {
    case INLET_V_INT:
        return a->u.i == b->u.i;
    case INLET_V_REAL:
        return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
    case INLET_V_STRING:
    case INLET_V_BYTES:
        return memcmp(a->u.s, b->u.s, a->n) == 0 && a->u.s[a->n] == '\0';
    case INLET_V_ARRAY:
        for (uint32_t i = 0; i < a->n; i++)
            if (!strict_equal(&a->u.items[i], &b->u.items[i]))
                return 0;
        return 1;
    case INLET_V_OBJECT:
        for (uint32_t i = 0; i < a->n; i++) {
            const inlet_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                x->key[x->key_len] != '\0' || !strict_equal(&x->value, &y->value))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

#endif
