/*
 * connect.c - CONNECT: decode, authenticate, apply the client-id, keep-alive and session-expiry
 * rules, then attach the session on the loop that owns it and answer CONNACK.
 *
 * Authentication (the device is decided here, once per connection):
 *   - a TLS client certificate, on listeners with client_auth optional or require, goes to
 *     host->auth_cert_chain(): the tenant whose CA verifies it owns the device. A certificate
 *     wins over a password, and a refused certificate is not rescued by one.
 *   - otherwise the password is a bearer token (opaque or JWT) for host->auth_bearer().
 *   - a user name, if given, must be the authenticated device's id.
 * Refusals: MQTT 5 reason codes 0x86 (bad token or user name), 0x87 (no credentials, refused
 * certificate), 0x88 (the core cannot authenticate now), 0x97 (the tenant's or device's
 * connection quota); 3.1.1 return codes 4, 5 and 3 (3 for the quota too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt.h"

/* Answer a CONNECT with a refusal (CONNACK with a reason code, or nothing where 3.1.1 has no
 * code) and close. */
static void refuse(mqtt_conn *c, const mqtt_connect *req, uint8_t reason, const char *msg)
{
    mqtt_module *m = c->loop->m;
    mqtt_error e = {reason, msg};
    uint8_t buf[512];

    mqtt_count_connack(m, reason);
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s: CONNECT refused: %s (%s)", c->listener->name,
                 mqtt_reason_name(reason), msg ? msg : "");
    size_t n = mqtt_encode_connect_refusal(buf, sizeof(buf), req, &e, c->max_out_packet);
    if (n > 0 && n <= sizeof(buf) && !mqtt_conn_send(c, buf, n))
        return;
    mqtt_conn_close(c, 0, NULL, MQTT_CLOSE_NOT_CONNECT);
}

static void refuse_late(mqtt_conn *c, uint8_t reason, const char *msg)
{
    mqtt_connect req;
    memset(&req, 0, sizeof(req));
    req.version = c->version;
    refuse(c, &req, reason, msg);
}

/* Who is this? INLET_OK with *out (a reference), or a refusal in *reason / *msg. */
static bool authenticate(mqtt_conn *c, const mqtt_connect *req, inlet_identity **out,
                         uint8_t *reason, const char **msg, char *why, size_t why_len)
{
    mqtt_module *m = c->loop->m;
    inlet_identity *id = NULL;

    *out = NULL;
    inlet_status st = mqtt_tls_client_identity(m, c, &id);
    if (st == INLET_E_UNAUTHENTICATED) {
        *reason = MQTT_RC_NOT_AUTHORIZED;
        *msg = "the client certificate is not accepted";
        return false;
    }
    if (st != INLET_OK) {
        *reason = MQTT_RC_SERVER_UNAVAILABLE;
        *msg = "authentication is not available now";
        return false;
    }
    if (id != NULL) {
        *out = id;
        return true;
    }

    if (req->password.p == NULL) {
        *reason = MQTT_RC_NOT_AUTHORIZED;
        *msg = "a password (the device's bearer token) or a client certificate is required";
        return false;
    }
    if (req->password.len == 0 || req->password.len > MQTT_MAX_TOKEN) {
        *reason = MQTT_RC_BAD_USERNAME_OR_PASSWORD;
        *msg = "invalid token";
        return false;
    }
    st = m->host->auth_bearer((const char *)req->password.p, req->password.len, &id, why, why_len);
    if (st == INLET_OK && id != NULL) {
        *out = id;
        return true;
    }
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s: bearer token refused: %s", c->listener->name,
                 why[0] ? why : "unknown");
    /* never echo the core's reason to the device beyond "invalid token" */
    if (st == INLET_E_UNAUTHENTICATED || st == INLET_E_FORBIDDEN) {
        *reason = MQTT_RC_BAD_USERNAME_OR_PASSWORD;
        *msg = "invalid token";
    } else {
        *reason = MQTT_RC_SERVER_UNAVAILABLE;
        *msg = "authentication is not available now";
    }
    return false;
}

static uint64_t rng_next(mqtt_loop *loop)
{
    uint64_t x = loop->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    loop->rng = x;
    return x * 0x2545f4914f6cdd1du;
}

/* MQTT 5.0 §3.1.3.1: an empty client id gets a unique one. It is chosen so that its session
 * lives on this loop, and it fits the 23 characters every server must accept. */
static size_t assign_client_id(mqtt_loop *loop, const char *tenant, char out[32], uint64_t *hash)
{
    mqtt_module *m = loop->m;
    for (;;) {
        int n = snprintf(out, 32, "inlet-%016llx", (unsigned long long)rng_next(loop));
        *hash = mqtt_session_hash(m, tenant, (const uint8_t *)out, (size_t)n);
        if (mqtt_owner_loop(m, *hash) == loop->base.index &&
            mqtt_session_find(loop, *hash, tenant, out, (size_t)n) == NULL)
            return (size_t)n;
    }
}

bool mqtt_connect_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body)
{
    mqtt_loop *loop = c->loop;
    mqtt_module *m = loop->m;
    mqtt_connect req;
    mqtt_error e = {0, NULL};
    inlet_identity *id = NULL;
    uint8_t reason;
    const char *msg;
    char text[128];

    if (mqtt_decode_connect(h, body, &req, &e) != MQTT_OK) {
        c->version = req.version == MQTT_V5 ? MQTT_V5 : MQTT_V311;
        m->host->refusal(m->mod, INLET_E_INVALID, c->peer, NULL, e.msg);
        refuse(c, &req, e.reason, e.msg);
        return false;
    }
    c->version = req.version;
    c->problem_info = false;
    if (c->version == MQTT_V5) {
        const mqtt_props *p = &req.props;
        c->problem_info = !mqtt_props_has(p, MQTT_PROP_REQUEST_PROBLEM_INFORMATION) ||
                          p->request_problem_information != 0;
        if (mqtt_props_has(p, MQTT_PROP_MAXIMUM_PACKET_SIZE))
            c->max_out_packet = p->maximum_packet_size;
        if (mqtt_props_has(p, MQTT_PROP_AUTHENTICATION_METHOD)) {
            /* MQTT 5.0 §4.12: we have no enhanced authentication method to offer */
            refuse(c, &req, MQTT_RC_BAD_AUTHENTICATION_METHOD,
                   "enhanced authentication is not supported; use the password or a client "
                   "certificate");
            return false;
        }
    }

    /* Client identifiers: any valid UTF-8 the codec accepted, but never the wildcards that
     * would let a client id or user name act as a pattern (the CVE-2017-7650 class). */
    if (req.client_id.len > MQTT_MAX_CLIENT_ID) {
        refuse(c, &req, MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID,
               "the client identifier is longer than 256 bytes");
        return false;
    }
    if (memchr(req.client_id.p, '+', req.client_id.len) != NULL ||
        memchr(req.client_id.p, '#', req.client_id.len) != NULL) {
        refuse(c, &req, MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID,
               "the client identifier must not contain '+' or '#'");
        return false;
    }
    if (atomic_load(&m->loopset.draining)) {
        refuse(c, &req, MQTT_RC_SERVER_UNAVAILABLE, "the server is shutting down");
        return false;
    }

    /* Keep alive: MQTT 5 clients are told the server's value (§3.2.2.3.14) when they ask for
     * none or for more than max_keep_alive; 3.1.1 has no way to say it, so more than the
     * maximum is refused (as Mosquitto does) and "none" gets the maximum. */
    uint16_t keep_alive = req.keep_alive;
    bool server_keep_alive = false;
    uint32_t max_ka = m->max_keep_alive_s;
    if (keep_alive == 0 || keep_alive > max_ka) {
        if (c->version == MQTT_V5) {
            server_keep_alive = true;
        } else if (keep_alive > max_ka) {
            snprintf(text, sizeof(text), "keep alive %u s is above the server's maximum of %u s",
                     keep_alive, max_ka);
            refuse(c, &req, MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID, text);
            return false;
        }
        keep_alive = (uint16_t)max_ka;
    }

    /* Session expiry: 3.1.1 Clean Session 0 keeps the session for max_session_expiry. */
    uint32_t asked = 0, expiry;
    if (c->version == MQTT_V5)
        asked = mqtt_props_has(&req.props, MQTT_PROP_SESSION_EXPIRY_INTERVAL)
                    ? req.props.session_expiry_interval
                    : 0;
    else
        asked = req.clean_start ? 0 : UINT32_MAX;
    expiry = asked < m->max_session_expiry_s ? asked : m->max_session_expiry_s;

    char why[160] = "";
    if (!authenticate(c, &req, &id, &reason, &msg, why, sizeof(why))) {
        m->host->refusal(m->mod,
                         reason == MQTT_RC_SERVER_UNAVAILABLE ? INLET_E_UNAVAILABLE
                                                              : INLET_E_UNAUTHENTICATED,
                         c->peer, NULL, why[0] ? why : msg);
        refuse(c, &req, reason, msg);
        return false;
    }
    c->identity = id;
    /* The core promises device ids without '+', '#', '/' or NUL; they become topic levels and
     * session keys here, so hold it to that (the CVE-2017-7650 class). */
    if (!mqtt_topic_name_valid((const uint8_t *)id->device_id, strlen(id->device_id)) ||
        strchr(id->device_id, '/') != NULL) {
        refuse(c, &req, MQTT_RC_NOT_AUTHORIZED, "the device id cannot be used in topics");
        return false;
    }
    if (req.username.p != NULL && (req.username.len != strlen(id->device_id) ||
                                   memcmp(req.username.p, id->device_id, req.username.len) != 0)) {
        refuse(c, &req, MQTT_RC_BAD_USERNAME_OR_PASSWORD,
               "the user name must be the id of the authenticated device");
        return false;
    }

    char assigned[32];
    const char *client_id = (const char *)req.client_id.p;
    size_t client_id_len = req.client_id.len;
    uint64_t hash;
    if (client_id_len == 0) {
        client_id_len = assign_client_id(loop, id->tenant, assigned, &hash);
        client_id = assigned;
    } else {
        hash = mqtt_session_hash(m, id->tenant, (const uint8_t *)client_id, client_id_len);
    }

    mqtt_connect_info *info = malloc(sizeof(*info) + client_id_len + 1);
    if (info == NULL) {
        refuse(c, &req, MQTT_RC_SERVER_UNAVAILABLE, "out of memory");
        return false;
    }
    memset(info, 0, sizeof(*info));
    info->hash = hash;
    info->clean_start = req.clean_start;
    info->assigned_id = client_id == assigned && c->version == MQTT_V5;
    info->server_keep_alive = server_keep_alive;
    info->expiry_capped = c->version == MQTT_V5 && asked != expiry;
    info->expiry_asked_zero = asked == 0;
    info->keep_alive = keep_alive;
    info->session_expiry_s = expiry;
    info->client_id_len = (uint16_t)client_id_len;
    memcpy(info->client_id, client_id, client_id_len);
    info->client_id[client_id_len] = '\0';
    c->info = info;

    if (mqtt_owner_loop(m, hash) != loop->base.index) {
        c->state = MQTT_CONN_MIGRATING; /* conn.c hands it over with its unread input */
        return false;
    }
    mqtt_connect_attach(loop, c);
    return mqtt_conn_is_open(c);
}

static void send_connack(mqtt_conn *c, const mqtt_connect_info *info, bool present)
{
    mqtt_module *m = c->loop->m;
    const mqtt_config *cfg = m->cfg;
    mqtt_connack ack;
    uint8_t buf[512];

    memset(&ack, 0, sizeof(ack));
    ack.session_present = present;
    if (c->version == MQTT_V5) {
        mqtt_props *p = &ack.props;
        p->present |= MQTT_PROP_BIT(MQTT_PROP_RECEIVE_MAXIMUM) |
                      MQTT_PROP_BIT(MQTT_PROP_MAXIMUM_PACKET_SIZE) |
                      MQTT_PROP_BIT(MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE) |
                      MQTT_PROP_BIT(MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE) |
                      MQTT_PROP_BIT(MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE);
        p->receive_maximum = (uint16_t)cfg->receive_maximum;
        p->maximum_packet_size = (uint32_t)cfg->max_packet_size;
        /* Inlet takes publishes only; these say so before a client tries (5.0 §3.2.2.3). */
        p->wildcard_subscription_available = 0;
        p->subscription_identifier_available = 0;
        p->shared_subscription_available = 0;
        if (cfg->topic_aliases > 0) {
            p->present |= MQTT_PROP_BIT(MQTT_PROP_TOPIC_ALIAS_MAXIMUM);
            p->topic_alias_maximum = (uint16_t)cfg->topic_aliases;
        }
        if (info->server_keep_alive) {
            p->present |= MQTT_PROP_BIT(MQTT_PROP_SERVER_KEEP_ALIVE);
            p->server_keep_alive = info->keep_alive;
        }
        if (info->assigned_id) {
            p->present |= MQTT_PROP_BIT(MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER);
            p->assigned_client_identifier = mqtt_cstr(info->client_id);
        }
        if (info->expiry_capped) {
            p->present |= MQTT_PROP_BIT(MQTT_PROP_SESSION_EXPIRY_INTERVAL);
            p->session_expiry_interval = info->session_expiry_s;
        }
    }
    size_t n = mqtt_encode_connack(buf, sizeof(buf), c->version, &ack, c->max_out_packet);
    if (n > 0 && n <= sizeof(buf))
        mqtt_conn_send(c, buf, n);
}

void mqtt_connect_attach(mqtt_loop *loop, mqtt_conn *c)
{
    mqtt_module *m = loop->m;
    mqtt_connect_info *info = c->info;
    const inlet_identity *id = c->identity;
    bool present = false;

    mqtt_session *s =
        mqtt_session_find(loop, info->hash, id->tenant, info->client_id, info->client_id_len);
    if (s != NULL && strcmp(mqtt_session_device(s), id->device_id) != 0) {
        /* Namespaced per tenant, but a device must not kick another device off. */
        refuse_late(c, MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID,
                    "the client identifier is in use by another device");
        return;
    }
    if (s != NULL && s->conn != NULL) {
        /* MQTT 5.0 §3.1.4-3, 3.1.1 §3.1.4-2: the existing connection goes, told so with
         * DISCONNECT 0x8E in MQTT 5; its packet-id state stays with the session. */
        mqtt_conn *old = s->conn;
        old->session = NULL;
        s->conn = NULL;
        mqtt_session_unref(loop, s); /* the old connection's; the registry keeps it alive */
        mqtt_conn_close(old, MQTT_RC_SESSION_TAKEN_OVER, "another connection took over the session",
                        MQTT_CLOSE_TAKEN_OVER);
    }
    /* The connection quota, after a take-over gave the old connection's place back. MQTT 5:
     * CONNACK 0x97 Quota exceeded; 3.1.1 has no such code: 0x03 Server unavailable, a refusal
     * a client retries later rather than one that blames its credentials. */
    char qmsg[160];
    inlet_status qst = m->host->connection_open(m->mod, id, qmsg, sizeof(qmsg));
    if (qst != INLET_OK) {
        refuse_late(c, qst == INLET_E_QUOTA ? MQTT_RC_QUOTA_EXCEEDED : MQTT_RC_SERVER_UNAVAILABLE,
                    qmsg);
        return;
    }
    c->quota_counted = true;
    if (s != NULL && info->clean_start) {
        mqtt_session_forget(loop, s); /* §3.1.2.4: a new session; submissions in flight keep
                                         the old one alive until they complete */
        s = NULL;
    }
    if (s != NULL) {
        present = true;
    } else {
        s = mqtt_session_create(loop, info->hash, id->tenant, info->client_id, info->client_id_len,
                                id->device_id);
        if (s == NULL) {
            refuse_late(c, MQTT_RC_SERVER_UNAVAILABLE, "out of memory");
            return;
        }
    }
    mqtt_timer_disarm(&loop->wheel, &s->expiry);
    s->expiry_s = info->session_expiry_s;
    mqtt_session_ref(s);
    s->conn = c;
    c->session = s;
    c->gen = ++loop->next_gen;
    c->expiry_zero = info->expiry_asked_zero;
    c->state = MQTT_CONN_CONNECTED;

    send_connack(c, info, present);
    mqtt_count_connack(m, MQTT_RC_SUCCESS);
    /* MQTT 5.0 §3.1.2.10: one and a half times the keep alive, then the connection goes */
    c->keep_alive_s = ((uint32_t)info->keep_alive * 3 + 1) / 2;
    mqtt_timer_arm(&loop->wheel, &c->timer, loop->now_s + c->keep_alive_s);
    mqtt_conn_arm_credential(c);
    if (m->host->log_enabled(m->mod, INLET_LOG_DEBUG))
        MQTT_LOG(m, INLET_LOG_DEBUG, "%s/%s connected as \"%s\" (MQTT %s, session %s)", id->tenant,
                 id->device_id, info->client_id, c->version == MQTT_V5 ? "5" : "3.1.1",
                 present ? "resumed" : "new");
    free(c->info);
    c->info = NULL;
}
