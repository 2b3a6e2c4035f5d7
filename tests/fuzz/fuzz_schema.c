/*
 * fuzz_schema.c - libFuzzer target for the schema compiler and validator.
 *
 * The input is parsed as JSON and used twice: as a schema document (which must compile or be
 * refused cleanly, and once compiled must validate a fixed payload and the input itself), and
 * as a payload validated against every shipped schema. Shipped schemas are read from
 * $INLET_SCHEMAS_DIR, else INLET_SOURCE_DIR/schemas (the build defines it), else ./schemas.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "schema/schema.h"

#ifndef INLET_SOURCE_DIR
#define INLET_SOURCE_DIR "."
#endif

#define MAX_ERRS 4

static inlet_schemas *shipped;
static json_t *reference_payload;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("INLET_SCHEMAS_DIR");
    char err[1024];

    (void)argc;
    (void)argv;
    if (!dir)
        dir = INLET_SOURCE_DIR "/schemas";
    if (inlet_schemas_load(dir, &shipped, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_schema: cannot load the shipped schemas: %s\n", err);
        abort();
    }
    reference_payload = json_loads("{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, "
                                   "\"heading_deg\": 270, \"status\": \"delivering\", "
                                   "\"tags\": [\"a\", 1, null, {\"x\": true}], \"ts\": "
                                   "\"2026-11-21T10:15:30.123Z\"}",
                                   0, NULL);
    if (!reference_payload)
        abort();
    return 0;
}

/* What the validator promises whatever the input: bounded, terminated, prefixed output. */
static void check_errors(size_t count, const inlet_schema_error *errs, const char *base)
{
    for (size_t i = 0; i < count && i < MAX_ERRS; i++) {
        if (!memchr(errs[i].pointer, '\0', sizeof(errs[i].pointer)) ||
            !memchr(errs[i].message, '\0', sizeof(errs[i].message)) || errs[i].message[0] == '\0')
            abort();
        if (strncmp(errs[i].pointer, base, strlen(base)) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inlet_schema_error errs[MAX_ERRS];
    json_error_t jerr;
    inlet_schema *s = NULL;
    char err[512];
    json_t *doc;
    size_t n;

    /* JSON_ALLOW_NUL lets keys and strings carry NUL bytes, which the validator must handle. */
    doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        return 0;

    if (inlet_schema_compile(doc, "fuzz", &s, err, sizeof(err)) == 0) {
        n = inlet_schema_validate(s, reference_payload, "/payload", errs, MAX_ERRS);
        check_errors(n, errs, "/payload");
        n = inlet_schema_validate(s, doc, "", errs, MAX_ERRS);
        check_errors(n, errs, "");
        if (!inlet_schema_key_pointer(s))
            abort();
        inlet_schema_free(s);
    } else if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz: ", 6) != 0) {
        abort(); /* a refusal must say why, naming its origin */
    }

    for (size_t i = 0; i < inlet_schemas_count(shipped); i++) {
        n = inlet_schema_validate(inlet_schemas_at(shipped, i), doc, "/payload", errs, MAX_ERRS);
        check_errors(n, errs, "/payload");
    }
    json_decref(doc);
    return 0;
}
