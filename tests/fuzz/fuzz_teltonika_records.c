/* fuzz_teltonika_records.c - libFuzzer target for the Teltonika record decoder and the mapping
 * (modules/teltonika/avl.c, mapping.c). The first byte picks the codec (8, 8E, 16) and the record
 * count, the rest is the records field of a packet. Decoded records must lie inside the input,
 * their IO elements must iterate to exactly n_io elements within the record, and the JSON batch
 * must be written for every record whose timestamp is in range. */
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

static tlt_record recs[256];
static tlt_buf json;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t codecs[] = {TLT_CODEC_8, TLT_CODEC_8E, TLT_CODEC_16};
    char msg[256];

    if (size < 1 || size > 65536)
        return 0;
    uint8_t codec = codecs[(data[0] & 3) % 3];
    size_t count = (size_t)(data[0] >> 2) % 8 + 1;
    size_t len = size - 1;
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, data + 1, len);

    if (tlt_records_decode(codec, p, len, count, recs, msg, sizeof(msg)) == 0) {
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            const tlt_record *r = &recs[i];
            ASSERT(r->raw == p + at && r->raw_len <= len - at);
            ASSERT(r->io >= r->raw && r->io + r->io_len == r->raw + r->raw_len);
            at += r->raw_len;
            tlt_io_iter it;
            tlt_io io;
            size_t n = 0;
            tlt_io_begin(r, &it);
            while (tlt_io_next(&it, &io)) {
                ASSERT(io.bytes >= r->io && io.bytes + io.len <= r->io + r->io_len);
                ASSERT(io.size == 0 || io.size == 1 || io.size == 2 || io.size == 4 ||
                       io.size == 8);
                n++;
            }
            ASSERT(n == r->n_io);
            ASSERT(r->generation_type == -1 || codec == TLT_CODEC_16);
        }
        ASSERT(at == len);
        bool in_range = true;
        for (size_t i = 0; i < count; i++)
            in_range = in_range && recs[i].timestamp_ms <= UINT64_C(253402300799999);
        int rc = tlt_events_write(&json, "356307042441013", recs, count, NULL, msg, sizeof(msg));
        ASSERT((rc == 0) == in_range);
        if (rc == 0)
            ASSERT(json.len > 2 && json.p[json.len - 1] == '}' && json.p[json.len] == '\0');
    }
    free(p);
    return 0;
}
