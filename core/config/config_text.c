/*
 * config_text.c - scalar text of configuration values: the strict parsers for bool, int, size and
 * duration, and the formatting of key paths, quoted values and units in error messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "config_internal.h"

#define QUOTE_MAX 40

const char *inlet_conf_shape(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    default:
        return conf_is_null(n) ? "an empty value" : "a scalar";
    }
}

static char printable(char c)
{
    unsigned char u = (unsigned char)c;
    return u < 0x20 || u == 0x7f ? '?' : c;
}

size_t inlet_conf_path_key(char *path, size_t len, const char *key, size_t key_len)
{
    if (len > 0 && len + 1 < INLET_CONF_PATH_MAX)
        path[len++] = '.';
    for (size_t i = 0; i < key_len && len + 1 < INLET_CONF_PATH_MAX; i++)
        path[len++] = printable(key[i]);
    path[len] = '\0';
    return len;
}

size_t inlet_conf_path_index(char *path, size_t len, size_t index)
{
    int n = snprintf(path + len, INLET_CONF_PATH_MAX - len, "[%zu]", index);
    if (n < 0)
        return len;
    len += (size_t)n;
    return len < INLET_CONF_PATH_MAX ? len : INLET_CONF_PATH_MAX - 1;
}

void inlet_conf_quote(char *out, size_t out_len, const char *text, size_t text_len)
{
    size_t o = 0, i = 0;
    if (out_len < 8) {
        if (out_len)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (; i < text_len && i < QUOTE_MAX && o + 5 < out_len; i++)
        out[o++] = printable(text[i]);
    if (i < text_len) {
        /* Do not leave half of a UTF-8 sequence before the ellipsis. */
        while (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
            o--;
        if (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
            o--;
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
}

void inlet_conf_format_size(char *out, size_t out_len, uint64_t bytes)
{
    static const struct {
        uint64_t mult;
        const char *unit;
    } units[] = {{1ull << 30, "g"}, {1ull << 20, "m"}, {1ull << 10, "k"}};
    for (size_t i = 0; bytes != 0 && i < sizeof units / sizeof units[0]; i++) {
        if (bytes % units[i].mult == 0) {
            snprintf(out, out_len, "%" PRIu64 "%s", bytes / units[i].mult, units[i].unit);
            return;
        }
    }
    snprintf(out, out_len, "%" PRIu64, bytes);
}

void inlet_conf_format_duration(char *out, size_t out_len, int64_t ms)
{
    static const struct {
        int64_t mult;
        const char *unit;
    } units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; ms != 0 && i < sizeof units / sizeof units[0]; i++) {
        if (ms % units[i].mult == 0) {
            snprintf(out, out_len, "%" PRId64 "%s", ms / units[i].mult, units[i].unit);
            return;
        }
    }
    snprintf(out, out_len, "%" PRId64 "ms", ms);
}

int inlet_conf_parse_bool(const char *s, bool *out)
{
    /* YAML 1.2 core schema: yes/no/on/off are strings there, so they are refused here. */
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        *out = false;
        return 0;
    }
    return -1;
}

int inlet_conf_parse_int(const char *s, int64_t *out)
{
    const char *digits = s[0] == '-' || s[0] == '+' ? s + 1 : s;
    char *end;
    if (digits[0] < '0' || digits[0] > '9')
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* Leading decimal digits of s into *n; returns the rest, or NULL if none or on overflow. */
static const char *parse_digits(const char *s, uint64_t *n)
{
    const char *p = s;
    *n = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*n > (UINT64_MAX - d) / 10)
            return NULL;
        *n = *n * 10 + d;
    }
    return p == s ? NULL : p;
}

int inlet_conf_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},
                 {"k", 1ull << 10},
                 {"kib", 1ull << 10},
                 {"m", 1ull << 20},
                 {"mib", 1ull << 20},
                 {"g", 1ull << 30},
                 {"gib", 1ull << 30}};
    uint64_t n;
    const char *unit = s ? parse_digits(s, &n) : NULL;
    if (!unit)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(unit, units[i].unit) == 0) {
            if (n > UINT64_MAX / units[i].mult)
                return -1;
            *out = n * units[i].mult;
            return 0;
        }
    }
    return -1;
}

int inlet_conf_parse_duration_ms(const char *s, int64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    uint64_t n;
    const char *unit = s ? parse_digits(s, &n) : NULL;
    if (!unit)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcasecmp(unit, units[i].unit) == 0) {
            if (n > (uint64_t)INT64_MAX / units[i].mult)
                return -1;
            *out = (int64_t)(n * units[i].mult);
            return 0;
        }
    }
    return -1;
}
