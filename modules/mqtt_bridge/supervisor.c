/*
 * supervisor.c - the module's own thread, the lifecycle of the Paho clients, and the Paho
 * runtimes they live in.
 *
 * The supervisor makes every Paho call that is not made from a Paho callback: it connects each
 * session when its backoff allows, retries refused subscriptions, disconnects at
 * stop_accepting() and destroys the clients at stop(). The core's thread only flips flags and
 * waits, with bounds, on m->cond: a Paho call that blocks (a runtime's global mutex is held by a
 * message callback waiting for Kafka) can delay the supervisor, never the core.
 *
 * Runtimes: Paho keeps its clients, its two threads and its global mutex in static variables,
 * so one loaded copy of the library delivers one message at a time for all its clients (see
 * bridge.h). Each session gets a copy of its own: runtime 0 is the library the module is
 * linked with; the others are the same file copied into a memfd and dlopen()ed from there (a
 * new inode, so the dynamic linker maps it again instead of returning the loaded one), with
 * RTLD_LOCAL so that each copy binds to its own symbols. Copies are never unloaded (their
 * threads may outlive a client, see pin()) and are reused by later sessions.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

/* How long stop() waits for the supervisor: Paho's MQTTAsync_destroy() alone may wait up to
 * 10 s for a runtime's threads (the clients are destroyed in parallel). */
#define BRIDGE_JOIN_SLACK_MS 12000

/* Copies of Paho in one process, all modules together. */
#define BRIDGE_RUNTIMES_MAX 256

/* ---- Paho runtimes ---- */

static pthread_mutex_t runtimes_mu = PTHREAD_MUTEX_INITIALIZER;
static bridge_paho runtimes[BRIDGE_RUNTIMES_MAX]; /* guarded by runtimes_mu */
static size_t n_runtimes;
static bool copies_failed; /* loading a copy failed once: sessions share from then on */

/* Paho's threads outlive MQTTAsync_destroy() by a few instructions, and a held callback never
 * returns: keep the code they run mapped when the core unloads this module. */
static void pin(const void *symbol)
{
    Dl_info info;
    if (dladdr(symbol, &info) != 0 && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static void runtime_linked(bridge_paho *p)
{
    p->create = MQTTAsync_createWithOptions;
    p->set_callbacks = MQTTAsync_setCallbacks;
    p->set_disconnected = MQTTAsync_setDisconnected;
    p->connect = MQTTAsync_connect;
    p->subscribe_many = MQTTAsync_subscribeMany;
    p->disconnect = MQTTAsync_disconnect;
    p->destroy = MQTTAsync_destroy;
    p->free_message = MQTTAsync_freeMessage;
    p->free = MQTTAsync_free;
    p->properties_add = MQTTProperties_add;
    p->properties_free = MQTTProperties_free;
    p->global_init = MQTTAsync_global_init;
    pin((const void *)MQTTAsync_create);
}

/* The linked library's file, copied into a memfd that stays open: the copy is known to the
 * dynamic linker by its /proc/self/fd path, and a reused descriptor number would make a later
 * dlopen() of that path return this copy instead of a new one. */
static int copy_library(char *path, size_t path_len, char *err, size_t err_len)
{
    Dl_info info;
    struct stat st;
    int src = -1, fd = -1;

    if (dladdr((const void *)MQTTAsync_create, &info) == 0 || !info.dli_fname) {
        snprintf(err, err_len, "cannot find the file of the Paho library");
        return -1;
    }
    src = open(info.dli_fname, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &st) != 0) {
        snprintf(err, err_len, "%s: %s", info.dli_fname, strerror(errno));
        goto fail;
    }
    fd = memfd_create("libpaho-mqtt3as", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_len, "memfd_create: %s", strerror(errno));
        goto fail;
    }
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
        if (n <= 0) {
            snprintf(err, err_len, "copying %s: %s", info.dli_fname,
                     n < 0 ? strerror(errno) : "short file");
            goto fail;
        }
    }
    close(src);
    snprintf(path, path_len, "/proc/self/fd/%d", fd);
    return fd;

fail:
    if (fd >= 0)
        close(fd);
    if (src >= 0)
        close(src);
    return -1;
}

#define LOAD(p, h, field, symbol)                                                                  \
    ((p)->field = (__typeof__((p)->field))dlsym((h), (symbol))) != NULL

static int runtime_copy(bridge_paho *p, char *err, size_t err_len)
{
    char path[64];
    int fd = copy_library(path, sizeof(path), err, err_len);
    if (fd < 0)
        return -1;
    /* NODELETE: see pin(). */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        snprintf(err, err_len, "dlopen of a copy of Paho: %s", dlerror());
        close(fd);
        return -1;
    }
    if (!(LOAD(p, h, create, "MQTTAsync_createWithOptions") &&
          LOAD(p, h, set_callbacks, "MQTTAsync_setCallbacks") &&
          LOAD(p, h, set_disconnected, "MQTTAsync_setDisconnected") &&
          LOAD(p, h, connect, "MQTTAsync_connect") &&
          LOAD(p, h, subscribe_many, "MQTTAsync_subscribeMany") &&
          LOAD(p, h, disconnect, "MQTTAsync_disconnect") &&
          LOAD(p, h, destroy, "MQTTAsync_destroy") &&
          LOAD(p, h, free_message, "MQTTAsync_freeMessage") && LOAD(p, h, free, "MQTTAsync_free") &&
          LOAD(p, h, properties_add, "MQTTProperties_add") &&
          LOAD(p, h, properties_free, "MQTTProperties_free") &&
          LOAD(p, h, global_init, "MQTTAsync_global_init"))) {
        snprintf(err, err_len, "a copy of Paho lacks a symbol: %s", dlerror());
        return -1; /* h and fd stay: the copy is mapped for good anyway */
    }
    return 0;
}

static void runtime_init(bridge_paho *p)
{
    MQTTAsync_init_options o = MQTTAsync_init_options_initializer;
    o.do_openssl_init = 0; /* OpenSSL >= 1.1 initialises itself; other modules share it */
    p->global_init(&o);
}

/* A runtime for one session: one no other session uses, loaded if need be, else the least used
 * (the sessions on it then take turns). *alone says which. */
static bridge_paho *runtime_acquire(bridge_module *m, bool *alone)
{
    bridge_paho *p = NULL;
    pthread_mutex_lock(&runtimes_mu);
    if (n_runtimes == 0) {
        runtime_linked(&runtimes[0]);
        runtime_init(&runtimes[0]);
        n_runtimes = 1;
    }
    for (size_t i = 0; i < n_runtimes && !p; i++)
        if (runtimes[i].users == 0)
            p = &runtimes[i];
    if (!p && !copies_failed && n_runtimes < BRIDGE_RUNTIMES_MAX) {
        char err[300];
        bridge_paho *c = &runtimes[n_runtimes];
        if (runtime_copy(c, err, sizeof(err)) == 0) {
            n_runtimes++;
            runtime_init(c);
            p = c;
        } else {
            memset(c, 0, sizeof(*c));
            copies_failed = true;
            BRIDGE_LOG(m, INLET_LOG_WARN,
                       "cannot load another copy of Eclipse Paho (%s): sessions share the ones "
                       "loaded and take turns, one message in flight per copy",
                       err);
        }
    }
    if (!p) {
        p = &runtimes[0];
        for (size_t i = 1; i < n_runtimes; i++)
            if (runtimes[i].users < p->users)
                p = &runtimes[i];
    }
    *alone = p->users == 0;
    p->users++;
    pthread_mutex_unlock(&runtimes_mu);
    return p;
}

static void runtime_release(bridge_paho *p)
{
    pthread_mutex_lock(&runtimes_mu);
    p->users--;
    pthread_mutex_unlock(&runtimes_mu);
}

/* ---- the supervisor thread ---- */

enum action { ACT_NONE, ACT_CONNECT, ACT_SUBSCRIBE, ACT_DISCONNECT };

/* mu held: the next thing to do, or ACT_NONE and *wake lowered to when to look again. */
static enum action next_action(bridge_module *m, bridge_session **out, int64_t now, int64_t *wake)
{
    for (size_t i = 0; i < m->n_sessions; i++) {
        bridge_session *s = &m->sessions[i];
        *out = s;
        if (m->draining || s->parked) {
            if (s->state == BRIDGE_CONNECTED) {
                s->state = BRIDGE_DISCONNECTING;
                return ACT_DISCONNECT;
            }
            if (s->state == BRIDGE_IDLE) {
                s->state = BRIDGE_STOPPED;
                pthread_cond_broadcast(&m->cond);
            }
            continue;
        }
        bool due = now >= s->next_attempt_ms;
        if (s->state == BRIDGE_IDLE && due) {
            s->state = BRIDGE_CONNECTING;
            return ACT_CONNECT;
        }
        if (s->state == BRIDGE_CONNECTED && s->subscribe_pending && due &&
            s->next_attempt_ms != 0) {
            s->next_attempt_ms = 0; /* one attempt; a refusal schedules the next */
            return ACT_SUBSCRIBE;
        }
        if ((s->state == BRIDGE_IDLE ||
             (s->state == BRIDGE_CONNECTED && s->subscribe_pending && s->next_attempt_ms != 0)) &&
            s->next_attempt_ms < *wake)
            *wake = s->next_attempt_ms;
    }
    return ACT_NONE;
}

/* mu held: may the Paho clients be destroyed? Not while a callback runs or holds a message:
 * MQTTAsync_destroy() would wait for it (and a held one never ends). */
static bool clients_quiet(bridge_module *m)
{
    for (size_t i = 0; i < m->n_sessions; i++) {
        const bridge_session *s = &m->sessions[i];
        if (s->in_callback || s->holding)
            return false;
    }
    return true;
}

static void *destroy_client(void *arg)
{
    bridge_session *s = arg;
    s->paho->destroy(&s->client);
    return NULL;
}

/* Closes any connection left (stop_accepting() gave up waiting) and frees Paho's state; the
 * last client of a runtime also stops its threads, which takes Paho up to a tenth of a second
 * per runtime: in parallel, so that stop() does not grow with the pool. */
static void destroy_clients(bridge_module *m)
{
    pthread_t *t = calloc(m->n_sessions, sizeof(*t));
    bool *started = calloc(m->n_sessions, sizeof(*started));
    for (size_t i = 0; i < m->n_sessions; i++) {
        bridge_session *s = &m->sessions[i];
        if (!s->client)
            continue;
        if (t && started && pthread_create(&t[i], NULL, destroy_client, s) == 0)
            started[i] = true;
        else
            destroy_client(s);
    }
    for (size_t i = 0; t && started && i < m->n_sessions; i++)
        if (started[i])
            pthread_join(t[i], NULL);
    free(started);
    free(t);
}

static void *supervisor_main(void *arg)
{
    bridge_module *m = arg;
    pthread_mutex_lock(&m->mu);
    while (!m->supervisor_exit) {
        int64_t now = bridge_monotonic_ms(), wake = now + 1000;
        bridge_session *s = NULL;
        enum action a = next_action(m, &s, now, &wake);
        if (a == ACT_NONE) {
            bridge_wait_until(m, wake);
            continue;
        }
        pthread_mutex_unlock(&m->mu);
        if (a == ACT_CONNECT) {
            BRIDGE_LOG(m, INLET_LOG_DEBUG, "upstream %s: connecting to %s", s->tag, s->u->cfg->uri);
            bridge_session_connect(s);
        } else if (a == ACT_SUBSCRIBE) {
            bridge_session_subscribe(s);
        } else {
            bridge_session_disconnect(s);
        }
        pthread_mutex_lock(&m->mu);
    }
    bool quiet = clients_quiet(m);
    pthread_mutex_unlock(&m->mu);
    if (!quiet)
        return NULL;
    destroy_clients(m);
    pthread_mutex_lock(&m->mu);
    m->clients_freed = true;
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

/* ---- lifecycle (the core's thread) ---- */

int bridge_upstreams_start(bridge_module *m, char *err, size_t err_len)
{
    sigset_t all, old;
    size_t sharing = 0;

    for (size_t i = 0; i < m->n_sessions; i++) {
        bridge_session *s = &m->sessions[i];
        bool alone;
        char why[300];
        s->paho = runtime_acquire(m, &alone);
        sharing += !alone;
        if (bridge_session_create_client(s, why, sizeof(why)) != 0) {
            snprintf(err, err_len, "upstreams[%zu]: %s", s->u->index, why);
            return -1;
        }
        char qerr[160] = "";
        s->queue = m->host->queue_new(m->mod, qerr, sizeof(qerr));
        if (!s->queue) {
            snprintf(err, err_len, "completion queue: %s", qerr);
            return -1;
        }
        s->state = BRIDGE_IDLE;
        s->next_attempt_ms = 0;
    }
    if (sharing)
        BRIDGE_LOG(m, INLET_LOG_WARN,
                   "%zu of %zu sessions share a copy of Eclipse Paho with another session: "
                   "they take turns, one message in flight per copy",
                   sharing, m->n_sessions);

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
    for (size_t i = 0; i < m->n_sessions; i++)
        if (m->sessions[i].state != BRIDGE_STOPPED)
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
    for (size_t i = 0; i < m->n_ups; i++) {
        const bridge_upstream *u = &m->ups[i];
        size_t open = 0;
        for (size_t k = 0; k < u->n_sessions; k++)
            open += u->sessions[k].state != BRIDGE_STOPPED;
        if (open)
            BRIDGE_LOG(m, INLET_LOG_WARN,
                       "upstream %s: %zu session%s not disconnected after %lld ms (still "
                       "connecting, or a message is waiting for Kafka)",
                       u->name, open, open == 1 ? "" : "s", (long long)m->cfg->shutdown_timeout_ms);
    }
    pthread_mutex_unlock(&m->mu);
}

static bool callbacks_settled(const bridge_module *m)
{
    for (size_t i = 0; i < m->n_sessions; i++)
        if (m->sessions[i].in_callback && !m->sessions[i].holding)
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
    for (size_t i = 0; i < m->n_sessions; i++)
        held += m->sessions[i].holding;
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
    for (size_t i = 0; m->sessions && i < m->n_sessions; i++) {
        bridge_session *s = &m->sessions[i];
        if (!s->u) /* create() failed before this one was set up */
            continue;
        bridge_session_free(s);
        if (s->paho)
            runtime_release(s->paho);
    }
    for (size_t i = 0; m->ups && i < m->n_ups; i++)
        bridge_upstream_free(&m->ups[i]);
}
