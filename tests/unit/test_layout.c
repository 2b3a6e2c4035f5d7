/* test_layout.c - x-inlet-layout: every type and keyword, frame errors, compile errors with
 * their pointers, the schema around a layout, and the fleet.position frame end to end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "formats/json_write.h"
#include "schema/layout.h"
#include "schema/schema.h"

#ifndef INLET_SOURCE_DIR
#define INLET_SOURCE_DIR "."
#endif

static char err[1024];
static inlet_arena arena;
static inlet_format_error ferr;

/* Decoded trees point into their layout, so layouts live until the end of the run. */
static inlet_layout *kept[256];
static size_t n_kept;

static inlet_layout *compile_as(const char *origin, const char *text)
{
    inlet_layout *l = NULL;
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);

    err[0] = '\0';
    if (!doc) {
        fprintf(stderr, "test JSON does not parse: %s: %s\n", text, jerr.text);
        return NULL;
    }
    if (inlet_layout_compile(doc, origin, &l, err, sizeof(err)) != 0)
        l = NULL;
    json_decref(doc);
    if (l && n_kept < sizeof(kept) / sizeof(kept[0]))
        kept[n_kept++] = l;
    return l;
}

static inlet_layout *compile(const char *text)
{
    inlet_layout *l = compile_as("test", text);
    if (!l)
        fprintf(stderr, "layout does not compile: %s\n  %s\n", text, err);
    return l;
}

static const char *compile_error(const char *text)
{
    return compile_as("test", text) ? "(compiled)" : err;
}

static const inlet_value *decode(const inlet_layout *l, const unsigned char *p, size_t n)
{
    inlet_value *v = NULL;

    memset(&ferr, 0, sizeof(ferr));
    if (!l || inlet_layout_decode(l, &arena, p, n, &v, &ferr) != 0)
        return NULL;
    return v;
}

/* The value as the envelope writer would print it (shortest round-trip numbers). */
static const char *text(const inlet_value *v)
{
    static char out[2048];
    inlet_buf b;
    json_t *j;

    if (!v)
        return ferr.message;
    j = inlet_value_to_json(v);
    inlet_buf_init(&b, 256);
    inlet_json_write(&b, j);
    json_decref(j);
    snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data);
    inlet_buf_free(&b);
    return out;
}

#define BYTES(...)                                                                                 \
    (const unsigned char[]){__VA_ARGS__}, sizeof((const unsigned char[]){__VA_ARGS__})

/* DECODES(layout, expected JSON, frame bytes...) */
#define DECODES(l, json, ...) CHECK_STR(text(decode((l), BYTES(__VA_ARGS__))), (json))

/* FAILS(layout, offset, pointer, message, frame bytes...) */
#define FAILS(l, off, ptr, msg, ...)                                                               \
    do {                                                                                           \
        CHECK(decode((l), BYTES(__VA_ARGS__)) == NULL);                                            \
        CHECK(ferr.offset == (off));                                                               \
        CHECK_STR(ferr.pointer, (ptr));                                                            \
        CHECK_STR(ferr.message, (msg));                                                            \
    } while (0)

static const inlet_value *member(const inlet_value *obj, const char *key)
{
    return obj ? inlet_value_get(obj, key) : NULL;
}

/* --- types ---------------------------------------------------------------------------------- */

static void test_integers(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"b\", \"type\": \"u2be\"}, "
        "{\"id\": "
        "\"c\", \"type\": \"u2le\"}, {\"id\": \"d\", \"type\": \"u4be\"}, {\"id\": \"e\", "
        "\"type\": "
        "\"u4le\"}, {\"id\": \"f\", \"type\": \"u8be\"}, {\"id\": \"g\", \"type\": \"u8le\"}, "
        "{\"id\": \"h\", \"type\": \"s1\"}, {\"id\": \"i\", \"type\": \"s2be\"}, {\"id\": \"j\", "
        "\"type\": \"s2le\"}, {\"id\": \"k\", \"type\": \"s4be\"}, {\"id\": \"l\", \"type\": "
        "\"s4le\"}, {\"id\": \"m\", \"type\": \"s8be\"}, {\"id\": \"n\", \"type\": \"s8le\"}]}");
    const inlet_value *v;

    DECODES(l,
            "{\"a\":255,\"b\":258,\"c\":513,\"d\":16909060,\"e\":67305985,\"f\":"
            "9223372036854775807,\"g\":72057594037927936,\"h\":-128,\"i\":-2,\"j\":-2,\"k\":-"
            "2147483648,\"l\":2147483647,\"m\":-9223372036854775808,\"n\":-2}",
            0xff, 1, 2, 1, 2, 1, 2, 3, 4, 1, 2, 3, 4, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0xff, 0xfe, 0xfe, 0xff, 0x80, 0, 0, 0, 0xff, 0xff,
            0xff, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    v = decode(l, BYTES(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0, 0, 0, 0, 0, 0));
    CHECK(v && v->type == INLET_V_OBJECT && v->n == 14);
    CHECK(member(v, "m") && member(v, "m")->type == INLET_V_INT && member(v, "m")->u.i == 0);
    /* Members come in seq order. */
    CHECK(v && strcmp(v->u.members[0].key, "a") == 0 && strcmp(v->u.members[13].key, "n") == 0);

    /* A default byte order lets the suffix go; a suffix still wins. */
    l = compile("{\"endian\": \"le\", \"seq\": [{\"id\": \"a\", \"type\": \"u2\"}, {\"id\": \"b\", "
                "\"type\": \"s4\"}, {\"id\": \"c\", \"type\": \"u2be\"}, {\"id\": \"d\", \"type\": "
                "\"u8\"}]}");
    DECODES(l, "{\"a\":1,\"b\":-1,\"c\":1,\"d\":2}", 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 0, 0, 0,
            0, 0, 0, 0);
    l = compile("{\"endian\": \"be\", \"seq\": [{\"id\": \"a\", \"type\": \"u2\"}, {\"id\": \"b\", "
                "\"type\": \"s2le\"}]}");
    DECODES(l, "{\"a\":1,\"b\":-2}", 0, 1, 0xfe, 0xff);

    /* u8 above INT64_MAX has no int64 form. */
    l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"n\", \"type\": \"u8le\"}]}");
    FAILS(l, 1, "/n", "\"n\": 9223372036854775808 does not fit a signed 64-bit integer", 0, 0, 0, 0,
          0, 0, 0, 0, 0x80);
    DECODES(l, "{\"a\":0,\"n\":9223372036854775807}", 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0x7f);
}

static void test_floats(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"f4be\"}, {\"id\": \"b\", \"type\": \"f4le\"}, "
        "{\"id\": \"c\", \"type\": \"f8be\"}, {\"id\": \"d\", \"type\": \"f8le\"}]}");
    const inlet_value *v;

    v = decode(l, BYTES(0x3f, 0xc0, 0, 0, 0, 0, 0x80, 0xbe, 0x40, 0x4a, 0x42, 0x8f, 0x5c, 0x28,
                        0xf5, 0xc3, 0x8f, 0xc2, 0xf5, 0x28, 0x5c, 0xcf, 0x2a, 0x40));
    CHECK_STR(text(v), "{\"a\":1.5,\"b\":-0.25,\"c\":52.52,\"d\":13.405}");
    CHECK(member(v, "a") && member(v, "a")->type == INLET_V_REAL);
    CHECK(member(v, "c") && member(v, "c")->u.r == 52.52);

    /* f4 0.1 is the float nearest 0.1, widened exactly. */
    l = compile("{\"endian\": \"be\", \"seq\": [{\"id\": \"x\", \"type\": \"f4\"}]}");
    v = decode(l, BYTES(0x3d, 0xcc, 0xcc, 0xcd));
    CHECK(member(v, "x") && member(v, "x")->u.r == (double)0.1f);

    /* NaN and the infinities have no JSON form. */
    FAILS(l, 0, "/x", "\"x\": NaN has no JSON form", 0x7f, 0xc0, 0, 0);
    FAILS(l, 0, "/x", "\"x\": an infinity has no JSON form", 0xff, 0x80, 0, 0);
    l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"y\", \"type\": \"f8le\"}]}");
    FAILS(l, 1, "/y", "\"y\": an infinity has no JSON form", 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f);
    /* Finite, but not after scaling. */
    l = compile("{\"seq\": [{\"id\": \"y\", \"type\": \"f8be\", \"scale\": 1e300}]}");
    FAILS(l, 0, "/y", "\"y\": an infinity has no JSON form (after scale)", 0x7f, 0xef, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff);
}

static void test_bits(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"flag\", \"type\": \"b1\"}, {\"id\": \"mode\", \"type\": \"b3\"}, "
        "{\"id\": \"n\", \"type\": \"b4\"}, {\"id\": \"wide\", \"type\": \"b12\"}, {\"id\": "
        "\"low\", \"type\": \"b4\"}, {\"id\": \"b\", \"type\": \"u1\"}]}");

    /* 1 011 0101 | 1010 1011 1100 | 1101 | 0x07 */
    DECODES(l, "{\"flag\":true,\"mode\":3,\"n\":5,\"wide\":2748,\"low\":13,\"b\":7}", 0xb5, 0xab,
            0xcd, 0x07);
    DECODES(l, "{\"flag\":false,\"mode\":0,\"n\":0,\"wide\":0,\"low\":0,\"b\":0}", 0, 0, 0, 0);

    /* A byte-aligned field after bit fields starts at the next byte. */
    l = compile(
        "{\"seq\": [{\"id\": \"x\", \"type\": \"b3\"}, {\"id\": \"y\", \"type\": \"u1\"}]}");
    DECODES(l, "{\"x\":7,\"y\":42}", 0xff, 42);
    FAILS(l, 1, "", "frame ends at byte 1, inside \"y\" (u1, 1 byte at offset 1)", 0xe0);

    /* b64 unaligned spans nine bytes. */
    l = compile("{\"seq\": [{\"id\": \"h\", \"type\": \"b4\"}, {\"id\": \"w\", \"type\": \"b64\"}, "
                "{\"id\": \"t\", \"type\": \"b4\"}]}");
    DECODES(l, "{\"h\":1,\"w\":2541551405711093505,\"t\":2}", 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
            0xde, 0xf0, 0x12);
    FAILS(l, 0, "/w", "\"w\": 18446744073709551615 does not fit a signed 64-bit integer", 0x0f,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0);

    /* Cut inside a bit field, and bits beyond the last whole byte. */
    l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"b4\"}, {\"id\": \"b\", \"type\": \"b12\"}]}");
    FAILS(l, 0, "", "frame ends at byte 1, inside \"b\" (b12 at bit 4 of byte 0)", 0xff);
    l = compile("{\"seq\": [{\"id\": \"a\", \"type\": \"b4\"}]}");
    DECODES(l, "{\"a\":9}", 0x9f);
    FAILS(l, 1, "", "1 trailing byte after \"a\", where the layout ends (byte 1)", 0x9f, 0);

    /* b1 with an enum or a scale is an integer again. */
    l = compile("{\"seq\": [{\"id\": \"on\", \"type\": \"b1\", \"enum\": {\"0\": \"off\", \"1\": "
                "\"on\"}}, {\"id\": \"x\", \"type\": \"b1\", \"scale\": 5}, {\"type\": \"b6\"}]}");
    DECODES(l, "{\"on\":\"on\",\"x\":5}", 0xc0);
    DECODES(l, "{\"on\":\"off\",\"x\":0}", 0x3f);
}

static void test_enum(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"s\", \"type\": \"u1\", \"enum\": {\"0\": \"idle\", \"0x10\": "
        "\"hex\", \"255\": \"max\"}}, {\"id\": \"t\", \"type\": \"s1\", \"enum\": {\"-1\": "
        "\"minus\", \"1\": \"plus\"}}]}");
    const inlet_value *v;

    DECODES(l, "{\"s\":\"idle\",\"t\":\"minus\"}", 0, 0xff);
    DECODES(l, "{\"s\":\"hex\",\"t\":\"plus\"}", 16, 1);
    v = decode(l, BYTES(255, 1));
    CHECK(member(v, "s") && member(v, "s")->type == INLET_V_STRING && member(v, "s")->n == 3);
    FAILS(l, 0, "/s", "\"s\": 9 is not one of its enum values", 9, 1);
    FAILS(l, 1, "/t", "\"t\": 0 is not one of its enum values", 0, 0);
    FAILS(l, 1, "/t", "\"t\": -128 is not one of its enum values", 0, 0x80);
}

static void test_scale_offset(void)
{
    inlet_layout *l = compile(
        "{\"endian\": \"be\", \"seq\": [{\"id\": \"i\", \"type\": \"u1\", \"scale\": 2, "
        "\"offset\": -10}, {\"id\": \"r\", \"type\": \"u2\", \"scale\": 0.1}, {\"id\": \"t\", "
        "\"type\": \"u2\", \"scale\": 0.1, \"offset\": -40}, {\"id\": \"h\", \"type\": \"u1\", "
        "\"scale\": 0.5}, {\"id\": \"m\", \"type\": \"s2\", \"scale\": 3.6}, {\"id\": \"f\", "
        "\"type\": \"f4\", \"scale\": 2}, {\"id\": \"o\", \"type\": \"u1\", \"offset\": 0.5}, "
        "{\"id\": \"k\", \"type\": \"u1\", \"scale\": 1000}, {\"id\": \"g\", \"type\": \"s4\", "
        "\"scale\": 1e-7}]}");
    const inlet_value *v;

    v = decode(l, BYTES(7, 0x02, 0x64, 0x02, 0x64, 3, 0xff, 0xfe, 0x3f, 0xc0, 0, 0, 1, 7, 0x1f,
                        0x4d, 0xea, 0x80));
    CHECK_STR(text(v), "{\"i\":4,\"r\":61.2,\"t\":21.2,\"h\":1.5,\"m\":-7.2,\"f\":3,\"o\":1.5,"
                       "\"k\":7000,\"g\":52.52}");
    /* Integer scale and offset keep an integer; any real makes a real. */
    CHECK(member(v, "i") && member(v, "i")->type == INLET_V_INT);
    CHECK(member(v, "k") && member(v, "k")->type == INLET_V_INT);
    CHECK(member(v, "r") && member(v, "r")->type == INLET_V_REAL && member(v, "r")->u.r == 61.2);
    CHECK(member(v, "f") && member(v, "f")->type == INLET_V_REAL);
    /* Decimal scales land on the double nearest the decimal, not one ulp off. */
    CHECK(member(v, "t") && member(v, "t")->u.r == 21.2);
    CHECK(member(v, "g") && member(v, "g")->u.r == 52.52);

    l = compile("{\"seq\": [{\"id\": \"x\", \"type\": \"s8be\", \"scale\": 2}]}");
    FAILS(l, 0, "/x",
          "\"x\": 4611686018427387904 × scale + offset is outside the 64-bit integer range", 0x40,
          0, 0, 0, 0, 0, 0, 0);
    DECODES(l, "{\"x\":-2}", 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    l = compile("{\"seq\": [{\"id\": \"x\", \"type\": \"s8be\", \"offset\": -1}]}");
    FAILS(l, 0, "/x",
          "\"x\": -9223372036854775808 × scale + offset is outside the 64-bit integer range", 0x80,
          0, 0, 0, 0, 0, 0, 0);
}

static void test_pos(void)
{
    inlet_layout *l =
        compile("{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"b\", "
                "\"type\": \"u1\", \"pos\": 3}, {\"id\": \"c\", \"type\": \"u2be\"}]}");

    /* Bytes 1 and 2 are skipped; c follows b. */
    DECODES(l, "{\"a\":1,\"b\":2,\"c\":3}", 1, 0xee, 0xee, 2, 0, 3);
    FAILS(l, 3, "", "frame ends at byte 3, inside \"b\" (u1, 1 byte at offset 3)", 1, 0xee, 0xee);
    FAILS(l, 2, "", "frame ends at byte 2, before \"b\" at offset 3", 1, 0xee);

    /* pos may read a byte again; the frame ends where the furthest field does. */
    l = compile("{\"seq\": [{\"id\": \"word\", \"type\": \"u2be\"}, {\"id\": \"hi\", \"type\": "
                "\"u1\", \"pos\": 0}]}");
    DECODES(l, "{\"word\":4660,\"hi\":18}", 0x12, 0x34);
    FAILS(l, 2, "", "1 trailing byte after \"word\", where the layout ends (byte 2)", 0x12, 0x34,
          0);

    /* pos leaves the bit fields before it. */
    l = compile("{\"seq\": [{\"id\": \"a\", \"type\": \"b4\"}, {\"id\": \"b\", \"type\": \"b4\", "
                "\"pos\": 1}]}");
    DECODES(l, "{\"a\":15,\"b\":0}", 0xf0, 0x0a);
}

static void test_strings(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"code\", \"type\": \"str\", \"size\": 3}, {\"id\": \"name\", "
        "\"type\": \"str\", \"size-prefix\": \"u1\", \"encoding\": \"UTF-8\"}, {\"id\": \"blob\", "
        "\"type\": \"bytes\", \"size-prefix\": \"u2le\"}, {\"id\": \"raw\", \"size\": 2}, {\"id\": "
        "\"empty\", \"type\": \"str\", \"size\": 0}]}");
    const inlet_value *v;

    v = decode(l, BYTES('D', 'E', '1', 4, 'Z', 'o', 0xc3, 0xab, 3, 0, 1, 2, 3, 0xff, 0xfe));
    CHECK_STR(text(v), "{\"code\":\"DE1\",\"name\":\"Zo\xc3\xab\",\"blob\":\"AQID\",\"raw\":\"__"
                       "4\",\"empty\":\"\"}");
    CHECK(member(v, "blob") && member(v, "blob")->type == INLET_V_BYTES &&
          member(v, "blob")->n == 3 && memcmp(member(v, "blob")->u.s, "\1\2\3", 4) == 0);
    CHECK(member(v, "name") && member(v, "name")->type == INLET_V_STRING &&
          member(v, "name")->n == 4);
    CHECK(member(v, "empty") && member(v, "empty")->n == 0 && member(v, "empty")->u.s[0] == 0);

    l = compile("{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"s\", \"type\": \"str\", "
                "\"size\": 4}]}");
    DECODES(l, "{\"a\":0,\"s\":\"\xf0\x9f\x9a\x9a\"}", 0, 0xf0, 0x9f, 0x9a, 0x9a); /* U+1F69A */
    DECODES(l, "{\"a\":0,\"s\":\"\xe2\x82\xac!\"}", 0, 0xe2, 0x82, 0xac, '!');
    FAILS(l, 1, "/s", "\"s\": not valid UTF-8 at byte 1", 0, 0xc0, 0x80, 'a', 'a');  /* overlong */
    FAILS(l, 1, "/s", "\"s\": not valid UTF-8 at byte 1", 0, 0xed, 0xa0, 0x80, 'a'); /* surrogate */
    FAILS(l, 1, "/s", "\"s\": not valid UTF-8 at byte 1", 0, 0xf4, 0x90, 0x80, 0x80); /* > 10FFFF */
    FAILS(l, 3, "/s", "\"s\": not valid UTF-8 at byte 3", 0, 'a', 'b', 0xe2, 0x82);   /* cut */
    FAILS(l, 2, "/s", "\"s\": not valid UTF-8 at byte 2", 0, 'a', 0x80, 'b', 'c');
    FAILS(l, 2, "/s", "\"s\": a NUL byte in text at byte 2 (binary data is type bytes)", 0, 'a', 0,
          'b', 'c');

    l = compile("{\"seq\": [{\"id\": \"s\", \"type\": \"str\", \"size-prefix\": \"u2be\"}]}");
    DECODES(l, "{\"s\":\"ab\"}", 0, 2, 'a', 'b');
    FAILS(l, 0, "", "frame ends at byte 1, inside the length prefix of \"s\" (u2be at offset 0)",
          0);
    FAILS(l, 2, "", "frame ends at byte 4, inside \"s\" (str of 5 bytes at offset 2)", 0, 5, 'a',
          'b');
    FAILS(l, 4, "", "1 trailing byte after \"s\", where the layout ends (byte 4)", 0, 2, 'a', 'b',
          'c');
    l = compile("{\"seq\": [{\"id\": \"b\", \"type\": \"bytes\", \"size-prefix\": \"u4le\"}]}");
    FAILS(l, 4, "", "frame ends at byte 5, inside \"b\" (bytes of 4294967295 bytes at offset 4)",
          0xff, 0xff, 0xff, 0xff, 0);
    DECODES(l, "{\"b\":\"\"}", 0, 0, 0, 0);
}

static void test_padding_and_absent(void)
{
    inlet_layout *l = compile(
        "{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"type\": \"u2le\"}, {\"size\": 3}, "
        "{\"type\": \"b4\"}, {\"id\": \"b\", \"type\": \"b4\"}, {\"type\": \"str\", \"size\": 1}, "
        "{\"id\": \"c\", \"type\": \"u1\"}, {\"type\": \"bytes\", \"size-prefix\": \"u1\"}]}");
    size_t len;

    /* Padding is read (and must be there) but neither output nor checked: 0xff is no UTF-8. */
    DECODES(l, "{\"a\":1,\"b\":10,\"c\":2}", 1, 0xff, 0xff, 0, 0, 0, 0x5a, 0xff, 2, 1, 0xee);
    FAILS(l, 10, "",
          "frame ends at byte 10, inside the padding at seq/7 (bytes of 2 bytes at offset 10)", 1,
          0xff, 0xff, 0, 0, 0, 0x5a, 0xff, 2, 2);
    CHECK(l && inlet_layout_count(l) == 8);
    CHECK(l && inlet_layout_id(l, 1, &len) == NULL && len == 0);
    CHECK(l && strcmp(inlet_layout_id(l, 4, &len), "b") == 0 && len == 1);
    CHECK(l && inlet_layout_id(l, 8, &len) == NULL);

    /* "absent": a raw value that means the member is left out. */
    l = compile("{\"seq\": [{\"id\": \"h\", \"type\": \"u2be\", \"absent\": 65535}, {\"id\": "
                "\"s\", \"type\": \"s1\", \"absent\": -1, \"enum\": {\"5\": \"five\"}}]}");
    DECODES(l, "{\"h\":270,\"s\":\"five\"}", 0x01, 0x0e, 5);
    DECODES(l, "{\"s\":\"five\"}", 0xff, 0xff, 5);
    DECODES(l, "{}", 0xff, 0xff, 0xff);
    FAILS(l, 2, "/s", "\"s\": 4 is not one of its enum values", 0xff, 0xff, 4);

    /* Errors name the member by its pointer, escaped (RFC 6901). */
    l = compile("{\"seq\": [{\"id\": \"a/b~c\", \"type\": \"u1\", \"enum\": {\"0\": \"x\"}}]}");
    FAILS(l, 0, "/a~1b~0c", "\"a/b~c\": 1 is not one of its enum values", 1);
}

static void test_frame_errors(void)
{
    inlet_layout *l = compile("{\"endian\": \"be\", \"seq\": [{\"id\": \"lat\", \"type\": \"s4\"}, "
                              "{\"id\": \"n\", \"type\": \"u2\"}, {\"id\": \"status\", \"type\": "
                              "\"u1\"}]}");

    CHECK(decode(l, (const unsigned char *)"", 0) == NULL);
    CHECK(ferr.offset == 0);
    CHECK_STR(ferr.message, "frame ends at byte 0, inside \"lat\" (s4be, 4 bytes at offset 0)");
    FAILS(l, 0, "", "frame ends at byte 3, inside \"lat\" (s4be, 4 bytes at offset 0)", 1, 2, 3);
    FAILS(l, 4, "", "frame ends at byte 5, inside \"n\" (u2be, 2 bytes at offset 4)", 1, 2, 3, 4,
          5);
    FAILS(l, 6, "", "frame ends at byte 6, inside \"status\" (u1, 1 byte at offset 6)", 1, 2, 3, 4,
          5, 6);
    FAILS(l, 7, "", "2 trailing bytes after \"status\", where the layout ends (byte 7)", 1, 2, 3, 4,
          5, 6, 7, 8, 9);
    DECODES(l, "{\"lat\":16909060,\"n\":1286,\"status\":7}", 1, 2, 3, 4, 5, 6, 7);
}

/* --- compile errors ------------------------------------------------------------------------- */

#define FIELD_ERROR(field, msg)                                                                    \
    CHECK_STR(compile_error("{\"seq\": [" field "]}"), "test: /x-inlet-layout/seq/0" msg)

static void test_compile_errors(void)
{
    CHECK(compile_as("schemas/x/v1.json",
                     "{\"endian\": \"be\", \"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": "
                     "\"b\", \"type\": \"u2\"}, {\"id\": \"c\", \"type\": \"u3\"}]}") == NULL);
    CHECK_STR(err, "schemas/x/v1.json: /x-inlet-layout/seq/2/type: unknown type \"u3\"");

    CHECK_STR(compile_error("[]"),
              "test: /x-inlet-layout: must be an object with a \"seq\" array of fields");
    CHECK_STR(compile_error("{}"), "test: /x-inlet-layout: needs a \"seq\" array of fields");
    CHECK_STR(compile_error("{\"seq\": []}"),
              "test: /x-inlet-layout/seq: must be an array of 1 to 1024 fields");
    CHECK_STR(compile_error("{\"seq\": {}}"),
              "test: /x-inlet-layout/seq: must be an array of 1 to 1024 fields");
    CHECK_STR(compile_error("{\"seq\": [{\"type\": \"u1\"}], \"bit-endian\": \"le\"}"),
              "test: /x-inlet-layout/bit-endian: unsupported keyword");
    CHECK_STR(compile_error("{\"endian\": \"big\", \"seq\": [{\"type\": \"u1\"}]}"),
              "test: /x-inlet-layout/endian: must be \"be\" or \"le\"");
    CHECK_STR(compile_error("{\"doc\": 1, \"seq\": [{\"type\": \"u1\"}]}"),
              "test: /x-inlet-layout/doc: must be a string");

    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u2\"}",
                "/type: \"u2\" needs a byte order: write u2be or u2le, or give the layout an "
                "\"endian\"");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"f8\"}",
                "/type: \"f8\" needs a byte order: write f8be or f8le, or give the layout an "
                "\"endian\"");
    FIELD_ERROR("{\"type\": \"u1be\"}", "/type: unknown type \"u1be\"");
    FIELD_ERROR("{\"type\": \"b0\"}", "/type: unknown type \"b0\"");
    FIELD_ERROR("{\"type\": \"b65\"}", "/type: unknown type \"b65\"");
    FIELD_ERROR("{\"type\": \"b07\"}", "/type: unknown type \"b07\"");
    FIELD_ERROR("{\"type\": \"f2be\"}", "/type: unknown type \"f2be\"");
    FIELD_ERROR("{\"type\": \"strz\"}", "/type: unknown type \"strz\"");
    FIELD_ERROR("{\"type\": \"\"}", "/type: unknown type \"\"");
    FIELD_ERROR("{\"type\": 5}", "/type: must be a string such as \"u2be\"");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"sise\": 3}", "/sise: unsupported keyword");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"a/b\": 3}", "/a~1b: unsupported keyword");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"size\": 3}",
                "/size: applies only to bytes and str");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"f4be\", \"enum\": {\"0\": \"x\"}}",
                "/enum: applies only to integer and bit types");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": 2, \"scale\": 2}",
                "/scale: applies only to integer, bit and float types");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": 2, \"encoding\": \"ASCII\"}",
                "/encoding: unsupported encoding \"ASCII\" (only UTF-8)");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": 2, \"encoding\": 8}",
                "/encoding: must be a string");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"bytes\", \"size\": 2, \"encoding\": \"UTF-8\"}",
                "/encoding: applies only to str");
    FIELD_ERROR("{\"id\": \"a\", \"size\": 2, \"encoding\": \"UTF-8\"}",
                "/encoding: applies only to str");
    CHECK_STR(compile_error("{\"seq\": [{\"id\": \"a\", \"type\": \"str\", \"size\": 1, "
                            "\"encoding\": \"utf-8\"}]}"),
              "(compiled)");

    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"x\": \"y\"}}",
                "/enum/x: the key must be an integer, decimal or 0x hexadecimal");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"01\": \"y\"}}",
                "/enum/01: the key must be an integer, decimal or 0x hexadecimal");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"s1\", \"enum\": {\"-0\": \"y\"}}",
                "/enum/-0: the key must be an integer, decimal or 0x hexadecimal");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"s8le\", \"enum\": {\"9223372036854775808\": \"y\"}}",
                "/enum/9223372036854775808: the key must be an integer, decimal or 0x hexadecimal");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"256\": \"y\"}}",
                "/enum/256: is out of range for u1");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u2be\", \"enum\": {\"-1\": \"y\"}}",
                "/enum/-1: is out of range for u2be");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"b3\", \"enum\": {\"0x8\": \"y\"}}",
                "/enum/0x8: is out of range for b3");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"1\": \"a\", \"0x1\": \"b\"}}",
                "/enum: maps 1 twice");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"0\": 3}}",
                "/enum/0: must be a string without NUL");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {}}",
                "/enum: must be a non-empty object from integers to text");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"enum\": {\"0\": \"x\"}, \"scale\": 2}",
                "/enum: cannot be combined with scale or offset");
    CHECK_STR(compile_error("{\"seq\": [{\"id\": \"a\", \"type\": \"s8be\", \"enum\": "
                            "{\"-9223372036854775808\": \"min\", \"0x7fffffffffffffff\": "
                            "\"max\"}}]}"),
              "(compiled)");

    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"scale\": 0}",
                "/scale: must be a non-zero number");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"scale\": \"2\"}",
                "/scale: must be a non-zero number");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"offset\": null}", "/offset: must be a number");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"absent\": 256}",
                "/absent: must be an integer u1 can hold");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"s2le\", \"absent\": 1.5}",
                "/absent: must be an integer s2le can hold");
    FIELD_ERROR("{\"type\": \"u1\", \"absent\": 1}",
                "/absent: has no effect on a padding field (one without an id)");
    FIELD_ERROR("{\"type\": \"u1\", \"scale\": 1}",
                "/scale: has no effect on a padding field (one without an id)");

    CHECK_STR(compile_error("{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"a\", "
                            "\"type\": \"u1\"}]}"),
              "test: /x-inlet-layout/seq/1/id: \"a\" is also the id of /x-inlet-layout/seq/0");
    FIELD_ERROR("{\"id\": \"\", \"type\": \"u1\"}",
                "/id: must be a non-empty string (the output member name)");
    FIELD_ERROR("{\"id\": 1, \"type\": \"u1\"}",
                "/id: must be a non-empty string (the output member name)");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\"}", ": str needs a size or a size-prefix");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"bytes\"}", ": bytes needs a size or a size-prefix");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": 1, \"size-prefix\": \"u1\"}",
                "/size-prefix: cannot be combined with size");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size-prefix\": \"s2be\"}",
                "/size-prefix: must be an unsigned integer type (u1, u2be, u4le, ...)");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size-prefix\": \"b8\"}",
                "/size-prefix: must be an unsigned integer type (u1, u2be, u4le, ...)");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size-prefix\": \"u2\"}",
                "/size-prefix: \"u2\" needs a byte order: write u2be or u2le, or give the layout "
                "an \"endian\"");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": -1}",
                "/size: must be an integer from 0 to 4294967295");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"str\", \"size\": 4294967296}",
                "/size: must be an integer from 0 to 4294967295");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"pos\": \"3\"}",
                "/pos: must be a byte position from 0 to 4294967295");
    FIELD_ERROR("5", ": must be an object (a field)");
    FIELD_ERROR("{\"id\": \"a\"}", ": needs a type (or a size, for raw bytes)");
    FIELD_ERROR("{\"id\": \"a\", \"type\": \"u1\", \"doc\": 5}", "/doc: must be a string");
}

/* --- the schema around a layout ------------------------------------------------------------- */

static inlet_schema *schema_compile(const char *text)
{
    inlet_schema *s = NULL;
    json_t *doc = json_loads(text, 0, NULL);

    err[0] = '\0';
    if (!doc || inlet_schema_compile(doc, "test", &s, err, sizeof(err)) != 0)
        s = NULL;
    json_decref(doc);
    return s;
}

static void test_schema(void)
{
    inlet_schema *s;
    const inlet_value *v;
    inlet_schema_error errs[4];
    json_t *j;

    s = schema_compile("{\"x-inlet-topic\": \"t.v1\"}");
    CHECK(s && inlet_schema_layout(s) == NULL);
    inlet_schema_free(s);

    s = schema_compile(
        "{\"properties\": {\"n\": {\"type\": \"integer\", \"maximum\": 100}}, "
        "\"required\": [\"n\"], \"additionalProperties\": false, \"x-inlet-layout\": "
        "{\"seq\": [{\"type\": \"u1\"}, {\"id\": \"n\", \"type\": \"u1\"}]}}");
    CHECK(s && inlet_schema_layout(s) != NULL);
    if (s) {
        v = decode(inlet_schema_layout(s), BYTES(0xff, 100));
        CHECK((j = v ? inlet_value_to_json(v) : NULL) != NULL);
        CHECK(inlet_schema_validate(s, v, "/payload", errs, 4) == 0);
        json_decref(j);
        v = decode(inlet_schema_layout(s), BYTES(0xff, 101));
        CHECK((j = v ? inlet_value_to_json(v) : NULL) != NULL);
        CHECK(inlet_schema_validate(s, v, "/payload", errs, 4) == 1);
        CHECK_STR(errs[0].pointer, "/payload/n");
        json_decref(j);
    }
    inlet_schema_free(s);

    CHECK(schema_compile("{\"x-inlet-layout\": {\"seq\": [{\"id\": \"a\", \"type\": \"u9\"}]}}") ==
          NULL);
    CHECK_STR(err, "test: /x-inlet-layout/seq/0/type: unknown type \"u9\"");
    CHECK(schema_compile("{\"properties\": {\"a\": {\"x-inlet-layout\": {\"seq\": []}}}}") == NULL);
    CHECK_STR(err, "test: /properties/a/x-inlet-layout: allowed only at the top level of a schema");
    CHECK(schema_compile("{\"x-inlet-binary\": {}}") == NULL);
    CHECK_STR(err, "test: /x-inlet-binary: unsupported keyword");

    /* A layout that would make every frame invalid is refused at load. */
    CHECK(schema_compile("{\"properties\": {\"a\": {}}, \"additionalProperties\": false, "
                         "\"x-inlet-layout\": {\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, "
                         "{\"id\": \"b\", \"type\": \"u1\"}]}}") == NULL);
    CHECK_STR(err, "test: /x-inlet-layout/seq/1/id: \"b\" is not in properties and "
                   "additionalProperties is false");
    CHECK(schema_compile("{\"required\": [\"a\", \"z\"], \"x-inlet-layout\": {\"seq\": [{\"id\": "
                         "\"a\", \"type\": \"u1\"}]}}") == NULL);
    CHECK_STR(err, "test: /x-inlet-layout: no field has the id \"z\", which the schema requires");
    CHECK(schema_compile("{\"type\": \"array\", \"x-inlet-layout\": {\"seq\": [{\"id\": \"a\", "
                         "\"type\": \"u1\"}]}}") == NULL);
    CHECK_STR(err, "test: /x-inlet-layout: decodes frames into an object, which the schema's "
                   "type array refuses");
}

/* --- fleet.position, the reference use case ------------------------------------------------- */

static void test_fleet_position(void)
{
    inlet_schemas *r = NULL;
    const inlet_schema *s;
    const inlet_layout *l;
    const inlet_value *v;
    inlet_schema_error errs[4];
    json_t *j, *doc, *example;
    char lerr[1024];

    CHECK(inlet_schemas_load(INLET_SOURCE_DIR "/schemas", &r, lerr, sizeof(lerr)) == 0);
    if (!r) {
        fprintf(stderr, "%s\n", lerr);
        return;
    }
    s = inlet_schemas_find(r, "fleet.position", "v1");
    CHECK(s && (l = inlet_schema_layout(s)) != NULL);
    if (!s || !l)
        goto done;

    /* 52.52, 13.405, 61.2 km/h, 270°, delivering: 13 bytes. */
    inlet_arena_reset(&arena);
    v = decode(l, BYTES(0x1f, 0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70, 0xd0, 0x02, 0x64, 0x01, 0x0e, 3));
    /* One allocation: the object and its members; keys and enum texts are the layout's. */
    CHECK(arena.used == ((sizeof(inlet_value) + 5 * sizeof(inlet_member) + 15) & ~(size_t)15));
    CHECK_STR(text(v), "{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":61.2,\"heading_deg\":270,"
                       "\"status\":\"delivering\"}");
    /* The same value as the schema's first example, and valid against the schema. */
    doc = json_load_file(INLET_SOURCE_DIR "/schemas/fleet.position/v1.json", 0, NULL);
    example = json_array_get(json_object_get(doc, "examples"), 0);
    CHECK(example && v && inlet_value_equal(v, inlet_value_from_json(&arena, example)));
    json_decref(doc);
    j = v ? inlet_value_to_json(v) : NULL;
    CHECK(j && inlet_schema_validate(s, v, "/payload", errs, 4) == 0);
    json_decref(j);

    /* No heading (0xffff): the member is absent, as the JSON app leaves it out. */
    v = decode(l, BYTES(0x1f, 0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70, 0xd0, 0, 0, 0xff, 0xff, 0));
    CHECK_STR(text(v), "{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":0,\"status\":\"idle\"}");
    j = v ? inlet_value_to_json(v) : NULL;
    CHECK(j && inlet_schema_validate(s, v, "/payload", errs, 4) == 0);
    json_decref(j);

    /* Decodes, but the schema refuses it: latitude 214.7483647. */
    v = decode(l, BYTES(0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 5));
    CHECK_STR(text(v), "{\"lat\":214.7483647,\"lon\":0,\"speed_kmh\":0,\"heading_deg\":0,"
                       "\"status\":\"offline\"}");
    j = v ? inlet_value_to_json(v) : NULL;
    CHECK(j && inlet_schema_validate(s, v, "/payload", errs, 4) == 1);
    CHECK_STR(errs[0].pointer, "/payload/lat");
    json_decref(j);

    /* Frame errors. */
    FAILS(l, 12, "/status", "\"status\": 6 is not one of its enum values", 0x1f, 0x4d, 0xea, 0x80,
          0x07, 0xfd, 0x70, 0xd0, 0x02, 0x64, 0x01, 0x0e, 6);
    FAILS(l, 12, "", "frame ends at byte 12, inside \"status\" (u1, 1 byte at offset 12)", 0x1f,
          0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70, 0xd0, 0x02, 0x64, 0x01, 0x0e);
    FAILS(l, 13, "", "1 trailing byte after \"status\", where the layout ends (byte 13)", 0x1f,
          0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70, 0xd0, 0x02, 0x64, 0x01, 0x0e, 3, 0);

done:
    inlet_schemas_free(r);
}

int main(void)
{
    inlet_arena_init(&arena, 0);
    test_integers();
    test_floats();
    test_bits();
    test_enum();
    test_scale_offset();
    test_pos();
    test_strings();
    test_padding_and_absent();
    test_frame_errors();
    test_compile_errors();
    test_schema();
    test_fleet_position();
    for (size_t i = 0; i < n_kept; i++)
        inlet_layout_free(kept[i]);
    inlet_arena_fini(&arena);
    return check_done();
}
