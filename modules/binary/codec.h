/*
 * codec.h - the wire format of the Inlet binary protocol, server side (docs/BINARY.md): frame
 * headers, HELLO and DATA bodies decoded, WELCOME, ACK, PONG and CLOSE encoded. Pure: no I/O,
 * no allocation, nothing from the core; used by the module, the unit test and the fuzzer.
 * Decoded fields point into the caller's buffer (borrowed).
 */
#ifndef INLET_BINARY_CODEC_H
#define INLET_BINARY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define BIN_PROTOCOL_VERSION 1u
#define BIN_HEADER_LEN       8u
#define BIN_MAX_HELLO_BODY   8192u /* before authentication, whatever max_frame_size says */
#define BIN_MAX_DEVICE       128u
#define BIN_MAX_TOKEN        4096u
#define BIN_MAX_SCHEMA       128u
#define BIN_MAX_EVENT_ID     64u
#define BIN_MAX_REASON       200u /* bytes of reason text in a server frame */
#define BIN_MAX_SERVER_FRAME (BIN_HEADER_LEN + 12u + BIN_MAX_REASON)

enum bin_type {
    BIN_HELLO = 0x01,
    BIN_DATA = 0x02,
    BIN_PING = 0x03,
    BIN_BYE = 0x04,
    BIN_WELCOME = 0x81,
    BIN_ACK = 0x82,
    BIN_PONG = 0x83,
    BIN_CLOSE = 0x84,
};

enum { BIN_FLAG_EVENT_ID = 0x01 };        /* DATA */
enum { BIN_FLAG_POSSIBLY_STORED = 0x01 }; /* ACK */
enum { BIN_AUTH_NONE = 0, BIN_AUTH_TOKEN = 1 };

/* Statuses: MQTT 5 reason codes where one fits (docs/BINARY.md). */
enum bin_status {
    BIN_ST_OK = 0x00,
    BIN_ST_UNSPECIFIED = 0x80,
    BIN_ST_MALFORMED = 0x81,
    BIN_ST_PROTOCOL = 0x82,
    BIN_ST_BAD_VERSION = 0x84,
    BIN_ST_BAD_CREDENTIALS = 0x86,
    BIN_ST_NOT_AUTHORIZED = 0x87,
    BIN_ST_UNAVAILABLE = 0x88,
    BIN_ST_SHUTTING_DOWN = 0x8B,
    BIN_ST_KEEP_ALIVE = 0x8D,
    BIN_ST_UNKNOWN_SCHEMA = 0x90,
    BIN_ST_WINDOW = 0x93,
    BIN_ST_TOO_LARGE = 0x95,
    BIN_ST_QUOTA = 0x97,
    BIN_ST_PAYLOAD_INVALID = 0x99,
    BIN_ST_CONNECT_TIME = 0xA0, /* the credential expired (MQTT 5 Maximum connect time) */
};

typedef struct bin_header {
    uint32_t length; /* body bytes after the header */
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
} bin_header;

typedef struct bin_bytes {
    const uint8_t *p; /* borrowed; NULL when absent */
    size_t len;
} bin_bytes;

typedef struct bin_hello {
    uint8_t version;
    uint8_t method; /* BIN_AUTH_* */
    uint16_t keep_alive;
    bin_bytes device; /* len 0: no claim */
    bin_bytes token;  /* method TOKEN: 1..BIN_MAX_TOKEN bytes */
} bin_hello;

typedef struct bin_data {
    uint16_t format;  /* CoAP Content-Format */
    bin_bytes schema; /* len 0: the connection's previous schema and version */
    uint8_t version;  /* 1..255 when schema.len > 0 */
    bin_bytes event_id;
    bin_bytes payload;
} bin_data;

/* Results of bin_header_parse(). */
enum { BIN_OK = 0, BIN_NEED_MORE = 1, BIN_ERROR = -1 };

/*
 * The header at p[0..len). BIN_NEED_MORE below 8 bytes; BIN_ERROR (with *status 0x95) when its
 * length is over limit, decided before any body byte is looked at or buffered.
 */
int bin_header_parse(const uint8_t *p, size_t len, uint32_t limit, bin_header *h, uint8_t *status);

/* Bodies. 0, or -1 with *why (static text) and the status to close with. */
int bin_decode_hello(const bin_header *h, const uint8_t *body, bin_hello *out, uint8_t *status,
                     const char **why);
int bin_decode_data(const bin_header *h, const uint8_t *body, bin_data *out, uint8_t *status,
                    const char **why);
/* PING and BYE: empty, flags 0. */
int bin_decode_empty(const bin_header *h, uint8_t *status, const char **why);

/* Encoders write one whole frame into out (cap >= BIN_MAX_SERVER_FRAME is always enough) and
 * return its length, or 0 if cap is too small. reason may be NULL; it is cut at
 * BIN_MAX_REASON bytes. */
size_t bin_encode_welcome(uint8_t *out, size_t cap, uint16_t seq, uint8_t status, uint16_t window,
                          uint16_t keep_alive, uint32_t max_frame, uint16_t retry_after,
                          const char *reason);
size_t bin_encode_ack(uint8_t *out, size_t cap, uint16_t seq, uint8_t flags, uint8_t status,
                      uint16_t retry_after, const char *reason);
size_t bin_encode_pong(uint8_t *out, size_t cap, uint16_t seq);
size_t bin_encode_close(uint8_t *out, size_t cap, uint8_t status, uint16_t retry_after,
                        const char *reason);

/* "accepted", "not_authorized", ... for logs and metric labels; "other" for unknown codes. */
const char *bin_status_name(uint8_t status);

#endif
