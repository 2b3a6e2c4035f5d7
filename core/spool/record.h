/*
 * record.h - one spooled Kafka record on disk, and the segment file header. Pure functions over
 * bytes (no I/O), shared by the writer, the recovery scan, the forwarder and the fuzz target.
 *
 * A segment file is a 16-byte header, then records back to back:
 *
 *   header:  "INLSPL01" | u64 first_seq           (the sequence number of its first record)
 *   record:  u32 body_len | u32 crc | body
 *   body:    i64 spooled_at_us | u16 topic_len | topic | u32 key_len | key
 *            | u16 n_headers | n x (u16 name_len | name | u32 value_len | value) | u32 value_len
 *            | value
 *
 * Integers are little-endian. crc is CRC-32C over the 4 length bytes and the body, so a torn or
 * overwritten length is caught as surely as a torn body. A header value_len of 0xffffffff is a
 * header without a value. A record's sequence number is not stored: it is its segment's
 * first_seq plus its position, so a record can be encoded (and its CRC computed) before the
 * journal's lock decides where it goes.
 */
#ifndef INLET_SPOOL_RECORD_H
#define INLET_SPOOL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define INLET_SPOOL_MAGIC       "INLSPL01"
#define INLET_SPOOL_HEADER_LEN  16
#define INLET_SPOOL_FRAME_LEN   8 /* body_len + crc */
#define INLET_SPOOL_BODY_MAX    (16u << 20)
#define INLET_SPOOL_NULL_VALUE  0xffffffffu
#define INLET_SPOOL_HEADERS_MAX 256

typedef struct inlet_spool_header {
    const char *name;
    size_t name_len;
    const char *value; /* NULL = no value */
    size_t value_len;
} inlet_spool_header;

/* A record as fields; when decoded, every pointer points into the decoded bytes. */
typedef struct inlet_spool_record {
    int64_t spooled_at_us;
    const char *topic;
    size_t topic_len;
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    size_t n_headers;
    const inlet_spool_header *headers; /* encode: the caller's array */
    const uint8_t *header_bytes;       /* decode: the encoded headers, for the iterator */
} inlet_spool_record;

typedef enum {
    INLET_SPOOL_REC_OK = 0,
    INLET_SPOOL_REC_SHORT = 1, /* fewer bytes than the frame says: at EOF, a torn tail */
    INLET_SPOOL_REC_BAD = 2    /* CRC mismatch, impossible length or inconsistent body */
} inlet_spool_rec_status;

/* Append the framed record to out; -1 if a field is too long or out of memory. */
int inlet_spool_record_encode(inlet_buf *out, const inlet_spool_record *r);
/* Decode the record at the start of p[0..len). On OK, *rec and *used (frame + body bytes). */
inlet_spool_rec_status inlet_spool_record_decode(const uint8_t *p, size_t len,
                                                 inlet_spool_record *rec, size_t *used);
/* Header i (< rec->n_headers) of a decoded record; walks from the first, so iterate with
 * inlet_spool_header_next() instead when reading them all. */
typedef struct inlet_spool_header_iter {
    const uint8_t *p;
    size_t left;
} inlet_spool_header_iter;
void inlet_spool_header_iter_init(inlet_spool_header_iter *it, const inlet_spool_record *rec);
/* 1 and *h, or 0 at the end. Only for records decode() accepted (they were checked there). */
int inlet_spool_header_next(inlet_spool_header_iter *it, inlet_spool_header *h);

/* The segment header for first_seq into out[INLET_SPOOL_HEADER_LEN]. */
void inlet_spool_segment_header(uint8_t *out, uint64_t first_seq);
/* 0 and *first_seq if p[0..len) starts with a valid segment header, else -1. */
int inlet_spool_segment_header_parse(const uint8_t *p, size_t len, uint64_t *first_seq);

/* What a scan of a whole segment's bytes found: records that decode one after the other from
 * the header on; valid_end is the byte after the last whole record, status why the scan
 * stopped before len (OK: it did not). */
typedef struct inlet_spool_scan {
    uint64_t n_records;
    uint64_t valid_end;
    uint64_t record_bytes; /* sum of the whole records' sizes */
    int64_t first_spooled_at_us;
    inlet_spool_rec_status status;
} inlet_spool_scan;
void inlet_spool_scan_bytes(const uint8_t *p, size_t len, inlet_spool_scan *out);

#endif
