/*
 * inlet/module.h - the one public header for Inlet protocol modules.
 *
 * A module is a shared object that exports one symbol, inlet_module_entry(), returning a const
 * descriptor. The core dlopen()s it with RTLD_NOW | RTLD_LOCAL when a conf.d/ file names it,
 * checks the descriptor's ABI version, size and name, parses the module's configuration against
 * its option table and calls create() with a table of host functions. Modules never link against
 * core internals: everything they need from the core is in struct inlet_host.
 *
 * ABI versioning (the Varnish VMOD rule): a module built against MAJOR.MINOR loads into a core
 * with the same MAJOR and a MINOR >= the module's. Structs the core hands out only grow at the
 * end; every extensible struct starts with its size so either side can tell what the other has.
 *
 * ABI changelog
 *   1.0  2026-11-21  first version: descriptor, host table, requests, completion queues,
 *                    identities, metrics, logging.
 *   1.1  2026-11-22  host->identity_for_device(): an identity for a device another trusted
 *                    party authenticated (an upstream MQTT broker for the bridge).
 *   1.2  2026-11-22  host->status_name(): the stable word for an inlet_status, for response
 *                    bodies and metrics labels ("forbidden", "unavailable", ...).
 *   1.3  2026-12-01  Payload formats are a core service: inlet_request.content_type may name
 *                    any format the core decodes (JSON, CBOR, SenML JSON/CBOR, a schema's
 *                    binary layout; docs/FORMATS.md) and body holds those raw bytes.
 *                    host->content_type_for_coap() maps a CoAP Content-Format to its content
 *                    type, host->content_type_supported() tells a module early whether the core
 *                    decodes a content type. Kafka records gain the inlet-content-type header.
 *   1.4  2026-12-01  host->auth_psk(): the DTLS pre-shared key and the identity of a PSK
 *                    identity "<device>@<tenant>" (devices' psk_file in tenant files), for the
 *                    CoAP module's DTLS-PSK handshake; INLET_AUTH_PSK.
 *                    host->identity_for_imei(): the device a tracker's IMEI belongs to, for
 *                    protocols that identify a device by its IMEI (Teltonika); INLET_AUTH_IMEI.
 *                    host->identity_expires_at(): when an identity's credential (a JWT's exp, a
 *                    client certificate's notAfter) stops being valid, so a long-lived
 *                    connection can end then.
 *   1.5  2026-12-01  Reliability, operations and the SDK (docs/MODULES.md):
 *                    INLET_E_POSSIBLY_PERSISTED: a delivery failed after the event may have
 *                    reached the broker (a timeout); the device should resend with the same
 *                    event_id. Only modules that declare 1.5 see it; older ones get
 *                    INLET_E_UNAVAILABLE in its place.
 *                    inlet_request.peer: the device's address, for refusal logs.
 *                    inlet_rejection.retry_after_s: when to retry a quota or availability
 *                    refusal.
 *                    host->instance_name(), host->metric_counter_for() and
 *                    host->metric_gauge_for(): metrics labelled with the module instance.
 *                    host->connection_open()/connection_close(): per-tenant and per-device
 *                    connection quotas. host->refusal(): a refusal the module decided itself
 *                    (a failed authentication, a protocol error), for the log and the admin
 *                    listener's list of recent refusals.
 *                    inlet_module_desc.option_checks: per-option validation hooks whose
 *                    errors the core reports as "file:line: key: message".
 *                    INLET_MODULE_DEFINE has C linkage in C++ too; options.h gains
 *                    initializer macros (INLET_OPT_*_ENTRY), module.h INLET_MODULE_DESC().
 *                    host->admin_resource(): what the core serves on the admin listener
 *                    besides /metrics (/refusals, /console, /console/data).
 *                    Companion headers, not part of the ABI's structs: inlet/support.h
 *                    (libinlet-support) and inlet/module_test.h (libinlet-module-test).
 *
 * Guarantee: a core whose host->abi_minor is M fills every host function this header declares
 * up to and including minor M; none of them is NULL. A module that declares minor N may call the
 * functions of minors <= N without checking. Only functions of a newer minor than the module
 * declares need INLET_HOST_HAS() (a module built against 1.5 that wants to run on a 1.4 core).
 */
#ifndef INLET_MODULE_H
#define INLET_MODULE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "inlet/options.h"

#ifdef __cplusplus
extern "C" {
#endif

#define INLET_ABI_MAJOR 1
#define INLET_ABI_MINOR 5

#if defined(__GNUC__)
#define INLET_EXPORT       __attribute__((visibility("default")))
#define INLET_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define INLET_EXPORT
#define INLET_PRINTF(f, a)
#endif

/* Outcome of every core call and of every event. Each maps onto one answer per protocol. */
typedef enum inlet_status {
    INLET_OK = 0,
    INLET_E_UNAUTHENTICATED = 1, /* missing or bad credentials: HTTP 401, CoAP 4.01      */
    INLET_E_FORBIDDEN = 2,       /* ACL deny, device mismatch: HTTP 403, MQTT 0x87        */
    INLET_E_INVALID = 3,         /* payload fails its schema or the body is malformed: 400 */
    INLET_E_UNKNOWN_SCHEMA = 4,  /* schema name/version not loaded: 400 / MQTT 0x90       */
    INLET_E_MEDIA_TYPE = 5,      /* content type not supported: HTTP 415                  */
    INLET_E_TOO_LARGE = 6,       /* body or batch over its limit: HTTP 413 / MQTT 0x95    */
    INLET_E_UNAVAILABLE = 7,     /* Kafka down, queue full, delivery failed: 503 / 0x80   */
    INLET_E_QUOTA = 8,           /* per-client quota exceeded: 429 / MQTT 0x97            */
    INLET_E_SHUTTING_DOWN = 9,   /* inletd is draining: 503 / MQTT 0x8B                   */
    INLET_E_INTERNAL = 10,       /* a bug or resource failure inside inletd: 500          */
    /* ABI 1.5. The delivery failed after the event was sent to the broker (typically a
     * timeout while waiting for acks=all): it may be in Kafka. 503 / MQTT 0x80 like UNAVAILABLE,
     * but the device is told "possibly persisted: resend with the same event_id". A module that
     * declares an older minor receives INLET_E_UNAVAILABLE instead. */
    INLET_E_POSSIBLY_PERSISTED = 11,
} inlet_status;

typedef enum inlet_log_level {
    INLET_LOG_ERROR = 0,
    INLET_LOG_WARN = 1,
    INLET_LOG_INFO = 2,
    INLET_LOG_DEBUG = 3,
} inlet_log_level;

typedef enum inlet_auth_method {
    INLET_AUTH_TOKEN = 1, /* opaque bearer token (stored as SHA-256) */
    INLET_AUTH_JWT = 2,   /* signed JSON Web Token */
    INLET_AUTH_CERT = 3,  /* TLS client certificate verified by the tenant's CA */
    INLET_AUTH_PSK = 4,   /* DTLS pre-shared key of the device (ABI 1.4) */
    INLET_AUTH_IMEI = 5,  /* a tracker's IMEI declared for the device (an identifier, no secret) */
} inlet_auth_method;

/*
 * An authenticated device. Created by the core (auth_*), reference counted, immutable, safe to
 * share between threads. A module holds it for as long as the connection or request lives and
 * gives its reference back with host->identity_release().
 */
typedef struct inlet_identity {
    uint32_t size;         /* sizeof(inlet_identity) in the core that made it */
    const char *tenant;    /* never NULL */
    const char *device_id; /* never NULL, valid UTF-8, no NUL, '+', '#' or '/' */
    inlet_auth_method method;
    void *reserved[4]; /* zeroed by the core */
} inlet_identity;

/* Shapes of a request body (see docs/ARCHITECTURE.md). */
typedef enum inlet_body_form {
    INLET_FORM_BATCH = 1, /* {"events": [event, ...]} */
    INLET_FORM_EVENT =
        2, /* one event {"device_id", "ts", "use_case", "schema", "event_id", "payload"} */
    INLET_FORM_PAYLOAD = 3, /* the bare payload; schema and version come from the request */
} inlet_body_form;

typedef struct inlet_header {
    const char *name; /* NUL-terminated */
    const void *value;
    size_t value_len;
} inlet_header;

typedef struct inlet_queue inlet_queue;           /* completion queue; see queue_new */
typedef struct inlet_module_ctx inlet_module_ctx; /* the core's handle for one module instance */
typedef struct inlet_metric inlet_metric;

/* One submission: a request, a message or a datagram carrying one or more events. */
typedef struct inlet_request {
    uint32_t size;                  /* sizeof(inlet_request) as the module was built */
    const inlet_identity *identity; /* borrowed; the core takes its own reference */
    inlet_body_form form;
    const void *body; /* borrowed: decoded and copied before submit() returns */
    size_t body_len;
    /* The body's format, e.g. "application/cbor"; NULL = application/json. Since 1.3 any of
     * application/json, application/cbor, application/senml+json, application/senml+cbor and
     * application/octet-stream (the schema's x-inlet-layout); parameters are ignored. SenML and
     * octet-stream carry no schema of their own: they need FORM_PAYLOAD's schema and version. */
    const char *content_type;
    const char *schema;          /* FORM_PAYLOAD: required. Others: fallback for "use_case" */
    const char *schema_version;  /* "v1"; FORM_PAYLOAD: required. Others: fallback */
    const char *event_id;        /* FORM_PAYLOAD: protocol-level id (optional) */
    const char *source;          /* protocol: "http", "mqtt", "coap", "binary", ... */
    int64_t received_at_us;      /* wall clock, microseconds since the epoch; 0 = now */
    const inlet_header *headers; /* extra Kafka headers (MQTT user properties); borrowed */
    size_t n_headers;
    size_t max_events;  /* refuse batches larger than this (0 = core default) */
    inlet_queue *queue; /* where the one completion is delivered */
    void *opaque;       /* handed back untouched in the completion */
    /* ABI 1.5: the device's address as "ip:port" or "[ip6]:port", for refusal logs and the
     * recent-refusals list; NULL = unknown. Borrowed, like every string here: it must stay valid
     * only until submit() returns. */
    const char *peer;
    void *reserved[3]; /* must be zero */
} inlet_request;

/* Why an event or a request was refused before anything was produced. */
typedef struct inlet_event_error {
    size_t index; /* position in the batch (0 for single events) */
    inlet_status status;
    const char *pointer; /* JSON pointer into the event, e.g. "/payload/lat"; "" for the whole */
    const char *message; /* e.g. "123.4 is greater than maximum 90" */
} inlet_event_error;

typedef struct inlet_rejection {
    uint32_t size;
    inlet_status status; /* the overall answer */
    const char *message; /* one line for logs and problem+json "detail" */
    size_t n_events;     /* events found in the body (0 if it did not parse) */
    size_t n_errors;
    const inlet_event_error *errors;
    /* ABI 1.5: seconds the device should wait before retrying (HTTP Retry-After, CoAP
     * Max-Age) for INLET_E_QUOTA and INLET_E_UNAVAILABLE; 0 = no advice. Read it only when
     * size covers it. */
    int32_t retry_after_s;
    void *reserved[3];
} inlet_rejection;

/* The fate of one event that was handed to Kafka. */
typedef struct inlet_event_result {
    inlet_status status; /* INLET_OK only if the broker acknowledged it with acks=all */
    const char *event_id;
    const char *topic;
    int32_t partition; /* -1 if not delivered */
    int64_t offset;    /* -1 if not delivered */
    const char *error; /* NULL on success */
} inlet_event_result;

/* Delivered on the module's queue exactly once for every submit() that returned INLET_OK. */
typedef struct inlet_completion {
    uint32_t size;
    void *opaque;        /* inlet_request.opaque */
    inlet_status status; /* INLET_OK only if every event is persisted */
    size_t n_events;
    const inlet_event_result *events; /* valid only during the callback */
    void *reserved[4];
} inlet_completion;

typedef void (*inlet_completion_fn)(void *ctx, const inlet_completion *completion);

/*
 * The core's services. Every function is safe to call from any module thread unless it says
 * otherwise. Functions a newer core added are beyond host->size; check with INLET_HOST_HAS().
 */
typedef struct inlet_host {
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t size; /* sizeof(inlet_host) in the core */

    /* Logging, tagged with the module instance's name. */
    void (*log)(inlet_module_ctx *mod, inlet_log_level level, const char *fmt, ...)
        INLET_PRINTF(3, 4);
    int (*log_enabled)(inlet_module_ctx *mod, inlet_log_level level);

    /*
     * Authentication. On INLET_OK *out holds a new reference the caller releases. Otherwise
     * *out is NULL and msg (if not NULL) says why, for logs only: never echo it to a device
     * beyond "invalid token".
     */
    inlet_status (*auth_bearer)(const char *token, size_t token_len, inlet_identity **out,
                                char *msg, size_t msg_len);
    /* chain[0] is the leaf, DER-encoded; the tenant is the one whose CA verifies the chain. */
    inlet_status (*auth_cert_chain)(const uint8_t *const *chain, const size_t *chain_len, size_t n,
                                    inlet_identity **out, char *msg, size_t msg_len);
    void (*identity_ref)(const inlet_identity *id);
    void (*identity_release)(const inlet_identity *id);
    /* May this identity send schema@version? INLET_OK or INLET_E_FORBIDDEN/UNKNOWN_SCHEMA. */
    inlet_status (*authorize)(const inlet_identity *id, const char *schema, const char *version,
                              char *msg, size_t msg_len);

    /*
     * Submit events. INLET_OK: the events were validated, authorized and handed to Kafka; one
     * completion will be delivered on req->queue. Anything else: nothing was produced, no
     * completion follows, and *rej (if rej is not NULL) receives a rejection the caller frees
     * with rejection_free().
     */
    inlet_status (*submit)(inlet_module_ctx *mod, const inlet_request *req, inlet_rejection **rej);
    void (*rejection_free)(inlet_rejection *rej);

    /*
     * Completion queues deliver results back on the module's own thread. queue_fd() becomes
     * readable when completions are waiting; queue_drain() (call it from the thread that owns
     * the queue) invokes fn for up to max completions (0 = all) and returns how many it ran.
     * queue_pending() counts submissions not yet completed. queue_free() requires pending == 0.
     */
    inlet_queue *(*queue_new)(inlet_module_ctx *mod, char *err, size_t err_len);
    int (*queue_fd)(inlet_queue *q);
    size_t (*queue_drain)(inlet_queue *q, inlet_completion_fn fn, void *ctx, size_t max);
    size_t (*queue_pending)(inlet_queue *q);
    void (*queue_free)(inlet_queue *q);

    /* Health: 1 when Kafka answered metadata recently. Cheap; reads a flag. */
    int (*kafka_ready)(void);
    /* Seconds a refused device should wait before retrying (Retry-After). */
    int (*retry_after_s)(void);

    /*
     * Metrics: a counter or gauge handle, created once (e.g. in create()), then updated with
     * atomic adds. labels is Prometheus label text such as `code="200"` or NULL.
     */
    inlet_metric *(*metric_counter)(const char *name, const char *help, const char *labels);
    inlet_metric *(*metric_gauge)(const char *name, const char *help, const char *labels);
    void (*metric_add)(inlet_metric *m, int64_t delta);
    /* Prometheus text exposition of every metric; returns a malloc'd string the caller frees. */
    char *(*metrics_render)(size_t *len);

    /* Wall clock in microseconds since the epoch. */
    int64_t (*now_us)(void);

    /* ABI 1.1. An identity for device_id of tenant without a credential, for modules whose
     * devices were authenticated by a trusted upstream (the MQTT bridge). The tenant must exist
     * and the device id must be valid; ACLs apply as for any identity. Same ownership as
     * auth_bearer. */
    inlet_status (*identity_for_device)(const char *tenant, const char *device_id,
                                        inlet_identity **out, char *msg, size_t msg_len);

    /* ABI 1.2. A stable lowercase word for a status ("ok", "forbidden", "unavailable", ...),
     * the same the core uses in its metrics labels. Never NULL. */
    const char *(*status_name)(inlet_status status);

    /* ABI 1.3. The content type the core decodes a CoAP Content-Format number (RFC 7252
     * §12.3) as, e.g. 112 → "application/senml+cbor"; NULL if the core has no decoder for it.
     * The string is static. */
    const char *(*content_type_for_coap)(unsigned content_format);
    /* ABI 1.3. 1 if the core decodes this content type (parameters ignored), else 0: lets a
     * module answer "unsupported media type" before it reads a large body. Whether a given
     * schema accepts the format is decided at submit (INLET_E_MEDIA_TYPE). */
    int (*content_type_supported)(const char *content_type);

    /* ABI 1.4. DTLS-PSK: the key and the identity for a PSK identity "<device>@<tenant>". On
     * INLET_OK key (key_cap bytes) holds *key_len bytes and *out a new identity reference (method
     * INLET_AUTH_PSK). Synchronous and served from memory (the DTLS handshake callback calls it).
     */
    inlet_status (*auth_psk)(const char *psk_identity, size_t len, uint8_t *key, size_t key_cap,
                             size_t *key_len, inlet_identity **out, char *msg, size_t msg_len);
    /* ABI 1.4. The device a tracker's IMEI (15 digits) belongs to, in whichever tenant declares it;
     * INLET_E_UNAUTHENTICATED if none. Same ownership as auth_bearer. The IMEI is an identifier,
     * not a secret: a listener that needs more requires mTLS. */
    inlet_status (*identity_for_imei)(const char *imei, size_t len, inlet_identity **out, char *msg,
                                      size_t msg_len);
    /* ABI 1.4. When this identity's credential stops being valid (a JWT's exp, a client
     * certificate's notAfter), wall clock microseconds; 0 = no expiry. A long-lived connection ends
     * then. */
    int64_t (*identity_expires_at)(const inlet_identity *id);

    /* ABI 1.5. The instance's name: the conf.d file's "name:" or, without one, the file's base
     * name without ".yaml" ("http", "mqtt-tls"). Static for the instance's lifetime. */
    const char *(*instance_name)(inlet_module_ctx *mod);
    /* ABI 1.5. Like metric_counter/metric_gauge, with the label module="<instance name>" added
     * first, so two instances of one module keep separate series. labels may be NULL. */
    inlet_metric *(*metric_counter_for)(inlet_module_ctx *mod, const char *name, const char *help,
                                        const char *labels);
    inlet_metric *(*metric_gauge_for)(inlet_module_ctx *mod, const char *name, const char *help,
                                      const char *labels);
    /* ABI 1.5. Per-tenant and per-device connection quotas (tenant files' limits). Call
     * connection_open() once a long-lived connection or session has authenticated: INLET_OK
     * counts it, INLET_E_QUOTA refuses it (MQTT 5 CONNACK 0x97, close, CoAP 4.29) and counts
     * nothing. Every INLET_OK is paired with exactly one connection_close() for the same
     * identity. Thread-safe. */
    inlet_status (*connection_open)(inlet_module_ctx *mod, const inlet_identity *id, char *msg,
                                    size_t msg_len);
    void (*connection_close)(inlet_module_ctx *mod, const inlet_identity *id);
    /* ABI 1.5. Reports a refusal the module decided itself, before or outside submit() (a failed
     * authentication, a malformed frame, a quota): logged at info (rate-limited per tenant and
     * reason) and kept in the admin listener's recent-refusals list. Refusals from submit() are
     * recorded by the core already. Every argument but mod may be NULL; strings are copied. */
    void (*refusal)(inlet_module_ctx *mod, inlet_status status, const char *peer,
                    const inlet_identity *id, const char *detail);
    /* ABI 1.5. A resource the core serves on the admin listener (docs/CONSOLE.md): "/refusals"
     * (the recent refusals, JSON), "/console" (the live console page), "/console/data" (what the
     * console polls, JSON). path has no query string. Returns the HTTP status: 200 with *body a
     * malloc'd body of *len bytes the caller frees and *content_type a static string, or 404
     * (nothing allocated) for a path the core does not serve. */
    int (*admin_resource)(const char *path, size_t path_len, char **body, size_t *len,
                          const char **content_type);
} inlet_host;

/* Does this core have host function member (a newer minor's function, from a module that also
 * runs on older cores)? INLET_HOST_HAS(host, refusal). */
#define INLET_HOST_HAS(host, member)                                                               \
    ((host)->size >= offsetof(inlet_host, member) + sizeof((host)->member) &&                      \
     (host)->member != NULL)

/*
 * The module descriptor. Lifecycle, all calls from the core's main thread:
 *   create()          parse-time checks, allocate state; no sockets yet
 *   start()           bind listeners, start the module's I/O threads
 *   stop_accepting()  SIGTERM: close listeners, keep answering what is in flight
 *   stop()            after the core drained Kafka (bounded): deliver the remaining completions,
 *                     close connections, join threads
 *   destroy()         free state
 */
typedef struct inlet_module_desc {
    uint32_t abi_major;  /* INLET_ABI_MAJOR */
    uint32_t abi_minor;  /* INLET_ABI_MINOR */
    uint32_t size;       /* sizeof(inlet_module_desc) */
    const char *name;    /* the word conf.d files use in "module: <name>" */
    const char *version; /* the module's own version */
    const char *description;

    const inlet_option *options; /* the module's configuration table */
    size_t config_size;          /* sizeof the struct the table fills */

    /* config is owned by the core and stays valid until destroy() returns. */
    int (*create)(const inlet_host *host, inlet_module_ctx *mod, const void *config, void **state,
                  char *err, size_t err_len);
    int (*start)(void *state, char *err, size_t err_len);
    void (*stop_accepting)(void *state);
    void (*stop)(void *state);
    void (*destroy)(void *state);

    /* ABI 1.5: per-option validation hooks, terminated by an entry whose key is NULL; NULL =
     * none. See inlet_option_check in options.h. */
    const inlet_option_check *option_checks;
    void *reserved[7]; /* zero */
} inlet_module_desc;

/* ABI 1.5: a descriptor of this header's ABI with the fields every module sets, positionally (C
 * and C++): static const inlet_module_desc desc = INLET_MODULE_DESC("udp_json", "1.0.0", "...",
 * options, sizeof(my_config), create, start, stop_accepting, stop, destroy); option_checks and
 * the reserved fields are zero (set .option_checks with designated initializers instead). */
#define INLET_MODULE_DESC(name, version, description, options, config_size, create, start,         \
                          stop_accepting, stop, destroy)                                           \
    {                                                                                              \
        INLET_ABI_MAJOR, INLET_ABI_MINOR, sizeof(inlet_module_desc), name, version, description,   \
            options, config_size, create, start, stop_accepting, stop, destroy, NULL,              \
        {                                                                                          \
            NULL                                                                                   \
        }                                                                                          \
    }

/* The symbol the loader looks up, and its type. */
#define INLET_MODULE_ENTRY_SYMBOL "inlet_module_entry"
typedef const inlet_module_desc *(*inlet_module_entry_fn)(void);

/* Every module defines exactly this function, with C linkage also when built as C++. */
#ifdef __cplusplus
#define INLET_ENTRY_LINKAGE extern "C"
#else
#define INLET_ENTRY_LINKAGE
#endif
#define INLET_MODULE_DEFINE(desc_var)                                                              \
    INLET_ENTRY_LINKAGE INLET_EXPORT const inlet_module_desc *inlet_module_entry(void);            \
    INLET_ENTRY_LINKAGE INLET_EXPORT const inlet_module_desc *inlet_module_entry(void)             \
    {                                                                                              \
        return &(desc_var);                                                                        \
    }

#ifdef __cplusplus
}
#endif

#endif /* INLET_MODULE_H */
