/*
 * codec.c - MQTT framing (3.1.1 §2.2, 5.0 §2.1) and the decoders of every packet a client
 * sends, plus the server packets (for tests and round trips). See codec.h for the contract.
 */
#include <string.h>

#include "codec_internal.h"

/* ---- framing ---- */

/* Required flag nibble per type (3.1.1 §2.2.2 table 2.2, 5.0 §2.1.3 table 2-2); PUBLISH (-1)
 * is checked separately. */
static const int8_t required_flags[16] = {
    [MQTT_CONNECT] = 0,  [MQTT_CONNACK] = 0,     [MQTT_PUBLISH] = -1, [MQTT_PUBACK] = 0,
    [MQTT_PUBREC] = 0,   [MQTT_PUBREL] = 2,      [MQTT_PUBCOMP] = 0,  [MQTT_SUBSCRIBE] = 2,
    [MQTT_SUBACK] = 0,   [MQTT_UNSUBSCRIBE] = 2, [MQTT_UNSUBACK] = 0, [MQTT_PINGREQ] = 0,
    [MQTT_PINGRESP] = 0, [MQTT_DISCONNECT] = 0,  [MQTT_AUTH] = 0,
};

static int check_flags(uint8_t type, uint8_t flags, mqtt_error *err)
{
    if (type == 0)
        return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "reserved packet type 0");
    if (type == MQTT_PUBLISH) {
        unsigned qos = (flags >> 1) & 3u;
        if (qos == 3) /* 3.1.1 §3.3.1.2 [MQTT-3.3.1-4], 5.0 §3.3.1.2 */
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "PUBLISH with QoS 3");
        if (qos == 0 && (flags & 8u)) /* [MQTT-3.3.1-2] */
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "PUBLISH with DUP set and QoS 0");
        return MQTT_OK;
    }
    if (flags != (uint8_t)required_flags[type]) /* [MQTT-2.2.2-2] */
        return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "wrong fixed header flags for the type");
    return MQTT_OK;
}

int mqtt_frame_parse(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                     mqtt_fixed_header *hdr, mqtt_error *err)
{
    if (max_packet_size == 0 || max_packet_size > MQTT_MAX_PACKET_SIZE)
        max_packet_size = MQTT_MAX_PACKET_SIZE;
    if (len < 1)
        return MQTT_NEED_MORE;

    uint8_t type = buf[0] >> 4, flags = buf[0] & 0x0Fu;
    if (check_flags(type, flags, err) != MQTT_OK)
        return MQTT_ERROR;

    /* Remaining Length (3.1.1 §2.2.3, 5.0 §2.1.4): at most 4 bytes. value is a lower bound of
     * the final length while continuation bytes are pending, so an oversized packet is refused
     * as soon as the bytes prove it. */
    uint32_t value = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (len < 2 + i)
            return MQTT_NEED_MORE;
        uint8_t b = buf[1 + i];
        value |= (uint32_t)(b & 0x7Fu) << (7 * i);
        if ((uint64_t)value + 2 + i > max_packet_size)
            return mqtt_fail(err, MQTT_RC_PACKET_TOO_LARGE, "packet exceeds maximum packet size");
        if (b & 0x80u)
            continue;
        if ((type == MQTT_PINGREQ || type == MQTT_PINGRESP) && value != 0)
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "PING with a non-empty body");
        hdr->type = type;
        hdr->flags = flags;
        hdr->header_len = (uint8_t)(2 + i);
        hdr->remaining = value;
        return MQTT_OK;
    }
    return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "remaining length longer than 4 bytes");
}

int mqtt_frame_check_client(const mqtt_fixed_header *hdr, uint8_t version, mqtt_error *err)
{
    switch (hdr->type) {
    case MQTT_CONNACK:
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
    case MQTT_PINGRESP:
        return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "server-to-client packet from a client");
    case MQTT_AUTH:
        if (version != MQTT_V5) /* reserved in 3.1.1 §2.2.1 */
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "reserved packet type 15");
        return MQTT_OK;
    case 0:
        return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "reserved packet type 0");
    default:
        return MQTT_OK;
    }
}

/* ---- decoders ---- */

#define MALFORMED(msg) mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, msg)
#define PROTOCOL(msg)  mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, msg)

static bool code_in(const uint8_t *set, size_t n, uint8_t rc)
{
    return memchr(set, rc, n) != NULL;
}

/* A UTF-8 string field: ill-formed is malformed (5.0 §1.5.4 [MQTT-1.5.4-1..3]); with `flags`,
 * the extra rules fail with `reason`. */
static int read_string(const uint8_t **p, const uint8_t *end, mqtt_bytes *out, unsigned flags,
                       uint8_t reason, const char *what, mqtt_error *err)
{
    if (!mqtt_read_bytes(p, end, out))
        return MALFORMED(what);
    int rc = inlet_support_utf8_check(out->p, out->len, flags);
    if (rc == INLET_SUPPORT_UTF8_ILL_FORMED)
        return MALFORMED("string is not valid UTF-8");
    if (rc != 0)
        return mqtt_fail(err, reason, what);
    return MQTT_OK;
}

static int read_topic_name(const uint8_t **p, const uint8_t *end, mqtt_bytes *out, mqtt_error *err)
{
    return read_string(p, end, out, INLET_SUPPORT_UTF8_STRICT | INLET_SUPPORT_UTF8_NO_WILDCARD,
                       MQTT_RC_TOPIC_NAME_INVALID,
                       "topic name with wildcards or control characters", err);
}

bool mqtt_topic_name_valid(const uint8_t *s, size_t len)
{
    if (!s || len == 0 || len > UINT16_MAX)
        return false;
    return inlet_support_utf8_check(
               s, len, INLET_SUPPORT_UTF8_STRICT | INLET_SUPPORT_UTF8_NO_WILDCARD) == 0;
}

int mqtt_decode_connect(const mqtt_fixed_header *hdr, const uint8_t *body, mqtt_connect *out,
                        mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;
    mqtt_bytes name;
    uint8_t level, flags;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_CONNECT)
        return MALFORMED("not a CONNECT");
    if (!mqtt_read_bytes(&p, end, &name) || !mqtt_read_u8(&p, end, &level))
        return MALFORMED("CONNECT truncated in the protocol name or level");

    /* 3.1.1 §3.1.2.1-2, 5.0 §3.1.2.1-2 */
    if (name.len == 4 && memcmp(name.p, "MQTT", 4) == 0) {
        out->version = level;
        if (level != MQTT_V311 && level != MQTT_V5)
            return mqtt_fail(err, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION,
                             "unsupported protocol level");
    } else if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0) {
        out->version = level;
        return mqtt_fail(err, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION, "MQTT 3.1 is not supported");
    } else {
        return PROTOCOL("unknown protocol name");
    }
    const bool v5 = level == MQTT_V5;

    if (!mqtt_read_u8(&p, end, &flags) || !mqtt_read_u16(&p, end, &out->keep_alive))
        return MALFORMED("CONNECT truncated in the variable header");
    if (flags & 0x01u) /* [MQTT-3.1.2-3] */
        return MALFORMED("CONNECT reserved flag set");
    out->clean_start = flags & 0x02u;
    out->will = flags & 0x04u;
    out->will_qos = (flags >> 3) & 3u;
    out->will_retain = flags & 0x20u;
    const bool has_password = flags & 0x40u, has_username = flags & 0x80u;
    if (out->will_qos == 3) /* 5.0 [MQTT-3.1.2-12], 3.1.1 [MQTT-3.1.2-14] */
        return MALFORMED("will QoS 3");
    if (!out->will &&
        (out->will_qos || out->will_retain)) /* 5.0 [MQTT-3.1.2-11], [MQTT-3.1.2-13] */
        return MALFORMED("will QoS or retain without the will flag");
    if (!v5 && has_password && !has_username) /* 3.1.1 [MQTT-3.1.2-22] */
        return MALFORMED("password without user name");

    if (v5 && mqtt_props_decode(&p, end, MQTT_CONNECT, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;

    /* Payload order: client id, will properties, will topic, will payload, user name,
     * password (3.1.1 §3.1.3, 5.0 §3.1.3). */
    if (read_string(&p, end, &out->client_id, INLET_SUPPORT_UTF8_STRICT,
                    MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID,
                    "client identifier missing or with control characters", err) != MQTT_OK)
        return MQTT_ERROR;
    if (!v5 && out->client_id.len == 0 && !out->clean_start) /* [MQTT-3.1.3-8] */
        return mqtt_fail(err, MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID,
                         "empty client identifier without clean session");
    if (out->will) {
        if (v5 && mqtt_props_decode(&p, end, MQTT_PROP_CTX_WILL, &out->will_props, err) != MQTT_OK)
            return MQTT_ERROR;
        if (read_topic_name(&p, end, &out->will_topic, err) != MQTT_OK)
            return MQTT_ERROR;
        if (out->will_topic.len == 0) /* 5.0 §4.7.3 [MQTT-4.7.3-1] */
            return mqtt_fail(err, MQTT_RC_TOPIC_NAME_INVALID, "empty will topic");
        if (!mqtt_read_bytes(&p, end, &out->will_payload))
            return MALFORMED("CONNECT truncated in the will payload");
    }
    if (has_username && read_string(&p, end, &out->username, INLET_SUPPORT_UTF8_STRICT,
                                    MQTT_RC_BAD_USERNAME_OR_PASSWORD,
                                    "user name missing or with control characters", err) != MQTT_OK)
        return MQTT_ERROR;
    if (has_password && !mqtt_read_bytes(&p, end, &out->password))
        return MALFORMED("CONNECT truncated in the password");
    if (p != end)
        return MALFORMED("bytes after the end of CONNECT");
    return MQTT_OK;
}

int mqtt_decode_publish(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                        mqtt_publish *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_PUBLISH)
        return MALFORMED("not a PUBLISH");
    if (check_flags(MQTT_PUBLISH, hdr->flags, err) != MQTT_OK)
        return MQTT_ERROR;
    out->qos = (hdr->flags >> 1) & 3u;
    out->dup = hdr->flags & 8u;
    out->retain = hdr->flags & 1u;

    if (!mqtt_read_bytes(&p, end, &out->topic))
        return MALFORMED("PUBLISH truncated in the topic name");
    if (out->qos > 0) {
        if (!mqtt_read_u16(&p, end, &out->packet_id))
            return MALFORMED("PUBLISH truncated in the packet identifier");
        if (out->packet_id == 0) /* 3.1.1 §2.3.1 [MQTT-2.3.1-1], 5.0 §2.2.1 */
            return PROTOCOL("packet identifier 0");
    }
    if (version == MQTT_V5) {
        if (mqtt_props_decode(&p, end, MQTT_PUBLISH, &out->props, err) != MQTT_OK)
            return MQTT_ERROR;
        if (mqtt_props_has(&out->props, MQTT_PROP_SUBSCRIPTION_IDENTIFIER)) /* [MQTT-3.3.4-6] */
            return PROTOCOL("subscription identifier in a PUBLISH from a client");
    }

    int rc = inlet_support_utf8_check(out->topic.p, out->topic.len,
                                      INLET_SUPPORT_UTF8_STRICT | INLET_SUPPORT_UTF8_NO_WILDCARD);
    if (rc == INLET_SUPPORT_UTF8_ILL_FORMED)
        return MALFORMED("topic name is not valid UTF-8");
    if (rc == (int)INLET_SUPPORT_UTF8_NO_WILDCARD) /* 3.1.1 §3.3.2.1 [MQTT-3.3.2-2], 5.0 §3.3.2.1 */
        return mqtt_fail(err, MQTT_RC_TOPIC_NAME_INVALID, "wildcard in topic name");
    if (rc != 0)
        return mqtt_fail(err, MQTT_RC_TOPIC_NAME_INVALID, "control character in topic name");
    if (out->topic.len == 0 &&
        !(version == MQTT_V5 && mqtt_props_has(&out->props, MQTT_PROP_TOPIC_ALIAS)))
        /* 3.1.1 §4.7.3 [MQTT-4.7.3-1]; 5.0 §3.3.2.3.4: empty only with a Topic Alias */
        return PROTOCOL("empty topic name without topic alias");

    out->payload.p = p;
    out->payload.len = (size_t)(end - p);
    return MQTT_OK;
}

/* Reason codes each acknowledgement may carry (5.0 §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1). */
static const uint8_t puback_codes[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
static const uint8_t pubrel_codes[] = {0x00, 0x92};

static bool ack_reason_valid(uint8_t type, uint8_t rc)
{
    if (type == MQTT_PUBREL || type == MQTT_PUBCOMP)
        return code_in(pubrel_codes, sizeof(pubrel_codes), rc);
    return code_in(puback_codes, sizeof(puback_codes), rc);
}

int mqtt_decode_ack(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                    mqtt_ack *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;

    memset(out, 0, sizeof(*out));
    if (hdr->type < MQTT_PUBACK || hdr->type > MQTT_PUBCOMP)
        return MALFORMED("not a PUBACK, PUBREC, PUBREL or PUBCOMP");
    out->type = hdr->type;
    if (version != MQTT_V5 && hdr->remaining != 2) /* 3.1.1 §3.4.1 .. §3.7.1 */
        return MALFORMED("acknowledgement with a remaining length other than 2");
    if (!mqtt_read_u16(&p, end, &out->packet_id))
        return MALFORMED("acknowledgement truncated in the packet identifier");
    if (out->packet_id == 0)
        return PROTOCOL("packet identifier 0");
    if (version != MQTT_V5 || p == end)
        return MQTT_OK; /* 5.0 §3.4.2.1: Remaining Length 2 means Success, no properties */
    mqtt_read_u8(&p, end, &out->reason);
    if (!ack_reason_valid(out->type, out->reason))
        return PROTOCOL("reason code not defined for this acknowledgement");
    if (p == end)
        return MQTT_OK; /* 5.0 §3.4.2.2.1: no Property Length below 4 bytes */
    if (mqtt_props_decode(&p, end, out->type, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;
    if (p != end)
        return MALFORMED("bytes after the end of the acknowledgement");
    return MQTT_OK;
}

int mqtt_decode_subscribe(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                          mqtt_subscribe *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;
    const bool v5 = version == MQTT_V5;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_SUBSCRIBE && hdr->type != MQTT_UNSUBSCRIBE)
        return MALFORMED("not a SUBSCRIBE or UNSUBSCRIBE");
    out->type = hdr->type;
    out->version = version;
    const bool sub = hdr->type == MQTT_SUBSCRIBE;
    if (!mqtt_read_u16(&p, end, &out->packet_id))
        return MALFORMED("truncated in the packet identifier");
    if (out->packet_id == 0)
        return PROTOCOL("packet identifier 0");
    if (v5 && mqtt_props_decode(&p, end, hdr->type, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;
    if (p == end) /* 3.1.1 [MQTT-3.8.3-3], [MQTT-3.10.3-2]; 5.0 §3.8.3, §3.10.3 */
        return PROTOCOL("no topic filter");

    out->list.p = p;
    out->list.len = (size_t)(end - p);
    while (p < end) {
        mqtt_bytes filter;
        if (read_string(&p, end, &filter, 0, MQTT_RC_MALFORMED_PACKET, "topic filter truncated",
                        err) != MQTT_OK)
            return MQTT_ERROR;
        if (sub) {
            uint8_t o;
            if (!mqtt_read_u8(&p, end, &o))
                return MALFORMED("subscription options missing");
            if (!v5 && (o & 0xFCu)) /* 3.1.1 [MQTT-3-8.3-4] */
                return MALFORMED("subscription options reserved bits set");
            if (!v5 && (o & 3u) == 3)
                return MALFORMED("subscription QoS 3");
            if (v5 && (o & 0xC0u)) /* 5.0 §3.8.3.1 [MQTT-3.8.3-5] */
                return MALFORMED("subscription options reserved bits set");
            if (v5 && (o & 3u) == 3)
                return PROTOCOL("subscription maximum QoS 3");
            if (v5 && ((o >> 4) & 3u) == 3)
                return PROTOCOL("retain handling 3");
        }
        out->count++;
    }
    return MQTT_OK;
}

void mqtt_sub_begin(const mqtt_subscribe *sub, mqtt_sub_iter *it)
{
    it->p = sub->list.p;
    it->end = sub->list.p ? sub->list.p + sub->list.len : NULL;
    it->options = sub->type == MQTT_SUBSCRIBE;
}

/* The list was validated by mqtt_decode_subscribe(). */
bool mqtt_sub_next(mqtt_sub_iter *it, mqtt_bytes *filter, uint8_t *options)
{
    *options = 0;
    if (!it->p || it->p >= it->end || !mqtt_read_bytes(&it->p, it->end, filter))
        return false;
    if (it->options && !mqtt_read_u8(&it->p, it->end, options))
        return false;
    return true;
}

/* 5.0 §3.14.2.1 table 3-10 */
static const uint8_t disconnect_codes[] = {
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
};
/* 5.0 §3.15.2.1 table 3-13 */
static const uint8_t auth_codes[] = {0x00, 0x18, 0x19};

int mqtt_decode_disconnect(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                           mqtt_disconnect *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_DISCONNECT && hdr->type != MQTT_AUTH)
        return MALFORMED("not a DISCONNECT or AUTH");
    out->type = hdr->type;
    if (version != MQTT_V5) {
        if (hdr->type == MQTT_AUTH)
            return MALFORMED("reserved packet type 15");
        if (hdr->remaining != 0) /* 3.1.1 §3.14.1 */
            return MALFORMED("DISCONNECT with a body");
        return MQTT_OK;
    }
    if (p == end)
        return MQTT_OK; /* 5.0 §3.14.2.1, §3.15.2.1: Remaining Length 0 means 0x00 */
    mqtt_read_u8(&p, end, &out->reason);
    if (hdr->type == MQTT_DISCONNECT
            ? !code_in(disconnect_codes, sizeof(disconnect_codes), out->reason)
            : !code_in(auth_codes, sizeof(auth_codes), out->reason))
        return PROTOCOL("reason code not defined for this packet");
    if (p == end)
        return MQTT_OK; /* 5.0 §3.14.2.2.1: no Property Length below 2 bytes */
    if (mqtt_props_decode(&p, end, hdr->type, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;
    if (p != end)
        return MALFORMED("bytes after the end of the packet");
    return MQTT_OK;
}

/* 5.0 §3.2.2.2 table 3-1 */
static const uint8_t connack_codes[] = {
    0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
};

int mqtt_decode_connack(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                        mqtt_connack *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;
    uint8_t flags;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_CONNACK)
        return MALFORMED("not a CONNACK");
    if (version != MQTT_V5 && hdr->remaining != 2) /* 3.1.1 §3.2.1 */
        return MALFORMED("CONNACK with a remaining length other than 2");
    if (!mqtt_read_u8(&p, end, &flags) || !mqtt_read_u8(&p, end, &out->reason))
        return MALFORMED("CONNACK truncated");
    if (flags & 0xFEu) /* [MQTT-3.2.2-1] */
        return MALFORMED("CONNACK reserved flags set");
    out->session_present = flags & 1u;
    if (version != MQTT_V5) {
        if (out->reason > MQTT_CONNACK_NOT_AUTHORIZED)
            return MALFORMED("CONNACK return code reserved");
        return MQTT_OK;
    }
    if (!code_in(connack_codes, sizeof(connack_codes), out->reason))
        return PROTOCOL("reason code not defined for CONNACK");
    if (mqtt_props_decode(&p, end, MQTT_CONNACK, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;
    if (p != end)
        return MALFORMED("bytes after the end of CONNACK");
    return MQTT_OK;
}

/* 5.0 §3.9.3 table 3-8 and §3.11.3 table 3-9 */
static const uint8_t suback_codes[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                       0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
static const uint8_t unsuback_codes[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};

static bool suback_code_valid(uint8_t type, uint8_t version, uint8_t rc)
{
    if (version != MQTT_V5) /* 3.1.1 §3.9.3 */
        return rc <= 2 || rc == MQTT_SUBACK_V3_FAILURE;
    if (type == MQTT_SUBACK)
        return code_in(suback_codes, sizeof(suback_codes), rc);
    return code_in(unsuback_codes, sizeof(unsuback_codes), rc);
}

int mqtt_decode_suback(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                       mqtt_suback *out, mqtt_error *err)
{
    const uint8_t *p = body, *end = body + hdr->remaining;

    memset(out, 0, sizeof(*out));
    if (hdr->type != MQTT_SUBACK && hdr->type != MQTT_UNSUBACK)
        return MALFORMED("not a SUBACK or UNSUBACK");
    out->type = hdr->type;
    if (!mqtt_read_u16(&p, end, &out->packet_id))
        return MALFORMED("truncated in the packet identifier");
    if (out->packet_id == 0)
        return PROTOCOL("packet identifier 0");
    if (version != MQTT_V5 && hdr->type == MQTT_UNSUBACK) {
        if (p != end) /* 3.1.1 §3.11.1 */
            return MALFORMED("UNSUBACK with a remaining length other than 2");
        return MQTT_OK;
    }
    if (version == MQTT_V5 && mqtt_props_decode(&p, end, hdr->type, &out->props, err) != MQTT_OK)
        return MQTT_ERROR;
    if (p == end)
        return PROTOCOL("no reason codes");
    out->codes.p = p;
    out->codes.len = (size_t)(end - p);
    for (; p < end; p++) {
        if (!suback_code_valid(hdr->type, version, *p))
            return PROTOCOL("reason code not defined for this packet");
    }
    return MQTT_OK;
}

/* ---- names ---- */

const char *mqtt_packet_type_name(uint8_t type)
{
    static const char *const names[16] = {
        "reserved", "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
        "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
        "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH",
    };
    return type < 16 ? names[type] : "reserved";
}

const char *mqtt_reason_name(uint8_t reason)
{
    /* 5.0 §2.4 table 2-6 */
    static const char *const names[256] = {
        [0x00] = "Success",
        [0x01] = "Granted QoS 1",
        [0x02] = "Granted QoS 2",
        [0x04] = "Disconnect with Will Message",
        [0x10] = "No matching subscribers",
        [0x11] = "No subscription existed",
        [0x18] = "Continue authentication",
        [0x19] = "Re-authenticate",
        [0x80] = "Unspecified error",
        [0x81] = "Malformed Packet",
        [0x82] = "Protocol Error",
        [0x83] = "Implementation specific error",
        [0x84] = "Unsupported Protocol Version",
        [0x85] = "Client Identifier not valid",
        [0x86] = "Bad User Name or Password",
        [0x87] = "Not authorized",
        [0x88] = "Server unavailable",
        [0x89] = "Server busy",
        [0x8A] = "Banned",
        [0x8B] = "Server shutting down",
        [0x8C] = "Bad authentication method",
        [0x8D] = "Keep Alive timeout",
        [0x8E] = "Session taken over",
        [0x8F] = "Topic Filter invalid",
        [0x90] = "Topic Name invalid",
        [0x91] = "Packet Identifier in use",
        [0x92] = "Packet Identifier not found",
        [0x93] = "Receive Maximum exceeded",
        [0x94] = "Topic Alias invalid",
        [0x95] = "Packet too large",
        [0x96] = "Message rate too high",
        [0x97] = "Quota exceeded",
        [0x98] = "Administrative action",
        [0x99] = "Payload format invalid",
        [0x9A] = "Retain not supported",
        [0x9B] = "QoS not supported",
        [0x9C] = "Use another server",
        [0x9D] = "Server moved",
        [0x9E] = "Shared Subscriptions not supported",
        [0x9F] = "Connection rate exceeded",
        [0xA0] = "Maximum connect time",
        [0xA1] = "Subscription Identifiers not supported",
        [0xA2] = "Wildcard Subscriptions not supported",
    };
    return names[reason] ? names[reason] : "Unknown reason code";
}
