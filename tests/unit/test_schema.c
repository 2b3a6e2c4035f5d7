/* test_schema.c - the schema compiler and validator: the JSON Schema 2020-12 keywords, error
 * limits, the regex budget and load errors. Inlet's extensions (x-inlet-*, contentEncoding, units,
 * formats), the registry and the shipped schemas are in test_schema_inlet.c. */
#include <time.h>

#include "schema_test.h"

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
    test_load_errors();
    test_required_many();
    test_member_order();
    inlet_arena_fini(&arena);
    return check_done();
}
