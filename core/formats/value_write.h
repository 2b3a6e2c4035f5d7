/* value_write.h - an inlet_value as compact JSON: members in stored order, numbers in their
 * shortest round-trip form, byte strings as base64url text. A value whose canonical flag is set
 * is copied from its source text. */
#ifndef INLET_VALUE_WRITE_H
#define INLET_VALUE_WRITE_H

#include "buf.h"
#include "formats/value.h"

void inlet_value_write_json(inlet_buf *b, const inlet_value *v);

#endif
