/* test_schema.c - the schema compiler, validator and registry, and the three shipped schemas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "formats/arena.h"
#include "formats/formats.h"
#include "schema/schema.h"

#define MAX_ERRS 8

static char err[1024];
static inlet_schema_error errs[MAX_ERRS];
static inlet_arena arena; /* instances under test; reset after each validation */

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!v)
        fprintf(stderr, "test JSON does not parse: %s: %s\n", text, jerr.text);
    return v;
}

/* Compile schema text; NULL (with err set) on failure. */
static inlet_schema *compile_as(const char *origin, const char *text)
{
    inlet_schema *s = NULL;
    json_t *doc = parse(text);

    err[0] = '\0';
    if (doc && inlet_schema_compile(doc, origin, &s, err, sizeof(err)) != 0)
        s = NULL;
    json_decref(doc);
    return s;
}

static inlet_schema *compile(const char *text)
{
    inlet_schema *s = compile_as("test", text);
    if (!s)
        fprintf(stderr, "schema does not compile: %s\n  %s\n", text, err);
    return s;
}

/* The load error for schema text, or "(compiled)". */
static const char *compile_error(const char *text)
{
    inlet_schema *s = compile_as("test", text);
    if (s) {
        inlet_schema_free(s);
        return "(compiled)";
    }
    return err;
}

/* The validator's view of a jansson value, in the test arena. */
static const inlet_value *value_of(const json_t *j)
{
    const inlet_value *v = inlet_value_from_json(&arena, j);
    if (!v)
        fprintf(stderr, "cannot convert a test value\n");
    return v;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Byte strings for the tests: every string written h'<hex>' (CBOR's diagnostic notation)
 * becomes INLET_V_BYTES, as the CBOR decoder would produce it. */
static void strings_to_bytes(inlet_value *v)
{
    size_t digits;
    char *b;

    if (v->type == INLET_V_ARRAY)
        for (uint32_t i = 0; i < v->n; i++)
            strings_to_bytes(&v->u.items[i]);
    if (v->type == INLET_V_OBJECT)
        for (uint32_t i = 0; i < v->n; i++)
            strings_to_bytes(&v->u.members[i].value);
    if (v->type != INLET_V_STRING || v->n < 3 || strncmp(v->u.s, "h'", 2) != 0 ||
        v->u.s[v->n - 1] != '\'')
        return;
    digits = v->n - 3;
    b = (char *)v->u.s; /* the arena copy, ours to rewrite in place */
    for (size_t i = 0; i + 1 < digits; i += 2)
        b[i / 2] = (char)(hex_digit(v->u.s[2 + i]) << 4 | hex_digit(v->u.s[3 + i]));
    v->type = INLET_V_BYTES;
    v->n = (uint32_t)(digits / 2);
}

/* Validate instance text; errors land in errs. (size_t)-1 if the text does not parse. */
static size_t validate(const inlet_schema *s, const char *instance, const char *base)
{
    json_t *j = parse(instance);
    inlet_value *v = j ? inlet_value_from_json(&arena, j) : NULL;
    size_t n;

    json_decref(j);
    if (!s || !v) {
        inlet_arena_reset(&arena);
        return (size_t)-1;
    }
    strings_to_bytes(v);
    memset(errs, 0, sizeof(errs));
    n = inlet_schema_validate(s, v, base, errs, MAX_ERRS);
    inlet_arena_reset(&arena);
    return n;
}

#define VALID(s, instance) CHECK(validate((s), (instance), "") == 0)

/* Exactly one error, at pointer with message. */
#define INVALID(s, instance, ptr, msg)                                                             \
    do {                                                                                           \
        CHECK(validate((s), (instance), "") == 1);                                                 \
        CHECK_STR(errs[0].pointer, (ptr));                                                         \
        CHECK_STR(errs[0].message, (msg));                                                         \
    } while (0)

static void test_type(void)
{
    inlet_schema *s;

    s = compile("{\"type\": \"number\"}");
    VALID(s, "1");
    VALID(s, "-1.5e3");
    INVALID(s, "\"1\"", "", "expected number, got string");
    INVALID(s, "null", "", "expected number, got null");
    INVALID(s, "true", "", "expected number, got boolean");
    inlet_schema_free(s);

    s = compile("{\"type\": \"integer\"}");
    VALID(s, "42");
    VALID(s, "1.0"); /* zero fraction counts as an integer */
    VALID(s, "-3e2");
    INVALID(s, "1.5", "", "expected integer, got number");
    INVALID(s, "[1]", "", "expected integer, got array");
    inlet_schema_free(s);

    s = compile("{\"type\": [\"string\", \"null\"]}");
    VALID(s, "\"x\"");
    VALID(s, "null");
    INVALID(s, "7", "", "expected string or null, got number");
    inlet_schema_free(s);

    s = compile("{\"type\": \"boolean\"}");
    VALID(s, "false");
    INVALID(s, "0", "", "expected boolean, got number");
    inlet_schema_free(s);

    s = compile("{\"type\": \"object\"}");
    VALID(s, "{}");
    INVALID(s, "[]", "", "expected object, got array");
    inlet_schema_free(s);

    s = compile("{\"type\": \"array\"}");
    VALID(s, "[]");
    INVALID(s, "{}", "", "expected array, got object");
    inlet_schema_free(s);

    s = compile("{\"type\": \"null\"}");
    VALID(s, "null");
    INVALID(s, "\"\"", "", "expected null, got string");
    inlet_schema_free(s);

    /* No "type": anything goes. */
    s = compile("{}");
    VALID(s, "null");
    VALID(s, "{\"a\": [1, 2]}");
    inlet_schema_free(s);
}

static void test_properties_required_additional(void)
{
    inlet_schema *s;

    s = compile("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\"}, "
                "\"b\": {\"type\": \"number\"}}, \"required\": [\"a\", \"b\"], "
                "\"additionalProperties\": false}");
    VALID(s, "{\"a\": \"x\", \"b\": 1}");
    CHECK(validate(s, "{\"a\": 1, \"b\": 1}", "/payload") == 1);
    CHECK_STR(errs[0].pointer, "/payload/a");
    CHECK_STR(errs[0].message, "expected string, got number");

    CHECK(validate(s, "{\"a\": \"x\"}", "/payload") == 1);
    CHECK_STR(errs[0].pointer, "/payload");
    CHECK_STR(errs[0].message, "missing required property \"b\"");

    CHECK(validate(s, "{\"a\": \"x\", \"b\": 2, \"foo\": 3}", "/payload") == 1);
    CHECK_STR(errs[0].pointer, "/payload/foo");
    CHECK_STR(errs[0].message, "additional property not allowed");

    /* All errors are collected, in instance order, then missing properties. */
    CHECK(validate(s, "{\"foo\": 1, \"a\": false}", "/payload") == 3);
    CHECK_STR(errs[0].pointer, "/payload/foo");
    CHECK_STR(errs[0].message, "additional property not allowed");
    CHECK_STR(errs[1].pointer, "/payload/a");
    CHECK_STR(errs[1].message, "expected string, got boolean");
    CHECK_STR(errs[2].pointer, "/payload");
    CHECK_STR(errs[2].message, "missing required property \"b\"");

    /* Properties only constrain objects. */
    INVALID(s, "[]", "", "expected object, got array");
    inlet_schema_free(s);

    s = compile("{\"properties\": {\"a\": {\"type\": \"string\"}}}");
    VALID(s, "{\"zzz\": 1}"); /* additional properties are allowed by default */
    VALID(s, "\"not an object\"");
    inlet_schema_free(s);

    s = compile("{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"integer\"}}");
    VALID(s, "{\"a\": \"anything\", \"n\": 1}");
    INVALID(s, "{\"a\": 1, \"n\": \"one\"}", "/n", "expected integer, got string");
    inlet_schema_free(s);

    s = compile("{\"additionalProperties\": true, \"required\": [\"k\"]}");
    VALID(s, "{\"k\": null, \"x\": 1}");
    INVALID(s, "{\"x\": 1}", "", "missing required property \"k\"");
    VALID(s, "5"); /* required only constrains objects */
    inlet_schema_free(s);

    /* Pointers escape "~" and "/" (RFC 6901) and count array indices. */
    s = compile("{\"properties\": {\"a\": {\"items\": {\"properties\": {\"b~/c\": {\"type\": "
                "\"string\"}}}}}}");
    CHECK(validate(s, "{\"a\": [{\"b~/c\": \"ok\"}, {\"b~/c\": 1}]}", "/payload") == 1);
    CHECK_STR(errs[0].pointer, "/payload/a/1/b~0~1c");
    inlet_schema_free(s);
}

static void test_enum_const(void)
{
    inlet_schema *s;
    char text[4096];
    size_t len;

    s = compile("{\"enum\": [\"delivering\", \"idle\", 1, null]}");
    VALID(s, "\"idle\"");
    VALID(s, "1.0"); /* JSON equality: 1 == 1.0 */
    VALID(s, "null");
    INVALID(s, "\"x\"", "", "\"x\" is not one of [\"delivering\", \"idle\", 1, null]");
    INVALID(s, "2.5", "", "2.5 is not one of [\"delivering\", \"idle\", 1, null]");
    INVALID(s, "\"IDLE\"", "", "\"IDLE\" is not one of [\"delivering\", \"idle\", 1, null]");
    inlet_schema_free(s);

    /* Long lists are cut with "...". */
    len = (size_t)snprintf(text, sizeof(text), "{\"enum\": [");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"value_number_%02d\"",
                                i ? ", " : "", i);
    snprintf(text + len, sizeof(text) - len, "]}");
    s = compile(text);
    CHECK(validate(s, "\"value_number_40\"", "") == 1);
    CHECK(strncmp(errs[0].message, "\"value_number_40\" is not one of [\"value_number_00\", ",
                  51) == 0);
    len = strlen(errs[0].message);
    CHECK(len > 6 && strcmp(errs[0].message + len - 6, ", ...]") == 0);
    VALID(s, "\"value_number_39\"");
    inlet_schema_free(s);

    s = compile("{\"const\": 1}");
    VALID(s, "1");
    VALID(s, "1.0");
    INVALID(s, "2", "", "2 is not 1");
    INVALID(s, "\"1\"", "", "\"1\" is not 1");
    inlet_schema_free(s);

    s = compile("{\"const\": {\"a\": [1, 2.5], \"b\": \"x\"}}");
    VALID(s, "{\"b\": \"x\", \"a\": [1.0, 2.5]}");
    INVALID(s, "{\"a\": [1]}", "", "{\"a\": [1]} is not {\"a\": [1, 2.5], \"b\": \"x\"}");
    INVALID(s, "{\"a\": [1, 2.5], \"b\": \"x\", \"c\": 0}", "",
            "{\"a\": [1, 2.5], \"b\": \"x\", \"c\": 0} is not {\"a\": [1, 2.5], \"b\": \"x\"}");
    inlet_schema_free(s);

    s = compile("{\"const\": null}");
    VALID(s, "null");
    INVALID(s, "false", "", "false is not null");
    inlet_schema_free(s);
}

static void test_numbers(void)
{
    inlet_schema *s;

    s = compile("{\"minimum\": -90, \"maximum\": 90}");
    VALID(s, "-90");
    VALID(s, "90");
    VALID(s, "90.0");
    VALID(s, "\"strings are not numbers\"");
    INVALID(s, "123.4", "", "123.4 is greater than maximum 90");
    INVALID(s, "90.000001", "", "90.000001 is greater than maximum 90");
    INVALID(s, "-91", "", "-91 is less than minimum -90");
    INVALID(s, "-1e300", "", "-1e+300 is less than minimum -90");
    inlet_schema_free(s);

    /* Numbers print the way a person writes them. */
    s = compile("{\"maximum\": 52.52}");
    VALID(s, "52.52");
    INVALID(s, "52.53", "", "52.53 is greater than maximum 52.52");
    INVALID(s, "100.0", "", "100 is greater than maximum 52.52");
    inlet_schema_free(s);

    s = compile("{\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 360}");
    VALID(s, "0.0001");
    VALID(s, "359.999");
    INVALID(s, "0", "", "0 is less than or equal to exclusive minimum 0");
    INVALID(s, "-5", "", "-5 is less than or equal to exclusive minimum 0");
    INVALID(s, "360", "", "360 is greater than or equal to exclusive maximum 360");
    INVALID(s, "360.0", "", "360 is greater than or equal to exclusive maximum 360");
    inlet_schema_free(s);

    /* Integers beyond 2^53 compare exactly. */
    s = compile("{\"maximum\": 9007199254740993}");
    VALID(s, "9007199254740993");
    INVALID(s, "9007199254740994", "", "9007199254740994 is greater than maximum 9007199254740993");
    inlet_schema_free(s);

    /* Both bounds broken at once: two errors. */
    s = compile("{\"maximum\": 10, \"exclusiveMaximum\": 5}");
    CHECK(validate(s, "11", "") == 2);
    CHECK_STR(errs[0].message, "11 is greater than maximum 10");
    CHECK_STR(errs[1].message, "11 is greater than or equal to exclusive maximum 5");
    inlet_schema_free(s);
}

static void test_strings(void)
{
    inlet_schema *s;
    char text[400];

    s = compile("{\"minLength\": 2, \"maxLength\": 3}");
    VALID(s, "\"ab\"");
    VALID(s, "\"abc\"");
    VALID(s, "\"\\u00e4\\u00f6\\u00fc\""); /* 3 code points, 6 bytes */
    VALID(s, "\"\\ud83d\\ude9a\\u20ac\""); /* truck emoji (4 bytes) + euro sign (3 bytes) */
    VALID(s, "5");
    INVALID(s, "\"a\"", "", "\"a\" is shorter than 2 characters");
    INVALID(s, "\"\\u20ac\\u20ac\\u20ac\\u20ac\"", "",
            "\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\" is longer than 3 characters");
    inlet_schema_free(s);

    s = compile("{\"minLength\": 1, \"maxLength\": 1}");
    INVALID(s, "\"\"", "", "\"\" is shorter than 1 character");
    INVALID(s, "\"ab\"", "", "\"ab\" is longer than 1 character");
    inlet_schema_free(s);

    /* Long values are cut in messages. */
    s = compile("{\"maxLength\": 10}");
    memset(text, 0, sizeof(text));
    text[0] = '"';
    memset(text + 1, 'x', 300);
    text[301] = '"';
    CHECK(validate(s, text, "") == 1);
    CHECK_STR(errs[0].message,
              "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is longer "
              "than 10 characters");
    /* Control characters are escaped. */
    INVALID(s, "\"a\\n\\\"b\\u0001cdefghijk\"", "",
            "\"a\\n\\\"b\\u0001cdefghijk\" is longer than 10 characters");
    inlet_schema_free(s);

    s = compile("{\"pattern\": \"^[A-Z]{2}-[0-9]+$\"}");
    VALID(s, "\"TR-0815\"");
    VALID(s, "42");
    INVALID(s, "\"tr-0815\"", "", "\"tr-0815\" does not match pattern \"^[A-Z]{2}-[0-9]+$\"");
    /* "$" matches only at the very end, as in ECMA-262. */
    INVALID(s, "\"TR-0815\\n\"", "", "\"TR-0815\\n\" does not match pattern \"^[A-Z]{2}-[0-9]+$\"");
    inlet_schema_free(s);

    /* Unanchored search, as JSON Schema says. */
    s = compile("{\"pattern\": \"b+\"}");
    VALID(s, "\"abbbc\"");
    INVALID(s, "\"ac\"", "", "\"ac\" does not match pattern \"b+\"");
    inlet_schema_free(s);

    /* UTF mode: "." is one code point; \\u escapes as in ECMA-262. */
    s = compile("{\"pattern\": \"^.\\\\u00e9.$\"}");
    VALID(s, "\"\\u20ac\\u00e9\\ud83d\\ude9a\"");
    INVALID(s, "\"xex\"", "", "\"xex\" does not match pattern \"^.\\\\u00e9.$\"");
    inlet_schema_free(s);

    s = compile("{\"format\": \"date-time\"}");
    VALID(s, "\"2026-11-21T10:15:30.123Z\"");
    VALID(s, "\"2026-11-21T12:15:30+02:00\"");
    VALID(s, "1"); /* format only constrains strings */
    INVALID(s, "\"abc\"", "", "\"abc\" is not a valid date-time");
    INVALID(s, "\"2025-02-29T10:00:00Z\"", "", "\"2025-02-29T10:00:00Z\" is not a valid date-time");
    INVALID(s, "\"2026-11-21T10:15:30\"", "", "\"2026-11-21T10:15:30\" is not a valid date-time");
    inlet_schema_free(s);
}

static void test_arrays(void)
{
    inlet_schema *s;

    s = compile("{\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"minItems\": 1, "
                "\"maxItems\": 3}");
    VALID(s, "[1]");
    VALID(s, "[1, 2, 3]");
    INVALID(s, "[]", "", "expected at least 1 item, got 0");
    INVALID(s, "[1, 2, 3, 4]", "", "expected at most 3 items, got 4");
    INVALID(s, "[1, \"two\", 3]", "/1", "expected integer, got string");
    CHECK(validate(s, "[1.5, 2, \"x\", null]", "/payload/list") == 4);
    CHECK_STR(errs[0].pointer, "/payload/list");
    CHECK_STR(errs[0].message, "expected at most 3 items, got 4");
    CHECK_STR(errs[1].pointer, "/payload/list/0");
    CHECK_STR(errs[1].message, "expected integer, got number");
    CHECK_STR(errs[2].pointer, "/payload/list/2");
    CHECK_STR(errs[3].pointer, "/payload/list/3");
    CHECK_STR(errs[3].message, "expected integer, got null");
    inlet_schema_free(s);

    s = compile("{\"minItems\": 2}");
    INVALID(s, "[0]", "", "expected at least 2 items, got 1");
    VALID(s, "{}");
    inlet_schema_free(s);
}

static void test_boolean_schemas(void)
{
    inlet_schema *s;
    json_t *doc;

    s = compile("{\"properties\": {\"gone\": false, \"any\": true}}");
    VALID(s, "{\"any\": [1, {}]}");
    INVALID(s, "{\"gone\": 1}", "/gone", "no value is allowed here");
    inlet_schema_free(s);

    s = compile("{\"items\": false}");
    VALID(s, "[]");
    INVALID(s, "[0]", "/0", "no value is allowed here");
    inlet_schema_free(s);

    doc = json_true();
    CHECK(inlet_schema_compile(doc, "test", &s, err, sizeof(err)) == 0);
    VALID(s, "{\"x\": 1}");
    CHECK(inlet_schema_topic(s) == NULL);
    CHECK_STR(inlet_schema_key_pointer(s), "/device_id");
    inlet_schema_free(s);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Regression: 40,000 strings that backtrack catastrophically each ran to PCRE2's match limit
 * of a million steps (minutes for one request). Now the first exhausts the request's budget and
 * the rest fail at once. */
static void test_regex_budget(void)
{
    inlet_schema *s = compile("{\"type\": \"array\", \"items\": {\"type\": \"string\", "
                              "\"pattern\": \"^(a+)+$\"}}");
    const size_t n = 40000, one = 34; /* "aaaa...a!" */
    char *body = malloc(n * (one + 3) + 3), *p = body;

    if (!s || !body) {
        CHECK(0);
        free(body);
        return;
    }
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        *p++ = '"';
        memset(p, 'a', one - 1);
        p += one - 1;
        *p++ = '!';
        *p++ = '"';
        *p++ = i + 1 < n ? ',' : ']';
    }
    *p = '\0';
    inlet_schema_budget_begin(INLET_SCHEMA_REGEX_BUDGET_US);
    double t0 = seconds_now();
    size_t errors = validate(s, body, "");
    double took = seconds_now() - t0;
    CHECK(inlet_schema_budget_exhausted());
    inlet_schema_budget_end();
    CHECK(errors > 0 && errors != (size_t)-1);
    CHECK_CONTAINS(errs[0].message, "could not be matched");
    CHECK(took < 2.0);
    if (took >= 2.0)
        fprintf(stderr, "  40,000 strings took %.1f s\n", took);
    /* a new request has its budget back; without one, matching works as before */
    inlet_schema_budget_begin(INLET_SCHEMA_REGEX_BUDGET_US);
    CHECK(!inlet_schema_budget_exhausted());
    VALID(s, "[\"aaaa\"]");
    inlet_schema_budget_end();
    VALID(s, "[\"aaaa\"]");
    free(body);
    inlet_schema_free(s);
}

static void test_error_limits(void)
{
    inlet_schema *s;
    json_t *v;
    inlet_schema_error few[2];

    s = compile("{\"items\": {\"type\": \"string\"}}");
    v = parse("[1, 2, 3, 4, 5]");
    memset(few, 0x5a, sizeof(few));
    /* Every error is counted; only max_errs are written. */
    CHECK(inlet_schema_validate(s, value_of(v), "", few, 1) == 5);
    CHECK_STR(few[0].pointer, "/0");
    CHECK((unsigned char)few[1].pointer[0] == 0x5a);
    CHECK(inlet_schema_validate(s, value_of(v), "", NULL, 0) == 5);
    CHECK(inlet_schema_validate(s, value_of(v), NULL, few, 2) == 5);
    CHECK_STR(few[1].pointer, "/1");
    CHECK(inlet_schema_validate(s, NULL, "/payload", few, 1) == 1);
    CHECK_STR(few[0].pointer, "/payload");
    CHECK_STR(few[0].message, "no value");
    json_decref(v);

    /* A long base pointer is cut, never overflowed. */
    char base[400];
    memset(base, 'p', sizeof(base) - 1);
    base[0] = '/';
    base[sizeof(base) - 1] = '\0';
    v = parse("[1]");
    CHECK(inlet_schema_validate(s, value_of(v), base, few, 1) == 1);
    CHECK(strlen(few[0].pointer) == sizeof(few[0].pointer) - 1);
    json_decref(v);
    inlet_schema_free(s);
}

static void test_annotations_and_inlet_keys(void)
{
    inlet_schema *s;

    s = compile("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"$id\": "
                "\"urn:example:x\", \"$comment\": \"c\", \"title\": \"t\", \"description\": \"d\", "
                "\"examples\": [1], \"default\": {}, \"deprecated\": false, \"readOnly\": true, "
                "\"writeOnly\": false, \"x-inlet-topic\": \"demo.v1\", \"x-inlet-key\": "
                "\"/payload/vin\", \"x-inlet-layout\": {\"seq\": [{\"id\": \"a\", \"type\": "
                "\"u1\"}]}, \"properties\": {\"a\": "
                "{\"title\": \"nested annotations too\", \"default\": 3, \"type\": \"integer\"}}}");
    CHECK(s != NULL);
    if (s) {
        CHECK_STR(inlet_schema_topic(s), "demo.v1");
        CHECK_STR(inlet_schema_key_pointer(s), "/payload/vin");
        CHECK(inlet_schema_name(s) == NULL);
        CHECK(inlet_schema_version(s) == NULL);
        INVALID(s, "{\"a\": \"3\"}", "/a", "expected integer, got string");
    }
    inlet_schema_free(s);

    s = compile("{\"x-inlet-key\": \"\"}"); /* the whole event; legal, if odd */
    CHECK(s && strcmp(inlet_schema_key_pointer(s), "") == 0);
    inlet_schema_free(s);
}

static void test_load_errors(void)
{
    inlet_schema *s;

    s = compile_as("schemas/x/v1.json",
                   "{\"properties\": {\"lat\": {\"type\": \"number\", \"multipleOf\": 0.5}}}");
    CHECK(s == NULL);
    CHECK_STR(err, "schemas/x/v1.json: /properties/lat/multipleOf: unsupported keyword");

    CHECK_STR(compile_error("{\"$ref\": \"#/$defs/x\"}"), "test: /$ref: unsupported keyword");
    CHECK_STR(compile_error("{\"items\": {\"x-vendor\": 1}}"),
              "test: /items/x-vendor: unsupported keyword");
    CHECK_STR(compile_error("{\"properties\": {\"a/b~c\": {\"oneOf\": []}}}"),
              "test: /properties/a~1b~0c/oneOf: unsupported keyword");
    CHECK_STR(compile_error("{\"additionalProperties\": {\"if\": true}}"),
              "test: /additionalProperties/if: unsupported keyword");

    CHECK_STR(compile_error("{\"properties\": {\"lat\": {\"maximum\": \"90\"}}}"),
              "test: /properties/lat/maximum: must be a number");
    CHECK_STR(compile_error("{\"exclusiveMinimum\": true}"),
              "test: /exclusiveMinimum: must be a number");
    CHECK_CONTAINS(compile_error("{\"type\": \"float\"}"), "test: /type: must be a type name");
    CHECK_CONTAINS(compile_error("{\"type\": []}"), "test: /type: must be a type name");
    CHECK_CONTAINS(compile_error("{\"type\": [\"string\", \"string\"]}"),
                   "test: /type: must be a type name");
    CHECK_STR(compile_error("{\"required\": \"a\"}"),
              "test: /required: must be an array of distinct strings");
    CHECK_STR(compile_error("{\"required\": [\"a\", 1]}"),
              "test: /required: must be an array of distinct strings");
    CHECK_STR(compile_error("{\"required\": [\"a\", \"a\"]}"),
              "test: /required: lists \"a\" twice");
    CHECK_STR(compile_error("{\"minLength\": -1}"),
              "test: /minLength: must be a non-negative integer");
    CHECK_STR(compile_error("{\"maxItems\": 2.5}"),
              "test: /maxItems: must be a non-negative integer");
    CHECK_STR(compile_error("{\"maxItems\": 2.0}"), "(compiled)");
    CHECK_CONTAINS(compile_error("{\"pattern\": \"([a-z\"}"),
                   "test: /pattern: invalid regular expression at offset 5: ");
    CHECK_STR(compile_error("{\"pattern\": 5}"), "test: /pattern: must be a string");
    CHECK_STR(compile_error("{\"enum\": []}"), "test: /enum: must be a non-empty array");
    CHECK_STR(compile_error("{\"enum\": \"a\"}"), "test: /enum: must be a non-empty array");
    CHECK_STR(compile_error("{\"items\": [{}]}"),
              "test: /items: must be a schema (an object or a boolean)");
    CHECK_STR(compile_error("{\"properties\": {\"a\": 1}}"),
              "test: /properties/a: must be a schema (an object or a boolean)");
    CHECK_STR(compile_error("{\"properties\": [\"a\"]}"),
              "test: /properties: must be an object of schemas");
    CHECK_STR(compile_error("{\"additionalProperties\": \"no\"}"),
              "test: /additionalProperties: must be a boolean or a schema");
    CHECK_STR(compile_error("{\"format\": \"email\"}"),
              "test: /format: unsupported format \"email\" (only \"date-time\" is supported)");
    CHECK_STR(compile_error("{\"title\": 1}"), "test: /title: must be a string");
    CHECK_STR(compile_error("{\"examples\": {}}"), "test: /examples: must be an array");
    CHECK_STR(compile_error("{\"deprecated\": \"yes\"}"), "test: /deprecated: must be a boolean");
    CHECK_STR(compile_error("{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}"),
              "test: /$schema: must be \"https://json-schema.org/draft/2020-12/schema\"");
    CHECK_STR(compile_error("[]"), "test: must be a schema (an object or a boolean)");

    /* Inlet keys: top level only, and checked. */
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"x-inlet-topic\": \"t\"}}}"),
              "test: /properties/a/x-inlet-topic: allowed only at the top level of a schema");
    CHECK_STR(compile_error("{\"x-inlet-topic\": \"fleet updates\"}"),
              "test: /x-inlet-topic: must be a Kafka topic name (1 to 249 of [a-zA-Z0-9._-])");
    CHECK_STR(compile_error("{\"x-inlet-topic\": \"\"}"),
              "test: /x-inlet-topic: must be a Kafka topic name (1 to 249 of [a-zA-Z0-9._-])");
    CHECK_STR(compile_error("{\"x-inlet-topic\": 1}"), "test: /x-inlet-topic: must be a string");
    CHECK_STR(compile_error("{\"x-inlet-key\": \"device_id\"}"),
              "test: /x-inlet-key: must be a JSON pointer string such as \"/device_id\"");
    CHECK_STR(compile_error("{\"x-inlet-key\": \"/a~2\"}"),
              "test: /x-inlet-key: \"~\" must be followed by 0 or 1 in a JSON pointer (RFC 6901)");

    /* A schema that could never be satisfied is refused at load. */
    CHECK_STR(compile_error("{\"properties\": {\"a\": {}}, \"required\": [\"a\", \"b\"], "
                            "\"additionalProperties\": false}"),
              "test: /required: \"b\" is required but additionalProperties is false and "
              "properties does not list it");
}

/* Required names are proven present by the walk over the members (a bit each, the first 64)
 * or looked up; the errors come in the order the schema lists them either way. */
static void test_required_many(void)
{
    char text[8192], instance[4096];
    size_t len = 0, ilen = 0;
    inlet_schema *s;

    len += (size_t)snprintf(text + len, sizeof(text) - len, "{\"properties\": {");
    for (int i = 0; i < 70; i++)
        len +=
            (size_t)snprintf(text + len, sizeof(text) - len, "%s\"p%02d\": {}", i ? ", " : "", i);
    len += (size_t)snprintf(text + len, sizeof(text) - len,
                            "}, \"additionalProperties\": false, \"required\": [");
    for (int i = 69; i >= 0; i--)
        len +=
            (size_t)snprintf(text + len, sizeof(text) - len, "%s\"p%02d\"", i < 69 ? ", " : "", i);
    snprintf(text + len, sizeof(text) - len, "]}");
    s = compile(text);

    ilen += (size_t)snprintf(instance + ilen, sizeof(instance) - ilen, "{");
    for (int i = 0; i < 70; i++)
        ilen += (size_t)snprintf(instance + ilen, sizeof(instance) - ilen, "%s\"p%02d\": %d",
                                 i ? ", " : "", i, i);
    snprintf(instance + ilen, sizeof(instance) - ilen, "}");
    VALID(s, instance);

    ilen = (size_t)snprintf(instance, sizeof(instance), "{");
    for (int i = 0; i < 70; i++)
        if (i != 3 && i != 66)
            ilen += (size_t)snprintf(instance + ilen, sizeof(instance) - ilen, "%s\"p%02d\": 0",
                                     ilen > 1 ? ", " : "", i);
    snprintf(instance + ilen, sizeof(instance) - ilen, "}");
    CHECK(validate(s, instance, "/payload") == 2);
    CHECK_STR(errs[0].message, "missing required property \"p66\"");
    CHECK_STR(errs[1].message, "missing required property \"p03\"");
    inlet_schema_free(s);

    /* Some required names are properties, some are not. */
    s = compile("{\"properties\": {\"a\": {}}, \"required\": [\"a\", \"z\"]}");
    VALID(s, "{\"z\": 1, \"a\": 2}");
    INVALID(s, "{\"z\": 1}", "", "missing required property \"a\"");
    INVALID(s, "{\"a\": 1}", "", "missing required property \"z\"");
    CHECK(validate(s, "{}", "") == 2);
    CHECK_STR(errs[0].message, "missing required property \"a\"");
    CHECK_STR(errs[1].message, "missing required property \"z\"");
    inlet_schema_free(s);
}

/* Members in any order, and keys of every length the comparison treats differently. */
static void test_member_order(void)
{
    inlet_schema *s;

    s = compile("{\"properties\": {\"a\": {\"type\": \"string\"}, \"bb\": {\"type\": \"string\"}, "
                "\"ccc\": {\"type\": \"string\"}, \"dddd\": {\"type\": \"string\"}, "
                "\"eeeeeeee\": {\"type\": \"string\"}, \"ffffffffffffffff\": {\"type\": "
                "\"string\"}, \"ggggggggggggggggg\": {\"type\": \"string\"}, \"\": {\"type\": "
                "\"string\"}}, \"additionalProperties\": false}");
    VALID(s, "{\"ggggggggggggggggg\": \"x\", \"\": \"x\", \"a\": \"x\", \"ffffffffffffffff\": "
             "\"x\", \"dddd\": \"x\", \"ccc\": \"x\", \"bb\": \"x\", \"eeeeeeee\": \"x\"}");
    INVALID(s, "{\"ccc\": \"x\", \"a\": \"y\", \"bb\": 1}", "/bb", "expected string, got number");
    INVALID(s, "{\"ccc\": \"x\", \"bb\": \"y\", \"a\": \"z\", \"d\": 1}", "/d",
            "additional property not allowed");
    /* Same length, one byte apart: at the start, the end, and in between. */
    INVALID(s, "{\"dddx\": 1}", "/dddx", "additional property not allowed");
    INVALID(s, "{\"xddd\": 1}", "/xddd", "additional property not allowed");
    INVALID(s, "{\"ccx\": 1}", "/ccx", "additional property not allowed");
    INVALID(s, "{\"b\": 1}", "/b", "additional property not allowed");
    INVALID(s, "{\"eeeeXeee\": 1}", "/eeeeXeee", "additional property not allowed");
    INVALID(s, "{\"fffffffXffffffff\": 1}", "/fffffffXffffffff", "additional property not allowed");
    INVALID(s, "{\"ggggggggXgggggggg\": 1}", "/ggggggggXgggggggg",
            "additional property not allowed");
    inlet_schema_free(s);
}

#define BYTES_NO_JSON                                                                              \
    "a byte string has no JSON form; the schema may declare contentEncoding \"base64url\""
#define NOT_BASE64URL " is not base64url (RFC 4648 section 5, without padding)"

static void test_content_encoding(void)
{
    char text[200];
    inlet_schema *s;

    s = compile("{\"properties\": {\"raw\": {\"type\": \"string\", \"contentEncoding\": "
                "\"base64url\", \"maxLength\": 4}}}");
    VALID(s, "{\"raw\": \"h'00ff10'\"}"); /* "AP8Q" in the envelope */
    VALID(s, "{\"raw\": \"h''\"}");
    VALID(s, "{\"raw\": \"AP8Q\"}");
    /* Lengths count the base64url characters, and messages quote them. */
    INVALID(s, "{\"raw\": \"h'00ff1020'\"}", "/raw", "\"AP8QIA\" is longer than 4 characters");
    INVALID(s, "{\"raw\": \"AP8=\"}", "/raw", "\"AP8=\"" NOT_BASE64URL);
    INVALID(s, "{\"raw\": 5}", "/raw", "expected string, got number");
    inlet_schema_free(s);

    s = compile("{\"items\": {\"contentEncoding\": \"base64url\"}}");
    VALID(s,
          "[\"\", \"AA\", \"AAA\", \"AAAA\", \"-w\", \"__8\", \"AP8QIA\", \"h'fbff'\", 1, null]");
    INVALID(s, "[\"A\"]", "/0", "\"A\"" NOT_BASE64URL);
    INVALID(s, "[\"AB\"]", "/0", "\"AB\"" NOT_BASE64URL); /* bits past the byte set */
    INVALID(s, "[\"AP9\"]", "/0", "\"AP9\"" NOT_BASE64URL);
    INVALID(s, "[\"AQ==\"]", "/0", "\"AQ==\"" NOT_BASE64URL);
    INVALID(s, "[\"a+b/\"]", "/0", "\"a+b/\"" NOT_BASE64URL); /* base64, not base64url */
    INVALID(s, "[\"AQ \"]", "/0", "\"AQ \"" NOT_BASE64URL);
    inlet_schema_free(s);

    s = compile("{\"type\": [\"string\", \"null\"], \"contentEncoding\": \"base64url\", "
                "\"minLength\": 4}");
    VALID(s, "null");
    VALID(s, "\"h'010203'\"");
    INVALID(s, "\"h'0102'\"", "", "\"AQI\" is shorter than 4 characters");
    INVALID(s, "5", "", "expected string or null, got number");
    inlet_schema_free(s);

    /* A long byte string is cut in messages like a long string. */
    s = compile("{\"contentEncoding\": \"base64url\", \"maxLength\": 10}");
    snprintf(text, sizeof(text), "\"h'%0120d'\"", 0); /* 60 zero bytes, 80 characters */
    CHECK(validate(s, text, "") == 1);
    CHECK_STR(errs[0].message,
              "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...\" is longer "
              "than 10 characters");
    inlet_schema_free(s);
}

/* Without contentEncoding a byte string is an error wherever it is, constrained or not. */
static void test_bytes_elsewhere(void)
{
    inlet_schema *s;

    s = compile("{\"properties\": {\"s\": {\"type\": \"string\"}, \"n\": {\"type\": \"number\"}, "
                "\"e\": {\"enum\": [\"AQ\"]}, \"gone\": false, \"list\": {\"type\": \"array\"}}}");
    INVALID(s, "{\"s\": \"h'01'\"}", "/s", BYTES_NO_JSON);
    INVALID(s, "{\"n\": \"h'01'\"}", "/n", BYTES_NO_JSON);
    INVALID(s, "{\"e\": \"h'01'\"}", "/e", BYTES_NO_JSON);
    INVALID(s, "{\"gone\": \"h'01'\"}", "/gone", "no value is allowed here");
    INVALID(s, "{\"list\": [1, [\"h'01'\"]]}", "/list/1/0", BYTES_NO_JSON);
    INVALID(s, "{\"other\": {\"deep\": \"h'01'\"}}", "/other/deep", BYTES_NO_JSON);
    CHECK(validate(s, "{\"s\": \"h'01'\", \"x\": [\"h''\"]}", "/payload") == 2);
    CHECK_STR(errs[0].pointer, "/payload/s");
    CHECK_STR(errs[1].pointer, "/payload/x/0");
    inlet_schema_free(s);

    s = compile("{}");
    INVALID(s, "\"h'01'\"", "", BYTES_NO_JSON);
    INVALID(s, "{\"a\": [1, {\"b\": \"h'01'\"}]}", "/a/1/b", BYTES_NO_JSON);
    inlet_schema_free(s);

    s = compile("{\"additionalProperties\": {\"type\": \"integer\"}}");
    INVALID(s, "{\"x\": \"h'01'\"}", "/x", BYTES_NO_JSON);
    inlet_schema_free(s);

    s = compile("{\"additionalProperties\": false}");
    INVALID(s, "{\"x\": \"h'01'\"}", "/x", "additional property not allowed");
    inlet_schema_free(s);

    s = compile("{\"items\": {\"type\": \"integer\"}}");
    INVALID(s, "[1, \"h'01'\"]", "/1", BYTES_NO_JSON);
    inlet_schema_free(s);

    /* contentEncoding below does not reach up. */
    s = compile("{\"properties\": {\"raw\": {\"contentEncoding\": \"base64url\"}}}");
    VALID(s, "{\"raw\": \"h'01'\"}");
    INVALID(s, "{\"raw2\": \"h'01'\"}", "/raw2", BYTES_NO_JSON);
    INVALID(s, "\"h'01'\"", "", BYTES_NO_JSON);
    inlet_schema_free(s);
}

static void test_units_and_formats(void)
{
    inlet_schema *s;

    s = compile("{\"properties\": {\"temp\": {\"type\": \"number\", \"x-inlet-unit\": \"Cel\"}, "
                "\"rh\": {\"x-inlet-unit\": \"%RH\"}, \"door\": {\"type\": \"boolean\"}, "
                "\"any\": true, \"pos\": {\"properties\": {\"lat\": {\"x-inlet-unit\": \"lat\"}}, "
                "\"x-inlet-unit\": \"m\"}}}");
    if (s) {
        CHECK_STR(inlet_schema_property_unit(s, "temp", 4), "Cel");
        CHECK_STR(inlet_schema_property_unit(s, "temperature", 4), "Cel");
        CHECK_STR(inlet_schema_property_unit(s, "rh", 2), "%RH");
        CHECK_STR(inlet_schema_property_unit(s, "pos", 3), "m");
        CHECK(inlet_schema_property_unit(s, "door", 4) == NULL);
        CHECK(inlet_schema_property_unit(s, "any", 3) == NULL);
        CHECK(inlet_schema_property_unit(s, "lat", 3) == NULL); /* top-level properties only */
        CHECK(inlet_schema_property_unit(s, "te", 2) == NULL);
        CHECK(inlet_schema_formats(s) ==
              (INLET_FMT_JSON | INLET_FMT_CBOR | INLET_FMT_SENML_JSON | INLET_FMT_SENML_CBOR));
        VALID(s, "{\"temp\": 4.5, \"pos\": {\"lat\": 1}}");
    }
    inlet_schema_free(s);

    s = compile("{\"x-inlet-formats\": [\"cbor\", \"senml+cbor\"]}");
    CHECK(s && inlet_schema_formats(s) == (INLET_FMT_CBOR | INLET_FMT_SENML_CBOR));
    inlet_schema_free(s);
    s = compile("{\"x-inlet-formats\": [\"json\", \"cbor\", \"senml+json\", \"senml+cbor\", "
                "\"octet-stream\"], \"x-inlet-layout\": {\"seq\": [{\"id\": \"n\", "
                "\"type\": \"u1\"}]}}");
    CHECK(s && inlet_schema_formats(s) == INLET_FMT_ALL);
    inlet_schema_free(s);
    s = compile("{\"x-inlet-layout\": {\"seq\": [{\"id\": \"n\", \"type\": \"u1\"}]}}");
    CHECK(s && inlet_schema_formats(s) == INLET_FMT_ALL);
    inlet_schema_free(s);
    CHECK_STR(compile_error("{\"x-inlet-formats\": [\"octet-stream\"]}"),
              "test: /x-inlet-formats: octet-stream needs an x-inlet-layout that says how the "
              "bytes map onto fields");

    CHECK_STR(compile_error("{\"x-inlet-unit\": \"m\"}"),
              "test: /x-inlet-unit: allowed only in the schema of a property (under "
              "\"properties\")");
    CHECK_STR(compile_error("{\"items\": {\"x-inlet-unit\": \"m\"}}"),
              "test: /items/x-inlet-unit: allowed only in the schema of a property (under "
              "\"properties\")");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"items\": {\"x-inlet-unit\": \"m\"}}}}"),
              "test: /properties/a/items/x-inlet-unit: allowed only in the schema of a property "
              "(under \"properties\")");
    CHECK_STR(compile_error("{\"additionalProperties\": {\"x-inlet-unit\": \"m\"}}"),
              "test: /additionalProperties/x-inlet-unit: allowed only in the schema of a "
              "property (under \"properties\")");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"x-inlet-unit\": 1}}}"),
              "test: /properties/a/x-inlet-unit: must be a string");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"x-inlet-unit\": \"\"}}}"),
              "test: /properties/a/x-inlet-unit: must be a SenML unit name such as \"Cel\" or "
              "\"m/s\" (RFC 8428 section 12.1)");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"x-inlet-unit\": \"deg C\"}}}"),
              "test: /properties/a/x-inlet-unit: must be a SenML unit name such as \"Cel\" or "
              "\"m/s\" (RFC 8428 section 12.1)");

    CHECK_STR(compile_error("{\"x-inlet-formats\": [\"json\", \"xml\"]}"),
              "test: /x-inlet-formats/1: unknown format \"xml\" (expected json, cbor, senml+json, "
              "senml+cbor or octet-stream)");
    CHECK_STR(compile_error("{\"x-inlet-formats\": [\"JSON\"]}"),
              "test: /x-inlet-formats/0: unknown format \"JSON\" (expected json, cbor, "
              "senml+json, senml+cbor or octet-stream)");
    CHECK_STR(compile_error("{\"x-inlet-formats\": [1]}"),
              "test: /x-inlet-formats/0: must be a format name (json, cbor, senml+json, "
              "senml+cbor, octet-stream)");
    CHECK_STR(compile_error("{\"x-inlet-formats\": [\"cbor\", \"cbor\"]}"),
              "test: /x-inlet-formats/1: lists \"cbor\" twice");
    CHECK_STR(compile_error("{\"x-inlet-formats\": []}"),
              "test: /x-inlet-formats: must be a non-empty array of format names");
    CHECK_STR(compile_error("{\"x-inlet-formats\": \"json\"}"),
              "test: /x-inlet-formats: must be a non-empty array of format names");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"x-inlet-formats\": [\"json\"]}}}"),
              "test: /properties/a/x-inlet-formats: allowed only at the top level of a schema");

    CHECK_STR(compile_error("{\"contentEncoding\": \"base64\"}"),
              "test: /contentEncoding: unsupported contentEncoding \"base64\" (only \"base64url\" "
              "is supported)");
    CHECK_STR(compile_error("{\"contentEncoding\": 7}"),
              "test: /contentEncoding: must be a string");
    CHECK_STR(compile_error("{\"type\": \"integer\", \"contentEncoding\": \"base64url\"}"),
              "test: /contentEncoding: applies to strings, but \"type\" does not allow a string");
    CHECK_STR(compile_error("{\"properties\": {\"a\": {\"contentEncoding\": \"base64url\", "
                            "\"pattern\": \"^A\"}}}"),
              "test: /properties/a/contentEncoding: cannot be combined with pattern, format, "
              "const or enum (a byte string is checked by its length only)");
    CHECK_STR(compile_error("{\"enum\": [\"AQ\"], \"contentEncoding\": \"base64url\"}"),
              "test: /contentEncoding: cannot be combined with pattern, format, const or enum (a "
              "byte string is checked by its length only)");
    CHECK_STR(compile_error("{\"type\": [\"null\", \"string\"], \"contentEncoding\": "
                            "\"base64url\", \"minLength\": 2}"),
              "(compiled)");
}

/* --- the registry and the shipped schemas ---------------------------------------------------- */

static const char *load_error(const char *dir)
{
    inlet_schemas *r = NULL;
    err[0] = '\0';
    if (inlet_schemas_load(dir, &r, err, sizeof(err)) == 0) {
        inlet_schemas_free(r);
        return "(loaded)";
    }
    CHECK(r == NULL);
    return err;
}

static void test_registry_fixtures(void)
{
    inlet_schemas *r = NULL;
    const inlet_schema *s;

    CHECK(inlet_schemas_load(INLET_TESTDATA_DIR "/schemas/ok", &r, err, sizeof(err)) == 0);
    CHECK(inlet_schemas_count(r) == 4);
    /* Sorted by name, then by version as a number (v2 before v10). */
    CHECK_STR(inlet_schema_version(inlet_schemas_at(r, 0)), "v1");
    CHECK_STR(inlet_schema_version(inlet_schemas_at(r, 1)), "v2");
    CHECK_STR(inlet_schema_version(inlet_schemas_at(r, 2)), "v10");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 3)), "other");
    CHECK(inlet_schemas_at(r, 4) == NULL);

    s = inlet_schemas_find(r, "demo.thing", "v2");
    CHECK(s != NULL);
    CHECK(s == inlet_schemas_find(r, "demo.thing", "2"));
    if (s) {
        CHECK_STR(inlet_schema_name(s), "demo.thing");
        CHECK_STR(inlet_schema_topic(s), "demo.v2");
        CHECK_STR(inlet_schema_key_pointer(s), "/payload/gateway_id");
    }
    s = inlet_schemas_find(r, "demo.thing", "v1");
    CHECK(s && strcmp(inlet_schema_key_pointer(s), "/device_id") == 0);
    CHECK(inlet_schemas_find(r, "demo.thing", "v10") != NULL);
    CHECK(inlet_schemas_find(r, "other", "v3") != NULL);
    CHECK(inlet_schemas_find(r, "demo.thing", "v3") == NULL);
    CHECK(inlet_schemas_find(r, "demo.thing", "v01") == NULL);
    CHECK(inlet_schemas_find(r, "demo.thing", "v") == NULL);
    CHECK(inlet_schemas_find(r, "demo.thing", "") == NULL);
    CHECK(inlet_schemas_find(r, "demo.thing", "V1") == NULL);
    CHECK(inlet_schemas_find(r, "demo", "v1") == NULL);
    CHECK(inlet_schemas_find(r, "zzz", "v1") == NULL);
    inlet_schemas_free(r);

    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/bad_json"),
              INLET_TESTDATA_DIR "/schemas/bad_json/demo/v1.json:3:20: JSON syntax error: string "
                                 "or '}' expected near ','");
    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/no_topic"),
              INLET_TESTDATA_DIR "/schemas/no_topic/demo/v1.json: missing \"x-inlet-topic\" (the "
                                 "Kafka topic of this schema)");
    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/unsupported"), INLET_TESTDATA_DIR
              "/schemas/unsupported/demo/v1.json: /properties/lat/multipleOf: unsupported keyword");
    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/bad_version"),
              INLET_TESTDATA_DIR "/schemas/bad_version/demo/v01.json: a schema file name must be "
                                 "v<N>.json, N a positive integer without leading zeros");
    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/bad_name"), INLET_TESTDATA_DIR
              "/schemas/bad_name/Demo: a schema directory name must match [a-z0-9._-]+");
    CHECK_STR(load_error(INLET_TESTDATA_DIR "/schemas/missing"),
              INLET_TESTDATA_DIR "/schemas/missing: No such file or directory");
}

#define FLEET_OK "{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, \"status\": \"delivering\""

/* Validate against a shipped schema with the pointer the event router uses. */
static size_t check_payload(const inlet_schema *s, const char *payload)
{
    return validate(s, payload, "/payload");
}

static void test_fleet_position(const inlet_schema *s)
{
    CHECK_STR(inlet_schema_topic(s), "fleet.updates.v1");
    CHECK_STR(inlet_schema_key_pointer(s), "/device_id");

    /* The reference payload, with and without heading_deg. */
    CHECK(check_payload(s, "{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, "
                           "\"heading_deg\": 270, \"status\": \"delivering\"}") == 0);
    CHECK(check_payload(s, FLEET_OK "}") == 0);
    CHECK(check_payload(s, FLEET_OK ", \"accuracy_m\": 4.5, \"altitude_m\": 34}") == 0);
    CHECK(check_payload(s, FLEET_OK ", \"heading_deg\": 0}") == 0);
    CHECK(check_payload(s, FLEET_OK ", \"heading_deg\": 359.9}") == 0);

    CHECK(check_payload(s, "{\"lat\": 123.4, \"lon\": 13.405, \"speed_kmh\": 61.2, "
                           "\"heading_deg\": 270, \"status\": \"delivering\"}") == 1);
    CHECK_STR(errs[0].pointer, "/payload/lat");
    CHECK_STR(errs[0].message, "123.4 is greater than maximum 90");

    CHECK(check_payload(s, FLEET_OK ", \"heading_deg\": 360}") == 1);
    CHECK_STR(errs[0].pointer, "/payload/heading_deg");
    CHECK_STR(errs[0].message, "360 is greater than or equal to exclusive maximum 360");

    CHECK(check_payload(s, "{\"lat\": 52.52, \"speed_kmh\": 61.2, \"status\": \"delivering\"}") ==
          1);
    CHECK_STR(errs[0].pointer, "/payload");
    CHECK_STR(errs[0].message, "missing required property \"lon\"");

    CHECK(check_payload(s, "{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": \"61.2\", "
                           "\"status\": \"x\", \"foo\": 1}") == 3);
    CHECK_STR(errs[0].pointer, "/payload/speed_kmh");
    CHECK_STR(errs[0].message, "expected number, got string");
    CHECK_STR(errs[1].pointer, "/payload/status");
    CHECK_STR(errs[1].message, "\"x\" is not one of [\"idle\", \"en_route\", \"loading\", "
                               "\"delivering\", \"unloading\", \"offline\"]");
    CHECK_STR(errs[2].pointer, "/payload/foo");
    CHECK_STR(errs[2].message, "additional property not allowed");

    /* JavaScript's null for a missing heading is not the same as leaving it out. */
    CHECK(check_payload(s, FLEET_OK ", \"heading_deg\": null}") == 1);
    CHECK_STR(errs[0].message, "expected number, got null");
    CHECK(check_payload(s, FLEET_OK ", \"speed_kmh\": -3.6}") == 1);
    CHECK_STR(errs[0].message, "-3.6 is less than minimum 0");
    CHECK(check_payload(s, "[]") == 1);
    CHECK_STR(errs[0].pointer, "/payload");
    CHECK_STR(errs[0].message, "expected object, got array");
}

static void test_coldchain_temp(const inlet_schema *s)
{
    CHECK_STR(inlet_schema_topic(s), "coldchain.temp.v1");
    CHECK(check_payload(s, "{\"temp_c\": -18.5}") == 0);
    CHECK(check_payload(s, "{\"temp_c\": 4, \"humidity_pct\": 41, \"door_open\": true, "
                           "\"setpoint_c\": 3.5, \"battery_pct\": 100, \"trailer_id\": "
                           "\"TR-0815\"}") == 0);
    CHECK(check_payload(s, "{\"humidity_pct\": 41}") == 1);
    CHECK_STR(errs[0].message, "missing required property \"temp_c\"");
    CHECK(check_payload(s, "{\"temp_c\": -61}") == 1);
    CHECK_STR(errs[0].message, "-61 is less than minimum -60");
    CHECK(check_payload(s, "{\"temp_c\": 1, \"humidity_pct\": 100.5, \"door_open\": \"yes\"}") ==
          2);
    CHECK_STR(errs[0].pointer, "/payload/humidity_pct");
    CHECK_STR(errs[0].message, "100.5 is greater than maximum 100");
    CHECK_STR(errs[1].pointer, "/payload/door_open");
    CHECK_STR(errs[1].message, "expected boolean, got string");
    CHECK(check_payload(s, "{\"temp_c\": 1, \"trailer_id\": \"trailer 7\"}") == 1);
    CHECK_STR(errs[0].pointer, "/payload/trailer_id");
    CHECK_STR(errs[0].message,
              "\"trailer 7\" does not match pattern \"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$\"");
}

static void test_driver_panic(const inlet_schema *s)
{
    char payload[1024];

    CHECK_STR(inlet_schema_topic(s), "driver.panic.v1");
    CHECK(check_payload(s, "{\"lat\": 52.52, \"lon\": 13.405, \"reason\": \"panic_button\"}") == 0);
    CHECK(check_payload(s, "{\"lat\": 52.52, \"lon\": 13.405, \"reason\": \"medical\", "
                           "\"driver_id\": \"drv-17\", \"message\": \"chest pain\"}") == 0);
    CHECK(check_payload(s, "{\"lat\": 52.52, \"lon\": 13.405, \"reason\": \"bored\"}") == 1);
    CHECK_STR(errs[0].pointer, "/payload/reason");
    CHECK_STR(errs[0].message, "\"bored\" is not one of [\"panic_button\", \"collision\", "
                               "\"medical\", \"threat\"]");

    /* message: at most 280 characters, counted as characters, not bytes. */
    size_t len =
        (size_t)snprintf(payload, sizeof(payload),
                         "{\"lat\": 1, \"lon\": 2, \"reason\": \"threat\", \"message\": \"");
    for (int i = 0; i < 280; i++)                                                  /* 560 bytes */
        len += (size_t)snprintf(payload + len, sizeof(payload) - len, "\xc3\xa9"); /* é */
    snprintf(payload + len, sizeof(payload) - len, "\"}");
    CHECK(check_payload(s, payload) == 0);
    snprintf(payload + len, sizeof(payload) - len, "%s", "\xc3\xa9\"}");
    CHECK(check_payload(s, payload) == 1);
    CHECK_STR(errs[0].pointer, "/payload/message");
    CHECK_CONTAINS(errs[0].message, "...\" is longer than 280 characters");
}

/* Every example a shipped schema gives validates against that schema. */
static void test_examples_validate(const inlet_schema *s)
{
    char path[512];
    json_error_t jerr;
    json_t *doc, *example;
    size_t i;

    snprintf(path, sizeof(path), INLET_SOURCE_DIR "/schemas/%s/%s.json", inlet_schema_name(s),
             inlet_schema_version(s));
    doc = json_load_file(path, 0, &jerr);
    CHECK(doc != NULL);
    CHECK(json_array_size(json_object_get(doc, "examples")) > 0);
    json_array_foreach(json_object_get(doc, "examples"), i, example)
    {
        size_t n = inlet_schema_validate(s, value_of(example), "/payload", errs, MAX_ERRS);
        CHECK(n == 0);
        if (n)
            fprintf(stderr, "%s example %zu: %s: %s\n", path, i, errs[0].pointer, errs[0].message);
    }
    json_decref(doc);
    inlet_arena_reset(&arena);
}

static void test_shipped_schemas(void)
{
    inlet_schemas *r = NULL;
    const inlet_schema *s;

    CHECK(inlet_schemas_load(INLET_SOURCE_DIR "/schemas", &r, err, sizeof(err)) == 0);
    if (!r) {
        fprintf(stderr, "shipped schemas do not load: %s\n", err);
        return;
    }
    CHECK(inlet_schemas_count(r) == 4);
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 0)), "coldchain.temp");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 1)), "driver.panic");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 2)), "fleet.position");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 3)), "teltonika.avl");

    s = inlet_schemas_find(r, "fleet.position", "v1");
    CHECK(s != NULL);
    CHECK(s == inlet_schemas_find(r, "fleet.position", "1"));
    if (s) {
        CHECK_STR(inlet_schema_name(s), "fleet.position");
        CHECK_STR(inlet_schema_version(s), "v1");
        test_fleet_position(s);
    }
    if ((s = inlet_schemas_find(r, "coldchain.temp", "v1")))
        test_coldchain_temp(s);
    else
        CHECK(!"coldchain.temp v1 missing");
    if ((s = inlet_schemas_find(r, "driver.panic", "v1")))
        test_driver_panic(s);
    else
        CHECK(!"driver.panic v1 missing");
    for (size_t i = 0; i < inlet_schemas_count(r); i++)
        test_examples_validate(inlet_schemas_at(r, i));
    inlet_schemas_free(r);
}

int main(void)
{
    inlet_arena_init(&arena, 0);
    test_type();
    test_properties_required_additional();
    test_enum_const();
    test_numbers();
    test_strings();
    test_arrays();
    test_boolean_schemas();
    test_error_limits();
    test_regex_budget();
    test_annotations_and_inlet_keys();
    test_load_errors();
    test_required_many();
    test_member_order();
    test_content_encoding();
    test_bytes_elsewhere();
    test_units_and_formats();
    test_registry_fixtures();
    test_shipped_schemas();
    inlet_arena_fini(&arena);
    return check_done();
}
