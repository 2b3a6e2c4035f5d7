/*
 * senml_records.h - SenML records resolved one by one (RFC 8428 §4.6), the step before
 * formats/senml.c groups them into events.
 *
 * Exposed on its own so that a record's resolution can be checked against the RFC's resolved
 * form (§5.1.4) even where grouping by time refuses the pack.
 */
#ifndef INLET_SENML_RECORDS_H
#define INLET_SENML_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/formats.h"

typedef struct inlet_senml_record {
    uint32_t index;   /* position in the pack */
    const char *name; /* resolved name: base name then name, NUL-terminated */
    uint32_t name_len;
    const char *n; /* the name as written ("" when the record has none) */
    uint32_t n_len;
    const char *unit;  /* u, else the base unit in force, else NULL */
    double time_s;     /* resolved absolute time, seconds since the epoch */
    int is_sum;        /* value is the sum (s plus base sum): the record has no value field */
    inlet_value value; /* v (plus base value) as a number, vs a string, vb a boolean, vd bytes */
} inlet_senml_record;

/*
 * Resolve every record of pack (a decoded SenML pack: an array of objects, with JSON labels
 * or, from CBOR decoded with INLET_CBOR_INT_KEYS, their integer labels as decimal text).
 * Records and resolved names are allocated from a; strings and units point into pack, which
 * must outlive them. Returns 0, or -1 with err->pointer ("/3/v") and a message naming the
 * record and label.
 */
int inlet_senml_resolve_records(inlet_arena *a, const inlet_value *pack, int64_t received_at_us,
                                inlet_senml_record **records, size_t *n_records,
                                inlet_format_error *err);

#endif
