/* log.h - leveled logging to stderr, one line per message, safe from any thread. Lines are text
 * ("<ts> <level> [<tag>] <msg> k=v ...") or, with log_format: json, one JSON object per line
 * ({"ts","level","tag","msg", and each structured field}). */
#ifndef INLET_LOG_H
#define INLET_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "inlet/module.h"

typedef enum inlet_log_format {
    INLET_LOG_FORMAT_TEXT = 0,
    INLET_LOG_FORMAT_JSON = 1,
} inlet_log_format;

/* One structured field of a log line; a NULL value is left out. */
typedef struct inlet_log_field {
    const char *key;
    const char *value;
} inlet_log_field;

void inlet_log_set_level(inlet_log_level level);
inlet_log_level inlet_log_get_level(void);
void inlet_log_set_format(inlet_log_format format);
inlet_log_format inlet_log_get_format(void);
/* Parse "error" | "warn" | "info" | "debug"; -1 if none. */
int inlet_log_level_parse(const char *s);
void inlet_logf(inlet_log_level level, const char *tag, const char *fmt, ...) INLET_PRINTF(3, 4);
void inlet_vlogf(inlet_log_level level, const char *tag, const char *fmt, va_list ap);
/* A message with structured fields: text appends " key=value" (quoted when needed), JSON adds
 * the members. */
void inlet_log_fields(inlet_log_level level, const char *tag, const char *msg,
                      const inlet_log_field *fields, size_t n_fields);

#define inlet_log_error(...) inlet_logf(INLET_LOG_ERROR, "core", __VA_ARGS__)
#define inlet_log_warn(...)  inlet_logf(INLET_LOG_WARN, "core", __VA_ARGS__)
#define inlet_log_info(...)  inlet_logf(INLET_LOG_INFO, "core", __VA_ARGS__)
#define inlet_log_debug(...) inlet_logf(INLET_LOG_DEBUG, "core", __VA_ARGS__)

#endif
