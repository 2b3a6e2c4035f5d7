/* value_write.h - compact JSON text of an inlet_value tree.
 *
 * The same bytes inlet_json_write (json_write.h) writes for the equal jansson value: object
 * members in stored order, strings escaped by inlet_buf_json_string, integers as %lld, reals in
 * the shortest form that reads back to the same double. BYTES become a base64url string (no
 * padding). A value whose canonical flag is set is copied from its raw text instead: that is
 * how a JSON payload goes through to the envelope untouched. */
#ifndef INLET_VALUE_WRITE_H
#define INLET_VALUE_WRITE_H

#include "buf.h"
#include "formats/value.h"

/* Appends v to b; on ENOMEM b->failed is set (as for every inlet_buf append). */
void inlet_value_write_json(inlet_buf *b, const inlet_value *v);

#endif
