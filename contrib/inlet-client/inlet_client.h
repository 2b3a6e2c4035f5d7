/*
 * inlet_client.h - a client of the Inlet binary protocol (docs/BINARY.md), for devices, tests
 * and benchmarks. Copy inlet_client.h and inlet_client.c into a firmware tree: they need libc
 * and POSIX sockets only; define INLET_CLIENT_TLS and link OpenSSL for TLS and mTLS.
 *
 * Two layers:
 *   - the codec (inlet_encode_*, inlet_parse_frame, inlet_decode_answer): pure functions on
 *     caller buffers, no allocation, no I/O; usable with any socket or event loop;
 *   - a blocking connection (inlet_client_*): connect, HELLO/WELCOME, DATA within the window,
 *     read the server's frames (ACK, PONG, CLOSE), BYE.
 *
 * Functions return 0 (or a length) on success and a negative INLET_CLIENT_E_* on failure; an
 * error buffer, where given, gets one line saying why.
 */
#ifndef INLET_CLIENT_H
#define INLET_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define INLET_PROTOCOL_VERSION 1u
#define INLET_HEADER_LEN       8u
#define INLET_MAX_REASON       200u

/* Frame types (docs/BINARY.md, Frames). */
enum {
    INLET_FRAME_HELLO = 0x01,
    INLET_FRAME_DATA = 0x02,
    INLET_FRAME_PING = 0x03,
    INLET_FRAME_BYE = 0x04,
    INLET_FRAME_WELCOME = 0x81,
    INLET_FRAME_ACK = 0x82,
    INLET_FRAME_PONG = 0x83,
    INLET_FRAME_CLOSE = 0x84,
};

enum { INLET_DATA_FLAG_EVENT_ID = 0x01, INLET_ACK_FLAG_POSSIBLY_STORED = 0x01 };

/* Payload formats: CoAP Content-Format numbers. */
enum {
    INLET_FORMAT_LAYOUT = 42, /* application/octet-stream: the schema's x-inlet-layout */
    INLET_FORMAT_JSON = 50,
    INLET_FORMAT_CBOR = 60,
    INLET_FORMAT_SENML_JSON = 110,
    INLET_FORMAT_SENML_CBOR = 112,
};

/* Statuses (MQTT 5 reason codes where one fits). */
enum {
    INLET_STATUS_OK = 0x00,
    INLET_STATUS_UNSPECIFIED = 0x80,
    INLET_STATUS_MALFORMED = 0x81,
    INLET_STATUS_PROTOCOL = 0x82,
    INLET_STATUS_BAD_VERSION = 0x84,
    INLET_STATUS_BAD_CREDENTIALS = 0x86,
    INLET_STATUS_NOT_AUTHORIZED = 0x87,
    INLET_STATUS_UNAVAILABLE = 0x88,
    INLET_STATUS_SHUTTING_DOWN = 0x8B,
    INLET_STATUS_KEEP_ALIVE = 0x8D,
    INLET_STATUS_UNKNOWN_SCHEMA = 0x90,
    INLET_STATUS_WINDOW = 0x93,
    INLET_STATUS_TOO_LARGE = 0x95,
    INLET_STATUS_QUOTA = 0x97,
    INLET_STATUS_PAYLOAD_INVALID = 0x99,
};

/* Errors of this library (negative). */
enum {
    INLET_CLIENT_E_ARG = -1,      /* a bad argument (too long, too small a buffer) */
    INLET_CLIENT_E_IO = -2,       /* socket or TLS failure; the connection is unusable */
    INLET_CLIENT_E_TIMEOUT = -3,  /* nothing arrived in time */
    INLET_CLIENT_E_PROTOCOL = -4, /* the server sent something this library does not accept */
    INLET_CLIENT_E_WINDOW = -5,   /* the window is full: read an ACK first */
    INLET_CLIENT_E_CLOSED = -6,   /* the server closed the connection */
    INLET_CLIENT_E_REFUSED = -7,  /* WELCOME refused; see its status */
};

/* ---- codec ---- */

typedef struct inlet_frame {
    uint32_t length; /* of the body */
    uint8_t type;
    uint8_t flags;
    uint16_t seq;
    const uint8_t *body; /* borrowed: points into the parsed buffer */
} inlet_frame;

/* A server frame, decoded. */
typedef struct inlet_answer {
    uint8_t type;   /* INLET_FRAME_WELCOME, _ACK, _PONG, _CLOSE */
    uint8_t status; /* WELCOME, ACK, CLOSE */
    uint8_t flags;  /* ACK: INLET_ACK_FLAG_POSSIBLY_STORED */
    uint16_t seq;
    uint16_t retry_after;              /* seconds */
    uint16_t window;                   /* WELCOME */
    uint16_t keep_alive;               /* WELCOME: seconds enforced */
    uint32_t max_frame;                /* WELCOME */
    char reason[INLET_MAX_REASON + 1]; /* NUL-terminated, "" if none */
} inlet_answer;

/* HELLO with a bearer token (token_len 0: method 0, the TLS client certificate
 * authenticates). device may be NULL. Returns the frame's length, or INLET_CLIENT_E_ARG. */
int inlet_encode_hello(uint8_t *out, size_t cap, uint16_t keep_alive, const char *device,
                       const void *token, size_t token_len);
/* DATA. schema NULL: the connection's previous schema and version (schema_len 0). event_id
 * may be NULL. */
int inlet_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint16_t format, const char *schema,
                      uint8_t version, const char *event_id, const void *payload,
                      size_t payload_len);
int inlet_encode_ping(uint8_t *out, size_t cap, uint16_t seq);
int inlet_encode_bye(uint8_t *out, size_t cap);

/* One frame at buf[0..len): its total length (> 0), 0 when more bytes are needed, or
 * INLET_CLIENT_E_PROTOCOL when its length is over max_body. */
int inlet_parse_frame(const uint8_t *buf, size_t len, uint32_t max_body, inlet_frame *f);
/* A server frame into *a; INLET_CLIENT_E_PROTOCOL if it is not one. */
int inlet_decode_answer(const inlet_frame *f, inlet_answer *a);

/* "accepted", "not authorized", ... */
const char *inlet_status_text(uint8_t status);

/* ---- blocking connection ---- */

typedef struct inlet_client inlet_client;

typedef struct inlet_client_config {
    const char *host;    /* name or address; default "127.0.0.1" */
    const char *port;    /* default "7000" */
    const char *token;   /* bearer token, or NULL with a client certificate */
    const char *device;  /* optional device id claim */
    uint16_t keep_alive; /* seconds; 0: the server's maximum */
    int timeout_ms;      /* connect and WELCOME; default 10000 */
    /* TLS (only with INLET_CLIENT_TLS): */
    int tls;
    const char *ca_file;   /* verify the server against it (NULL: no verification) */
    const char *cert_file; /* client certificate for mTLS (PEM), or NULL */
    const char *key_file;
    const char *server_name; /* SNI and verified name; default host */
} inlet_client_config;

/* Connect, send HELLO and read WELCOME into *welcome (if not NULL). NULL on failure with err
 * filled; a refused HELLO also fills *welcome (status != 0). */
inlet_client *inlet_client_connect(const inlet_client_config *cfg, inlet_answer *welcome, char *err,
                                   size_t err_len);
/* Send one DATA frame, numbered by the client (0, 1, 2...; *seq gets the number). A schema
 * equal to the previous frame's is sent as schema_len 0. INLET_CLIENT_E_WINDOW when as many
 * frames as the window are unacknowledged. */
int inlet_client_send(inlet_client *c, uint16_t format, const char *schema, uint8_t version,
                      const char *event_id, const void *payload, size_t len, uint16_t *seq);
/* The next server frame (ACK, PONG, CLOSE), waiting at most timeout_ms (-1: forever). An ACK
 * answers the oldest unacknowledged frame. After CLOSE, INLET_CLIENT_E_CLOSED follows. */
int inlet_client_read(inlet_client *c, inlet_answer *a, int timeout_ms);
int inlet_client_ping(inlet_client *c);
/* BYE: the server sends the ACKs still owed, then CLOSE 0x00. */
int inlet_client_bye(inlet_client *c);
unsigned inlet_client_unacked(const inlet_client *c);
unsigned inlet_client_window(const inlet_client *c);
void inlet_client_close(inlet_client *c);

#ifdef __cplusplus
}
#endif

#endif
