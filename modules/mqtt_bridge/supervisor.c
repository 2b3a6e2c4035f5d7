/*
 * supervisor.c - the module's own thread and the lifecycle of the Paho clients.
 *
 * The supervisor makes every Paho call that is not made from a Paho callback: it connects each
 * upstream when its backoff allows, retries refused subscriptions, disconnects at
 * stop_accepting() and destroys the clients at stop(). The core's thread only flips flags and
 * waits, with bounds, on m->cond: a Paho call that blocks (Paho's global mutex is held by a
 * message callback waiting for Kafka) can delay the supervisor, never the core.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge.h"

/* How long stop() waits for the supervisor: Paho's MQTTAsync_destroy() alone may wait up to
 * 10 s for Paho's threads to end. */
#define BRIDGE_JOIN_SLACK_MS 12000

/* ---- the supervisor thread ---- */

enum action { ACT_NONE, ACT_CONNECT, ACT_SUBSCRIBE, ACT_DISCONNECT };

/* mu held: the next thing to do, or ACT_NONE and *wake lowered to when to look again. */
static enum action next_action(bridge_module *m, bridge_upstream **out, int64_t now, int64_t *wake)
{
    for (size_t i = 0; i < m->n_ups; i++) {
        bridge_upstream *u = &m->ups[i];
        *out = u;
        if (m->draining) {
            if (u->state == BRIDGE_CONNECTED) {
                u->state = BRIDGE_DISCONNECTING;
                return ACT_DISCONNECT;
            }
            if (u->state == BRIDGE_IDLE) {
                u->state = BRIDGE_STOPPED;
                pthread_cond_broadcast(&m->cond);
            }
            continue;
        }
        bool due = now >= u->next_attempt_ms;
        if (u->state == BRIDGE_IDLE && due) {
            u->state = BRIDGE_CONNECTING;
            return ACT_CONNECT;
        }
        if (u->state == BRIDGE_CONNECTED && u->subscribe_pending && due &&
            u->next_attempt_ms != 0) {
            u->next_attempt_ms = 0; /* one attempt; a refusal schedules the next */
            return ACT_SUBSCRIBE;
        }
        if ((u->state == BRIDGE_IDLE ||
             (u->state == BRIDGE_CONNECTED && u->subscribe_pending && u->next_attempt_ms != 0)) &&
            u->next_attempt_ms < *wake)
            *wake = u->next_attempt_ms;
    }
    return ACT_NONE;
}

/* mu held: may the Paho clients be destroyed? Not while a callback runs or holds a message:
 * MQTTAsync_destroy() would wait for it (and a held one never ends). */
static bool clients_quiet(bridge_module *m)
{
    for (size_t i = 0; i < m->n_ups; i++) {
        const bridge_upstream *u = &m->ups[i];
        if (u->in_callback || u->holding)
            return false;
    }
    return true;
}

static void *supervisor_main(void *arg)
{
    bridge_module *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->supervisor_exit) {
        int64_t now = bridge_monotonic_ms(), wake = now + 1000;
        bridge_upstream *u = NULL;
        enum action a = next_action(m, &u, now, &wake);
        if (a == ACT_NONE) {
            bridge_wait_until(m, wake);
            continue;
        }
        pthread_mutex_unlock(&m->mu);
        if (a == ACT_CONNECT) {
            BRIDGE_LOG(m, INLET_LOG_DEBUG, "upstream %s: connecting to %s", u->name, u->cfg->uri);
            bridge_upstream_connect(u);
        } else if (a == ACT_SUBSCRIBE) {
            bridge_upstream_subscribe(u);
        } else {
            bridge_upstream_disconnect(u);
        }
        pthread_mutex_lock(&m->mu);
    }
    bool quiet = clients_quiet(m);
    pthread_mutex_unlock(&m->mu);
    if (!quiet)
        return NULL;
    /* Closes any connection left (stop_accepting() gave up waiting) and frees Paho's state;
     * the last one also stops Paho's threads. */
    for (size_t i = 0; i < m->n_ups; i++)
        if (m->ups[i].client)
            MQTTAsync_destroy(&m->ups[i].client);
    pthread_mutex_lock(&m->mu);
    m->clients_freed = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- lifecycle (the core's thread) ---- */

/* Paho's threads outlive MQTTAsync_destroy() by a few instructions, and a held callback never
 * returns: keep the code they run mapped when the core unloads this module. */
static void pin(const void *symbol)
{
    Dl_info info;
    if (dladdr(symbol, &info) != 0 && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static pthread_once_t paho_once = PTHREAD_ONCE_INIT;

static void paho_init(void)
{
    MQTTAsync_init_options o = MQTTAsync_init_options_initializer;
    o.do_openssl_init = 0; /* OpenSSL >= 1.1 initialises itself; other modules share it */
    MQTTAsync_global_init(&o);
    pin((const void *)MQTTAsync_create);
}

int bridge_upstreams_start(bridge_module *m, char *err, size_t err_len)
{
    sigset_t all, old;
    pthread_once(&paho_once, paho_init);

    for (size_t i = 0; i < m->n_ups; i++) {
        bridge_upstream *u = &m->ups[i];
        char why[300];
        if (bridge_upstream_create_client(u, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "upstreams[%zu]: %s", i, why);
            return -1;
        }
        char qerr[160] = "";
        u->queue = m->host->queue_new(m->mod, qerr, sizeof(qerr));
        if (!u->queue) {
            snprintf(err, err_len, "completion queue: %s", qerr);
            return -1;
        }
        u->state = BRIDGE_IDLE;
        u->next_attempt_ms = 0;
    }

    /* The supervisor (and, through it, Paho's threads) takes no signals: they are the core's. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&m->supervisor, NULL, supervisor_main, m);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "pthread_create: %s", strerror(rc));
        return -1;
    }
    m->supervisor_started = true;
    pthread_setname_np(m->supervisor, "inlet-mqttbr");
    return 0;
}

static bool all_disconnected(const bridge_module *m)
{
    for (size_t i = 0; i < m->n_ups; i++)
        if (m->ups[i].state != BRIDGE_STOPPED)
            return false;
    return true;
}

void bridge_upstreams_stop_accepting(bridge_module *m)
{
    int64_t deadline = bridge_monotonic_ms() + m->cfg->shutdown_timeout_ms;
    pthread_mutex_lock(&m->mu);
    m->draining = true;
    pthread_cond_broadcast(&m->cond);
    /* Messages keep arriving until the DISCONNECT is out; the router still takes them, and each
     * is acknowledged once Kafka has it. */
    while (m->supervisor_started && !all_disconnected(m) && bridge_wait_until(m, deadline))
        ;
    for (size_t i = 0; i < m->n_ups; i++)
        if (m->ups[i].state != BRIDGE_STOPPED)
            BRIDGE_LOG(m, INLET_LOG_WARN,
                       "upstream %s: not disconnected after %lld ms (still connecting, or a "
                       "message is waiting for Kafka)",
                       m->ups[i].name, (long long)m->cfg->shutdown_timeout_ms);
    pthread_mutex_unlock(&m->mu);
}

static bool callbacks_settled(const bridge_module *m)
{
    for (size_t i = 0; i < m->n_ups; i++)
        if (m->ups[i].in_callback && !m->ups[i].holding)
            return false;
    return true;
}

void bridge_upstreams_stop(bridge_module *m)
{
    if (!m->supervisor_started)
        return;
    int64_t deadline = bridge_monotonic_ms() + m->cfg->shutdown_timeout_ms;
    pthread_mutex_lock(&m->mu);
    m->draining = true;
    m->stopping = true;
    pthread_cond_broadcast(&m->cond);
    /* The core drained Kafka: a message still in a callback gets its completion now and is
     * acknowledged, or (Kafka refused it) is held. */
    while (!callbacks_settled(m) && bridge_wait_until(m, deadline))
        ;
    m->supervisor_exit = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (BRIDGE_JOIN_SLACK_MS + 999) / 1000;
    bool joined = pthread_timedjoin_np(m->supervisor, NULL, &until) == 0;

    pthread_mutex_lock(&m->mu);
    if (joined)
        m->supervisor_started = false;
    bool freed = m->clients_freed;
    size_t held = 0;
    for (size_t i = 0; i < m->n_ups; i++)
        held += m->ups[i].holding;
    if (!joined || !freed)
        m->abandoned = true;
    pthread_mutex_unlock(&m->mu);

    if (m->abandoned) {
        /* Freeing Paho's clients (or this module's memory, or unmapping its code) under a
         * callback that must never return is not possible; the process is exiting anyway. */
        pin((const void *)bridge_on_message);
        if (held)
            BRIDGE_LOG(m, INLET_LOG_ERROR,
                       "%zu message%s not acknowledged upstream because Kafka did not take %s "
                       "before inletd stopped; the broker redelivers %s",
                       held, held == 1 ? "" : "s", held == 1 ? "it" : "them",
                       held == 1 ? "it" : "them");
        else
            BRIDGE_LOG(m, INLET_LOG_ERROR,
                       "the MQTT clients did not close in time; leaving them to the process "
                       "exit (unacknowledged messages are redelivered)");
    }
}

void bridge_upstreams_free(bridge_module *m)
{
    for (size_t i = 0; m->ups && i < m->n_ups; i++)
        bridge_upstream_free(&m->ups[i]);
}
