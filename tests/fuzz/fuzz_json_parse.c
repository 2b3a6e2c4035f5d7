/*
 * fuzz_json_parse.c - differential libFuzzer target: inlet_json_parse against jansson.
 *
 * For every input, inlet_json_parse must accept exactly when jansson 2.14's
 * json_loadb(JSON_REJECT_DUPLICATES) does. When both accept:
 * - the trees must be equal by inlet_value_equal, and also strictly: same types, same int64,
 *   same double bit patterns, same strings, members in the same order;
 * - inlet_value_write_json of ours must be byte for byte inlet_json_write of jansson's;
 * - every value's raw span must lie in the input, and its canonical flag must be set exactly
 *   when the span is the text the writer produces for that value.
 * When ours refuses, the error must carry an offset within the input and a message.
 * Any disagreement aborts.
 *
 * The parser's fast paths have portable fallbacks the target machine may never take: fuzz
 * them too with CMAKE_C_FLAGS="-DINLET_JSON_SCAN=1" (SWAR string scanning) or "=0" (a byte at
 * a time) and "-DINLET_JSON_FAST_NUMBERS=0" (every number through json_number.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "formats/formats.h"
#include "formats/json_write.h"
#include "formats/value_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *input;
static size_t input_len;

static void mismatch(const char *what)
{
    fprintf(stderr, "fuzz_json_parse: %s for input of %zu bytes\n", what, input_len);
    abort();
}

/* Stricter than inlet_value_equal: kinds and bit patterns and member order must agree. */
static int same(const inlet_value *a, const inlet_value *b)
{
    if (a->type != b->type || a->n != b->n)
        return 0;
    switch ((inlet_vtype)a->type) {
    case INLET_V_NULL:
    case INLET_V_FALSE:
    case INLET_V_TRUE:
        return 1;
    case INLET_V_INT:
        return a->u.i == b->u.i;
    case INLET_V_REAL:
        return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
    case INLET_V_STRING:
    case INLET_V_BYTES:
        return memcmp(a->u.s, b->u.s, a->n) == 0 && a->u.s[a->n] == '\0';
    case INLET_V_ARRAY:
        for (uint32_t i = 0; i < a->n; i++)
            if (!same(&a->u.items[i], &b->u.items[i]))
                return 0;
        return 1;
    case INLET_V_OBJECT:
        for (uint32_t i = 0; i < a->n; i++) {
            const inlet_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                x->key[x->key_len] != '\0' || !same(&x->value, &y->value))
                return 0;
        }
        return 1;
    }
    return 0;
}

/* ours and theirs are the same tree (checked by same()); theirs has no raw spans, so the
 * writer spells each of its values out. */
static void check_raw(const inlet_value *ours, const inlet_value *theirs)
{
    inlet_buf b;

    if (!ours->raw || ours->raw < (const char *)input ||
        ours->raw_len > (size_t)((const char *)input + input_len - ours->raw))
        mismatch("raw span outside the input");
    inlet_buf_init(&b, 0);
    inlet_value_write_json(&b, theirs);
    if (b.failed)
        abort();
    int is_text = b.len == ours->raw_len && memcmp(b.data, ours->raw, b.len) == 0;
    inlet_buf_free(&b);
    if (is_text != ours->canonical)
        mismatch(is_text ? "canonical text not flagged canonical" : "wrong canonical flag");
    if (ours->type == INLET_V_ARRAY)
        for (uint32_t i = 0; i < ours->n; i++)
            check_raw(&ours->u.items[i], &theirs->u.items[i]);
    else if (ours->type == INLET_V_OBJECT)
        for (uint32_t i = 0; i < ours->n; i++)
            check_raw(&ours->u.members[i].value, &theirs->u.members[i].value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static inlet_arena arena;
    inlet_format_error err;
    inlet_value *ours = NULL;
    json_error_t jerr;
    inlet_buf a, b;

    input = data;
    input_len = size;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    int rc = inlet_json_parse(&arena, data, size, &ours, &err);

    if ((rc == 0) != (j != NULL)) {
        fprintf(stderr, "jansson: %s (position %d)\nours: %s\n", j ? "accepted" : jerr.text,
                jerr.position, rc == 0 ? "accepted" : err.message);
        mismatch("acceptance differs");
    }
    if (rc != 0) {
        if (err.offset > size || strncmp(err.message, "malformed JSON at byte ", 23) != 0)
            mismatch("error without offset or message");
        goto out;
    }

    inlet_value *theirs = inlet_value_from_json(&arena, j);
    if (!theirs)
        abort();
    if (!inlet_value_equal(ours, theirs))
        mismatch("inlet_value_equal differs");
    if (!same(ours, theirs))
        mismatch("values differ");
    check_raw(ours, theirs);

    inlet_buf_init(&a, 0);
    inlet_buf_init(&b, 0);
    inlet_value_write_json(&a, ours);
    inlet_json_write(&b, j);
    if (a.failed || b.failed)
        abort();
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
        fprintf(stderr, "ours:    %.*s\njansson: %.*s\n", (int)a.len, a.data, (int)b.len, b.data);
        mismatch("written text differs");
    }
    inlet_buf_free(&a);
    inlet_buf_free(&b);

out:
    json_decref(j);
    inlet_arena_reset(&arena);
    return 0;
}
