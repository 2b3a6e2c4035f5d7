/*
 * codec.h - the MQTT 3.1.1 / 5.0 packet codec: incremental framing, decoders, encoders.
 *
 * Pure: no I/O, no locks, no malloc. Decoders fill caller-owned structs whose mqtt_bytes fields
 * POINT INTO the caller's input buffer (nothing is copied): keep the packet bytes alive and
 * unmodified for as long as the decoded struct is used. Encoders write into a caller buffer.
 *
 * Sources (in modules/mqtt/ unless named otherwise; they include only this header,
 * codec_internal.h and ../support/utf8.h):
 *   codec.c         framing, type/flag checks, decoders of every packet
 *   codec_props.c   MQTT 5 properties: which packet allows which, duplicates, decode, encode
 *   codec_encode.c  encoders: CONNACK, PUBACK/PUBREC/PUBREL/PUBCOMP, SUBACK, UNSUBACK,
 *                   PINGRESP, DISCONNECT
 *   ../support/utf8.c  UTF-8 validation (MQTT 3.1.1 §1.5.3, MQTT 5.0 §1.5.4), shared
 *
 * References: "3.1.1 §x" is the OASIS MQTT Version 3.1.1 standard (2014), "5.0 §x" is the
 * OASIS MQTT Version 5.0 standard (2019).
 *
 * Errors: every function that can fail returns MQTT_ERROR and fills a caller-given mqtt_error
 * with an MQTT 5 reason code suited to the CONNACK or DISCONNECT that answers it (0x81 malformed,
 * 0x82 protocol error, 0x95 packet too large, 0x90 topic name invalid, ...) and a short static
 * message for logs. The reaction per protocol version is the caller's:
 *   - 5.0 after CONNACK: send DISCONNECT(err.reason) (5.0 §4.13), then close.
 *   - 5.0 CONNECT: optionally CONNACK(err.reason), then close (5.0 §4.13.1).
 *   - 3.1.1: close the connection (3.1.1 §4.8), except that a CONNECT refusal that has a 3.1.1
 *     return code (mqtt_connack_v3_code() >= 0) is answered with that CONNACK first.
 *   mqtt_encode_connect_refusal() implements the two CONNECT rules.
 *
 * UTF-8 policy: every UTF-8 string must be well formed, without U+0000, surrogates or overlong
 * forms (the spec's MUSTs; a violation is malformed, 0x81). The spec only says SHOULD NOT for
 * control characters (U+0001..U+001F, U+007F..U+009F) and non-characters; like Mosquitto, we
 * reject them in the strings that name things (topic names, will topic, response topic, topic
 * filters, client identifier, user name) and accept them in free text (user properties, content
 * type, reason string, authentication method). See inlet_support_utf8_valid().
 */
#ifndef INLET_MQTT_CODEC_H
#define INLET_MQTT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../support/utf8.h"

/* ---- constants ---- */

/* Protocol Level byte of CONNECT (3.1.1 §3.1.2.2, 5.0 §3.1.2.2). */
enum mqtt_version {
    MQTT_V31 = 3, /* "MQIsdp": refused with 0x84 / 3.1.1 return code 1 */
    MQTT_V311 = 4,
    MQTT_V5 = 5,
};

/* Control packet types (3.1.1 §2.2.1, 5.0 §2.1.2). */
enum mqtt_packet_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
    MQTT_AUTH = 15, /* 5.0 only; reserved (forbidden) in 3.1.1 */
};

/* MQTT 3.1.1 CONNACK return codes (3.1.1 §3.2.2.3). */
enum mqtt_connack_v3 {
    MQTT_CONNACK_ACCEPTED = 0,
    MQTT_CONNACK_UNACCEPTABLE_PROTOCOL_VERSION = 1,
    MQTT_CONNACK_IDENTIFIER_REJECTED = 2,
    MQTT_CONNACK_SERVER_UNAVAILABLE = 3,
    MQTT_CONNACK_BAD_USERNAME_OR_PASSWORD = 4,
    MQTT_CONNACK_NOT_AUTHORIZED = 5,
};

/* MQTT 3.1.1 SUBACK failure return code (3.1.1 §3.9.3). */
#define MQTT_SUBACK_V3_FAILURE 0x80

/* MQTT 5 reason codes (5.0 §2.4). Codes >= 0x80 are failures. */
enum mqtt_reason {
    MQTT_RC_SUCCESS = 0x00, /* also Normal disconnection, Granted QoS 0 */
    MQTT_RC_GRANTED_QOS1 = 0x01,
    MQTT_RC_GRANTED_QOS2 = 0x02,
    MQTT_RC_DISCONNECT_WITH_WILL = 0x04,
    MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    MQTT_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
    MQTT_RC_CONTINUE_AUTHENTICATION = 0x18,
    MQTT_RC_RE_AUTHENTICATE = 0x19,
    MQTT_RC_UNSPECIFIED_ERROR = 0x80,
    MQTT_RC_MALFORMED_PACKET = 0x81,
    MQTT_RC_PROTOCOL_ERROR = 0x82,
    MQTT_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
    MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
    MQTT_RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85,
    MQTT_RC_BAD_USERNAME_OR_PASSWORD = 0x86,
    MQTT_RC_NOT_AUTHORIZED = 0x87,
    MQTT_RC_SERVER_UNAVAILABLE = 0x88,
    MQTT_RC_SERVER_BUSY = 0x89,
    MQTT_RC_BANNED = 0x8A,
    MQTT_RC_SERVER_SHUTTING_DOWN = 0x8B,
    MQTT_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
    MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    MQTT_RC_SESSION_TAKEN_OVER = 0x8E,
    MQTT_RC_TOPIC_FILTER_INVALID = 0x8F,
    MQTT_RC_TOPIC_NAME_INVALID = 0x90,
    MQTT_RC_PACKET_IDENTIFIER_IN_USE = 0x91,
    MQTT_RC_PACKET_IDENTIFIER_NOT_FOUND = 0x92,
    MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
    MQTT_RC_TOPIC_ALIAS_INVALID = 0x94,
    MQTT_RC_PACKET_TOO_LARGE = 0x95,
    MQTT_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    MQTT_RC_QUOTA_EXCEEDED = 0x97,
    MQTT_RC_ADMINISTRATIVE_ACTION = 0x98,
    MQTT_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    MQTT_RC_RETAIN_NOT_SUPPORTED = 0x9A,
    MQTT_RC_QOS_NOT_SUPPORTED = 0x9B,
    MQTT_RC_USE_ANOTHER_SERVER = 0x9C,
    MQTT_RC_SERVER_MOVED = 0x9D,
    MQTT_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
    MQTT_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    MQTT_RC_MAXIMUM_CONNECT_TIME = 0xA0,
    MQTT_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1,
    MQTT_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2,
};

/* MQTT 5 property identifiers (5.0 §2.2.2.2). All are < 64, so a uint64_t bit set holds them. */
enum mqtt_prop_id {
    MQTT_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,          /* byte      PUBLISH, Will */
    MQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,           /* u32       PUBLISH, Will */
    MQTT_PROP_CONTENT_TYPE = 0x03,                      /* UTF-8     PUBLISH, Will */
    MQTT_PROP_RESPONSE_TOPIC = 0x08,                    /* UTF-8     PUBLISH, Will */
    MQTT_PROP_CORRELATION_DATA = 0x09,                  /* binary    PUBLISH, Will */
    MQTT_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,           /* varint    PUBLISH, SUBSCRIBE */
    MQTT_PROP_SESSION_EXPIRY_INTERVAL = 0x11,           /* u32       CONNECT, CONNACK, DISCONNECT */
    MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,        /* UTF-8     CONNACK */
    MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,                 /* u16       CONNACK */
    MQTT_PROP_AUTHENTICATION_METHOD = 0x15,             /* UTF-8     CONNECT, CONNACK, AUTH */
    MQTT_PROP_AUTHENTICATION_DATA = 0x16,               /* binary    CONNECT, CONNACK, AUTH */
    MQTT_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,       /* byte      CONNECT */
    MQTT_PROP_WILL_DELAY_INTERVAL = 0x18,               /* u32       Will */
    MQTT_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,      /* byte      CONNECT */
    MQTT_PROP_RESPONSE_INFORMATION = 0x1A,              /* UTF-8     CONNACK */
    MQTT_PROP_SERVER_REFERENCE = 0x1C,                  /* UTF-8     CONNACK, DISCONNECT */
    MQTT_PROP_REASON_STRING = 0x1F,                     /* UTF-8     acks, DISCONNECT, AUTH */
    MQTT_PROP_RECEIVE_MAXIMUM = 0x21,                   /* u16       CONNECT, CONNACK */
    MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,               /* u16       CONNECT, CONNACK */
    MQTT_PROP_TOPIC_ALIAS = 0x23,                       /* u16       PUBLISH */
    MQTT_PROP_MAXIMUM_QOS = 0x24,                       /* byte      CONNACK */
    MQTT_PROP_RETAIN_AVAILABLE = 0x25,                  /* byte      CONNACK */
    MQTT_PROP_USER_PROPERTY = 0x26,                     /* pair      every packet but PINGs */
    MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,               /* u32       CONNECT, CONNACK */
    MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,   /* byte      CONNACK */
    MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29, /* byte      CONNACK */
    MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A,     /* byte      CONNACK */
};

#define MQTT_PROP_BIT(id) (UINT64_C(1) << (id))

/* Largest Remaining Length a 4-byte varint carries (3.1.1 §2.2.3, 5.0 §1.5.5). */
#define MQTT_MAX_REMAINING_LENGTH 268435455u
/* Largest whole packet: 1 type byte + 4 length bytes + the above. */
#define MQTT_MAX_PACKET_SIZE (MQTT_MAX_REMAINING_LENGTH + 5u)

/* Return values of the framing function and the decoders. */
enum mqtt_result {
    MQTT_OK = 0,
    MQTT_NEED_MORE = 1, /* mqtt_frame_parse() only: the fixed header is not complete yet */
    MQTT_ERROR = -1,    /* see the mqtt_error the caller passed */
};

/* ---- shared types ---- */

/* What went wrong. `reason` is an MQTT 5 reason code (enum mqtt_reason) for the CONNACK or
 * DISCONNECT that answers it; `msg` is a static string, never freed, never NULL after an error. */
typedef struct mqtt_error {
    uint8_t reason;
    const char *msg;
} mqtt_error;

/* A span of bytes inside the caller's buffer: a UTF-8 string (NOT NUL-terminated), binary data
 * or a payload. p == NULL means absent; a present but empty field has p != NULL and len == 0. */
typedef struct mqtt_bytes {
    const uint8_t *p;
    size_t len;
} mqtt_bytes;

/* A NUL-terminated C string as mqtt_bytes (for encoders); NULL gives an absent field. */
static inline mqtt_bytes mqtt_cstr(const char *s)
{
    mqtt_bytes b = {(const uint8_t *)s, 0};
    if (s) {
        while (s[b.len])
            b.len++;
    }
    return b;
}

/* The decoded MQTT 5 properties of one packet (or of a CONNECT's will). A field is meaningful
 * only when its bit is set in `present` (MQTT_PROP_BIT(id)); decoders zero the struct first.
 * User properties are not copied: `raw` spans the whole property block and
 * mqtt_user_props_next() walks it. Encoders write every property whose bit is set, in id order,
 * except user properties and subscription identifiers, which the server never sends. */
typedef struct mqtt_props {
    uint64_t present;
    mqtt_bytes raw; /* the property block after its length; p == NULL when there was none */
    uint16_t user_property_count;

    uint32_t message_expiry_interval;
    uint32_t session_expiry_interval;
    uint32_t will_delay_interval;
    uint32_t maximum_packet_size;     /* 0 is a protocol error, rejected by the decoder */
    uint32_t subscription_identifier; /* SUBSCRIBE: 1..268435455 */
    uint16_t receive_maximum;         /* 0 is a protocol error, rejected by the decoder */
    uint16_t topic_alias_maximum;
    uint16_t topic_alias; /* 0 is an error (0x94), rejected by the decoder */
    uint16_t server_keep_alive;
    uint8_t payload_format_indicator;     /* 0 unspecified bytes, 1 UTF-8 (5.0 §3.3.2.3.2) */
    uint8_t request_problem_information;  /* 0 or 1; default 1 when absent */
    uint8_t request_response_information; /* 0 or 1; default 0 when absent */
    uint8_t maximum_qos;                  /* 0 or 1 */
    uint8_t retain_available;             /* 0 or 1 */
    uint8_t wildcard_subscription_available;
    uint8_t subscription_identifier_available;
    uint8_t shared_subscription_available;

    mqtt_bytes content_type;
    mqtt_bytes response_topic;
    mqtt_bytes correlation_data;
    mqtt_bytes assigned_client_identifier;
    mqtt_bytes authentication_method;
    mqtt_bytes authentication_data;
    mqtt_bytes response_information;
    mqtt_bytes server_reference;
    mqtt_bytes reason_string;
} mqtt_props;

static inline bool mqtt_props_has(const mqtt_props *props, unsigned id)
{
    return (props->present & MQTT_PROP_BIT(id)) != 0;
}

/* Iterates the User Property pairs of a decoded property block, in wire order, without
 * allocating. The block was fully validated by the decoder (UTF-8 included). */
typedef struct mqtt_prop_iter {
    const uint8_t *p, *end;
} mqtt_prop_iter;

void mqtt_user_props_begin(const mqtt_props *props, mqtt_prop_iter *it);
/* Returns true and sets *key and *value (pointing into the packet) for the next pair; false at
 * the end. */
bool mqtt_user_props_next(mqtt_prop_iter *it, mqtt_bytes *key, mqtt_bytes *value);

/* ---- UTF-8 (3.1.1 §1.5.3, 5.0 §1.5.4): inlet_support_utf8_valid() in ../support/utf8.h ---- */

/* True if s[0..len) is a usable topic name: 1..65535 bytes, UTF-8 valid under
 * INLET_SUPPORT_UTF8_STRICT, no '+' or '#' (3.1.1 §4.7.1, 5.0 §4.7.1, §3.3.2.1). Also what
 * identities are checked with before they are used as topic levels (the CVE-2017-7650 class). */
bool mqtt_topic_name_valid(const uint8_t *s, size_t len);

/* ---- framing (3.1.1 §2.2, 5.0 §2.1) ---- */

typedef struct mqtt_fixed_header {
    uint8_t type;       /* enum mqtt_packet_type, 1..15 */
    uint8_t flags;      /* the low nibble of byte 0 */
    uint8_t header_len; /* 2..5: byte 0 and the Remaining Length varint */
    uint32_t remaining; /* Remaining Length: the body follows the header */
} mqtt_fixed_header;

/* Parses the fixed header at buf[0..len). Returns:
 *   MQTT_NEED_MORE  the header is incomplete and nothing seen so far is wrong; read more.
 *   MQTT_OK         *hdr is filled; the whole packet is buf[0 .. hdr->header_len +
 *                   hdr->remaining), which may extend beyond len: the caller buffers it (its
 *                   size is already known to be <= max_packet_size).
 *   MQTT_ERROR      *err says why:
 *                   0x81 type 0, a Remaining Length varint with a 5th byte (§2.2.3 / §1.5.5:
 *                        at most 4; a non-minimal encoding is accepted, as Mosquitto and Paho
 *                        do), flag bits wrong for the type
 *                        (§2.2.2: PUBREL, SUBSCRIBE, UNSUBSCRIBE must be 0010, others but PUBLISH
 *                        0000), PUBLISH QoS 3 (§3.3.1.2), PUBLISH DUP with QoS 0 (5.0
 *                        §3.3.1.1 / 3.1.1 §3.3.1.1 [MQTT-3.3.1-2]), PINGREQ/PINGRESP with a
 *                        non-zero Remaining Length;
 *                   0x95 the whole packet (header_len + remaining) exceeds max_packet_size.
 * The size check happens as soon as the varint bytes seen so far prove the packet too large, so
 * a peer cannot make us wait for (or buffer) an oversized packet: the CVE-2017-7651 class.
 * max_packet_size counts the whole packet (5.0 §3.1.2.11.4); 0 means MQTT_MAX_PACKET_SIZE.
 * Valid for any type 1..15 and either version; see mqtt_frame_check_client(). */
int mqtt_frame_parse(const uint8_t *buf, size_t len, uint32_t max_packet_size,
                     mqtt_fixed_header *hdr, mqtt_error *err);

/* Checks that a client may send this packet type at all in `version` (MQTT_V311 or MQTT_V5):
 * CONNACK, SUBACK, UNSUBACK and PINGRESP are server-to-client (0x82); AUTH is reserved in 3.1.1
 * (0x81). Does not know the connection state (a second CONNECT is the caller's to refuse). */
int mqtt_frame_check_client(const mqtt_fixed_header *hdr, uint8_t version, mqtt_error *err);

/* ---- decoders ----
 * Every decoder takes the fixed header from mqtt_frame_parse() and `body`, the hdr->remaining
 * bytes that follow the fixed header (the caller has all of them), plus the protocol version
 * (MQTT_V311 or MQTT_V5) negotiated by CONNECT. The output struct is zeroed first and then
 * points into body. Trailing bytes after the last field are malformed (0x81), except where the
 * payload is "the rest of the packet". */

/* CONNECT (3.1.1 §3.1, 5.0 §3.1). */
typedef struct mqtt_connect {
    uint8_t version;  /* protocol level read (0 if the error came before it) */
    bool clean_start; /* 3.1.1 Clean Session / 5.0 Clean Start */
    bool will;        /* will_* are set only if this is */
    uint8_t will_qos; /* 0..2 */
    bool will_retain;
    uint16_t keep_alive;   /* seconds; 0 = no keep alive */
    mqtt_props props;      /* 5.0 CONNECT properties (§3.1.2.11) */
    mqtt_bytes client_id;  /* always present, may be empty (the server assigns one, §3.1.3.1) */
    mqtt_props will_props; /* 5.0 will properties (§3.1.3.2) */
    mqtt_bytes will_topic;
    mqtt_bytes will_payload;
    mqtt_bytes username; /* p == NULL when the User Name Flag is 0 */
    mqtt_bytes password; /* binary; p == NULL when the Password Flag is 0 */
} mqtt_connect;

/* Decodes a CONNECT. The version comes from the packet itself, so there is no version argument.
 * Errors, beyond 0x81 for any structural problem:
 *   0x84 protocol name "MQTT" with a level other than 4 or 5, or "MQIsdp" (MQTT 3.1): answer with
 *        a 3.1.1-format CONNACK return code 1 (5.0 §3.1.2.2, 3.1.1 §3.1.2.2 [MQTT-3.1.2-2]);
 *   0x82 any other protocol name (close without CONNACK, as Mosquitto), or a property rule;
 *   0x81 reserved flag bit 0 set (§3.1.2.3), Will QoS 3, Will QoS/Retain set without the Will
 *        Flag, 3.1.1 password without user name (3.1.1 §3.1.2.9), ill-formed UTF-8;
 *   0x85 3.1.1 empty client identifier with Clean Session 0 (3.1.1 §3.1.3.1 [MQTT-3.1.3-8]),
 *        or a client identifier with control characters / non-characters;
 *   0x86 a user name with control characters / non-characters;
 *   0x90 a will topic that is not a valid topic name (wildcards, empty, control characters).
 * 5.0 property rules: Receive Maximum 0 and Maximum Packet Size 0 are 0x82 (§3.1.2.11.3,
 * §3.1.2.11.4); Request Problem/Response Information other than 0/1 is 0x82; Authentication
 * Data without Authentication Method is 0x82 (§3.1.2.11.10). Inlet has no enhanced
 * authentication: the listener refuses a CONNECT carrying an Authentication Method with 0x8C
 * (5.0 §3.1.2.11.9, §4.12). */
int mqtt_decode_connect(const mqtt_fixed_header *hdr, const uint8_t *body, mqtt_connect *out,
                        mqtt_error *err);

/* PUBLISH (3.1.1 §3.3, 5.0 §3.3), as sent by a client. */
typedef struct mqtt_publish {
    uint8_t qos; /* 0..2 */
    bool dup;
    bool retain;
    uint16_t packet_id; /* non-zero for QoS 1/2; 0 for QoS 0 (none on the wire) */
    mqtt_bytes topic;   /* 5.0: may be empty when props has a Topic Alias (§3.3.2.3.4) */
    mqtt_props props;   /* 5.0 */
    mqtt_bytes payload; /* the rest of the packet, may be empty */
} mqtt_publish;

/* Errors: 0x81 structure and ill-formed UTF-8; 0x82 packet id 0 for QoS > 0 (§2.2.1), an empty
 * topic without Topic Alias (5.0 §3.3.2.3.4; always in 3.1.1, §4.7.3), Payload Format Indicator
 * other than 0/1, Subscription Identifier (a client must not send it, 5.0 §3.3.4
 * [MQTT-3.3.4-6]), a Response Topic with wildcards (§3.3.2.3.5), a duplicated property or one
 * PUBLISH does not allow; 0x90 a topic with '+' / '#' (§3.3.2.1) or control characters;
 * 0x94 Topic Alias 0 (§3.3.2.3.4). The caller checks the Topic Alias against its Topic Alias
 * Maximum (0x94), resolves aliases, and checks a Payload Format Indicator 1 payload with
 * inlet_support_utf8_valid() (PUBACK/PUBREC 0x99) if it wants to. */
int mqtt_decode_publish(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                        mqtt_publish *out, mqtt_error *err);

/* PUBACK, PUBREC, PUBREL, PUBCOMP (3.1.1 §3.4-3.7, 5.0 §3.4-3.7). */
typedef struct mqtt_ack {
    uint8_t type; /* MQTT_PUBACK .. MQTT_PUBCOMP, from hdr */
    uint16_t packet_id;
    uint8_t reason;   /* 5.0; 0 when absent (Remaining Length 2, §3.4.2.1) and always in 3.1.1 */
    mqtt_props props; /* 5.0: Reason String, User Property */
} mqtt_ack;

/* Errors: 0x81 wrong length (3.1.1: exactly 2); 0x82 packet id 0, or a reason code the packet
 * type does not define (5.0 §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1). */
int mqtt_decode_ack(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                    mqtt_ack *out, mqtt_error *err);

/* SUBSCRIBE (3.1.1 §3.8, 5.0 §3.8) and UNSUBSCRIBE (3.1.1 §3.10, 5.0 §3.10). The filter list is
 * validated whole by the decoder and walked with mqtt_sub_next(). */
typedef struct mqtt_subscribe {
    uint8_t type; /* MQTT_SUBSCRIBE or MQTT_UNSUBSCRIBE */
    uint8_t version;
    uint16_t packet_id;
    mqtt_props props; /* 5.0: SUBSCRIBE Subscription Identifier, User Property */
    uint32_t count;   /* number of topic filters, >= 1 */
    mqtt_bytes list;  /* the payload: filters (+ an options byte each for SUBSCRIBE) */
} mqtt_subscribe;

/* Errors: 0x81 structure, ill-formed UTF-8, SUBSCRIBE options with reserved bits set (3.1.1
 * §3.8.3.1 [MQTT-3-8.3-4], 5.0 §3.8.3.1 [MQTT-3.8.3-5]) or 3.1.1 QoS 3; 0x82 packet id 0, an
 * empty filter list (§3.8.3 / §3.10.3), 5.0 QoS 3 or Retain Handling 3, Subscription
 * Identifier 0. Filter syntax (wildcard placement, "$share/")
 * is not an error here: a refusal goes into SUBACK (mqtt_encode_suback_refusal()). */
int mqtt_decode_subscribe(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                          mqtt_subscribe *out, mqtt_error *err);

typedef struct mqtt_sub_iter {
    const uint8_t *p, *end;
    bool options; /* SUBSCRIBE: each filter is followed by an options byte */
} mqtt_sub_iter;

void mqtt_sub_begin(const mqtt_subscribe *sub, mqtt_sub_iter *it);
/* Next topic filter (pointing into the packet) and, for SUBSCRIBE, its options byte (QoS in bits
 * 0-1; 5.0 also No Local bit 2, Retain As Published bit 3, Retain Handling bits 4-5). *options is
 * 0 for UNSUBSCRIBE. Returns false at the end. */
bool mqtt_sub_next(mqtt_sub_iter *it, mqtt_bytes *filter, uint8_t *options);

/* DISCONNECT (3.1.1 §3.14, 5.0 §3.14) and AUTH (5.0 §3.15). */
typedef struct mqtt_disconnect {
    uint8_t type;     /* MQTT_DISCONNECT or MQTT_AUTH */
    uint8_t reason;   /* 0 when absent (Remaining Length 0) */
    mqtt_props props; /* DISCONNECT: Session Expiry Interval, Reason String, Server Reference,
                         User Property; AUTH: Authentication Method/Data, Reason String, User
                         Property */
} mqtt_disconnect;

/* Errors: 0x81 3.1.1 DISCONNECT with a non-zero Remaining Length, structure; 0x82 a reason code
 * DISCONNECT / AUTH does not define (5.0 §3.14.2.1, §3.15.2.1), AUTH in 3.1.1, a property rule.
 * Inlet does not implement enhanced authentication: the listener answers any AUTH with
 * DISCONNECT 0x82 (5.0 §4.12: AUTH without an Authentication Method in CONNECT is a protocol
 * error), and decoding it first only picks the log message. */
int mqtt_decode_disconnect(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                           mqtt_disconnect *out, mqtt_error *err);

/* Client-side decoders of what the server sends, for tests, the fuzzer and round trips. */
typedef struct mqtt_connack {
    bool session_present;
    uint8_t reason;   /* encode: an MQTT 5 reason code even for 3.1.1 (mapped, see below);
                         decode: the byte on the wire (a 3.1.1 return code in 3.1.1) */
    mqtt_props props; /* 5.0 */
} mqtt_connack;

int mqtt_decode_connack(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                        mqtt_connack *out, mqtt_error *err);

/* SUBACK / UNSUBACK: one reason code (3.1.1 SUBACK return code) per filter in `codes`;
 * 3.1.1 UNSUBACK has none. */
typedef struct mqtt_suback {
    uint8_t type; /* MQTT_SUBACK or MQTT_UNSUBACK */
    uint16_t packet_id;
    mqtt_props props;
    mqtt_bytes codes;
} mqtt_suback;

int mqtt_decode_suback(const mqtt_fixed_header *hdr, const uint8_t *body, uint8_t version,
                       mqtt_suback *out, mqtt_error *err);

/* ---- encoders ----
 * Every encoder returns the size of the whole packet. It writes buf[0..size) only when
 * size <= cap; otherwise it writes nothing and the caller retries with a buffer of that size.
 * It returns 0 only when there is nothing to send (documented per function).
 * version is MQTT_V311 or MQTT_V5; 3.1.1 packets carry no reason codes or properties.
 * max_size is the client's Maximum Packet Size (5.0 §3.1.2.11.4; 0 = no limit): a Reason String
 * that would make the packet larger is left out, as the spec requires of the Reason String and
 * User Properties in every packet (e.g. 5.0 §3.4.2.2.2). reason_string may be NULL. Do not pass
 * a Reason String when the client sent Request Problem Information 0, except in CONNACK and
 * DISCONNECT (5.0 §3.1.2.11.7). */

/* Maps an MQTT 5 CONNACK reason code onto the 3.1.1 return code with the same meaning (0x84 ->
 * 1, 0x85 -> 2, 0x88/0x89/0x80/0x83/0x97/0x9F -> 3, 0x86/0x8C -> 4, 0x87/0x8A -> 5, 0 -> 0), or
 * -1 when 3.1.1 has none (0x81, 0x82, 0x90, 0x95, ...) and the server just closes the
 * connection (3.1.1 §4.8). */
int mqtt_connack_v3_code(uint8_t reason);

/* CONNACK (3.1.1 §3.2, 5.0 §3.2). ack->reason is an MQTT 5 reason code; for 3.1.1 it is mapped
 * with mqtt_connack_v3_code() and 0 is returned (send nothing, close) when there is no 3.1.1
 * code. 5.0: every property with its bit set in ack->props.present is written (Receive Maximum,
 * Maximum QoS, Retain Available, Maximum Packet Size, Topic Alias Maximum, Wildcard /
 * Subscription Identifier / Shared Subscription Available, Server Keep Alive, Assigned Client
 * Identifier, Reason String, ...). Session Present must be 0 with a failure (§3.2.2.1.1): the
 * encoder clears it. */
size_t mqtt_encode_connack(uint8_t *buf, size_t cap, uint8_t version, const mqtt_connack *ack,
                           uint32_t max_size);

/* The answer to a failed mqtt_decode_connect() (or a refusal decided later), per the rules at
 * the top of this file: a 3.1.1-format CONNACK 1 for 0x84; for 5.0 (c->version == 5) a CONNACK
 * with err->reason and err->msg as Reason String; for 3.1.1 the mapped return code; 0 when the
 * connection is just closed. */
size_t mqtt_encode_connect_refusal(uint8_t *buf, size_t cap, const mqtt_connect *c,
                                   const mqtt_error *err, uint32_t max_size);

/* PUBACK, PUBREC, PUBREL, PUBCOMP (type MQTT_PUBACK..MQTT_PUBCOMP; PUBREL gets flags 0010).
 * 5.0: reason and Reason String; reason 0 without a Reason String gives the 4-byte form
 * (§3.4.2.1), a reason without a Reason String the 5-byte form (Property Length omitted). */
size_t mqtt_encode_ack(uint8_t *buf, size_t cap, uint8_t version, uint8_t type, uint16_t packet_id,
                       uint8_t reason, const char *reason_string, uint32_t max_size);

/* SUBACK (3.1.1 §3.9, 5.0 §3.9) with one code per filter. codes are MQTT 5 reason codes; for
 * 3.1.1 any code >= 0x80 is written as 0x80. */
size_t mqtt_encode_suback(uint8_t *buf, size_t cap, uint8_t version, uint16_t packet_id,
                          const uint8_t *codes, size_t count, const char *reason_string,
                          uint32_t max_size);

/* SUBACK refusing every filter of a decoded SUBSCRIBE: 3.1.1 0x80 each; 5.0 per filter 0x8F for
 * an invalid filter (empty, control characters, misplaced '+'/'#', §4.7.1), else 0x9E for a
 * shared subscription ("$share/...", §4.8.2), else 0xA1 if the SUBSCRIBE carries a
 * Subscription Identifier, else 0xA2 for a filter with a wildcard, else `reason` (e.g. 0x87 not
 * authorized). This matches a CONNACK that advertises the three "available" properties as 0. */
size_t mqtt_encode_suback_refusal(uint8_t *buf, size_t cap, const mqtt_subscribe *sub,
                                  uint8_t reason, const char *reason_string, uint32_t max_size);

/* UNSUBACK (3.1.1 §3.11, 5.0 §3.11) for a decoded UNSUBSCRIBE: 5.0 gets `reason` (e.g. 0x11 no
 * subscription existed) for every filter. */
size_t mqtt_encode_unsuback(uint8_t *buf, size_t cap, const mqtt_subscribe *unsub, uint8_t reason,
                            const char *reason_string, uint32_t max_size);

/* PINGRESP (§3.13): always 2 bytes, D0 00. */
size_t mqtt_encode_pingresp(uint8_t *buf, size_t cap);

/* DISCONNECT from the server (5.0 §3.14). Returns 0 for 3.1.1, where the server has no
 * DISCONNECT and just closes the connection. */
size_t mqtt_encode_disconnect(uint8_t *buf, size_t cap, uint8_t version, uint8_t reason,
                              const char *reason_string, uint32_t max_size);

/* ---- names for logs ---- */

/* "PUBLISH", "CONNACK", ...; "reserved" for 0 and out of range. */
const char *mqtt_packet_type_name(uint8_t type);
/* "Malformed Packet", "Not authorized", ... (5.0 §2.4); "Unknown reason code" otherwise. */
const char *mqtt_reason_name(uint8_t reason);

#endif
