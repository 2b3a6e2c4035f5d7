/*
 * ident_error.c - formatting into caller-supplied error and message buffers.
 */
#include <stdarg.h>
#include <stdio.h>

#include "ident_error.h"

int inlet_ident_errf(char *err, size_t err_len, const char *fmt, ...)
{
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void inlet_ident_msgf(char *msg, size_t msg_len, const char *fmt, ...)
{
    if (msg && msg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msg_len, fmt, ap);
        va_end(ap);
    }
}

const char *inlet_ident_printable(const char *s, char *buf, size_t buf_len)
{
    size_t o = 0;

    for (; *s && o + 1 < buf_len; s++)
        buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    buf[o] = '\0';
    return buf;
}
