/* buf.h - a growable byte buffer. Its data is malloc'd; inlet_buf_steal() hands it over.
 *
 * Appends are inline when the room is there (the envelope writer appends a few dozen pieces per
 * event); growing, and everything else, is out of line. */
#ifndef INLET_BUF_H
#define INLET_BUF_H

#include <stddef.h>
#include <string.h>

typedef struct inlet_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* set once an allocation failed; later appends are no-ops */
} inlet_buf;

void inlet_buf_init(inlet_buf *b, size_t hint);
void inlet_buf_free(inlet_buf *b);
/* Make room for extra more bytes (and the NUL); -1 once an allocation failed. */
int inlet_buf_reserve(inlet_buf *b, size_t extra);
void inlet_buf_append_slow(inlet_buf *b, const void *data, size_t len);
void inlet_buf_printf(inlet_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void inlet_buf_json_string(inlet_buf *b, const char *s, size_t len);
/* Returns the data (NUL-terminated, ownership passes to the caller) or NULL if an allocation
 * failed; the buffer is reset either way. */
char *inlet_buf_steal(inlet_buf *b, size_t *len);

static inline void inlet_buf_append(inlet_buf *b, const void *data, size_t len)
{
    if (b->len + len < b->cap) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return;
    }
    inlet_buf_append_slow(b, data, len);
}

static inline void inlet_buf_puts(inlet_buf *b, const char *s)
{
    inlet_buf_append(b, s, strlen(s));
}

static inline void inlet_buf_putc(inlet_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    inlet_buf_append_slow(b, &c, 1);
}

#endif
