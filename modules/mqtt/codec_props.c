/*
 * codec_props.c - MQTT 5 properties (5.0 §2.2.2): which packet allows which property, their
 * types and value rules, duplicates, decoding into struct mqtt_props and encoding from it.
 *
 * The definitions are data (one row per property identifier, 5.0 §2.2.2.2 table 2-4); the
 * decoder and encoder are generic over them.
 */
#include <string.h>

#include "codec_internal.h"

enum prop_kind { K_NONE, K_BYTE, K_U16, K_U32, K_VARINT, K_UTF8, K_BINARY, K_PAIR };

#define CTX(type) (1u << (type))
#define CTX_WILL  (1u << MQTT_PROP_CTX_WILL)
#define CTX_ACKS  (CTX(MQTT_PUBACK) | CTX(MQTT_PUBREC) | CTX(MQTT_PUBREL) | CTX(MQTT_PUBCOMP))
#define CTX_ALL                                                                                    \
    (CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_PUBLISH) | CTX_ACKS | CTX(MQTT_SUBSCRIBE) |  \
     CTX(MQTT_SUBACK) | CTX(MQTT_UNSUBSCRIBE) | CTX(MQTT_UNSUBACK) | CTX(MQTT_DISCONNECT) |        \
     CTX(MQTT_AUTH) | CTX_WILL)

typedef struct prop_def {
    uint8_t kind;
    uint8_t utf8_flags; /* extra checks for K_UTF8 beyond the spec's MUSTs */
    uint16_t offset;    /* of the value in mqtt_props */
    uint32_t contexts;  /* CTX() bits of the packets that may carry it */
} prop_def;

#define DEF(id, k, f, field, ctx) [id] = {k, f, (uint16_t)offsetof(mqtt_props, field), ctx}

static const prop_def prop_defs[MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE + 1] = {
    DEF(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, K_BYTE, 0, payload_format_indicator,
        CTX(MQTT_PUBLISH) | CTX_WILL),
    DEF(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, K_U32, 0, message_expiry_interval,
        CTX(MQTT_PUBLISH) | CTX_WILL),
    DEF(MQTT_PROP_CONTENT_TYPE, K_UTF8, 0, content_type, CTX(MQTT_PUBLISH) | CTX_WILL),
    DEF(MQTT_PROP_RESPONSE_TOPIC, K_UTF8, INLET_SUPPORT_UTF8_STRICT, response_topic,
        CTX(MQTT_PUBLISH) | CTX_WILL),
    DEF(MQTT_PROP_CORRELATION_DATA, K_BINARY, 0, correlation_data, CTX(MQTT_PUBLISH) | CTX_WILL),
    DEF(MQTT_PROP_SUBSCRIPTION_IDENTIFIER, K_VARINT, 0, subscription_identifier,
        CTX(MQTT_PUBLISH) | CTX(MQTT_SUBSCRIBE)),
    DEF(MQTT_PROP_SESSION_EXPIRY_INTERVAL, K_U32, 0, session_expiry_interval,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_DISCONNECT)),
    DEF(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER, K_UTF8, 0, assigned_client_identifier,
        CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_SERVER_KEEP_ALIVE, K_U16, 0, server_keep_alive, CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_AUTHENTICATION_METHOD, K_UTF8, 0, authentication_method,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_AUTH)),
    DEF(MQTT_PROP_AUTHENTICATION_DATA, K_BINARY, 0, authentication_data,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_AUTH)),
    DEF(MQTT_PROP_REQUEST_PROBLEM_INFORMATION, K_BYTE, 0, request_problem_information,
        CTX(MQTT_CONNECT)),
    DEF(MQTT_PROP_WILL_DELAY_INTERVAL, K_U32, 0, will_delay_interval, CTX_WILL),
    DEF(MQTT_PROP_REQUEST_RESPONSE_INFORMATION, K_BYTE, 0, request_response_information,
        CTX(MQTT_CONNECT)),
    DEF(MQTT_PROP_RESPONSE_INFORMATION, K_UTF8, 0, response_information, CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_SERVER_REFERENCE, K_UTF8, 0, server_reference,
        CTX(MQTT_CONNACK) | CTX(MQTT_DISCONNECT)),
    DEF(MQTT_PROP_REASON_STRING, K_UTF8, 0, reason_string,
        CTX(MQTT_CONNACK) | CTX_ACKS | CTX(MQTT_SUBACK) | CTX(MQTT_UNSUBACK) |
            CTX(MQTT_DISCONNECT) | CTX(MQTT_AUTH)),
    DEF(MQTT_PROP_RECEIVE_MAXIMUM, K_U16, 0, receive_maximum,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_TOPIC_ALIAS_MAXIMUM, K_U16, 0, topic_alias_maximum,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_TOPIC_ALIAS, K_U16, 0, topic_alias, CTX(MQTT_PUBLISH)),
    DEF(MQTT_PROP_MAXIMUM_QOS, K_BYTE, 0, maximum_qos, CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_RETAIN_AVAILABLE, K_BYTE, 0, retain_available, CTX(MQTT_CONNACK)),
    [MQTT_PROP_USER_PROPERTY] = {K_PAIR, 0, 0, CTX_ALL},
    DEF(MQTT_PROP_MAXIMUM_PACKET_SIZE, K_U32, 0, maximum_packet_size,
        CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, K_BYTE, 0, wildcard_subscription_available,
        CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, K_BYTE, 0, subscription_identifier_available,
        CTX(MQTT_CONNACK)),
    DEF(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE, K_BYTE, 0, shared_subscription_available,
        CTX(MQTT_CONNACK)),
};

#define PROP_ID_MAX MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE

static bool utf8_read(const uint8_t **p, const uint8_t *end, mqtt_bytes *v, unsigned flags,
                      mqtt_error *err)
{
    if (!mqtt_read_bytes(p, end, v)) {
        mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "property value runs past the properties");
        return false;
    }
    int rc = inlet_support_utf8_check(v->p, v->len, flags);
    if (rc == INLET_SUPPORT_UTF8_ILL_FORMED) {
        /* 5.0 §1.5.4 [MQTT-1.5.4-1] */
        mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "property string is not valid UTF-8");
        return false;
    }
    if (rc != 0) {
        mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "property string has control characters");
        return false;
    }
    return true;
}

/* Value rules beyond the type, 5.0 §3.1.2.11, §3.2.2.3, §3.3.2.3, §3.8.2.1. */
static int check_value(unsigned id, const mqtt_props *out, mqtt_error *err)
{
    switch (id) {
    case MQTT_PROP_PAYLOAD_FORMAT_INDICATOR:
        if (out->payload_format_indicator > 1)
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "payload format indicator not 0 or 1");
        break;
    case MQTT_PROP_REQUEST_PROBLEM_INFORMATION:
        if (out->request_problem_information > 1)
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "request problem information not 0 or 1");
        break;
    case MQTT_PROP_REQUEST_RESPONSE_INFORMATION:
        if (out->request_response_information > 1)
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR,
                             "request response information not 0 or 1");
        break;
    case MQTT_PROP_MAXIMUM_QOS:
        if (out->maximum_qos > 1)
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "maximum qos not 0 or 1");
        break;
    case MQTT_PROP_RETAIN_AVAILABLE:
    case MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
    case MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        if (((const uint8_t *)out)[prop_defs[id].offset] > 1)
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "availability flag not 0 or 1");
        break;
    case MQTT_PROP_RECEIVE_MAXIMUM:
        if (out->receive_maximum == 0) /* 5.0 §3.1.2.11.3 */
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "receive maximum 0");
        break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE:
        if (out->maximum_packet_size == 0) /* 5.0 §3.1.2.11.4 */
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "maximum packet size 0");
        break;
    case MQTT_PROP_TOPIC_ALIAS:
        if (out->topic_alias == 0) /* 5.0 §3.3.2.3.4 [MQTT-3.3.2-8] */
            return mqtt_fail(err, MQTT_RC_TOPIC_ALIAS_INVALID, "topic alias 0");
        break;
    case MQTT_PROP_SUBSCRIPTION_IDENTIFIER:
        if (out->subscription_identifier == 0) /* 5.0 §3.8.2.1.2 */
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "subscription identifier 0");
        break;
    case MQTT_PROP_RESPONSE_TOPIC:
        /* a topic name: non-empty, no wildcards (5.0 §3.3.2.3.5 [MQTT-3.3.2-14]) */
        if (!mqtt_topic_name_valid(out->response_topic.p, out->response_topic.len))
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "response topic is not a topic name");
        break;
    default:
        break;
    }
    return MQTT_OK;
}

int mqtt_props_decode(const uint8_t **pp, const uint8_t *end, unsigned ctx, mqtt_props *out,
                      mqtt_error *err)
{
    uint32_t total;
    const uint8_t *p = *pp;

    memset(out, 0, sizeof(*out));
    out->request_problem_information = 1; /* default when absent, 5.0 §3.1.2.11.7 */
    if (!mqtt_read_varint(&p, end, &total))
        return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "property length missing or malformed");
    if ((size_t)(end - p) < total)
        return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "property length past the end of packet");
    const uint8_t *pend = p + total;
    out->raw.p = p;
    out->raw.len = total;

    while (p < pend) {
        unsigned id = *p++;
        const prop_def *def = id <= PROP_ID_MAX ? &prop_defs[id] : NULL;
        if (!def || def->kind == K_NONE)
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "unknown property identifier");
        /* 5.0 §2.2.2.2: an identifier not valid for its packet type is a Malformed Packet */
        if (!(def->contexts & CTX(ctx)))
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET, "property not allowed in this packet");
        if (id != MQTT_PROP_USER_PROPERTY && (out->present & MQTT_PROP_BIT(id)))
            return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR, "property included more than once");
        out->present |= MQTT_PROP_BIT(id);

        uint8_t *field = (uint8_t *)out + def->offset;
        bool ok = true;
        switch (def->kind) {
        case K_BYTE:
            ok = mqtt_read_u8(&p, pend, field);
            break;
        case K_U16:
            ok = mqtt_read_u16(&p, pend, (uint16_t *)(void *)field);
            break;
        case K_U32:
            ok = mqtt_read_u32(&p, pend, (uint32_t *)(void *)field);
            break;
        case K_VARINT:
            ok = mqtt_read_varint(&p, pend, (uint32_t *)(void *)field);
            break;
        case K_BINARY:
            ok = mqtt_read_bytes(&p, pend, (mqtt_bytes *)(void *)field);
            break;
        case K_UTF8:
            if (!utf8_read(&p, pend, (mqtt_bytes *)(void *)field, def->utf8_flags, err))
                return MQTT_ERROR;
            break;
        case K_PAIR: {
            mqtt_bytes k, v;
            if (!utf8_read(&p, pend, &k, 0, err) || !utf8_read(&p, pend, &v, 0, err))
                return MQTT_ERROR;
            if (out->user_property_count < UINT16_MAX)
                out->user_property_count++;
            break;
        }
        default:
            ok = false;
            break;
        }
        if (!ok)
            return mqtt_fail(err, MQTT_RC_MALFORMED_PACKET,
                             "property value truncated or malformed");
        if (check_value(id, out, err) != MQTT_OK)
            return MQTT_ERROR;
    }
    if (mqtt_props_has(out, MQTT_PROP_AUTHENTICATION_DATA) &&
        !mqtt_props_has(out, MQTT_PROP_AUTHENTICATION_METHOD))
        /* 5.0 §3.1.2.11.10, §3.15.2.2.3 */
        return mqtt_fail(err, MQTT_RC_PROTOCOL_ERROR,
                         "authentication data without authentication method");
    *pp = pend;
    return MQTT_OK;
}

void mqtt_user_props_begin(const mqtt_props *props, mqtt_prop_iter *it)
{
    it->p = props->raw.p;
    it->end = props->raw.p ? props->raw.p + props->raw.len : NULL;
}

/* The block was validated by mqtt_props_decode(), so every value skipped here is whole. */
bool mqtt_user_props_next(mqtt_prop_iter *it, mqtt_bytes *key, mqtt_bytes *value)
{
    while (it->p && it->p < it->end) {
        unsigned id = *it->p++;
        const prop_def *def = id <= PROP_ID_MAX ? &prop_defs[id] : NULL;
        mqtt_bytes skip;
        uint32_t u;
        if (!def)
            break;
        switch (def->kind) {
        case K_BYTE:
            it->p += 1;
            break;
        case K_U16:
            it->p += 2;
            break;
        case K_U32:
            it->p += 4;
            break;
        case K_VARINT:
            if (!mqtt_read_varint(&it->p, it->end, &u))
                goto done;
            break;
        case K_UTF8:
        case K_BINARY:
            if (!mqtt_read_bytes(&it->p, it->end, &skip))
                goto done;
            break;
        case K_PAIR:
            if (!mqtt_read_bytes(&it->p, it->end, key) || !mqtt_read_bytes(&it->p, it->end, value))
                goto done;
            return true;
        default:
            goto done;
        }
    }
done:
    it->p = it->end;
    return false;
}

/* Properties the encoder writes: all but User Property, which the server never sends (it
 * has no iterable source for them in mqtt_props). */
static size_t prop_value_len(unsigned id, const mqtt_props *props)
{
    const prop_def *def = &prop_defs[id];
    const uint8_t *field = (const uint8_t *)props + def->offset;
    switch (def->kind) {
    case K_BYTE:
        return 1;
    case K_U16:
        return 2;
    case K_U32:
        return 4;
    case K_VARINT:
        return mqtt_varint_size(*(const uint32_t *)(const void *)field);
    case K_UTF8:
    case K_BINARY:
        return 2 + ((const mqtt_bytes *)(const void *)field)->len;
    default:
        return 0;
    }
}

static bool encodable(unsigned id, const mqtt_props *props)
{
    if (!(props->present & MQTT_PROP_BIT(id)) || prop_defs[id].kind == K_NONE ||
        prop_defs[id].kind == K_PAIR)
        return false;
    if (prop_defs[id].kind == K_UTF8 || prop_defs[id].kind == K_BINARY) {
        const mqtt_bytes *b =
            (const mqtt_bytes *)(const void *)((const uint8_t *)props + prop_defs[id].offset);
        return b->p != NULL && b->len <= UINT16_MAX;
    }
    if (id == MQTT_PROP_SUBSCRIPTION_IDENTIFIER)
        return props->subscription_identifier - 1u < MQTT_MAX_REMAINING_LENGTH;
    return true;
}

size_t mqtt_props_encoded_len(const mqtt_props *props)
{
    size_t n = 0;
    for (unsigned id = 1; id <= PROP_ID_MAX; id++) {
        if (encodable(id, props))
            n += 1 + prop_value_len(id, props);
    }
    return n;
}

uint8_t *mqtt_props_encode(uint8_t *w, const mqtt_props *props, size_t content_len)
{
    w = mqtt_varint_write(w, (uint32_t)content_len);
    for (unsigned id = 1; id <= PROP_ID_MAX; id++) {
        if (!encodable(id, props))
            continue;
        const uint8_t *field = (const uint8_t *)props + prop_defs[id].offset;
        *w++ = (uint8_t)id;
        switch (prop_defs[id].kind) {
        case K_BYTE:
            *w++ = *field;
            break;
        case K_U16:
            w = mqtt_u16_write(w, *(const uint16_t *)(const void *)field);
            break;
        case K_U32:
            w = mqtt_u32_write(w, *(const uint32_t *)(const void *)field);
            break;
        case K_VARINT:
            w = mqtt_varint_write(w, *(const uint32_t *)(const void *)field);
            break;
        case K_UTF8:
        case K_BINARY: {
            const mqtt_bytes *b = (const mqtt_bytes *)(const void *)field;
            w = mqtt_u16_write(w, (uint16_t)b->len);
            if (b->len)
                memcpy(w, b->p, b->len);
            w += b->len;
            break;
        }
        default:
            break;
        }
    }
    return w;
}
