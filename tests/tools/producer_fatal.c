/*
 * producer_fatal.c - drives the core's producer directly against a real broker to test its
 * lifecycle: a batch is produced, a fatal error is raised at once with librdkafka's
 * rd_kafka_test_fatal_error() (what a fenced idempotent producer gets), and then a second batch
 * is produced. Prints one line per event, "<event_id> <status>", then "recreations <n>", for
 * test_producer_fatal.py to compare with what Kafka holds.
 *
 * usage: producer_fatal BOOTSTRAP TOPIC RUN_ID
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/settings.h"
#include "kafka/producer.h"
#include "kafka/queue.h"
#include "metrics.h"
#include "pipeline/rejection.h"

enum { FIRST = 200, SECOND = 20 };

static void on_completion(void *ctx, const inlet_completion *c)
{
    int *done = ctx;
    for (size_t i = 0; i < c->n_events; i++)
        printf("%s %s\n", c->events[i].event_id, inlet_status_name(c->events[i].status));
    (*done)++;
}

/* Produce n events "<run>-<tag>-<i>" as one submission; wait (bounded) for its completion. */
static int produce_batch(inlet_producer *p, inlet_queue *q, const char *topic, const char *run,
                         const char *tag, int n, int fatal_after)
{
    inlet_submission *sub = inlet_submission_new(q, NULL, (size_t)n);
    if (!sub)
        return -1;
    for (int i = 0; i < n; i++) {
        char value[160];
        inlet_slot *slot = &sub->slots[i];
        snprintf(slot->event_id, sizeof(slot->event_id), "%s-%s-%d", run, tag, i);
        int len = snprintf(value, sizeof(value), "{\"event_id\":\"%s\"}", slot->event_id);
        rd_kafka_resp_err_t e = inlet_producer_send(
            p, topic, slot->event_id, strlen(slot->event_id), value, (size_t)len, NULL, slot);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            slot->result.error = rd_kafka_err2str(e);
            inlet_submission_put(sub, 1); /* never produced: stays "not produced" */
        }
        if (i == fatal_after)
            rd_kafka_test_fatal_error(inlet_producer_handle(p), RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
                                      "test: producer fenced");
    }
    inlet_submission_put(sub, 1); /* the guard */
    int done = 0;
    struct pollfd pfd = {.fd = inlet_queue_fd(q), .events = POLLIN};
    for (int waited = 0; !done && waited < 60000; waited += 100)
        if (poll(&pfd, 1, 100) > 0)
            inlet_queue_drain(q, on_completion, &done, 0);
    return done ? 0 : -1;
}

int main(int argc, char **argv)
{
    char err[1024];
    if (argc != 4) {
        fprintf(stderr, "usage: producer_fatal BOOTSTRAP TOPIC RUN_ID\n");
        return 2;
    }
    inlet_settings settings;
    memset(&settings, 0, sizeof(settings));
    if (inlet_conf_defaults(inlet_settings_options, &settings, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    free(settings.kafka.bootstrap_servers);
    settings.kafka.bootstrap_servers = strdup(argv[1]);
    settings.kafka.health_interval_ms = 200;
    settings.kafka.linger_ms = 20; /* some of the first batch is still queued at the error */
    inlet_producer *p = NULL;
    inlet_queue *q = NULL;
    int rc = 1;
    if (inlet_producer_new(&settings.kafka, &p, err, sizeof(err)) != 0 ||
        inlet_producer_start(p, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    q = inlet_queue_new(NULL, err, sizeof(err));
    for (int i = 0; i < 300 && !inlet_producer_ready(p); i++)
        usleep(100000);
    if (!q || !inlet_producer_ready(p)) {
        fprintf(stderr, "Kafka not ready\n");
        goto out;
    }
    /* a warm-up event so the producer has its PID and connections */
    if (produce_batch(p, q, argv[2], argv[3], "warm", 1, -1) != 0)
        goto out;
    rd_kafka_t *before = inlet_producer_handle(p);
    if (produce_batch(p, q, argv[2], argv[3], "a", FIRST, FIRST / 2) != 0)
        goto out;
    for (int i = 0; i < 300 && (inlet_producer_recreations(p) < 1 || !inlet_producer_ready(p)); i++)
        usleep(100000);
    if (inlet_producer_handle(p) == before)
        fprintf(stderr, "the producer handle was not replaced\n");
    if (produce_batch(p, q, argv[2], argv[3], "b", SECOND, -1) != 0)
        goto out;
    printf("recreations %d\n", inlet_producer_recreations(p));
    rc = 0;
out:
    fflush(stdout);
    if (p)
        inlet_producer_drain(p, 5000);
    if (q)
        inlet_queue_free(q);
    inlet_producer_free(p);
    inlet_conf_release(inlet_settings_options, &settings);
    inlet_metrics_shutdown();
    return rc;
}
