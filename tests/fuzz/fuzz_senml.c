/*
 * fuzz_senml.c - libFuzzer target for SenML resolution (formats/senml.c, senml_records.c).
 *
 * The input is tried as a SenML JSON pack (jansson, JSON_REJECT_DUPLICATES) and as a SenML
 * CBOR pack (inlet_cbor_decode with INLET_CBOR_INT_KEYS). Resolution must not crash, must
 * refuse with a message, and on success must give events whose fields account for every
 * record once, with unique names, finite times. A JSON pack is also converted
 * to SenML CBOR as RFC 8428 §6 says (integer labels, data values as byte strings): where
 * that CBOR decodes, it must resolve to the same events, or be refused as well.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cbor_encode.h"
#include "formats/formats.h"

#define ARENA_LIMIT (256u << 20)
#define RECEIVED_US 1700000000000000LL

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

typedef struct outcome {
    int rc;
    inlet_senml_event *ev;
    size_t n;
} outcome;

static outcome resolve(const inlet_value *pack)
{
    inlet_format_error err;
    outcome o = {0};
    size_t fields = 0;

    o.rc = inlet_senml_resolve(&arena, pack, RECEIVED_US, &o.ev, &o.n, &err);
    if (o.rc != 0) {
        if (o.ev || o.n || !memchr(err.message, '\0', sizeof(err.message)) ||
            err.message[0] == '\0' || !memchr(err.pointer, '\0', sizeof(err.pointer)))
            abort();
        return o;
    }
    if (o.n == 0 || pack->type != INLET_V_ARRAY)
        abort();
    for (size_t i = 0; i < o.n; i++) {
        const inlet_value *p = o.ev[i].payload;
        if (!isfinite(o.ev[i].time_s) || !p || p->type != INLET_V_OBJECT || p->n == 0 ||
            !o.ev[i].units)
            abort();
        fields += p->n;
        for (uint32_t k = 0; k < p->n; k++) {
            const inlet_member *m = &p->u.members[k];
            if (m->key_len == 0 || m->key[m->key_len] != '\0' ||
                inlet_value_getn(p, m->key, m->key_len) != &m->value)
                abort(); /* a name repeated within an event */
            switch (m->value.type) {
            case INLET_V_INT:
            case INLET_V_REAL:
            case INLET_V_STRING:
            case INLET_V_BYTES:
            case INLET_V_TRUE:
            case INLET_V_FALSE:
                break;
            default:
                abort();
            }
        }
        /* Two events may share a time: records are grouped by time and base name. */
    }
    if (fields != pack->n)
        abort();
    return o;
}

/* RFC 8428 §6 Table 4 */
static int senml_label(const char *key, int64_t *label)
{
    static const struct {
        const char *key;
        int label;
    } table[] = {
        {"bver", -1}, {"bn", -2}, {"bt", -3}, {"bu", -4}, {"bv", -5},
        {"bs", -6},   {"n", 0},   {"u", 1},   {"v", 2},   {"vs", 3},
        {"vb", 4},    {"s", 5},   {"t", 6},   {"ut", 7},  {"vd", 8},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(key, table[i].key) == 0) {
            *label = table[i].label;
            return 1;
        }
    return 0;
}

/* A base64url data value as the bytes it stands for, NULL if it is not canonical base64url
 * (it then stays text, which the resolver refuses as it refuses the JSON). */
static cbor_item_t *data_value(enc_rng *rng, const json_t *s)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = json_string_value(s);
    size_t n = json_string_length(s), o = 0;
    unsigned acc = 0, bits = 0;
    unsigned char *out;
    cbor_item_t *item;

    if (n % 4 == 1 || memchr(p, '=', n))
        return NULL;
    out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *d = memchr(tab, p[i], 64);
        if (!d || !p[i]) {
            free(out);
            return NULL;
        }
        acc = (acc << 6 | (unsigned)(d - tab)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    item = (acc & ((1u << bits) - 1)) ? NULL : enc_string(rng, (const char *)out, o, 0);
    free(out);
    return item;
}

static cbor_item_t *senml_record(enc_rng *rng, const json_t *rec)
{
    const char *key;
    json_t *val;
    cbor_item_t *map;

    if (!json_is_object(rec))
        return enc_json(rng, rec);
    map = enc_map(rng, json_object_size(rec));
    json_object_foreach((json_t *)rec, key, val)
    {
        int64_t label;
        cbor_item_t *k, *v = NULL;
        if (senml_label(key, &label))
            k = enc_int(rng, label);
        else
            k = enc_string(rng, key, strlen(key), 1);
        if (strcmp(key, "vd") == 0 && json_is_string(val))
            v = data_value(rng, val);
        if (!v)
            v = enc_json(rng, val);
        if (map && !enc_add(map, k, v))
            cbor_decref(&map);
    }
    return map;
}

static unsigned char *senml_cbor(enc_rng *rng, const json_t *pack, size_t *len)
{
    cbor_item_t *arr;

    if (!json_is_array(pack))
        return enc_finish(rng, enc_json(rng, pack), len);
    arr = enc_array(rng, json_array_size(pack));
    for (size_t i = 0; arr && i < json_array_size(pack); i++)
        if (!enc_push(arr, senml_record(rng, json_array_get(pack, i))))
            cbor_decref(&arr);
    return enc_finish(rng, arr, len);
}

static int same_events(const outcome *a, const outcome *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const inlet_value *x = a->ev[i].payload, *y = b->ev[i].payload;
        if (memcmp(&a->ev[i].time_s, &b->ev[i].time_s, sizeof(double)) != 0 || !strict_equal(x, y))
            return 0;
        for (uint32_t k = 0; k < x->n; k++) {
            const char *u = a->ev[i].units[k], *w = b->ev[i].units[k];
            if ((u == NULL) != (w == NULL) || (u && strcmp(u, w) != 0))
                return 0;
        }
    }
    return 1;
}

static void as_json(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    enc_rng rng = enc_seed(data, size);
    inlet_format_error err;
    inlet_value *pack, *cpack = NULL;
    unsigned char *cbor;
    size_t len;
    outcome from_json, from_cbor;

    if (!j)
        return;
    pack = inlet_value_from_json(&arena, j);
    cbor = senml_cbor(&rng, j, &len);
    json_decref(j);
    if (pack) {
        from_json = resolve(pack);
        /* "n" and "0" in one JSON record are one CBOR key twice: that CBOR is refused */
        if (cbor && inlet_cbor_decode(&arena, cbor, len, INLET_CBOR_INT_KEYS, &cpack, &err) == 0) {
            from_cbor = resolve(cpack);
            if ((from_json.rc == 0) != (from_cbor.rc == 0) ||
                (from_json.rc == 0 && !same_events(&from_json, &from_cbor))) {
                fprintf(stderr, "SenML JSON and its CBOR resolve differently (%d, %d)\n",
                        from_json.rc, from_cbor.rc);
                abort();
            }
        }
    }
    free(cbor);
    inlet_arena_reset(&arena);
}

static void as_cbor(const uint8_t *data, size_t size)
{
    inlet_format_error err;
    inlet_value *pack = NULL;

    if (inlet_cbor_decode(&arena, data, size, INLET_CBOR_INT_KEYS, &pack, &err) == 0)
        resolve(pack);
    inlet_arena_reset(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_json(data, size);
    as_cbor(data, size);
    return 0;
}
