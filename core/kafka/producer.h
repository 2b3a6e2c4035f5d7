/*
 * producer.h - the one librdkafka producer of the process: idempotent, acks=all, murmur2
 * partitioner (the Java client's, so partitions match Java producers for the same key). A poll
 * thread serves delivery reports and completes submissions, and recreates the librdkafka handle
 * in place after a fatal error. Readiness comes from a separate metadata-only handle (health.h).
 */
#ifndef INLET_PRODUCER_H
#define INLET_PRODUCER_H

#include <librdkafka/rdkafka.h>

#include "health.h"
#include "queue.h"
#include "config/settings.h"

typedef struct inlet_producer inlet_producer;

int inlet_producer_new(const inlet_kafka_settings *s, inlet_producer **out, char *err,
                       size_t err_len);
/* Start the poll and health threads. */
int inlet_producer_start(inlet_producer *p, char *err, size_t err_len);

/*
 * Produce one message. value is copied (librdkafka allocates the message and its payload as one
 * block, so copying costs less than a second allocation); headers pass to the producer on
 * success and stay the caller's on failure. The slot's result is filled and its submission put when
 * the delivery report arrives. Returns 0 or the librdkafka error (e.g.
 * RD_KAFKA_RESP_ERR__QUEUE_FULL).
 */
rd_kafka_resp_err_t inlet_producer_send(inlet_producer *p, const char *topic, const char *key,
                                        size_t key_len, const char *value, size_t value_len,
                                        rd_kafka_headers_t *headers, inlet_slot *slot);

/*
 * Room for n messages of bytes in total (envelope values), reserved before a batch is produced
 * so that it goes to Kafka whole or not at all; -1 when the producer's bound would be
 * exceeded (nothing reserved). Each delivery report gives its message's room back; a message
 * that is not produced after all is given back with inlet_producer_unreserve().
 */
int inlet_producer_reserve(inlet_producer *p, size_t n, size_t bytes);
void inlet_producer_unreserve(inlet_producer *p, size_t n, size_t bytes);
/* The cached handle of a topic, created on first use; NULL when the cache (bounded) is full.
 * Valid until the producer is freed. */
rd_kafka_topic_t *inlet_producer_topic(inlet_producer *p, const char *topic);
/* inlet_producer_send() to a handle from inlet_producer_topic(). */
rd_kafka_resp_err_t inlet_producer_send_to(inlet_producer *p, rd_kafka_topic_t *rkt,
                                           const char *key, size_t key_len, const char *value,
                                           size_t value_len, rd_kafka_headers_t *headers,
                                           inlet_slot *slot);

/* 1 when Kafka can take writes (health.h) and the producer is not being recreated. */
int inlet_producer_ready(const inlet_producer *p);
/* The producer's health watcher (the topics it checks, readiness). */
inlet_kafka_health *inlet_producer_health(inlet_producer *p);
/* How many times a fatal error made the producer recreate its handle. */
int inlet_producer_recreations(const inlet_producer *p);
/* Wait up to timeout_ms for every message to be delivered; then purge what is left so its
 * submissions complete with a failure. Returns the number of messages that were purged. */
int inlet_producer_drain(inlet_producer *p, int timeout_ms);
/* The current librdkafka handle, for fault-injection tests (mock cluster,
 * rd_kafka_test_fatal_error()). */
rd_kafka_t *inlet_producer_handle(inlet_producer *p);
/* Stop threads and destroy. Call after drain. */
void inlet_producer_free(inlet_producer *p);

#endif
