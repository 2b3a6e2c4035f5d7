/*
 * fuzz_coap.c - the CoAP module's own parsing: Uri-Path routing and Uri-Query tokens
 * (route.c), Block1 bookkeeping (block1.c) and dedup keying (exchange.c), driven by one input.
 * Input: byte 0 selects, the rest is split at 0x00 bytes into path segments / queries, or read
 * as a sequence of Block1 puts (4-byte header: num, flags, szx, len) and exchange look-ups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/coap/block1.c"
#include "../../modules/coap/exchange.c"
#include "../../modules/coap/route.c"
#include "../../modules/coap/route_table.c"

static void fuzz_route(const uint8_t *d, size_t n)
{
    static coap_route_table t;
    static int ready;
    char err[128];
    if (!ready) {
        coap_route_compile(&t.ingest, "/ingest", false, err, sizeof(err));
        coap_route_compile(&t.payload, "/e/{schema}/{version}", true, err, sizeof(err));
        ready = 1;
    }
    const char *seg[16];
    size_t len[16], k = 0, start = 0;
    for (size_t i = 0; i <= n && k < 16; i++) {
        if (i == n || d[i] == 0) {
            seg[k] = (const char *)d + start;
            len[k++] = i - start;
            start = i + 1;
        }
    }
    coap_route_match m;
    coap_route_match_path(&t, seg, len, k, &m);
    const char *tok;
    size_t tl;
    coap_route_query_token(seg, len, k, &tok, &tl);
    char buf[512];
    coap_route_link_format(&t, buf, sizeof(buf));
    /* patterns from input too */
    char pat[128];
    size_t pl = n < sizeof(pat) - 1 ? n : sizeof(pat) - 1;
    memcpy(pat, d, pl);
    pat[pl] = '\0';
    coap_route_pattern p;
    if (coap_route_compile(&p, pat, pl % 2, err, sizeof(err)) == 0)
        coap_route_pattern_free(&p);
}

static void fuzz_blocks(const uint8_t *d, size_t n)
{
    coap_block1_table tb;
    coap_exchange_cache c;
    coap_block1_init(&tb, 4, 2048, 1000);
    coap_exchange_cache_init(&c, 16, 247000, 1);
    uint64_t now = 0;
    size_t i = 0;
    while (i + 4 <= n) {
        uint32_t num = d[i];
        int more = d[i + 1] & 1;
        unsigned szx = d[i + 2] & 7;
        size_t len = d[i + 3] * 5u;
        uint8_t key = d[i + 1] >> 4;
        i += 4;
        if (len > n - i)
            len = n - i;
        uint8_t *body;
        size_t bl;
        coap_block1_put(&tb, &key, 1, num, more, szx, d + i, len, 50, 0, now, &body, &bl);
        free(body);
        coap_exchange_key k;
        coap_exchange_key_make(&k, key & 3, d + i, len < 28 ? len : 28, (uint16_t)num);
        if (!coap_exchange_find(&c, &k, now))
            coap_exchange_insert(&c, &k, now);
        i += len;
        now += d[i - 1 < n ? i - 1 : 0] * 100u;
    }
    coap_block1_free(&tb);
    coap_exchange_cache_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_route(data + 1, size - 1);
    else
        fuzz_blocks(data + 1, size - 1);
    return 0;
}
