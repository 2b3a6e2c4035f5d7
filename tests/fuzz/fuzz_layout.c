/*
 * fuzz_layout.c - libFuzzer target for x-inlet-layout: the compiler and the frame decoder.
 *
 * An input that starts with '{' or '[' is a layout document: it must compile or be refused
 * cleanly (also inside a schema, which checks it against the properties), and once compiled it
 * decodes a few fixed frames and the input itself. Any other input is a frame: its first byte
 * picks one of the fixed layouts below (fleet.position from the shipped schemas among them),
 * the rest is decoded. Every decoded tree is checked for what the data model promises.
 * Shipped schemas come from $INLET_SCHEMAS_DIR, else INLET_SOURCE_DIR/schemas.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "schema/layout.h"
#include "schema/schema.h"

#ifndef INLET_SOURCE_DIR
#define INLET_SOURCE_DIR "."
#endif

#define ARENA_LIMIT (1u << 20)

/* Between them, every type, byte order and keyword. */
static const char *const fixed_docs[] = {
    "{\"seq\": [{\"id\": \"a\", \"type\": \"u1\"}, {\"id\": \"b\", \"type\": \"u2be\"}, {\"id\": "
    "\"c\", \"type\": \"u2le\"}, {\"id\": \"d\", \"type\": \"u4be\"}, {\"id\": \"e\", \"type\": "
    "\"u4le\"}, {\"id\": \"f\", \"type\": \"u8be\"}, {\"id\": \"g\", \"type\": \"u8le\"}, {\"id\": "
    "\"h\", \"type\": \"s1\"}, {\"id\": \"i\", \"type\": \"s2be\"}, {\"id\": \"j\", \"type\": "
    "\"s2le\"}, {\"id\": \"k\", \"type\": \"s4be\"}, {\"id\": \"l\", \"type\": \"s4le\"}, {\"id\": "
    "\"m\", \"type\": \"s8be\"}, {\"id\": \"n\", \"type\": \"s8le\"}]}",
    "{\"endian\": \"le\", \"seq\": [{\"id\": \"a\", \"type\": \"f4\"}, {\"id\": \"b\", \"type\": "
    "\"f8\", \"scale\": 1e300}, {\"id\": \"c\", \"type\": \"f4be\", \"offset\": -40}, {\"id\": "
    "\"d\", \"type\": \"f8be\"}]}",
    "{\"seq\": [{\"id\": \"f\", \"type\": \"b1\"}, {\"id\": \"m\", \"type\": \"b3\", \"enum\": "
    "{\"0\": \"a\", \"7\": \"h\"}}, {\"type\": \"b5\"}, {\"id\": \"w\", \"type\": \"b64\"}, "
    "{\"id\": \"x\", \"type\": \"b7\", \"scale\": 0.1}, {\"id\": \"y\", \"type\": \"u1\"}, "
    "{\"id\": \"z\", \"type\": \"b12\", \"absent\": 4095}]}",
    "{\"seq\": [{\"id\": \"s\", \"type\": \"str\", \"size-prefix\": \"u1\"}, {\"id\": \"b\", "
    "\"type\": \"bytes\", \"size-prefix\": \"u2le\"}, {\"id\": \"t\", \"type\": \"str\", \"size\": "
    "4}, {\"size\": 2}, {\"id\": \"u\", \"type\": \"str\", \"size-prefix\": \"u4be\"}]}",
    "{\"endian\": \"be\", \"seq\": [{\"id\": \"a\", \"type\": \"u2\", \"pos\": 4}, {\"id\": \"b\", "
    "\"type\": \"s8\", \"scale\": 3, \"offset\": -7}, {\"id\": \"c\", \"type\": \"u1\", \"pos\": "
    "0}, {\"type\": \"b3\"}, {\"id\": \"d\", \"type\": \"s4\", \"scale\": 1e-7, \"absent\": "
    "-2147483648}, {\"id\": \"e\", \"type\": \"u8\", \"enum\": {\"0x0\": \"zero\", "
    "\"9223372036854775807\": \"max\"}}]}",
};

#define N_FIXED (sizeof(fixed_docs) / sizeof(fixed_docs[0]))

static inlet_layout *fixed[N_FIXED];
static const inlet_schema *fleet; /* validates what its layout decodes */
static inlet_schemas *shipped;
static inlet_arena arena;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("INLET_SCHEMAS_DIR");
    char err[1024];

    (void)argc;
    (void)argv;
    if (inlet_schemas_load(dir ? dir : INLET_SOURCE_DIR "/schemas", &shipped, err, sizeof(err)) !=
            0 ||
        !(fleet = inlet_schemas_find(shipped, "fleet.position", "v1")) ||
        !inlet_schema_layout(fleet)) {
        fprintf(stderr, "fuzz_layout: no fleet.position layout: %s\n", err);
        abort();
    }
    for (size_t i = 0; i < N_FIXED; i++) {
        json_t *doc = json_loads(fixed_docs[i], 0, NULL);
        if (!doc || inlet_layout_compile(doc, "fixed", &fixed[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_layout: fixed layout %zu: %s\n", i, err);
            abort();
        }
        json_decref(doc);
    }
    inlet_arena_init(&arena, ARENA_LIMIT);
    return 0;
}

static int utf8_ok(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n); /* jansson refuses invalid UTF-8 */
    int ok = j != NULL && !memchr(s, '\0', n);
    json_decref(j);
    return ok;
}

/* What a decoder promises: an object of at most count members, unique terminated keys, finite
 * reals, valid text, terminated strings; an error says where and why. */
static void check(const inlet_layout *l, int rc, const inlet_value *v, size_t len,
                  const inlet_format_error *err, const inlet_schema *schema)
{
    inlet_schema_error errs[4];
    json_t *j;

    if (rc != 0) {
        if (v || err->offset > len || !memchr(err->message, '\0', sizeof(err->message)) ||
            err->message[0] == '\0' || !memchr(err->pointer, '\0', sizeof(err->pointer)) ||
            (err->pointer[0] && err->pointer[0] != '/'))
            abort();
        return;
    }
    if (!v || v->type != INLET_V_OBJECT || v->n > inlet_layout_count(l))
        abort();
    for (uint32_t i = 0; i < v->n; i++) {
        const inlet_member *m = &v->u.members[i];
        const inlet_value *x = &m->value;
        if (!m->key || m->key[m->key_len] != '\0' || !utf8_ok(m->key, m->key_len))
            abort();
        for (uint32_t k = 0; k < i; k++)
            if (v->u.members[k].key_len == m->key_len &&
                memcmp(v->u.members[k].key, m->key, m->key_len) == 0)
                abort();
        if (x->type == INLET_V_REAL && !isfinite(x->u.r))
            abort();
        if ((x->type == INLET_V_STRING || x->type == INLET_V_BYTES) && x->u.s[x->n] != '\0')
            abort();
        if (x->type == INLET_V_STRING && !utf8_ok(x->u.s, x->n))
            abort();
        if (x->type > INLET_V_BYTES)
            abort();
    }
    if (!(j = inlet_value_to_json(v)))
        abort();
    if (schema && inlet_schema_validate(schema, v, "/payload", errs, 4) > 0 &&
        strncmp(errs[0].pointer, "/payload", 8) != 0)
        abort();
    json_decref(j);
}

static void decode_check(const inlet_layout *l, const uint8_t *p, size_t n,
                         const inlet_schema *schema)
{
    inlet_format_error err;
    inlet_value *v = NULL;
    int rc;

    memset(&err, 0, sizeof(err));
    rc = inlet_layout_decode(l, &arena, p, n, &v, &err);
    check(l, rc, v, n, &err, schema);
    inlet_arena_reset(&arena);
}

static void fuzz_document(const uint8_t *data, size_t size)
{
    static const uint8_t frames[][13] = {
        {0},
        {0x1f, 0x4d, 0xea, 0x80, 0x07, 0xfd, 0x70, 0xd0, 0x02, 0x64, 0x01, 0x0e, 3},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
    };
    inlet_layout *l = NULL;
    inlet_schema *s = NULL;
    json_t *doc, *schema;
    char err[1024];

    doc = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!doc)
        return;
    if (inlet_layout_compile(doc, "fuzz", &l, err, sizeof(err)) == 0) {
        for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
            for (size_t n = 0; n <= sizeof(frames[0]); n++)
                decode_check(l, frames[i], n, NULL);
        decode_check(l, data, size, NULL);
        inlet_layout_free(l);
    } else if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz: /x-inlet-layout", 21) != 0) {
        abort(); /* a refusal names its origin and pointer */
    }

    /* The same document inside a schema, which also checks it against its properties. */
    schema = json_pack("{s:O, s:{s:{s:s}}}", "x-inlet-layout", doc, "properties", "a", "type",
                       "integer");
    if (schema && inlet_schema_compile(schema, "fuzz", &s, err, sizeof(err)) == 0) {
        if (!inlet_schema_layout(s))
            abort();
        decode_check(inlet_schema_layout(s), data, size, s);
        inlet_schema_free(s);
    } else if (schema && strncmp(err, "fuzz: /", 7) != 0) {
        abort();
    }
    json_decref(schema);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const inlet_layout *l;
    size_t which;

    if (size > 0 && (data[0] == '{' || data[0] == '[')) {
        fuzz_document(data, size);
        return 0;
    }
    if (size == 0)
        return 0;
    which = data[0] % (N_FIXED + 1);
    l = which == N_FIXED ? inlet_schema_layout(fleet) : fixed[which];
    decode_check(l, data + 1, size - 1, which == N_FIXED ? fleet : NULL);
    return 0;
}
