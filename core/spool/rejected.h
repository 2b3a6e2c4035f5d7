/*
 * rejected.h - where the forwarder puts a spooled record that Kafka refuses for good, so that
 * it stops blocking the records behind it without being lost: <spool.dir>/rejected/ holds, per
 * record, <seq>.value (the Kafka value, byte for byte) and <seq>.json (topic, key, headers, when
 * it was spooled, and Kafka's reason), both fsynced before the journal lets the record go. An
 * operator replays them with kcat once the topic takes them (docs/SPOOL.md). The copies are
 * bounded by spool.rejected_max_bytes; past it a refused record is dropped and logged.
 */
#ifndef INLET_SPOOL_REJECTED_H
#define INLET_SPOOL_REJECTED_H

#include <stdint.h>

#include "record.h"

typedef struct inlet_spool_rejected {
    int dirfd;          /* <spool.dir>/rejected, or -1 when it could not be opened */
    uint64_t bytes;     /* what its files take now */
    uint64_t max_bytes; /* spool.rejected_max_bytes */
} inlet_spool_rejected;

/* Create or open rejected/ in the spool directory and add up what it holds. -1 with errno. */
int inlet_spool_rejected_open(inlet_spool_rejected *r, int spool_dirfd, uint64_t max_bytes);
void inlet_spool_rejected_close(inlet_spool_rejected *r);

typedef enum {
    INLET_REJECTED_KEPT = 0,  /* both files written and fsynced */
    INLET_REJECTED_FULL = 1,  /* over max_bytes: nothing written */
    INLET_REJECTED_IOERR = -1 /* errno says why; what was half written is removed */
} inlet_rejected_status;

/* Keep record seq (decoded, or as the forwarder read it) with Kafka's reason why. */
inlet_rejected_status inlet_spool_rejected_keep(inlet_spool_rejected *r, uint64_t seq,
                                                const inlet_spool_record *rec, const char *why);

#endif
