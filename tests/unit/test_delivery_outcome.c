/* test_delivery_outcome.c - what a device is told about a failed delivery: the mapping from
 * librdkafka's error and message status, the downgrade for modules older than ABI 1.5 (through a
 * real completion queue), librdkafka's misleading hints removed from broker errors, and the
 * histogram primitive the acknowledgement latencies use. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kafka/broker_log.h"
#include "kafka/delivery_outcome.h"
#include "kafka/queue.h"
#include "metrics.h"
#include "module_ctx.h"

static void test_mapping(void)
{
    inlet_delivery_outcome o =
        inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_MSG_STATUS_PERSISTED);
    CHECK(o.status == INLET_OK && o.error == NULL);

    /* never sent (queue timeout, purge of the queue, broker said no): safe to resend */
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                  RD_KAFKA_MSG_STATUS_NOT_PERSISTED);
    CHECK(o.status == INLET_E_UNAVAILABLE);
    CHECK(o.error && strstr(o.error, "not persisted") && strstr(o.error, "safe to resend"));

    /* sent and no answer (timeout in flight, purge in flight): resend with the same id */
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                  RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED);
    CHECK(o.status == INLET_E_POSSIBLY_PERSISTED);
    CHECK(o.error && strstr(o.error, "possibly persisted") && strstr(o.error, "same event_id"));
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT,
                                  RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED);
    CHECK(o.status == INLET_E_POSSIBLY_PERSISTED);

    /* a batch the broker refused for its size: not persisted, and recognizable as such (the
     * spool's forwarder then produces one record at a time); other errors are not */
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                  RD_KAFKA_MSG_STATUS_NOT_PERSISTED);
    CHECK(o.status == INLET_E_UNAVAILABLE);
    CHECK(o.error && strstr(o.error, "not persisted") && strstr(o.error, "max.message.bytes"));
    CHECK(inlet_delivery_refused_too_large(o.error));
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE,
                                  RD_KAFKA_MSG_STATUS_NOT_PERSISTED);
    CHECK(inlet_delivery_refused_too_large(o.error));
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                  RD_KAFKA_MSG_STATUS_NOT_PERSISTED);
    CHECK(!inlet_delivery_refused_too_large(o.error));
    CHECK(!inlet_delivery_refused_too_large(NULL));
    /* possibly persisted stays so, whatever the error */
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                  RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED);
    CHECK(o.status == INLET_E_POSSIBLY_PERSISTED && !inlet_delivery_refused_too_large(o.error));

    /* an error with status PERSISTED is not "not stored" */
    o = inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_MSG_STATUS_PERSISTED);
    CHECK(o.status == INLET_E_POSSIBLY_PERSISTED);

    CHECK(inlet_delivery_status_for_module(INLET_E_POSSIBLY_PERSISTED, 4) == INLET_E_UNAVAILABLE);
    CHECK(inlet_delivery_status_for_module(INLET_E_POSSIBLY_PERSISTED, 0) == INLET_E_UNAVAILABLE);
    CHECK(inlet_delivery_status_for_module(INLET_E_POSSIBLY_PERSISTED, 5) ==
          INLET_E_POSSIBLY_PERSISTED);
    CHECK(inlet_delivery_status_for_module(INLET_E_UNAVAILABLE, 5) == INLET_E_UNAVAILABLE);
    CHECK(inlet_delivery_status_for_module(INLET_OK, 4) == INLET_OK);
}

typedef struct seen {
    int n;
    inlet_status status, first, second;
} seen;

static void on_completion(void *ctx, const inlet_completion *c)
{
    seen *s = ctx;
    s->n++;
    s->status = c->status;
    s->first = c->events[0].status;
    s->second = c->events[1].status;
}

/* A completion with one possibly-persisted event, drained from a queue of a module that
 * declares abi_minor. */
static seen complete_for(uint32_t abi_minor)
{
    char err[128];
    inlet_module_desc desc;
    memset(&desc, 0, sizeof(desc));
    desc.abi_major = 1;
    desc.abi_minor = abi_minor;
    inlet_module_ctx mod;
    memset(&mod, 0, sizeof(mod));
    mod.desc = &desc;
    seen s;
    memset(&s, 0, sizeof(s));
    inlet_queue *q = inlet_queue_new(&mod, err, sizeof(err));
    CHECK(q != NULL);
    if (!q)
        return s;
    inlet_submission *sub = inlet_submission_new(q, NULL, 2);
    inlet_delivery_outcome ok =
        inlet_delivery_outcome_of(RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_MSG_STATUS_PERSISTED);
    inlet_delivery_outcome maybe = inlet_delivery_outcome_of(
        RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED);
    sub->slots[0].result.status = ok.status;
    sub->slots[1].result.status = maybe.status;
    sub->slots[1].result.error = maybe.error;
    inlet_submission_put(sub, 3); /* both slots and the submitter's guard */
    struct pollfd pfd = {.fd = inlet_queue_fd(q), .events = POLLIN};
    CHECK(poll(&pfd, 1, 1000) == 1);
    inlet_queue_drain(q, on_completion, &s, 0);
    inlet_queue_free(q);
    return s;
}

static void test_queue_downgrade(void)
{
    seen s = complete_for(5);
    CHECK(s.n == 1);
    CHECK(s.status == INLET_E_POSSIBLY_PERSISTED);
    CHECK(s.first == INLET_OK && s.second == INLET_E_POSSIBLY_PERSISTED);
    s = complete_for(4);
    CHECK(s.n == 1);
    CHECK(s.status == INLET_E_UNAVAILABLE);
    CHECK(s.first == INLET_OK && s.second == INLET_E_UNAVAILABLE);
}

static void test_hints_removed(void)
{
    char out[512];
    inlet_broker_log_clean("127.0.0.1:39093/2: Disconnected: verify that security.protocol is "
                           "correctly configured, broker might require SASL authentication "
                           "(after 12ms in state UP)",
                           out, sizeof(out));
    CHECK_STR(out, "127.0.0.1:39093/2: Disconnected (after 12ms in state UP)");
    inlet_broker_log_clean("127.0.0.1:9092/1: Disconnected while requesting ApiVersion: might be "
                           "caused by incorrect security.protocol configuration (connecting to a "
                           "SSL listener?) or broker version is < 0.10 (see api.version.request) "
                           "(after 0ms in state APIVERSION_QUERY)",
                           out, sizeof(out));
    CHECK_STR(out, "127.0.0.1:9092/1: Disconnected while requesting ApiVersion (after 0ms in "
                   "state APIVERSION_QUERY)");
    inlet_broker_log_clean("127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection "
                           "refused (after 0ms in state CONNECT)",
                           out, sizeof(out));
    CHECK_STR(out, "127.0.0.1:9092/1: Connect to ipv4#127.0.0.1:9092 failed: Connection refused "
                   "(after 0ms in state CONNECT)");
}

static void test_histogram(void)
{
    static const double b[] = {0.001, 0.01, 0.1};
    static const double unsorted[] = {0.1, 0.01};
    CHECK(inlet_metric_histogram("t_unsorted_seconds", "x", NULL, unsorted, 2) == NULL);
    inlet_metric *h = inlet_metric_histogram("t_latency_seconds", "Test.", "k=\"v\"", b, 3);
    CHECK(h != NULL);
    inlet_metric_observe_us(h, 500);     /* <= 0.001 */
    inlet_metric_observe_us(h, 1000);    /* <= 0.001 (bounds are inclusive) */
    inlet_metric_observe_us(h, 50000);   /* <= 0.1 */
    inlet_metric_observe_us(h, 2000000); /* +Inf */
    CHECK(inlet_metric_histogram_count(h) == 4);
    char *text = inlet_metrics_render(NULL);
    CHECK(text != NULL);
    if (text) {
        CHECK(strstr(text, "# TYPE t_latency_seconds histogram\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_bucket{k=\"v\",le=\"0.001\"} 2\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_bucket{k=\"v\",le=\"0.01\"} 2\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_bucket{k=\"v\",le=\"0.1\"} 3\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_bucket{k=\"v\",le=\"+Inf\"} 4\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_sum{k=\"v\"} 2.051500\n") != NULL);
        CHECK(strstr(text, "t_latency_seconds_count{k=\"v\"} 4\n") != NULL);
    }
    free(text);
}

int main(void)
{
    test_mapping();
    test_queue_downgrade();
    test_hints_removed();
    test_histogram();
    inlet_metrics_shutdown();
    return check_done();
}
