/*
 * avl.h - the AVL records inside a Teltonika data packet (codec.h checked the envelope), for
 * Codec 8, Codec 8 Extended and Codec 16. Pure: no I/O, no allocation; records and IO elements
 * point into the packet.
 *
 *   record    [timestamp u64 ms][priority u8][GPS element 15][IO element]
 *   GPS       [longitude s32][latitude s32] (degrees x 10^7) [altitude s16 m][angle u16 deg]
 *             [satellites u8][speed u16 km/h]
 *   IO  8     [event id u8] [N u8]  [N1 u8] N1 x [id u8][u8]  [N2 u8] N2 x [id u8][u16]
 *             [N4 u8] N4 x [id u8][u32]  [N8 u8] N8 x [id u8][u64]
 *   IO  8E    as 8 with every id and count u16, then [NX u16] NX x [id u16][len u16][len bytes]
 *   IO  16    [event id u16][generation type u8] [N u8] then as 8 with u16 ids, u8 counts
 *
 * N must be N1 + N2 + N4 + N8 (+ NX). Everything is big-endian.
 */
#ifndef INLET_TELTONIKA_AVL_H
#define INLET_TELTONIKA_AVL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tlt_record {
    uint64_t timestamp_ms; /* GPS time, milliseconds since the epoch (UTC) */
    uint8_t priority;      /* 0 low, 1 high, 2 panic (others are passed on as numbers) */
    int32_t longitude;     /* degrees x 10^7, west negative */
    int32_t latitude;      /* degrees x 10^7, south negative */
    int16_t altitude;      /* metres above sea level */
    uint16_t angle;        /* degrees clockwise from north */
    uint8_t satellites;
    uint16_t speed;      /* km/h; 0 without a fix */
    uint16_t event_io;   /* the IO id that caused the record, 0 for a periodic one */
    int generation_type; /* Codec 16 only: 0..7; -1 otherwise */
    uint16_t n_io;       /* IO elements (N) */
    uint8_t codec;       /* how io is laid out */
    const uint8_t *io;   /* from the N1 count to the end of the IO element */
    size_t io_len;
    const uint8_t *raw; /* the whole record */
    size_t raw_len;
} tlt_record;

/* One IO element. size 1, 2, 4, 8: value holds it (zero-extended); size 0: a Codec 8E
 * variable-length element, bytes[0..len). */
typedef struct tlt_io {
    uint16_t id;
    uint8_t size;
    uint64_t value;
    const uint8_t *bytes;
    uint16_t len;
} tlt_io;

/*
 * Decode one record of codec at p[0..len): 0 with *r and the bytes it took in *used, or -1 with
 * why (what is wrong and at which byte of the record) for a record that runs past len or whose
 * IO counts do not add up. Every IO element is walked here, so tlt_io_next() cannot fail.
 */
int tlt_record_decode(uint8_t codec, const uint8_t *p, size_t len, tlt_record *r, size_t *used,
                      char *why, size_t why_len);

/*
 * Decode exactly count records filling records_len bytes into recs (count entries): 0, or -1 with
 * why ("record 2: ...", or trailing bytes, or fewer bytes than records).
 */
int tlt_records_decode(uint8_t codec, const uint8_t *records, size_t records_len, size_t count,
                       tlt_record *recs, char *why, size_t why_len);

/* The IO elements of a decoded record, in packet order: 1-byte ones, 2-, 4-, 8-byte ones, then
 * variable-length ones. */
typedef struct tlt_io_iter {
    const tlt_record *r;
    size_t off;    /* into r->io */
    int group;     /* 0: 1-byte ... 3: 8-byte, 4: variable; 5: done */
    unsigned left; /* elements left in the group */
} tlt_io_iter;

void tlt_io_begin(const tlt_record *r, tlt_io_iter *it);
bool tlt_io_next(tlt_io_iter *it, tlt_io *out);

#endif
