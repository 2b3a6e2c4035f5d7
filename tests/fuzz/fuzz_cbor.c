/*
 * fuzz_cbor.c - libFuzzer target for the CBOR decoder (formats/cbor_decode.c), differential.
 *
 * (a) The input as CBOR, with and without INLET_CBOR_INT_KEYS: decoding must not crash, a
 *     refusal must carry a message and an offset inside the input, and a decoded value must
 *     survive being encoded again by libcbor and decoded once more.
 * (b) The input as JSON: whatever jansson's json_loadb(JSON_REJECT_DUPLICATES) accepts,
 *     encoded to CBOR by libcbor, must decode to exactly inlet_value_from_json() of it (same
 *     types, same member order); anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor_encode.h"
#include "formats/formats.h"

#define ARENA_LIMIT (256u << 20)

static inlet_arena arena;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    inlet_arena_init(&arena, ARENA_LIMIT);
    return 0;
}

static void check_refusal(const inlet_format_error *err, size_t size)
{
    if (!memchr(err->message, '\0', sizeof(err->message)) || err->message[0] == '\0' ||
        !memchr(err->pointer, '\0', sizeof(err->pointer)) || err->offset > size)
        abort();
}

/* Encode v again (another variant) and decode it: the same value must come back. */
static void check_round_trip(const inlet_value *v, unsigned flags, enc_rng *rng)
{
    inlet_format_error err;
    inlet_value *again = NULL;
    size_t len;
    unsigned char *cbor = enc_finish(rng, enc_value(rng, v), &len);

    if (!cbor)
        return;
    if (inlet_cbor_decode(&arena, cbor, len, flags, &again, &err) != 0) {
        if (arena.failed) { /* the copy did not fit beside the original */
            free(cbor);
            return;
        }
        fprintf(stderr, "re-encoded value refused: %s\n", err.message);
        abort();
    }
    if (!strict_equal(v, again) || !inlet_value_equal(v, again)) {
        fprintf(stderr, "re-encoded value decodes differently\n");
        abort();
    }
    free(cbor);
}

static void as_cbor(const uint8_t *data, size_t size)
{
    static const unsigned flag_sets[] = {0, INLET_CBOR_INT_KEYS};

    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        inlet_format_error err;
        inlet_value *v = NULL;
        enc_rng rng = enc_seed(data, size);

        if (inlet_cbor_decode(&arena, data, size, flag_sets[i], &v, &err) != 0) {
            if (v)
                abort();
            check_refusal(&err, size);
        } else {
            json_t *j;
            if (!v)
                abort();
            check_round_trip(v, flag_sets[i], &rng);
            /* what the envelope writer will do with it */
            j = inlet_value_to_json(v);
            json_decref(j);
        }
        inlet_arena_reset(&arena);
    }
}

static void as_json(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    inlet_format_error err;
    inlet_value *want, *got = NULL;
    enc_rng rng = enc_seed(data, size);
    unsigned char *cbor;
    size_t len;

    if (!j)
        return;
    want = inlet_value_from_json(&arena, j);
    cbor = enc_finish(&rng, enc_json(&rng, j), &len);
    json_decref(j);
    if (!want || !cbor) {
        free(cbor);
        inlet_arena_reset(&arena);
        return;
    }
    if (inlet_cbor_decode(&arena, cbor, len, 0, &got, &err) != 0) {
        if (!arena.failed) {
            fprintf(stderr, "CBOR of a JSON document refused at byte %zu: %s\n", err.offset,
                    err.message);
            abort();
        }
    } else if (!strict_equal(got, want) || !inlet_value_equal(got, want)) {
        fprintf(stderr, "CBOR of a JSON document decodes to another value\n");
        abort();
    }
    free(cbor);
    inlet_arena_reset(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_cbor(data, size);
    as_json(data, size);
    return 0;
}
