/*
 * mapping.h - AVL records onto Inlet events: one event of schema teltonika.avl v1 per record,
 * all records of a packet as one {"events": [...]} batch in the core's JSON event form
 * (docs/TELTONIKA.md has the table). Pure: the caller owns the buffer and the name table.
 */
#ifndef INLET_TELTONIKA_MAPPING_H
#define INLET_TELTONIKA_MAPPING_H

#include <stddef.h>
#include <stdint.h>

#include "avl.h"

#define TLT_SCHEMA         "teltonika.avl"
#define TLT_SCHEMA_VERSION "v1"

/* A growable text buffer; reused per loop. */
typedef struct tlt_buf {
    char *p; /* owned */
    size_t len, cap;
} tlt_buf;

void tlt_buf_free(tlt_buf *b);

/* IO ids -> names, sorted by id; one table per tenant (or for every tenant). */
typedef struct tlt_io_name {
    uint16_t id;
    const char *name; /* borrowed from the module's configuration */
} tlt_io_name;

typedef struct tlt_io_names {
    tlt_io_name *items; /* owned */
    size_t n;
} tlt_io_names;

/*
 * Build a table from configuration: keys are decimal IO ids (0..65535), values names of
 * 1..64 of [a-z0-9_], not all digits (so a name never reads as an id), unique within the table.
 * over (may be NULL) is merged over base (may be NULL): its entries win. -1 with err ("66: ...").
 */
int tlt_io_names_build(tlt_io_names *out, const char *const *ids, const char *const *names,
                       size_t n, const tlt_io_names *base, char *err, size_t err_len);
void tlt_io_names_free(tlt_io_names *t);
/* The name of id, or NULL. */
const char *tlt_io_names_find(const tlt_io_names *t, uint16_t id);

/*
 * Write the batch of n records from the tracker imei (15 digits) into out (replacing its
 * content; NUL-terminated). Event ids are "<imei>-<timestamp ms>-<CRC-16 of the record, hex>",
 * the same when the device sends the packet again. names may be NULL. -1 only when out of
 * memory or a timestamp is past 9999-12-31 (why says so).
 */
int tlt_events_write(tlt_buf *out, const char *imei, const tlt_record *recs, size_t n,
                     const tlt_io_names *names, char *why, size_t why_len);

#endif
