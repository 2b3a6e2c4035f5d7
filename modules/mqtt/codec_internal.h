/*
 * codec_internal.h - helpers shared by the MQTT codec's source files (codec.c, codec_props.c,
 * codec_encode.c). Not for the rest of the module: use codec.h.
 *
 * A reader walks a body that the caller fully has in memory; every read checks the end first,
 * so a short body is always "malformed" (0x81), never an overread.
 */
#ifndef INLET_MQTT_CODEC_INTERNAL_H
#define INLET_MQTT_CODEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

/* Property decode context: a packet type, or the will properties of CONNECT. */
#define MQTT_PROP_CTX_WILL 16

/* Reads a Property Length and the properties after it (5.0 §2.2.2) from *p (advanced past
 * them), not beyond end, for packet type / context ctx. out is zeroed first. */
int mqtt_props_decode(const uint8_t **p, const uint8_t *end, unsigned ctx, mqtt_props *out,
                      mqtt_error *err);

/* Size of the encoded property block without its length prefix. */
size_t mqtt_props_encoded_len(const mqtt_props *props);
/* Writes the Property Length (content_len) and the properties; returns the end. */
uint8_t *mqtt_props_encode(uint8_t *w, const mqtt_props *props, size_t content_len);

static inline int mqtt_fail(mqtt_error *err, uint8_t reason, const char *msg)
{
    err->reason = reason;
    err->msg = msg;
    return MQTT_ERROR;
}

static inline size_t mqtt_varint_size(uint32_t v)
{
    return v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
}

static inline uint8_t *mqtt_varint_write(uint8_t *w, uint32_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        *w++ = (uint8_t)(v ? b | 0x80u : b);
    } while (v);
    return w;
}

static inline uint8_t *mqtt_u16_write(uint8_t *w, uint16_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static inline uint8_t *mqtt_u32_write(uint8_t *w, uint32_t v)
{
    w[0] = (uint8_t)(v >> 24);
    w[1] = (uint8_t)(v >> 16);
    w[2] = (uint8_t)(v >> 8);
    w[3] = (uint8_t)v;
    return w + 4;
}

/* The readers return false when fewer bytes remain than the field needs. */
static inline bool mqtt_read_u8(const uint8_t **p, const uint8_t *end, uint8_t *v)
{
    if (end - *p < 1)
        return false;
    *v = (*p)[0];
    *p += 1;
    return true;
}

static inline bool mqtt_read_u16(const uint8_t **p, const uint8_t *end, uint16_t *v)
{
    if (end - *p < 2)
        return false;
    *v = (uint16_t)((*p)[0] << 8 | (*p)[1]);
    *p += 2;
    return true;
}

static inline bool mqtt_read_u32(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    if (end - *p < 4)
        return false;
    *v = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
    *p += 4;
    return true;
}

/* Variable Byte Integer (5.0 §1.5.5): at most 4 bytes. */
static inline bool mqtt_read_varint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
    uint32_t value = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (*p + i >= end)
            return false;
        uint8_t b = (*p)[i];
        value |= (uint32_t)(b & 0x7Fu) << (7 * i);
        if (!(b & 0x80u)) {
            *p += i + 1;
            *v = value;
            return true;
        }
    }
    return false;
}

/* Two-byte length then that many bytes: UTF-8 Encoded String or Binary Data (5.0 §1.5.4,
 * §1.5.6). The result points into the buffer and is never NULL. */
static inline bool mqtt_read_bytes(const uint8_t **p, const uint8_t *end, mqtt_bytes *v)
{
    uint16_t n;
    const uint8_t *q = *p;
    if (!mqtt_read_u16(&q, end, &n) || end - q < n)
        return false;
    v->p = q;
    v->len = n;
    *p = q + n;
    return true;
}

#endif
