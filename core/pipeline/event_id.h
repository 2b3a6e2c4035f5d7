/* event_id.h - generated event ids: UUIDv7 (RFC 9562), time-ordered so that ids sort roughly by
 * arrival, 74 random bits so that instances never coordinate. */
#ifndef INLET_EVENT_ID_H
#define INLET_EVENT_ID_H

#include <stddef.h>
#include <stdint.h>

/* out receives 36 characters and a NUL. */
void inlet_event_id_generate(int64_t now_us, char out[37]);
/* A device-supplied id must be 1..64 characters of [A-Za-z0-9._:-]. */
int inlet_event_id_valid(const char *s, size_t len);

#endif
