/* mqtt_codec_test.h - vectors and helpers shared by test_mqtt_codec.c (decoders) and
 * test_mqtt_codec_encode.c (encoders); both include the codec's .c files directly. */
#ifndef INLET_MQTT_CODEC_TEST_H
#define INLET_MQTT_CODEC_TEST_H

#include <stdlib.h>
#include <time.h>

#include "check.h"

#include "../../modules/mqtt/codec.c"
#include "../../modules/mqtt/codec_encode.c"
#include "../../modules/mqtt/codec_props.c"
#include "../../modules/support/utf8.c"

/* A string literal as (bytes, length); split literals after a \x escape ("\x03" "abc"). */
#define V(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* ---- captured from mosquitto_pub 2.0.11 against a socket server (see report) ---- */

/* mosquitto_pub -V mqttv5 -q 2 -i truck-0042 -u acme -P tok.en.sig -D connect receive-maximum 10
 *   -D connect session-expiry-interval 3600 ... */
static __attribute__((unused)) const uint8_t cap_v5_connect[] = {
    0x10, 0x31, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0xc2, 0x00, 0x3c, 0x08,
    0x21, 0x00, 0x0a, 0x11, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x0a, 0x74, 0x72, 0x75,
    0x63, 0x6b, 0x2d, 0x30, 0x30, 0x34, 0x32, 0x00, 0x04, 0x61, 0x63, 0x6d, 0x65,
    0x00, 0x0a, 0x74, 0x6f, 0x6b, 0x2e, 0x65, 0x6e, 0x2e, 0x73, 0x69, 0x67,
};
/* ... -t acme/truck-0042/fleet.position/v1 -D publish user-property k v -D publish user-property
 * trace 42 -D publish content-type application/json -D publish payload-format-indicator 1
 * -D publish message-expiry-interval 60 -m '{"lat":52.5,"lon":13.4}' */
static __attribute__((unused)) const uint8_t cap_v5_publish_qos2[] = {
    0x34, 0x6a, 0x00, 0x21, 0x61, 0x63, 0x6d, 0x65, 0x2f, 0x74, 0x72, 0x75, 0x63, 0x6b, 0x2d, 0x30,
    0x30, 0x34, 0x32, 0x2f, 0x66, 0x6c, 0x65, 0x65, 0x74, 0x2e, 0x70, 0x6f, 0x73, 0x69, 0x74, 0x69,
    0x6f, 0x6e, 0x2f, 0x76, 0x31, 0x00, 0x01, 0x2d, 0x26, 0x00, 0x01, 0x6b, 0x00, 0x01, 0x76, 0x26,
    0x00, 0x05, 0x74, 0x72, 0x61, 0x63, 0x65, 0x00, 0x02, 0x34, 0x32, 0x03, 0x00, 0x10, 0x61, 0x70,
    0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x2f, 0x6a, 0x73, 0x6f, 0x6e, 0x01, 0x01,
    0x02, 0x00, 0x00, 0x00, 0x3c, 0x7b, 0x22, 0x6c, 0x61, 0x74, 0x22, 0x3a, 0x35, 0x32, 0x2e, 0x35,
    0x2c, 0x22, 0x6c, 0x6f, 0x6e, 0x22, 0x3a, 0x31, 0x33, 0x2e, 0x34, 0x7d,
};
static __attribute__((unused)) const uint8_t cap_v5_pubrel[] = {0x62, 0x02, 0x00, 0x01};
/* mosquitto_pub -V mqttv311 -q 1 -i truck-0042 -u acme -P tok -t ... -m '{"lat":52.5}' */
static __attribute__((unused)) const uint8_t cap_v311_connect[] = {
    0x10, 0x21, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0xc2, 0x00, 0x3c,
    0x00, 0x0a, 0x74, 0x72, 0x75, 0x63, 0x6b, 0x2d, 0x30, 0x30, 0x34, 0x32,
    0x00, 0x04, 0x61, 0x63, 0x6d, 0x65, 0x00, 0x03, 0x74, 0x6f, 0x6b,
};
static __attribute__((unused)) const uint8_t cap_v311_publish_qos1[] = {
    0x32, 0x31, 0x00, 0x21, 0x61, 0x63, 0x6d, 0x65, 0x2f, 0x74, 0x72, 0x75, 0x63,
    0x6b, 0x2d, 0x30, 0x30, 0x34, 0x32, 0x2f, 0x66, 0x6c, 0x65, 0x65, 0x74, 0x2e,
    0x70, 0x6f, 0x73, 0x69, 0x74, 0x69, 0x6f, 0x6e, 0x2f, 0x76, 0x31, 0x00, 0x01,
    0x7b, 0x22, 0x6c, 0x61, 0x74, 0x22, 0x3a, 0x35, 0x32, 0x2e, 0x35, 0x7d,
};
/* mosquitto_pub -V mqttv5 -i dev-1 --will-topic acme/dev-1/status --will-payload offline
 *   --will-qos 1 --will-retain -D will user-property a b -D will will-delay-interval 5 ... */
static __attribute__((unused)) const uint8_t cap_v5_connect_will[] = {
    0x10, 0x3e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x2e, 0x00, 0x3c, 0x03, 0x21, 0x00, 0x14,
    0x00, 0x05, 0x64, 0x65, 0x76, 0x2d, 0x31, 0x0c, 0x26, 0x00, 0x01, 0x61, 0x00, 0x01, 0x62, 0x18,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x11, 0x61, 0x63, 0x6d, 0x65, 0x2f, 0x64, 0x65, 0x76, 0x2d, 0x31,
    0x2f, 0x73, 0x74, 0x61, 0x74, 0x75, 0x73, 0x00, 0x07, 0x6f, 0x66, 0x66, 0x6c, 0x69, 0x6e, 0x65,
};
static __attribute__((unused))
const uint8_t cap_v5_publish_qos0[] = {0x30, 0x11, 0x00, 0x0c, 0x61, 0x63, 0x6d, 0x65, 0x2f, 0x64,
                                       0x65, 0x76, 0x2d, 0x31, 0x2f, 0x78, 0x00, 0x68, 0x69};

/* ---- helpers ---- */

static __attribute__((unused)) bool bytes_eq(mqtt_bytes b, const char *s)
{
    return b.p && b.len == strlen(s) && memcmp(b.p, s, b.len) == 0;
}

/* Frames a whole packet (it must be exactly len bytes) and decodes it as whatever it is. */
static __attribute__((unused)) int decode_any(const uint8_t *pkt, size_t len, uint8_t version,
                                              mqtt_error *err)
{
    mqtt_fixed_header h;
    int rc = mqtt_frame_parse(pkt, len, 0, &h, err);
    if (rc != MQTT_OK)
        return rc == MQTT_NEED_MORE ? 99 : rc;
    if ((size_t)h.header_len + h.remaining != len)
        return 98;
    const uint8_t *body = pkt + h.header_len;
    union {
        mqtt_connect c;
        mqtt_publish p;
        mqtt_ack a;
        mqtt_subscribe s;
        mqtt_disconnect d;
        mqtt_connack ca;
        mqtt_suback sa;
    } u;
    switch (h.type) {
    case MQTT_CONNECT:
        return mqtt_decode_connect(&h, body, &u.c, err);
    case MQTT_CONNACK:
        return mqtt_decode_connack(&h, body, version, &u.ca, err);
    case MQTT_PUBLISH:
        return mqtt_decode_publish(&h, body, version, &u.p, err);
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        return mqtt_decode_ack(&h, body, version, &u.a, err);
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        return mqtt_decode_subscribe(&h, body, version, &u.s, err);
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        return mqtt_decode_suback(&h, body, version, &u.sa, err);
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        return mqtt_decode_disconnect(&h, body, version, &u.d, err);
    default:
        return MQTT_OK; /* PINGREQ, PINGRESP: nothing beyond the fixed header */
    }
}

static __attribute__((unused)) int line_failed;

/* The packet decodes with error `reason`. */
static __attribute__((unused)) void expect_error(int line, const uint8_t *pkt, size_t len,
                                                 uint8_t version, uint8_t reason)
{
    mqtt_error err = {0, NULL};
    int rc = decode_any(pkt, len, version, &err);
    if (rc != MQTT_ERROR || err.reason != reason || !err.msg) {
        fprintf(stderr, "line %d: expected error 0x%02x, got rc %d reason 0x%02x (%s)\n", line,
                reason, rc, err.reason, err.msg ? err.msg : "-");
        check_failed++;
        line_failed = line;
    } else {
        check_passed++;
    }
}
#define EXPECT_ERROR(lit, version, reason) expect_error(__LINE__, V(lit), version, reason)

static __attribute__((unused)) void expect_ok(int line, const uint8_t *pkt, size_t len,
                                              uint8_t version)
{
    mqtt_error err = {0, NULL};
    int rc = decode_any(pkt, len, version, &err);
    if (rc != MQTT_OK) {
        fprintf(stderr, "line %d: expected OK, got rc %d reason 0x%02x (%s)\n", line, rc,
                err.reason, err.msg ? err.msg : "-");
        check_failed++;
    } else {
        check_passed++;
    }
}
#define EXPECT_OK(lit, version) expect_ok(__LINE__, V(lit), version)

/* The encoder output equals the expected bytes, and a short buffer gets the size and no
 * writes. */
#define EXPECT_ENCODED(expr_buf_cap, lit)                                                          \
    do {                                                                                           \
        uint8_t out_[512];                                                                         \
        memset(out_, 0xEE, sizeof(out_));                                                          \
        uint8_t *buf = out_;                                                                       \
        size_t cap = sizeof(out_);                                                                 \
        size_t n_ = (expr_buf_cap);                                                                \
        CHECK(n_ == sizeof(lit) - 1);                                                              \
        CHECK(n_ <= sizeof(out_) && memcmp(out_, lit, sizeof(lit) - 1) == 0);                      \
        memset(out_, 0xEE, sizeof(out_));                                                          \
        cap = n_ - 1;                                                                              \
        CHECK((expr_buf_cap) == n_ && out_[0] == 0xEE);                                            \
        (void)buf;                                                                                 \
    } while (0)

/* ---- UTF-8 ---- */

/* NEED_MORE for every prefix shorter than the fixed header; OK with the same header after; and
 * decoding any truncated body is an error, never an overread (ASan builds check that). */
static __attribute__((unused)) void check_truncations(const uint8_t *pkt, size_t len,
                                                      uint8_t version)
{
    mqtt_fixed_header full, h;
    mqtt_error err;
    CHECK(mqtt_frame_parse(pkt, len, 0, &full, &err) == MQTT_OK);
    CHECK((size_t)full.header_len + full.remaining == len);
    for (size_t k = 0; k < len; k++) {
        int rc = mqtt_frame_parse(pkt, k, 0, &h, &err);
        if (k < full.header_len) {
            CHECK(rc == MQTT_NEED_MORE);
            continue;
        }
        CHECK(rc == MQTT_OK && h.remaining == full.remaining && h.header_len == full.header_len);
        /* the caller waits for header_len + remaining bytes; a body cut short and re-framed as
         * if it were whole must not decode past its end */
        uint8_t *copy = malloc(k);
        memcpy(copy, pkt, k);
        h.remaining = (uint32_t)(k - full.header_len);
        const uint8_t *body = copy + h.header_len;
        union {
            mqtt_connect c;
            mqtt_publish p;
            mqtt_ack a;
            mqtt_subscribe s;
            mqtt_disconnect d;
            mqtt_connack ca;
            mqtt_suback sa;
        } u;
        switch (h.type) {
        case MQTT_CONNECT:
            CHECK(mqtt_decode_connect(&h, body, &u.c, &err) == MQTT_ERROR);
            break;
        case MQTT_PUBLISH:
            /* a shorter payload is still a PUBLISH once the variable header is complete */
            (void)mqtt_decode_publish(&h, body, version, &u.p, &err);
            break;
        case MQTT_PUBACK:
        case MQTT_PUBREC:
        case MQTT_PUBREL:
        case MQTT_PUBCOMP:
            (void)mqtt_decode_ack(&h, body, version, &u.a, &err);
            break;
        case MQTT_SUBSCRIBE:
        case MQTT_UNSUBSCRIBE:
            /* cut at a filter boundary, it is a shorter valid list */
            (void)mqtt_decode_subscribe(&h, body, version, &u.s, &err);
            break;
        case MQTT_CONNACK:
            CHECK(mqtt_decode_connack(&h, body, version, &u.ca, &err) == MQTT_ERROR);
            break;
        case MQTT_SUBACK:
        case MQTT_UNSUBACK:
            (void)mqtt_decode_suback(&h, body, version, &u.sa, &err);
            break;
        case MQTT_DISCONNECT:
        case MQTT_AUTH:
            (void)mqtt_decode_disconnect(&h, body, version, &u.d, &err);
            break;
        default:
            break;
        }
        free(copy);
    }
}

#endif
