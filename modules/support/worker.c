/* worker.c - one thread polling a descriptor and a completion queue (inlet/support.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "inlet/support.h"

struct inlet_support_worker {
    const inlet_host *host;
    inlet_module_ctx *mod;
    inlet_queue *queue;
    int fd;      /* owned */
    int wake_fd; /* eventfd: a flag below changed */
    void (*on_readable)(void *ctx);
    inlet_completion_fn on_completion;
    void *ctx;
    pthread_t thread;
    int joinable;
    atomic_int accepting;
    atomic_llong stop_deadline_ms; /* 0: running; else stop once nothing is pending, or then */
};

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int finished(inlet_support_worker *w)
{
    long long deadline = atomic_load(&w->stop_deadline_ms);
    return deadline && (w->host->queue_pending(w->queue) == 0 || monotonic_ms() >= deadline);
}

static void *worker_main(void *arg)
{
    inlet_support_worker *w = arg;
    while (!finished(w)) {
        struct pollfd fds[3] = {{w->host->queue_fd(w->queue), POLLIN, 0},
                                {w->wake_fd, POLLIN, 0},
                                {atomic_load(&w->accepting) ? w->fd : -1, POLLIN, 0}};
        if (poll(fds, 3, 100) <= 0)
            continue;
        if (fds[0].revents)
            w->host->queue_drain(w->queue, w->on_completion, w->ctx, 0);
        uint64_t n;
        if (fds[1].revents && read(w->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
            w->host->log(w->mod, INLET_LOG_ERROR, "worker eventfd: %s", strerror(errno));
        if (fds[2].revents && atomic_load(&w->accepting))
            w->on_readable(w->ctx);
    }
    return NULL;
}

static void wake(inlet_support_worker *w)
{
    uint64_t one = 1;
    ssize_t rc = write(w->wake_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN: already awake */
}

inlet_support_worker *inlet_support_worker_start(const inlet_host *host, inlet_module_ctx *mod,
                                                 int fd, void (*on_readable)(void *ctx),
                                                 inlet_completion_fn on_completion, void *ctx,
                                                 char *err, size_t err_len)
{
    inlet_support_worker *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, err_len, "out of memory");
        close(fd);
        return NULL;
    }
    *w = (inlet_support_worker){.host = host,
                                .mod = mod,
                                .fd = fd,
                                .wake_fd = -1,
                                .on_readable = on_readable,
                                .on_completion = on_completion,
                                .ctx = ctx};
    atomic_init(&w->accepting, 1);
    atomic_init(&w->stop_deadline_ms, 0);
    if (!(w->queue = host->queue_new(mod, err, err_len)))
        goto fail;
    if ((w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        snprintf(err, err_len, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    w->joinable = 1;
    return w;
fail:
    inlet_support_worker_free(w);
    return NULL;
}

inlet_queue *inlet_support_worker_queue(inlet_support_worker *w)
{
    return w->queue;
}

void inlet_support_worker_stop_accepting(inlet_support_worker *w)
{
    atomic_store(&w->accepting, 0);
    wake(w);
}

void inlet_support_worker_stop(inlet_support_worker *w, int timeout_ms)
{
    if (!w->joinable)
        return;
    atomic_store(&w->accepting, 0);
    atomic_store(&w->stop_deadline_ms, monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 1));
    wake(w);
    pthread_join(w->thread, NULL);
    w->joinable = 0;
}

void inlet_support_worker_free(inlet_support_worker *w)
{
    if (!w)
        return;
    inlet_support_worker_stop(w, 0);
    if (w->queue && w->host->queue_pending(w->queue) == 0)
        w->host->queue_free(w->queue);
    else if (w->queue)
        w->host->log(w->mod, INLET_LOG_WARN,
                     "%zu submissions still pending: queue left to the core",
                     w->host->queue_pending(w->queue));
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

void inlet_support_worker_module_stop_accepting(void *state)
{
    inlet_support_worker *w = *(inlet_support_worker **)state;
    if (w)
        inlet_support_worker_stop_accepting(w);
}

void inlet_support_worker_module_stop(void *state)
{
    inlet_support_worker *w = *(inlet_support_worker **)state;
    if (w)
        inlet_support_worker_stop(w, 5000);
}
