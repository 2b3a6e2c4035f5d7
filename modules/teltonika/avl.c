/*
 * avl.c - decoding AVL records of Codec 8, 8 Extended and 16 (avl.h). Every read is bounds-
 * checked against the record's input; nothing is trusted from a count.
 */
#include <stdio.h>

#include "avl.h"
#include "codec.h"

#define GPS_LEN 15u

typedef struct layout {
    unsigned event_w; /* bytes of the event IO id */
    bool generation;  /* a generation type byte follows it (Codec 16) */
    unsigned count_w; /* bytes of N and of each group's count */
    unsigned id_w;    /* bytes of an IO id */
    bool variable;    /* an NX group follows (Codec 8E) */
} layout;

static layout layout_of(uint8_t codec)
{
    switch (codec) {
    case TLT_CODEC_8E:
        return (layout){2, false, 2, 2, true};
    case TLT_CODEC_16:
        return (layout){2, true, 1, 2, false};
    default:
        return (layout){1, false, 1, 1, false};
    }
}

static uint64_t be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static const unsigned group_size[4] = {1, 2, 4, 8};

int tlt_record_decode(uint8_t codec, const uint8_t *p, size_t len, tlt_record *r, size_t *used,
                      char *why, size_t why_len)
{
    layout l = layout_of(codec);
    size_t off = 8 + 1 + GPS_LEN;
    size_t head = off + l.event_w + (l.generation ? 1 : 0) + l.count_w;

    if (len < head) {
        snprintf(why, why_len, "ends at byte %zu, inside the record header (%zu bytes)", len, head);
        return -1;
    }
    r->timestamp_ms = be(p, 8);
    r->priority = p[8];
    r->longitude = (int32_t)(uint32_t)be(p + 9, 4);
    r->latitude = (int32_t)(uint32_t)be(p + 13, 4);
    r->altitude = (int16_t)(uint16_t)be(p + 17, 2);
    r->angle = (uint16_t)be(p + 19, 2);
    r->satellites = p[21];
    r->speed = (uint16_t)be(p + 22, 2);
    r->event_io = (uint16_t)be(p + off, l.event_w);
    off += l.event_w;
    r->generation_type = -1;
    if (l.generation)
        r->generation_type = p[off++];
    uint64_t n_total = be(p + off, l.count_w);
    off += l.count_w;
    r->codec = codec;
    r->io = p + off;

    uint64_t seen = 0;
    for (int g = 0; g < 4 + (l.variable ? 1 : 0); g++) {
        if (len - off < l.count_w) {
            snprintf(why, why_len, "ends at byte %zu, before the count of %s IO elements", len,
                     g < 4 ? (const char *[]){"1-byte", "2-byte", "4-byte", "8-byte"}[g]
                           : "variable-length");
            return -1;
        }
        uint64_t n = be(p + off, l.count_w);
        off += l.count_w;
        for (uint64_t i = 0; i < n; i++) {
            size_t need = l.id_w + (g < 4 ? group_size[g] : 2u);
            if (len - off < need) {
                snprintf(why, why_len, "ends at byte %zu, inside IO element %llu", len,
                         (unsigned long long)(seen + i));
                return -1;
            }
            if (g == 4) {
                size_t vlen = (size_t)be(p + off + l.id_w, 2);
                if (len - off - need < vlen) {
                    snprintf(why, why_len,
                             "ends at byte %zu, inside variable-length IO element %llu", len,
                             (unsigned long long)(seen + i));
                    return -1;
                }
                need += vlen;
            }
            off += need;
        }
        seen += n;
    }
    if (seen != n_total) {
        snprintf(why, why_len, "announces %llu IO elements but its groups hold %llu",
                 (unsigned long long)n_total, (unsigned long long)seen);
        return -1;
    }
    r->n_io = (uint16_t)n_total;
    r->io_len = (size_t)(p + off - r->io);
    r->raw = p;
    r->raw_len = off;
    *used = off;
    return 0;
}

int tlt_records_decode(uint8_t codec, const uint8_t *records, size_t records_len, size_t count,
                       tlt_record *recs, char *why, size_t why_len)
{
    size_t off = 0;
    char inner[160];

    for (size_t i = 0; i < count; i++) {
        size_t used = 0;
        if (off == records_len) {
            snprintf(why, why_len, "%zu records announced, the data holds %zu", count, i);
            return -1;
        }
        if (tlt_record_decode(codec, records + off, records_len - off, &recs[i], &used, inner,
                              sizeof(inner)) != 0) {
            snprintf(why, why_len, "record %zu (at data byte %zu): %s", i, off + 2, inner);
            return -1;
        }
        off += used;
    }
    if (off != records_len) {
        snprintf(why, why_len, "%zu bytes after the %zu records announced", records_len - off,
                 count);
        return -1;
    }
    return 0;
}

void tlt_io_begin(const tlt_record *r, tlt_io_iter *it)
{
    it->r = r;
    it->off = 0;
    it->group = -1;
    it->left = 0;
}

bool tlt_io_next(tlt_io_iter *it, tlt_io *out)
{
    layout l = layout_of(it->r->codec);
    const uint8_t *p = it->r->io;
    int groups = 4 + (l.variable ? 1 : 0);

    while (it->left == 0) {
        if (++it->group >= groups)
            return false;
        it->left = (unsigned)be(p + it->off, l.count_w);
        it->off += l.count_w;
    }
    out->id = (uint16_t)be(p + it->off, l.id_w);
    it->off += l.id_w;
    if (it->group < 4) {
        out->size = (uint8_t)group_size[it->group];
        out->value = be(p + it->off, out->size);
        out->bytes = p + it->off;
        out->len = out->size;
        it->off += out->size;
    } else {
        out->size = 0;
        out->len = (uint16_t)be(p + it->off, 2);
        out->bytes = p + it->off + 2;
        out->value = 0;
        it->off += 2u + out->len;
    }
    it->left--;
    return true;
}
