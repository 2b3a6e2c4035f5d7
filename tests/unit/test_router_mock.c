/* test_router_mock.c - the event path from submit() to the completion queue, against
 * librdkafka's mock cluster for the faults a real broker cannot easily give: produce errors until
 * the delivery timeout, a broker going down, a full producer queue. (The same path against the
 * real broker is tested in tests/integration.) */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "kafka/producer.h"
#include "kafka/queue.h"
#include "pipeline/rejection.h"
#include "pipeline/router.h"
#include "schema/schema.h"
#include "config/settings.h"
#include "identity/tenant.h"

enum { KAFKA_API_PRODUCE = 0 }; /* the Produce request ApiKey (rdkafka_protocol.h is private) */

static const char tenant_yaml[] = "tenant: demo\n"
                                  "devices: [{id: truck-0042, groups: [trucks]}]\n"
                                  "acl: [{effect: allow, groups: [trucks], schemas: [\"*\"]}]\n";

static const char event_body[] =
    "{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
    "{\"lat\":1,\"lon\":2,\"speed_kmh\":3,\"status\":\"idle\"}}]}";

static inlet_identity *truck;
static inlet_queue *queue;

typedef struct seen {
    int n;
    inlet_status status;
    int32_t partition;
    int64_t offset;
    void *opaque;
    char error[128];
} seen;

static void on_completion(void *ctx, const inlet_completion *c)
{
    seen *s = ctx;
    s->n++;
    s->status = c->status;
    s->opaque = c->opaque;
    s->partition = c->n_events ? c->events[0].partition : -2;
    s->offset = c->n_events ? c->events[0].offset : -2;
    snprintf(s->error, sizeof(s->error), "%s",
             c->n_events && c->events[0].error ? c->events[0].error : "");
}

/* Wait (bounded) for the queue's eventfd, then drain it. */
static seen wait_completion(int timeout_ms)
{
    seen s;
    memset(&s, 0, sizeof(s));
    struct pollfd pfd = {.fd = inlet_queue_fd(queue), .events = POLLIN};
    for (int waited = 0; s.n == 0 && waited < timeout_ms; waited += 50) {
        if (poll(&pfd, 1, 50) > 0)
            inlet_queue_drain(queue, on_completion, &s, 0);
    }
    return s;
}

static const char two_events_body[] =
    "{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
    "{\"lat\":1,\"lon\":2,\"speed_kmh\":3,\"status\":\"idle\"}},"
    "{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
    "{\"lat\":1,\"lon\":2,\"speed_kmh\":4,\"status\":\"idle\"}}]}";

static const char invalid_body[] =
    "{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
    "{\"lat\":100,\"lon\":2,\"speed_kmh\":3,\"status\":\"idle\"}}]}";

static inlet_status submit_body(const char *body, void *opaque, inlet_rejection **rej)
{
    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = truck;
    req.form = INLET_FORM_BATCH;
    req.body = body;
    req.body_len = strlen(body);
    req.source = "test";
    req.queue = queue;
    req.opaque = opaque;
    return inlet_router_submit(NULL, &req, rej);
}

static inlet_status submit(void *opaque, inlet_rejection **rej)
{
    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = truck;
    req.form = INLET_FORM_BATCH;
    req.body = event_body;
    req.body_len = strlen(event_body);
    req.source = "test";
    req.queue = queue;
    req.opaque = opaque;
    return inlet_router_submit(NULL, &req, rej);
}

static int wait_ready(int want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (inlet_router_kafka_ready() == want)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

int main(void)
{
    char err[1024];
    inlet_settings settings;
    memset(&settings, 0, sizeof(settings));
    if (inlet_conf_defaults(inlet_settings_options, &settings, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    inlet_kafka_settings *k = &settings.kafka;
    free(k->bootstrap_servers);
    k->bootstrap_servers = strdup("unused:9092");
    k->delivery_timeout_ms = 1500;
    k->health_interval_ms = 100;
    k->max_queue_messages = 3;
    k->properties.keys = calloc(1, sizeof(char *));
    k->properties.values = calloc(1, sizeof(char *));
    k->properties.keys[0] = strdup("test.mock.num.brokers");
    k->properties.values[0] = strdup("1");
    k->properties.count = 1;

    inlet_producer *p = NULL;
    CHECK(inlet_producer_new(k, &p, err, sizeof(err)) == 0);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return check_done();
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(inlet_producer_handle(p));
    CHECK(mc != NULL);
    rd_kafka_mock_topic_create(mc, "fleet.updates.v1", 12, 1);
    CHECK(inlet_producer_start(p, err, sizeof(err)) == 0);

    inlet_schemas *schemas = NULL;
    inlet_tenants *tenants = NULL;
    inlet_conf_file *f = NULL;
    inlet_tenant_conf tc;
    memset(&tc, 0, sizeof(tc));
    CHECK(inlet_schemas_load(INLET_SOURCE_DIR "/schemas", &schemas, err, sizeof(err)) == 0);
    CHECK(inlet_conf_load_string("t.yaml", tenant_yaml, sizeof(tenant_yaml) - 1, &f, err,
                                 sizeof(err)) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &tc, NULL, err,
                           sizeof(err)) == 0);
    const inlet_tenant_conf *confs[] = {&tc};
    const char *origins[] = {"t.yaml:1"};
    CHECK(inlet_tenants_build(confs, origins, 1, &tenants, err, sizeof(err)) == 0);
    CHECK(inlet_identity_for_device(tenants, "demo", "truck-0042", INLET_AUTH_TOKEN, &truck) ==
          INLET_OK);
    inlet_conf_release(inlet_tenant_options, &tc);
    inlet_conf_file_free(f);
    inlet_router_init(p, 1000, 2);
    inlet_router_set_world(tenants, schemas);
    queue = inlet_queue_new(NULL, err, sizeof(err));
    CHECK(queue != NULL);

    /* 1. Delivered: OK with the partition the murmur2 partitioner picks for the key. */
    CHECK(wait_ready(1, 5000));
    inlet_rejection *rej = NULL;
    int tag = 1;
    CHECK(submit(&tag, &rej) == INLET_OK);
    CHECK(inlet_queue_pending(queue) == 1);
    seen s = wait_completion(5000);
    CHECK(s.n == 1 && s.status == INLET_OK && s.opaque == &tag);
    CHECK(s.partition >= 0 && s.partition < 12 && s.offset >= 0);
    CHECK(inlet_queue_pending(queue) == 0);

    /* 2. Kafka keeps refusing the produce: after the delivery timeout the device is refused. */
    rd_kafka_resp_err_t errs[40];
    for (size_t i = 0; i < 40; i++)
        errs[i] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
    rd_kafka_mock_push_request_errors_array(mc, KAFKA_API_PRODUCE, 40, errs);
    CHECK(submit(&tag, &rej) == INLET_OK);
    s = wait_completion(8000);
    CHECK(s.n == 1);
    CHECK(s.status == INLET_E_UNAVAILABLE);
    CHECK(s.partition == -1 && s.offset == -1);
    CHECK(s.error[0] != '\0');
    rd_kafka_mock_clear_request_errors(mc, KAFKA_API_PRODUCE);

    /* 3. Broker down: readiness drops and submissions are refused at once, nothing queued. */
    rd_kafka_mock_broker_set_down(mc, 1);
    CHECK(wait_ready(0, 10000));
    rej = NULL;
    CHECK(submit(&tag, &rej) == INLET_E_UNAVAILABLE);
    CHECK(rej && rej->status == INLET_E_UNAVAILABLE);
    CHECK(inlet_queue_pending(queue) == 0);
    inlet_rejection_free(rej);

    /* 3b. Validation comes first: a payload that can never be valid is INVALID (400), not
     * "retry later", even while Kafka is down. */
    rej = NULL;
    CHECK(submit_body(invalid_body, &tag, &rej) == INLET_E_INVALID);
    CHECK(rej && rej->n_errors == 1 && strcmp(rej->errors[0].pointer, "/payload/lat") == 0);
    inlet_rejection_free(rej);

    /* 4. Broker back: accepted again. */
    rd_kafka_mock_broker_set_up(mc, 1);
    CHECK(wait_ready(1, 10000));
    CHECK(submit(&tag, NULL) == INLET_OK);
    s = wait_completion(8000);
    CHECK(s.n == 1 && s.status == INLET_OK);

    /* 4b. All or nothing: with room for 3 events in flight (max_queue_messages) and 2 of them
     * held by a slow broker, a batch of 2 is refused whole, nothing produced; once the first
     * batch is acknowledged the same batch goes through. */
    rd_kafka_mock_broker_set_rtt(mc, 1, 1500);
    int first = 10, second = 11;
    CHECK(submit_body(two_events_body, &first, NULL) == INLET_OK);
    rej = NULL;
    CHECK(submit_body(two_events_body, &second, &rej) == INLET_E_UNAVAILABLE);
    CHECK(rej && strstr(rej->message, "nothing was stored") && strstr(rej->message, "Queue full"));
    inlet_rejection_free(rej);
    CHECK(inlet_queue_pending(queue) == 1);
    rd_kafka_mock_broker_set_rtt(mc, 1, 0);
    s = wait_completion(8000);
    CHECK(s.n == 1 && s.status == INLET_OK && s.opaque == &first);
    CHECK(submit_body(two_events_body, &second, NULL) == INLET_OK);
    s = wait_completion(8000);
    CHECK(s.n == 1 && s.status == INLET_OK && s.opaque == &second);

    /* 5. Shutting down: refused with SHUTTING_DOWN. */
    inlet_router_shutdown();
    rej = NULL;
    CHECK(submit(&tag, &rej) == INLET_E_SHUTTING_DOWN);
    inlet_rejection_free(rej);

    CHECK(inlet_producer_drain(p, 2000) == 0);
    inlet_queue_free(queue);
    inlet_identity_release(truck);
    inlet_router_fini();
    inlet_producer_free(p);
    inlet_conf_release(inlet_settings_options, &settings);
    return check_done();
}
