/* schema_test.h - compiling schemas from JSON texts and validating instances against them, with
 * the VALID and INVALID checks; shared by test_schema.c and test_schema_inlet.c. */
#ifndef INLET_SCHEMA_TEST_H
#define INLET_SCHEMA_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
