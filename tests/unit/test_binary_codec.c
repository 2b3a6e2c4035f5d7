/* test_binary_codec.c - the binary protocol's wire format (docs/BINARY.md) with byte-exact
 * vectors: the module's codec (modules/binary/codec.c) against frames the reference client
 * (contrib/inlet-client/inlet_client.c) encodes, and the server's frames decoded by the
 * client. Both .c files are included: the unit tests link against inlet_core only. */
#include <stdio.h>
#include <string.h>

#include "../../contrib/inlet-client/inlet_client.c"
#include "../../modules/binary/codec.c"
#include "check.h"

static int hexeq(const uint8_t *p, size_t n, const char *hex)
{
    char buf[1024] = "";
    for (size_t i = 0; i < n && i * 2 + 2 < sizeof(buf); i++)
        snprintf(buf + i * 2, 3, "%02x", p[i]);
    if (strcmp(buf, hex) != 0) {
        fprintf(stderr, "  got  %s\n  want %s\n", buf, hex);
        return 0;
    }
    return 1;
}

static const uint8_t reference[13] = {0x1f, 0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70,
                                      0xd0, 0x02, 0x64, 0x01, 0x0e, 0x03};

static void test_data_reference_frame(void)
{
    uint8_t out[128];
    int n = inlet_encode_data(out, sizeof(out), 0, INLET_FORMAT_LAYOUT, "fleet.position", 1, NULL,
                              reference, sizeof(reference));
    /* docs/BINARY.md: the reference event as the first DATA frame of a connection */
    CHECK(n == 39);
    CHECK(hexeq(out, (size_t)n,
                "0000001f02000000"
                "002a"
                "0e"
                "666c6565742e706f736974696f6e"
                "01"
                "1f4dea8007fd70d00264010e03"));

    bin_header h;
    bin_data d;
    uint8_t st = 0;
    const char *why = NULL;
    CHECK(bin_header_parse(out, (size_t)n, 64, &h, &st) == BIN_OK);
    CHECK(h.length == 31 && h.type == BIN_DATA && h.flags == 0 && h.seq == 0);
    CHECK(bin_decode_data(&h, out + 8, &d, &st, &why) == 0);
    CHECK(d.format == 42 && d.version == 1 && d.schema.len == 14);
    CHECK(memcmp(d.schema.p, "fleet.position", 14) == 0);
    CHECK(d.event_id.p == NULL && d.payload.len == 13);
    CHECK(memcmp(d.payload.p, reference, 13) == 0);

    /* the next frame: schema_len 0 and an event id; 24 + 3 bytes */
    n = inlet_encode_data(out, sizeof(out), 0x0102, INLET_FORMAT_LAYOUT, NULL, 0, "e1", reference,
                          sizeof(reference));
    CHECK(n == 27);
    CHECK(hexeq(out, (size_t)n,
                "0000001302010102"
                "002a00"
                "026531"
                "1f4dea8007fd70d00264010e03"));
    CHECK(bin_header_parse(out, (size_t)n, 64, &h, &st) == BIN_OK);
    CHECK(bin_decode_data(&h, out + 8, &d, &st, &why) == 0);
    CHECK(d.schema.len == 0 && d.event_id.len == 2 && d.payload.len == 13 && h.seq == 0x0102);
}

static void test_hello(void)
{
    uint8_t out[64];
    int n = inlet_encode_hello(out, sizeof(out), 60, "d1", "tok", 3);
    CHECK(n == 18);
    CHECK(hexeq(out, (size_t)n,
                "0000000a01000000"
                "0101003c02"
                "6431"
                "746f6b"));
    bin_header h;
    bin_hello hl;
    uint8_t st = 0;
    const char *why = NULL;
    CHECK(bin_header_parse(out, (size_t)n, BIN_MAX_HELLO_BODY, &h, &st) == BIN_OK);
    CHECK(bin_decode_hello(&h, out + 8, &hl, &st, &why) == 0);
    CHECK(hl.version == 1 && hl.method == 1 && hl.keep_alive == 60);
    CHECK(hl.device.len == 2 && hl.token.len == 3 && memcmp(hl.token.p, "tok", 3) == 0);

    /* method 0 (certificate): no token */
    n = inlet_encode_hello(out, sizeof(out), 0, NULL, NULL, 0);
    CHECK(hexeq(out, (size_t)n,
                "0000000501000000"
                "0100000000"));
    CHECK(bin_header_parse(out, (size_t)n, BIN_MAX_HELLO_BODY, &h, &st) == BIN_OK);
    CHECK(bin_decode_hello(&h, out + 8, &hl, &st, &why) == 0 && hl.method == 0);

    /* refusals */
    static const struct {
        const char *hex;
        uint8_t status;
    } bad[] = {
        {"0000000501000000"
         "0200000000",
         BIN_ST_BAD_VERSION}, /* version 2 */
        {"0000000501000000"
         "0101000000",
         BIN_ST_MALFORMED}, /* method 1, no token */
        {"0000000601000000"
         "010000000078",
         BIN_ST_MALFORMED}, /* method 0 with a token */
        {"0000000501000000"
         "0102000000",
         BIN_ST_MALFORMED}, /* unknown method */
        {"0000000601000000"
         "010100000561",
         BIN_ST_MALFORMED}, /* device runs past the end */
        {"0000000401000000"
         "01010000",
         BIN_ST_MALFORMED}, /* short */
        {"0000000501010000"
         "0101000000",
         BIN_ST_PROTOCOL}, /* flags */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[32];
        size_t len = strlen(bad[i].hex) / 2;
        for (size_t j = 0; j < len; j++) {
            unsigned v;
            sscanf(bad[i].hex + 2 * j, "%2x", &v);
            b[j] = (uint8_t)v;
        }
        CHECK(bin_header_parse(b, len, BIN_MAX_HELLO_BODY, &h, &st) == BIN_OK);
        CHECK(bin_decode_hello(&h, b + 8, &hl, &st, &why) == -1 && st == bad[i].status);
    }
}

static void test_header_limits(void)
{
    bin_header h;
    uint8_t st = 0;
    static const uint8_t big[8] = {0x00, 0x00, 0x04, 0x01, 0x02, 0x00, 0x00, 0x07};
    CHECK(bin_header_parse(big, 7, 1024, &h, &st) == BIN_NEED_MORE);
    CHECK(bin_header_parse(big, 8, 1024, &h, &st) == BIN_ERROR && st == BIN_ST_TOO_LARGE);
    CHECK(bin_header_parse(big, 8, 1025, &h, &st) == BIN_OK && h.length == 1025 && h.seq == 7);
    static const uint8_t huge[8] = {0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00};
    CHECK(bin_header_parse(huge, 8, UINT32_MAX - 1, &h, &st) == BIN_ERROR);
}

static void test_data_refusals(void)
{
    static const struct {
        const char *hex;
        uint8_t status;
    } bad[] = {
        {"0000000202000000"
         "002a",
         BIN_ST_MALFORMED}, /* shorter than 3 */
        {"0000000502000000"
         "002a036162",
         BIN_ST_MALFORMED}, /* schema past the end */
        {"0000000602000000"
         "002a01610000",
         BIN_ST_MALFORMED}, /* version 0 */
        {"0000000402010000"
         "002a0005",
         BIN_ST_MALFORMED}, /* event id past end */
        {"0000000502010000"
         "002a000121",
         BIN_ST_MALFORMED}, /* event id "!" */
        {"0000000302020000"
         "002a00",
         BIN_ST_PROTOCOL}, /* undefined flag */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t b[32];
        bin_header h;
        bin_data d;
        uint8_t st = 0;
        const char *why = NULL;
        size_t len = strlen(bad[i].hex) / 2;
        for (size_t j = 0; j < len; j++) {
            unsigned v;
            sscanf(bad[i].hex + 2 * j, "%2x", &v);
            b[j] = (uint8_t)v;
        }
        CHECK(bin_header_parse(b, len, 1024, &h, &st) == BIN_OK);
        CHECK(bin_decode_data(&h, b + 8, &d, &st, &why) == -1 && st == bad[i].status);
    }
}

static void test_server_frames(void)
{
    uint8_t out[BIN_MAX_SERVER_FRAME];
    inlet_frame f;
    inlet_answer a;

    size_t n = bin_encode_welcome(out, sizeof(out), 0, BIN_ST_OK, 16, 60, 65536, 0, NULL);
    CHECK(n == 20);
    CHECK(hexeq(out, n,
                "0000000c81000000"
                "00010010003c000100000000"));
    CHECK(inlet_parse_frame(out, n, 1024, &f) == 20 && inlet_decode_answer(&f, &a) == 0);
    CHECK(a.type == INLET_FRAME_WELCOME && a.status == 0 && a.window == 16 && a.keep_alive == 60 &&
          a.max_frame == 65536 && a.reason[0] == '\0');

    n = bin_encode_ack(out, sizeof(out), 0x1234, 0, BIN_ST_OK, 0, NULL);
    CHECK(n == 11 && hexeq(out, n,
                           "0000000382001234"
                           "000000"));
    n = bin_encode_ack(out, sizeof(out), 9, BIN_FLAG_POSSIBLY_STORED, BIN_ST_UNAVAILABLE, 3, "k");
    CHECK(n == 12 && hexeq(out, n,
                           "0000000482010009"
                           "8800036b"));
    CHECK(inlet_parse_frame(out, n, 1024, &f) == 12 && inlet_decode_answer(&f, &a) == 0);
    CHECK(a.type == INLET_FRAME_ACK && a.seq == 9 && a.status == 0x88 && a.retry_after == 3 &&
          a.flags == INLET_ACK_FLAG_POSSIBLY_STORED && strcmp(a.reason, "k") == 0);

    n = bin_encode_pong(out, sizeof(out), 77);
    CHECK(n == 8 && hexeq(out, n, "000000008300004d"));
    n = bin_encode_close(out, sizeof(out), BIN_ST_WINDOW, 0, NULL);
    CHECK(n == 11 && hexeq(out, n,
                           "0000000384000000"
                           "930000"));

    /* a reason is cut at 200 bytes; the frame never exceeds BIN_MAX_SERVER_FRAME */
    char longr[400];
    memset(longr, 'x', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = '\0';
    n = bin_encode_welcome(out, sizeof(out), 0, BIN_ST_NOT_AUTHORIZED, 0, 0, 0, 0, longr);
    CHECK(n == BIN_MAX_SERVER_FRAME);
    CHECK(bin_encode_ack(out, 10, 0, 0, 0, 0, NULL) == 0); /* too small a buffer */
    CHECK(strcmp(bin_status_name(0x93), "window_exceeded") == 0);
}

int main(void)
{
    test_data_reference_frame();
    test_hello();
    test_header_limits();
    test_data_refusals();
    test_server_frames();
    return check_done();
}
