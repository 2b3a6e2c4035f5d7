/* test_rfc3339.c - RFC 3339 date-time parsing, validation and UTC formatting. */
#include <string.h>

#include "check.h"
#include "formats/rfc3339.h"

static int parse(const char *s, inlet_time *t)
{
    return inlet_rfc3339_parse(s, strlen(s), t);
}

/* Parse s and format it back as UTC. */
static const char *normalise(const char *s)
{
    static char buf[64];
    inlet_time t;

    if (parse(s, &t) != 0)
        return "(parse failed)";
    if (inlet_rfc3339_format(&t, buf, sizeof(buf)) == 0)
        return "(format failed)";
    return buf;
}

static void test_epoch(void)
{
    inlet_time t;

    CHECK(parse("1970-01-01T00:00:00Z", &t) == 0);
    CHECK(t.epoch_s == 0 && t.nanos == 0 && t.frac_digits == 0);

    CHECK(parse("2026-11-21T10:15:30.123Z", &t) == 0);
    CHECK(t.epoch_s == 1795256130);
    CHECK(t.nanos == 123000000);
    CHECK(t.frac_digits == 3);

    /* Offsets are applied: both are the same instant. */
    CHECK(parse("2026-11-21T12:15:30.123+02:00", &t) == 0);
    CHECK(t.epoch_s == 1795256130);
    CHECK(parse("2026-11-21T04:45:30.123-05:30", &t) == 0);
    CHECK(t.epoch_s == 1795256130);

    /* Before the epoch, across a leap day, and the end of the four-digit range. */
    CHECK(parse("1969-12-31T23:59:59Z", &t) == 0);
    CHECK(t.epoch_s == -1);
    CHECK(parse("2024-02-29T00:00:00Z", &t) == 0);
    CHECK(t.epoch_s == 1709164800);
    CHECK(parse("2000-03-01T00:00:00Z", &t) == 0);
    CHECK(t.epoch_s == 951868800);
    CHECK(parse("0000-01-01T00:00:00Z", &t) == 0);
    CHECK(t.epoch_s == -62167219200LL);
    CHECK(parse("9999-12-31T23:59:59Z", &t) == 0);
    CHECK(t.epoch_s == 253402300799LL);

    /* An offset can move the date across a day, month and year boundary. */
    CHECK(parse("2025-12-31T23:30:00-01:00", &t) == 0);
    CHECK(t.epoch_s == 1767227400);
}

static void test_fractions(void)
{
    inlet_time t;

    CHECK(parse("2026-11-21T10:15:30.1Z", &t) == 0);
    CHECK(t.nanos == 100000000 && t.frac_digits == 1);
    CHECK(parse("2026-11-21T10:15:30.000001Z", &t) == 0);
    CHECK(t.nanos == 1000 && t.frac_digits == 6);
    CHECK(parse("2026-11-21T10:15:30.123456789Z", &t) == 0);
    CHECK(t.nanos == 123456789 && t.frac_digits == 9);
    /* RFC 3339 puts no limit on digits; those beyond nanoseconds are dropped. */
    CHECK(parse("2026-11-21T10:15:30.1234567891234Z", &t) == 0);
    CHECK(t.nanos == 123456789 && t.frac_digits == 9);
    CHECK(parse("2026-11-21T10:15:30.Z", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30,5Z", &t) != 0);
}

static void test_case_and_offsets(void)
{
    inlet_time t;

    CHECK(parse("2026-11-21t10:15:30z", &t) == 0);
    CHECK(t.epoch_s == 1795256130);
    CHECK(parse("2026-11-21T10:15:30-00:00", &t) == 0);
    CHECK(t.epoch_s == 1795256130);
    CHECK(parse("2026-11-21T10:15:30+23:59", &t) == 0);
    CHECK(parse("2026-11-21T10:15:30+24:00", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30+02:60", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30+0200", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30+02", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30", &t) != 0); /* no offset */
    CHECK(parse("2026-11-21 10:15:30Z", &t) != 0);
    CHECK(parse("2026-11-21T10:15:30Zjunk", &t) != 0);
    CHECK(parse("2026-11-21T10:15Z", &t) != 0);
    CHECK(parse("2026-11-21", &t) != 0);
    CHECK(parse("", &t) != 0);
    CHECK(parse("abc", &t) != 0);
    CHECK(parse("+2026-11-21T10:15:30Z", &t) != 0);
    CHECK(parse("2026-1-21T10:15:30Z", &t) != 0);
}

static void test_calendar(void)
{
    inlet_time t;

    CHECK(parse("2026-02-30T00:00:00Z", &t) != 0);
    CHECK(parse("2025-02-29T00:00:00Z", &t) != 0);
    CHECK(parse("2024-02-29T00:00:00Z", &t) == 0);
    CHECK(parse("1900-02-29T00:00:00Z", &t) != 0); /* divisible by 100, not by 400 */
    CHECK(parse("2000-02-29T00:00:00Z", &t) == 0);
    CHECK(parse("2026-04-31T00:00:00Z", &t) != 0);
    CHECK(parse("2026-12-31T00:00:00Z", &t) == 0);
    CHECK(parse("2026-13-01T00:00:00Z", &t) != 0);
    CHECK(parse("2026-00-01T00:00:00Z", &t) != 0);
    CHECK(parse("2026-01-00T00:00:00Z", &t) != 0);
    CHECK(parse("2026-11-21T24:00:00Z", &t) != 0);
    CHECK(parse("2026-11-21T23:60:00Z", &t) != 0);
    CHECK(parse("2026-11-21T23:59:61Z", &t) != 0);
}

static void test_leap_second(void)
{
    inlet_time t;

    CHECK(parse("2016-12-31T23:59:60Z", &t) == 0);
    /* POSIX time has no leap seconds; it lands on the next day's first second. */
    CHECK(t.epoch_s == 1483228800);
    /* RFC 3339 section 5.8: the same leap second in a local time zone. */
    CHECK(parse("1990-12-31T15:59:60-08:00", &t) == 0);
    CHECK(parse("2016-12-31T12:30:60Z", &t) != 0);
    CHECK(parse("2016-12-31T23:59:60+01:00", &t) != 0);
}

static void test_format(void)
{
    char buf[64];
    inlet_time t = {1795256130, 123000000, 3};

    CHECK(inlet_rfc3339_format(&t, buf, sizeof(buf)) == 24);
    CHECK_STR(buf, "2026-11-21T10:15:30.123Z");
    /* The buffer must hold the text and its NUL. */
    CHECK(inlet_rfc3339_format(&t, buf, 24) == 0);
    CHECK(inlet_rfc3339_format(&t, buf, 25) == 24);

    CHECK_STR(normalise("2026-11-21T12:15:30.123+02:00"), "2026-11-21T10:15:30.123Z");
    CHECK_STR(normalise("2026-11-21t10:15:30z"), "2026-11-21T10:15:30Z");
    CHECK_STR(normalise("2026-01-01T00:30:00+01:00"), "2025-12-31T23:30:00Z");
    /* Fraction digits round up to 3, 6 or 9. */
    CHECK_STR(normalise("2026-11-21T10:15:30.5Z"), "2026-11-21T10:15:30.500Z");
    CHECK_STR(normalise("2026-11-21T10:15:30.1234Z"), "2026-11-21T10:15:30.123400Z");
    CHECK_STR(normalise("2026-11-21T10:15:30.1234567Z"), "2026-11-21T10:15:30.123456700Z");
    CHECK_STR(normalise("2026-11-21T10:15:30.123456789Z"), "2026-11-21T10:15:30.123456789Z");
    CHECK_STR(normalise("1969-12-31T23:59:59.999Z"), "1969-12-31T23:59:59.999Z");
    CHECK_STR(normalise("2024-02-29T23:59:59Z"), "2024-02-29T23:59:59Z");

    /* Out of range inputs are refused rather than written wrongly. */
    t.nanos = 1000000000;
    CHECK(inlet_rfc3339_format(&t, buf, sizeof(buf)) == 0);
    t.nanos = 0;
    t.epoch_s = 253402300800LL; /* year 10000 */
    CHECK(inlet_rfc3339_format(&t, buf, sizeof(buf)) == 0);
}

static void test_format_us(void)
{
    char buf[64];

    CHECK(inlet_rfc3339_format_us(1795256130123456LL, buf, sizeof(buf)) == 24);
    CHECK_STR(buf, "2026-11-21T10:15:30.123Z");
    CHECK(inlet_rfc3339_format_us(0, buf, sizeof(buf)) == 24);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    /* Floor, not truncation toward zero, before the epoch. */
    CHECK(inlet_rfc3339_format_us(-1, buf, sizeof(buf)) == 24);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
    CHECK(inlet_rfc3339_format_us(0, buf, 10) == 0);
}

/* Every second of a few years round-trips through parse and format (spot-checked per hour). */
static void test_round_trip(void)
{
    char buf[64];
    inlet_time t, back;
    int bad = 0;

    for (int64_t s = 946684800; s < 946684800 + 5LL * 366 * 86400; s += 3599) {
        t.epoch_s = s;
        t.nanos = 0;
        t.frac_digits = 0;
        if (inlet_rfc3339_format(&t, buf, sizeof(buf)) == 0 || parse(buf, &back) != 0 ||
            back.epoch_s != s)
            bad++;
    }
    CHECK(bad == 0);
}

int main(void)
{
    test_epoch();
    test_fractions();
    test_case_and_offsets();
    test_calendar();
    test_leap_second();
    test_format();
    test_format_us();
    test_round_trip();
    return check_done();
}
