/* log.c - see log.h. Each message is formatted into one buffer and written with one write(2), so
 * lines from different threads never interleave. */
#include "log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096

static _Atomic int log_level = INLET_LOG_INFO;
static _Atomic int log_format = INLET_LOG_FORMAT_TEXT;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void inlet_log_set_level(inlet_log_level level)
{
    atomic_store(&log_level, (int)level);
}

inlet_log_level inlet_log_get_level(void)
{
    return (inlet_log_level)atomic_load(&log_level);
}

void inlet_log_set_format(inlet_log_format format)
{
    atomic_store(&log_format, (int)format);
}

inlet_log_format inlet_log_get_format(void)
{
    return (inlet_log_format)atomic_load(&log_format);
}

int inlet_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* A line being built; output past the end is dropped and the line ends early. */
typedef struct line_buf {
    char b[LINE_MAX_BYTES];
    size_t n;
    size_t reserve; /* bytes kept for what closes the line (JSON: the string's quote and '}') */
} line_buf;

static void put_within(line_buf *l, const char *s, size_t len, size_t reserve)
{
    size_t limit = sizeof(l->b) - 1 - reserve; /* and always room for '\n' */
    size_t room = l->n < limit ? limit - l->n : 0;
    if (len > room)
        len = room;
    memcpy(l->b + l->n, s, len);
    l->n += len;
}

static void put(line_buf *l, const char *s, size_t len)
{
    put_within(l, s, len, l->reserve);
}

/* What closes a line, into the reserved room. */
static void put_closing(line_buf *l, const char *s)
{
    put_within(l, s, strlen(s), 0);
}

static void puts_(line_buf *l, const char *s)
{
    put(l, s, strlen(s));
}

/* s as the inside of a JSON string (RFC 8259 section 7); bytes >= 0x80 pass through. */
static void put_json_escaped(line_buf *l, const char *s)
{
    for (; *s; s++) {
        if (l->n + 6 + l->reserve >= sizeof(l->b) - 1)
            return; /* cut at a character, never inside an escape */
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c == '\n') {
            put(l, "\\n", 2);
        } else if (c == '\t') {
            put(l, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            put(l, esc, 6);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
}

static void put_json_string(line_buf *l, const char *s)
{
    if (l->n + 8 + l->reserve >= sizeof(l->b) - 1)
        return; /* no room for even an empty string: the caller's key goes too (see emit) */
    put(l, "\"", 1);
    put_json_escaped(l, s);
    put_closing(l, "\"");
}

/* A text value: bare when it is one word, else quoted with " and \ escaped. */
static void put_text_value(line_buf *l, const char *s)
{
    int bare = *s != '\0';
    for (const char *p = s; *p && bare; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
            bare = 0;
    if (bare)
        puts_(l, s);
    else
        put_json_string(l, s);
}

static void put_timestamp(line_buf *l)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
    puts_(l, ts);
}

static void emit(inlet_log_level level, const char *tag, const char *msg,
                 const inlet_log_field *fields, size_t n_fields)
{
    line_buf l;
    l.n = 0;
    l.reserve = 0;
    if (atomic_load(&log_format) == INLET_LOG_FORMAT_JSON) {
        l.reserve = 4; /* '"' and '}' */
        puts_(&l, "{\"ts\":\"");
        put_timestamp(&l);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, level_names[level]);
        puts_(&l, "\",\"tag\":");
        put_json_string(&l, tag);
        puts_(&l, ",\"msg\":");
        put_json_string(&l, msg);
        for (size_t i = 0; i < n_fields; i++) {
            /* a member whose key and start of value do not fit is left out whole */
            if (!fields[i].value || l.n + strlen(fields[i].key) + 16 + l.reserve >= sizeof(l.b) - 1)
                continue;
            put(&l, ",", 1);
            put_json_string(&l, fields[i].key);
            put(&l, ":", 1);
            put_json_string(&l, fields[i].value);
        }
        put_closing(&l, "}");
    } else {
        char head[64];
        put_timestamp(&l);
        snprintf(head, sizeof(head), " %-5s [", level_names[level]);
        puts_(&l, head);
        puts_(&l, tag);
        puts_(&l, "] ");
        puts_(&l, msg);
        for (size_t i = 0; i < n_fields; i++) {
            if (!fields[i].value)
                continue;
            put(&l, " ", 1);
            puts_(&l, fields[i].key);
            put(&l, "=", 1);
            put_text_value(&l, fields[i].value);
        }
    }
    l.b[l.n++] = '\n';
    ssize_t rc = write(STDERR_FILENO, l.b, l.n);
    (void)rc;
}

void inlet_vlogf(inlet_log_level level, const char *tag, const char *fmt, va_list ap)
{
    if ((int)level > atomic_load(&log_level))
        return;
    char msg[LINE_MAX_BYTES / 2];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    emit(level, tag, msg, NULL, 0);
}

void inlet_logf(inlet_log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    inlet_vlogf(level, tag, fmt, ap);
    va_end(ap);
}

void inlet_log_fields(inlet_log_level level, const char *tag, const char *msg,
                      const inlet_log_field *fields, size_t n_fields)
{
    if ((int)level > atomic_load(&log_level))
        return;
    emit(level, tag, msg, fields, n_fields);
}
