/* test_kafka_health.c - the readiness rule and the missing-topic watch of core/kafka/health.c,
 * against librdkafka's mock cluster (3 brokers): a partition without a leader makes Kafka not
 * ready, a follower broker going down does not, a topic that does not exist is reported missing
 * until it is created. (A real 3-broker kill: tests/bench/broker_kill_readiness.py.) */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"
#include "config/settings.h"
#include "kafka/health.h"
#include "kafka/producer.h"
#include "metrics.h"

static int wait_for(int (*probe)(inlet_producer *), inlet_producer *p, int want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (probe(p) == want)
            return 1;
        usleep(50 * 1000);
    }
    return 0;
}

static int ready(inlet_producer *p)
{
    return inlet_producer_ready(p);
}

static int new_topic_missing(inlet_producer *p)
{
    return inlet_kafka_health_topic_missing(inlet_producer_health(p), "new.topic");
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
    k->health_interval_ms = 100;
    k->properties.keys = calloc(1, sizeof(char *));
    k->properties.values = calloc(1, sizeof(char *));
    k->properties.keys[0] = strdup("test.mock.num.brokers");
    k->properties.values[0] = strdup("3");
    k->properties.count = 1;

    inlet_producer *p = NULL;
    CHECK(inlet_producer_new(k, &p, err, sizeof(err)) == 0);
    if (!p) {
        fprintf(stderr, "%s\n", err);
        return check_done();
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(inlet_producer_handle(p));
    CHECK(mc != NULL);
    rd_kafka_mock_topic_create(mc, "fleet.updates.v1", 3, 3);
    CHECK(inlet_producer_start(p, err, sizeof(err)) == 0);
    inlet_kafka_health *h = inlet_producer_health(p);
    const char *topics[] = {"fleet.updates.v1", "new.topic"};
    const char *labels[] = {"fleet.position@v1", "new@v1"};
    inlet_kafka_health_set_topics(h, topics, labels, 2, 5000);

    /* The existing topic has leaders: ready; the other is missing, by name. */
    CHECK(wait_for(ready, p, 1, 5000));
    char missing[256];
    CHECK(inlet_kafka_health_missing_topics(h, missing, sizeof(missing)) == 1);
    CHECK_STR(missing, "new.topic");
    CHECK(inlet_kafka_health_topic_missing(h, "new.topic") == 1);
    CHECK(inlet_kafka_health_topic_missing(h, "fleet.updates.v1") == 0);
    CHECK(inlet_kafka_health_topic_missing(h, "never.watched") == 0);

    /* A partition without a leader: Kafka cannot take writes for it. */
    rd_kafka_mock_partition_set_leader(mc, "fleet.updates.v1", 1, -1);
    CHECK(wait_for(ready, p, 0, 5000));
    rd_kafka_mock_partition_set_leader(mc, "fleet.updates.v1", 1, 2);
    CHECK(wait_for(ready, p, 1, 5000));

    /* Leaders on brokers 1 and 2 only; broker 3 (a follower) goes down: still ready. */
    for (int part = 0; part < 3; part++)
        rd_kafka_mock_partition_set_leader(mc, "fleet.updates.v1", part, 1 + part % 2);
    rd_kafka_mock_broker_set_down(mc, 3);
    usleep(1000 * 1000);
    CHECK(ready(p) == 1);
    rd_kafka_mock_broker_set_up(mc, 3);

    /* The topic is created: no longer missing, without a restart. */
    rd_kafka_mock_topic_create(mc, "new.topic", 1, 3);
    CHECK(wait_for(new_topic_missing, p, 0, 5000));
    CHECK(inlet_kafka_health_missing_topics(h, missing, sizeof(missing)) == 0);

    inlet_producer_free(p);
    inlet_conf_release(inlet_settings_options, &settings);
    inlet_metrics_shutdown();
    return check_done();
}
