/*
 * json_number.h - one JSON number's text to an inlet_value, by jansson 2.14's rules (internal to
 * formats/, used by json_parse.c).
 *
 * Without a fraction or an exponent the number is an INT, as strtoll reads it ("-0" is 0) and
 * refused outside int64. Otherwise it is a REAL, the correctly rounded double strtod gives
 * (underflow to 0 or a subnormal accepted, overflow refused). The value's canonical flag says
 * whether its text is what inlet_value_write_json writes for it.
 */
#ifndef INLET_JSON_NUMBER_H
#define INLET_JSON_NUMBER_H

#include "formats/arena.h"
#include "formats/value.h"

typedef enum inlet_json_number_status {
    INLET_JSON_NUMBER_OK = 0,
    INLET_JSON_NUMBER_INVALID,       /* not a JSON number: "-", "01", "1.", "1e" */
    INLET_JSON_NUMBER_BIG_INT,       /* "too big integer" */
    INLET_JSON_NUMBER_BIG_NEG_INT,   /* "too big negative integer" */
    INLET_JSON_NUMBER_REAL_OVERFLOW, /* "real number overflow" */
    INLET_JSON_NUMBER_NOMEM,         /* a long real needed a copy the arena refused */
} inlet_json_number_status;

/*
 * p points at '-' or a digit, p < end. Scans the longest number there into v (type, u,
 * canonical, raw, raw_len; n = 0) and returns the byte after it; on failure returns NULL and
 * *status says why (*status is INLET_JSON_NUMBER_OK on success). What follows the number is
 * the caller's to judge. a holds a NUL-terminated copy of a real too long for the stack.
 */
const char *inlet_json_number_parse(inlet_arena *a, const char *p, const char *end, inlet_value *v,
                                    inlet_json_number_status *status);

#endif
