/*
 * health.h - "can Kafka take writes?", asked on a path of its own. A second, idle librdkafka
 * handle is used for nothing but metadata requests, from its own thread, so a metadata request
 * never queues behind produce requests that wait for the acks of a dead replica (the producer's
 * connections do). Kafka counts as ready while metadata answers and every partition of every
 * configured topic that exists has a leader among the brokers the cluster lists. Topics that do
 * not exist are tracked one by one: their events are refused at once (missing_topic: not_ready)
 * and they heal by themselves when the topic is created.
 */
#ifndef INLET_KAFKA_HEALTH_H
#define INLET_KAFKA_HEALTH_H

#include <stddef.h>

#include "config/settings.h"

typedef struct inlet_kafka_health inlet_kafka_health;

/* settings are read during the call only. bootstrap, when not NULL, replaces
 * s->bootstrap_servers and drops test.mock.* properties: the producer's librdkafka mock cluster
 * (tests), which this handle must watch rather than start a cluster of its own. */
int inlet_kafka_health_new(const inlet_kafka_settings *s, const char *bootstrap,
                           inlet_kafka_health **out, char *err, size_t err_len);
int inlet_kafka_health_start(inlet_kafka_health *h, char *err, size_t err_len);
void inlet_kafka_health_free(inlet_kafka_health *h);

/*
 * Replace the set of topics to watch (copied; labels[i] names what needs topics[i] in messages,
 * e.g. "fleet.position@v1", and may be NULL). Topics already known keep their state. Then waits
 * up to wait_ms for one metadata check of the new set, so a reload learns about missing topics
 * before its first event. Thread-safe.
 */
void inlet_kafka_health_set_topics(inlet_kafka_health *h, const char *const *topics,
                                   const char *const *labels, size_t n, int wait_ms);

/* 1 when Kafka can take writes (see above). One atomic load. */
int inlet_kafka_health_ready(const inlet_kafka_health *h);
/* 1 when the last metadata said topic does not exist. One atomic load while no topic is
 * missing, a hash compared with the missing ones' otherwise (no lock); the lock only to confirm
 * a topic whose hash matches. */
int inlet_kafka_health_topic_missing(inlet_kafka_health *h, const char *topic);
/*
 * The topics found missing by the last check, comma-separated, in buf. Returns how many were
 * missing, or -1 when no check has answered since the topic set was last changed (Kafka
 * unreachable: nothing is known).
 */
int inlet_kafka_health_missing_topics(inlet_kafka_health *h, char *buf, size_t len);

/* The producer hands fatal errors here so readiness drops until its handle is recreated. */
void inlet_kafka_health_set_producer_fatal(inlet_kafka_health *h, int fatal);

#endif
