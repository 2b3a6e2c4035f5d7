/*
 * fuzz_spool_segment.c - libFuzzer target for the spool's on-disk format (core/spool/record.c):
 * the segment scan that recovery runs over what a crash left, and the record decoder the
 * forwarder trusts.
 *
 * The input is scanned as a segment, and also with a valid segment header in front (so the
 * fuzzer reaches the records without guessing the magic). Invariants: the scan never reads
 * past the input, valid_end is a record boundary, every record it counted decodes again from
 * there, its headers iterate to exactly n_headers within the body, and encoding the decoded
 * record gives back the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_segment(const uint8_t *p, size_t len)
{
    inlet_spool_scan s;
    inlet_spool_scan_bytes(p, len, &s);
    if (s.valid_end > len)
        abort();
    if (s.n_records == 0)
        return;
    size_t off = INLET_SPOOL_HEADER_LEN;
    inlet_buf again;
    inlet_buf_init(&again, 256);
    for (uint64_t i = 0; i < s.n_records; i++) {
        inlet_spool_record r;
        size_t used = 0;
        if (inlet_spool_record_decode(p + off, len - off, &r, &used) != INLET_SPOOL_REC_OK)
            abort();
        const char *lo = (const char *)p + off, *hi = (const char *)p + off + used;
        if (r.topic < lo || r.topic + r.topic_len > hi || r.key < lo || r.key + r.key_len > hi ||
            r.value < lo || r.value + r.value_len > hi)
            abort();
        inlet_spool_header hs[INLET_SPOOL_HEADERS_MAX];
        inlet_spool_header_iter it;
        inlet_spool_header_iter_init(&it, &r);
        size_t nh = 0;
        while (inlet_spool_header_next(&it, &hs[nh])) {
            if (hs[nh].name < lo || hs[nh].name + hs[nh].name_len > hi ||
                (hs[nh].value && hs[nh].value + hs[nh].value_len > hi))
                abort();
            if (++nh > r.n_headers)
                abort();
        }
        if (nh != r.n_headers)
            abort();
        r.headers = hs;
        again.len = 0;
        if (inlet_spool_record_encode(&again, &r) != 0 || again.len != used ||
            memcmp(again.data, p + off, used) != 0)
            abort();
        off += used;
    }
    if (off != s.valid_end)
        abort();
    inlet_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_segment(data, size);
    uint8_t *framed = malloc(size + INLET_SPOOL_HEADER_LEN);
    if (!framed)
        return 0;
    inlet_spool_segment_header(framed, 1);
    if (size)
        memcpy(framed + INLET_SPOOL_HEADER_LEN, data, size);
    check_segment(framed, size + INLET_SPOOL_HEADER_LEN);
    free(framed);
    return 0;
}
