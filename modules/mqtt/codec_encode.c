/*
 * codec_encode.c - encoders of the packets the server sends: CONNACK, PUBACK/PUBREC/PUBREL/
 * PUBCOMP, SUBACK, UNSUBACK, PINGRESP, DISCONNECT. See codec.h for the contract: each returns
 * the packet size and writes only when the whole packet fits.
 */
#include <string.h>

#include "codec_internal.h"

static size_t packet_size(size_t remaining)
{
    return 1 + mqtt_varint_size((uint32_t)remaining) + remaining;
}

/* A Reason String is written only if it is a UTF-8 string field can hold (5.0 §1.5.4) and the
 * packet stays within the client's Maximum Packet Size (5.0 §3.1.2.11.4). */
static size_t reason_string_len(const char *rs)
{
    if (!rs)
        return 0;
    size_t n = strlen(rs);
    return n <= UINT16_MAX ? n : 0;
}

static bool within(size_t remaining, uint32_t max_size)
{
    return max_size == 0 || packet_size(remaining) <= max_size;
}

static uint8_t *write_reason_string(uint8_t *w, const char *rs, size_t n)
{
    w = mqtt_varint_write(w, (uint32_t)(3 + n));
    *w++ = MQTT_PROP_REASON_STRING;
    w = mqtt_u16_write(w, (uint16_t)n);
    memcpy(w, rs, n);
    return w + n;
}

int mqtt_connack_v3_code(uint8_t reason)
{
    switch (reason) {
    case MQTT_RC_SUCCESS:
        return MQTT_CONNACK_ACCEPTED;
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
        return MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION;
    case MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID:
        return MQTT_CONNACK_IDENTIFIER_REJECTED;
    case MQTT_RC_UNSPECIFIED_ERROR:
    case MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR:
    case MQTT_RC_SERVER_UNAVAILABLE:
    case MQTT_RC_SERVER_BUSY:
    case MQTT_RC_SERVER_SHUTTING_DOWN:
    case MQTT_RC_QUOTA_EXCEEDED:
    case MQTT_RC_CONNECTION_RATE_EXCEEDED:
    case MQTT_RC_USE_ANOTHER_SERVER:
    case MQTT_RC_SERVER_MOVED:
        return MQTT_CONNACK_SERVER_UNAVAILABLE;
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
    case MQTT_RC_BAD_AUTHENTICATION_METHOD:
        return MQTT_CONNACK_BAD_USERNAME_OR_PASSWORD;
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
        return MQTT_CONNACK_NOT_AUTHORIZED;
    default:
        return -1;
    }
}

size_t mqtt_encode_connack(uint8_t *buf, size_t cap, uint8_t version, const mqtt_connack *ack,
                           uint32_t max_size)
{
    /* 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]: Session Present 0 with a failure */
    const uint8_t flags = ack->reason == MQTT_RC_SUCCESS && ack->session_present ? 1 : 0;

    if (version != MQTT_V5) {
        int code = mqtt_connack_v3_code(ack->reason);
        if (code < 0)
            return 0;
        if (cap < 4)
            return 4;
        buf[0] = MQTT_CONNACK << 4;
        buf[1] = 2;
        buf[2] = flags;
        buf[3] = (uint8_t)code;
        return 4;
    }

    mqtt_props props = ack->props;
    size_t plen = mqtt_props_encoded_len(&props);
    size_t rem = 2 + mqtt_varint_size((uint32_t)plen) + plen;
    if (!within(rem, max_size) && mqtt_props_has(&props, MQTT_PROP_REASON_STRING)) {
        props.present &= ~MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
        plen = mqtt_props_encoded_len(&props);
        rem = 2 + mqtt_varint_size((uint32_t)plen) + plen;
    }
    size_t total = packet_size(rem);
    if (total > cap)
        return total;
    uint8_t *w = buf;
    *w++ = MQTT_CONNACK << 4;
    w = mqtt_varint_write(w, (uint32_t)rem);
    *w++ = flags;
    *w++ = ack->reason;
    mqtt_props_encode(w, &props, plen);
    return total;
}

/* 5.0 §3.2.2.2 table 3-1: what a CONNACK may say; anything else becomes Unspecified error. */
static uint8_t connack_reason(uint8_t reason)
{
    static const uint8_t codes[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                    0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                    0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
    return memchr(codes, reason, sizeof(codes)) ? reason : MQTT_RC_UNSPECIFIED_ERROR;
}

size_t mqtt_encode_connect_refusal(uint8_t *buf, size_t cap, const mqtt_connect *c,
                                   const mqtt_error *err, uint32_t max_size)
{
    mqtt_connack ack;
    memset(&ack, 0, sizeof(ack));
    ack.reason = err->reason;
    /* 0x84: the client speaks a level we do not, so answer in the 3.1.1 format every level
     * understands (5.0 §3.1.2.2, 3.1.1 §3.1.2.2 [MQTT-3.1.2-2]). */
    if (err->reason == MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION || c->version != MQTT_V5)
        return mqtt_encode_connack(buf, cap, MQTT_V311, &ack, 0);
    ack.reason = connack_reason(err->reason);
    if (ack.reason == MQTT_RC_SUCCESS)
        ack.reason = MQTT_RC_UNSPECIFIED_ERROR;
    if (err->msg) {
        ack.props.present |= MQTT_PROP_BIT(MQTT_PROP_REASON_STRING);
        ack.props.reason_string = mqtt_cstr(err->msg);
    }
    return mqtt_encode_connack(buf, cap, MQTT_V5, &ack, max_size);
}

size_t mqtt_encode_ack(uint8_t *buf, size_t cap, uint8_t version, uint8_t type, uint16_t packet_id,
                       uint8_t reason, const char *reason_string, uint32_t max_size)
{
    if (type < MQTT_PUBACK || type > MQTT_PUBCOMP)
        return 0;
    size_t n = 0, rem = 2;
    if (version == MQTT_V5) {
        n = reason_string_len(reason_string);
        rem = 3 + mqtt_varint_size((uint32_t)(3 + n)) + 3 + n;
        if (n == 0 || !within(rem, max_size)) {
            /* 5.0 §3.4.2.1: Success without properties is the short form; a reason code
             * without properties omits the Property Length (§3.4.2.2.1). */
            n = 0;
            rem = reason == MQTT_RC_SUCCESS ? 2 : 3;
        }
    }
    size_t total = packet_size(rem);
    if (total > cap)
        return total;
    uint8_t *w = buf;
    *w++ = (uint8_t)(type << 4 | (type == MQTT_PUBREL ? 2 : 0)); /* 3.1.1 §3.6.1 */
    w = mqtt_varint_write(w, (uint32_t)rem);
    w = mqtt_u16_write(w, packet_id);
    if (rem > 2)
        *w++ = reason;
    if (n)
        write_reason_string(w, reason_string, n);
    return total;
}

/* Writes the SUBACK/UNSUBACK header, properties included; the caller appends `count` codes.
 * Returns the total size (nothing written if > cap, *codes_at untouched). */
static size_t ack_list_header(uint8_t *buf, size_t cap, uint8_t type, uint8_t version,
                              uint16_t packet_id, size_t count, const char *reason_string,
                              uint32_t max_size, uint8_t **codes_at)
{
    size_t n = 0, rem;
    if (version == MQTT_V5) {
        n = reason_string_len(reason_string);
        size_t plen = n ? 3 + n : 0;
        rem = 2 + mqtt_varint_size((uint32_t)plen) + plen + count;
        if (n && !within(rem, max_size)) {
            n = 0;
            rem = 2 + 1 + count;
        }
    } else {
        rem = 2 + count;
    }
    if (rem > MQTT_MAX_REMAINING_LENGTH)
        return 0;
    size_t total = packet_size(rem);
    if (total > cap)
        return total;
    uint8_t *w = buf;
    *w++ = (uint8_t)(type << 4);
    w = mqtt_varint_write(w, (uint32_t)rem);
    w = mqtt_u16_write(w, packet_id);
    if (version == MQTT_V5) {
        if (n)
            w = write_reason_string(w, reason_string, n);
        else
            *w++ = 0; /* Property Length 0 */
    }
    *codes_at = w;
    return total;
}

size_t mqtt_encode_suback(uint8_t *buf, size_t cap, uint8_t version, uint16_t packet_id,
                          const uint8_t *codes, size_t count, const char *reason_string,
                          uint32_t max_size)
{
    uint8_t *w = NULL;
    size_t total = ack_list_header(buf, cap, MQTT_SUBACK, version, packet_id, count, reason_string,
                                   max_size, &w);
    if (!w)
        return total;
    for (size_t i = 0; i < count; i++) {
        uint8_t c = codes[i];
        /* 3.1.1 §3.9.3: 0x00-0x02 granted, 0x80 failure */
        w[i] = version != MQTT_V5 && c >= 0x80u ? MQTT_SUBACK_V3_FAILURE : c;
    }
    return total;
}

/* A topic filter per 5.0 §4.7.1: '#' alone in the last level, '+' alone in its level. */
static bool topic_filter_valid(const mqtt_bytes *f)
{
    if (f->len == 0 || inlet_support_utf8_check(f->p, f->len, INLET_SUPPORT_UTF8_STRICT) != 0)
        return false;
    for (size_t i = 0; i < f->len; i++) {
        uint8_t c = f->p[i];
        if (c != '+' && c != '#')
            continue;
        if (i > 0 && f->p[i - 1] != '/')
            return false;
        if (c == '#' && i != f->len - 1)
            return false;
        if (c == '+' && i + 1 < f->len && f->p[i + 1] != '/')
            return false;
    }
    return true;
}

static uint8_t refusal_code(const mqtt_subscribe *sub, const mqtt_bytes *f, uint8_t reason)
{
    if (!topic_filter_valid(f))
        return MQTT_RC_TOPIC_FILTER_INVALID;
    if (f->len >= 7 && memcmp(f->p, "$share/", 7) == 0) /* 5.0 §4.8.2 */
        return MQTT_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED;
    if (mqtt_props_has(&sub->props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER))
        return MQTT_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED;
    if (memchr(f->p, '+', f->len) || memchr(f->p, '#', f->len))
        return MQTT_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED;
    return reason;
}

size_t mqtt_encode_suback_refusal(uint8_t *buf, size_t cap, const mqtt_subscribe *sub,
                                  uint8_t reason, const char *reason_string, uint32_t max_size)
{
    uint8_t *w = NULL;
    size_t total = ack_list_header(buf, cap, MQTT_SUBACK, sub->version, sub->packet_id, sub->count,
                                   reason_string, max_size, &w);
    if (!w)
        return total;
    mqtt_sub_iter it;
    mqtt_bytes filter;
    uint8_t options;
    mqtt_sub_begin(sub, &it);
    while (mqtt_sub_next(&it, &filter, &options)) {
        *w++ =
            sub->version == MQTT_V5 ? refusal_code(sub, &filter, reason) : MQTT_SUBACK_V3_FAILURE;
    }
    return total;
}

size_t mqtt_encode_unsuback(uint8_t *buf, size_t cap, const mqtt_subscribe *unsub, uint8_t reason,
                            const char *reason_string, uint32_t max_size)
{
    /* 3.1.1 §3.11: packet identifier only */
    const size_t count = unsub->version == MQTT_V5 ? unsub->count : 0;
    uint8_t *w = NULL;
    size_t total = ack_list_header(buf, cap, MQTT_UNSUBACK, unsub->version, unsub->packet_id, count,
                                   reason_string, max_size, &w);
    if (w && count)
        memset(w, reason, count);
    return total;
}

size_t mqtt_encode_pingresp(uint8_t *buf, size_t cap)
{
    if (cap >= 2) {
        buf[0] = MQTT_PINGRESP << 4;
        buf[1] = 0;
    }
    return 2;
}

size_t mqtt_encode_disconnect(uint8_t *buf, size_t cap, uint8_t version, uint8_t reason,
                              const char *reason_string, uint32_t max_size)
{
    if (version != MQTT_V5)
        return 0; /* 3.1.1 §3.14: DISCONNECT is client-to-server only */
    size_t n = reason_string_len(reason_string);
    size_t rem = 1 + mqtt_varint_size((uint32_t)(3 + n)) + 3 + n;
    if (n == 0 || !within(rem, max_size)) {
        /* 5.0 §3.14.2.1: Remaining Length 0 means Normal disconnection */
        n = 0;
        rem = reason == MQTT_RC_SUCCESS ? 0 : 1;
    }
    size_t total = packet_size(rem);
    if (total > cap)
        return total;
    uint8_t *w = buf;
    *w++ = MQTT_DISCONNECT << 4;
    w = mqtt_varint_write(w, (uint32_t)rem);
    if (rem > 0)
        *w++ = reason;
    if (n)
        write_reason_string(w, reason_string, n);
    return total;
}
