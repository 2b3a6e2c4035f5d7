/* rfc3339.h - RFC 3339 date-time parsing and UTC formatting. */
#ifndef INLET_RFC3339_H
#define INLET_RFC3339_H

#include <stddef.h>
#include <stdint.h>

typedef struct inlet_time {
    int64_t epoch_s; /* seconds since 1970-01-01T00:00:00Z (UTC, offset applied) */
    int32_t nanos;   /* 0..999999999 */
    int frac_digits; /* fractional digits as written (0..9) */
} inlet_time;

/* Strict RFC 3339 section 5.6 date-time ("T"/"t", "Z"/"z" or +hh:mm offset; leap second 60 is
 * accepted only at 23:59:60). Returns 0 on success, -1 otherwise. */
int inlet_rfc3339_parse(const char *s, size_t len, inlet_time *out);
/* Format as UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z" with t->frac_digits digits (0, or 3/6/9 rounded up
 * to the next of those). Returns the length written (excluding NUL), or 0 if buf is too small. */
size_t inlet_rfc3339_format(const inlet_time *t, char *buf, size_t buf_len);
/* Format microseconds since the epoch with millisecond precision ("...T10:15:30.123Z"). */
size_t inlet_rfc3339_format_us(int64_t epoch_us, char *buf, size_t buf_len);

#endif
