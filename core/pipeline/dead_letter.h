/*
 * dead_letter.h - a copy of each request refused as invalid, for tenants that declare
 * dead_letter: {topic, rate} (docs/DEAD-LETTER.md). Best effort: produced without waiting for
 * its acknowledgement, bounded by the tenant's rate, never changing the device's answer.
 */
#ifndef INLET_DEAD_LETTER_H
#define INLET_DEAD_LETTER_H

#include "inlet/module.h"
#include "kafka/producer.h"

/* Whether a refusal of this status is dead-lettered: INVALID, MEDIA_TYPE, UNKNOWN_SCHEMA. */
int inlet_dead_letter_applies(inlet_status st);

/* Produce req's body to its tenant's dead-letter topic, with the reason from st and rej (may be
 * NULL), if the tenant has one, st applies and the rate allows. Everything is borrowed. */
void inlet_dead_letter_offer(inlet_producer *p, const inlet_request *req, inlet_status st,
                             const inlet_rejection *rej);

#endif
