/*
 * delivery_outcome.h - what a delivery report means for the device: persisted, not persisted
 * (nothing reached the broker's log: safe to resend) or possibly persisted (the request may have
 * been written before the failure: resend with the same event_id so consumers can deduplicate).
 * Pure functions, unit-tested in tests/unit/test_delivery_outcome.c.
 */
#ifndef INLET_DELIVERY_OUTCOME_H
#define INLET_DELIVERY_OUTCOME_H

#include <librdkafka/rdkafka.h>

#include "inlet/module.h"

typedef struct inlet_delivery_outcome {
    inlet_status status; /* INLET_OK, INLET_E_UNAVAILABLE or INLET_E_POSSIBLY_PERSISTED */
    const char *error;   /* static text for the device; NULL on success */
} inlet_delivery_outcome;

/* The outcome of a delivery report with error err and rd_kafka_message_status() ms. A failure
 * whose status librdkafka reports as PERSISTED (it cannot be both, but the enum allows it) is
 * treated as possibly persisted: never tell a device "not stored" when it may be. */
inlet_delivery_outcome inlet_delivery_outcome_of(rd_kafka_resp_err_t err, rd_kafka_msg_status_t ms);

/*
 * 1 when a failed event's error (inlet_event_result.error) says the broker refused its batch as
 * too large (MSG_SIZE_TOO_LARGE, RECORD_LIST_TOO_LARGE): not persisted, and resending the same
 * batch fails the same way. librdkafka refuses the whole batch of a partition, so an event that
 * fits on its own may be told this when batched with others (the spool's forwarder then
 * produces its records one at a time, forwarder.c). Devices are still answered
 * INLET_E_UNAVAILABLE: their event may well fit in another batch.
 */
int inlet_delivery_refused_too_large(const char *error);

/* The status a module built against ABI minor abi_minor may receive: modules older than 1.5 do
 * not know INLET_E_POSSIBLY_PERSISTED and get INLET_E_UNAVAILABLE in its place. */
inlet_status inlet_delivery_status_for_module(inlet_status st, uint32_t abi_minor);

#endif
