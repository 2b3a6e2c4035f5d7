/*
 * journal.h - the spool's append-only journal: a directory of segment files (record.h), the
 * group commit that fsyncs them, the size and age bounds, the checkpoint of what Kafka has
 * acknowledged, and recovery after a crash (torn tails cut at the last whole record).
 *
 * Threads: any thread appends; one committer thread fsyncs and calls each append's done
 * callback once the fsync covering it returned; the forwarder reads segments and reports
 * acknowledgements, which delete whole segments.
 */
#ifndef INLET_SPOOL_JOURNAL_H
#define INLET_SPOOL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/settings.h"
#include "spool_metrics.h"

typedef struct inlet_journal inlet_journal;

/* ok: 1 when the fsync covering the records returned success, 0 when it failed (the records
 * may or may not be on disk). Called on the committer thread, without locks held. */
typedef void (*inlet_journal_done_fn)(void *arg, int ok);

typedef enum {
    INLET_JOURNAL_OK = 0,
    INLET_JOURNAL_FULL = 1,   /* max_bytes reached */
    INLET_JOURNAL_AGED = 2,   /* the oldest unforwarded event is older than max_age (refuse) */
    INLET_JOURNAL_BROKEN = 3, /* a write or fsync failed; nothing more is accepted */
    INLET_JOURNAL_STOPPED = 4
} inlet_journal_status;

/* Open (creating) s->dir, take its lock, recover the segments (logging what it cut) and start
 * a new write segment. metrics is borrowed. */
int inlet_journal_open(const inlet_spool_settings *s, inlet_spool_metrics *metrics,
                       inlet_journal **out, char *err, size_t err_len);
int inlet_journal_start(inlet_journal *j, char *err, size_t err_len);

/*
 * Append n_records already-encoded records (bytes[0..len), record.h frames) as one contiguous
 * run; done(arg, ok) follows once they are fsynced. On anything but OK nothing was written and
 * done is not called; why says what to tell the device. Any thread.
 */
inlet_journal_status inlet_journal_append(inlet_journal *j, const void *bytes, size_t len,
                                          size_t n_records, inlet_journal_done_fn done, void *arg,
                                          char *why, size_t why_len);

/* Forwarder side. */
/* Records with seq < this are fsynced. */
uint64_t inlet_journal_durable(inlet_journal *j);
/* An eventfd that becomes readable when durable() advanced. */
int inlet_journal_wake_fd(inlet_journal *j);
int inlet_journal_dirfd(inlet_journal *j);
/* The first sequence number to forward: the checkpoint, or the oldest record after it. */
uint64_t inlet_journal_first_unacked(inlet_journal *j);
/* The segment that holds seq, or else the first after it: 0 with its first_seq, -1 if none. */
int inlet_journal_segment_at(inlet_journal *j, uint64_t seq, uint64_t *first_seq);
/*
 * Every record with seq < acked_seq is in Kafka (or dropped as expired): n_records of them,
 * bytes long, since the last call. Deletes segments that hold nothing else and writes the
 * checkpoint (not fsynced: a stale checkpoint only re-produces records). oldest_us is the
 * spooled_at of the oldest record still waiting (0: none).
 */
void inlet_journal_acked(inlet_journal *j, uint64_t acked_seq, uint64_t n_records, uint64_t bytes,
                         int64_t oldest_us);
/* Stop: wait for the last group commit (every append answered), stop the committer. */
void inlet_journal_stop(inlet_journal *j);
void inlet_journal_free(inlet_journal *j);

#endif
