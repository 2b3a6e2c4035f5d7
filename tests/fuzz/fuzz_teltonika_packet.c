/* fuzz_teltonika_packet.c - libFuzzer target for the Teltonika framing (modules/teltonika/
 * codec.c) as the connection drives it: the input is a tracker's byte stream, an IMEI message
 * then AVL packets (and keep-alive bytes), cut at every place a read could end. Checks that the
 * size is decided on the header alone and bounded by the cap, that a parsed packet's records lie
 * inside it and its CRC is right, and that feeding the stream whole or byte by byte frames it the
 * same way. Decoded packets go through the record decoder and the mapping too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/teltonika/avl.c"
#include "../../modules/teltonika/codec.c"
#include "../../modules/teltonika/mapping.c"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CAP 4096u

static tlt_record recs[256];
static tlt_buf json;

/* Frame the stream as conn.c does; returns a digest of what was framed. */
static uint64_t frame(const uint8_t *p, size_t n, size_t step)
{
    uint64_t digest = 1469598103934665603u;
    size_t off = 0, avail = 0;
    bool imei_done = false;

    while (off < n) {
        avail = avail + step > n - off ? n - off : avail + step; /* bytes "read" so far */
        const uint8_t *q = p + off;
        if (!imei_done) {
            const uint8_t *imei = NULL;
            size_t used = 0;
            const char *why = NULL;
            int r = tlt_imei_parse(q, avail, &imei, &used, &why);
            if (r == TLT_NEED_MORE) {
                if (avail == n - off)
                    break;
                continue;
            }
            if (r == TLT_ERROR)
                return digest ^ 0xE1;
            ASSERT(used == 17 && imei == q + 2);
            imei_done = true;
            off += used;
            avail = 0;
            continue;
        }
        if (avail > 0 && q[0] == TLT_KEEPALIVE) {
            off++;
            avail--;
            continue;
        }
        size_t total = 0;
        const char *why = NULL;
        int r = tlt_packet_size(q, avail, CAP, &total, &why);
        if (r == TLT_ERROR)
            return digest ^ 0xE2;
        if (r == TLT_NEED_MORE || avail < total) {
            if (avail == n - off)
                break;
            continue;
        }
        ASSERT(total >= 15 && total <= CAP + 12);
        tlt_packet pk;
        if (tlt_packet_parse(q, total, &pk, &why) == TLT_OK) {
            ASSERT(pk.records == q + 10 && pk.records + pk.records_len == q + total - 5);
            ASSERT(pk.count >= 1 && tlt_codec_name(pk.codec) != NULL);
            ASSERT(tlt_crc16(q + 8, total - 12) == pk.crc);
            char msg[256];
            if (tlt_records_decode(pk.codec, pk.records, pk.records_len, pk.count, recs, msg,
                                   sizeof(msg)) == 0) {
                for (size_t i = 0; i < pk.count; i++)
                    ASSERT(recs[i].raw >= pk.records &&
                           recs[i].raw + recs[i].raw_len <= pk.records + pk.records_len);
                if (tlt_events_write(&json, "356307042441013", recs, pk.count, NULL, msg,
                                     sizeof(msg)) == 0)
                    ASSERT(json.len > 0 && json.p[json.len] == '\0');
            }
            digest = (digest ^ pk.crc ^ (uint64_t)pk.count << 16) * 1099511628211u;
        } else {
            digest = (digest ^ 0xBAD) * 1099511628211u;
        }
        off += total;
        avail = 0;
    }
    return digest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any read past it */
    memcpy(copy, data, size);
    uint64_t whole = frame(copy, size, size ? size : 1);
    uint64_t bytewise = frame(copy, size, 1);
    ASSERT(whole == bytewise);
    free(copy);
    return 0;
}
