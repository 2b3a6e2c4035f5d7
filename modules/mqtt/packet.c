/*
 * packet.c - every packet a connected client may send, except PUBLISH and PUBREL (publish.c):
 * SUBSCRIBE and UNSUBSCRIBE (refused cleanly: Inlet is an ingestion proxy), PINGREQ,
 * DISCONNECT, AUTH, acknowledgements of server publishes (there are none), a second CONNECT.
 */
#include "mqtt.h"

static const char no_subscriptions[] =
    "Inlet takes publishes only; subscriptions are not supported";

void mqtt_packet_fail(mqtt_conn *c, const mqtt_error *e)
{
    mqtt_module *m = c->loop->m;
    enum mqtt_close_reason why = MQTT_CLOSE_PROTOCOL;
    if (e->reason == MQTT_RC_PACKET_TOO_LARGE)
        why = MQTT_CLOSE_TOO_LARGE;
    else if (e->reason == MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED)
        why = MQTT_CLOSE_RECEIVE_MAXIMUM;
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s/%s: %s (%s); closing the connection",
                 c->identity ? c->identity->tenant : "-",
                 c->identity ? c->identity->device_id : "-", mqtt_reason_name(e->reason),
                 e->msg ? e->msg : "");
    m->host->refusal(m->mod, why == MQTT_CLOSE_TOO_LARGE ? INLET_E_TOO_LARGE : INLET_E_INVALID,
                     c->peer, c->identity, e->msg ? e->msg : mqtt_reason_name(e->reason));
    /* MQTT 5: DISCONNECT with the reason first (§4.13.2); 3.1.1: just close (§4.8) */
    mqtt_conn_close(c, e->reason, e->msg, why);
}

static bool send_encoded(mqtt_conn *c, const uint8_t *buf, size_t cap, size_t n)
{
    if (n == 0 || n > cap)
        return true; /* nothing to send (the encoders' convention), or cannot happen */
    return mqtt_conn_send(c, buf, n);
}

static bool on_subscribe(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body)
{
    mqtt_subscribe sub;
    mqtt_error e = {0, NULL};
    uint8_t buf[1024];
    const char *rs = c->problem_info ? no_subscriptions : NULL;

    if (mqtt_decode_subscribe(h, body, c->version, &sub, &e) != MQTT_OK) {
        mqtt_packet_fail(c, &e);
        return false;
    }
    size_t n;
    if (h->type == MQTT_SUBSCRIBE) {
        /* 3.1.1: 0x80 per filter; 5.0: 0x9E for $share, 0xA1/0xA2 as announced in CONNACK,
         * else 0x87 (not authorized) */
        n = mqtt_encode_suback_refusal(buf, sizeof(buf), &sub, MQTT_RC_NOT_AUTHORIZED, rs,
                                       c->max_out_packet);
    } else {
        n = mqtt_encode_unsuback(buf, sizeof(buf), &sub, MQTT_RC_NO_SUBSCRIPTION_EXISTED, rs,
                                 c->max_out_packet);
    }
    if (n > sizeof(buf)) {
        /* many filters: the same answer in a buffer of its size, inside the output bound */
        uint8_t *p = mqtt_conn_out_reserve(c, n);
        if (p == NULL)
            return false;
        if (h->type == MQTT_SUBSCRIBE)
            mqtt_encode_suback_refusal(p, n, &sub, MQTT_RC_NOT_AUTHORIZED, rs, c->max_out_packet);
        else
            mqtt_encode_unsuback(p, n, &sub, MQTT_RC_NO_SUBSCRIPTION_EXISTED, rs,
                                 c->max_out_packet);
        mqtt_conn_out_commit(c, n);
        return true;
    }
    return send_encoded(c, buf, sizeof(buf), n);
}

static bool on_disconnect(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body)
{
    mqtt_module *m = c->loop->m;
    mqtt_disconnect d;
    mqtt_error e = {0, NULL};

    if (mqtt_decode_disconnect(h, body, c->version, &d, &e) != MQTT_OK) {
        mqtt_packet_fail(c, &e);
        return false;
    }
    if (c->version == MQTT_V5 && mqtt_props_has(&d.props, MQTT_PROP_SESSION_EXPIRY_INTERVAL)) {
        uint32_t v = d.props.session_expiry_interval;
        if (c->expiry_zero && v != 0) {
            /* MQTT 5.0 §3.14.2.2.2 */
            mqtt_error pe = {MQTT_RC_PROTOCOL_ERROR,
                             "Session Expiry Interval set by DISCONNECT after 0 in CONNECT"};
            mqtt_packet_fail(c, &pe);
            return false;
        }
        if (c->session != NULL)
            c->session->expiry_s = v < m->max_session_expiry_s ? v : m->max_session_expiry_s;
    }
    /* Will messages are never published (docs/MQTT.md), so 0x04 changes nothing. */
    mqtt_conn_close(c, 0, NULL, MQTT_CLOSE_CLIENT_DISCONNECT);
    return false;
}

bool mqtt_packet_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body)
{
    mqtt_error e = {0, NULL};
    uint8_t buf[16];

    if (mqtt_frame_check_client(h, c->version, &e) != MQTT_OK) {
        mqtt_packet_fail(c, &e);
        return false;
    }
    switch (h->type) {
    case MQTT_PUBLISH:
        return mqtt_publish_handle(c, h, body);
    case MQTT_PUBREL:
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBCOMP: {
        mqtt_ack a;
        if (mqtt_decode_ack(h, body, c->version, &a, &e) != MQTT_OK) {
            mqtt_packet_fail(c, &e);
            return false;
        }
        if (h->type == MQTT_PUBREL)
            return mqtt_pubrel_handle(c, &a);
        /* Acknowledgements of server-to-client publishes: Inlet sends none, so there is
         * nothing to update; a stray one is harmless. */
        return true;
    }
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        return on_subscribe(c, h, body);
    case MQTT_PINGREQ:
        return send_encoded(c, buf, sizeof(buf), mqtt_encode_pingresp(buf, sizeof(buf)));
    case MQTT_DISCONNECT:
        return on_disconnect(c, h, body);
    case MQTT_CONNECT:
        e.reason = MQTT_RC_PROTOCOL_ERROR; /* MQTT 5.0 §3.1.0-2, 3.1.1 [MQTT-3.1.0-2] */
        e.msg = "a second CONNECT";
        mqtt_packet_fail(c, &e);
        return false;
    case MQTT_AUTH: {
        mqtt_disconnect d;
        if (mqtt_decode_disconnect(h, body, c->version, &d, &e) == MQTT_OK) {
            /* MQTT 5.0 §4.12: AUTH without an Authentication Method in CONNECT */
            e.reason = MQTT_RC_PROTOCOL_ERROR;
            e.msg = "AUTH without enhanced authentication";
        }
        mqtt_packet_fail(c, &e);
        return false;
    }
    default:
        e.reason = MQTT_RC_PROTOCOL_ERROR;
        e.msg = "a packet a client may not send";
        mqtt_packet_fail(c, &e);
        return false;
    }
}
