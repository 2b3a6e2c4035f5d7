/*
 * loops.c - what every module's loop threads share: the start/stop handshakes with the core's
 * thread, thread start-up, and the clock.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

void inlet_support_loopsync_init(inlet_support_loopsync *s)
{
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
}

void inlet_support_loopsync_destroy(inlet_support_loopsync *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
}

void inlet_support_loopsync_ready(inlet_support_loopsync *s, size_t index, int rc, const char *err)
{
    pthread_mutex_lock(&s->mu);
    s->n_ready++;
    if (rc != 0 && s->n_failed++ == 0)
        snprintf(s->start_err, sizeof(s->start_err), "loop %zu: %s", index, err);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

int inlet_support_loopsync_wait_ready(inlet_support_loopsync *s, size_t n_loops, char *err,
                                      size_t err_len)
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

void inlet_support_loopsync_unlistened(inlet_support_loopsync *s)
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

void inlet_support_loopsync_wait_unlistened(inlet_support_loopsync *s, size_t running,
                                            int64_t timeout_ms)
{
    struct timespec until;
    timespec_after_ms(&until, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (s->n_unlistened < running)
        if (pthread_cond_timedwait(&s->cond, &s->mu, &until) != 0)
            break;
    pthread_mutex_unlock(&s->mu);
}

int inlet_support_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg, const char *name,
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

int inlet_support_loop_open(const inlet_host *host, inlet_module_ctx *mod, int *control_fd,
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

void inlet_support_loop_signal(atomic_uint *commands, int control_fd, unsigned cmd)
{
    uint64_t one = 1;
    atomic_fetch_or(commands, cmd);
    ssize_t rc = write(control_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN only if the counter is saturated, which still wakes the loop */
}

uint64_t inlet_support_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
