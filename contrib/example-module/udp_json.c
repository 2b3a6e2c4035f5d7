/*
 * udp_json.c - an example out-of-tree Inlet module: JSON events over UDP.
 *
 * A datagram is a bearer token, a newline, and a body in the HTTP batch form:
 *
 *     <token>\n{"events":[{"use_case":"fleet.position","schema":"v1","payload":{...}}]}
 *
 * The module answers the sender with one datagram once Kafka acknowledged every event
 * ("OK <n> <first event id>") or refused them ("ERR <status> <reason>"). It shows the whole
 * module API: a typed option table, its own I/O thread, authentication, submit(), and the
 * completion queue polled from the module's own loop, with the peer address as the opaque.
 * Build it with contrib/example-module/CMakeLists.txt against an installed inlet/module.h and
 * enable it with a conf.d file:
 *
 *     module: udp_json
 *     path: /usr/local/lib/inlet/udp_json.so
 *     address: 127.0.0.1:5684
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inlet/module.h"

#define MAX_DATAGRAM 65507

typedef struct udp_config {
    char *address;
    int64_t max_inflight;
} udp_config;

static const inlet_option udp_options[] = {
    {"address", INLET_OPT_STRING, offsetof(udp_config, address), "127.0.0.1:5684", 0, 0, NULL, NULL,
     0, 0, "IPv4 address and port to receive datagrams on."},
    {"max_inflight", INLET_OPT_INT, offsetof(udp_config, max_inflight), "1024", 1, 1000000, NULL,
     NULL, 0, 0, "Submissions waiting for Kafka at most; beyond it datagrams get ERR 503."},
    INLET_OPTIONS_END,
};

typedef struct udp_module {
    const inlet_host *host;
    inlet_module_ctx *mod;
    const udp_config *cfg;
    struct sockaddr_in bind_addr;
    int fd;      /* the UDP socket */
    int wake_fd; /* eventfd: stop_accepting / stop */
    inlet_queue *queue;
    pthread_t thread;
    atomic_int accepting, running;
    inlet_metric *m_datagrams, *m_ok, *m_err;
} udp_module;

/* What a completion needs to answer: the peer. Owned by the submission until it completes. */
typedef struct pending {
    struct sockaddr_in peer;
} pending;

static void reply(udp_module *u, const struct sockaddr_in *peer, const char *text)
{
    /* UDP replies are best effort; a lost reply makes the device resend (and dedupe by id). */
    ssize_t rc = sendto(u->fd, text, strlen(text), MSG_DONTWAIT, (const struct sockaddr *)peer,
                        sizeof(*peer));
    (void)rc;
}

static void on_completion(void *ctx, const inlet_completion *c)
{
    udp_module *u = ctx;
    pending *p = c->opaque;
    char text[256];
    if (c->status == INLET_OK) {
        snprintf(text, sizeof(text), "OK %zu %s\n", c->n_events,
                 c->n_events ? c->events[0].event_id : "");
        u->host->metric_add(u->m_ok, 1);
    } else {
        snprintf(text, sizeof(text), "ERR 503 Kafka did not acknowledge; retry in %ds\n",
                 u->host->retry_after_s());
        u->host->metric_add(u->m_err, 1);
    }
    reply(u, &p->peer, text);
    free(p);
}

static int status_code(inlet_status st)
{
    switch (st) {
    case INLET_E_UNAUTHENTICATED:
        return 401;
    case INLET_E_FORBIDDEN:
        return 403;
    case INLET_E_TOO_LARGE:
        return 413;
    case INLET_E_MEDIA_TYPE:
        return 415;
    case INLET_E_INVALID:
    case INLET_E_UNKNOWN_SCHEMA:
        return 400;
    case INLET_E_QUOTA:
        return 429;
    case INLET_E_INTERNAL:
        return 500;
    default:
        return 503;
    }
}

static void handle_datagram(udp_module *u, char *buf, size_t len, const struct sockaddr_in *peer)
{
    char text[512];
    inlet_identity *id = NULL;
    inlet_rejection *rej = NULL;
    u->host->metric_add(u->m_datagrams, 1);

    char *nl = memchr(buf, '\n', len);
    if (!nl) {
        reply(u, peer, "ERR 400 expected <token>\\n<body>\n");
        return;
    }
    if (!atomic_load(&u->accepting) ||
        u->host->queue_pending(u->queue) >= (size_t)u->cfg->max_inflight) {
        snprintf(text, sizeof(text), "ERR 503 busy; retry in %ds\n", u->host->retry_after_s());
        reply(u, peer, text);
        return;
    }
    if (u->host->auth_bearer(buf, (size_t)(nl - buf), &id, NULL, 0) != INLET_OK) {
        reply(u, peer, "ERR 401 invalid token\n");
        return;
    }
    pending *p = malloc(sizeof(*p));
    if (!p) {
        reply(u, peer, "ERR 500 out of memory\n");
        goto out;
    }
    p->peer = *peer;

    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = id;
    req.form = INLET_FORM_BATCH;
    req.body = nl + 1;
    req.body_len = len - (size_t)(nl + 1 - buf);
    req.content_type = "application/json";
    req.source = "udp";
    req.received_at_us = u->host->now_us();
    req.queue = u->queue;
    req.opaque = p; /* ownership passes to the completion on INLET_OK */
    inlet_status st = u->host->submit(u->mod, &req, &rej);
    if (st != INLET_OK) {
        free(p);
        snprintf(text, sizeof(text), "ERR %d %s\n", status_code(st),
                 rej && rej->n_errors ? rej->errors[0].message : (rej ? rej->message : "refused"));
        reply(u, peer, text);
        u->host->metric_add(u->m_err, 1);
    }
out:
    u->host->rejection_free(rej);
    u->host->identity_release(id);
}

static void *udp_loop(void *arg)
{
    udp_module *u = arg;
    char *buf = malloc(MAX_DATAGRAM + 1);
    if (!buf)
        return NULL;
    while (atomic_load(&u->running) || u->host->queue_pending(u->queue) > 0) {
        struct pollfd fds[3] = {
            {.fd = atomic_load(&u->accepting) ? u->fd : -1, .events = POLLIN},
            {.fd = u->host->queue_fd(u->queue), .events = POLLIN},
            {.fd = u->wake_fd, .events = POLLIN},
        };
        if (poll(fds, 3, 200) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            struct sockaddr_in peer;
            socklen_t plen = sizeof(peer);
            ssize_t n =
                recvfrom(u->fd, buf, MAX_DATAGRAM, MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
            if (n > 0) {
                buf[n] = '\0';
                handle_datagram(u, buf, (size_t)n, &peer);
            }
        }
        if (fds[1].revents & POLLIN)
            u->host->queue_drain(u->queue, on_completion, u, 0);
        if (fds[2].revents & POLLIN) {
            uint64_t v;
            ssize_t rc = read(u->wake_fd, &v, sizeof(v));
            (void)rc;
        }
    }
    free(buf);
    return NULL;
}

static int parse_address(const char *s, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    return *end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &out->sin_addr) != 1 ? -1
                                                                                             : 0;
}

static int udp_create(const inlet_host *host, inlet_module_ctx *mod, const void *config,
                      void **state, char *err, size_t err_len)
{
    /* identity_release, queue_* and metrics exist since ABI 1.0; nothing newer is used. */
    udp_module *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    u->host = host;
    u->mod = mod;
    u->cfg = config;
    u->fd = u->wake_fd = -1;
    if (parse_address(u->cfg->address, &u->bind_addr) != 0) {
        snprintf(err, err_len, "address: \"%s\" is not an IPv4 host:port", u->cfg->address);
        free(u);
        return -1;
    }
    u->m_datagrams = host->metric_counter("inlet_udp_datagrams_total", "Datagrams received.", NULL);
    u->m_ok =
        host->metric_counter("inlet_udp_answers_total", "Answers by result.", "result=\"ok\"");
    u->m_err =
        host->metric_counter("inlet_udp_answers_total", "Answers by result.", "result=\"error\"");
    *state = u;
    return 0;
}

static int udp_start(void *state, char *err, size_t err_len)
{
    udp_module *u = state;
    u->queue = u->host->queue_new(u->mod, err, err_len);
    if (!u->queue)
        return -1;
    u->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (u->wake_fd < 0 || u->fd < 0 ||
        bind(u->fd, (struct sockaddr *)&u->bind_addr, sizeof(u->bind_addr)) != 0) {
        snprintf(err, err_len, "bind %s: %s", u->cfg->address, strerror(errno));
        return -1;
    }
    atomic_store(&u->accepting, 1);
    atomic_store(&u->running, 1);
    if (pthread_create(&u->thread, NULL, udp_loop, u) != 0) {
        snprintf(err, err_len, "cannot start the UDP thread");
        atomic_store(&u->running, 0);
        return -1;
    }
    u->host->log(u->mod, INLET_LOG_INFO, "receiving JSON datagrams on %s", u->cfg->address);
    return 0;
}

static void wake(udp_module *u)
{
    uint64_t one = 1;
    ssize_t rc = write(u->wake_fd, &one, sizeof(one));
    (void)rc;
}

static void udp_stop_accepting(void *state)
{
    udp_module *u = state;
    atomic_store(&u->accepting, 0);
    wake(u);
}

static void udp_stop(void *state)
{
    /* The core drained Kafka before calling this: the loop answers what is left and ends. */
    udp_module *u = state;
    if (!atomic_exchange(&u->running, 0))
        return;
    wake(u);
    pthread_join(u->thread, NULL);
}

static void udp_destroy(void *state)
{
    udp_module *u = state;
    if (u->fd >= 0)
        close(u->fd);
    if (u->wake_fd >= 0)
        close(u->wake_fd);
    if (u->queue)
        u->host->queue_free(u->queue);
    free(u);
}

static const inlet_module_desc udp_json_desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = 0, /* uses nothing newer than ABI 1.0, so it loads into every 1.x core */
    .size = sizeof(inlet_module_desc),
    .name = "udp_json",
    .version = "1.0.0",
    .description = "JSON events over UDP (example out-of-tree module)",
    .options = udp_options,
    .config_size = sizeof(udp_config),
    .create = udp_create,
    .start = udp_start,
    .stop_accepting = udp_stop_accepting,
    .stop = udp_stop,
    .destroy = udp_destroy,
};

INLET_MODULE_DEFINE(udp_json_desc)
