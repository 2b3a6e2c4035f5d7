/* log.c - see log.h. Each message is formatted into one buffer and written with one write(2), so
 * lines from different threads never interleave. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_level = INLET_LOG_INFO;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void inlet_log_set_level(inlet_log_level level)
{
    atomic_store(&log_level, (int)level);
}

inlet_log_level inlet_log_get_level(void)
{
    return (inlet_log_level)atomic_load(&log_level);
}

int inlet_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

void inlet_vlogf(inlet_log_level level, const char *tag, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    int w = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s [%s] ", (long)(tv.tv_usec / 1000),
                     level_names[level], tag);
    if (w > 0)
        n += (size_t)w;
    if (n < sizeof(line)) {
        w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        if (w > 0)
            n += (size_t)w < sizeof(line) - n ? (size_t)w : sizeof(line) - n - 1;
    }
    if (n >= sizeof(line) - 1)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, line, n);
    (void)rc;
}

void inlet_logf(inlet_log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    inlet_vlogf(level, tag, fmt, ap);
    va_end(ap);
}
