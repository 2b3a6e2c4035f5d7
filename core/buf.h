/* buf.h - a growable byte buffer. Its data is malloc'd; inlet_buf_steal() hands it over. */
#ifndef INLET_BUF_H
#define INLET_BUF_H

#include <stddef.h>

typedef struct inlet_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are no-ops */
} inlet_buf;

void inlet_buf_init(inlet_buf *b, size_t hint);
void inlet_buf_free(inlet_buf *b);
void inlet_buf_append(inlet_buf *b, const void *data, size_t len);
void inlet_buf_puts(inlet_buf *b, const char *s);
void inlet_buf_putc(inlet_buf *b, char c);
void inlet_buf_printf(inlet_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void inlet_buf_json_string(inlet_buf *b, const char *s, size_t len);
/* Returns the data (NUL-terminated, ownership passes to the caller) or NULL if an allocation
 * failed; the buffer is reset either way. */
char *inlet_buf_steal(inlet_buf *b, size_t *len);

#endif
