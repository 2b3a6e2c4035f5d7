/*
 * fuzz_schema.c - libFuzzer target for the schema compiler and validator.
 *
 * The input is parsed as JSON and used twice: as a schema document (which must compile or be
 * refused cleanly, and once compiled must validate a fixed payload and the input itself), and
 * as a payload validated against every shipped schema; then once more with every string turned
 * into a byte string, as CBOR would deliver it. Shipped schemas are read from
 * $INLET_SCHEMAS_DIR, else INLET_SOURCE_DIR/schemas (the build defines it), else ./schemas.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats/arena.h"
#include "schema/schema.h"

#ifndef INLET_SOURCE_DIR
#define INLET_SOURCE_DIR "."
#endif

#define MAX_ERRS 4

static inlet_schemas *shipped;
static const inlet_value *reference_payload;
static inlet_arena reference_arena;

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
    json_t *j = json_loads("{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, "
                           "\"heading_deg\": 270, \"status\": \"delivering\", "
                           "\"tags\": [\"a\", 1, null, {\"x\": true}], \"ts\": "
                           "\"2026-11-21T10:15:30.123Z\"}",
                           0, NULL);
    inlet_arena_init(&reference_arena, 0);
    if (!j || !(reference_payload = inlet_value_from_json(&reference_arena, j)))
        abort();
    json_decref(j);
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

/* Strings become byte strings in place (the arena copy is ours). */
static void strings_to_bytes(inlet_value *v)
{
    if (v->type == INLET_V_STRING)
        v->type = INLET_V_BYTES;
    for (uint32_t i = 0; v->type == INLET_V_ARRAY && i < v->n; i++)
        strings_to_bytes(&v->u.items[i]);
    for (uint32_t i = 0; v->type == INLET_V_OBJECT && i < v->n; i++)
        strings_to_bytes(&v->u.members[i].value);
}

static void validate_all(const inlet_schema *s, const inlet_value *v)
{
    inlet_schema_error errs[MAX_ERRS];
    size_t n;

    if (s) {
        n = inlet_schema_validate(s, reference_payload, "/payload", errs, MAX_ERRS);
        check_errors(n, errs, "/payload");
        n = inlet_schema_validate(s, v, "", errs, MAX_ERRS);
        check_errors(n, errs, "");
    }
    for (size_t i = 0; i < inlet_schemas_count(shipped); i++) {
        n = inlet_schema_validate(inlet_schemas_at(shipped, i), v, "/payload", errs, MAX_ERRS);
        check_errors(n, errs, "/payload");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inlet_arena *arena = inlet_arena_thread();
    json_error_t jerr;
    inlet_schema *s = NULL;
    inlet_value *v;
    char err[512];
    json_t *doc;

    /* JSON_ALLOW_NUL lets keys and strings carry NUL bytes, which the validator must handle. */
    doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!doc)
        return 0;

    if (!arena || !(v = inlet_value_from_json(arena, doc)))
        abort();

    if (inlet_schema_compile(doc, "fuzz", &s, err, sizeof(err)) == 0) {
        if (!inlet_schema_key_pointer(s) || !inlet_schema_formats(s))
            abort();
    } else if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz: ", 6) != 0) {
        abort(); /* a refusal must say why, naming its origin */
    }
    validate_all(s, v);
    strings_to_bytes(v);
    validate_all(s, v);
    inlet_schema_free(s);
    json_decref(doc);
    inlet_arena_reset(arena);
    return 0;
}
