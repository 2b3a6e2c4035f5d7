/* test_mqtt_codec.c - the MQTT 3.1.1 / 5.0 codec (modules/mqtt/codec*.c, modules/support/utf8.c):
 * byte-exact vectors built by hand from the specs for every packet type in both versions, every
 * error class, NEED_MORE at every truncation point, encoder -> decoder round trips, packets
 * captured from mosquitto_pub 2.0.11, and the PUBLISH decode cost. */
#include "mqtt_codec_test.h"

static void test_utf8(void)
{
    CHECK(inlet_support_utf8_valid(V(""), 0));
    CHECK(inlet_support_utf8_valid(NULL, 0, 0));
    CHECK(inlet_support_utf8_valid(V("acme/truck-0042"), INLET_SUPPORT_UTF8_STRICT));
    CHECK(inlet_support_utf8_valid(V("\xc3\xa9t\xc3\xa9"), INLET_SUPPORT_UTF8_STRICT)); /* U+00E9 */
    CHECK(inlet_support_utf8_valid(V("\xe2\x82\xac"), INLET_SUPPORT_UTF8_STRICT));      /* U+20AC */
    CHECK(inlet_support_utf8_valid(V("\xf0\x9f\x9a\x9a"), INLET_SUPPORT_UTF8_STRICT)); /* U+1F69A */
    CHECK(
        inlet_support_utf8_valid(V("\xf4\x8f\xbf\xbd"), INLET_SUPPORT_UTF8_STRICT)); /* U+10FFFD */
    CHECK(inlet_support_utf8_valid(V("\xed\x9f\xbf"), INLET_SUPPORT_UTF8_STRICT));   /* U+D7FF */
    CHECK(inlet_support_utf8_valid(V("\xee\x80\x80"), INLET_SUPPORT_UTF8_STRICT));   /* U+E000 */
    CHECK(inlet_support_utf8_valid(V("\xef\xbb\xbf"),
                                   INLET_SUPPORT_UTF8_STRICT)); /* BOM U+FEFF: allowed */

    /* MUSTs (3.1.1 §1.5.3, 5.0 §1.5.4): always rejected */
    CHECK(!inlet_support_utf8_valid(V("a\x00"
                                      "b"),
                                    0));                                /* U+0000 */
    CHECK(!inlet_support_utf8_valid(V("\xc0\x80"), 0));                 /* overlong U+0000 */
    CHECK(!inlet_support_utf8_valid(V("\xc0\xaf"), 0));                 /* overlong '/' */
    CHECK(!inlet_support_utf8_valid(V("\xc1\xbf"), 0));                 /* overlong U+007F */
    CHECK(!inlet_support_utf8_valid(V("\xe0\x80\xaf"), 0));             /* overlong 3-byte */
    CHECK(!inlet_support_utf8_valid(V("\xe0\x9f\xbf"), 0));             /* overlong U+07FF */
    CHECK(!inlet_support_utf8_valid(V("\xf0\x80\x80\xaf"), 0));         /* overlong 4-byte */
    CHECK(!inlet_support_utf8_valid(V("\xf0\x8f\xbf\xbf"), 0));         /* overlong U+FFFF */
    CHECK(!inlet_support_utf8_valid(V("\xed\xa0\x80"), 0));             /* U+D800 surrogate */
    CHECK(!inlet_support_utf8_valid(V("\xed\xbf\xbf"), 0));             /* U+DFFF surrogate */
    CHECK(!inlet_support_utf8_valid(V("\xed\xa0\xbd\xed\xb2\xa9"), 0)); /* CESU-8 pair */
    CHECK(!inlet_support_utf8_valid(V("\xf4\x90\x80\x80"), 0));         /* U+110000 */
    CHECK(!inlet_support_utf8_valid(V("\xf5\x80\x80\x80"), 0));
    CHECK(!inlet_support_utf8_valid(V("\xff"), 0));
    CHECK(!inlet_support_utf8_valid(V("\x80"), 0)); /* stray continuation */
    CHECK(!inlet_support_utf8_valid(V("\xc3"), 0)); /* truncated */
    CHECK(!inlet_support_utf8_valid(V("\xe2\x82"), 0));
    CHECK(!inlet_support_utf8_valid(V("\xf0\x9f\x9a"), 0));
    CHECK(!inlet_support_utf8_valid(V("\xc3("), 0)); /* bad continuation */
    CHECK(!inlet_support_utf8_valid(V("\xe2\x28\xa1"), 0));
    CHECK(!inlet_support_utf8_valid(V("\xf0\x9f\x28\x9a"), 0));

    /* SHOULD NOTs: allowed by default, rejected by the strict flags */
    CHECK(inlet_support_utf8_valid(V("a\x01"), 0));
    CHECK(!inlet_support_utf8_valid(V("a\x01"), INLET_SUPPORT_UTF8_NO_CONTROL));
    CHECK(!inlet_support_utf8_valid(V("a\x1f"), INLET_SUPPORT_UTF8_STRICT));
    CHECK(!inlet_support_utf8_valid(V("a\x7f"), INLET_SUPPORT_UTF8_STRICT));
    CHECK(!inlet_support_utf8_valid(V("a\n"), INLET_SUPPORT_UTF8_STRICT));
    CHECK(inlet_support_utf8_valid(V("\xc2\x80"), 0)); /* U+0080 C1 control */
    CHECK(!inlet_support_utf8_valid(V("\xc2\x80"), INLET_SUPPORT_UTF8_NO_CONTROL));
    CHECK(!inlet_support_utf8_valid(V("\xc2\x9f"), INLET_SUPPORT_UTF8_NO_CONTROL));    /* U+009F */
    CHECK(inlet_support_utf8_valid(V("\xc2\xa0"), INLET_SUPPORT_UTF8_STRICT));         /* U+00A0 */
    CHECK(inlet_support_utf8_valid(V("\xef\xbf\xbf"), INLET_SUPPORT_UTF8_NO_CONTROL)); /* U+FFFF */
    CHECK(!inlet_support_utf8_valid(V("\xef\xbf\xbf"), INLET_SUPPORT_UTF8_NO_NONCHAR));
    CHECK(!inlet_support_utf8_valid(V("\xef\xbf\xbe"), INLET_SUPPORT_UTF8_NO_NONCHAR)); /* U+FFFE */
    CHECK(!inlet_support_utf8_valid(V("\xef\xb7\x90"), INLET_SUPPORT_UTF8_NO_NONCHAR)); /* U+FDD0 */
    CHECK(!inlet_support_utf8_valid(V("\xef\xb7\xaf"), INLET_SUPPORT_UTF8_NO_NONCHAR)); /* U+FDEF */
    CHECK(inlet_support_utf8_valid(V("\xef\xb7\xb0"), INLET_SUPPORT_UTF8_NO_NONCHAR));  /* U+FDF0 */
    CHECK(!inlet_support_utf8_valid(V("\xf0\x9f\xbf\xbe"),
                                    INLET_SUPPORT_UTF8_NO_NONCHAR)); /* U+1FFFE */
    CHECK(!inlet_support_utf8_valid(V("\xf4\x8f\xbf\xbf"),
                                    INLET_SUPPORT_UTF8_NO_NONCHAR)); /* U+10FFFF */

    CHECK(mqtt_topic_name_valid(V("acme/truck-0042/fleet.position/v1")));
    CHECK(!mqtt_topic_name_valid(V("")));
    CHECK(!mqtt_topic_name_valid(NULL, 0));
    CHECK(!mqtt_topic_name_valid(V("acme/+/x")));
    CHECK(!mqtt_topic_name_valid(V("acme/#")));
    CHECK(!mqtt_topic_name_valid(V("truck+1")));
    CHECK(!mqtt_topic_name_valid(V("a\x00"
                                   "b")));
    CHECK(!mqtt_topic_name_valid(V("a\tb")));
    CHECK(!mqtt_topic_name_valid(V("\xc0\xaf")));
}

/* ---- framing ---- */

static void test_frame(void)
{
    mqtt_fixed_header h;
    mqtt_error err;

    /* Remaining Length boundaries (3.1.1 §2.2.3 table 2.4, 5.0 §1.5.5) */
    static const struct {
        uint8_t bytes[5];
        uint8_t n;
        uint32_t value;
    } lengths[] = {
        {{0x00}, 1, 0},
        {{0x7f}, 1, 127},
        {{0x80, 0x01}, 2, 128},
        {{0xff, 0x7f}, 2, 16383},
        {{0x80, 0x80, 0x01}, 3, 16384},
        {{0xff, 0xff, 0x7f}, 3, 2097151},
        {{0x80, 0x80, 0x80, 0x01}, 4, 2097152},
        {{0xff, 0xff, 0xff, 0x7f}, 4, 268435455},
        {{0x80, 0x00}, 2, 0}, /* non-minimal: accepted like Mosquitto and Paho */
    };
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        uint8_t pkt[6] = {0x30};
        memcpy(pkt + 1, lengths[i].bytes, lengths[i].n);
        CHECK(mqtt_frame_parse(pkt, 1u + lengths[i].n, 0, &h, &err) == MQTT_OK);
        CHECK(h.type == MQTT_PUBLISH && h.flags == 0);
        CHECK(h.header_len == 1 + lengths[i].n && h.remaining == lengths[i].value);
        /* every shorter prefix needs more */
        for (size_t k = 0; k <= lengths[i].n; k++)
            CHECK(mqtt_frame_parse(pkt, k, 0, &h, &err) == MQTT_NEED_MORE);
    }

    /* a 5th length byte: malformed */
    CHECK(mqtt_frame_parse(V("\x30\xff\xff\xff\xff\x01"), 0, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);
    CHECK(mqtt_frame_parse(V("\x30\x80\x80\x80\x80"), 0, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);

    /* oversized against max_packet_size, before the length is even complete (CVE-2017-7651) */
    CHECK(mqtt_frame_parse(V("\x30\xff\xff\xff\x7f"), 1024, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_PACKET_TOO_LARGE);
    CHECK(mqtt_frame_parse(V("\x30\xff\xff"), 1024, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_PACKET_TOO_LARGE);
    CHECK(mqtt_frame_parse(V("\x30\x80\x80"), 1024, &h, &err) == MQTT_NEED_MORE);
    /* max counts the whole packet: 2 + 8 = 10 fits 10, 2 + 9 does not */
    CHECK(mqtt_frame_parse(V("\x30\x08"), 10, &h, &err) == MQTT_OK);
    CHECK(mqtt_frame_parse(V("\x30\x09"), 10, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_PACKET_TOO_LARGE);
    CHECK(mqtt_frame_parse(V("\x30\x80\x01"), 131, &h, &err) == MQTT_OK);
    CHECK(mqtt_frame_parse(V("\x30\x80\x01"), 130, &h, &err) == MQTT_ERROR);

    /* fixed header flags (3.1.1 §2.2.2 table 2.2, 5.0 §2.1.3 table 2-2) */
    static const struct {
        uint8_t byte0;
        bool ok;
    } flags[] = {
        {0x10, true},  {0x11, false}, {0x18, false}, {0x20, true},  {0x22, false}, {0x30, true},
        {0x31, true},  {0x32, true},  {0x34, true},  {0x3a, true},  {0x3d, true},  {0x36, false},
        {0x37, false}, {0x38, false}, {0x39, false}, {0x40, true},  {0x42, false}, {0x50, true},
        {0x51, false}, {0x60, false}, {0x62, true},  {0x63, false}, {0x70, true},  {0x72, false},
        {0x80, false}, {0x82, true},  {0x8a, false}, {0x90, true},  {0xa0, false}, {0xa2, true},
        {0xb0, true},  {0xc0, true},  {0xc2, false}, {0xd0, true},  {0xd1, false}, {0xe0, true},
        {0xe2, false}, {0xf0, true},  {0xf1, false}, {0x00, false}, {0x0f, false},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        uint8_t pkt[2] = {flags[i].byte0, 0x00};
        int rc = mqtt_frame_parse(pkt, 2, 0, &h, &err);
        if ((rc == MQTT_OK) != flags[i].ok)
            fprintf(stderr, "flags 0x%02x: rc %d\n", flags[i].byte0, rc);
        CHECK((rc == MQTT_OK) == flags[i].ok);
        if (!flags[i].ok)
            CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);
        /* flags are judged from the first byte alone */
        CHECK(mqtt_frame_parse(pkt, 1, 0, &h, &err) == (flags[i].ok ? MQTT_NEED_MORE : MQTT_ERROR));
    }
    CHECK(mqtt_frame_parse(V("\x36\x00"), 0, &h, &err) == MQTT_ERROR);
    CHECK_STR(err.msg, "PUBLISH with QoS 3");

    /* PINGREQ / PINGRESP have no body (3.1.1 §3.12, 5.0 §3.12) */
    CHECK(mqtt_frame_parse(V("\xc0\x00"), 0, &h, &err) == MQTT_OK && h.type == MQTT_PINGREQ);
    CHECK(mqtt_frame_parse(V("\xc0\x01"), 0, &h, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);

    /* direction */
    static const uint8_t server_only[] = {MQTT_CONNACK, MQTT_SUBACK, MQTT_UNSUBACK, MQTT_PINGRESP};
    for (size_t i = 0; i < sizeof(server_only); i++) {
        h.type = server_only[i];
        CHECK(mqtt_frame_check_client(&h, MQTT_V5, &err) == MQTT_ERROR);
        CHECK(err.reason == MQTT_RC_PROTOCOL_ERROR);
    }
    h.type = MQTT_AUTH;
    CHECK(mqtt_frame_check_client(&h, MQTT_V5, &err) == MQTT_OK);
    CHECK(mqtt_frame_check_client(&h, MQTT_V311, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);
    h.type = MQTT_PUBLISH;
    CHECK(mqtt_frame_check_client(&h, MQTT_V311, &err) == MQTT_OK);
}

/* ---- CONNECT ---- */

static void test_connect(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_connect c;
    uint8_t out[256];

    /* captured mosquitto_pub -V mqttv5 */
    CHECK(mqtt_frame_parse(cap_v5_connect, sizeof(cap_v5_connect), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_connect(&h, cap_v5_connect + h.header_len, &c, &err) == MQTT_OK);
    CHECK(c.version == MQTT_V5 && c.clean_start && !c.will && c.keep_alive == 60);
    CHECK(bytes_eq(c.client_id, "truck-0042"));
    CHECK(bytes_eq(c.username, "acme"));
    CHECK(bytes_eq(c.password, "tok.en.sig"));
    CHECK(c.props.present == (MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM) |
                              MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL)));
    CHECK(c.props.receive_maximum == 10 && c.props.session_expiry_interval == 3600);
    CHECK(c.props.request_problem_information == 1); /* default */
    check_truncations(cap_v5_connect, sizeof(cap_v5_connect), MQTT_V5);

    /* captured mosquitto_pub -V mqttv311 */
    CHECK(mqtt_frame_parse(cap_v311_connect, sizeof(cap_v311_connect), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_connect(&h, cap_v311_connect + h.header_len, &c, &err) == MQTT_OK);
    CHECK(c.version == MQTT_V311 && c.clean_start && c.keep_alive == 60);
    CHECK(bytes_eq(c.client_id, "truck-0042") && bytes_eq(c.username, "acme"));
    CHECK(bytes_eq(c.password, "tok") && c.props.present == 0 && c.props.raw.p == NULL);
    check_truncations(cap_v311_connect, sizeof(cap_v311_connect), MQTT_V311);

    /* captured v5 with a will and will properties */
    CHECK(mqtt_frame_parse(cap_v5_connect_will, sizeof(cap_v5_connect_will), 0, &h, &err) ==
          MQTT_OK);
    CHECK(mqtt_decode_connect(&h, cap_v5_connect_will + h.header_len, &c, &err) == MQTT_OK);
    CHECK(c.will && c.will_qos == 1 && c.will_retain && c.clean_start);
    CHECK(bytes_eq(c.client_id, "dev-1") && c.username.p == NULL && c.password.p == NULL);
    CHECK(c.props.receive_maximum == 20);
    CHECK(bytes_eq(c.will_topic, "acme/dev-1/status") && bytes_eq(c.will_payload, "offline"));
    CHECK(c.will_props.will_delay_interval == 5 && c.will_props.user_property_count == 1);
    mqtt_prop_iter it;
    mqtt_bytes k, v;
    mqtt_user_props_begin(&c.will_props, &it);
    CHECK(mqtt_user_props_next(&it, &k, &v) && bytes_eq(k, "a") && bytes_eq(v, "b"));
    CHECK(!mqtt_user_props_next(&it, &k, &v));
    check_truncations(cap_v5_connect_will, sizeof(cap_v5_connect_will), MQTT_V5);

    /* hand-built 3.1.1 (§3.1): empty client id with Clean Session, keep alive 0 */
    EXPECT_OK("\x10\x0c\x00\x04MQTT\x04\x02\x00\x00\x00\x00", MQTT_V311);
    /* 3.1.1 [MQTT-3.1.3-8]: empty client id without Clean Session -> return code 2 */
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x00\x00\x00\x00\x00", MQTT_V311, 0x85);
    /* 5.0 allows it (the server assigns an identifier) */
    EXPECT_OK("\x10\x0d\x00\x04MQTT\x05\x00\x00\x00\x00\x00\x00", MQTT_V5);
    /* protocol level 3 "MQIsdp", level 6, unknown name */
    EXPECT_ERROR("\x10\x0e\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x00", MQTT_V311, 0x84);
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x06\x02\x00\x00\x00\x00", MQTT_V311, 0x84);
    EXPECT_ERROR("\x10\x0c\x00\x04MQTX\x04\x02\x00\x00\x00\x00", MQTT_V311, 0x82);
    /* reserved flag bit 0 (§3.1.2.3) */
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x03\x00\x00\x00\x00", MQTT_V311, 0x81);
    /* Will QoS 3; Will QoS 1 / Will Retain without the Will Flag */
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x1e\x00\x00\x00\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x0a\x00\x00\x00\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x22\x00\x00\x00\x00", MQTT_V311, 0x81);
    /* password without user name: malformed in 3.1.1 (§3.1.2.9), allowed in 5.0 (§3.1.2.9) */
    EXPECT_ERROR("\x10\x0e\x00\x04MQTT\x04\x42\x00\x00\x00\x00\x00\x00", MQTT_V311, 0x81);
    EXPECT_OK("\x10\x11\x00\x04MQTT\x05\x42\x00\x00\x00\x00\x00\x00\x02pw", MQTT_V5);
    /* user name flag set but no user name; trailing bytes */
    EXPECT_ERROR("\x10\x0c\x00\x04MQTT\x04\x82\x00\x00\x00\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x00\x00", MQTT_V311, 0x81);
    /* client id: control character -> 0x85; overlong -> malformed */
    EXPECT_ERROR("\x10\x0d\x00\x04MQTT\x04\x02\x00\x00\x00\x01\x07", MQTT_V311, 0x85);
    EXPECT_ERROR("\x10\x0e\x00\x04MQTT\x04\x02\x00\x00\x00\x02\xc0\xaf", MQTT_V311, 0x81);
    /* user name with U+0000 -> malformed; with a control character -> 0x86 */
    EXPECT_ERROR("\x10\x0f\x00\x04MQTT\x04\x82\x00\x00\x00\x00\x00\x01\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x10\x0f\x00\x04MQTT\x04\x82\x00\x00\x00\x00\x00\x01\x1b", MQTT_V311, 0x86);
    /* will topic with a wildcard, empty will topic */
    EXPECT_ERROR("\x10\x12\x00\x04MQTT\x04\x06\x00\x00\x00\x00\x00\x02"
                 "a#\x00\x00",
                 MQTT_V311, 0x90);
    EXPECT_ERROR("\x10\x10\x00\x04MQTT\x04\x06\x00\x00\x00\x00\x00\x00\x00\x00", MQTT_V311, 0x90);
    EXPECT_OK("\x10\x12\x00\x04MQTT\x04\x06\x00\x00\x00\x00\x00\x02"
              "a/\x00\x00",
              MQTT_V311);

    /* 5.0 properties (§3.1.2.11) */
    EXPECT_ERROR("\x10\x10\x00\x04MQTT\x05\x02\x00\x00\x03\x21\x00\x00\x00\x00", MQTT_V5, 0x82);
    EXPECT_ERROR("\x10\x12\x00\x04MQTT\x05\x02\x00\x00\x05\x27\x00\x00\x00\x00\x00\x00", MQTT_V5,
                 0x82);
    EXPECT_OK("\x10\x12\x00\x04MQTT\x05\x02\x00\x00\x05\x27\x00\x00\x04\x00\x00\x00", MQTT_V5);
    EXPECT_ERROR("\x10\x17\x00\x04MQTT\x05\x02\x00\x00\x0a\x11\x00\x00\x00\x01\x11\x00\x00\x00"
                 "\x02\x00\x00",
                 MQTT_V5, 0x82); /* Session Expiry Interval twice */
    EXPECT_ERROR("\x10\x10\x00\x04MQTT\x05\x02\x00\x00\x03\x23\x00\x01\x00\x00", MQTT_V5,
                 0x81); /* Topic Alias: not a CONNECT property */
    EXPECT_ERROR("\x10\x0f\x00\x04MQTT\x05\x02\x00\x00\x02\x7f\x00\x00\x00", MQTT_V5,
                 0x81); /* unknown identifier */
    EXPECT_ERROR("\x10\x0f\x00\x04MQTT\x05\x02\x00\x00\x02\x17\x02\x00\x00", MQTT_V5,
                 0x82); /* Request Problem Information 2 */
    EXPECT_OK("\x10\x0f\x00\x04MQTT\x05\x02\x00\x00\x02\x17\x00\x00\x00", MQTT_V5);
    EXPECT_ERROR("\x10\x0f\x00\x04MQTT\x05\x02\x00\x00\x02\x19\x05\x00\x00", MQTT_V5,
                 0x82); /* Request Response Information 5 */
    EXPECT_ERROR("\x10\x11\x00\x04MQTT\x05\x02\x00\x00\x04\x16\x00\x01x\x00\x00", MQTT_V5,
                 0x82); /* Authentication Data without Method */
    EXPECT_OK("\x10\x15\x00\x04MQTT\x05\x02\x00\x00\x08\x15\x00\x01m\x16\x00\x01x\x00\x00",
              MQTT_V5);
    /* truncated property value; property length past the end */
    EXPECT_ERROR("\x10\x0e\x00\x04MQTT\x05\x02\x00\x00\x02\x21\x00\x00", MQTT_V5, 0x81);
    EXPECT_ERROR("\x10\x0e\x00\x04MQTT\x05\x02\x00\x00\x09\x21\x00\x0a", MQTT_V5, 0x81);
    EXPECT_ERROR("\x10\x0e\x00\x04MQTT\x05\x02\x00\x00\xff\xff\xff\xff", MQTT_V5, 0x81);
    /* a user property with invalid UTF-8 */
    EXPECT_ERROR("\x10\x14\x00\x04MQTT\x05\x02\x00\x00\x07\x26\x00\x01k\x00\x01\xc0\x00\x00",
                 MQTT_V5, 0x81);
    /* will properties: Topic Alias is not one; Will Delay Interval is not a CONNECT property */
    EXPECT_ERROR("\x10\x16\x00\x04MQTT\x05\x06\x00\x00\x00\x00\x00\x03\x23\x00\x01\x00\x01"
                 "a\x00\x00",
                 MQTT_V5, 0x81);
    EXPECT_ERROR("\x10\x12\x00\x04MQTT\x05\x02\x00\x00\x05\x18\x00\x00\x00\x01\x00\x00", MQTT_V5,
                 0x81);

    /* refusals: 3.1.1 return codes, or close (3.1.1 §3.2.2.3, 5.0 §3.2.2.2) */
    mqtt_error e = {MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION, "x"};
    memset(&c, 0, sizeof(c));
    c.version = 3;
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 4);
    CHECK(memcmp(out, "\x20\x02\x00\x01", 4) == 0);
    c.version = MQTT_V311;
    e.reason = MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID;
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 4);
    CHECK(memcmp(out, "\x20\x02\x00\x02", 4) == 0);
    e.reason = MQTT_RC_BAD_USERNAME_OR_PASSWORD;
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 4);
    CHECK(memcmp(out, "\x20\x02\x00\x04", 4) == 0);
    e.reason = MQTT_RC_MALFORMED_PACKET;
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 0);
    c.version = 0; /* failed before the level */
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 0);
    c.version = MQTT_V5;
    e.msg = "bad";
    /* CONNACK, rl 9, flags 0, 0x81, props 6: Reason String "bad" */
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 11);
    CHECK(memcmp(out,
                 "\x20\x09\x00\x81\x06\x1f\x00\x03"
                 "bad",
                 11) == 0);
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 10) == 5); /* no room for it */
    CHECK(memcmp(out, "\x20\x03\x00\x81\x00", 5) == 0);
    e.reason = MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION;
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 0) == 4);
    e.reason = MQTT_RC_TOPIC_ALIAS_INVALID; /* not a CONNACK code */
    CHECK(mqtt_encode_connect_refusal(out, sizeof(out), &c, &e, 5) == 5);
    CHECK(memcmp(out, "\x20\x03\x00\x80\x00", 5) == 0);
}

/* ---- PUBLISH ---- */

static void test_publish(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_publish p;
    mqtt_prop_iter it;
    mqtt_bytes k, v;

    CHECK(mqtt_frame_parse(cap_v5_publish_qos2, sizeof(cap_v5_publish_qos2), 0, &h, &err) ==
          MQTT_OK);
    CHECK(mqtt_decode_publish(&h, cap_v5_publish_qos2 + h.header_len, MQTT_V5, &p, &err) ==
          MQTT_OK);
    CHECK(p.qos == 2 && !p.dup && !p.retain && p.packet_id == 1);
    CHECK(bytes_eq(p.topic, "acme/truck-0042/fleet.position/v1"));
    CHECK(bytes_eq(p.payload, "{\"lat\":52.5,\"lon\":13.4}"));
    CHECK(p.props.payload_format_indicator == 1 && p.props.message_expiry_interval == 60);
    CHECK(bytes_eq(p.props.content_type, "application/json"));
    CHECK(p.props.user_property_count == 2);
    CHECK(p.props.present ==
          (MQTT_PROP_BIT(MQTT_PROP_USER_PROPERTY) | MQTT_PROP_BIT(MQTT_PROP_CONTENT_TYPE) |
           MQTT_PROP_BIT(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) |
           MQTT_PROP_BIT(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL)));
    mqtt_user_props_begin(&p.props, &it);
    CHECK(mqtt_user_props_next(&it, &k, &v) && bytes_eq(k, "k") && bytes_eq(v, "v"));
    CHECK(mqtt_user_props_next(&it, &k, &v) && bytes_eq(k, "trace") && bytes_eq(v, "42"));
    CHECK(!mqtt_user_props_next(&it, &k, &v));
    CHECK(!mqtt_user_props_next(&it, &k, &v));
    CHECK(inlet_support_utf8_valid(p.payload.p, p.payload.len, 0));
    check_truncations(cap_v5_publish_qos2, sizeof(cap_v5_publish_qos2), MQTT_V5);

    CHECK(mqtt_frame_parse(cap_v311_publish_qos1, sizeof(cap_v311_publish_qos1), 0, &h, &err) ==
          MQTT_OK);
    CHECK(mqtt_decode_publish(&h, cap_v311_publish_qos1 + h.header_len, MQTT_V311, &p, &err) ==
          MQTT_OK);
    CHECK(p.qos == 1 && p.packet_id == 1 && bytes_eq(p.payload, "{\"lat\":52.5}"));
    CHECK(bytes_eq(p.topic, "acme/truck-0042/fleet.position/v1") && p.props.present == 0);
    /* the same bytes as 5.0 would read "{" as a property length: they are not 5.0 */
    CHECK(mqtt_decode_publish(&h, cap_v311_publish_qos1 + h.header_len, MQTT_V5, &p, &err) ==
          MQTT_ERROR);
    check_truncations(cap_v311_publish_qos1, sizeof(cap_v311_publish_qos1), MQTT_V311);

    CHECK(mqtt_frame_parse(cap_v5_publish_qos0, sizeof(cap_v5_publish_qos0), 0, &h, &err) ==
          MQTT_OK);
    CHECK(mqtt_decode_publish(&h, cap_v5_publish_qos0 + h.header_len, MQTT_V5, &p, &err) ==
          MQTT_OK);
    CHECK(p.qos == 0 && p.packet_id == 0 && bytes_eq(p.topic, "acme/dev-1/x"));
    CHECK(bytes_eq(p.payload, "hi") && p.props.raw.p && p.props.raw.len == 0);
    mqtt_user_props_begin(&p.props, &it);
    CHECK(!mqtt_user_props_next(&it, &k, &v));

    /* hand-built (§3.3): QoS 0, retain, empty payload; QoS 1 DUP */
    EXPECT_OK("\x31\x05\x00\x03"
              "a/b",
              MQTT_V311);
    EXPECT_OK("\x3a\x07\x00\x03"
              "a/b\x12\x34",
              MQTT_V311);
    EXPECT_ERROR("\x32\x07\x00\x03"
                 "a/b\x00\x00",
                 MQTT_V311, 0x82); /* packet id 0 */
    EXPECT_ERROR("\x32\x04\x00\x03"
                 "a/",
                 MQTT_V311, 0x81); /* topic runs past the end */
    EXPECT_ERROR("\x32\x06\x00\x03"
                 "a/b\x01",
                 MQTT_V311, 0x81); /* half a packet id */
    EXPECT_ERROR("\x30\x05\x00\x03"
                 "a/+",
                 MQTT_V311, 0x90);
    EXPECT_ERROR("\x30\x05\x00\x03"
                 "a/#",
                 MQTT_V5, 0x81); /* 5.0: no property length after the topic */
    EXPECT_ERROR("\x30\x06\x00\x03"
                 "a/#\x00",
                 MQTT_V5, 0x90);
    EXPECT_ERROR("\x30\x04\x00\x02\xc0\xaf", MQTT_V311, 0x81);     /* overlong '/' */
    EXPECT_ERROR("\x30\x05\x00\x03\xed\xa0\x80", MQTT_V311, 0x81); /* surrogate */
    EXPECT_ERROR("\x30\x05\x00\x03"
                 "a\x00"
                 "b",
                 MQTT_V311, 0x81); /* U+0000 */
    EXPECT_ERROR("\x30\x05\x00\x03"
                 "a\x01"
                 "b",
                 MQTT_V311, 0x90);                     /* control character: our policy */
    EXPECT_ERROR("\x30\x02\x00\x00", MQTT_V311, 0x82); /* empty topic (§4.7.3) */
    EXPECT_ERROR("\x30\x03\x00\x00\x00", MQTT_V5, 0x82);
    /* 5.0 topic alias: empty topic with an alias is fine, alias 0 is not, nor twice */
    EXPECT_OK("\x30\x06\x00\x00\x03\x23\x00\x07", MQTT_V5);
    EXPECT_ERROR("\x30\x06\x00\x00\x03\x23\x00\x00", MQTT_V5, 0x94);
    EXPECT_ERROR("\x30\x0c\x00\x03"
                 "a/b\x06\x23\x00\x01\x23\x00\x02",
                 MQTT_V5, 0x82);
    /* Subscription Identifier from a client (§3.3.4), Payload Format Indicator 2 */
    EXPECT_ERROR("\x30\x08\x00\x03"
                 "a/b\x02\x0b\x01",
                 MQTT_V5, 0x82);
    EXPECT_ERROR("\x30\x08\x00\x03"
                 "a/b\x02\x01\x02",
                 MQTT_V5, 0x82);
    /* Response Topic with a wildcard, Correlation Data, not-allowed Session Expiry Interval */
    EXPECT_ERROR("\x30\x0b\x00\x03"
                 "a/b\x05\x08\x00\x02"
                 "r#",
                 MQTT_V5, 0x82);
    EXPECT_OK("\x30\x11\x00\x03"
              "a/b\x0b\x08\x00\x02"
              "r/\x09\x00\x03\x00\x01\x02",
              MQTT_V5);
    EXPECT_ERROR("\x30\x0b\x00\x03"
                 "a/b\x05\x11\x00\x00\x00\x01",
                 MQTT_V5, 0x81);
    /* truncated properties: a u16 with one byte, a string running past the property block */
    EXPECT_ERROR("\x30\x08\x00\x03"
                 "a/b\x02\x23\x00",
                 MQTT_V5, 0x81);
    EXPECT_ERROR("\x30\x0e\x00\x03"
                 "a/b\x03\x03\x00\x05xyzzy",
                 MQTT_V5, 0x81);
    /* property length past the end of the packet */
    EXPECT_ERROR("\x30\x07\x00\x03"
                 "a/b\x10\x01",
                 MQTT_V5, 0x81);
    EXPECT_ERROR("\x30\x0a\x00\x03"
                 "a/b\x80\x80\x80\x80\x01",
                 MQTT_V5, 0x81);

    /* the decoder re-checks flags when handed a header that did not come from framing */
    h.type = MQTT_PUBLISH;
    h.flags = 0x06;
    h.remaining = 0;
    CHECK(mqtt_decode_publish(&h, (const uint8_t *)"", MQTT_V5, &p, &err) == MQTT_ERROR);
    CHECK(err.reason == MQTT_RC_MALFORMED_PACKET);
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP ---- */

static void test_acks(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_ack a;

    CHECK(mqtt_frame_parse(cap_v5_pubrel, sizeof(cap_v5_pubrel), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_ack(&h, cap_v5_pubrel + 2, MQTT_V5, &a, &err) == MQTT_OK);
    CHECK(a.type == MQTT_PUBREL && a.packet_id == 1 && a.reason == 0);

    EXPECT_OK("\x40\x02\x00\x07", MQTT_V311);
    EXPECT_OK("\x50\x02\x00\x07", MQTT_V311);
    EXPECT_OK("\x62\x02\x00\x07", MQTT_V311);
    EXPECT_OK("\x70\x02\x00\x07", MQTT_V311);
    EXPECT_ERROR("\x40\x03\x00\x07\x00", MQTT_V311, 0x81); /* 3.1.1: exactly 2 */
    EXPECT_ERROR("\x40\x01\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x40\x02\x00\x00", MQTT_V311, 0x82); /* packet id 0 */
    EXPECT_ERROR("\x40\x01\x00", MQTT_V5, 0x81);

    /* 5.0 forms (§3.4.2): rl 2, rl 3 reason, rl 4 empty properties, Reason String */
    const uint8_t *pkt = (const uint8_t *)"\x40\x03\x00\x07\x87";
    CHECK(mqtt_frame_parse(pkt, 5, 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_ack(&h, pkt + 2, MQTT_V5, &a, &err) == MQTT_OK);
    CHECK(a.packet_id == 7 && a.reason == 0x87 && a.props.present == 0);
    EXPECT_OK("\x40\x04\x00\x07\x00\x00", MQTT_V5);
    EXPECT_OK("\x50\x09\x00\x07\x10\x05\x1f\x00\x02no", MQTT_V5);
    CHECK(mqtt_frame_parse(V("\x70\x09\x00\x07\x92\x05\x1f\x00\x02no"), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_ack(&h, (const uint8_t *)"\x00\x07\x92\x05\x1f\x00\x02no", MQTT_V5, &a,
                          &err) == MQTT_OK);
    CHECK(a.type == MQTT_PUBCOMP && a.reason == 0x92 && bytes_eq(a.props.reason_string, "no"));
    /* reason codes each type defines */
    EXPECT_ERROR("\x62\x03\x00\x07\x87", MQTT_V5, 0x82); /* PUBREL: 0x00 or 0x92 only */
    EXPECT_OK("\x62\x03\x00\x07\x92", MQTT_V5);
    EXPECT_ERROR("\x40\x03\x00\x07\x92", MQTT_V5, 0x82);
    EXPECT_ERROR("\x40\x03\x00\x07\x05", MQTT_V5, 0x82);
    /* properties not allowed in an ack; trailing bytes; truncated properties */
    EXPECT_ERROR("\x40\x07\x00\x07\x00\x03\x23\x00\x01", MQTT_V5, 0x81);
    EXPECT_ERROR("\x40\x05\x00\x07\x00\x00\x00", MQTT_V5, 0x81);
    EXPECT_ERROR("\x40\x06\x00\x07\x00\x03\x1f\x00", MQTT_V5, 0x81);
    EXPECT_ERROR("\x40\x0a\x00\x07\x00\x05\x1f\x00\x02no\xff", MQTT_V5, 0x81);
    check_truncations(V("\x50\x09\x00\x07\x10\x05\x1f\x00\x02no"), MQTT_V5);
}

/* ---- SUBSCRIBE, UNSUBSCRIBE, SUBACK, UNSUBACK ---- */

static void test_subscribe(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_subscribe s;
    mqtt_sub_iter it;
    mqtt_bytes f;
    uint8_t o;

    /* 3.1.1 §3.8: two filters */
    static const uint8_t sub311ok[] = {0x82, 0x0e, 0x12, 0x34, 0x00, 0x03, 'a', '/',
                                       'b',  0x01, 0x00, 0x03, 'c',  '/',  '#', 0x02};
    CHECK(mqtt_frame_parse(sub311ok, sizeof(sub311ok), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_subscribe(&h, sub311ok + 2, MQTT_V311, &s, &err) == MQTT_OK);
    CHECK(s.packet_id == 0x1234 && s.count == 2 && s.type == MQTT_SUBSCRIBE);
    mqtt_sub_begin(&s, &it);
    CHECK(mqtt_sub_next(&it, &f, &o) && bytes_eq(f, "a/b") && o == 1);
    CHECK(mqtt_sub_next(&it, &f, &o) && bytes_eq(f, "c/#") && o == 2);
    CHECK(!mqtt_sub_next(&it, &f, &o));
    check_truncations(sub311ok, sizeof(sub311ok), MQTT_V311);
    EXPECT_ENCODED(mqtt_encode_suback_refusal(buf, cap, &s, MQTT_RC_NOT_AUTHORIZED, "x", 0),
                   "\x90\x04\x12\x34\x80\x80");

    /* 3.1.1 errors: a stray byte after the last filter, reserved option bits, QoS 3, no
     * filter, packet id 0 */
    EXPECT_ERROR("\x82\x0f\x12\x34\x00\x03"
                 "a/b\x01\x00\x03"
                 "c/#\x02\x00",
                 MQTT_V311, 0x81);
    EXPECT_ERROR("\x82\x08\x00\x01\x00\x03"
                 "a/b\x04",
                 MQTT_V311, 0x81);
    EXPECT_ERROR("\x82\x08\x00\x01\x00\x03"
                 "a/b\x03",
                 MQTT_V311, 0x81);
    EXPECT_ERROR("\x82\x02\x00\x01", MQTT_V311, 0x82);
    EXPECT_ERROR("\x82\x08\x00\x00\x00\x03"
                 "a/b\x00",
                 MQTT_V311, 0x82);
    EXPECT_ERROR("\x82\x07\x00\x01\x00\x03"
                 "a/b",
                 MQTT_V311, 0x81); /* options byte missing */
    EXPECT_ERROR("\x82\x07\x00\x01\x00\x02\xc0\xaf\x00", MQTT_V311, 0x81);

    /* 5.0 §3.8: Subscription Identifier 5; options: No Local, RAP, Retain Handling 2 */
    static const uint8_t sub5[] = {0x82, 0x23, 0x01, 0x02, 0x00, 0x00, 0x0a, '$',  's',  'h',
                                   'a',  'r',  'e',  '/',  'g',  '/',  'a',  0x01, 0x00, 0x03,
                                   'a',  '/',  '+',  0x00, 0x00, 0x03, 'x',  '/',  'y',  0x2e,
                                   0x00, 0x04, 'a',  '/',  'b',  '#',  0x00};
    CHECK(mqtt_frame_parse(sub5, sizeof(sub5), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_subscribe(&h, sub5 + 2, MQTT_V5, &s, &err) == MQTT_OK);
    CHECK(s.count == 4 && s.packet_id == 0x0102 && s.props.present == 0);
    EXPECT_ENCODED(mqtt_encode_suback_refusal(buf, cap, &s, MQTT_RC_NOT_AUTHORIZED, NULL, 0),
                   "\x90\x07\x01\x02\x00\x9e\xa2\x87\x8f");
    EXPECT_ENCODED(
        mqtt_encode_suback_refusal(buf, cap, &s, MQTT_RC_NOT_AUTHORIZED, "no subscriptions", 0),
        "\x90\x1a\x01\x02\x13\x1f\x00\x10no subscriptions\x9e\xa2\x87\x8f");
    /* the Reason String does not fit a 20-byte Maximum Packet Size: left out */
    EXPECT_ENCODED(
        mqtt_encode_suback_refusal(buf, cap, &s, MQTT_RC_NOT_AUTHORIZED, "no subscriptions", 20),
        "\x90\x07\x01\x02\x00\x9e\xa2\x87\x8f");
    check_truncations(sub5, sizeof(sub5), MQTT_V5);

    static const uint8_t sub5id[] = {0x82, 0x0a, 0x00, 0x09, 0x02, 0x0b,
                                     0x05, 0x00, 0x02, 'a',  '/',  0x00};
    CHECK(mqtt_frame_parse(sub5id, sizeof(sub5id), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_subscribe(&h, sub5id + 2, MQTT_V5, &s, &err) == MQTT_OK);
    CHECK(s.props.subscription_identifier == 5 && s.count == 1);
    EXPECT_ENCODED(mqtt_encode_suback_refusal(buf, cap, &s, MQTT_RC_NOT_AUTHORIZED, NULL, 0),
                   "\x90\x04\x00\x09\x00\xa1");

    /* 5.0 errors */
    EXPECT_ERROR("\x82\x09\x00\x01\x00\x00\x03"
                 "a/b\x40",
                 MQTT_V5, 0x81); /* reserved bit 6 */
    EXPECT_ERROR("\x82\x09\x00\x01\x00\x00\x03"
                 "a/b\x03",
                 MQTT_V5, 0x82); /* QoS 3 */
    EXPECT_ERROR("\x82\x09\x00\x01\x00\x00\x03"
                 "a/b\x30",
                 MQTT_V5, 0x82);                                 /* Retain Handling 3 */
    EXPECT_ERROR("\x82\x05\x00\x01\x02\x0b\x00", MQTT_V5, 0x82); /* id 0, and no filter */
    EXPECT_ERROR("\x82\x0b\x00\x01\x02\x0b\x00\x00\x03"
                 "a/b\x00",
                 MQTT_V5, 0x82);
    EXPECT_ERROR("\x82\x0d\x00\x01\x04\x0b\x01\x0b\x02\x00\x03"
                 "a/b\x00",
                 MQTT_V5, 0x82); /* Subscription Identifier twice */
    EXPECT_ERROR("\x82\x0d\x00\x01\x05\x0b\x80\x80\x80\x80\x00\x02"
                 "a/\x00",
                 MQTT_V5, 0x81);                         /* 5-byte varint */
    EXPECT_ERROR("\x82\x03\x00\x01\x00", MQTT_V5, 0x82); /* no filter */
    EXPECT_ERROR("\x82\x0a\x00\x01\x03\x23\x00\x01\x00\x01x\x00", MQTT_V5, 0x81); /* alias */

    /* UNSUBSCRIBE (§3.10) and UNSUBACK (§3.11) */
    static const uint8_t unsub311[] = {0xa2, 0x0b, 0x00, 0x05, 0x00, 0x01, 'a',
                                       0x00, 0x04, 'b',  '/',  '+',  '/'};
    CHECK(mqtt_frame_parse(unsub311, sizeof(unsub311), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_subscribe(&h, unsub311 + 2, MQTT_V311, &s, &err) == MQTT_OK);
    CHECK(s.type == MQTT_UNSUBSCRIBE && s.count == 2 && s.packet_id == 5);
    mqtt_sub_begin(&s, &it);
    CHECK(mqtt_sub_next(&it, &f, &o) && bytes_eq(f, "a") && o == 0);
    CHECK(mqtt_sub_next(&it, &f, &o) && bytes_eq(f, "b/+/") && o == 0);
    CHECK(!mqtt_sub_next(&it, &f, &o));
    EXPECT_ENCODED(mqtt_encode_unsuback(buf, cap, &s, MQTT_RC_NO_SUBSCRIPTION_EXISTED, "x", 0),
                   "\xb0\x02\x00\x05");
    check_truncations(unsub311, sizeof(unsub311), MQTT_V311);

    static const uint8_t unsub5ok[] = {0xa2, 0x0e, 0x00, 0x06, 0x05, 0x26, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x01, 'a',  0x00, 0x01, 'b'};
    CHECK(mqtt_frame_parse(unsub5ok, sizeof(unsub5ok), 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_subscribe(&h, unsub5ok + 2, MQTT_V5, &s, &err) == MQTT_OK);
    CHECK(s.count == 2 && s.props.user_property_count == 1);
    EXPECT_ENCODED(mqtt_encode_unsuback(buf, cap, &s, MQTT_RC_NO_SUBSCRIPTION_EXISTED, NULL, 0),
                   "\xb0\x05\x00\x06\x00\x11\x11");
    EXPECT_ERROR("\xa2\x02\x00\x06", MQTT_V311, 0x82);
    EXPECT_ERROR("\xa2\x09\x00\x06\x00\x00\x01"
                 "a\x02\x0b\x01",
                 MQTT_V5, 0x81); /* "\x02\x0b..." is no filter: malformed */
    EXPECT_ERROR("\xa2\x08\x00\x06\x02\x0b\x01\x00\x01"
                 "a",
                 MQTT_V5, 0x81); /* Subscription Identifier not in UNSUBSCRIBE */

    /* SUBACK / UNSUBACK encoders with explicit codes */
    static const uint8_t codes[] = {0x00, 0x01, 0x02, 0x87, 0x80};
    EXPECT_ENCODED(mqtt_encode_suback(buf, cap, MQTT_V311, 0x0a0b, codes, 5, NULL, 0),
                   "\x90\x07\x0a\x0b\x00\x01\x02\x80\x80");
    EXPECT_ENCODED(mqtt_encode_suback(buf, cap, MQTT_V5, 0x0a0b, codes, 5, NULL, 0),
                   "\x90\x08\x0a\x0b\x00\x00\x01\x02\x87\x80");
}

/* ---- PINGREQ, PINGRESP, DISCONNECT, AUTH ---- */

static void test_ping_disconnect_auth(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_disconnect d;

    EXPECT_OK("\xc0\x00", MQTT_V311);
    EXPECT_OK("\xc0\x00", MQTT_V5);
    EXPECT_ENCODED(mqtt_encode_pingresp(buf, cap), "\xd0\x00");

    EXPECT_OK("\xe0\x00", MQTT_V311);
    EXPECT_ERROR("\xe0\x01\x00", MQTT_V311, 0x81);
    EXPECT_OK("\xe0\x00", MQTT_V5);
    EXPECT_OK("\xe0\x01\x04", MQTT_V5);
    EXPECT_OK("\xe0\x02\x00\x00", MQTT_V5);
    EXPECT_ERROR("\xe0\x01\x05", MQTT_V5, 0x82); /* not a DISCONNECT reason code */
    EXPECT_ERROR("\xe0\x01\x84", MQTT_V5, 0x82);
    EXPECT_ERROR("\xe0\x03\x00\x00\x00", MQTT_V5, 0x81);
    EXPECT_ERROR("\xe0\x04\x00\x02\x21\x00", MQTT_V5, 0x81); /* Receive Maximum: not allowed */
    CHECK(mqtt_frame_parse(V("\xe0\x0e\x8e\x0c\x11\x00\x00\x00\x3c\x1f\x00\x04gone"), 0, &h,
                           &err) == MQTT_OK);
    CHECK(mqtt_decode_disconnect(&h,
                                 (const uint8_t *)"\x8e\x0c\x11\x00\x00\x00\x3c\x1f\x00\x04"
                                                  "gone",
                                 MQTT_V5, &d, &err) == MQTT_OK);
    CHECK(d.type == MQTT_DISCONNECT && d.reason == 0x8e && d.props.session_expiry_interval == 60);
    CHECK(bytes_eq(d.props.reason_string, "gone"));
    check_truncations(V("\xe0\x0e\x8e\x0c\x11\x00\x00\x00\x3c\x1f\x00\x04gone"), MQTT_V5);

    /* AUTH (5.0 §3.15): decoded so that it can be refused */
    EXPECT_OK("\xf0\x00", MQTT_V5);
    EXPECT_OK("\xf0\x08\x18\x06\x15\x00\x03scr", MQTT_V5);
    EXPECT_ERROR("\xf0\x01\x87", MQTT_V5, 0x82);
    EXPECT_ERROR("\xf0\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\xf0\x05\x18\x03\x16\x00\x00", MQTT_V5, 0x82); /* data without method */

    /* DISCONNECT encoder: none in 3.1.1; the short forms; Reason String unless too large */
    uint8_t out[64];
    CHECK(mqtt_encode_disconnect(out, sizeof(out), MQTT_V311, 0x8b, "bye", 0) == 0);
    EXPECT_ENCODED(mqtt_encode_disconnect(buf, cap, MQTT_V5, 0, NULL, 0), "\xe0\x00");
    EXPECT_ENCODED(mqtt_encode_disconnect(buf, cap, MQTT_V5, 0x93, NULL, 0), "\xe0\x01\x93");
    EXPECT_ENCODED(mqtt_encode_disconnect(buf, cap, MQTT_V5, 0x8b, "bye", 0),
                   "\xe0\x08\x8b\x06\x1f\x00\x03"
                   "bye");
    EXPECT_ENCODED(mqtt_encode_disconnect(buf, cap, MQTT_V5, 0x8b, "bye", 9), "\xe0\x01\x8b");
    EXPECT_ENCODED(mqtt_encode_disconnect(buf, cap, MQTT_V5, 0x8b, "bye", 10),
                   "\xe0\x08\x8b\x06\x1f\x00\x03"
                   "bye");
}

/* ---- CONNACK and ack encoders, round trips ---- */

int main(void)
{
    test_utf8();
    test_frame();
    test_connect();
    test_publish();
    test_acks();
    test_subscribe();
    test_ping_disconnect_auth();
    return check_done();
}
