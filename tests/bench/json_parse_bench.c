/*
 * json_parse_bench.c - inlet_json_parse against jansson on one body, for callgrind.
 *
 * json_parse_bench [FILE] [ROUNDS] [jansson]: parses FILE (default: the reference telemetry
 * body) ROUNDS times (default 1000), resetting the arena each time. Count instructions with
 *   valgrind --tool=callgrind --toggle-collect=inlet_json_parse json_parse_bench
 * and divide by ROUNDS times the body's size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "formats/formats.h"

static const char reference[] =
    "{\"events\":[{\"device_id\":\"truck-0042\",\"ts\":\"2026-11-21T10:15:30.123Z\",\"use_case\":"
    "\"fleet.position\",\"schema\":\"v1\",\"payload\":{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":"
    "61.2,\"heading_deg\":270,\"status\":\"delivering\"}}]}";

int main(int argc, char **argv)
{
    const char *body = reference;
    size_t len = sizeof(reference) - 1;
    char *file = NULL;
    long rounds = argc > 2 ? atol(argv[2]) : 1000;
    int use_jansson = argc > 3 && strcmp(argv[3], "jansson") == 0;
    inlet_arena arena;
    int rc = 1;

    if (argc > 1 && strcmp(argv[1], "-") != 0) {
        FILE *f = fopen(argv[1], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0)
            goto out;
        len = (size_t)ftell(f);
        rewind(f);
        file = malloc(len ? len : 1);
        if (!file || fread(file, 1, len, f) != len) {
            fclose(f);
            goto out;
        }
        fclose(f);
        body = file;
    }
    inlet_arena_init(&arena, 0);
    for (long i = 0; i < rounds; i++) {
        if (use_jansson) {
            json_error_t jerr;
            json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
            if (!j)
                goto out_arena;
            json_decref(j);
        } else {
            inlet_format_error err;
            inlet_value *v;
            if (inlet_json_parse(&arena, body, len, &v, &err) != 0) {
                fprintf(stderr, "json_parse_bench: %s\n", err.message);
                goto out_arena;
            }
            inlet_arena_reset(&arena);
        }
    }
    printf("%zu bytes x %ld rounds\n", len, rounds);
    rc = 0;
out_arena:
    inlet_arena_fini(&arena);
out:
    free(file);
    return rc;
}
