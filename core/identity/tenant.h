/*
 * tenant.h - tenants, their devices, credentials and ACL rules, as configured (option tables)
 * and as the immutable, reference-counted runtime set the authenticators and the ACL read.
 * How identity/ is split into files, and its include graph: README.md beside this header.
 *
 * A tenant file in conf.d/ (or the tenants directory) looks like:
 *
 *   tenant: demo
 *   topic_prefix: ""                 # prepended to every schema topic of this tenant
 *   shared_topics: false             # true: other tenants may use the same prefix (all must say
 * so) devices:
 *     - id: truck-0042
 *       groups: [trucks]
 *       psk_file: keys/truck-0042.psk  # DTLS-PSK key (CoAP), identity "truck-0042@demo"
 *       imei: "356307042441013"      # optional: a tracker that identifies itself by IMEI
 *   tokens:                          # opaque bearer tokens, stored only as SHA-256 (hex)
 *     - sha256: 5e88...
 *       device: truck-0042
 *       not_after: 2027-01-01T00:00:00Z  # optional end; disabled: true refuses it now
 *   jwt:
 *     - kid: k1                      # optional; matched against the JWT header's kid
 *       alg: HS256                   # pinned: HS256 | RS256 | ES256
 *       secret_file: keys/demo.hs256 # HS256 (raw bytes) ...
 *       public_key_file: keys/k1.pem # ... or RS256/ES256 (PEM public key or certificate)
 *       issuer: https://auth.example
 *       audience: inlet
 *       device_claim: sub
 *       clock_skew: 60s
 *   mtls:
 *     ca_file: certs/demo-ca.pem     # a root, or an intermediate (partial chains are trusted)
 *     device_id_from: cn             # cn | san_dns | san_uri
 *     crl_file: certs/demo-crl.pem   # optional; re-read on every reload
 *     allow_unlisted_devices: false  # true: any device id the CA vouches for
 *   limits: {events_per_second: 5000, bytes_per_second: 5000000, connections: 10000}
 *   device_limits: {events_per_second: 10, burst: 50, connections: 2}
 *   dead_letter: {topic: demo.dead-letter, rate: 10}
 *   ack: kafka                       # kafka (default) | spool: when devices get their ack
 *   ack_schemas:                     # per schema, first match wins, else ack above
 *     - schemas: ["driver.panic@*"]
 *       ack: spool
 *   acl:                             # first match wins; no match = deny
 *     - effect: allow
 *       groups: [trucks]
 *       schemas: ["fleet.position@v1", "driver.panic@*"]
 *       protocols: [http, mqtt]      # optional: only events arriving over these
 *       methods: [cert]              # optional: only devices authenticated so
 *     - effect: deny
 *       devices: ["*"]
 *       schemas: ["*"]
 *       reason: "not on the allow list"
 */
#ifndef INLET_TENANT_H
#define INLET_TENANT_H

#include <stdbool.h>
#include <stdint.h>

#include "inlet/module.h"

typedef enum { INLET_JWT_HS256 = 0, INLET_JWT_RS256 = 1, INLET_JWT_ES256 = 2 } inlet_jwt_alg;
typedef enum {
    INLET_CERT_ID_CN = 0,
    INLET_CERT_ID_SAN_DNS = 1,
    INLET_CERT_ID_SAN_URI = 2
} inlet_cert_id_from;
typedef enum { INLET_ACL_ALLOW = 0, INLET_ACL_DENY = 1 } inlet_acl_effect;

/*
 * Rate limits and a connection quota (core/pipeline/quota.c, docs/SECURITY.md). As configured, 0
 * means unlimited; in a device's own limits, -1 means "as the tenant's device_limits". Resolved
 * (inlet_identity_*_limits), burst and bytes_burst are never below one second's worth.
 */
typedef struct inlet_limits {
    int64_t events_per_second;
    int64_t burst; /* events; 0 = events_per_second */
    int64_t bytes_per_second;
    int64_t bytes_burst; /* bytes; 0 = bytes_per_second */
    int64_t connections; /* concurrent connections or sessions */
} inlet_limits;

/* dead_letter: where events refused as invalid are copied (core/pipeline/dead_letter.c). */
typedef struct inlet_dead_letter_conf {
    char *topic;  /* NULL = off */
    int64_t rate; /* records per second at most; burst = rate */
} inlet_dead_letter_conf;

typedef struct inlet_device_conf {
    char *id;
    inlet_limits limits; /* -1 fields inherit the tenant's device_limits */
    inlet_str_list groups;
    char *psk_file; /* DTLS pre-shared key: raw bytes or hex; mode 0600 or stricter */
    char *imei; /* optional: the 15-digit IMEI of a tracker (Teltonika); unique across tenants */
} inlet_device_conf;

typedef struct inlet_token_conf {
    char *sha256; /* 64 hex digits */
    char *device;
    char *not_after; /* RFC 3339; NULL = no end. Refused from then on, open connections too */
    bool disabled;   /* kept in the file but refused, as if removed */
} inlet_token_conf;

typedef struct inlet_jwt_key_conf {
    char *kid;
    int alg; /* inlet_jwt_alg */
    char *secret_file;
    char *public_key_file;
    char *private_key_file; /* optional; only the CLI uses it, to mint test tokens */
    char *issuer;
    inlet_str_list audience;
    char *device_claim;
    int64_t clock_skew_ms;
    int64_t max_lifetime_ms; /* 0 = unbounded; else exp - iat must not exceed it */
} inlet_jwt_key_conf;

typedef struct inlet_mtls_conf {
    char *ca_file;
    int device_id_from;          /* inlet_cert_id_from */
    bool allow_unlisted_devices; /* any device id the CA vouches for, not only devices[] */
    char *crl_file;              /* PEM CRLs of the CAs in ca_file; NULL = none */
} inlet_mtls_conf;

typedef struct inlet_acl_rule_conf {
    int effect;             /* inlet_acl_effect */
    inlet_str_list devices; /* device ids or "*" */
    inlet_str_list groups;  /* group names */
    inlet_str_list schemas; /* "name@vN", "name@*", "name" (= any version) or "*" */
    char *reason;
    inlet_str_list protocols; /* http, mqtt, mqtt_bridge, coap, binary, teltonika; empty = any */
    inlet_str_list methods;   /* token, jwt, cert, psk, imei; empty = any */
} inlet_acl_rule_conf;

/* When a device is acknowledged: Kafka has the event, or this node's spool has it fsynced
 * (docs/SPOOL.md). */
typedef enum { INLET_ACK_KAFKA = 0, INLET_ACK_SPOOL = 1 } inlet_ack_mode;

typedef struct inlet_ack_rule_conf {
    inlet_str_list schemas; /* as in ACL rules */
    int ack;                /* inlet_ack_mode */
} inlet_ack_rule_conf;

typedef struct inlet_tenant_conf {
    char *name;
    char *topic_prefix;
    inlet_section_list devices; /* inlet_device_conf */
    inlet_section_list tokens;  /* inlet_token_conf */
    inlet_section_list jwt;     /* inlet_jwt_key_conf */
    inlet_mtls_conf mtls;
    inlet_section_list acl;     /* inlet_acl_rule_conf */
    bool shared_topics;         /* may produce into the topics of other tenants with this prefix */
    inlet_limits limits;        /* the whole tenant */
    inlet_limits device_limits; /* each device, unless it sets its own */
    inlet_dead_letter_conf dead_letter;
    int ack;                        /* inlet_ack_mode: the tenant's default */
    inlet_section_list ack_schemas; /* inlet_ack_rule_conf: per schema, first match wins */
} inlet_tenant_conf;

/* The option table of a tenant file; "tenant" is the name key. */
extern const inlet_option inlet_tenant_options[];

typedef struct inlet_tenants inlet_tenants; /* immutable set of tenants */

/*
 * Build the runtime set: load key files and CA bundles, index token hashes, compile ACL rules.
 * confs[i] came from origin[i] (a "file:line" string for errors). Duplicate tenant names,
 * duplicate token hashes, bad hex, unreadable keys, CA bundles that overlap, two tenants with the
 * same topic_prefix (unless both set shared_topics) are errors. Nothing in
 * confs is retained.
 */
int inlet_tenants_build(const inlet_tenant_conf *const *confs, const char *const *origins, size_t n,
                        inlet_tenants **out, char *err, size_t err_len);
void inlet_tenants_ref(inlet_tenants *ts);
void inlet_tenants_release(inlet_tenants *ts);
size_t inlet_tenants_count(const inlet_tenants *ts);

/* Bearer token: a JWT (three base64url parts) or an opaque token. now_s is the wall clock. */
inlet_status inlet_tenants_auth_bearer(inlet_tenants *ts, const char *token, size_t len,
                                       int64_t now_s, inlet_identity **out, char *msg,
                                       size_t msg_len);
/* TLS client certificate chain, leaf first, DER. */
inlet_status inlet_tenants_auth_cert(inlet_tenants *ts, const uint8_t *const *chain,
                                     const size_t *chain_len, size_t n, inlet_identity **out,
                                     char *msg, size_t msg_len);

/*
 * DTLS pre-shared key of PSK identity "<device>@<tenant>" (split at the last '@'): the device's
 * key into key (key_cap bytes, *key_len) and a new identity (method INLET_AUTH_PSK) in *out.
 * UNAUTHENTICATED when the tenant, the device or its key is not configured.
 */
inlet_status inlet_tenants_auth_psk(inlet_tenants *ts, const char *identity, size_t len,
                                    uint8_t *key, size_t key_cap, size_t *key_len,
                                    inlet_identity **out, char *msg, size_t msg_len);
/* A tracker's IMEI (15 ASCII digits, len bytes): the device that declares it, in whichever
 * tenant; INLET_E_UNAUTHENTICATED with the reason in msg if none does. */
inlet_status inlet_tenants_auth_imei(inlet_tenants *ts, const char *imei, size_t len,
                                     inlet_identity **out, char *msg, size_t msg_len);

/* Identities (see inlet_identity in inlet/module.h); each holds a reference to its tenant set. */
void inlet_identity_ref(const inlet_identity *id);
void inlet_identity_release(const inlet_identity *id);
/* The tenant's topic_prefix ("" if none). */
const char *inlet_identity_topic_prefix(const inlet_identity *id);
/* The resolved limits of the identity's tenant (as a whole) and of its device: the device's own
 * merged over the tenant's device_limits, or device_limits for a device not in devices[]. They
 * live as long as the identity. */
const inlet_limits *inlet_identity_tenant_limits(const inlet_identity *id);
const inlet_limits *inlet_identity_device_limits(const inlet_identity *id);
/* Two pointer slots (device, tenant) in which pipeline/quota.c caches its registry entries for
 * this identity; zero until it sets them, set once. */
_Atomic(void *) *inlet_identity_quota_slots(const inlet_identity *id);
/* The tenant's dead-letter topic (NULL = none) and its rate in *rate. */
const char *inlet_identity_dead_letter(const inlet_identity *id, int64_t *rate);
/* When the credential stops being valid, wall clock microseconds: a JWT's exp plus the key's
 * clock_skew (the moment inletd stops accepting it), the earliest notAfter of a certificate
 * chain; 0 = never (opaque tokens, identity_for_device). */
int64_t inlet_identity_expires_at(const inlet_identity *id);
/* A identity for tests and tools: tenant must exist in ts; device need not be configured. */
inlet_status inlet_identity_for_device(inlet_tenants *ts, const char *tenant, const char *device,
                                       inlet_auth_method method, inlet_identity **out);

/*
 * After a reload: the same tenant and device in the current set ts, with ts's groups and ACL.
 * If id already belongs to ts, *out is id with a new reference. Refused (UNAUTHENTICATED, with
 * the reason in msg) when the credential has expired (always checked), or, after a reload, when
 * the tenant is gone, id came from an opaque token that ts no longer maps to that device, from
 * a JWT whose key ts no longer has (same tenant, kid, issuer, algorithm and material), or from a
 * certificate chain that ts's CAs and CRLs no longer verify as that device: long-lived
 * connections lose what a reload revoked. The result is cached in id, so each reload costs a
 * connection one refresh.
 */
inlet_status inlet_identity_refresh(inlet_tenants *ts, const inlet_identity *id,
                                    inlet_identity **out, char *msg, size_t msg_len);
/* The same at wall clock now_us (tests). */
inlet_status inlet_identity_refresh_at(inlet_tenants *ts, const inlet_identity *id, int64_t now_us,
                                       inlet_identity **out, char *msg, size_t msg_len);

/*
 * ACL: may id send schema@version? INLET_OK, or INLET_E_FORBIDDEN with the rule's reason (or
 * "no ACL rule allows <device> to send <schema>@<version>") in reason. The protocol is not known
 * here, so rules that name protocols do not match: use inlet_acl_check_source() on the submit
 * path.
 */
inlet_status inlet_acl_check(const inlet_identity *id, const char *schema, const char *version,
                             char *reason, size_t reason_len);
/* The same for an event that arrived over source (inlet_request.source: "http", "mqtt",
 * "mqtt-bridge"...; '-' and '_' are the same). NULL or an unknown source matches only rules
 * without protocols. */
inlet_status inlet_acl_check_source(const inlet_identity *id, const char *source,
                                    const char *schema, const char *version, char *reason,
                                    size_t reason_len);

/* inlet_acl_check_source() telling which rule decided: *rule is its index in the tenant's acl,
 * SIZE_MAX when no rule matched (inletd explain). */
inlet_status inlet_acl_check_rule(const inlet_identity *id, const char *source, const char *schema,
                                  const char *version, char *reason, size_t reason_len,
                                  size_t *rule);
/* How events of schema@version from id are acknowledged (the tenant's ack_schemas, else ack). */
inlet_ack_mode inlet_identity_ack_mode(const inlet_identity *id, const char *schema,
                                       const char *version);
/* 1 when some tenant of ts may spool (the daemon then needs spool.dir). */
int inlet_tenants_use_spool(const inlet_tenants *ts);

/* SHA-256 of a token as 64 lowercase hex digits (out must hold 65 bytes). */
void inlet_token_hash_hex(const char *token, size_t len, char out[65]);

/* Mint a JWT with a configured key (needs private_key_file for RS/ES, secret for HS). Used by
 * the inlet-token CLI and tests. claims_json is the payload object as text. out is malloc'd. */
int inlet_jwt_sign(const inlet_jwt_key_conf *key, const char *claims_json, char **out, char *err,
                   size_t err_len);

#endif
