/* queue.c - the fake host's completion queues: a list and a real eventfd, so that a module's
 * own event loop wakes up as it does in inletd. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake.h"

inlet_queue *fake_queue_new(inlet_module_ctx *mod, char *err, size_t err_len)
{
    inlet_test_host *t = inlet_test_current;
    if (mod != &t->ctx)
        fake_violation("queue_new() with another module's ctx");
    inlet_queue *q = calloc(1, sizeof(*q));
    if (!q) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_mutex_lock(&t->mu);
    q->next_live = t->queues;
    t->queues = q;
    pthread_mutex_unlock(&t->mu);
    return q;
}

int fake_queue_fd(inlet_queue *q)
{
    return q->efd;
}

size_t fake_queue_pending(inlet_queue *q)
{
    return atomic_load(&q->pending);
}

void fake_queue_push(inlet_queue *q, fake_completion *c)
{
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
    pthread_mutex_unlock(&q->mu);
    uint64_t one = 1;
    ssize_t rc = write(q->efd, &one, sizeof(one));
    (void)rc; /* EAGAIN: the counter is non-zero already */
}

static void completion_free(fake_completion *c)
{
    for (size_t k = 0; k < c->n_events; k++)
        free((char *)c->events[k].event_id);
    free(c->events);
    free(c);
}

size_t fake_queue_drain(inlet_queue *q, inlet_completion_fn fn, void *ctx, size_t max)
{
    inlet_test_host *t = inlet_test_current;
    uint64_t counter;
    ssize_t rc = read(q->efd, &counter, sizeof(counter));
    (void)rc;
    size_t ran = 0;
    while (max == 0 || ran < max) {
        pthread_mutex_lock(&q->mu);
        fake_completion *c = q->head;
        if (c) {
            q->head = c->next;
            if (!q->head)
                q->tail = NULL;
        }
        pthread_mutex_unlock(&q->mu);
        if (!c)
            break;
        inlet_completion pub = {.size = sizeof(pub),
                                .opaque = c->opaque,
                                .status = c->status,
                                .n_events = c->n_events,
                                .events = c->events};
        fn(ctx, &pub); /* without a lock held: the callback may submit again */
        completion_free(c);
        atomic_fetch_sub(&q->pending, 1);
        ran++;
        pthread_mutex_lock(&t->mu);
        t->drained++;
        pthread_cond_broadcast(&t->cond);
        pthread_mutex_unlock(&t->mu);
    }
    pthread_mutex_lock(&q->mu);
    int more = q->head != NULL;
    pthread_mutex_unlock(&q->mu);
    if (more) { /* max reached: stay readable */
        uint64_t one = 1;
        rc = write(q->efd, &one, sizeof(one));
        (void)rc;
    }
    return ran;
}

static void queue_release(inlet_queue *q)
{
    fake_completion *c = q->head;
    while (c) {
        fake_completion *next = c->next;
        completion_free(c);
        c = next;
    }
    close(q->efd);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void fake_queue_free(inlet_queue *q)
{
    if (!q)
        return;
    inlet_test_host *t = inlet_test_current;
    if (atomic_load(&q->pending) != 0)
        fake_violation("queue_free() with %zu submissions pending", atomic_load(&q->pending));
    pthread_mutex_lock(&t->mu);
    for (inlet_queue **p = &t->queues; *p; p = &(*p)->next_live)
        if (*p == q) {
            *p = q->next_live;
            break;
        }
    pthread_mutex_unlock(&t->mu);
    queue_release(q);
}

void fake_queues_free(inlet_test_host *t)
{
    if (t->queues)
        fake_violation("a completion queue was never freed");
    while (t->queues) {
        inlet_queue *q = t->queues;
        t->queues = q->next_live;
        queue_release(q);
    }
}
