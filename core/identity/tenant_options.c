/*
 * tenant_options.c - the option table of a tenant file: keys, types, defaults, bounds and the
 * reference text, as the config parser and inletd --print-options read them.
 */
#include <stddef.h>

#include "tenant.h"

static const char *const jwt_alg_values[] = {"HS256", "RS256", "ES256", NULL};
static const char *const cert_id_values[] = {"cn", "san_dns", "san_uri", NULL};
static const char *const acl_effect_values[] = {"allow", "deny", NULL};
static const char *const ack_values[] = {"kafka", "spool", NULL};

#define LIMIT(field, dflt, lo, text)                                                               \
    {                                                                                              \
        .name = #field, .type = INLET_OPT_INT, .offset = offsetof(inlet_limits, field),            \
        .default_value = dflt, .min = lo, .max = 1000000000000LL, .description = text              \
    }

/* limits and device_limits: 0 = unlimited. */
static const inlet_option limit_options[] = {
    LIMIT(events_per_second, "0", 0, "Token bucket refill, events per second (0: no limit)."),
    LIMIT(burst, "0", 0, "Bucket size in events (0: events_per_second)."),
    LIMIT(bytes_per_second, "0", 0,
          "Token bucket refill, request body bytes per second (0: no limit)."),
    LIMIT(bytes_burst, "0", 0, "Bucket size in bytes (0: bytes_per_second)."),
    LIMIT(connections, "0", 0,
          "Concurrent connections or sessions (MQTT, binary, Teltonika, CoAP DTLS, HTTP "
          "requests in progress; 0: no limit)."),
    INLET_OPTIONS_END,
};

/* A device's own limits: -1 = the tenant's device_limits value. */
static const inlet_option device_limit_options[] = {
    LIMIT(events_per_second, "-1", -1, "As in device_limits; -1: inherit, 0: no limit."),
    LIMIT(burst, "-1", -1, "As in device_limits; -1: inherit."),
    LIMIT(bytes_per_second, "-1", -1, "As in device_limits; -1: inherit, 0: no limit."),
    LIMIT(bytes_burst, "-1", -1, "As in device_limits; -1: inherit."),
    LIMIT(connections, "-1", -1, "As in device_limits; -1: inherit, 0: no limit."),
    INLET_OPTIONS_END,
};

static const inlet_option dead_letter_options[] = {
    {.name = "topic",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_dead_letter_conf, topic),
     .description = "Kafka topic (taken as is, no topic_prefix) that receives a copy of every "
                    "request refused as invalid; absent: no dead-letter topic."},
    {.name = "rate",
     .type = INLET_OPT_INT,
     .offset = offsetof(inlet_dead_letter_conf, rate),
     .default_value = "10",
     .min = 1,
     .max = 1000000,
     .description = "Records per second at most (a token bucket of as many); the rest are "
                    "counted in inlet_dead_letter_dropped_total and not produced."},
    INLET_OPTIONS_END,
};

static const inlet_option device_options[] = {
    {.name = "id",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_device_conf, id),
     .flags = INLET_OPT_REQUIRED,
     .description = "Device id: 1..128 bytes of UTF-8 without control characters, '+', '#' or "
                    "'/'."},
    {.name = "groups",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_device_conf, groups),
     .description = "Groups the device belongs to, for ACL rules."},
    {.name = "psk_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_device_conf, psk_file),
     .flags = INLET_OPT_SECRET,
     .description =
         "DTLS pre-shared key of the device (CoAP over DTLS, PSK identity <device>@<tenant>): "
         "1..64 bytes, as hex digits (a trailing newline ignored) or else raw; the file must not "
         "be readable by group or others. Re-read at every reload."},
    {.name = "imei",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_device_conf, imei),
     .description = "IMEI of a tracker that identifies itself by it (Teltonika): 15 digits, "
                    "quoted; unique across all tenants. An identifier, not a secret."},
    {.name = "limits",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_device_conf, limits),
     .section = device_limit_options,
     .description = "This device's own rate limits and connection quota, key by key over the "
                    "tenant's device_limits."},
    INLET_OPTIONS_END,
};

static const inlet_option token_options[] = {
    {.name = "sha256",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_token_conf, sha256),
     .flags = INLET_OPT_REQUIRED,
     .description = "SHA-256 of the bearer token as 64 hex digits (inlet-token hash)."},
    {.name = "device",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_token_conf, device),
     .flags = INLET_OPT_REQUIRED,
     .description = "The device this token authenticates."},
    {.name = "not_after",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_token_conf, not_after),
     .description = "RFC 3339 date-time from which the token is refused (e.g. "
                    "2027-01-01T00:00:00Z); open MQTT connections end then. Reloadable."},
    {.name = "disabled",
     .type = INLET_OPT_BOOL,
     .offset = offsetof(inlet_token_conf, disabled),
     .default_value = "false",
     .description = "true: the token is refused, and a reload ends the connections that used it, "
                    "as if it were removed."},
    INLET_OPTIONS_END,
};

static const inlet_option jwt_key_options[] = {
    {.name = "kid",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, kid),
     .description = "Key id matched against the JWT header's kid; unique across all tenants."},
    {.name = "alg",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_jwt_key_conf, alg),
     .enum_values = jwt_alg_values,
     .flags = INLET_OPT_REQUIRED,
     .description = "The one algorithm this key accepts; a token whose header names another "
                    "is refused."},
    {.name = "secret_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, secret_file),
     .flags = INLET_OPT_SECRET,
     .description =
         "HS256: file holding the shared secret: at least 32 raw bytes, used exactly as stored "
         "(a trailing newline is part of it)."},
    {.name = "public_key_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, public_key_file),
     .description = "RS256/ES256: PEM public key or certificate that verifies tokens."},
    {.name = "private_key_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_jwt_key_conf, private_key_file),
     .flags = INLET_OPT_SECRET,
     .description = "RS256/ES256: PEM private key, used only by inlet-token to mint tokens."},
    {.name = "issuer",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, issuer),
     .description = "Required value of the iss claim; also selects the key when a token has no "
                    "kid."},
    {.name = "audience",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_jwt_key_conf, audience),
     .description =
         "The aud claim must contain one of these; with none configured, a token carrying aud "
         "is refused (RFC 7519 4.1.3)."},
    {.name = "device_claim",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_jwt_key_conf, device_claim),
     .default_value = "sub",
     .description = "Claim holding the device id."},
    {.name = "clock_skew",
     .type = INLET_OPT_DURATION,
     .offset = offsetof(inlet_jwt_key_conf, clock_skew_ms),
     .default_value = "60s",
     .min = 0,
     .max = 600000,
     .description = "Leeway applied to exp, nbf and iat."},
    {.name = "max_lifetime",
     .type = INLET_OPT_DURATION,
     .offset = offsetof(inlet_jwt_key_conf, max_lifetime_ms),
     .default_value = "24h",
     .min = 0,
     .max = 366LL * 24 * 3600 * 1000,
     .description = "Longest accepted exp - iat, and exp - now. 0 lifts the bound (not "
                    "recommended); exp, nbf and iat must still be dates before the year 10000."},
    INLET_OPTIONS_END,
};

static const inlet_option mtls_options[] = {
    {.name = "ca_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_mtls_conf, ca_file),
     .description = "PEM bundle of the CAs that issue this tenant's device certificates. Each "
                    "is a trust anchor (an intermediate may be trusted without its root); no "
                    "certificate may be in, or under, another tenant's bundle."},
    {.name = "device_id_from",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_mtls_conf, device_id_from),
     .enum_values = cert_id_values,
     .default_value = "cn",
     .description = "Where the device id is read from: subject CN, first SAN dNSName or first "
                    "SAN URI (which must itself be a valid device id, e.g. urn:dev:meter-9)."},
    {.name = "allow_unlisted_devices",
     .type = INLET_OPT_BOOL,
     .offset = offsetof(inlet_mtls_conf, allow_unlisted_devices),
     .default_value = "false",
     .description = "false: a certificate authenticates only a device listed in devices[]; "
                    "true: any device id this tenant's CA certifies."},
    {.name = "crl_file",
     .type = INLET_OPT_PATH,
     .offset = offsetof(inlet_mtls_conf, crl_file),
     .description = "PEM CRLs issued by the CAs of ca_file; the leaf is checked against its "
                    "issuer's CRL (which must then be present). Re-read on every reload."},
    INLET_OPTIONS_END,
};

static const inlet_option acl_rule_options[] = {
    {.name = "effect",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_acl_rule_conf, effect),
     .enum_values = acl_effect_values,
     .flags = INLET_OPT_REQUIRED,
     .description = "allow or deny."},
    {.name = "devices",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, devices),
     .description = "Device ids the rule applies to, or \"*\"."},
    {.name = "groups",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, groups),
     .description = "Device groups the rule applies to (with devices: either matches)."},
    {.name = "schemas",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, schemas),
     .flags = INLET_OPT_REQUIRED,
     .description = "\"name@v1\", \"name@*\", \"name\" (any version) or \"*\"."},
    {.name = "reason",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_acl_rule_conf, reason),
     .description = "Message returned when this rule denies."},
    {.name = "protocols",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, protocols),
     .description = "Only for events that arrive over one of these: http, mqtt, mqtt_bridge, "
                    "coap, binary, teltonika (none: any protocol)."},
    {.name = "methods",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_acl_rule_conf, methods),
     .description = "Only for devices authenticated by one of these: token, jwt, cert, psk, imei "
                    "(none: any method)."},
    INLET_OPTIONS_END,
};

static const inlet_option ack_rule_options[] = {
    {.name = "schemas",
     .type = INLET_OPT_STRING_LIST,
     .offset = offsetof(inlet_ack_rule_conf, schemas),
     .flags = INLET_OPT_REQUIRED,
     .description = "\"name@v1\", \"name@*\", \"name\" (any version) or \"*\"."},
    {.name = "ack",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_ack_rule_conf, ack),
     .enum_values = ack_values,
     .flags = INLET_OPT_REQUIRED,
     .description = "kafka or spool, for events of these schemas."},
    INLET_OPTIONS_END,
};

const inlet_option inlet_tenant_options[] = {
    {.name = "tenant",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_tenant_conf, name),
     .flags = INLET_OPT_REQUIRED,
     .description = "Tenant name: 1..64 of A-Z a-z 0-9 . _ -."},
    {.name = "topic_prefix",
     .type = INLET_OPT_STRING,
     .offset = offsetof(inlet_tenant_conf, topic_prefix),
     .default_value = "",
     .description = "Prepended to the Kafka topic of every event of this tenant."},
    {.name = "shared_topics",
     .type = INLET_OPT_BOOL,
     .offset = offsetof(inlet_tenant_conf, shared_topics),
     .default_value = "false",
     .description = "Two tenants with the same topic_prefix (e.g. both empty) share Kafka topics "
                    "and record keys (the device id); that is refused unless every such "
                    "tenant sets this to true."},
    {.name = "devices",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, devices),
     .section = device_options,
     .section_size = sizeof(inlet_device_conf),
     .description = "Known devices and their groups."},
    {.name = "tokens",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, tokens),
     .section = token_options,
     .section_size = sizeof(inlet_token_conf),
     .description = "Opaque bearer tokens, stored as SHA-256."},
    {.name = "jwt",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, jwt),
     .section = jwt_key_options,
     .section_size = sizeof(inlet_jwt_key_conf),
     .description = "Keys that verify JSON Web Tokens."},
    {.name = "mtls",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_tenant_conf, mtls),
     .section = mtls_options,
     .description = "TLS client certificate authentication."},
    {.name = "acl",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, acl),
     .section = acl_rule_options,
     .section_size = sizeof(inlet_acl_rule_conf),
     .description = "Ordered rules; the first that matches decides, no match denies."},
    {.name = "limits",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_tenant_conf, limits),
     .section = limit_options,
     .description =
         "Rate limits and connection quota of the tenant as a whole (docs/SECURITY.md)."},
    {.name = "device_limits",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_tenant_conf, device_limits),
     .section = limit_options,
     .description = "Rate limits and connection quota applied to each device separately."},
    {.name = "dead_letter",
     .type = INLET_OPT_SECTION,
     .offset = offsetof(inlet_tenant_conf, dead_letter),
     .section = dead_letter_options,
     .description = "Copy requests refused as invalid to a Kafka topic (docs/DEAD-LETTER.md)."},
    {.name = "ack",
     .type = INLET_OPT_ENUM,
     .offset = offsetof(inlet_tenant_conf, ack),
     .enum_values = ack_values,
     .default_value = "kafka",
     .description = "When devices are acknowledged: kafka = once Kafka has the event (acks=all); "
                    "spool = once this node's spool (spool.dir) has it fsynced, forwarded to "
                    "Kafka after (docs/SPOOL.md). ack_schemas overrides it per schema."},
    {.name = "ack_schemas",
     .type = INLET_OPT_SECTION_LIST,
     .offset = offsetof(inlet_tenant_conf, ack_schemas),
     .section = ack_rule_options,
     .section_size = sizeof(inlet_ack_rule_conf),
     .description = "Per-schema ack, e.g. spool only driver.panic@*: the first rule whose "
                    "schemas match decides, else ack. A batch is spooled only if every event in "
                    "it is; a mixed batch goes to Kafka directly (the stronger promise)."},
    INLET_OPTIONS_END,
};
