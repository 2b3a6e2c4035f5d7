/* log.h - leveled logging to stderr, one line per message, safe from any thread. */
#ifndef INLET_LOG_H
#define INLET_LOG_H

#include <stdarg.h>

#include "inlet/module.h"

void inlet_log_set_level(inlet_log_level level);
inlet_log_level inlet_log_get_level(void);
/* Parse "error" | "warn" | "info" | "debug"; -1 if none. */
int inlet_log_level_parse(const char *s);
void inlet_logf(inlet_log_level level, const char *tag, const char *fmt, ...) INLET_PRINTF(3, 4);
void inlet_vlogf(inlet_log_level level, const char *tag, const char *fmt, va_list ap);

#define inlet_log_error(...) inlet_logf(INLET_LOG_ERROR, "core", __VA_ARGS__)
#define inlet_log_warn(...)  inlet_logf(INLET_LOG_WARN, "core", __VA_ARGS__)
#define inlet_log_info(...)  inlet_logf(INLET_LOG_INFO, "core", __VA_ARGS__)
#define inlet_log_debug(...) inlet_logf(INLET_LOG_DEBUG, "core", __VA_ARGS__)

#endif
