/*
 * bridge.h - internal declarations shared by the files of the MQTT bridge module. Not part of any
 * ABI.
 *
 * The bridge drains existing MQTT brokers ("upstreams") into Kafka through the core. Each
 * upstream is a pool of one or more sessions: Eclipse Paho MQTTAsync clients with persistent
 * sessions; more than one only with a shared subscription (shared_group), so that the broker
 * hands each message to one session of the pool. Paho sends the PUBACK of a QoS 1 message as
 * soon as the messageArrived callback returns, whatever it returns (returning false only
 * re-queues the message inside Paho, in memory, after the PUBACK went out). So the callback
 * (deliver.c) returns only once Kafka acknowledged the message or the message was refused for
 * good; it never returns false.
 *
 * Paho runs the message callbacks of all clients of one copy of the library on one receive
 * thread, one at a time, under one global mutex: one message in flight per copy, however many
 * clients it has. So every session gets a Paho runtime of its own (supervisor.c): the linked
 * library for the first, a private copy of it loaded again for each other, with its own globals
 * and threads. A session without a runtime of its own shares the first one: slower, never
 * wrong.
 *
 * Threads:
 *   - Each runtime's receive thread runs the message callbacks of its clients, one at a time,
 *     holding that runtime's global mutex. It owns each of its sessions' completion queues: it
 *     submits and drains them itself.
 *   - Each runtime's send thread runs connect/subscribe/disconnect and their callbacks.
 *   - The supervisor thread (supervisor.c) makes every Paho API call of the module except those
 *     made from callbacks: connects with backoff, disconnects at stop_accepting(), destroys the
 *     clients at stop(). The core's thread never calls into Paho, so a Paho call that waits for
 *     a blocked callback can only delay the supervisor, which stop() joins with a bound.
 * Everything under "guarded by mu" is read and written with bridge_module.mu held; mu is never
 * held while calling into Paho (a runtime's mutex may be held when our callbacks take mu).
 */
#ifndef INLET_MQTT_BRIDGE_H
#define INLET_MQTT_BRIDGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <MQTTAsync.h>

#include "inlet/module.h"
#include "mapping.h"

/* ---- configuration (filled by the core from the option tables in module.c) ---- */

enum bridge_mqtt_version { BRIDGE_MQTT_311 = 0, BRIDGE_MQTT_5 = 1 };

typedef struct bridge_tls_config {
    char *ca_file; /* PEM bundle that verifies the broker; NULL: the system's trust store */
    char *ca_path; /* directory of hashed PEM CAs */
    char *cert;    /* PEM client certificate chain (mTLS) */
    char *key;     /* PEM private key of cert */
    bool verify;   /* verify the broker's certificate chain and host name */
} bridge_tls_config;

typedef struct bridge_mapping_config {
    char *pattern; /* "fleet/{tenant}/{device}/position" */
    char *tenant;  /* fixed values for what the pattern does not name */
    char *schema;
    char *version;
    int format; /* enum bridge_format */
} bridge_mapping_config;

typedef struct bridge_upstream_config {
    char *name; /* for logs and the upstream="" metric label; default: the client id */
    char *uri;  /* tcp://host:1883, ssl://host:8883 (also mqtt://, mqtts://) */
    char *client_id;
    int mqtt_version; /* enum bridge_mqtt_version */
    char *username;
    char *password;      /* secret */
    char *password_file; /* read at every connection attempt */
    bridge_tls_config tls;
    int64_t keepalive_ms;
    int64_t connect_timeout_ms;
    int64_t session_expiry_ms; /* MQTT 5 Session Expiry Interval */
    int64_t reconnect_min_ms;
    int64_t reconnect_max_ms;
    char *shared_group;           /* subscribe as $share/<group>/<filter> */
    int64_t sessions;             /* pool size; 0: BRIDGE_SESSIONS_SHARED if shared, else 1 */
    inlet_str_list subscriptions; /* filters; none: derived from the mapping patterns */
    char *tenant;                 /* fixed tenant of every mapping of this upstream */
    inlet_section_list mappings;  /* of bridge_mapping_config */
    bool ingest_retained;
    bool user_properties;    /* MQTT 5 user properties become Kafka headers */
    char *event_id_property; /* MQTT 5 user property holding the event id */
} bridge_upstream_config;

typedef struct bridge_config {
    inlet_section_list upstreams; /* of bridge_upstream_config */
    uint64_t max_payload_size;
    int64_t retry_min_ms; /* Kafka refused or failed a message: first retry after this */
    int64_t retry_max_ms;
    int64_t shutdown_timeout_ms;
} bridge_config;

/* ---- runtime ---- */

typedef struct bridge_module bridge_module;

typedef enum bridge_conn_state {
    BRIDGE_IDLE = 0,      /* not connected; the supervisor connects at next_attempt_ms */
    BRIDGE_CONNECTING,    /* MQTTAsync_connect() issued, no answer yet */
    BRIDGE_CONNECTED,     /* CONNACK received */
    BRIDGE_DISCONNECTING, /* stop_accepting(): DISCONNECT requested */
    BRIDGE_STOPPED,       /* closed for good */
} bridge_conn_state;

/* Why a message was acknowledged upstream without reaching Kafka. */
enum bridge_reject {
    BRIDGE_REJECT_UNMAPPED = 0,    /* no pattern matches, or a level is unusable */
    BRIDGE_REJECT_RETAINED,        /* a retained message and ingest_retained is off */
    BRIDGE_REJECT_TOO_LARGE,       /* over max_payload_size, or a batch over max_events */
    BRIDGE_REJECT_UNAUTHENTICATED, /* no such tenant, or the device id is not valid */
    BRIDGE_REJECT_FORBIDDEN,       /* the tenant's ACL, or a body device_id of another device */
    BRIDGE_REJECT_INVALID,         /* not JSON, or fails its schema */
    BRIDGE_REJECT_UNKNOWN_SCHEMA,  /* the schema or version is not loaded */
    BRIDGE_REJECT_INTERNAL,        /* inletd could not handle it (see the log) */
    BRIDGE_REJECT_SHUTDOWN,        /* a QoS 0 message Kafka had not taken when inletd stopped */
    BRIDGE_REJECTS
};

typedef struct bridge_metrics {
    inlet_metric *connected;        /* gauge: sessions connected */
    inlet_metric *sessions;         /* gauge: sessions in the pool */
    inlet_metric *connects;         /* successful connections (CONNACK accepted) */
    inlet_metric *connect_failures; /* attempts that failed */
    inlet_metric *connections_lost;
    inlet_metric *received[2]; /* by upstream QoS: 0, 1 */
    inlet_metric *redelivered; /* DUP flag set: the broker resent an unacknowledged message */
    inlet_metric *accepted;    /* Kafka acknowledged; the PUBACK follows */
    inlet_metric *rejected[BRIDGE_REJECTS];
    inlet_metric *kafka_retries; /* submissions retried because Kafka refused or failed */
} bridge_metrics;

/* One copy of the Paho library: its entry points, used for every call on its clients. */
typedef struct bridge_paho {
    int (*create)(MQTTAsync *client, const char *uri, const char *client_id, int persistence,
                  void *persistence_ctx, MQTTAsync_createOptions *options);
    int (*set_callbacks)(MQTTAsync client, void *context, MQTTAsync_connectionLost *cl,
                         MQTTAsync_messageArrived *ma, MQTTAsync_deliveryComplete *dc);
    int (*set_disconnected)(MQTTAsync client, void *context, MQTTAsync_disconnected *co);
    int (*connect)(MQTTAsync client, const MQTTAsync_connectOptions *options);
    int (*subscribe_many)(MQTTAsync client, int count, char *const *topics, const int *qos,
                          MQTTAsync_responseOptions *response);
    int (*disconnect)(MQTTAsync client, const MQTTAsync_disconnectOptions *options);
    void (*destroy)(MQTTAsync *client);
    void (*free_message)(MQTTAsync_message **msg);
    void (*free)(void *ptr);
    int (*properties_add)(MQTTProperties *props, const MQTTProperty *prop);
    void (*properties_free)(MQTTProperties *props);
    void (*global_init)(MQTTAsync_init_options *options);
    size_t users; /* sessions on it; guarded by the runtimes' own lock (supervisor.c) */
} bridge_paho;

/* Sessions of a shared upstream when `sessions` is not set; the most of any upstream. */
#define BRIDGE_SESSIONS_SHARED 64
#define BRIDGE_SESSIONS_MAX    256

typedef struct bridge_session bridge_session;

typedef struct bridge_upstream {
    bridge_module *m;
    const bridge_upstream_config *cfg;
    size_t index;
    char name[64];
    bool tls;
    bridge_mapping *mappings; /* cfg->mappings.count, compiled */
    size_t n_mappings;
    char **filters; /* as subscribed, with the $share/<group>/ prefix; owned */
    int *qos;       /* 1 for every filter */
    MQTTSubscribe_options *sub_opts;
    size_t n_filters;
    bridge_session *sessions; /* n_sessions, a slice of bridge_module.sessions */
    size_t n_sessions;
    bridge_metrics metrics;

    /* guarded by mu */
    int64_t reject_log_ms; /* last rejection logged, monotonic */
    unsigned reject_unlogged;
    size_t kafka_waiting; /* sessions retrying a message Kafka refused */
} bridge_upstream;

/* One client of an upstream: its own MQTT session on the broker, one message in flight. */
struct bridge_session {
    bridge_upstream *u;
    size_t index;      /* in the upstream's pool */
    char tag[96];      /* "<name>" for a pool of one, else "<name>[<index>]", for logs */
    char *client_id;   /* the configured one for index 0, "<client_id>-s<index>" after; owned */
    bridge_paho *paho; /* the runtime its client lives in; NULL until start() */
    MQTTAsync client;  /* NULL until start() */
    inlet_queue *queue;

    /* guarded by mu */
    bridge_conn_state state;
    int64_t next_attempt_ms; /* monotonic */
    int64_t backoff_ms;
    bool ever_connected;    /* a later new (not resumed) session means lost messages */
    bool subscribe_pending; /* SUBACK not yet received, or refused: retry at next_attempt_ms */
    bool parked;            /* the broker has no shared subscriptions: this one stays off */
    bool in_callback;       /* a message callback of this session is running */
    bool holding;           /* ... and holds a message it must never acknowledge */
};

struct bridge_module {
    const inlet_host *host;
    inlet_module_ctx *mod;
    const bridge_config *cfg;
    bridge_upstream *ups;
    size_t n_ups;
    bridge_session *sessions; /* of every upstream, in upstream order */
    size_t n_sessions;

    pthread_mutex_t mu;
    pthread_cond_t cond; /* any change of the fields below or of a session's state */
    pthread_t supervisor;
    bool supervisor_started;
    /* guarded by mu */
    bool draining;        /* stop_accepting(): disconnect, connect no more */
    bool stopping;        /* stop(): callbacks give up on Kafka */
    bool supervisor_exit; /* stop(): the supervisor destroys the clients and returns */
    bool clients_freed;   /* the supervisor destroyed every Paho client */
    bool abandoned;       /* a callback holds a message forever: state is never freed */
};

#define BRIDGE_LOG(m, level, ...) (m)->host->log((m)->mod, (level), __VA_ARGS__)

int64_t bridge_monotonic_ms(void);
/* Wait on m->cond (mu held) until the monotonic deadline; false once it passed. */
bool bridge_wait_until(bridge_module *m, int64_t deadline_ms);

/* upstream.c: the sessions' Paho clients, their callbacks, and the supervisor's actions */
/* Build subscription filters (from the configuration or the patterns). err gets "what: why". */
int bridge_upstream_prepare(bridge_upstream *u, char *err, size_t err_len);
/* Create s->client in s->paho. */
int bridge_session_create_client(bridge_session *s, char *err, size_t err_len);
void bridge_session_connect(bridge_session *s);
void bridge_session_subscribe(bridge_session *s);
void bridge_session_disconnect(bridge_session *s);
/* Everything an upstream owns (not the Paho clients once the supervisor destroyed them). */
void bridge_upstream_free(bridge_upstream *u);
void bridge_session_free(bridge_session *s);

/* supervisor.c: the supervisor thread and the module's lifecycle */
/* Create the Paho clients and start the supervisor, which connects in the background. */
int bridge_upstreams_start(bridge_module *m, char *err, size_t err_len);
/* Disconnect every upstream (bounded by shutdown_timeout); the persistent sessions stay. */
void bridge_upstreams_stop_accepting(bridge_module *m);
/* Let in-flight messages finish, destroy the clients, join the supervisor (bounded). */
void bridge_upstreams_stop(bridge_module *m);
void bridge_upstreams_free(bridge_module *m);

/* deliver.c */
/* Paho's MQTTAsync_messageArrived for every session (context: the bridge_session). */
int bridge_on_message(void *context, char *topic, int topic_len, MQTTAsync_message *msg);

#endif
