/* test_schema.c - the schema compiler, validator and registry, and the three shipped schemas. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "schema/schema.h"

#define MAX_ERRS 8

static char err[1024];
static inlet_schema_error errs[MAX_ERRS];

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

/* Validate instance text; errors land in errs. (size_t)-1 if the text does not parse. */
static size_t validate(const inlet_schema *s, const char *instance, const char *base)
{
    json_t *v = parse(instance);
    size_t n;

    if (!s || !v) {
        json_decref(v);
        return (size_t)-1;
    }
    memset(errs, 0, sizeof(errs));
    n = inlet_schema_validate(s, v, base, errs, MAX_ERRS);
    json_decref(v);
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

static void test_error_limits(void)
{
    inlet_schema *s;
    json_t *v;
    inlet_schema_error few[2];

    s = compile("{\"items\": {\"type\": \"string\"}}");
    v = parse("[1, 2, 3, 4, 5]");
    memset(few, 0x5a, sizeof(few));
    /* Every error is counted; only max_errs are written. */
    CHECK(inlet_schema_validate(s, v, "", few, 1) == 5);
    CHECK_STR(few[0].pointer, "/0");
    CHECK((unsigned char)few[1].pointer[0] == 0x5a);
    CHECK(inlet_schema_validate(s, v, "", NULL, 0) == 5);
    CHECK(inlet_schema_validate(s, v, NULL, few, 2) == 5);
    CHECK_STR(few[1].pointer, "/1");
    json_decref(v);

    /* A long base pointer is cut, never overflowed. */
    char base[400];
    memset(base, 'p', sizeof(base) - 1);
    base[0] = '/';
    base[sizeof(base) - 1] = '\0';
    v = parse("[1]");
    CHECK(inlet_schema_validate(s, v, base, few, 1) == 1);
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
        size_t n = inlet_schema_validate(s, example, "/payload", errs, MAX_ERRS);
        CHECK(n == 0);
        if (n)
            fprintf(stderr, "%s example %zu: %s: %s\n", path, i, errs[0].pointer, errs[0].message);
    }
    json_decref(doc);
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
    CHECK(inlet_schemas_count(r) == 3);
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 0)), "coldchain.temp");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 1)), "driver.panic");
    CHECK_STR(inlet_schema_name(inlet_schemas_at(r, 2)), "fleet.position");

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
    test_type();
    test_properties_required_additional();
    test_enum_const();
    test_numbers();
    test_strings();
    test_arrays();
    test_boolean_schemas();
    test_error_limits();
    test_annotations_and_inlet_keys();
    test_load_errors();
    test_registry_fixtures();
    test_shipped_schemas();
    return check_done();
}
