/*
 * forwarder.h - the thread that produces the spool journal to Kafka in order, through the
 * process's one producer (idempotent, acks=all), and tells the journal what Kafka acknowledged
 * so that whole segments can be deleted.
 *
 * At-least-once: after a failed delivery it waits for every record in flight, then produces
 * again from the first unacknowledged one (records after it that had succeeded are produced a
 * second time: the order of first copies is the journal's order, and event_id deduplicates).
 *
 * A batch Kafka refuses as too large (its topic's max.message.bytes) makes the records read
 * until then go one at a time; one refused alone three times in a row is copied to rejected/
 * (rejected.h) and let go, so that it does not hold back the records behind it.
 */
#ifndef INLET_SPOOL_FORWARDER_H
#define INLET_SPOOL_FORWARDER_H

#include "journal.h"
#include "kafka/producer.h"

typedef struct inlet_forwarder inlet_forwarder;

/* j, p and m are borrowed and must outlive the forwarder (p: until inlet_forwarder_free). */
int inlet_forwarder_new(inlet_journal *j, inlet_producer *p, const inlet_spool_settings *s,
                        inlet_spool_metrics *m, inlet_forwarder **out, char *err, size_t err_len);
int inlet_forwarder_start(inlet_forwarder *f, char *err, size_t err_len);
/* Stop producing (records in flight stay with the producer). */
void inlet_forwarder_stop(inlet_forwarder *f);
/* Take the last delivery reports (call after the producer was drained or freed) and free. */
void inlet_forwarder_free(inlet_forwarder *f);

#endif
