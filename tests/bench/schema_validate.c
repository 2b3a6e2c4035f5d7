/*
 * schema_validate.c - the per-event cost of inlet_schema_validate, counted in instructions.
 *
 *   valgrind --tool=callgrind --toggle-collect=inlet_schema_validate \
 *       build/tests/bench/schema_validate [iterations] [schemas_dir] [name] [version] [payload]
 *
 * Defaults: 1000 iterations of the shipped fleet.position v1 and its reference payload. Run it
 * with two iteration counts and divide the difference of the totals by the difference of the
 * counts: that is the cost of one call, setup excluded.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "formats/arena.h"
#include "schema/schema.h"

#ifndef INLET_SOURCE_DIR
#define INLET_SOURCE_DIR "."
#endif

#define REFERENCE_PAYLOAD                                                                          \
    "{\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, \"heading_deg\": 270, "                \
    "\"status\": \"delivering\"}"

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 1000;
    const char *dir = argc > 2 ? argv[2] : INLET_SOURCE_DIR "/schemas";
    const char *name = argc > 3 ? argv[3] : "fleet.position";
    const char *version = argc > 4 ? argv[4] : "v1";
    const char *payload = argc > 5 ? argv[5] : REFERENCE_PAYLOAD;
    inlet_schemas *schemas = NULL;
    inlet_schema_error errs[8];
    const inlet_schema *s;
    const inlet_value *v;
    inlet_arena arena;
    json_t *j = NULL;
    char err[1024];
    size_t invalid = 0;
    int rc = 1;

    inlet_arena_init(&arena, 0);
    if (inlet_schemas_load(dir, &schemas, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (!(s = inlet_schemas_find(schemas, name, version))) {
        fprintf(stderr, "no schema %s %s in %s\n", name, version, dir);
        goto done;
    }
    if (!(j = json_loads(payload, JSON_DECODE_ANY, NULL)) ||
        !(v = inlet_value_from_json(&arena, j))) {
        fprintf(stderr, "the payload does not parse\n");
        goto done;
    }
    for (long i = 0; i < iterations; i++)
        invalid += inlet_schema_validate(s, v, "/payload", errs, 8) != 0;
    printf("%ld validations, %zu invalid\n", iterations, invalid);
    if (invalid)
        printf("first error: %s: %s\n", errs[0].pointer, errs[0].message);
    rc = 0;

done:
    json_decref(j);
    inlet_arena_fini(&arena);
    inlet_schemas_free(schemas);
    return rc;
}
