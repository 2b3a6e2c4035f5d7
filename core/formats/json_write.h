/* json_write.h - compact JSON serialization of a jansson value, keeping object key order and
 * writing each number in the shortest form that reads back to the same double (so 52.52 stays
 * 52.52, where %.17g would write 52.520000000000003). */
#ifndef INLET_JSON_WRITE_H
#define INLET_JSON_WRITE_H

#include <jansson.h>

#include "buf.h"

void inlet_json_write(inlet_buf *b, const json_t *v);
/* Shortest round-trip text of d into out (at least 32 bytes); returns its length. */
size_t inlet_json_format_double(double d, char *out);

#endif
