/*
 * ident_error.h - filling a caller's error or message buffer, the way every function of the
 * identity code reports what went wrong. Both accept a NULL or zero-length buffer.
 */
#ifndef INLET_IDENT_ERROR_H
#define INLET_IDENT_ERROR_H

#include <stddef.h>

#include "inlet/module.h"

/* Formats into err and returns -1, so a failing path is "return inlet_ident_errf(...)". */
int inlet_ident_errf(char *err, size_t err_len, const char *fmt, ...) INLET_PRINTF(3, 4);

/* Formats into msg: the reason given with a refused credential or event. */
void inlet_ident_msgf(char *msg, size_t msg_len, const char *fmt, ...) INLET_PRINTF(3, 4);

/* s as untrusted text fit for a message: printable ASCII ('?' for anything else), cut to fit
 * buf. Returns buf. */
const char *inlet_ident_printable(const char *s, char *buf, size_t buf_len);

#endif
