/* test_mqtt_codec_encode.c - the MQTT encoders (CONNACK, acks, SUBACK, DISCONNECT, ...)
 * byte for byte, round trips through the decoders, and the PUBLISH decode speed. */
#include "mqtt_codec_test.h"

static void test_encoders(void)
{
    mqtt_connack ca;
    memset(&ca, 0, sizeof(ca));

    /* 3.1.1 §3.2: reason codes map onto return codes */
    ca.session_present = true;
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V311, &ca, 0), "\x20\x02\x01\x00");
    ca.reason = MQTT_RC_BAD_USERNAME_OR_PASSWORD; /* session present cleared on failure */
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V311, &ca, 0), "\x20\x02\x00\x04");
    ca.reason = MQTT_RC_NOT_AUTHORIZED;
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V311, &ca, 0), "\x20\x02\x00\x05");
    ca.reason = MQTT_RC_SERVER_UNAVAILABLE;
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V311, &ca, 0), "\x20\x02\x00\x03");
    ca.reason = MQTT_RC_MALFORMED_PACKET;
    uint8_t out[256];
    CHECK(mqtt_encode_connack(out, sizeof(out), MQTT_V311, &ca, 0) == 0);
    CHECK(mqtt_connack_v3_code(MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION) == 1);
    CHECK(mqtt_connack_v3_code(MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID) == 2);
    CHECK(mqtt_connack_v3_code(MQTT_RC_QUOTA_EXCEEDED) == 3);
    CHECK(mqtt_connack_v3_code(MQTT_RC_PACKET_TOO_LARGE) == -1);

    /* 5.0 §3.2 with the properties the listener advertises, in identifier order */
    memset(&ca, 0, sizeof(ca));
    ca.props.present =
        MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM) | MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_QOS) |
        MQTT_PROP_BIT(MQTT_PROP_RETAIN_AVAILABLE) | MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE) |
        MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM) |
        MQTT_PROP_BIT(MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE) |
        MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE) |
        MQTT_PROP_BIT(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE) |
        MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE) |
        MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    ca.props.receive_maximum = 100;
    ca.props.maximum_qos = 1;
    ca.props.retain_available = 0;
    ca.props.maximum_packet_size = 1048576;
    ca.props.topic_alias_maximum = 10;
    ca.props.server_keep_alive = 60;
    ca.props.assigned_client_identifier = mqtt_cstr("ab");
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V5, &ca, 0), "\x20\x20\x00\x00\x1d"
                                                                   "\x12\x00\x02"
                                                                   "ab"
                                                                   "\x13\x00\x3c"
                                                                   "\x21\x00\x64"
                                                                   "\x22\x00\x0a"
                                                                   "\x24\x01"
                                                                   "\x25\x00"
                                                                   "\x27\x00\x10\x00\x00"
                                                                   "\x28\x00"
                                                                   "\x29\x00"
                                                                   "\x2a\x00");
    /* round trip */
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_connack back;
    size_t n = mqtt_encode_connack(out, sizeof(out), MQTT_V5, &ca, 0);
    CHECK(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_connack(&h, out + h.header_len, MQTT_V5, &back, &err) == MQTT_OK);
    CHECK(back.props.present == ca.props.present && back.reason == 0 && !back.session_present);
    CHECK(back.props.receive_maximum == 100 && back.props.maximum_packet_size == 1048576);
    CHECK(back.props.topic_alias_maximum == 10 && back.props.maximum_qos == 1);
    CHECK(bytes_eq(back.props.assigned_client_identifier, "ab"));
    check_truncations(out, n, MQTT_V5);
    /* a Reason String that would exceed the client's maximum is dropped, nothing else */
    ca.props.present |= MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
    ca.props.reason_string = mqtt_cstr("welcome");
    CHECK(mqtt_encode_connack(out, sizeof(out), MQTT_V5, &ca, 0) == 34 + 10);
    CHECK(mqtt_encode_connack(out, sizeof(out), MQTT_V5, &ca, 43) == 34);
    /* 5.0 failure */
    memset(&ca, 0, sizeof(ca));
    ca.reason = MQTT_RC_NOT_AUTHORIZED;
    ca.session_present = true;
    EXPECT_ENCODED(mqtt_encode_connack(buf, cap, MQTT_V5, &ca, 0), "\x20\x03\x00\x87\x00");
    EXPECT_OK("\x20\x03\x00\x87\x00", MQTT_V5);
    EXPECT_OK("\x20\x02\x01\x00", MQTT_V311);
    EXPECT_ERROR("\x20\x02\x02\x00", MQTT_V311, 0x81);
    EXPECT_ERROR("\x20\x02\x00\x06", MQTT_V311, 0x81);
    EXPECT_ERROR("\x20\x03\x00\x01\x00", MQTT_V5, 0x82);
    EXPECT_ERROR("\x20\x05\x00\x00\x02\x24\x02", MQTT_V5, 0x82); /* Maximum QoS 2 */

    /* PUBACK .. PUBCOMP (3.1.1 §3.4-3.7, 5.0 §3.4.2.1 short forms) */
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V311, MQTT_PUBACK, 7, 0x87, "no", 0),
                   "\x40\x02\x00\x07");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V311, MQTT_PUBREC, 0x1234, 0, NULL, 0),
                   "\x50\x02\x12\x34");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V311, MQTT_PUBREL, 7, 0, NULL, 0),
                   "\x62\x02\x00\x07");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V311, MQTT_PUBCOMP, 7, 0, NULL, 0),
                   "\x70\x02\x00\x07");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBACK, 7, 0, NULL, 0),
                   "\x40\x02\x00\x07");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBACK, 7, 0x87, NULL, 0),
                   "\x40\x03\x00\x07\x87");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBACK, 7, 0x87, "no", 0),
                   "\x40\x09\x00\x07\x87\x05\x1f\x00\x02no");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBACK, 7, 0x87, "no", 11),
                   "\x40\x09\x00\x07\x87\x05\x1f\x00\x02no");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBACK, 7, 0x87, "no", 10),
                   "\x40\x03\x00\x07\x87");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBREC, 9, 0x99, "", 0),
                   "\x50\x03\x00\x09\x99");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBREL, 9, 0x92, NULL, 0),
                   "\x62\x03\x00\x09\x92");
    EXPECT_ENCODED(mqtt_encode_ack(buf, cap, MQTT_V5, MQTT_PUBCOMP, 9, 0, "ok", 0),
                   "\x70\x09\x00\x09\x00\x05\x1f\x00\x02ok");
    CHECK(mqtt_encode_ack(out, sizeof(out), MQTT_V5, MQTT_PUBLISH, 9, 0, NULL, 0) == 0);

    /* round trips of every ack type, version and reason */
    static const uint8_t reasons[] = {0x00, 0x10, 0x80, 0x87, 0x90, 0x92, 0x97, 0x99};
    for (uint8_t type = MQTT_PUBACK; type <= MQTT_PUBCOMP; type++) {
        for (size_t i = 0; i < sizeof(reasons); i++) {
            for (int rs = 0; rs < 2; rs++) {
                uint8_t version = rs ? MQTT_V5 : (i & 1 ? MQTT_V5 : MQTT_V311);
                n = mqtt_encode_ack(out, sizeof(out), version, type, (uint16_t)(100 + i),
                                    reasons[i], rs ? "why" : NULL, 0);
                mqtt_ack a;
                CHECK(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
                int rc = mqtt_decode_ack(&h, out + h.header_len, version, &a, &err);
                bool valid = version != MQTT_V5 || ack_reason_valid(type, reasons[i]);
                CHECK((rc == MQTT_OK) == valid);
                if (rc != MQTT_OK)
                    continue;
                CHECK(a.type == type && a.packet_id == 100 + i);
                CHECK(a.reason == (version == MQTT_V5 ? reasons[i] : 0));
                CHECK(!rs || bytes_eq(a.props.reason_string, "why"));
            }
        }
    }

    /* SUBACK / UNSUBACK / DISCONNECT round trips */
    static const uint8_t codes[] = {0x00, 0x02, 0x9e, 0xa2};
    mqtt_suback sa;
    n = mqtt_encode_suback(out, sizeof(out), MQTT_V5, 77, codes, 4, "r", 0);
    CHECK(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_suback(&h, out + h.header_len, MQTT_V5, &sa, &err) == MQTT_OK);
    CHECK(sa.packet_id == 77 && sa.codes.len == 4 && memcmp(sa.codes.p, codes, 4) == 0);
    CHECK(bytes_eq(sa.props.reason_string, "r"));
    n = mqtt_encode_suback(out, sizeof(out), MQTT_V311, 77, codes, 4, "r", 0);
    CHECK(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_suback(&h, out + h.header_len, MQTT_V311, &sa, &err) == MQTT_OK);
    CHECK(sa.codes.len == 4 && memcmp(sa.codes.p, "\x00\x02\x80\x80", 4) == 0);
    EXPECT_OK("\xb0\x02\x00\x05", MQTT_V311);
    EXPECT_ERROR("\xb0\x03\x00\x05\x00", MQTT_V311, 0x81);
    EXPECT_OK("\xb0\x04\x00\x05\x00\x11", MQTT_V5);
    EXPECT_ERROR("\xb0\x04\x00\x05\x00\x01", MQTT_V5, 0x82); /* QoS 1 is no UNSUBACK code */
    EXPECT_ERROR("\x90\x03\x00\x05\x03", MQTT_V311, 0x82);
    EXPECT_ERROR("\x90\x02\x00\x05", MQTT_V311, 0x82);

    mqtt_disconnect d;
    n = mqtt_encode_disconnect(out, sizeof(out), MQTT_V5, MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
                               "receive maximum exceeded", 0);
    CHECK(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
    CHECK(mqtt_decode_disconnect(&h, out + h.header_len, MQTT_V5, &d, &err) == MQTT_OK);
    CHECK(d.reason == 0x93 && bytes_eq(d.props.reason_string, "receive maximum exceeded"));

    /* names for logs */
    CHECK_STR(mqtt_packet_type_name(MQTT_PUBREL), "PUBREL");
    CHECK_STR(mqtt_packet_type_name(0), "reserved");
    CHECK_STR(mqtt_packet_type_name(200), "reserved");
    CHECK_STR(mqtt_reason_name(0x93), "Receive Maximum exceeded");
    CHECK_STR(mqtt_reason_name(0x03), "Unknown reason code");
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IS_ASAN_BUILD 1
#endif
#endif
#ifndef IS_ASAN_BUILD
#define IS_ASAN_BUILD 0
#endif

/* ---- cost of decoding a PUBLISH (the captured 108-byte MQTT 5 QoS 2 one) ---- */

static void test_publish_speed(void)
{
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_publish p;
    struct timespec t0, t1;
    const int rounds = 200000;
    unsigned long sink = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < rounds; i++) {
        if (mqtt_frame_parse(cap_v5_publish_qos2, sizeof(cap_v5_publish_qos2), 0, &h, &err) !=
                MQTT_OK ||
            mqtt_decode_publish(&h, cap_v5_publish_qos2 + h.header_len, MQTT_V5, &p, &err) !=
                MQTT_OK)
            break;
        sink += p.payload.len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns =
        ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / rounds;
    printf("frame + decode of a 108-byte MQTT 5 PUBLISH with 5 properties: %.0f ns\n", ns);
    CHECK(sink == (unsigned long)rounds * 23);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !IS_ASAN_BUILD
    CHECK(ns < 2000); /* a few hundred ns; the bound only catches an accidental slow path */
#endif
}

int main(void)
{
    test_encoders();
    test_publish_speed();
    return check_done();
}
