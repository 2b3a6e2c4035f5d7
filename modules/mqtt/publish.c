/*
 * publish.c - PUBLISH -> host->submit(), completions -> PUBACK / PUBREC, PUBREL -> PUBCOMP.
 *
 * Acknowledgement means "Kafka has it": QoS 1 gets PUBACK, QoS 2 gets PUBREC, only after the
 * completion says every event was acknowledged by the broker (acks=all). A refusal or a Kafka
 * failure is, in MQTT 5, a PUBACK/PUBREC reason code (0x87, 0x90, 0x97, 0x99, 0x80...); MQTT
 * 3.1.1 has no reason codes, so there the connection is closed without an acknowledgement and
 * the client sends the message again (DUP) after reconnecting.
 *
 * Duplicates (MQTT 5.0 §4.3.2, §4.3.3): the session remembers every packet id whose exchange
 * is open. A PUBLISH with an id still waiting for Kafka is not submitted again; it is answered
 * when the original completes. A QoS 2 id stays "stored" after its PUBREC until PUBREL, and a
 * PUBLISH with it is answered with PUBREC again, never produced twice. A QoS 1 message Kafka
 * acknowledged while no connection could be told is answered when the client sends it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mqtt.h"

/* Longest Reason String we send; the rejection's first error is enough to fix a payload. */
#define MQTT_REASON_STRING_MAX 200

uint8_t mqtt_publish_reason(inlet_status st)
{
    switch (st) {
    case INLET_OK:
        return MQTT_RC_SUCCESS;
    case INLET_E_UNAUTHENTICATED:
    case INLET_E_FORBIDDEN:
        return MQTT_RC_NOT_AUTHORIZED;
    case INLET_E_INVALID:
    case INLET_E_MEDIA_TYPE:
        return MQTT_RC_PAYLOAD_FORMAT_INVALID;
    case INLET_E_UNKNOWN_SCHEMA:
        return MQTT_RC_TOPIC_NAME_INVALID;
    case INLET_E_TOO_LARGE: /* PUBACK has no 0x95: too many events is a quota */
    case INLET_E_QUOTA:
        return MQTT_RC_QUOTA_EXCEEDED;
    default: /* UNAVAILABLE, SHUTTING_DOWN, INTERNAL: the device should retry later */
        return MQTT_RC_UNSPECIFIED_ERROR;
    }
}

/* ---- pending submissions, recycled per loop ---- */

static void pending_put(mqtt_loop *loop, mqtt_pending *p)
{
    if (p->session != NULL)
        mqtt_session_unref(loop, p->session);
    inlet_support_pending_put(&loop->base.pending, p);
}

/* ---- answers ---- */

static bool send_ack(mqtt_conn *c, uint8_t type, uint16_t id, uint8_t reason, const char *rs)
{
    mqtt_module *m = c->loop->m;
    uint8_t buf[MQTT_REASON_STRING_MAX + 32];
    char text[MQTT_REASON_STRING_MAX + 1];

    /* MQTT 5.0 §3.1.2.11.7: no Reason String unless the client wants problem information */
    if (rs != NULL && c->problem_info && c->version == MQTT_V5) {
        snprintf(text, sizeof(text), "%s", rs);
        rs = text;
    } else {
        rs = NULL;
    }
    size_t n =
        mqtt_encode_ack(buf, sizeof(buf), c->version, type, id, reason, rs, c->max_out_packet);
    if (n == 0 || n > sizeof(buf))
        return true;
    if (type == MQTT_PUBACK || type == MQTT_PUBREC)
        mqtt_count_ack(m, reason);
    return mqtt_conn_send(c, buf, n);
}

/* A refused or failed QoS 1/2 publish that this connection is owed an answer for. */
static bool answer_refusal(mqtt_conn *c, uint8_t qos, uint16_t id, uint8_t reason, const char *why)
{
    if (c->version == MQTT_V5)
        return send_ack(c, qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, id, reason, why);
    /* 3.1.1 §3.4: PUBACK has no reason code; closing is the only honest refusal */
    mqtt_module *m = c->loop->m;
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s/%s: MQTT 3.1.1 publish refused (%s); closing",
                 c->identity->tenant, c->identity->device_id, why ? why : "");
    mqtt_conn_close(c, 0, NULL, MQTT_CLOSE_REJECTED_V3);
    return false;
}

static void drained(mqtt_conn *c)
{
    mqtt_conn_close(c, MQTT_RC_SERVER_SHUTTING_DOWN, "server shutting down", MQTT_CLOSE_SHUTDOWN);
}

/* ---- topic aliases (MQTT 5.0 §3.3.2.3.4) ---- */

static bool resolve_alias(mqtt_conn *c, const mqtt_publish *p, mqtt_bytes *topic)
{
    const mqtt_config *cfg = c->loop->m->cfg;
    uint16_t a = p->props.topic_alias; /* the codec refused 0 (0x94) */
    mqtt_error e = {0, NULL};

    if (a > cfg->topic_aliases) {
        e.reason = MQTT_RC_TOPIC_ALIAS_INVALID;
        e.msg = "Topic Alias greater than the Topic Alias Maximum";
        mqtt_packet_fail(c, &e);
        return false;
    }
    if (p->topic.len > 0) {
        if (c->aliases == NULL &&
            (c->aliases = calloc((size_t)cfg->topic_aliases, sizeof(*c->aliases))) == NULL) {
            mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
            return false;
        }
        char *copy = malloc(p->topic.len + 1);
        if (copy == NULL) {
            mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
            return false;
        }
        memcpy(copy, p->topic.p, p->topic.len);
        copy[p->topic.len] = '\0'; /* topics hold no U+0000 (the codec checked) */
        free(c->aliases[a - 1]);
        c->aliases[a - 1] = copy;
        return true;
    }
    if (c->aliases == NULL || c->aliases[a - 1] == NULL) {
        e.reason = MQTT_RC_PROTOCOL_ERROR;
        e.msg = "a Topic Alias that was never set";
        mqtt_packet_fail(c, &e);
        return false;
    }
    topic->p = (const uint8_t *)c->aliases[a - 1];
    topic->len = strlen(c->aliases[a - 1]);
    return true;
}

/* ---- submission ---- */

/* {"events": [...]} or one event object? A batch's only key is "events", and an event never
 * has one (the core refuses unknown fields), so the first key decides. */
static bool looks_like_batch(const uint8_t *p, size_t len)
{
    static const char key[] = "\"events\"";
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= len || p[i] != '{')
        return false;
    i++;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return len - i >= sizeof(key) - 1 && memcmp(p + i, key, sizeof(key) - 1) == 0;
}

static char *scratch_get(mqtt_loop *loop, size_t need)
{
    if (need > loop->scratch_cap) {
        char *s = realloc(loop->scratch, need);
        if (s == NULL)
            return NULL;
        loop->scratch = s;
        loop->scratch_cap = need;
    }
    return loop->scratch;
}

/* Header names a device must not set: the core's own headers (docs/ENVELOPE.md). */
static bool reserved_header(const char *name)
{
    return strncasecmp(name, "inlet-", 6) == 0 || strcasecmp(name, "content-type") == 0;
}

/*
 * Map the PUBLISH onto an inlet_request and submit it. INLET_OK: one completion will come and
 * the pending record is counted. Otherwise *reason is the MQTT 5 reason code and why (why_len
 * bytes) says what to fix.
 */
static inlet_status submit(mqtt_conn *c, const mqtt_publish *p, mqtt_bytes topic, uint8_t *reason,
                           char *why, size_t why_len)
{
    mqtt_loop *loop = c->loop;
    mqtt_module *m = loop->m;
    const inlet_host *host = m->host;
    const mqtt_props *props = &p->props;
    inlet_request r;
    mqtt_route route;

    why[0] = '\0';
    size_t need = topic.len + 2 + props->content_type.len + 1 + props->raw.len + 16;
    char *sc = scratch_get(loop, need);
    if (sc == NULL) {
        *reason = MQTT_RC_UNSPECIFIED_ERROR;
        snprintf(why, why_len, "out of memory");
        return INLET_E_INTERNAL;
    }
    inlet_status st = mqtt_mapping_route(&m->mappings, c->identity, topic.p, topic.len, sc, &route);
    if (st == INLET_E_FORBIDDEN) {
        *reason = MQTT_RC_NOT_AUTHORIZED;
        snprintf(why, why_len, "a device publishes only under its own device id");
        return st;
    }
    if (st != INLET_OK) {
        *reason = MQTT_RC_TOPIC_NAME_INVALID;
        snprintf(why, why_len, "no topic mapping matches \"%.*s\"",
                 (int)(topic.len > 100 ? 100 : topic.len), (const char *)topic.p);
        return st;
    }
    char *w = sc + topic.len + 2; /* after the route's captures */

    memset(&r, 0, sizeof(r));
    r.size = sizeof(r);
    r.identity = c->identity;
    r.body = p->payload.p; /* borrowed: the core copies what it keeps before returning */
    r.body_len = p->payload.len;
    r.schema = route.schema;
    r.schema_version = route.version;
    if (route.form == MQTT_FORM_PAYLOAD)
        r.form = INLET_FORM_PAYLOAD;
    else
        r.form =
            looks_like_batch(p->payload.p, p->payload.len) ? INLET_FORM_BATCH : INLET_FORM_EVENT;

    r.content_type = route.content_type;
    if (c->version == MQTT_V5) {
        /* MQTT 5.0 §3.3.2.3.2: Payload Format Indicator 1 promises UTF-8; a broken promise is
         * 0x99 (a JSON payload must be UTF-8 anyway, the core checks the rest). */
        if (mqtt_props_has(props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR) &&
            props->payload_format_indicator == 1 &&
            !inlet_support_utf8_valid(p->payload.p, p->payload.len, 0)) {
            *reason = MQTT_RC_PAYLOAD_FORMAT_INVALID;
            snprintf(why, why_len, "the payload is not UTF-8 (Payload Format Indicator 1)");
            return INLET_E_INVALID;
        }
        if (mqtt_props_has(props, MQTT_PROP_CONTENT_TYPE)) {
            memcpy(w, props->content_type.p, props->content_type.len);
            w[props->content_type.len] = '\0';
            r.content_type = w;
            w += props->content_type.len + 1;
        }
        /* User properties become Kafka headers, in order (names copied to be NUL-terminated;
         * the codec refused U+0000, so a name cannot be cut short). */
        mqtt_prop_iter it;
        mqtt_bytes k, v;
        size_t n = 0;
        mqtt_user_props_begin(props, &it);
        while (mqtt_user_props_next(&it, &k, &v)) {
            if (n == MQTT_MAX_USER_PROPERTIES) {
                *reason = MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR;
                snprintf(why, why_len, "more than %u user properties", MQTT_MAX_USER_PROPERTIES);
                return INLET_E_INVALID;
            }
            memcpy(w, k.p, k.len);
            w[k.len] = '\0';
            if (k.len == 0 || reserved_header(w)) {
                *reason = MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR;
                snprintf(why, why_len,
                         "user property \"%.64s\": empty, or a name reserved for Inlet's own "
                         "Kafka headers (inlet-*, content-type)",
                         w);
                return INLET_E_INVALID;
            }
            loop->headers[n].name = w;
            loop->headers[n].value = v.p;
            loop->headers[n].value_len = v.len;
            w += k.len + 1;
            n++;
        }
        r.headers = n > 0 ? loop->headers : NULL;
        r.n_headers = n;
    }
    r.source = "mqtt";
    r.peer = c->peer[0] ? c->peer : NULL;
    r.received_at_us = host->now_us();
    r.queue = loop->base.queue;

    mqtt_pending *pend = inlet_support_pending_get(&loop->base.pending);
    if (pend == NULL) {
        *reason = MQTT_RC_UNSPECIFIED_ERROR;
        snprintf(why, why_len, "out of memory");
        return INLET_E_INTERNAL;
    }
    pend->session = c->session;
    mqtt_session_ref(c->session);
    pend->conn_gen = c->gen;
    pend->packet_id = p->packet_id;
    pend->qos = p->qos;
    r.opaque = pend;

    inlet_rejection *rej = NULL;
    st = host->submit(m->mod, &r, &rej);
    if (st != INLET_OK) {
        *reason = mqtt_publish_reason(st);
        snprintf(why, why_len, "%s", rej != NULL && rej->message != NULL ? rej->message : "");
        if (rej != NULL)
            host->rejection_free(rej);
        pending_put(loop, pend);
        if (host->log_enabled(m->mod, INLET_LOG_DEBUG))
            MQTT_LOG(m, INLET_LOG_DEBUG, "%s/%s: publish to \"%.*s\" refused: %s",
                     c->identity->tenant, c->identity->device_id,
                     (int)(topic.len > 100 ? 100 : topic.len), (const char *)topic.p, why);
        return st;
    }
    loop->inflight++;
    c->kafka_inflight++;
    host->metric_add(m->metrics.inflight, 1);
    return INLET_OK;
}

/* ---- PUBLISH ---- */

/* A QoS 1/2 publish beyond Receive Maximum (MQTT 5.0 §3.3.4 [MQTT-3.3.4-9]): 0x93. Entries an
 * earlier connection left that nobody waits on any more are evicted before that. */
static bool take_quota(mqtt_conn *c)
{
    uint32_t rm = (uint32_t)c->loop->m->cfg->receive_maximum;
    mqtt_ids *ids = &c->session->ids;
    if (c->quota_used < rm && (ids->count < rm || mqtt_ids_evict_unclaimed(ids, c->gen))) {
        c->quota_used++;
        return true;
    }
    mqtt_error e = {MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
                    "more unacknowledged QoS 1 and 2 publishes than Receive Maximum"};
    mqtt_packet_fail(c, &e);
    return false;
}

enum known { KNOWN_ANSWERED, KNOWN_CLOSED, KNOWN_NEW };

/* A QoS 1/2 PUBLISH whose packet id the session already knows. */
static enum known on_known_id(mqtt_conn *c, const mqtt_publish *p, mqtt_id_entry *e)
{
    mqtt_module *m = c->loop->m;
    mqtt_ids *ids = &c->session->ids;
    uint8_t entry_qos = e->state == MQTT_ID_QOS1_KAFKA || e->state == MQTT_ID_QOS1_ACKED ? 1 : 2;

    if (e->state == MQTT_ID_QOS1_ACKED) {
        mqtt_ids_remove(ids, e);
        if (p->qos == 1 && p->dup) {
            m->host->metric_add(m->metrics.duplicates, 1);
            return send_ack(c, MQTT_PUBACK, p->packet_id, MQTT_RC_SUCCESS, NULL) ? KNOWN_ANSWERED
                                                                                 : KNOWN_CLOSED;
        }
        return KNOWN_NEW; /* the client moved on and reuses the id for a new message */
    }
    if (entry_qos != p->qos) {
        /* the id's exchange is still open under the other QoS */
        if (c->version == MQTT_V5)
            return send_ack(c, p->qos == 1 ? MQTT_PUBACK : MQTT_PUBREC, p->packet_id,
                            MQTT_RC_PACKET_IDENTIFIER_IN_USE, "packet identifier in use")
                       ? KNOWN_ANSWERED
                       : KNOWN_CLOSED;
        mqtt_conn_close(c, 0, NULL, MQTT_CLOSE_PROTOCOL);
        return KNOWN_CLOSED;
    }
    m->host->metric_add(m->metrics.duplicates, 1);
    if (e->state == MQTT_ID_QOS2_STORED) {
        /* MQTT 5.0 §4.3.3: PUBREC again, without delivering again */
        if (e->claim != c->gen && c->quota_used < (uint32_t)m->cfg->receive_maximum) {
            e->claim = c->gen;
            c->quota_used++;
        }
        return send_ack(c, MQTT_PUBREC, p->packet_id, MQTT_RC_SUCCESS, NULL) ? KNOWN_ANSWERED
                                                                             : KNOWN_CLOSED;
    }
    /* still waiting for Kafka: the original's completion answers this connection */
    if (e->claim != c->gen) {
        if (c->quota_used >= (uint32_t)m->cfg->receive_maximum) {
            mqtt_error err = {MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED,
                              "more unacknowledged QoS 1 and 2 publishes than Receive Maximum"};
            mqtt_packet_fail(c, &err);
            return KNOWN_CLOSED;
        }
        e->claim = c->gen;
        c->quota_used++;
    }
    return KNOWN_ANSWERED;
}

bool mqtt_publish_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body)
{
    mqtt_module *m = c->loop->m;
    mqtt_session *s = c->session;
    mqtt_publish p;
    mqtt_error e = {0, NULL};
    mqtt_id_entry *ent = NULL;
    uint8_t reason = 0;
    char why[MQTT_REASON_STRING_MAX + 1];

    if (mqtt_decode_publish(h, body, c->version, &p, &e) != MQTT_OK) {
        mqtt_packet_fail(c, &e);
        return false;
    }
    m->host->metric_add(m->metrics.publishes[p.qos], 1);
    /* Retain: accepted and ignored; Kafka keeps every message and nobody subscribes here. */

    mqtt_bytes topic = p.topic;
    if (c->version == MQTT_V5 && mqtt_props_has(&p.props, MQTT_PROP_TOPIC_ALIAS) &&
        !resolve_alias(c, &p, &topic))
        return false;

    if (p.qos > 0) {
        ent = mqtt_ids_find(&s->ids, p.packet_id);
        if (ent != NULL) {
            enum known k = on_known_id(c, &p, ent);
            if (k != KNOWN_NEW)
                return k == KNOWN_ANSWERED;
        }
        if (!take_quota(c))
            return false;
        ent = mqtt_ids_add(&s->ids, p.packet_id);
        if (ent == NULL) {
            c->quota_used--;
            mqtt_conn_abort(c, MQTT_CLOSE_INTERNAL);
            return false;
        }
        ent->state = p.qos == 1 ? MQTT_ID_QOS1_KAFKA : MQTT_ID_QOS2_KAFKA;
        ent->claim = c->gen;
    }

    inlet_status st = submit(c, &p, topic, &reason, why, sizeof(why));
    if (st == INLET_OK)
        return true;
    if (ent != NULL) {
        /* the table may have moved since ent was taken: look it up again */
        mqtt_ids_remove(&s->ids, mqtt_ids_find(&s->ids, p.packet_id));
        c->quota_used--;
    }
    if (st == INLET_E_UNAUTHENTICATED) {
        /* The core no longer accepts this connection's credential: it expired (the timer may
         * not have fired yet, it has second resolution) or a reload revoked it (removed token,
         * JWT key, CA, device; a CRL). The message is left unanswered and the connection goes:
         * 0xA0 as at expiry, 0x87 for a revocation; 3.1.1 just closes. */
        bool expired = mqtt_conn_credential_expired(c);
        mqtt_conn_close(c, expired ? MQTT_RC_MAXIMUM_CONNECT_TIME : MQTT_RC_NOT_AUTHORIZED,
                        expired ? "the credential expired" : "the credential is no longer accepted",
                        expired ? MQTT_CLOSE_CREDENTIAL_EXPIRED : MQTT_CLOSE_CREDENTIAL_REVOKED);
        return false;
    }
    if (st == INLET_E_SHUTTING_DOWN) {
        /* Leave this message unanswered (the client sends it again elsewhere or later), stop
         * reading, answer what is in flight, then DISCONNECT 0x8B. */
        c->draining = true;
        if (c->kafka_inflight == 0)
            drained(c);
        return false;
    }
    if (p.qos == 0) {
        m->host->metric_add(m->metrics.qos0_dropped, 1);
        return true;
    }
    return answer_refusal(c, p.qos, p.packet_id, reason, why);
}

bool mqtt_pubrel_handle(mqtt_conn *c, const mqtt_ack *a)
{
    mqtt_session *s = c->session;
    mqtt_id_entry *e = mqtt_ids_find(&s->ids, a->packet_id);

    if (e != NULL && e->state == MQTT_ID_QOS2_STORED) {
        if (e->claim == c->gen)
            c->quota_used--;
        mqtt_ids_remove(&s->ids, e);
        return send_ack(c, MQTT_PUBCOMP, a->packet_id, MQTT_RC_SUCCESS, NULL);
    }
    if (e != NULL && e->state == MQTT_ID_QOS2_KAFKA) {
        /* PUBREL comes only after PUBREC, and PUBREC only after Kafka acked */
        mqtt_error err = {MQTT_RC_PROTOCOL_ERROR, "PUBREL before PUBREC"};
        mqtt_packet_fail(c, &err);
        return false;
    }
    /* MQTT 5.0 §3.7.2.1: 0x92 for an id we do not hold; 3.1.1 §4.3.3 always answers PUBCOMP */
    return send_ack(c, MQTT_PUBCOMP, a->packet_id,
                    c->version == MQTT_V5 ? MQTT_RC_PACKET_IDENTIFIER_NOT_FOUND : MQTT_RC_SUCCESS,
                    NULL);
}

/* ---- completions ---- */

void mqtt_publish_on_completion(void *ctx, const inlet_completion *comp)
{
    mqtt_loop *loop = ctx;
    mqtt_module *m = loop->m;
    mqtt_pending *p = comp->opaque;
    mqtt_session *s = p->session;
    mqtt_conn *c = s->conn; /* the session's connection now, maybe not the submitter */
    bool ok = comp->status == INLET_OK;

    loop->inflight--;
    m->host->metric_add(m->metrics.inflight, -1);
    if (c != NULL && c->gen == p->conn_gen)
        c->kafka_inflight--;

    if (p->qos == 0) {
        m->host->metric_add(ok ? m->metrics.qos0_delivered : m->metrics.qos0_dropped, 1);
    } else {
        mqtt_id_entry *e = mqtt_ids_find(&s->ids, p->packet_id);
        if (e != NULL && (e->state == MQTT_ID_QOS1_KAFKA || e->state == MQTT_ID_QOS2_KAFKA)) {
            bool claimed = c != NULL && e->claim == c->gen;
            uint8_t qos = e->state == MQTT_ID_QOS1_KAFKA ? 1 : 2;
            if (ok && qos == 1) {
                if (claimed) {
                    mqtt_ids_remove(&s->ids, e);
                    c->quota_used--;
                    send_ack(c, MQTT_PUBACK, p->packet_id, MQTT_RC_SUCCESS, NULL);
                } else {
                    e->state = MQTT_ID_QOS1_ACKED; /* PUBACK the client's DUP */
                    e->claim = 0;
                }
            } else if (ok) {
                e->state = MQTT_ID_QOS2_STORED; /* until PUBREL */
                if (claimed)
                    send_ack(c, MQTT_PUBREC, p->packet_id, MQTT_RC_SUCCESS, NULL);
                else
                    e->claim = 0;
            } else {
                /* nothing is held for a failed message: a resend is submitted again */
                mqtt_ids_remove(&s->ids, e);
                if (claimed) {
                    char why[MQTT_REASON_STRING_MAX + 1];
                    /* the core says per event "not persisted: safe to resend" or "possibly
                     * persisted: resend with the same event_id"; the worst one answers */
                    const char *kerr = NULL;
                    for (size_t i = 0; i < comp->n_events && kerr == NULL; i++)
                        if (comp->events[i].status == comp->status)
                            kerr = comp->events[i].error;
                    if (kerr == NULL)
                        kerr = "not acknowledged";
                    snprintf(why, sizeof(why), "Kafka did not acknowledge the message: %s", kerr);
                    c->quota_used--;
                    answer_refusal(c, qos, p->packet_id, mqtt_publish_reason(comp->status), why);
                }
            }
        }
    }
    if (c != NULL && c->gen == p->conn_gen) {
        if (c->draining && c->kafka_inflight == 0)
            drained(c);
        else
            mqtt_conn_wake(c);
    }
    pending_put(loop, p); /* may free the session */
}
