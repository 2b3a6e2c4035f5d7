/* record.c - see record.h. */
#include "record.h"

#include <string.h>

#include "crc32c.h"

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void buf_u16(inlet_buf *b, size_t v)
{
    uint8_t t[2];
    put_u16(t, (uint16_t)v);
    inlet_buf_append(b, t, 2);
}

static void buf_u32(inlet_buf *b, size_t v)
{
    uint8_t t[4];
    put_u32(t, (uint32_t)v);
    inlet_buf_append(b, t, 4);
}

int inlet_spool_record_encode(inlet_buf *out, const inlet_spool_record *r)
{
    size_t body = 8 + 2 + r->topic_len + 4 + r->key_len + 2 + 4 + r->value_len;
    if (r->topic_len > 0xffff || r->n_headers > INLET_SPOOL_HEADERS_MAX)
        return -1;
    for (size_t i = 0; i < r->n_headers; i++) {
        const inlet_spool_header *h = &r->headers[i];
        if (h->name_len > 0xffff || (h->value && h->value_len >= INLET_SPOOL_NULL_VALUE))
            return -1;
        body += 2 + h->name_len + 4 + (h->value ? h->value_len : 0);
    }
    if (body > INLET_SPOOL_BODY_MAX)
        return -1;
    size_t start = out->len;
    if (inlet_buf_reserve(out, INLET_SPOOL_FRAME_LEN + body) != 0)
        return -1;
    uint8_t frame[INLET_SPOOL_FRAME_LEN] = {0};
    inlet_buf_append(out, frame, sizeof(frame));
    uint8_t ts[8];
    put_u64(ts, (uint64_t)r->spooled_at_us);
    inlet_buf_append(out, ts, 8);
    buf_u16(out, r->topic_len);
    inlet_buf_append(out, r->topic, r->topic_len);
    buf_u32(out, r->key_len);
    inlet_buf_append(out, r->key, r->key_len);
    buf_u16(out, r->n_headers);
    for (size_t i = 0; i < r->n_headers; i++) {
        const inlet_spool_header *h = &r->headers[i];
        buf_u16(out, h->name_len);
        inlet_buf_append(out, h->name, h->name_len);
        buf_u32(out, h->value ? h->value_len : INLET_SPOOL_NULL_VALUE);
        if (h->value)
            inlet_buf_append(out, h->value, h->value_len);
    }
    buf_u32(out, r->value_len);
    inlet_buf_append(out, r->value, r->value_len);
    if (out->failed)
        return -1;
    uint8_t *f = (uint8_t *)out->data + start;
    put_u32(f, (uint32_t)body);
    uint32_t crc = inlet_crc32c(0, f, 4);
    crc = inlet_crc32c(crc, f + INLET_SPOOL_FRAME_LEN, body);
    put_u32(f + 4, crc);
    return 0;
}

/* Take n bytes from the body cursor; NULL if fewer are left. */
static const uint8_t *take(const uint8_t **p, size_t *left, size_t n)
{
    if (*left < n)
        return NULL;
    const uint8_t *r = *p;
    *p += n;
    *left -= n;
    return r;
}

inlet_spool_rec_status inlet_spool_record_decode(const uint8_t *p, size_t len,
                                                 inlet_spool_record *rec, size_t *used)
{
    if (len < INLET_SPOOL_FRAME_LEN)
        return INLET_SPOOL_REC_SHORT;
    uint32_t body_len = get_u32(p);
    if (body_len > INLET_SPOOL_BODY_MAX || body_len < 8 + 2 + 4 + 2 + 4)
        return INLET_SPOOL_REC_BAD;
    if (len - INLET_SPOOL_FRAME_LEN < body_len)
        return INLET_SPOOL_REC_SHORT;
    uint32_t crc = inlet_crc32c(0, p, 4);
    crc = inlet_crc32c(crc, p + INLET_SPOOL_FRAME_LEN, body_len);
    if (crc != get_u32(p + 4))
        return INLET_SPOOL_REC_BAD;

    /* The CRC matched, but the body is still checked field by field: a parser of bytes read
     * from disk trusts nothing it can verify. */
    const uint8_t *b = p + INLET_SPOOL_FRAME_LEN, *f;
    size_t left = body_len;
    memset(rec, 0, sizeof(*rec));
    if (!(f = take(&b, &left, 8)))
        return INLET_SPOOL_REC_BAD;
    rec->spooled_at_us = (int64_t)get_u64(f);
    if (!(f = take(&b, &left, 2)))
        return INLET_SPOOL_REC_BAD;
    rec->topic_len = get_u16(f);
    if (!(f = take(&b, &left, rec->topic_len)))
        return INLET_SPOOL_REC_BAD;
    rec->topic = (const char *)f;
    if (!(f = take(&b, &left, 4)))
        return INLET_SPOOL_REC_BAD;
    rec->key_len = get_u32(f);
    if (!(f = take(&b, &left, rec->key_len)))
        return INLET_SPOOL_REC_BAD;
    rec->key = (const char *)f;
    if (!(f = take(&b, &left, 2)))
        return INLET_SPOOL_REC_BAD;
    rec->n_headers = get_u16(f);
    if (rec->n_headers > INLET_SPOOL_HEADERS_MAX)
        return INLET_SPOOL_REC_BAD;
    rec->header_bytes = b;
    for (size_t i = 0; i < rec->n_headers; i++) {
        if (!(f = take(&b, &left, 2)) || !take(&b, &left, get_u16(f)) || !(f = take(&b, &left, 4)))
            return INLET_SPOOL_REC_BAD;
        uint32_t vl = get_u32(f);
        if (vl != INLET_SPOOL_NULL_VALUE && !take(&b, &left, vl))
            return INLET_SPOOL_REC_BAD;
    }
    if (!(f = take(&b, &left, 4)))
        return INLET_SPOOL_REC_BAD;
    rec->value_len = get_u32(f);
    if (!(f = take(&b, &left, rec->value_len)) || left != 0)
        return INLET_SPOOL_REC_BAD;
    rec->value = (const char *)f;
    *used = INLET_SPOOL_FRAME_LEN + body_len;
    return INLET_SPOOL_REC_OK;
}

void inlet_spool_header_iter_init(inlet_spool_header_iter *it, const inlet_spool_record *rec)
{
    it->p = rec->header_bytes;
    it->left = rec->n_headers;
}

int inlet_spool_header_next(inlet_spool_header_iter *it, inlet_spool_header *h)
{
    if (it->left == 0)
        return 0;
    const uint8_t *p = it->p;
    h->name_len = get_u16(p);
    h->name = (const char *)p + 2;
    p += 2 + h->name_len;
    uint32_t vl = get_u32(p);
    p += 4;
    if (vl == INLET_SPOOL_NULL_VALUE) {
        h->value = NULL;
        h->value_len = 0;
    } else {
        h->value = (const char *)p;
        h->value_len = vl;
        p += vl;
    }
    it->p = p;
    it->left--;
    return 1;
}

void inlet_spool_segment_header(uint8_t *out, uint64_t first_seq)
{
    memcpy(out, INLET_SPOOL_MAGIC, 8);
    put_u64(out + 8, first_seq);
}

int inlet_spool_segment_header_parse(const uint8_t *p, size_t len, uint64_t *first_seq)
{
    if (len < INLET_SPOOL_HEADER_LEN || memcmp(p, INLET_SPOOL_MAGIC, 8) != 0)
        return -1;
    *first_seq = get_u64(p + 8);
    return 0;
}

void inlet_spool_scan_bytes(const uint8_t *p, size_t len, inlet_spool_scan *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t first;
    if (inlet_spool_segment_header_parse(p, len, &first) != 0) {
        out->status = len < INLET_SPOOL_HEADER_LEN ? INLET_SPOOL_REC_SHORT : INLET_SPOOL_REC_BAD;
        return;
    }
    size_t off = INLET_SPOOL_HEADER_LEN;
    out->valid_end = off;
    while (off < len) {
        inlet_spool_record rec;
        size_t used = 0;
        inlet_spool_rec_status st = inlet_spool_record_decode(p + off, len - off, &rec, &used);
        if (st != INLET_SPOOL_REC_OK) {
            out->status = st;
            return;
        }
        if (out->n_records == 0)
            out->first_spooled_at_us = rec.spooled_at_us;
        out->n_records++;
        out->record_bytes += used;
        off += used;
        out->valid_end = off;
    }
}
