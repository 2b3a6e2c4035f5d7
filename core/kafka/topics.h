/*
 * topics.h - the Kafka topics a configuration produces to (every tenant's topic_prefix + every
 * schema's x-inlet-topic), watched for existence by the health handle, refused at once while
 * missing, and printed as kafka-topics.sh commands by `inletd topics`.
 */
#ifndef INLET_KAFKA_TOPICS_H
#define INLET_KAFKA_TOPICS_H

#include <stdio.h>

#include "identity/tenant.h"
#include "pipeline/envelope.h"
#include "producer.h"
#include "schema/schema.h"

/* One topic and what needs it. */
typedef struct inlet_topic_need {
    char *topic;
    char label[160]; /* "fleet.position@v1" (+ "and N more"), for messages */
    int partitions;  /* the largest x-inlet-topic-partitions of its schemas; 0 = none said */
    int replication; /* the largest x-inlet-topic-replication; 0 = none said */
} inlet_topic_need;

/* Every distinct topic of tenants x schemas, sorted by name; the caller frees with
 * inlet_topics_free(). -1 on ENOMEM. */
int inlet_topics_collect(const inlet_tenants *tenants, const inlet_schemas *schemas,
                         inlet_topic_need **out, size_t *n);
void inlet_topics_free(inlet_topic_need *t, size_t n);

/* Hand the configuration's topics to the producer's health watcher and wait up to wait_ms for
 * one check of them. */
void inlet_topics_watch(inlet_producer *p, const inlet_tenants *tenants,
                        const inlet_schemas *schemas, int wait_ms);

/* 1 and a message for the device in msg when one of the envelopes' topics is known missing. */
int inlet_topics_refuse_missing(inlet_producer *p, const inlet_envelope *envs, size_t n, char *msg,
                                size_t msg_len);

/*
 * missing_topic: refuse_start. Watch the new configuration's topics and, if Kafka says some are
 * missing, name them in err and return -1 (at a reload the previous topics are watched again).
 * Returns 0 when none is missing or when Kafka did not answer (nothing known: the daemon runs
 * and refuses those events once it knows).
 */
int inlet_topics_require(inlet_producer *p, const inlet_tenants *tenants,
                         const inlet_schemas *schemas, const inlet_tenants *prev_tenants,
                         const inlet_schemas *prev_schemas, int wait_ms, char *err, size_t err_len);

/* `inletd topics`: one kafka-topics.sh --create command per topic. default_partitions and
 * default_replication apply to schemas that declare none. */
void inlet_topics_print_create(FILE *out, const inlet_tenants *tenants,
                               const inlet_schemas *schemas, const char *bootstrap,
                               int default_partitions, int default_replication);

#endif
