/*
 * codec.h - the Teltonika TCP framing (wiki "Teltonika Data Sending Protocols", "Codec"): the
 * IMEI handshake and the envelope of an AVL data packet. Pure: no I/O, no allocation, also used
 * by the unit tests and the fuzzer. The records inside a packet are avl.h's.
 *
 *   IMEI       [length u16 BE][length ASCII digits]             server answers 01 or 00
 *   AVL data   [00 00 00 00][data length u32 BE][codec id u8][count u8][records...]
 *              [count u8][CRC u32 BE: CRC-16/IBM of codec id..second count, upper half zero]
 *                                                               server answers count u32 BE
 *
 * Everything is big-endian. "data length" counts the bytes from the codec id to the second
 * count inclusive.
 */
#ifndef INLET_TELTONIKA_CODEC_H
#define INLET_TELTONIKA_CODEC_H

#include <stddef.h>
#include <stdint.h>

enum tlt_codec_id {
    TLT_CODEC_8 = 0x08,
    TLT_CODEC_8E = 0x8E, /* Codec 8 Extended: 2-byte IO ids and counts, variable-length IO */
    TLT_CODEC_16 = 0x10, /* 2-byte IO ids, generation type */
};

/* Results of the parsers. */
enum { TLT_OK = 0, TLT_NEED_MORE = 1, TLT_ERROR = -1 };

#define TLT_IMEI_DIGITS  15u
#define TLT_HEADER_LEN   8u   /* preamble and data length */
#define TLT_TRAILER_LEN  4u   /* CRC */
#define TLT_MIN_DATA_LEN 3u   /* codec id, the two counts */
#define TLT_KEEPALIVE    0xFF /* a lone byte some firmware sends between packets */

/* CRC-16/IBM (ARC): polynomial 0x8005 reflected (0xA001), initial value 0, no final xor. */
uint16_t tlt_crc16(const uint8_t *p, size_t len);

/*
 * The IMEI message at p[0..len): TLT_NEED_MORE until all of it is there, TLT_OK with the digits
 * at *imei (pointing into p) and the message's size in *used, TLT_ERROR with *why when the
 * length is not 15 or the text is not digits.
 */
int tlt_imei_parse(const uint8_t *p, size_t len, const uint8_t **imei, size_t *used,
                   const char **why);

/*
 * The size of the AVL packet starting at p (len bytes so far): TLT_NEED_MORE until its 8-byte
 * header is there, then TLT_OK with *total = 12 + data length, or TLT_ERROR with *why when the
 * preamble is not zero or the data length is below 3 or above max_data. Decided on the header
 * alone, so that nothing is buffered for a packet that will be refused.
 */
int tlt_packet_size(const uint8_t *p, size_t len, uint32_t max_data, size_t *total,
                    const char **why);

/* A whole AVL packet, checked: CRC, codec, the two counts. */
typedef struct tlt_packet {
    uint8_t codec;          /* enum tlt_codec_id */
    uint8_t count;          /* records announced (both counts agree, at least 1) */
    const uint8_t *records; /* between the two counts, pointing into the packet */
    size_t records_len;
    uint16_t crc;
} tlt_packet;

/*
 * Check the packet of exactly total bytes at p (tlt_packet_size() said so): TLT_OK with *out, or
 * TLT_ERROR with *why (static text) for a CRC mismatch, a codec other than 8, 8E and 16, a record
 * count of 0, or counts that differ. The records themselves are avl.h's to decode.
 */
int tlt_packet_parse(const uint8_t *p, size_t total, tlt_packet *out, const char **why);

/* The 4-byte acknowledgement: records accepted (0 = none; the device sends them again). */
void tlt_ack_encode(uint8_t out[4], uint32_t count);

/* Longest textual name of a codec ("8", "8E", "16"); NULL for another id. */
const char *tlt_codec_name(uint8_t codec);

#endif
