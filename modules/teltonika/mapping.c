/*
 * mapping.c - AVL records -> the JSON batch the core validates against teltonika.avl v1
 * (mapping.h). Numbers are written exactly: coordinates as decimal fractions of the integer
 * degrees x 10^7, IO values as integers; the core writes them into the envelope canonically.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "mapping.h"

#define TLT_MAX_TIMESTAMP_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

void tlt_buf_free(tlt_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int buf_reserve(tlt_buf *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(tlt_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_str(tlt_buf *b, const char *s)
{
    return buf_put(b, s, strlen(s));
}

static int buf_printf(tlt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(tlt_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -1; /* every caller writes a bounded number or word */
    return buf_put(b, tmp, (size_t)n);
}

/* ---- IO names ---- */

static int cmp_name(const void *a, const void *b)
{
    return (int)((const tlt_io_name *)a)->id - (int)((const tlt_io_name *)b)->id;
}

static const char *name_check(const char *s)
{
    size_t len = strlen(s);
    bool digits = true;
    if (len == 0 || len > 64)
        return "a name is 1..64 characters";
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return "a name uses only a-z, 0-9 and _";
        digits = digits && c >= '0' && c <= '9';
    }
    return digits ? "a name must not be all digits (it would read as an IO id)" : NULL;
}

static int id_parse(const char *s, uint16_t *id)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || v > 65535)
        return -1;
    *id = (uint16_t)v;
    return 0;
}

int tlt_io_names_build(tlt_io_names *out, const char *const *ids, const char *const *names,
                       size_t n, const tlt_io_names *base, char *err, size_t err_len)
{
    size_t nb = base ? base->n : 0;
    out->items = calloc(nb + n + 1, sizeof(*out->items));
    out->n = 0;
    if (out->items == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        tlt_io_name e;
        const char *why;
        if (id_parse(ids[i], &e.id) != 0) {
            snprintf(err, err_len, "%.20s: an IO id is a number 0..65535", ids[i]);
            goto fail;
        }
        if ((why = name_check(names[i])) != NULL) {
            snprintf(err, err_len, "%u: %s", e.id, why);
            goto fail;
        }
        e.name = names[i];
        out->items[out->n++] = e;
    }
    /* base entries whose id the new table does not name */
    for (size_t i = 0; i < nb; i++) {
        bool over = false;
        for (size_t j = 0; j < n && !over; j++)
            over = out->items[j].id == base->items[i].id;
        if (!over)
            out->items[out->n++] = base->items[i];
    }
    qsort(out->items, out->n, sizeof(*out->items), cmp_name);
    for (size_t i = 0; i < out->n; i++) {
        for (size_t j = i + 1; j < out->n; j++) {
            if (strcmp(out->items[i].name, out->items[j].name) == 0) {
                snprintf(err, err_len, "%u and %u are both named %s", out->items[i].id,
                         out->items[j].id, out->items[i].name);
                goto fail;
            }
        }
        if (i > 0 && out->items[i - 1].id == out->items[i].id) {
            snprintf(err, err_len, "%u is named twice", out->items[i].id);
            goto fail;
        }
    }
    return 0;

fail:
    tlt_io_names_free(out);
    return -1;
}

void tlt_io_names_free(tlt_io_names *t)
{
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

const char *tlt_io_names_find(const tlt_io_names *t, uint16_t id)
{
    size_t lo = 0, hi = t ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].id == id)
            return t->items[mid].name;
        if (t->items[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- events ---- */

/* degrees x 10^7 as an exact decimal: -254.5 -> "-25.45" style, without trailing zeros. */
static int put_degrees(tlt_buf *b, int32_t v)
{
    int64_t a = v < 0 ? -(int64_t)v : v;
    char frac[8];
    snprintf(frac, sizeof(frac), "%07" PRId64, a % 10000000);
    size_t n = 7;
    while (n > 0 && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    return n ? buf_printf(b, "%s%" PRId64 ".%s", v < 0 ? "-" : "", a / 10000000, frac)
             : buf_printf(b, "%s%" PRId64, v < 0 ? "-" : "", a / 10000000);
}

static int put_ts(tlt_buf *b, uint64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL)
        return -1;
    return buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\"", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      (unsigned)(ms % 1000));
}

static int put_io(tlt_buf *b, const tlt_record *r, const tlt_io_names *names)
{
    static const char hex[] = "0123456789abcdef";
    tlt_io_iter it;
    tlt_io io;
    bool first = true;

    if (buf_str(b, "\"io\":{") != 0)
        return -1;
    tlt_io_begin(r, &it);
    while (tlt_io_next(&it, &io)) {
        const char *name = tlt_io_names_find(names, io.id);
        int rc = name ? buf_printf(b, "%s\"%s\":", first ? "" : ",", name)
                      : buf_printf(b, "%s\"%u\":", first ? "" : ",", io.id);
        if (rc != 0)
            return -1;
        first = false;
        if (io.size == 8) {
            /* 8-byte values as signed 64-bit (two's complement): every one fits the JSON
             * integer range the core accepts. */
            rc = buf_printf(b, "%" PRId64, (int64_t)io.value);
        } else if (io.size > 0) {
            rc = buf_printf(b, "%" PRIu64, io.value);
        } else {
            /* Codec 8E variable-length: lowercase hex */
            rc = buf_reserve(b, 2u * io.len + 2);
            if (rc == 0) {
                b->p[b->len++] = '"';
                for (size_t i = 0; i < io.len; i++) {
                    b->p[b->len++] = hex[io.bytes[i] >> 4];
                    b->p[b->len++] = hex[io.bytes[i] & 15];
                }
                b->p[b->len++] = '"';
                b->p[b->len] = '\0';
            }
        }
        if (rc != 0)
            return -1;
    }
    return buf_str(b, "}");
}

static const char *priority_word(uint8_t p)
{
    static const char *const words[] = {"low", "high", "panic"};
    return p < 3 ? words[p] : NULL;
}

static int put_event(tlt_buf *b, const char *imei, const tlt_record *r, const tlt_io_names *names)
{
    const char *prio = priority_word(r->priority);
    if (buf_printf(b, "{\"event_id\":\"%.15s-%" PRIu64 "-%04x\",\"ts\":", imei, r->timestamp_ms,
                   tlt_crc16(r->raw, r->raw_len)) != 0 ||
        put_ts(b, r->timestamp_ms) != 0 ||
        buf_str(b, ",\"use_case\":\"" TLT_SCHEMA "\",\"schema\":\"" TLT_SCHEMA_VERSION
                   "\",\"payload\":{\"codec\":\"") != 0 ||
        buf_str(b, tlt_codec_name(r->codec)) != 0)
        return -1;
    /* A priority outside 0..2 goes as its number: the schema refuses it by name. */
    if ((prio ? buf_printf(b, "\",\"priority\":\"%s\",\"lon\":", prio)
              : buf_printf(b, "\",\"priority\":%u,\"lon\":", r->priority)) != 0 ||
        put_degrees(b, r->longitude) != 0 || buf_str(b, ",\"lat\":") != 0 ||
        put_degrees(b, r->latitude) != 0 ||
        buf_printf(b, ",\"altitude_m\":%d,\"angle_deg\":%u,\"satellites\":%u,\"speed_kmh\":%u",
                   r->altitude, r->angle, r->satellites, r->speed) != 0 ||
        buf_printf(b, ",\"event_io_id\":%u", r->event_io) != 0)
        return -1;
    if (r->generation_type >= 0 &&
        buf_printf(b, ",\"generation_type\":%d", r->generation_type) != 0)
        return -1;
    if (buf_str(b, ",") != 0 || put_io(b, r, names) != 0)
        return -1;
    return buf_str(b, "}}");
}

int tlt_events_write(tlt_buf *out, const char *imei, const tlt_record *recs, size_t n,
                     const tlt_io_names *names, char *why, size_t why_len)
{
    out->len = 0;
    if (buf_str(out, "{\"events\":[") != 0)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        if (recs[i].timestamp_ms > (uint64_t)TLT_MAX_TIMESTAMP_MS) {
            snprintf(why, why_len, "record %zu: timestamp %" PRIu64 " ms is past 9999-12-31", i,
                     recs[i].timestamp_ms);
            return -1;
        }
        if ((i > 0 && buf_str(out, ",") != 0) || put_event(out, imei, &recs[i], names) != 0)
            goto oom;
    }
    if (buf_str(out, "]}") != 0)
        goto oom;
    return 0;

oom:
    snprintf(why, why_len, "out of memory");
    return -1;
}
