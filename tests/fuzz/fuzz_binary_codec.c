/* fuzz_binary_codec.c - libFuzzer target for the binary protocol's frame parser
 * (modules/binary/codec.c).
 *
 * 1. The input as a byte stream from a client: frame after frame with the limits the module
 *    uses (HELLO first, then max_frame_size), each body decoded as its type says; a header
 *    over the limit must be refused before its body is looked at, decoded fields must point
 *    inside the frame, and a DATA frame must re-encode (reference client) to the same bytes.
 * 2. The first bytes as parameters of WELCOME, ACK and CLOSE: encode, parse with the
 *    reference client's decoder and compare field by field.
 * Both .c files are included: the fuzz build links against inlet_core only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../contrib/inlet-client/inlet_client.c"
#include "../../modules/binary/codec.c"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void inside(bin_bytes b, const uint8_t *lo, const uint8_t *hi)
{
    if (b.p)
        ASSERT(b.p >= lo && b.p + b.len <= hi);
}

static void stream(const uint8_t *data, size_t size)
{
    size_t off = 0;
    int first = 1;
    while (off < size) {
        bin_header h;
        uint8_t st = 0;
        const char *why = NULL;
        uint32_t limit = first ? BIN_MAX_HELLO_BODY : 1024;
        int r = bin_header_parse(data + off, size - off, limit, &h, &st);
        if (r == BIN_NEED_MORE)
            return;
        if (r == BIN_ERROR) {
            ASSERT(st == BIN_ST_TOO_LARGE && h.length > limit);
            return;
        }
        ASSERT(h.length <= limit);
        if (size - off - BIN_HEADER_LEN < h.length)
            return;
        const uint8_t *body = data + off + BIN_HEADER_LEN, *end = body + h.length;
        if (first) {
            bin_hello hl;
            if (h.type != BIN_HELLO || bin_decode_hello(&h, body, &hl, &st, &why) != 0)
                return;
            inside(hl.device, body, end);
            inside(hl.token, body, end);
            ASSERT(hl.device.len <= BIN_MAX_DEVICE && hl.token.len <= BIN_MAX_TOKEN);
            first = 0;
        } else if (h.type == BIN_DATA) {
            bin_data d;
            if (bin_decode_data(&h, body, &d, &st, &why) != 0) {
                ASSERT(why != NULL && st >= 0x80);
                return;
            }
            inside(d.schema, body, end);
            inside(d.event_id, body, end);
            inside(d.payload, body, end);
            ASSERT(d.payload.p + d.payload.len == end);
            char schema[BIN_MAX_SCHEMA + 1], eid[BIN_MAX_EVENT_ID + 1];
            int has_nul = d.schema.len && memchr(d.schema.p, 0, d.schema.len) != NULL;
            if (!has_nul) {
                memcpy(schema, d.schema.p ? (const char *)d.schema.p : "", d.schema.len);
                schema[d.schema.len] = '\0';
                if (d.event_id.p) {
                    memcpy(eid, d.event_id.p, d.event_id.len);
                    eid[d.event_id.len] = '\0';
                }
                uint8_t *re = malloc(BIN_HEADER_LEN + h.length + 1);
                ASSERT(re != NULL);
                int n = inlet_encode_data(re, BIN_HEADER_LEN + h.length + 1, h.seq, d.format,
                                          d.schema.len ? schema : NULL, d.version,
                                          d.event_id.p ? eid : NULL, d.payload.p, d.payload.len);
                ASSERT(n == (int)(BIN_HEADER_LEN + h.length));
                ASSERT(memcmp(re, data + off, (size_t)n) == 0);
                free(re);
            }
        } else if (h.type == BIN_PING || h.type == BIN_BYE) {
            if (bin_decode_empty(&h, &st, &why) != 0)
                return;
        } else {
            return; /* the module closes the connection */
        }
        off += BIN_HEADER_LEN + h.length;
    }
}

static void server_frames(const uint8_t *data, size_t size)
{
    if (size < 16)
        return;
    uint8_t out[BIN_MAX_SERVER_FRAME];
    char reason[BIN_MAX_REASON + 50];
    size_t rl = (size - 16) < sizeof(reason) - 1 ? size - 16 : sizeof(reason) - 1;
    for (size_t i = 0; i < rl; i++)
        reason[i] = data[16 + i] ? (char)data[16 + i] : 'x';
    reason[rl] = '\0';
    uint16_t seq = (uint16_t)(data[0] << 8 | data[1]), w = (uint16_t)(data[3] << 8 | data[4]);
    uint16_t ka = (uint16_t)(data[5] << 8 | data[6]), ra = (uint16_t)(data[7] << 8 | data[8]);
    uint32_t mf = (uint32_t)data[9] << 24 | (uint32_t)data[10] << 16 | data[11] << 8 | data[12];
    inlet_frame f;
    inlet_answer a;

    size_t n = bin_encode_welcome(out, sizeof(out), seq, data[2], w, ka, mf, ra, reason);
    ASSERT(n > 0 && n <= BIN_MAX_SERVER_FRAME);
    ASSERT(inlet_parse_frame(out, n, BIN_MAX_SERVER_FRAME, &f) == (int)n);
    ASSERT(inlet_decode_answer(&f, &a) == 0);
    ASSERT(a.type == INLET_FRAME_WELCOME && a.seq == seq && a.status == data[2] && a.window == w &&
           a.keep_alive == ka && a.max_frame == mf && a.retry_after == ra);
    ASSERT(strncmp(a.reason, reason, BIN_MAX_REASON) == 0);

    n = bin_encode_ack(out, sizeof(out), seq, data[13], data[2], ra, reason);
    ASSERT(inlet_parse_frame(out, n, BIN_MAX_SERVER_FRAME, &f) == (int)n);
    ASSERT(inlet_decode_answer(&f, &a) == 0);
    ASSERT(a.type == INLET_FRAME_ACK && a.seq == seq && a.flags == data[13] &&
           a.status == data[2] && a.retry_after == ra);

    n = bin_encode_close(out, sizeof(out), data[14], ra, NULL);
    ASSERT(n == 11 && inlet_parse_frame(out, n, BIN_MAX_SERVER_FRAME, &f) == 11);
    ASSERT(inlet_decode_answer(&f, &a) == 0 && a.status == data[14] && a.reason[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stream(data, size);
    server_frames(data, size);
    return 0;
}
