/*
 * rfc3339.c - RFC 3339 section 5.6 date-time parsing and UTC formatting.
 *
 * Calendar arithmetic is done here (proleptic Gregorian, days-from-civil after H. Hinnant) so
 * that the result never depends on the process time zone and never calls timegm().
 */
#include "rfc3339.h"

#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

static int is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of y-m-d; valid for any year representable in int64 / 366. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Exactly n ASCII digits at s. */
static int parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int inlet_rfc3339_parse(const char *s, size_t len, inlet_time *out)
{
    int year, month, day, hour, minute, second, off_h = 0, off_m = 0, off_sign = 0;
    int32_t nanos = 0;
    int frac_digits = 0;
    size_t i;

    /* The shortest form is "YYYY-MM-DDTHH:MM:SSZ". */
    if (!s || len < 20)
        return -1;
    if (parse_digits(s, 4, &year) || s[4] != '-' || parse_digits(s + 5, 2, &month) || s[7] != '-' ||
        parse_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
        parse_digits(s + 11, 2, &hour) || s[13] != ':' || parse_digits(s + 14, 2, &minute) ||
        s[16] != ':' || parse_digits(s + 17, 2, &second))
        return -1;
    i = 19;
    if (s[i] == '.') {
        i++;
        size_t start = i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            /* RFC 3339 allows any number of digits; beyond nanoseconds they are dropped. */
            if (frac_digits < 9) {
                nanos = nanos * 10 + (s[i] - '0');
                frac_digits++;
            }
        }
        if (i == start)
            return -1;
        for (int k = frac_digits; k < 9; k++)
            nanos *= 10;
    }
    if (i >= len)
        return -1;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        off_sign = s[i] == '+' ? 1 : -1;
        if (len - i < 6 || parse_digits(s + i + 1, 2, &off_h) || s[i + 3] != ':' ||
            parse_digits(s + i + 4, 2, &off_m))
            return -1;
        i += 6;
    } else {
        return -1;
    }
    if (i != len)
        return -1;

    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 60 || off_h > 23 || off_m > 59)
        return -1;
    int offset_min = off_sign * (off_h * 60 + off_m);
    if (second == 60) {
        /* A leap second is inserted at the end of the UTC day; with an offset, the local time
         * shows it elsewhere (RFC 3339 section 5.7: 1990-12-31T15:59:60-08:00). */
        int utc_min = ((hour * 60 + minute - offset_min) % 1440 + 1440) % 1440;
        if (utc_min != 23 * 60 + 59)
            return -1;
    }

    if (out) {
        /* POSIX time has no leap seconds: 23:59:60 maps onto the next day's 00:00:00. */
        out->epoch_s = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 +
                       minute * 60 + second - (int64_t)offset_min * 60;
        out->nanos = nanos;
        out->frac_digits = frac_digits;
    }
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Write v as exactly width decimal digits, zero-padded. */
static void put_digits(char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

size_t inlet_rfc3339_format(const inlet_time *t, char *buf, size_t buf_len)
{
    char tmp[40];
    int64_t days, year, sod;
    int month, day, digits, n;

    if (!t || t->nanos < 0 || t->nanos > 999999999 || t->frac_digits < 0 || t->frac_digits > 9)
        return 0;
    days = floor_div(t->epoch_s, SECONDS_PER_DAY);
    sod = t->epoch_s - days * SECONDS_PER_DAY;
    civil_from_days(days, &year, &month, &day);
    /* RFC 3339 has four-digit years only. */
    if (year < 0 || year > 9999)
        return 0;
    /* Digits by hand: this runs for every event on the hot path, where snprintf showed. */
    put_digits(tmp, (int)year, 4);
    tmp[4] = '-';
    put_digits(tmp + 5, month, 2);
    tmp[7] = '-';
    put_digits(tmp + 8, day, 2);
    tmp[10] = 'T';
    put_digits(tmp + 11, (int)(sod / 3600), 2);
    tmp[13] = ':';
    put_digits(tmp + 14, (int)(sod / 60 % 60), 2);
    tmp[16] = ':';
    put_digits(tmp + 17, (int)(sod % 60), 2);
    n = 19;
    digits = t->frac_digits == 0 ? 0 : t->frac_digits <= 3 ? 3 : t->frac_digits <= 6 ? 6 : 9;
    if (digits) {
        int32_t div = 1;
        for (int k = digits; k < 9; k++)
            div *= 10;
        tmp[n++] = '.';
        put_digits(tmp + n, (int)(t->nanos / div), digits);
        n += digits;
    }
    tmp[n++] = 'Z';
    tmp[n] = '\0';
    if (!buf || (size_t)n >= buf_len)
        return 0;
    memcpy(buf, tmp, (size_t)n + 1);
    return (size_t)n;
}

size_t inlet_rfc3339_format_us(int64_t epoch_us, char *buf, size_t buf_len)
{
    inlet_time t;
    t.epoch_s = floor_div(epoch_us, 1000000);
    t.nanos = (int32_t)(epoch_us - t.epoch_s * 1000000) * 1000;
    t.frac_digits = 3;
    return inlet_rfc3339_format(&t, buf, buf_len);
}
