/*
 * udp_json.c - an example Inlet module (docs/MODULES.md): JSON events over UDP.
 *
 * A datagram is a bearer token, a newline and a batch, as HTTP takes it:
 *
 *     <token>\n{"events":[{"use_case":"fleet.position","schema":"v1","payload":{...}}]}
 *
 * and the module answers each one once Kafka acknowledged every event ("OK <first event_id>")
 * or refused them ("ERR <status> <why>"). A worker thread (inlet/support.h) waits on the socket and
 * the completion queue; the sender's address travels with the submission as its opaque.
 *
 *     module: udp_json
 *     address: 127.0.0.1:5684
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inlet/module.h"
#include "inlet/support.h"

typedef struct udp_config {
    char *address;
    int64_t max_inflight;
} udp_config;

static const inlet_option udp_options[] = {
    INLET_OPT_STRING_ENTRY(udp_config, address, "address", "127.0.0.1:5684", 0,
                           "host:port to receive datagrams on."),
    INLET_OPT_INT_ENTRY(udp_config, max_inflight, "max_inflight", "1024", 1, 1000000,
                        "Datagrams waiting for Kafka at most; beyond, ERR unavailable."),
    INLET_OPTIONS_END,
};

typedef struct udp {
    inlet_support_worker *worker; /* first: for inlet_support_worker_module_stop*() */
    const inlet_host *host;
    inlet_module_ctx *mod;
    const udp_config *cfg;    /* the core's, valid until destroy() */
    int fd;                   /* the worker's once started */
    inlet_metric *answers[2]; /* [0] refused or failed, [1] acknowledged */
} udp;

/* Answer a datagram ("OK <detail>" or "ERR <status> <detail>") and free its sender's address,
 * the submission's opaque. Best effort: a device left without an answer resends. */
static void answer(udp *u, struct sockaddr_storage *to, inlet_status st, const char *detail)
{
    char text[600];
    snprintf(text, sizeof(text), "%s%s %s\n", st == INLET_OK ? "OK" : "ERR ",
             st == INLET_OK ? "" : u->host->status_name(st), detail);
    u->host->metric_add(u->answers[st == INLET_OK], 1);
    (void)sendto(u->fd, text, strlen(text), MSG_DONTWAIT, (struct sockaddr *)to, sizeof(*to));
    free(to);
}

/* Worker thread: Kafka acknowledged every event ("OK <first event_id>"), or failed them ("ERR
 * unavailable retry", also for possibly persisted: resend with the same event_id). */
static void on_completion(void *ctx, const inlet_completion *c)
{
    answer(ctx, c->opaque, c->status, c->status == INLET_OK ? c->events[0].event_id : "retry");
}

/* Worker thread: the socket is readable. */
static void on_readable(void *ctx)
{
    udp *u = ctx;
    char buf[65536], peer[INLET_SUPPORT_ADDR_MAX];
    struct sockaddr_storage *from = malloc(sizeof(*from));
    socklen_t from_len = sizeof(*from);
    ssize_t len = from ? recvfrom(u->fd, buf, sizeof(buf), 0, (void *)from, &from_len) : -1;
    if (len < 0)
        return free(from);
    inlet_identity *id = NULL;
    inlet_rejection *rej = NULL;
    inlet_status st = INLET_E_UNAUTHENTICATED;
    char *nl = memchr(buf, '\n', (size_t)len);
    inlet_support_addr_format((struct sockaddr *)from, peer, sizeof(peer));
    if (nl && u->host->auth_bearer(buf, (size_t)(nl - buf), &id, NULL, 0) == INLET_OK) {
        // clang-format off
        inlet_request req = {.size = sizeof(req), .identity = id, .form = INLET_FORM_BATCH,
                             .body = nl + 1, .body_len = (size_t)(buf + len - nl - 1),
                             .source = "udp", .queue = inlet_support_worker_queue(u->worker),
                             .opaque = from, .peer = peer};
        // clang-format on
        int busy = u->host->queue_pending(req.queue) >= (size_t)u->cfg->max_inflight;
        st = busy ? INLET_E_UNAVAILABLE : u->host->submit(u->mod, &req, &rej);
        u->host->identity_release(id);
    } else {
        u->host->refusal(u->mod, st, peer, NULL, "unknown token");
    }
    if (st == INLET_OK)
        return; /* on_completion() answers, and owns from */
    answer(u, from, st, rej ? rej->message : "");
    u->host->rejection_free(rej);
}

static int udp_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                      void **state, char *err, size_t err_len)
{
    udp *u = calloc(1, sizeof(*u));
    if (!u)
        return snprintf(err, err_len, "out of memory"), -1;
    *u = (udp){.host = host, .mod = mod, .cfg = config, .fd = -1};
    const char *name = "inlet_udp_datagrams_total", *help = "Datagrams answered.";
    u->answers[0] = host->metric_counter_for(mod, name, help, "result=\"error\"");
    u->answers[1] = host->metric_counter_for(mod, name, help, "result=\"ok\"");
    *state = u;
    return 0;
}

static int udp_start(void *state, char *err, size_t err_len)
{
    udp *u = state;
    if ((u->fd = inlet_support_udp_bind(u->cfg->address, NULL, 0, err, err_len)) < 0)
        return -1; /* the core calls destroy() only */
    u->worker = inlet_support_worker_start(u->host, u->mod, u->fd, on_readable, on_completion, u,
                                           err, err_len); /* takes fd, even when it fails */
    return u->worker ? 0 : -1;
}

static void udp_destroy(void *state) /* after stop(), or after a failed start() */
{
    inlet_support_worker_free(((udp *)state)->worker);
    free(state);
}

static const inlet_module_desc udp_json_desc = INLET_MODULE_DESC(
    "udp_json", "1.0.0", "JSON events over UDP, answered after the Kafka ack", udp_options,
    sizeof(udp_config), udp_create, udp_start, inlet_support_worker_module_stop_accepting,
    inlet_support_worker_module_stop, udp_destroy);

INLET_MODULE_DEFINE(udp_json_desc)
