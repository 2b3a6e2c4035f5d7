/*
 * loops.c - a module's loop threads, as the core's thread sees them: bind, open, start, the
 * start/stop handshakes, stop, join and free; and what a loop thread needs of the same (its
 * commands, its listeners, its queue), plus the clock. See support.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static void loopsync_init(inlet_support_loopsync *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
}

static void loopsync_destroy(inlet_support_loopsync *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
}

static void loopsync_ready(inlet_support_loopsync *s, size_t index, int rc, const char *err)
{
    pthread_mutex_lock(&s->mu);
    s->n_ready++;
    if (rc != 0 && s->n_failed++ == 0)
        snprintf(s->start_err, sizeof(s->start_err), "loop %zu: %s", index, err);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static int loopsync_wait_ready(inlet_support_loopsync *s, size_t n_loops, char *err, size_t err_len)
{
    pthread_mutex_lock(&s->mu);
    while (s->n_ready < n_loops)
        pthread_cond_wait(&s->cond, &s->mu);
    bool failed = s->n_failed != 0;
    if (failed)
        snprintf(err, err_len, "%s", s->start_err);
    pthread_mutex_unlock(&s->mu);
    return failed ? -1 : 0;
}

static void loopsync_unlistened(inlet_support_loopsync *s)
{
    pthread_mutex_lock(&s->mu);
    s->n_unlistened++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static void timespec_after_ms(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void loopsync_wait_unlistened(inlet_support_loopsync *s, size_t running, int64_t timeout_ms)
{
    struct timespec until;
    timespec_after_ms(&until, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->n_unlistened < running)
        if (pthread_cond_timedwait(&s->cond, &s->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
}

static int thread_start(pthread_t *thread, void *(*fn)(void *), void *arg, const char *name,
                        char *err, size_t err_len)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, err_len, "pthread_create: %s", strerror(rc));
        return -1;
    }
    pthread_setname_np(*thread, name);
    return 0;
}

static int loop_open(const inlet_host *host, inlet_module_ctx *mod, int *control_fd,
                     inlet_queue **queue, char *err, size_t err_len)
{
    *control_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (*control_fd < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        return -1;
    }
    char qerr[160] = "";
    *queue = host->queue_new(mod, qerr, sizeof(qerr));
    if (*queue == NULL) {
        snprintf(err, err_len, "completion queue: %s", qerr);
        return -1;
    }
    return 0;
}

uint64_t inlet_support_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the loop set, on the core's thread ---- */

void inlet_support_loopset_init(inlet_support_loopset *s, const inlet_host *host,
                                inlet_module_ctx *mod)
{
    memset(s, 0, sizeof(*s));
    s->host = host;
    s->mod = mod;
    loopsync_init(&s->sync);
}

/* Bind every listener of one loop; port 0 picks one port on loop 0 and reuses it. */
static int loop_bind(inlet_support_loopset *s, inlet_support_loop *l, char *err, size_t err_len)
{
    for (size_t i = 0; i < s->n_listeners; i++) {
        inlet_support_listener *ls = &s->listeners[i];
        inlet_support_loop_listener *ll = inlet_support_loop_listener_at(l, i);
        char why[160];
        ll->fd = inlet_support_listen(&ls->addr, ls->addrlen, s->spec->backlog, l->index == 0, why,
                                      sizeof(why));
        if (ll->fd < 0) {
            snprintf(err, err_len, "listeners[%zu] %s: %s", i, ls->name, why);
            return -1;
        }
    }
    return 0;
}

/* The support part of loop i and its listeners, before anything can fail. */
static int loop_make(inlet_support_loopset *s, size_t i)
{
    inlet_support_loop *l = inlet_support_loop_at(s, i);
    l->set = s;
    l->index = i;
    l->control_fd = -1;
    inlet_support_pending_init(&l->pending, s->spec->pending_size, s->spec->pending_cache);
    l->listeners = calloc(s->n_listeners ? s->n_listeners : 1, s->spec->listener_size);
    if (l->listeners == NULL)
        return -1;
    for (size_t j = 0; j < s->n_listeners; j++) {
        inlet_support_loop_listener *ll = inlet_support_loop_listener_at(l, j);
        ll->loop = l;
        ll->listener = &s->listeners[j];
        ll->fd = -1;
    }
    return 0;
}

int inlet_support_loopset_start(inlet_support_loopset *s, size_t n,
                                const inlet_support_loop_spec *spec, void *module, char *err,
                                size_t err_len)
{
    s->spec = spec;
    s->loops = calloc(n, spec->loop_size);
    if (s->loops == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->n = n;
    /* every loop first, so that a failure part way leaves nothing for free() to misread */
    for (size_t i = 0; i < n; i++) {
        if (loop_make(s, i) != 0) {
            snprintf(err, err_len, "out of memory");
            return -1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        l->set_up = true;
        if (spec->init(l, module, err, err_len) != 0 || loop_bind(s, l, err, err_len) != 0 ||
            loop_open(s->host, s->mod, &l->control_fd, &l->queue, err, err_len) != 0)
            return -1;
    }

    for (size_t i = 0; i < n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        char name[16];
        /* threads <= 256: the name fits the kernel's 16 bytes */
        snprintf(name, sizeof(name), "%s/%u", spec->thread_name, (unsigned)(i & 0xff));
        if (thread_start(&l->thread, spec->main, l, name, err, err_len) != 0)
            goto fail;
        l->thread_started = true;
    }

    if (loopsync_wait_ready(&s->sync, n, err, err_len) != 0)
        goto fail;
    inlet_support_listeners_log(s->host, s->mod, s->listeners, s->n_listeners, spec->scheme,
                                spec->tls_scheme);
    return 0;

fail:
    inlet_support_loopset_stop(s);
    return -1;
}

void inlet_support_loop_signal(inlet_support_loop *l, unsigned cmd)
{
    uint64_t one = 1;
    atomic_fetch_or(&l->commands, cmd);
    ssize_t rc = write(l->control_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN only if the counter is saturated, which still wakes the loop */
}

void inlet_support_loopset_stop_accepting(inlet_support_loopset *s)
{
    size_t running = 0;

    atomic_store(&s->draining, 1);
    for (size_t i = 0; i < s->n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        if (l->thread_started) {
            inlet_support_loop_signal(l, INLET_SUPPORT_LOOP_STOP_ACCEPTING);
            running++;
        }
    }
    /* Return once the ports are closed, so the caller can rely on it; bounded. */
    loopsync_wait_unlistened(&s->sync, running, 2000);
}

void inlet_support_loopset_stop(inlet_support_loopset *s)
{
    atomic_store(&s->draining, 1);
    for (size_t i = 0; i < s->n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        if (l->thread_started)
            inlet_support_loop_signal(l, INLET_SUPPORT_LOOP_STOP);
    }
    for (size_t i = 0; i < s->n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        if (l->thread_started) {
            pthread_join(l->thread, NULL);
            l->thread_started = false;
        }
    }
}

void inlet_support_loopset_free(inlet_support_loopset *s)
{
    inlet_support_loopset_stop(s); /* a no-op after the core's stop() */
    for (size_t i = 0; s->loops != NULL && i < s->n; i++) {
        inlet_support_loop *l = inlet_support_loop_at(s, i);
        /* a thread that ran has already closed and freed what it owned */
        for (size_t j = 0; l->listeners != NULL && j < s->n_listeners; j++) {
            inlet_support_loop_listener *ll = inlet_support_loop_listener_at(l, j);
            if (ll->fd >= 0)
                close(ll->fd);
        }
        if (l->control_fd >= 0)
            close(l->control_fd);
        if (l->queue != NULL && s->host->queue_pending(l->queue) == 0)
            s->host->queue_free(l->queue);
        if (l->set_up && s->spec->fini != NULL)
            s->spec->fini(l);
        inlet_support_pending_free(&l->pending);
        free(l->listeners);
    }
    free(s->loops);
    s->loops = NULL;
    s->n = 0;
    inlet_support_listeners_free(s->listeners, s->n_listeners);
    s->listeners = NULL;
    s->n_listeners = 0;
    loopsync_destroy(&s->sync);
}

void *inlet_support_module_new(const inlet_host *host, inlet_module_ctx *mod, size_t size,
                               char *err, size_t err_len)
{
    /* everything the support library and the modules use is ABI 1.0; now_us is its last member */
    if (host->abi_major != INLET_ABI_MAJOR || !INLET_HOST_HAS(host, now_us)) {
        snprintf(err, err_len,
                 "host ABI %u.%u (size %u) lacks functions of ABI 1.0 (module built for %d.%d)",
                 host->abi_major, host->abi_minor, host->size, INLET_ABI_MAJOR, INLET_ABI_MINOR);
        return NULL;
    }
    inlet_support_loopset *s = calloc(1, size);
    if (s == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    inlet_support_loopset_init(s, host, mod);
    return s;
}

void inlet_support_module_stop_accepting(void *state)
{
    inlet_support_loopset_stop_accepting(state);
}

void inlet_support_module_stop(void *state)
{
    inlet_support_loopset_stop(state);
}

/* ---- on the loop thread ---- */

void inlet_support_loop_ready(inlet_support_loop *l, int rc, const char *err)
{
    loopsync_ready(&l->set->sync, l->index, rc, err);
}

unsigned inlet_support_loop_commands(inlet_support_loop *l, bool clear)
{
    uint64_t v;
    ssize_t rc = read(l->control_fd, &v, sizeof(v));
    (void)rc; /* EAGAIN: a spurious wake-up; the command word is what counts */

    unsigned cmd = clear ? atomic_exchange(&l->commands, 0u) : atomic_load(&l->commands);
    if (cmd & INLET_SUPPORT_LOOP_STOP)
        l->stopping = true;
    return cmd;
}

bool inlet_support_loop_stop_requested(const inlet_support_loop *l)
{
    return l->stopping || (atomic_load(&l->commands) & INLET_SUPPORT_LOOP_STOP);
}

void inlet_support_loop_close_listeners(inlet_support_loop *l)
{
    if (l->listeners_closed)
        return;
    l->listeners_closed = true;
    for (size_t i = 0; i < l->set->n_listeners; i++) {
        inlet_support_loop_listener *ll = inlet_support_loop_listener_at(l, i);
        if (ll->fd >= 0) {
            close(ll->fd); /* also leaves an epoll set */
            ll->fd = -1;
        }
    }
    loopsync_unlistened(&l->set->sync);
}

void inlet_support_loop_release_queue(inlet_support_loop *l)
{
    const inlet_host *host = l->set->host;
    if (l->queue == NULL)
        return;
    if (host->queue_pending(l->queue) == 0) {
        host->queue_free(l->queue);
        l->queue = NULL;
        return;
    }
    /* The core may still complete into it; freeing it would be worse than leaking it. */
    host->log(l->set->mod, INLET_LOG_ERROR,
              "loop %zu: completion queue kept, %zu submissions pending", l->index,
              host->queue_pending(l->queue));
}

int inlet_support_epoll_add(int epfd, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = ptr;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int inlet_support_loop_epoll_open(inlet_support_loop *l, int *epfd, void *queue_tag,
                                  void *control_tag, char *err, size_t err_len)
{
    *epfd = epoll_create1(EPOLL_CLOEXEC);
    if (*epfd < 0) {
        snprintf(err, err_len, "epoll_create1: %s", strerror(errno));
        return -1;
    }
    if (inlet_support_epoll_add(*epfd, l->set->host->queue_fd(l->queue), EPOLLIN, queue_tag) != 0 ||
        inlet_support_epoll_add(*epfd, l->control_fd, EPOLLIN, control_tag) != 0) {
        snprintf(err, err_len, "epoll_ctl: %s", strerror(errno));
        return -1;
    }
    return 0;
}
