/*
 * mqtt.h - internal declarations shared by the files of the MQTT listener module. Not an ABI.
 *
 * Threading: the module runs `threads` event loops (struct mqtt_loop), each on its own pthread
 * with its own epoll instance, SO_REUSEPORT listening sockets, completion queue, timer wheel,
 * connections and sessions. Everything reachable from a loop is touched only by that loop's
 * thread, except the fields marked "any thread".
 *
 * Session affinity: a session (tenant, client id) lives on exactly one loop, chosen by hashing
 * its key. A connection is accepted by whichever loop the kernel picks; once its CONNECT is
 * authenticated it is handed to the session's loop (struct mqtt_connect_info travels with it)
 * before anything else happens on it. So a takeover, a duplicate check or a completion never
 * needs a lock: the session, its connection and its completions share one thread.
 *
 * Memory per idle plaintext connection: one mqtt_conn (no buffers: input is read into the
 * loop's buffer and only an incomplete packet is kept, in a buffer of exactly its size), one
 * mqtt_session, and the core's identity.
 */
#ifndef INLET_MQTT_H
#define INLET_MQTT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "codec.h"
#include "../support/support.h"
#include "inlet/module.h"

/* ---- configuration (filled by the core from the option tables in module.c) ---- */

enum mqtt_form { MQTT_FORM_PAYLOAD, MQTT_FORM_EVENTS };

typedef struct mqtt_listener_config {
    char *address;                           /* "host:port", "[v6]:port", ":port" */
    inlet_support_tls_config tls;            /* cert NULL: the listener is plaintext */
    inlet_support_conn_limits_config limits; /* max_connections, max_connections_per_ip */
} mqtt_listener_config;

typedef struct mqtt_mapping_config {
    char *tenant;       /* NULL: every tenant */
    char *topic;        /* pattern: literal levels, +, # (last), {device}, {schema}, {version} */
    int form;           /* enum mqtt_form */
    char *schema;       /* fixed schema name (instead of {schema}) */
    char *version;      /* fixed schema version (instead of {version}) */
    char *content_type; /* the payload's format when the PUBLISH names none (MQTT 3.1.1) */
} mqtt_mapping_config;

typedef struct mqtt_config {
    int64_t threads;
    uint64_t max_packet_size;
    uint64_t max_connect_size;
    int64_t receive_maximum;
    int64_t max_inflight_per_thread;
    int64_t topic_aliases;
    int64_t max_keep_alive_ms;
    int64_t connect_timeout_ms;
    int64_t max_session_expiry_ms;
    uint64_t max_output_buffer;
    int64_t shutdown_timeout_ms;
    inlet_section_list listeners; /* of mqtt_listener_config */
    inlet_section_list mappings;  /* of mqtt_mapping_config; empty: the defaults */
} mqtt_config;

/* ---- small building blocks ---- */

/* Intrusive circular doubly-linked list; an unlinked node points at itself. */
typedef struct mqtt_list {
    struct mqtt_list *prev, *next;
} mqtt_list;

static inline void mqtt_list_init(mqtt_list *l)
{
    l->prev = l->next = l;
}
static inline bool mqtt_list_empty(const mqtt_list *l)
{
    return l->next == l;
}
static inline bool mqtt_list_linked(const mqtt_list *n)
{
    return n->next != n;
}
static inline void mqtt_list_unlink(mqtt_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
/* Insert n before anchor, i.e. at the tail of the list anchored there. */
static inline void mqtt_list_push(mqtt_list *anchor, mqtt_list *n)
{
    n->prev = anchor->prev;
    n->next = anchor;
    anchor->prev->next = n;
    anchor->prev = n;
}

#define MQTT_CONTAINER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

typedef struct mqtt_loop mqtt_loop;
typedef struct mqtt_module mqtt_module;
typedef struct mqtt_conn mqtt_conn;
typedef struct mqtt_session mqtt_session;

/* timer.c: a hashed wheel with one-second slots. Deadlines are in the loop's monotonic seconds;
 * a timer beyond the wheel's span waits in its slot for another turn. Arming and disarming are
 * O(1), so a connection re-arms on every packet without a system call. */
#define MQTT_WHEEL_SLOTS 512u

typedef struct mqtt_timer mqtt_timer;
typedef void (*mqtt_timer_fn)(mqtt_loop *loop, mqtt_timer *t);

struct mqtt_timer {
    mqtt_list link;
    uint32_t deadline; /* loop seconds */
    mqtt_timer_fn fn;
};

typedef struct mqtt_wheel {
    mqtt_list slots[MQTT_WHEEL_SLOTS];
    uint32_t now; /* every slot up to now has been run */
    size_t count;
} mqtt_wheel;

void mqtt_wheel_init(mqtt_wheel *w, uint32_t now);
void mqtt_timer_init(mqtt_timer *t, mqtt_timer_fn fn);
void mqtt_timer_arm(mqtt_wheel *w, mqtt_timer *t, uint32_t deadline);
void mqtt_timer_disarm(mqtt_wheel *w, mqtt_timer *t);
static inline bool mqtt_timer_armed(const mqtt_timer *t)
{
    return mqtt_list_linked(&t->link);
}
/* Runs every timer due at or before now; a callback may arm or disarm any timer. */
void mqtt_wheel_advance(mqtt_loop *loop, mqtt_wheel *w, uint32_t now);

/* ---- topic mapping (mapping.c) ---- */

typedef struct mqtt_pattern mqtt_pattern;
typedef struct mqtt_mappings {
    mqtt_pattern *patterns;
    size_t count;
} mqtt_mappings;

/* Where one PUBLISH goes: the body form and, for FORM_PAYLOAD, the schema. The strings point
 * into the mapping table or into `scratch` given to mqtt_mapping_route(). */
typedef struct mqtt_route {
    int form; /* enum mqtt_form */
    const char *schema;
    const char *version;
    const char *content_type; /* the mapping's, NULL: JSON unless the PUBLISH says otherwise */
} mqtt_route;

int mqtt_mappings_compile(mqtt_mappings *m, const inlet_section_list *cfg, char *err,
                          size_t err_len);
void mqtt_mappings_free(mqtt_mappings *m);
/*
 * Map a topic name (already valid UTF-8 without wildcards) of a device onto a route.
 * INLET_OK: *out is filled (strings valid while scratch and the table live).
 * INLET_E_FORBIDDEN: a pattern matched but its {device} level names another device.
 * INLET_E_UNKNOWN_SCHEMA: no pattern of the device's tenant matches (MQTT 5: 0x90).
 * scratch must hold at least topic_len + 2 bytes.
 */
inlet_status mqtt_mapping_route(const mqtt_mappings *m, const inlet_identity *id,
                                const uint8_t *topic, size_t topic_len, char *scratch,
                                mqtt_route *out);

/* ---- runtime objects ---- */

/* One configured listener (support.h); its cfg is an mqtt_listener_config. */
typedef inlet_support_listener mqtt_listener;

/* What epoll's data.ptr points at: the first member of every watched object. */
enum mqtt_poll_kind { MQTT_POLL_CONN = 1, MQTT_POLL_LISTENER, MQTT_POLL_CONTROL, MQTT_POLL_QUEUE };
typedef struct mqtt_poll {
    uint8_t kind;
} mqtt_poll;

/* A listener's socket on one loop. */
typedef struct mqtt_loop_listener {
    inlet_support_loop_listener base; /* first: loop, listener, fd */
    mqtt_poll poll;
} mqtt_loop_listener;

/* ---- sessions (session.c) ---- */

/* State of one packet identifier of a session (MQTT 5.0 §4.3, 3.1.1 §4.3). */
enum mqtt_id_state {
    MQTT_ID_FREE = 0,
    MQTT_ID_QOS1_KAFKA,  /* QoS 1 submitted, waiting for Kafka: a DUP is not resubmitted */
    MQTT_ID_QOS1_ACKED,  /* Kafka acked while no connection could be told: PUBACK the DUP */
    MQTT_ID_QOS2_KAFKA,  /* QoS 2 submitted, waiting for Kafka */
    MQTT_ID_QOS2_STORED, /* Kafka acked: PUBREC (again, for a DUP) until PUBREL */
};

typedef struct mqtt_id_entry {
    uint16_t id; /* 0: empty slot */
    uint8_t state;
    uint8_t pad;
    uint32_t age;   /* insertion order, for evicting the oldest unclaimed entry */
    uint64_t claim; /* generation of the connection that owes the client an answer, 0: none */
} mqtt_id_entry;

/* Open-addressing table of a session's packet identifiers; NULL slots until first use, kept
 * while a connection uses it and freed when the session is detached empty (mqtt_ids_trim), so
 * a session without a connection costs nothing here. count <= receive_maximum. */
typedef struct mqtt_ids {
    mqtt_id_entry *slots;
    uint32_t cap; /* power of two, or 0 */
    uint32_t count;
    uint32_t next_age;
} mqtt_ids;

mqtt_id_entry *mqtt_ids_find(mqtt_ids *t, uint16_t id);
/* Add id (must not be present); NULL when out of memory. */
mqtt_id_entry *mqtt_ids_add(mqtt_ids *t, uint16_t id);
void mqtt_ids_remove(mqtt_ids *t, mqtt_id_entry *e);
/* Free the table if it is empty. */
void mqtt_ids_trim(mqtt_ids *t);
/* Forget the oldest entry nobody is waiting on (state ACKED or STORED, not claimed by the
 * connection `gen`); false if there is none. */
bool mqtt_ids_evict_unclaimed(mqtt_ids *t, uint64_t gen);
void mqtt_ids_free(mqtt_ids *t);

struct mqtt_session {
    mqtt_session *hnext; /* hash chain in loop->sessions */
    mqtt_timer expiry;   /* armed while detached and persistent */
    mqtt_conn *conn;     /* the attached connection, or NULL */
    mqtt_ids ids;
    uint64_t hash;
    uint32_t refs;     /* registry + attached connection + submissions in flight */
    uint32_t expiry_s; /* session expiry interval in seconds (capped); 0 ends with the conn */
    bool in_registry;
    uint16_t key_len;    /* tenant '\0' client id */
    uint16_t device_off; /* the device id follows the key, NUL-terminated */
    char key[];          /* tenant '\0' client_id '\0' device_id '\0' */
};

static inline const char *mqtt_session_client_id(const mqtt_session *s)
{
    return s->key + strlen(s->key) + 1;
}
static inline const char *mqtt_session_device(const mqtt_session *s)
{
    return s->key + s->device_off;
}

/* Hash of a session key (tenant, client id); equal on every loop. */
uint64_t mqtt_session_hash(const mqtt_module *m, const char *tenant, const uint8_t *client_id,
                           size_t client_id_len);
mqtt_session *mqtt_session_find(mqtt_loop *loop, uint64_t hash, const char *tenant,
                                const char *client_id, size_t client_id_len);
/* A new session in the registry with one reference (the registry's). */
mqtt_session *mqtt_session_create(mqtt_loop *loop, uint64_t hash, const char *tenant,
                                  const char *client_id, size_t client_id_len,
                                  const char *device_id);
/* Take it out of the registry (a clean start replaced it, or it expired). */
void mqtt_session_forget(mqtt_loop *loop, mqtt_session *s);
void mqtt_session_ref(mqtt_session *s);
void mqtt_session_unref(mqtt_loop *loop, mqtt_session *s);
/* The attached connection went away: keep the session for its expiry interval, or forget it. */
void mqtt_session_detach(mqtt_loop *loop, mqtt_session *s);
void mqtt_sessions_free_all(mqtt_loop *loop);

/* ---- connections (conn.c, connect.c, packet.c, publish.c) ---- */

enum mqtt_conn_state {
    MQTT_CONN_TLS_HANDSHAKE = 1, /* TLS listener, handshake not finished */
    MQTT_CONN_AWAIT_CONNECT,     /* nothing but a CONNECT is accepted */
    MQTT_CONN_MIGRATING,         /* authenticated, travelling to its session's loop */
    MQTT_CONN_CONNECTED,
    MQTT_CONN_CLOSING, /* final bytes queued; input is read and dropped until EOF or timeout */
    MQTT_CONN_CLOSED,  /* freed at the end of the loop iteration */
};

/* What a CONNECT decided, kept from authentication until the session is attached (possibly on
 * another loop). Owned by the connection. */
typedef struct mqtt_connect_info {
    uint64_t hash;
    bool clean_start;
    bool assigned_id;          /* MQTT 5 Assigned Client Identifier goes into CONNACK */
    bool server_keep_alive;    /* MQTT 5 Server Keep Alive goes into CONNACK */
    bool expiry_capped;        /* MQTT 5 Session Expiry Interval goes into CONNACK */
    bool expiry_asked_zero;    /* CONNECT asked for no expiry (MQTT 5.0 §3.14.2.2.2) */
    uint16_t keep_alive;       /* seconds the client must keep to (0: max_keep_alive applies) */
    uint32_t session_expiry_s; /* capped */
    uint16_t client_id_len;
    char client_id[]; /* NUL-terminated */
} mqtt_connect_info;

/* Why a connection ended; one counter each. */
enum mqtt_close_reason {
    MQTT_CLOSE_CLIENT_DISCONNECT = 0, /* DISCONNECT from the client */
    MQTT_CLOSE_EOF,                   /* the peer closed or reset the socket */
    MQTT_CLOSE_IO_ERROR,
    MQTT_CLOSE_TLS_ERROR,
    MQTT_CLOSE_CONNECT_TIMEOUT,
    MQTT_CLOSE_KEEP_ALIVE,
    MQTT_CLOSE_NOT_CONNECT, /* first packet not CONNECT, or a CONNECT that was refused */
    MQTT_CLOSE_PROTOCOL,    /* malformed packet or protocol error */
    MQTT_CLOSE_TOO_LARGE,
    MQTT_CLOSE_RECEIVE_MAXIMUM,
    MQTT_CLOSE_TAKEN_OVER,
    MQTT_CLOSE_REJECTED_V3, /* a refused 3.1.1 publish: no reason code, so the connection goes */
    MQTT_CLOSE_SLOW_READER, /* the output bound was exceeded */
    MQTT_CLOSE_SHUTDOWN,
    MQTT_CLOSE_INTERNAL,
    MQTT_CLOSE_CREDENTIAL_EXPIRED, /* the JWT's exp or the certificate's notAfter passed */
    MQTT_CLOSE_CREDENTIAL_REVOKED, /* a reload no longer accepts the credential */
    MQTT_CLOSE_REASONS
};

struct mqtt_conn {
    mqtt_poll poll;
    uint8_t state;         /* enum mqtt_conn_state */
    uint8_t version;       /* MQTT_V311 or MQTT_V5 once CONNECT was read */
    bool want_read;        /* input may be waiting in the socket or in `in` */
    bool want_write;       /* the socket was full: wait for EPOLLOUT */
    bool read_wants_write; /* TLS: SSL_read needs the socket writable */
    bool peer_closed;      /* epoll saw RDHUP/HUP/ERR: read to the end, EOF comes no new edge */
    bool eof;              /* read() returned 0: nothing more will come */
    bool in_ready;         /* linked in loop->ready (else ready_link is free) */
    bool in_flush;         /* linked in loop->flush */
    bool problem_info;     /* MQTT 5 Request Problem Information (default 1) */
    bool draining;         /* the core is shutting down: no more input, close when answered */
    bool expiry_zero;      /* CONNECT's Session Expiry Interval was 0 */
    uint8_t close_reason;
    int fd;
    char peer[64]; /* "ip:port" of the device, for inlet_request.peer and host->refusal() */

    mqtt_list link;       /* loop->conns */
    mqtt_list ready_link; /* loop->ready / loop->stalled; the inbox while migrating */
    mqtt_list flush_link; /* loop->flush: output waiting to be written */
    mqtt_timer timer;     /* connect timeout, keep alive, linger */
    mqtt_timer cred;      /* armed while connected: the credential's expiry */

    mqtt_loop *loop;
    const mqtt_listener *listener;
    inlet_support_conn_ticket ticket; /* the listener's connection count, released when freed */
    SSL *ssl;                         /* TLS listeners only */
    const inlet_identity *identity;   /* owned reference once authenticated */
    bool quota_counted;               /* host->connection_open() admitted it: close once */
    mqtt_session *session;            /* once attached (holds a reference) */
    mqtt_connect_info *info;          /* between authentication and attach */
    char **aliases;                   /* MQTT 5 topic aliases, allocated on first use */

    uint8_t *in; /* unprocessed input: an incomplete packet, or what a pause left */
    uint32_t in_len, in_cap;
    uint8_t *out; /* output not yet written */
    uint32_t out_off, out_len, out_cap;

    uint64_t gen;            /* unique per loop, set when attached; claims packet ids */
    uint32_t last_packet_s;  /* loop seconds of the last complete packet */
    uint32_t keep_alive_s;   /* idle limit enforced (1.5 x keep alive), 0: none */
    uint32_t max_out_packet; /* the client's Maximum Packet Size (0: none) */
    uint32_t kafka_inflight; /* this connection's submissions awaiting Kafka */
    uint32_t quota_used;     /* QoS 1/2 publishes not yet answered (Receive Maximum) */
};

/* A submission in flight: what a completion needs to find its session and packet id. */
typedef struct mqtt_pending {
    mqtt_session *session; /* holds a reference */
    uint64_t conn_gen;     /* the connection that submitted it */
    uint16_t packet_id;
    uint8_t qos;
} mqtt_pending;

/* Besides the support library's STOP_ACCEPTING and STOP: connections wait in the inbox. */
enum mqtt_loop_command { MQTT_CMD_INBOX = INLET_SUPPORT_LOOP_CMD_USER };

struct mqtt_loop {
    inlet_support_loop base; /* first: index, thread, listening sockets, queue, commands */
    mqtt_module *m;
    int epfd;

    inlet_support_acceptor acceptor;

    mqtt_poll queue_poll;
    mqtt_poll control_poll;
    bool draining; /* stop_accepting() seen */

    pthread_mutex_t inbox_mu; /* any thread: connections handed over by other loops */
    mqtt_list inbox;
    bool inbox_closed; /* under inbox_mu: the loop is gone, keep your connection */

    mqtt_wheel wheel;
    uint32_t now_s; /* monotonic seconds, refreshed once per iteration */

    mqtt_list conns;   /* every connection of this loop */
    mqtt_list ready;   /* connections to read from in this iteration */
    mqtt_list stalled; /* connections waiting for loop-wide in-flight room */
    mqtt_list flush;   /* connections with output to write */
    mqtt_list closed;  /* closed connections, freed after the iteration */
    size_t n_conns;
    uint64_t next_gen;

    mqtt_session **sessions; /* hash buckets */
    size_t session_buckets;
    size_t n_sessions;

    size_t inflight;   /* submissions awaiting completion (all connections) */
    uint8_t *free_out; /* recycled MQTT_OUT_SMALL output buffers, linked through their start */
    size_t n_free_out;

    uint8_t *rbuf; /* shared read buffer, MQTT_READ_CHUNK bytes */
    char *scratch; /* per-publish strings: content type, header names, route parts */
    size_t scratch_cap;
    inlet_header *headers; /* MQTT_MAX_USER_PROPERTIES entries */
    uint64_t rng;          /* xorshift state for assigned client identifiers */
};

/* Per-reason counters, created once in module.c. */
enum { MQTT_CONNACK_SLOTS = 10, MQTT_ACK_SLOTS = 9 };

typedef struct mqtt_metrics {
    inlet_metric *connections;       /* gauge: open sockets */
    inlet_metric *connections_total; /* counter: accepted sockets */
    inlet_metric *refused_listener;  /* counter: closed at accept, listener full */
    inlet_metric *refused_address;   /* counter: closed at accept, source address full */
    inlet_metric *sessions;          /* gauge */
    inlet_metric *connects[MQTT_CONNACK_SLOTS];
    inlet_metric *publishes[3]; /* by QoS */
    inlet_metric *qos0_delivered;
    inlet_metric *qos0_dropped;
    inlet_metric *duplicates;
    inlet_metric *acks[MQTT_ACK_SLOTS]; /* PUBACK/PUBREC reason codes sent */
    inlet_metric *disconnects[MQTT_CLOSE_REASONS];
    inlet_metric *inflight; /* gauge: submissions awaiting Kafka */
    inlet_metric *paused;   /* counter: times a socket stopped being read for back-pressure */
} mqtt_metrics;

struct mqtt_module {
    inlet_support_loopset loopset; /* first (the descriptor's stop functions find it): loops */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const mqtt_config *cfg;

    mqtt_mappings mappings;
    uint64_t hash_seed;

    uint32_t max_keep_alive_s;
    uint32_t max_session_expiry_s;
    uint32_t connect_timeout_s;

    mqtt_metrics metrics;
};

/* Limits that are not worth a configuration key. */
#define MQTT_READ_CHUNK          65536u /* bytes read per recv() into the loop's buffer */
#define MQTT_READ_BUDGET         (4u * MQTT_READ_CHUNK) /* per connection per turn: fairness */
#define MQTT_MAX_CLIENT_ID       256u  /* bytes; MQTT requires at least 23 (5.0 §3.1.3.1) */
#define MQTT_MAX_TOKEN           8192u /* longest password passed to the core as a token */
#define MQTT_MAX_USER_PROPERTIES 64u   /* per PUBLISH; each becomes a Kafka header */
#define MQTT_LINGER_S            2u    /* after our last packet, wait this long for EOF */
#define MQTT_PENDING_CACHE       4096u /* idle mqtt_pending kept per loop */
#define MQTT_OUT_SMALL           256u  /* output buffer that holds a burst of acks */
#define MQTT_OUT_CACHE           1024u /* recycled small output buffers per loop */

/* module.c */
#define MQTT_LOG(m, level, ...) (m)->host->log((m)->mod, (level), __VA_ARGS__)
void mqtt_count_connack(mqtt_module *m, uint8_t reason);
void mqtt_count_ack(mqtt_module *m, uint8_t reason);

/* listener.c */
/* How the support library makes and runs the loops (start() gives it the module). */
extern const inlet_support_loop_spec mqtt_loop_spec;
static inline mqtt_loop *mqtt_loop_at(const mqtt_module *m, size_t i)
{
    return inlet_support_loop_at(&m->loopset, i);
}
static inline mqtt_loop_listener *mqtt_loop_listener_at(mqtt_loop *loop, size_t i)
{
    return inlet_support_loop_listener_at(&loop->base, i);
}
/* Hand an authenticated connection to another loop (it must be out of this loop's lists).
 * false: that loop has stopped; the caller still owns the connection. */
bool mqtt_loop_post(mqtt_loop *to, mqtt_conn *c);
/* Loop-wide back-pressure: true while submissions in flight reach max_inflight_per_thread. */
bool mqtt_loop_saturated(const mqtt_loop *loop);

/* tls.c */
/* How listeners' server contexts are made. */
extern const inlet_support_tls_setup mqtt_tls_setup;
/* Drive the handshake: 1 done, 0 in progress (wait for I/O), -1 failed. */
int mqtt_tls_handshake(mqtt_conn *c);
/* Authenticate by the client certificate. INLET_OK with *out, INLET_E_UNAUTHENTICATED if a
 * certificate was presented but no tenant accepts it, and *out == NULL with INLET_OK when there
 * is no certificate to consider. */
inlet_status mqtt_tls_client_identity(mqtt_module *m, mqtt_conn *c, inlet_identity **out);

/* conn.c */
/* fd was admitted by the listener's limits with ticket, which the connection now owns (also
 * when this fails: the ticket is then released). */
void mqtt_conn_accept(mqtt_loop *loop, const mqtt_listener *l, int fd,
                      const inlet_support_conn_ticket *ticket);
/* epoll said readable/writable/hang-up. */
void mqtt_conn_on_event(mqtt_conn *c, uint32_t events);
/* Read and process what is waiting, within the per-turn budget. */
void mqtt_conn_read(mqtt_conn *c);
/* Queue a packet for the client; written at the end of the loop iteration. Returns false if
 * the connection had to be closed instead (output bound exceeded). */
bool mqtt_conn_send(mqtt_conn *c, const uint8_t *data, size_t len);
/* Room for a packet of up to len bytes at the end of the output; commit with _commit. */
uint8_t *mqtt_conn_out_reserve(mqtt_conn *c, size_t len);
void mqtt_conn_out_commit(mqtt_conn *c, size_t len);
/* Write queued output now (end of an iteration). */
void mqtt_conn_flush(mqtt_conn *c);
/* End the connection: MQTT 5 gets DISCONNECT(reason) first when reason >= 0x80 or it is
 * MQTT_RC_SERVER_SHUTTING_DOWN / SESSION_TAKEN_OVER; then a lingering close. */
void mqtt_conn_close(mqtt_conn *c, uint8_t v5_reason, const char *reason_string,
                     enum mqtt_close_reason why);
/* Drop the connection at once (no more output). */
void mqtt_conn_abort(mqtt_conn *c, enum mqtt_close_reason why);
void mqtt_conn_free(mqtt_conn *c);
/* Give the loop's recycled output buffers back (loop teardown). */
/* io_read/io_write results besides a byte count: wait for the socket (EAGAIN), wait for it to
 * become readable although we were writing (TLS only), or give up. */
enum {
    IO_AGAIN = INLET_SUPPORT_IO_AGAIN,
    IO_ERROR = INLET_SUPPORT_IO_ERROR,
    IO_AGAIN_READ = INLET_SUPPORT_IO_AGAIN_READ
};
/* Give the connection's output buffer back to the loop's cache (conn_output.c). */
void mqtt_conn_out_release(mqtt_conn *c);
void mqtt_out_cache_free(mqtt_loop *loop);
/* May input be processed now? If not because of back-pressure, park the connection. */
bool mqtt_conn_can_process(mqtt_conn *c);
/* Back-pressure released for this connection: read again if input may be waiting. */
void mqtt_conn_wake(mqtt_conn *c);
/* A complete packet was received: the keep-alive clock restarts. */
void mqtt_conn_touch(mqtt_conn *c);
/* Once connected: arm c->cred for when the identity's credential expires (ABI 1.4
 * identity_expires_at; nothing on an older core or for credentials without an end). */
void mqtt_conn_arm_credential(mqtt_conn *c);
/* Has the identity's credential expired by now? */
bool mqtt_conn_credential_expired(const mqtt_conn *c);
/* The connection was attached on this loop: start its keep-alive clock and register it. */
int mqtt_conn_adopt(mqtt_loop *loop, mqtt_conn *c);
bool mqtt_conn_is_open(const mqtt_conn *c);

/* connect.c */
/* The first packet. Returns false when the connection was closed or moved to another loop. */
bool mqtt_connect_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body);
/* On the session's loop: attach the session, answer CONNACK. */
void mqtt_connect_attach(mqtt_loop *loop, mqtt_conn *c);
/* Owner loop of a session key hash. */
static inline size_t mqtt_owner_loop(const mqtt_module *m, uint64_t hash)
{
    return (size_t)(hash % m->loopset.n);
}

/* packet.c */
/* Any packet after CONNECT. Returns false when the connection was closed. */
bool mqtt_packet_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body);
/* Report a codec error the spec's way: DISCONNECT(reason) in MQTT 5, close in 3.1.1. */
void mqtt_packet_fail(mqtt_conn *c, const mqtt_error *e);

/* publish.c */
bool mqtt_publish_handle(mqtt_conn *c, const mqtt_fixed_header *h, const uint8_t *body);
bool mqtt_pubrel_handle(mqtt_conn *c, const mqtt_ack *a);
/* Completion callback for host->queue_drain(); ctx is the loop. */
void mqtt_publish_on_completion(void *ctx, const inlet_completion *c);
/* MQTT 5 reason code for a refused or failed publish. */
uint8_t mqtt_publish_reason(inlet_status st);

#endif
