/*
 * codec.c - Teltonika TCP framing: IMEI handshake, AVL packet envelope and CRC (codec.h).
 */
#include "codec.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint16_t tlt_crc16(const uint8_t *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

int tlt_imei_parse(const uint8_t *p, size_t len, const uint8_t **imei, size_t *used,
                   const char **why)
{
    if (len < 2)
        return TLT_NEED_MORE;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n != TLT_IMEI_DIGITS) {
        /* Decided on the length alone: nothing longer is ever buffered. */
        *why = "the IMEI length is not 15";
        return TLT_ERROR;
    }
    if (len < 2 + n)
        return TLT_NEED_MORE;
    for (size_t i = 0; i < n; i++) {
        if (p[2 + i] < '0' || p[2 + i] > '9') {
            *why = "the IMEI is not 15 ASCII digits";
            return TLT_ERROR;
        }
    }
    *imei = p + 2;
    *used = 2 + n;
    return TLT_OK;
}

int tlt_packet_size(const uint8_t *p, size_t len, uint32_t max_data, size_t *total,
                    const char **why)
{
    if (len < TLT_HEADER_LEN)
        return TLT_NEED_MORE;
    if (be32(p) != 0) {
        *why = "the preamble is not four zero bytes";
        return TLT_ERROR;
    }
    uint32_t data = be32(p + 4);
    if (data < TLT_MIN_DATA_LEN) {
        *why = "the data length is below 3";
        return TLT_ERROR;
    }
    if (data > max_data) {
        *why = "the data length is past max_packet_size";
        return TLT_ERROR;
    }
    *total = (size_t)TLT_HEADER_LEN + data + TLT_TRAILER_LEN;
    return TLT_OK;
}

int tlt_packet_parse(const uint8_t *p, size_t total, tlt_packet *out, const char **why)
{
    if (total < TLT_HEADER_LEN + TLT_MIN_DATA_LEN + TLT_TRAILER_LEN) {
        *why = "shorter than an empty packet";
        return TLT_ERROR;
    }
    const uint8_t *data = p + TLT_HEADER_LEN;
    size_t data_len = total - TLT_HEADER_LEN - TLT_TRAILER_LEN;
    if (be32(p + 4) != data_len) {
        *why = "the data length does not match the packet";
        return TLT_ERROR;
    }
    uint32_t crc = be32(p + total - TLT_TRAILER_LEN);
    uint16_t mine = tlt_crc16(data, data_len);
    if (crc != mine) {
        *why = "CRC-16 mismatch";
        return TLT_ERROR;
    }
    if (tlt_codec_name(data[0]) == NULL) {
        *why = "the codec is not 8, 8 Extended or 16";
        return TLT_ERROR;
    }
    if (data[1] != data[data_len - 1]) {
        *why = "the two record counts differ";
        return TLT_ERROR;
    }
    if (data[1] == 0) {
        *why = "the record count is 0";
        return TLT_ERROR;
    }
    out->codec = data[0];
    out->count = data[1];
    out->records = data + 2;
    out->records_len = data_len - 3;
    out->crc = mine;
    return TLT_OK;
}

void tlt_ack_encode(uint8_t out[4], uint32_t count)
{
    out[0] = (uint8_t)(count >> 24);
    out[1] = (uint8_t)(count >> 16);
    out[2] = (uint8_t)(count >> 8);
    out[3] = (uint8_t)count;
}

const char *tlt_codec_name(uint8_t codec)
{
    switch (codec) {
    case TLT_CODEC_8:
        return "8";
    case TLT_CODEC_8E:
        return "8E";
    case TLT_CODEC_16:
        return "16";
    default:
        return NULL;
    }
}
