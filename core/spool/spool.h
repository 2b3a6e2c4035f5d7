/*
 * spool.h - the durable store-and-forward spool (docs/SPOOL.md): for tenants and schemas with
 * `ack: spool`, the router hands validated envelopes here instead of to the producer; they are
 * acknowledged once fsynced to the journal, and the forwarder produces them to Kafka after.
 *
 *   record.c     the on-disk record and segment header (pure; the fuzz target's subject)
 *   segment.c    segment files: names, creation, a buffered reader
 *   journal.c    the directory: append, group commit, bounds, checkpoint, recovery
 *   forwarder.c  journal -> Kafka in order; acknowledgements delete segments
 *   spool.c      this facade: the submit path and the lifecycle
 */
#ifndef INLET_SPOOL_H
#define INLET_SPOOL_H

#include <librdkafka/rdkafka.h>

#include "config/settings.h"
#include "inlet/module.h"
#include "kafka/producer.h"
#include "pipeline/envelope.h"

typedef struct inlet_spool inlet_spool;

/* Recover s->dir and start the committer and the forwarder. p is borrowed: it must outlive
 * the spool. */
int inlet_spool_open(const inlet_spool_settings *s, inlet_producer *p, inlet_spool **out, char *err,
                     size_t err_len);
/* Refuse new events, answer every pending one, stop forwarding (before the producer drains). */
void inlet_spool_stop(inlet_spool *sp);
/* After the producer was freed (its last delivery reports went to the forwarder). */
void inlet_spool_free(inlet_spool *sp);

/* 1 when every event of envs is to be acknowledged by the spool (see inlet_ack_mode). */
int inlet_spool_wanted(const inlet_identity *id, const inlet_envelope *envs, size_t n);

/* The Kafka headers of one envelope, as the router builds them for the producer. */
typedef rd_kafka_headers_t *(*inlet_spool_headers_fn)(const inlet_request *req,
                                                      const inlet_envelope *env);
/*
 * Write every envelope (topic, key, headers, value) to the journal as one run, or none; the
 * completion is delivered on req->queue once the fsync covering them returned. INLET_OK, or
 * INLET_E_UNAVAILABLE with *rej (retry_after_s set) when the spool is full, over its age bound
 * or its disk failed: nothing was stored then.
 */
inlet_status inlet_spool_submit(inlet_spool *sp, const inlet_request *req,
                                const inlet_envelope *envs, size_t n,
                                inlet_spool_headers_fn headers, int retry_after_s,
                                inlet_rejection **rej);

#endif
