/* fuzz_mqtt_codec.c - libFuzzer target for the MQTT codec (modules/mqtt/codec*.c,
 * modules/support/utf8.c).
 *
 * 1. The input as a byte stream from a client, once as MQTT 3.1.1 and once as 5.0: frame every
 *    packet and decode it as what its type says; decoded packets must point inside the input,
 *    user properties and filter lists must iterate to the counts the decoder reported, and the
 *    answers the listener would send (CONNACK refusal, acks, SUBACK/UNSUBACK) must encode and
 *    decode back.
 * 2. The first bytes as parameters of a CONNACK, a PUBACK..PUBCOMP, a DISCONNECT and a SUBACK:
 *    encode, frame, decode and compare field by field.
 * 3. inlet_support_utf8_valid() against a straightforward code-point reference.
 * The module's .c files are included: the fuzz build links against inlet_core only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../modules/mqtt/codec.c"
#include "../../modules/mqtt/codec_encode.c"
#include "../../modules/mqtt/codec_props.c"
#include "../../modules/support/utf8.c"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const uint8_t *in_lo, *in_hi;

static void inside(mqtt_bytes b)
{
    if (b.p)
        ASSERT(b.p >= in_lo && b.p + b.len <= in_hi);
}

static void check_props(const mqtt_props *props)
{
    mqtt_prop_iter it;
    mqtt_bytes k, v;
    unsigned n = 0;
    inside(props->raw);
    mqtt_user_props_begin(props, &it);
    while (mqtt_user_props_next(&it, &k, &v)) {
        inside(k);
        inside(v);
        ASSERT(inlet_support_utf8_valid(k.p, k.len, 0) && inlet_support_utf8_valid(v.p, v.len, 0));
        n++;
    }
    ASSERT(n == props->user_property_count);
    if (mqtt_props_has(props, MQTT_PROP_RECEIVE_MAXIMUM))
        ASSERT(props->receive_maximum != 0);
    if (mqtt_props_has(props, MQTT_PROP_TOPIC_ALIAS))
        ASSERT(props->topic_alias != 0);
}

/* Decodes one framed packet; returns false when the connection would be closed. */
static bool handle_packet(const mqtt_fixed_header *h, const uint8_t *body, uint8_t *version)
{
    uint8_t out[1024];
    mqtt_error err = {0, NULL};
    mqtt_fixed_header h2;
    int rc;

    if (mqtt_frame_check_client(h, *version, &err) != MQTT_OK) {
        ASSERT(err.msg && err.reason >= 0x80);
        /* the server packets still decode without harm */
    }
    switch (h->type) {
    case MQTT_CONNECT: {
        mqtt_connect c;
        rc = mqtt_decode_connect(h, body, &c, &err);
        if (rc != MQTT_OK) {
            size_t n = mqtt_encode_connect_refusal(out, sizeof(out), &c, &err, 0);
            ASSERT(n <= sizeof(out));
            if (n) {
                mqtt_connack ca;
                uint8_t v = c.version == MQTT_V5 && err.reason != 0x84 ? MQTT_V5 : MQTT_V311;
                ASSERT(mqtt_frame_parse(out, n, 0, &h2, &err) == MQTT_OK);
                ASSERT(mqtt_decode_connack(&h2, out + h2.header_len, v, &ca, &err) == MQTT_OK);
                ASSERT(ca.reason != 0 && !ca.session_present);
            }
            return false;
        }
        ASSERT(c.version == MQTT_V311 || c.version == MQTT_V5);
        inside(c.client_id);
        inside(c.username);
        inside(c.password);
        inside(c.will_topic);
        inside(c.will_payload);
        check_props(&c.props);
        check_props(&c.will_props);
        if (c.will)
            ASSERT(mqtt_topic_name_valid(c.will_topic.p, c.will_topic.len));
        ASSERT(c.will_qos <= 2);
        *version = c.version;
        return true;
    }
    case MQTT_PUBLISH: {
        mqtt_publish p;
        if (mqtt_decode_publish(h, body, *version, &p, &err) != MQTT_OK)
            return false;
        inside(p.topic);
        inside(p.payload);
        check_props(&p.props);
        ASSERT(p.qos <= 2 && (p.qos == 0) == (p.packet_id == 0));
        ASSERT(p.topic.len ? mqtt_topic_name_valid(p.topic.p, p.topic.len)
                           : mqtt_props_has(&p.props, MQTT_PROP_TOPIC_ALIAS));
        if (p.qos) {
            uint8_t reason = (uint8_t)(p.payload.len ? p.payload.p[0] : 0);
            size_t n =
                mqtt_encode_ack(out, sizeof(out), *version, p.qos == 1 ? MQTT_PUBACK : MQTT_PUBREC,
                                p.packet_id, reason, "rejected", 0);
            mqtt_ack a;
            ASSERT(n > 0 && n <= sizeof(out));
            ASSERT(mqtt_frame_parse(out, n, 0, &h2, &err) == MQTT_OK);
            rc = mqtt_decode_ack(&h2, out + h2.header_len, *version, &a, &err);
            ASSERT(rc == MQTT_OK || (*version == MQTT_V5 && err.reason == 0x82));
            ASSERT(rc != MQTT_OK || a.packet_id == p.packet_id);
        }
        return true;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: {
        mqtt_ack a;
        if (mqtt_decode_ack(h, body, *version, &a, &err) != MQTT_OK)
            return false;
        check_props(&a.props);
        ASSERT(a.packet_id != 0 && a.type == h->type);
        return true;
    }
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        mqtt_subscribe s;
        if (mqtt_decode_subscribe(h, body, *version, &s, &err) != MQTT_OK)
            return false;
        check_props(&s.props);
        mqtt_sub_iter it;
        mqtt_bytes f;
        uint8_t o;
        uint32_t n = 0;
        mqtt_sub_begin(&s, &it);
        while (mqtt_sub_next(&it, &f, &o)) {
            inside(f);
            n++;
        }
        ASSERT(n == s.count && n > 0);
        size_t len = s.type == MQTT_SUBSCRIBE
                         ? mqtt_encode_suback_refusal(NULL, 0, &s, 0x87, "no", 0)
                         : mqtt_encode_unsuback(NULL, 0, &s, 0x11, "no", 0);
        uint8_t *buf = malloc(len);
        size_t len2 = s.type == MQTT_SUBSCRIBE
                          ? mqtt_encode_suback_refusal(buf, len, &s, 0x87, "no", 0)
                          : mqtt_encode_unsuback(buf, len, &s, 0x11, "no", 0);
        ASSERT(len == len2);
        mqtt_suback sa;
        ASSERT(mqtt_frame_parse(buf, len, 0, &h2, &err) == MQTT_OK);
        ASSERT(h2.header_len + h2.remaining == len);
        ASSERT(mqtt_decode_suback(&h2, buf + h2.header_len, *version, &sa, &err) == MQTT_OK);
        ASSERT(sa.packet_id == s.packet_id);
        ASSERT(sa.codes.len == (s.type == MQTT_UNSUBSCRIBE && *version != MQTT_V5 ? 0 : n));
        for (size_t i = 0; i < sa.codes.len; i++)
            ASSERT(sa.codes.p[i] >= 0x80 || s.type == MQTT_UNSUBSCRIBE);
        free(buf);
        return true;
    }
    case MQTT_DISCONNECT:
    case MQTT_AUTH: {
        mqtt_disconnect d;
        if (mqtt_decode_disconnect(h, body, *version, &d, &err) != MQTT_OK)
            return false;
        check_props(&d.props);
        return h->type == MQTT_AUTH;
    }
    case MQTT_CONNACK: {
        mqtt_connack ca;
        if (mqtt_decode_connack(h, body, *version, &ca, &err) == MQTT_OK)
            check_props(&ca.props);
        return true;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: {
        mqtt_suback sa;
        if (mqtt_decode_suback(h, body, *version, &sa, &err) == MQTT_OK) {
            inside(sa.codes);
            check_props(&sa.props);
        }
        return true;
    }
    default:
        return true;
    }
}

static void stream(const uint8_t *data, size_t size, uint8_t version)
{
    size_t off = 0;
    uint32_t max = size ? 16 + data[0] * 64u : 0; /* varied, sometimes smaller than a packet */
    while (off < size) {
        mqtt_fixed_header h;
        mqtt_error err = {0, NULL};
        int rc = mqtt_frame_parse(data + off, size - off, max, &h, &err);
        if (rc == MQTT_NEED_MORE)
            return;
        if (rc != MQTT_OK) {
            ASSERT(err.msg && (err.reason == 0x81 || err.reason == 0x95));
            return;
        }
        ASSERT(h.header_len >= 2 && h.header_len <= 5);
        ASSERT((uint64_t)h.header_len + h.remaining <= max);
        if (h.remaining > size - off - h.header_len)
            return; /* the listener would wait for the rest */
        if (!handle_packet(&h, data + off + h.header_len, &version))
            return;
        off += h.header_len + h.remaining;
    }
}

/* ---- encoder round trips from input-chosen values ---- */

static void connack_round_trip(const uint8_t *d, size_t size)
{
    static const uint8_t codes[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                    0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
    static const uint8_t ids[] = {
        MQTT_PROP_SESSION_EXPIRY_INTERVAL,
        MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER,
        MQTT_PROP_SERVER_KEEP_ALIVE,
        MQTT_PROP_RESPONSE_INFORMATION,
        MQTT_PROP_SERVER_REFERENCE,
        MQTT_PROP_REASON_STRING,
        MQTT_PROP_RECEIVE_MAXIMUM,
        MQTT_PROP_TOPIC_ALIAS_MAXIMUM,
        MQTT_PROP_MAXIMUM_QOS,
        MQTT_PROP_RETAIN_AVAILABLE,
        MQTT_PROP_MAXIMUM_PACKET_SIZE,
        MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE,
        MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE,
        MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE,
    };
    uint8_t p[24] = {0};
    memcpy(p, d, size < sizeof(p) ? size : sizeof(p));
    char text[32];
    size_t tlen = p[20] % sizeof(text);
    for (size_t i = 0; i < tlen; i++)
        text[i] = (char)('a' + (i + p[21]) % 26);
    text[tlen] = 0;

    mqtt_connack ca, back;
    memset(&ca, 0, sizeof(ca));
    ca.reason = codes[p[0] % sizeof(codes)];
    ca.session_present = p[1] & 1;
    uint16_t mask = (uint16_t)(p[2] | p[3] << 8);
    for (size_t i = 0; i < sizeof(ids); i++) {
        if (mask & (1u << i))
            ca.props.present |= MQTT_PROP_BIT(ids[i]);
    }
    ca.props.session_expiry_interval = (uint32_t)p[4] << 24 | p[5];
    ca.props.server_keep_alive = (uint16_t)(p[6] << 8 | p[7]);
    ca.props.receive_maximum = (uint16_t)((p[8] << 8 | p[9]) | 1);
    ca.props.topic_alias_maximum = (uint16_t)(p[10] << 8 | p[11]);
    ca.props.maximum_qos = p[12] & 1;
    ca.props.retain_available = (p[12] >> 1) & 1;
    ca.props.wildcard_subscription_available = (p[12] >> 2) & 1;
    ca.props.subscription_identifier_available = (p[12] >> 3) & 1;
    ca.props.shared_subscription_available = (p[12] >> 4) & 1;
    ca.props.maximum_packet_size = ((uint32_t)p[13] << 16 | p[14]) + 1;
    ca.props.assigned_client_identifier = mqtt_cstr(text);
    ca.props.response_information = mqtt_cstr(text);
    ca.props.server_reference = mqtt_cstr(text + tlen / 2);
    ca.props.reason_string = mqtt_cstr(text);
    uint32_t max_size = p[15] & 1 ? p[16] : 0;

    uint8_t out[512];
    mqtt_fixed_header h;
    mqtt_error err;
    for (uint8_t v = MQTT_V311; v <= MQTT_V5; v++) {
        size_t n = mqtt_encode_connack(out, sizeof(out), v, &ca, max_size);
        if (n == 0) {
            ASSERT(v == MQTT_V311 && mqtt_connack_v3_code(ca.reason) < 0);
            continue;
        }
        ASSERT(n <= sizeof(out));
        ASSERT(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
        ASSERT(h.header_len + h.remaining == n);
        ASSERT(mqtt_decode_connack(&h, out + h.header_len, v, &back, &err) == MQTT_OK);
        ASSERT(back.session_present == (ca.session_present && ca.reason == 0));
        if (v == MQTT_V311) {
            ASSERT(back.reason == mqtt_connack_v3_code(ca.reason));
            continue;
        }
        ASSERT(back.reason == ca.reason);
        uint64_t expect = ca.props.present;
        if (max_size && !(back.props.present & MQTT_PROP_BIT(MQTT_PROP_REASON_STRING)))
            expect &= ~MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
        ASSERT(back.props.present == expect);
        ASSERT(!max_size || n <= max_size ||
               !(back.props.present & MQTT_PROP_BIT(MQTT_PROP_REASON_STRING)));
        if (expect & MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM))
            ASSERT(back.props.receive_maximum == ca.props.receive_maximum);
        if (expect & MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE))
            ASSERT(back.props.maximum_packet_size == ca.props.maximum_packet_size);
        if (expect & MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL))
            ASSERT(back.props.session_expiry_interval == ca.props.session_expiry_interval);
        if (expect & MQTT_PROP_BIT(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE))
            ASSERT(back.props.shared_subscription_available ==
                   ca.props.shared_subscription_available);
        if (expect & MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER))
            ASSERT(back.props.assigned_client_identifier.len == tlen &&
                   memcmp(back.props.assigned_client_identifier.p, text, tlen) == 0);
        if (expect & MQTT_PROP_BIT(MQTT_PROP_REASON_STRING))
            ASSERT(back.props.reason_string.len == tlen);
    }
}

static void ack_round_trip(const uint8_t *d, size_t size)
{
    static const uint8_t puback_ok[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
    static const uint8_t pubrel_ok[] = {0x00, 0x92};
    uint8_t p[8] = {0};
    if (size > 24) /* the bytes after those connack_round_trip() uses */
        memcpy(p, d + 24, size - 24 < sizeof(p) ? size - 24 : sizeof(p));

    uint8_t type = (uint8_t)(MQTT_PUBACK + (p[0] & 3));
    uint16_t pid = (uint16_t)((p[1] << 8 | p[2]) | 1);
    uint8_t reason =
        type == MQTT_PUBACK || type == MQTT_PUBREC ? puback_ok[p[3] % 9] : pubrel_ok[p[3] & 1];
    char rs[16];
    size_t rlen = p[4] % sizeof(rs);
    memset(rs, 'r', rlen);
    rs[rlen] = 0;
    uint32_t max_size = p[5] & 0x1f;

    uint8_t out[64];
    mqtt_fixed_header h;
    mqtt_error err;
    mqtt_ack a;
    for (uint8_t v = MQTT_V311; v <= MQTT_V5; v++) {
        size_t n = mqtt_encode_ack(out, sizeof(out), v, type, pid, reason, rs, max_size);
        ASSERT(n >= 4 && n <= sizeof(out));
        ASSERT(mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
        ASSERT(h.type == type && h.header_len + h.remaining == n);
        ASSERT(mqtt_decode_ack(&h, out + h.header_len, v, &a, &err) == MQTT_OK);
        ASSERT(a.packet_id == pid && a.type == type);
        ASSERT(a.reason == (v == MQTT_V5 ? reason : 0));
        if (v == MQTT_V5 && mqtt_props_has(&a.props, MQTT_PROP_REASON_STRING))
            ASSERT(a.props.reason_string.len == rlen && (!max_size || n <= max_size));
        if (v == MQTT_V5 && rlen && (!max_size || max_size >= 9 + rlen))
            ASSERT(mqtt_props_has(&a.props, MQTT_PROP_REASON_STRING));
    }
}

/* DISCONNECT, SUBACK with explicit codes, PINGRESP. */
static void other_round_trips(const uint8_t *d, size_t size)
{
    uint8_t p[12] = {0};
    if (size > 32)
        memcpy(p, d + 32, size - 32 < sizeof(p) ? size - 32 : sizeof(p));
    uint8_t out[128];
    mqtt_fixed_header h;
    mqtt_error err;

    uint8_t reason = disconnect_codes[p[0] % sizeof(disconnect_codes)];
    const char *rs = p[1] & 1 ? "server shutting down" : NULL;
    uint32_t max_size = p[1] >> 1;
    ASSERT(mqtt_encode_disconnect(out, sizeof(out), MQTT_V311, reason, rs, max_size) == 0);
    size_t n = mqtt_encode_disconnect(out, sizeof(out), MQTT_V5, reason, rs, max_size);
    mqtt_disconnect dc;
    ASSERT(n >= 2 && mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
    ASSERT(mqtt_decode_disconnect(&h, out + h.header_len, MQTT_V5, &dc, &err) == MQTT_OK);
    ASSERT(dc.reason == reason);
    ASSERT(mqtt_props_has(&dc.props, MQTT_PROP_REASON_STRING) ==
           (rs && (!max_size || max_size >= 27)));
    ASSERT(mqtt_reason_name(reason) && mqtt_packet_type_name(h.type));

    uint8_t codes[8];
    size_t count = 1 + p[2] % sizeof(codes);
    for (size_t i = 0; i < count; i++)
        codes[i] = suback_codes[p[3 + i] % sizeof(suback_codes)];
    for (uint8_t v = MQTT_V311; v <= MQTT_V5; v++) {
        mqtt_suback sa;
        n = mqtt_encode_suback(out, sizeof(out), v, 42, codes, count, rs, max_size);
        ASSERT(n > 0 && mqtt_frame_parse(out, n, 0, &h, &err) == MQTT_OK);
        ASSERT(mqtt_decode_suback(&h, out + h.header_len, v, &sa, &err) == MQTT_OK);
        ASSERT(sa.packet_id == 42 && sa.codes.len == count);
        for (size_t i = 0; i < count; i++)
            ASSERT(sa.codes.p[i] == (v == MQTT_V5 || codes[i] < 0x80 ? codes[i] : 0x80));
    }
    ASSERT(mqtt_encode_pingresp(out, sizeof(out)) == 2 && out[0] == 0xd0 && out[1] == 0);
}

/* ---- UTF-8 reference ---- */

static int ref_utf8(const uint8_t *s, size_t len, unsigned flags)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        uint8_t c = s[i];
        if (c < 0x80) {
            cp = c, n = 1;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1Fu, n = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0Fu, n = 3;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07u, n = 4;
        } else {
            return 0;
        }
        if (len - i < n)
            return 0;
        for (size_t j = 1; j < n; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        static const uint32_t min_for[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
            return 0;
        if ((flags & INLET_SUPPORT_UTF8_NO_CONTROL) && (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)))
            return 0;
        if ((flags & INLET_SUPPORT_UTF8_NO_NONCHAR) &&
            ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE))
            return 0;
        i += n;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_lo = data;
    in_hi = data + size;
    stream(data, size, MQTT_V311);
    stream(data, size, MQTT_V5);
    connack_round_trip(data, size);
    ack_round_trip(data, size);
    other_round_trips(data, size);
    for (unsigned flags = 0; flags <= INLET_SUPPORT_UTF8_STRICT; flags++)
        ASSERT(inlet_support_utf8_valid(data, size, flags) == (ref_utf8(data, size, flags) == 1));
    return 0;
}
