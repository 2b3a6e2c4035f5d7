/* test_teltonika.c - the Teltonika module's pure parts (modules/teltonika/codec.c, avl.c,
 * mapping.c): the example packets of Teltonika's "Codec" documentation decoded to the documented
 * values, CRC-16/IBM, the IMEI message, every truncation point, every framing and record error,
 * IO names, and the JSON batch the core receives. The module's .c files are included: the tests
 * link against inlet_core only. */
#include <stdlib.h>

#include "check.h"

#include "../../modules/teltonika/avl.c"
#include "../../modules/teltonika/codec.c"
#include "../../modules/teltonika/mapping.c"

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2)
        out[n++] = (uint8_t)strtoul((char[]){h[0], h[1], 0}, NULL, 16);
    return n;
}

/* wiki.teltonika-gps.com "Codec", the example packets as published */
static const char *codec8_1 =
    "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F1"
    "0000601A014E0000000000000000010000C7CF";
static const char *codec8_3 =
    "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B40"
    "D5C198010000000000000000000000000000000101010101000000020000252C";
static const char *codec8e =
    "000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011"
    "001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994";
static const char *codec16 =
    "000000000000005F10020000016BDBC7833000000000000000000000000000000000000B0504020001000003000200"
    "0B00270042563A00000000016BDBC7871800000000000000000000000000000000000B05040200010000030002000B"
    "00260042563A00000200005FB3";

static uint8_t buf[1024];
static tlt_record recs[256];

/* Frame, parse and decode a whole packet; returns its record count or -1. */
static int decode(const uint8_t *p, size_t n, tlt_packet *pk)
{
    size_t total = 0;
    const char *why = NULL;
    char msg[200];
    if (tlt_packet_size(p, n, 65536, &total, &why) != TLT_OK || total != n)
        return -1;
    if (tlt_packet_parse(p, n, pk, &why) != TLT_OK)
        return -1;
    if (tlt_records_decode(pk->codec, pk->records, pk->records_len, pk->count, recs, msg,
                           sizeof(msg)) != 0)
        return -1;
    return pk->count;
}

/* "id=value id=value ..." of a record's IO elements, in packet order */
static const char *io_text(const tlt_record *r)
{
    static char out[512];
    tlt_io_iter it;
    tlt_io io;
    size_t n = 0;
    out[0] = '\0';
    tlt_io_begin(r, &it);
    while (tlt_io_next(&it, &io))
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%u=%llu/%u", n ? " " : "", io.id,
                              (unsigned long long)io.value, io.size);
    return out;
}

static void test_crc(void)
{
    /* CRC-16/ARC check value (the CRC catalogue): "123456789" -> 0xBB3D */
    CHECK(tlt_crc16((const uint8_t *)"123456789", 9) == 0xBB3D);
    CHECK(tlt_crc16(NULL, 0) == 0);
}

static void test_wiki_codec8(void)
{
    tlt_packet pk;
    size_t n = unhex(codec8_1, buf);
    CHECK(n == 66);
    CHECK(decode(buf, n, &pk) == 1);
    CHECK(pk.codec == TLT_CODEC_8 && pk.crc == 0xC7CF);
    CHECK(recs[0].timestamp_ms == UINT64_C(1560161086000));
    CHECK(recs[0].priority == 1 && recs[0].longitude == 0 && recs[0].latitude == 0);
    CHECK(recs[0].altitude == 0 && recs[0].angle == 0 && recs[0].satellites == 0);
    CHECK(recs[0].speed == 0 && recs[0].event_io == 1 && recs[0].n_io == 5);
    CHECK(recs[0].generation_type == -1);
    CHECK_STR(io_text(&recs[0]), "21=3/1 1=1/1 66=24079/2 241=24602/4 78=0/8");

    n = unhex(codec8_3, buf);
    CHECK(decode(buf, n, &pk) == 2);
    CHECK(recs[0].timestamp_ms == UINT64_C(1560160861000));
    CHECK(recs[1].timestamp_ms == UINT64_C(1560160879000));
    CHECK_STR(io_text(&recs[0]), "1=0/1");
    CHECK_STR(io_text(&recs[1]), "1=1/1");
}

static void test_wiki_codec8e(void)
{
    tlt_packet pk;
    size_t n = unhex(codec8e, buf);
    CHECK(decode(buf, n, &pk) == 1);
    CHECK(pk.codec == TLT_CODEC_8E);
    CHECK(recs[0].timestamp_ms == UINT64_C(1560166592000) && recs[0].event_io == 1);
    CHECK(recs[0].n_io == 5);
    CHECK_STR(io_text(&recs[0]), "1=1/1 17=29/2 16=22949000/4 11=893700218/8 14=500686954/8");
}

static void test_wiki_codec16(void)
{
    tlt_packet pk;
    size_t n = unhex(codec16, buf);
    CHECK(decode(buf, n, &pk) == 2);
    CHECK(pk.codec == TLT_CODEC_16);
    CHECK(recs[0].timestamp_ms == UINT64_C(1562760414000) && recs[0].priority == 0);
    CHECK(recs[0].event_io == 11 && recs[0].generation_type == 5 && recs[0].n_io == 4);
    CHECK_STR(io_text(&recs[0]), "1=0/1 3=0/1 11=39/2 66=22074/2");
    CHECK(recs[1].timestamp_ms == UINT64_C(1562760415000));
    CHECK_STR(io_text(&recs[1]), "1=0/1 3=0/1 11=38/2 66=22074/2");
}

static void test_imei(void)
{
    const uint8_t *imei = NULL;
    size_t used = 0;
    const char *why = NULL;
    const uint8_t msg[] = "\x00\x0f"
                          "356307042441013";
    for (size_t i = 0; i < 17; i++)
        CHECK(tlt_imei_parse(msg, i, &imei, &used, &why) == TLT_NEED_MORE);
    CHECK(tlt_imei_parse(msg, 17, &imei, &used, &why) == TLT_OK);
    CHECK(used == 17 && imei == msg + 2);
    CHECK(tlt_imei_parse((const uint8_t *)"\x00\x10", 2, &imei, &used, &why) == TLT_ERROR);
    CHECK(tlt_imei_parse((const uint8_t *)"\x00\x0e", 2, &imei, &used, &why) == TLT_ERROR);
    CHECK(tlt_imei_parse((const uint8_t *)"\x00\x0f"
                                          "35630704244101a",
                         17, &imei, &used, &why) == TLT_ERROR);
}

static void test_framing_errors(void)
{
    tlt_packet pk;
    size_t total = 0;
    const char *why = NULL;
    size_t n = unhex(codec8_1, buf);

    /* every prefix of the header needs more; after it the size is known */
    for (size_t i = 0; i < 8; i++)
        CHECK(tlt_packet_size(buf, i, 65536, &total, &why) == TLT_NEED_MORE);
    CHECK(tlt_packet_size(buf, 8, 65536, &total, &why) == TLT_OK && total == n);
    /* the cap is on the data length, decided on the header */
    CHECK(tlt_packet_size(buf, 8, 53, &total, &why) == TLT_ERROR);
    CHECK_CONTAINS(why, "max_packet_size");
    CHECK(tlt_packet_size(buf, 8, 54, &total, &why) == TLT_OK);
    buf[2] = 1;
    CHECK(tlt_packet_size(buf, 8, 65536, &total, &why) == TLT_ERROR);
    CHECK_CONTAINS(why, "preamble");
    buf[2] = 0;
    CHECK(tlt_packet_size((const uint8_t *)"\0\0\0\0\0\0\0\2", 8, 65536, &total, &why) ==
          TLT_ERROR);

    /* CRC: any flipped byte of the data field, and a non-zero upper half */
    for (size_t i = 8; i < n - 4; i++) {
        buf[i] ^= 0x40;
        CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_ERROR);
        buf[i] ^= 0x40;
    }
    buf[n - 4] = 1;
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_ERROR);
    CHECK_CONTAINS(why, "CRC");
    buf[n - 4] = 0;
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_OK);
}

/* Re-seal a packet whose data field was edited: fix its CRC. */
static void reseal(uint8_t *p, size_t n)
{
    uint16_t crc = tlt_crc16(p + 8, n - 12);
    p[n - 2] = (uint8_t)(crc >> 8);
    p[n - 1] = (uint8_t)crc;
}

static void test_count_and_record_errors(void)
{
    tlt_packet pk;
    const char *why = NULL;
    char msg[200] = "";
    size_t n = unhex(codec8_1, buf);

    buf[n - 5] = 2; /* second count */
    reseal(buf, n);
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_ERROR);
    CHECK_CONTAINS(why, "counts differ");
    buf[9 + 0] = 2, buf[n - 5] = 2; /* both say 2: the data holds 1 */
    buf[9] = 2;
    reseal(buf, n);
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_OK);
    CHECK(tlt_records_decode(pk.codec, pk.records, pk.records_len, pk.count, recs, msg,
                             sizeof(msg)) != 0);
    CHECK_CONTAINS(msg, "2 records announced, the data holds 1");
    buf[9] = 0, buf[n - 5] = 0;
    reseal(buf, n);
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_ERROR);
    buf[9] = 1, buf[n - 5] = 1;
    buf[8] = 0x0C; /* Codec 12 is a command, not data */
    reseal(buf, n);
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_ERROR);
    CHECK_CONTAINS(why, "codec");
    buf[8] = 0x08;
    buf[10 + 25] = 6; /* N: 6, the groups hold 5 */
    reseal(buf, n);
    CHECK(tlt_packet_parse(buf, n, &pk, &why) == TLT_OK);
    CHECK(tlt_records_decode(pk.codec, pk.records, pk.records_len, pk.count, recs, msg,
                             sizeof(msg)) != 0);
    CHECK_CONTAINS(msg, "announces 6 IO elements but its groups hold 5");

    /* every truncation of every example record is an error, never a read past the end */
    const char *all[] = {codec8_1, codec8_3, codec8e, codec16};
    for (size_t k = 0; k < 4; k++) {
        n = unhex(all[k], buf);
        CHECK(decode(buf, n, &pk) > 0);
        for (size_t len = 0; len < pk.records_len; len++) {
            uint8_t *copy = malloc(len ? len : 1); /* ASan sees a read past it */
            memcpy(copy, pk.records, len);
            CHECK(tlt_records_decode(pk.codec, copy, len, pk.count, recs, msg, sizeof(msg)) != 0);
            free(copy);
        }
        /* and trailing bytes after the records */
        CHECK(tlt_records_decode(pk.codec, pk.records, pk.records_len + 1, pk.count, recs, msg,
                                 sizeof(msg)) != 0);
    }
}

static void test_variable_length_io(void)
{
    /* Codec 8E with one NX element: id 0x0101, 3 bytes a1 b2 c3 */
    uint8_t rec[64];
    size_t n = 0;
    memset(rec, 0, 24);
    rec[7] = 1; /* timestamp 1 ms */
    n = 24;
    const uint8_t io[] = {0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                          0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x03, 0xa1, 0xb2, 0xc3};
    memcpy(rec + n, io, sizeof(io));
    n += sizeof(io);
    tlt_record r;
    size_t used = 0;
    char msg[200];
    CHECK(tlt_record_decode(TLT_CODEC_8E, rec, n, &r, &used, msg, sizeof(msg)) == 0);
    CHECK(used == n && r.event_io == 0x0101 && r.n_io == 1);
    tlt_io_iter it;
    tlt_io v;
    tlt_io_begin(&r, &it);
    CHECK(tlt_io_next(&it, &v) && v.id == 0x0101 && v.size == 0 && v.len == 3);
    CHECK(v.bytes[0] == 0xa1 && v.bytes[2] == 0xc3);
    CHECK(!tlt_io_next(&it, &v));
    CHECK(tlt_record_decode(TLT_CODEC_8E, rec, n - 1, &r, &used, msg, sizeof(msg)) != 0);

    tlt_buf out = {0};
    CHECK(tlt_events_write(&out, "356307042441013", &r, 1, NULL, msg, sizeof(msg)) == 0);
    CHECK_CONTAINS(out.p, "\"io\":{\"257\":\"a1b2c3\"}");
    tlt_buf_free(&out);
}

static void test_events(void)
{
    tlt_packet pk;
    tlt_buf out = {0};
    char msg[200] = "";
    size_t n = unhex(codec8_1, buf);
    CHECK(decode(buf, n, &pk) == 1);
    CHECK(tlt_events_write(&out, "356307042441013", recs, 1, NULL, msg, sizeof(msg)) == 0);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"events\":[{\"event_id\":\"356307042441013-1560161086000-%04x\","
             "\"ts\":\"2019-06-10T10:04:46.000Z\",\"use_case\":\"teltonika.avl\","
             "\"schema\":\"v1\",\"payload\":{\"codec\":\"8\",\"priority\":\"high\",\"lon\":0,"
             "\"lat\":0,\"altitude_m\":0,\"angle_deg\":0,\"satellites\":0,\"speed_kmh\":0,"
             "\"event_io_id\":1,\"io\":{\"21\":3,\"1\":1,\"66\":24079,\"241\":24602,"
             "\"78\":0}}}]}",
             tlt_crc16(recs[0].raw, recs[0].raw_len));
    CHECK_STR(out.p, want);

    /* coordinates and signs, an 8-byte value with the top bit set, a priority out of range */
    recs[0].longitude = -1234567890;
    recs[0].latitude = 546872000;
    recs[0].altitude = -12;
    recs[0].priority = 7;
    CHECK(tlt_events_write(&out, "356307042441013", recs, 1, NULL, msg, sizeof(msg)) == 0);
    CHECK_CONTAINS(out.p, "\"priority\":7,\"lon\":-123.456789,\"lat\":54.6872,\"altitude_m\":-12");
    recs[0].timestamp_ms = UINT64_C(253402300800000);
    CHECK(tlt_events_write(&out, "356307042441013", recs, 1, NULL, msg, sizeof(msg)) != 0);
    CHECK_CONTAINS(msg, "9999");
    tlt_buf_free(&out);
}

static void test_io_names(void)
{
    tlt_io_names base, over;
    char err[200] = "";
    const char *ids[] = {"239", "66"}, *names[] = {"ignition", "external_voltage"};
    CHECK(tlt_io_names_build(&base, ids, names, 2, NULL, err, sizeof(err)) == 0);
    CHECK_STR(tlt_io_names_find(&base, 66), "external_voltage");
    CHECK(tlt_io_names_find(&base, 1) == NULL);
    const char *ids2[] = {"66", "21"}, *names2[] = {"battery", "gsm"};
    CHECK(tlt_io_names_build(&over, ids2, names2, 2, &base, err, sizeof(err)) == 0);
    CHECK_STR(tlt_io_names_find(&over, 66), "battery");
    CHECK_STR(tlt_io_names_find(&over, 239), "ignition");
    CHECK_STR(tlt_io_names_find(&over, 21), "gsm");
    tlt_io_names_free(&over);

    const char *dup[] = {"ignition", "ignition"};
    CHECK(tlt_io_names_build(&over, ids, dup, 2, NULL, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "both named ignition");
    const char *clash[] = {"ignition"}, *cid[] = {"67"};
    CHECK(tlt_io_names_build(&over, cid, clash, 1, &base, err, sizeof(err)) != 0);
    const char *bad_id[] = {"65536"}, *bad_name[] = {"x"};
    CHECK(tlt_io_names_build(&over, bad_id, bad_name, 1, NULL, err, sizeof(err)) != 0);
    const char *digits[] = {"12"};
    CHECK(tlt_io_names_build(&over, cid, digits, 1, NULL, err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "digits");

    tlt_packet pk;
    tlt_buf out = {0};
    size_t n = unhex(codec8_1, buf);
    CHECK(decode(buf, n, &pk) == 1);
    CHECK(tlt_events_write(&out, "356307042441013", recs, 1, &base, err, sizeof(err)) == 0);
    CHECK_CONTAINS(out.p, "\"io\":{\"21\":3,\"1\":1,\"external_voltage\":24079,");
    tlt_buf_free(&out);
    tlt_io_names_free(&base);
}

int main(void)
{
    test_crc();
    test_wiki_codec8();
    test_wiki_codec8e();
    test_wiki_codec16();
    test_imei();
    test_framing_errors();
    test_count_and_record_errors();
    test_variable_length_io();
    test_events();
    test_io_names();
    return check_done();
}
