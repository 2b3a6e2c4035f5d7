/*
 * codec.c - frames of the Inlet binary protocol, server side (docs/BINARY.md). Every length is
 * checked against what is left of the body before it is used.
 */
#include <string.h>

#include "codec.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static int fail(uint8_t *status, const char **why, uint8_t st, const char *msg)
{
    *status = st;
    *why = msg;
    return -1;
}

int bin_header_parse(const uint8_t *p, size_t len, uint32_t limit, bin_header *h, uint8_t *status)
{
    if (len < BIN_HEADER_LEN)
        return BIN_NEED_MORE;
    h->length = get32(p);
    h->type = p[4];
    h->flags = p[5];
    h->seq = get16(p + 6);
    if (h->length > limit) {
        *status = BIN_ST_TOO_LARGE;
        return BIN_ERROR;
    }
    return BIN_OK;
}

/* Event ids as the envelope takes them (ENVELOPE.md): 1-64 of A-Z a-z 0-9 . _ : - */
static int event_id_valid(const uint8_t *p, size_t n)
{
    if (n == 0 || n > BIN_MAX_EVENT_ID)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

int bin_decode_hello(const bin_header *h, const uint8_t *body, bin_hello *out, uint8_t *status,
                     const char **why)
{
    size_t len = h->length;

    memset(out, 0, sizeof(*out));
    if (h->flags != 0)
        return fail(status, why, BIN_ST_PROTOCOL, "HELLO flags must be 0");
    if (len < 5)
        return fail(status, why, BIN_ST_MALFORMED, "HELLO is shorter than 5 bytes");
    out->version = body[0];
    out->method = body[1];
    out->keep_alive = get16(body + 2);
    size_t dlen = body[4];
    if (out->version != BIN_PROTOCOL_VERSION)
        return fail(status, why, BIN_ST_BAD_VERSION, "unsupported protocol version");
    if (dlen > BIN_MAX_DEVICE || 5 + dlen > len)
        return fail(status, why, BIN_ST_MALFORMED, "HELLO device id runs past the frame");
    if (dlen > 0)
        out->device = (bin_bytes){body + 5, dlen};
    size_t tlen = len - 5 - dlen;
    switch (out->method) {
    case BIN_AUTH_NONE:
        if (tlen != 0)
            return fail(status, why, BIN_ST_MALFORMED, "HELLO method 0 carries no token");
        break;
    case BIN_AUTH_TOKEN:
        if (tlen == 0 || tlen > BIN_MAX_TOKEN)
            return fail(status, why, BIN_ST_MALFORMED, "HELLO token must be 1 to 4096 bytes");
        out->token = (bin_bytes){body + 5 + dlen, tlen};
        break;
    default:
        return fail(status, why, BIN_ST_MALFORMED, "unknown HELLO method");
    }
    return 0;
}

int bin_decode_data(const bin_header *h, const uint8_t *body, bin_data *out, uint8_t *status,
                    const char **why)
{
    size_t len = h->length, off;

    memset(out, 0, sizeof(*out));
    if ((h->flags & ~BIN_FLAG_EVENT_ID) != 0)
        return fail(status, why, BIN_ST_PROTOCOL, "undefined DATA flags");
    if (len < 3)
        return fail(status, why, BIN_ST_MALFORMED, "DATA is shorter than 3 bytes");
    out->format = get16(body);
    size_t slen = body[2];
    off = 3;
    if (slen > 0) {
        if (slen > BIN_MAX_SCHEMA || off + slen + 1 > len)
            return fail(status, why, BIN_ST_MALFORMED, "DATA schema runs past the frame");
        out->schema = (bin_bytes){body + off, slen};
        off += slen;
        out->version = body[off++];
        if (out->version == 0)
            return fail(status, why, BIN_ST_MALFORMED, "DATA schema version 0");
    }
    if (h->flags & BIN_FLAG_EVENT_ID) {
        if (off >= len)
            return fail(status, why, BIN_ST_MALFORMED, "DATA event id runs past the frame");
        size_t elen = body[off++];
        if (off + elen > len || !event_id_valid(body + off, elen))
            return fail(status, why, BIN_ST_MALFORMED,
                        "DATA event id must be 1 to 64 of A-Z a-z 0-9 . _ : -");
        out->event_id = (bin_bytes){body + off, elen};
        off += elen;
    }
    out->payload = (bin_bytes){body + off, len - off};
    return 0;
}

int bin_decode_empty(const bin_header *h, uint8_t *status, const char **why)
{
    if (h->flags != 0)
        return fail(status, why, BIN_ST_PROTOCOL, "flags must be 0");
    if (h->length != 0)
        return fail(status, why, BIN_ST_MALFORMED, "PING and BYE have no body");
    return 0;
}

static size_t reason_len(const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    return n > BIN_MAX_REASON ? BIN_MAX_REASON : n;
}

static size_t frame(uint8_t *out, size_t cap, uint8_t type, uint8_t flags, uint16_t seq,
                    size_t fixed, const char *reason)
{
    size_t rl = reason_len(reason);
    size_t total = BIN_HEADER_LEN + fixed + rl;
    if (total > cap)
        return 0;
    put32(out, (uint32_t)(fixed + rl));
    out[4] = type;
    out[5] = flags;
    put16(out + 6, seq);
    if (rl > 0)
        memcpy(out + BIN_HEADER_LEN + fixed, reason, rl);
    return total;
}

size_t bin_encode_welcome(uint8_t *out, size_t cap, uint16_t seq, uint8_t status, uint16_t window,
                          uint16_t keep_alive, uint32_t max_frame, uint16_t retry_after,
                          const char *reason)
{
    size_t n = frame(out, cap, BIN_WELCOME, 0, seq, 12, reason);
    if (n == 0)
        return 0;
    uint8_t *b = out + BIN_HEADER_LEN;
    b[0] = status;
    b[1] = BIN_PROTOCOL_VERSION;
    put16(b + 2, window);
    put16(b + 4, keep_alive);
    put32(b + 6, max_frame);
    put16(b + 10, retry_after);
    return n;
}

size_t bin_encode_ack(uint8_t *out, size_t cap, uint16_t seq, uint8_t flags, uint8_t status,
                      uint16_t retry_after, const char *reason)
{
    size_t n = frame(out, cap, BIN_ACK, flags, seq, 3, reason);
    if (n == 0)
        return 0;
    out[BIN_HEADER_LEN] = status;
    put16(out + BIN_HEADER_LEN + 1, retry_after);
    return n;
}

size_t bin_encode_pong(uint8_t *out, size_t cap, uint16_t seq)
{
    return frame(out, cap, BIN_PONG, 0, seq, 0, NULL);
}

size_t bin_encode_close(uint8_t *out, size_t cap, uint8_t status, uint16_t retry_after,
                        const char *reason)
{
    size_t n = frame(out, cap, BIN_CLOSE, 0, 0, 3, reason);
    if (n == 0)
        return 0;
    out[BIN_HEADER_LEN] = status;
    put16(out + BIN_HEADER_LEN + 1, retry_after);
    return n;
}

const char *bin_status_name(uint8_t status)
{
    switch (status) {
    case BIN_ST_OK:
        return "accepted";
    case BIN_ST_UNSPECIFIED:
        return "unspecified";
    case BIN_ST_MALFORMED:
        return "malformed";
    case BIN_ST_PROTOCOL:
        return "protocol_error";
    case BIN_ST_BAD_VERSION:
        return "unsupported_version";
    case BIN_ST_BAD_CREDENTIALS:
        return "bad_credentials";
    case BIN_ST_NOT_AUTHORIZED:
        return "not_authorized";
    case BIN_ST_UNAVAILABLE:
        return "unavailable";
    case BIN_ST_SHUTTING_DOWN:
        return "shutting_down";
    case BIN_ST_KEEP_ALIVE:
        return "keep_alive_timeout";
    case BIN_ST_UNKNOWN_SCHEMA:
        return "unknown_schema";
    case BIN_ST_WINDOW:
        return "window_exceeded";
    case BIN_ST_TOO_LARGE:
        return "frame_too_large";
    case BIN_ST_QUOTA:
        return "quota_exceeded";
    case BIN_ST_CONNECT_TIME:
        return "credential_expired";
    case BIN_ST_PAYLOAD_INVALID:
        return "payload_invalid";
    default:
        return "other";
    }
}
