/*
 * test_json_parse.c - inlet_json_parse (formats/json_parse.c) and inlet_value_write_json
 * (formats/value_write.c): values, errors and their offsets, the jansson rules mirrored (NUL,
 * duplicates, big integers, depth, UTF-8), canonical flags and raw spans, and the writer's
 * text against inlet_json_write of what jansson parses from the same document.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "check.h"
#include "formats/formats.h"
#include "formats/json_write.h"
#include "formats/value_write.h"

#define REFERENCE                                                                                  \
    "{\"events\":[{\"device_id\":\"truck-0042\",\"ts\":\"2026-11-21T10:15:30.123Z\","              \
    "\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":{\"lat\":52.52,\"lon\":13.405," \
    "\"speed_kmh\":61.2,\"heading_deg\":270,\"status\":\"delivering\"}}]}"

static inlet_arena arena;
static inlet_format_error err;

/* Parse n bytes of s; NULL (err filled) if refused. */
static const inlet_value *parsen(const char *s, size_t n)
{
    inlet_value *v = NULL;
    memset(&err, 0, sizeof(err));
    if (inlet_json_parse(&arena, s, n, &v, &err) != 0)
        return NULL;
    return v;
}

static const inlet_value *parse(const char *s)
{
    return parsen(s, strlen(s));
}

/* Refused, at offset, with a message containing what. */
static int refused(const char *s, size_t n, size_t offset, const char *what)
{
    char prefix[64];
    if (parsen(s, n))
        return 0;
    snprintf(prefix, sizeof(prefix), "malformed JSON at byte %zu: ", offset);
    if (err.offset != offset || strncmp(err.message, prefix, strlen(prefix)) != 0 ||
        !strstr(err.message, what)) {
        fprintf(stderr, "  refused as \"%s\" (offset %zu)\n", err.message, err.offset);
        return 0;
    }
    return 1;
}

static const char *write_value(const inlet_value *v)
{
    static char *last;
    inlet_buf b;
    free(last);
    inlet_buf_init(&b, 0);
    inlet_value_write_json(&b, v);
    last = inlet_buf_steal(&b, NULL);
    return last;
}

static const char *raw(const inlet_value *v)
{
    static char text[4096];
    snprintf(text, sizeof(text), "%.*s", (int)v->raw_len, v->raw);
    return text;
}

/* The first value of a one-element array document. */
static const inlet_value *item0(const char *doc)
{
    const inlet_value *v = parse(doc);
    return v && v->type == INLET_V_ARRAY && v->n == 1 ? &v->u.items[0] : NULL;
}

static void test_reference(void)
{
    static const char body[] = REFERENCE;
    const inlet_value *root = parse(body), *ev, *pl, *x;

    CHECK(root && root->type == INLET_V_OBJECT && root->n == 1);
    if (!root)
        return;
    CHECK(root->canonical && root->raw_len == strlen(REFERENCE));
    CHECK(strcmp(root->u.members[0].key, "events") == 0 && root->u.members[0].key_len == 6);
    x = inlet_value_get(root, "events");
    CHECK(x && x->type == INLET_V_ARRAY && x->n == 1);
    ev = &x->u.items[0];
    CHECK(ev->type == INLET_V_OBJECT && ev->n == 5);
    /* Members in document order. */
    const char *keys[] = {"device_id", "ts", "use_case", "schema", "payload"};
    for (int i = 0; i < 5; i++)
        CHECK_STR(ev->u.members[i].key, keys[i]);
    x = inlet_value_get(ev, "ts");
    CHECK(x && x->type == INLET_V_STRING && x->n == 24);
    CHECK_STR(x->u.s, "2026-11-21T10:15:30.123Z");
    CHECK_STR(raw(x), "\"2026-11-21T10:15:30.123Z\"");
    CHECK(x->canonical);
    pl = inlet_value_get(ev, "payload");
    CHECK(pl && pl->type == INLET_V_OBJECT && pl->n == 5 && pl->canonical);
    x = inlet_value_get(pl, "lat");
    CHECK(x && x->type == INLET_V_REAL && x->u.r == 52.52 && x->canonical);
    CHECK_STR(raw(x), "52.52");
    x = inlet_value_get(pl, "lon");
    CHECK(x && x->type == INLET_V_REAL && x->u.r == 13.405);
    x = inlet_value_get(pl, "heading_deg");
    CHECK(x && x->type == INLET_V_INT && x->u.i == 270 && x->canonical);
    x = inlet_value_get(pl, "status");
    CHECK(x && x->type == INLET_V_STRING && strcmp(x->u.s, "delivering") == 0);
    /* Canonical all the way down: the writer copies the body through. */
    CHECK_STR(write_value(root), REFERENCE);
    /* The input is not written to; strings live in the arena. */
    CHECK(x->u.s < body || x->u.s >= body + sizeof(body));
}

static void test_integers(void)
{
    const inlet_value *v;

    v = item0("[0]");
    CHECK(v && v->type == INLET_V_INT && v->u.i == 0 && v->canonical);
    v = item0("[-0]"); /* strtoll: an integer 0, which the writer spells "0" */
    CHECK(v && v->type == INLET_V_INT && v->u.i == 0 && !v->canonical);
    v = item0("[9223372036854775807]");
    CHECK(v && v->type == INLET_V_INT && v->u.i == INT64_MAX && v->canonical);
    v = item0("[-9223372036854775808]");
    CHECK(v && v->type == INLET_V_INT && v->u.i == INT64_MIN && v->canonical);
    v = item0("[123456789012345678]");
    CHECK(v && v->type == INLET_V_INT && v->u.i == 123456789012345678);
    CHECK(refused("[9223372036854775808]", 21, 1, "too big integer"));
    CHECK(refused("[-9223372036854775809]", 22, 1, "too big negative integer"));
    CHECK(refused("[100000000000000000000]", 23, 1, "too big integer"));
    CHECK(refused("[01]", 4, 1, "invalid token"));
    CHECK(refused("[-]", 3, 1, "invalid token"));
    CHECK(refused("[+1]", 4, 1, "invalid token"));
    CHECK(refused("[1.]", 4, 1, "invalid token"));
    CHECK(refused("[.5]", 4, 1, "invalid token"));
    CHECK(refused("[1e]", 4, 1, "invalid token"));
    CHECK(refused("[1e+]", 5, 1, "invalid token"));
    CHECK(refused("[0x10]", 6, 2, "']' expected"));
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static void test_reals(void)
{
    static const char *texts[] = {
        "0.1",
        "52.52",
        "-13.405",
        "61.2",
        "0.000001",
        "123456.789",
        "999999999.999",
        "1e5",
        "1E-5",
        "2.5e+3",
        "-0.0",
        "0.0",
        "3.0",
        "1e-400",
        "-1e-400",
        "5e-324",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "0.30000000000000004",
        "123456789012345678901234567890.5",
        "1.00000000000000011102230246251565404236316680908203125",
        "9007199254740993.0",
        "4.9406564584124654e-324",
        "1e22",
        "1e23",
    };
    char doc[128];

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        snprintf(doc, sizeof(doc), "[%s]", texts[i]);
        const inlet_value *v = item0(doc);
        CHECK(v && v->type == INLET_V_REAL && same_bits(v->u.r, strtod(texts[i], NULL)));
        if (!v || !same_bits(v->u.r, strtod(texts[i], NULL)))
            fprintf(stderr, "  real %s\n", texts[i]);
    }
    CHECK(refused("[1e400]", 7, 1, "real number overflow"));
    CHECK(refused("[-1e400]", 8, 1, "real number overflow"));
    {
        /* 1 and 320 zeros: past DBL_MAX whatever the fraction. */
        char big[400] = "[1";
        memset(big + 2, '0', 320);
        strcpy(big + 322, ".0]");
        CHECK(refused(big, strlen(big), 1, "real number overflow"));
    }

    /* Canonical: the text is what the writer writes for the double. */
    CHECK(item0("[52.52]")->canonical);
    CHECK(item0("[-0.5]")->canonical);
    CHECK(item0("[0.000001]")->canonical);
    CHECK(!item0("[52.520]")->canonical);
    CHECK(!item0("[3.0]")->canonical); /* written 3 */
    CHECK(!item0("[1e5]")->canonical); /* written 100000 */
    CHECK(!item0("[-0.0]")->canonical);
    CHECK(item0("[1e+20]")->canonical); /* %.15g writes exactly that */
    CHECK(item0("[0.30000000000000004]")->canonical);
    CHECK(!item0("[0.300000000000000040]")->canonical);
    CHECK_STR(write_value(item0("[1E5]")), "100000");
    CHECK_STR(write_value(item0("[2.50]")), "2.5");
}

static void test_strings(void)
{
    const inlet_value *v;

    v = item0("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"]");
    CHECK(v && v->type == INLET_V_STRING && v->n == 12);
    CHECK(v && memcmp(v->u.s, "a\"b\\c/d\b\f\n\r\t", 13) == 0);
    CHECK(v && !v->canonical); /* \/ \b \f are written otherwise */
    v = item0("[\"\\u00e9\\u20ac\\ud83d\\ude00\"]");
    CHECK(v && v->n == 9 && strcmp(v->u.s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
    v = item0("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"]");
    CHECK(v && v->n == 14 && v->canonical);
    v = item0("[\"\x7f\"]");
    CHECK(v && v->n == 1 && v->u.s[0] == 0x7f && v->canonical);
    v = item0("[\"\"]");
    CHECK(v && v->n == 0 && v->u.s[0] == '\0' && v->canonical);

    /* Canonical escapes: exactly the writer's \" \\ \n \r \t \u00xx (lowercase). */
    CHECK(item0("[\"x\\\"\\\\\\n\\r\\t\"]")->canonical);
    CHECK(item0("[\"\\u001f\\u0008\\u000c\"]")->canonical);
    CHECK(!item0("[\"\\u001F\"]")->canonical);
    CHECK(!item0("[\"\\u000a\"]")->canonical); /* written \n */
    CHECK(!item0("[\"\\u0041\"]")->canonical); /* written A */
    CHECK(!item0("[\"\\/\"]")->canonical);
    CHECK_STR(write_value(item0("[\"\\u0041\\/\\b\\u00e9\"]")), "\"A/\\u0008\xc3\xa9\"");

    /* Long strings, escapes past 16 bytes, the last bytes of the input. */
    v = item0("[\"0123456789abcdefghijklmnopqrstuvwxyz\\n0123456789abcdef\\u00e9\"]");
    CHECK(v && v->n == 55 && strcmp(v->u.s + 36, "\n0123456789abcdef\xc3\xa9") == 0);
    v = item0("[\"ab\"]");
    CHECK(v && strcmp(v->u.s, "ab") == 0);

    CHECK(refused("[\"\\u0000\"]", 10, 2, "\\u0000 is not allowed"));
    CHECK(refused("{\"a\\u0000\":1}", 13, 3, "NUL byte in object key"));
    CHECK(refused("[\"\\ud800\"]", 10, 2, "invalid Unicode '\\uD800'"));
    CHECK(refused("[\"\\udc00\"]", 10, 2, "invalid Unicode '\\uDC00'"));
    CHECK(refused("[\"\\ud800\\u0041\"]", 16, 2, "invalid Unicode '\\uD800\\u0041'"));
    CHECK(refused("[\"\\ud800x\"]", 11, 2, "invalid Unicode"));
    CHECK(refused("[\"\\u12g4\"]", 10, 2, "invalid escape"));
    CHECK(refused("[\"\\x\"]", 6, 2, "invalid escape"));
    CHECK(refused("[\"a\nb\"]", 7, 3, "unexpected newline"));
    CHECK(refused("[\"a\x01\"]", 6, 3, "control character 0x1"));
    CHECK(refused("[\"a\0\"]", 6, 3, "control character 0x0"));
    CHECK(refused("[\"\xc0\xaf\"]", 6, 2, "unable to decode byte 0xc0"));     /* overlong */
    CHECK(refused("[\"\xed\xa0\x80\"]", 7, 2, "unable to decode byte 0xed")); /* surrogate */
    CHECK(refused("[\"\xf4\x90\x80\x80\"]", 8, 2, "unable to decode byte 0xf4"));
    CHECK(refused("[\"\x80\"]", 5, 2, "unable to decode byte 0x80"));
    CHECK(refused("[\"\xe2\x82\"]", 6, 2, "unable to decode"));
    CHECK(refused("[\"abc", 5, 5, "premature end of input"));
    CHECK(refused("[\xc3\xa9]", 4, 1, "invalid token"));
}

static void test_structure(void)
{
    const inlet_value *v;

    CHECK(refused("", 0, 0, "'[' or '{' expected"));
    CHECK(refused("   ", 3, 3, "'[' or '{' expected"));
    CHECK(refused("1", 1, 0, "'[' or '{' expected"));
    CHECK(refused("\"a\"", 3, 0, "'[' or '{' expected"));
    CHECK(refused("null", 4, 0, "'[' or '{' expected"));
    CHECK(refused("[1,]", 4, 3, "unexpected token"));
    CHECK(refused("[,1]", 4, 1, "unexpected token"));
    CHECK(refused("{\"a\":1,}", 8, 7, "string or '}' expected"));
    CHECK(refused("{\"a\" 1}", 7, 5, "':' expected"));
    CHECK(refused("{1:1}", 5, 1, "string or '}' expected"));
    CHECK(refused("[1 2]", 5, 3, "']' expected"));
    CHECK(refused("{\"a\":1]", 7, 6, "'}' expected"));
    CHECK(refused("[] x", 4, 3, "end of file expected"));
    CHECK(refused("[][]", 4, 2, "end of file expected"));
    CHECK(refused("[tru]", 5, 1, "invalid token"));
    CHECK(refused("[truex]", 7, 1, "invalid token"));
    CHECK(refused("[true1]", 7, 5, "']' expected"));
    /* Cut short: the offset is the end of the input. */
    CHECK(refused("{\"a\":1", 6, 6, "'}' expected"));
    CHECK(refused("[1,", 3, 3, "premature end of input"));
    CHECK(refused("[[1]", 4, 4, "']' expected"));
    CHECK(refused("{\"a\"", 4, 4, "':' expected"));
    CHECK(refused("[", 1, 1, "premature end of input"));

    v = parse(" \t\r\n[ 1 , true,false , null ,\"x\" , [ ] , { } ] \n");
    CHECK(v && v->type == INLET_V_ARRAY && v->n == 7 && !v->canonical);
    CHECK(v && v->u.items[0].canonical && v->u.items[4].canonical);
    CHECK(v && !v->u.items[5].canonical && !v->u.items[6].canonical); /* "[ ]", "{ }" */
    CHECK(v && v->u.items[5].type == INLET_V_ARRAY && v->u.items[5].n == 0);
    CHECK(v && v->u.items[6].type == INLET_V_OBJECT && v->u.items[6].n == 0);
    CHECK(v && strcmp(raw(&v->u.items[5]), "[ ]") == 0 &&
          strcmp(raw(&v->u.items[4]), "\"x\"") == 0);
    CHECK_STR(write_value(v), "[1,true,false,null,\"x\",[],{}]");
    v = parse("{\"a\":[1,{\"b\":null}],\"c\":{\"d\":[]}}");
    CHECK(v && v->canonical && v->n == 2);
    CHECK(v && v->u.members[0].value.type == INLET_V_ARRAY && v->u.members[0].value.n == 2);
    CHECK(v && v->u.members[0].value.u.items[1].u.members[0].value.type == INLET_V_NULL);

    /* jansson loses a NUL that ends a number or a literal; no other. */
    v = parsen("[1\0,true\0,null\0,2.5\0]", 21);
    CHECK(v && v->n == 4 && !v->canonical && v->u.items[0].canonical);
    CHECK(v && v->u.items[3].type == INLET_V_REAL && v->u.items[3].u.r == 2.5);
    CHECK(refused("[1\0\0]", 5, 3, "']' expected"));
    CHECK(refused("[\"a\"\0]", 6, 4, "']' expected"));
    CHECK(refused("[[]\0]", 5, 3, "']' expected"));
    CHECK(refused("[1 \0]", 5, 3, "']' expected"));
    CHECK(refused("[]\0", 3, 2, "end of file expected"));
}

static void test_duplicates(void)
{
    char doc[32768];
    size_t o;

    CHECK(refused("{\"a\":1,\"a\":2}", 13, 7, "duplicate object key"));
    CHECK(refused("{\"a\":1,\"b\":2,\"\\u0061\":3}", 24, 13, "duplicate object key"));
    CHECK(refused("{\"\":1,\"\":2}", 11, 6, "duplicate object key"));
    CHECK(parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}") != NULL); /* per object */
    CHECK(parse("{\"lat\":1,\"lon\":2,\"lan\":3,\"ab\":1,\"ba\":2}") != NULL);

    /* Big objects go through the hash index: all distinct is fine, one repeat is not. */
    o = (size_t)snprintf(doc, sizeof(doc), "{");
    for (int i = 0; i < 1000; i++)
        o += (size_t)snprintf(doc + o, sizeof(doc) - o, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(doc + o, sizeof(doc) - o, "}");
    const inlet_value *v = parse(doc);
    CHECK(v && v->n == 1000 && inlet_value_get(v, "k999")->u.i == 999);
    CHECK(v && strcmp(v->u.members[500].key, "k500") == 0);
    snprintf(doc + o, sizeof(doc) - o, ",\"k17\":0}");
    CHECK(refused(doc, strlen(doc), o + 1, "duplicate object key"));
    snprintf(doc + o, sizeof(doc) - o, ",\"k999\":0}");
    CHECK(refused(doc, strlen(doc), o + 1, "duplicate object key"));
}

static void test_depth(void)
{
    static char doc[8192];
    size_t n;

    /* 2048 nested arrays are fine as long as the innermost is empty: jansson counts every
     * value, so a scalar inside the 2048th is at depth 2049. */
    for (n = 0; n < 2048; n++)
        doc[n] = '[';
    memset(doc + n, ']', 2048);
    CHECK(parsen(doc, 4096) != NULL);
    doc[0] = '['; /* 2049 */
    memmove(doc + 1, doc, 4096);
    doc[4097] = ']';
    CHECK(refused(doc, 4098, 2048, "maximum parsing depth reached"));
    memset(doc, '[', 2047);
    doc[2047] = '1';
    memset(doc + 2048, ']', 2047);
    CHECK(parsen(doc, 4095) != NULL);
    memset(doc, '[', 2048);
    doc[2048] = '1';
    memset(doc + 2049, ']', 2048);
    CHECK(refused(doc, 4097, 2048, "maximum parsing depth reached"));
    memset(doc, '[', 2047);
    memcpy(doc + 2047, "{\"a\":1}", 7);
    memset(doc + 2054, ']', 2047);
    /* Refused where the too deep value would start: the object's first key. */
    CHECK(refused(doc, 4101, 2048, "maximum parsing depth reached"));
}

static void test_arena_limit(void)
{
    inlet_arena small;
    inlet_value *v;

    inlet_arena_init(&small, 64);
    CHECK(inlet_json_parse(&small, REFERENCE, strlen(REFERENCE), &v, &err) == -1);
    CHECK(v == NULL && strstr(err.message, "out of memory") && small.failed);
    inlet_arena_fini(&small);
}

/* The writer's text for what we parse equals inlet_json_write's for what jansson parses; both
 * accept and refuse together. */
static void test_against_jansson(void)
{
    static const char *docs[] = {
        REFERENCE,
        "{ \"events\" : [ { \"device_id\" : \"truck-0042\", \"payload\" : { \"lat\" : 52.520 } } ] "
        "}",
        "[0,-0,1.0,1e2,-1E-2,0.1,1e-400,123456789.123456789,1.7976931348623157e308]",
        "[\"\\u0041\\/\\b\\f\\n\\r\\t\\\"\\\\\\u001f\\u007f\\u0080\\u00ff\\uffff\\ud800\\udc00\"]",
        "{\"\":{\"\":[[],{},\"\",0]}}",
        "[true,false,null]",
        "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,"
        "32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,"
        "61,62,63,64,65,66,67,68,69,70]",
        "[1\0]",
        "[\"a\"\0]",
        "{\"a\":1,\"a\":1}",
        "[9223372036854775808]",
        "[\"\\u0000\"]",
        "[1] ",
        "[1] x",
    };
    static const size_t lens[] = {0, 0, 0, 0, 0, 0, 0, 4, 6, 0, 0, 0, 0, 0};

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        size_t n = lens[i] ? lens[i] : strlen(docs[i]);
        json_error_t jerr;
        json_t *j = json_loadb(docs[i], n, JSON_REJECT_DUPLICATES, &jerr);
        const inlet_value *v = parsen(docs[i], n);
        CHECK((j != NULL) == (v != NULL));
        if (j && v) {
            inlet_buf b;
            inlet_buf_init(&b, 0);
            inlet_json_write(&b, j);
            char *want = inlet_buf_steal(&b, NULL);
            CHECK_STR(write_value(v), want);
            CHECK(inlet_value_equal(v, inlet_value_from_json(&arena, j)));
            /* Without raw spans the writer spells it out, to the same text. */
            CHECK_STR(write_value(inlet_value_from_json(&arena, j)), want);
            free(want);
        }
        json_decref(j);
    }
}

static void test_writer_kinds(void)
{
    inlet_value items[4];
    inlet_member m;
    inlet_value arr, obj;

    memset(items, 0, sizeof(items));
    items[0].type = INLET_V_BYTES;
    items[0].u.s = "\xfb\xff\x00hello";
    items[0].n = 8;
    items[1].type = INLET_V_INT;
    items[1].u.i = INT64_MIN;
    items[2].type = INLET_V_REAL;
    items[2].u.r = 0.1;
    items[3].type = INLET_V_STRING;
    items[3].u.s = "q\"\x01";
    items[3].n = 3;
    memset(&arr, 0, sizeof(arr));
    arr.type = INLET_V_ARRAY;
    arr.n = 4;
    arr.u.items = items;
    memset(&m, 0, sizeof(m));
    m.key = "k\n";
    m.key_len = 2;
    m.value = arr;
    memset(&obj, 0, sizeof(obj));
    obj.type = INLET_V_OBJECT;
    obj.n = 1;
    obj.u.members = &m;
    CHECK_STR(write_value(&obj),
              "{\"k\\n\":[\"-_8AaGVsbG8\",-9223372036854775808,0.1,\"q\\\"\\u0001\"]}");
    items[0].n = 1;
    CHECK_STR(write_value(&items[0]), "\"-w\"");
    items[0].n = 2;
    CHECK_STR(write_value(&items[0]), "\"-_8\"");
    items[0].n = 0;
    CHECK_STR(write_value(&items[0]), "\"\"");
}

int main(void)
{
    inlet_arena_init(&arena, 0);
    test_reference();
    test_integers();
    test_reals();
    test_strings();
    test_structure();
    test_duplicates();
    test_depth();
    test_arena_limit();
    test_against_jansson();
    test_writer_kinds();
    inlet_arena_fini(&arena);
    return check_done();
}
