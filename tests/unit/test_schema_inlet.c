/* test_schema_inlet.c - Inlet's schema extensions: annotations and the x-inlet-* keywords, byte
 * strings and contentEncoding, units and formats; then the registry and the three shipped schemas.
 * The core JSON Schema keywords are in test_schema.c. */
#include "schema_test.h"

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
    test_annotations_and_inlet_keys();
    test_content_encoding();
    test_bytes_elsewhere();
    test_units_and_formats();
    test_registry_fixtures();
    test_shipped_schemas();
    inlet_arena_fini(&arena);
    return check_done();
}
