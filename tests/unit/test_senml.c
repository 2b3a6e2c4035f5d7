/* test_senml.c - SenML (RFC 8428) records resolved (§4.6) and grouped into events: the
 * examples of §5.1.1-5.1.6 (and §5.1.7) in JSON and in CBOR, and every refusal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "check.h"
#include "formats/formats.h"
#include "formats/senml_records.h"

#define RECEIVED_US 1700000000000000LL /* 2023-11-14T22:13:20Z */
#define RECEIVED_S  1700000000.0

static inlet_arena arena;
static inlet_format_error err;

/* RFC 8428 §6 Table 4 */
static const struct {
    const char *label;
    int cbor;
} cbor_labels[] = {
    {"bver", -1}, {"bn", -2}, {"bt", -3}, {"bu", -4}, {"bv", -5}, {"bs", -6}, {"n", 0},  {"u", 1},
    {"v", 2},     {"vs", 3},  {"vb", 4},  {"s", 5},   {"t", 6},   {"ut", 7},  {"vd", 8},
};

static cbor_item_t *cbor_int(long long v)
{
    return v >= 0 ? cbor_build_uint64((uint64_t)v) : cbor_build_negint64((uint64_t)(-1 - v));
}

static int b64url_value(int c)
{
    const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = strchr(tab, c);
    return p && c ? (int)(p - tab) : -1;
}

/* JSON SenML → CBOR SenML as §6 says: integer labels, data values as byte strings. */
static cbor_item_t *to_cbor(const json_t *j, const char *label)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        cbor_item_t *map = cbor_new_definite_map(json_object_size(j));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)j, key, val)
        {
            cbor_item_t *k = NULL;
            for (size_t i = 0; i < sizeof(cbor_labels) / sizeof(cbor_labels[0]); i++)
                if (strcmp(key, cbor_labels[i].label) == 0)
                    k = cbor_int(cbor_labels[i].cbor);
            if (!k)
                k = cbor_build_string(key);
            cbor_map_add(map, (struct cbor_pair){cbor_move(k), cbor_move(to_cbor(val, key))});
        }
        return map;
    }
    case JSON_ARRAY: {
        cbor_item_t *arr = cbor_new_definite_array(json_array_size(j));
        for (size_t i = 0; i < json_array_size(j); i++)
            cbor_array_push(arr, cbor_move(to_cbor(json_array_get(j, i), NULL)));
        return arr;
    }
    case JSON_STRING:
        if (label && strcmp(label, "vd") == 0) {
            const char *s = json_string_value(j);
            unsigned char out[256];
            size_t o = 0;
            unsigned acc = 0, bits = 0;
            for (; *s; s++) {
                acc = acc << 6 | (unsigned)b64url_value(*s);
                bits += 6;
                if (bits >= 8) {
                    bits -= 8;
                    out[o++] = (unsigned char)(acc >> bits);
                }
            }
            return cbor_build_bytestring(out, o);
        }
        return cbor_build_stringn(json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
        return cbor_int(json_integer_value(j));
    case JSON_REAL:
        return cbor_build_float8(json_real_value(j));
    case JSON_TRUE:
        return cbor_build_bool(true);
    case JSON_FALSE:
        return cbor_build_bool(false);
    default:
        return cbor_new_null();
    }
}

static inlet_value *pack_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    inlet_value *v;

    if (!j) {
        fprintf(stderr, "bad test JSON: %s\n", jerr.text);
        return NULL;
    }
    v = inlet_value_from_json(&arena, j);
    json_decref(j);
    return v;
}

static inlet_value *pack_cbor_bytes(const unsigned char *data, size_t len)
{
    inlet_value *v = NULL;

    if (inlet_cbor_decode(&arena, data, len, INLET_CBOR_INT_KEYS, &v, &err) != 0) {
        fprintf(stderr, "CBOR pack refused: %s\n", err.message);
        return NULL;
    }
    return v;
}

/* The JSON pack, converted to SenML CBOR and decoded back. */
static inlet_value *pack_cbor(const char *text)
{
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    cbor_item_t *item = j ? to_cbor(j, NULL) : NULL;
    unsigned char *data = NULL;
    size_t size = 0, len = item ? cbor_serialize_alloc(item, &data, &size) : 0;
    inlet_value *v = len ? pack_cbor_bytes(data, len) : NULL;

    free(data);
    if (item)
        cbor_decref(&item);
    json_decref(j);
    return v;
}

typedef struct resolved {
    inlet_senml_event *ev;
    size_t n;
} resolved;

static int resolve(const inlet_value *pack, resolved *out)
{
    out->ev = NULL;
    out->n = 0;
    if (!pack)
        return -1;
    return inlet_senml_resolve(&arena, pack, RECEIVED_US, &out->ev, &out->n, &err);
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-6;
}

/* Field i of event e is key = number with unit (NULL: none). */
static int field_number(const inlet_senml_event *e, uint32_t i, const char *key, double v,
                        const char *unit)
{
    const inlet_member *m;

    if (i >= e->payload->n)
        return 0;
    m = &e->payload->u.members[i];
    if (strcmp(m->key, key) != 0 || m->key_len != strlen(key) ||
        !inlet_value_is_number(&m->value) || inlet_value_number(&m->value) != v)
        return 0;
    if (!unit)
        return e->units[i] == NULL;
    return e->units[i] && strcmp(e->units[i], unit) == 0;
}

static int refused(const inlet_value *pack, const char *pointer, const char *needle)
{
    resolved r;

    if (!pack || resolve(pack, &r) == 0) {
        fprintf(stderr, "accepted, expected a refusal with \"%s\"\n", needle);
        return 0;
    }
    if (strcmp(err.pointer, pointer) != 0 || !strstr(err.message, needle)) {
        fprintf(stderr, "refused at \"%s\" with \"%s\", expected \"%s\" and \"%s\"\n", err.pointer,
                err.message, pointer, needle);
        return 0;
    }
    return 1;
}

static const char *const ex_5_1_1 =
    "[{\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"Cel\",\"v\":23.1}]";

static void check_5_1_1(const inlet_value *pack)
{
    resolved r;

    CHECK(resolve(pack, &r) == 0 && r.n == 1);
    if (r.n != 1)
        return;
    CHECK(near(r.ev[0].time_s, RECEIVED_S)); /* no time: "now", the receipt */
    CHECK(r.ev[0].payload->type == INLET_V_OBJECT && r.ev[0].payload->n == 1);
    CHECK(field_number(&r.ev[0], 0, "urn:dev:ow:10e2073a01080063", 23.1, "Cel"));
}

static void test_5_1_1_single_datapoint(void)
{
    check_5_1_1(pack_json(ex_5_1_1));
    check_5_1_1(pack_cbor(ex_5_1_1));
}

static const char *const ex_5_1_2a =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
    "{\"n\":\"current\",\"u\":\"A\",\"v\":1.2}]";

static const char *const ex_5_1_2b =
    "[{\"bn\":\"urn:dev:ow:10e2073a0108006:\",\"bt\":1.276020076001e+09,\"bu\":\"A\","
    "\"bver\":5,\"n\":\"voltage\",\"u\":\"V\",\"v\":120.1},"
    "{\"n\":\"current\",\"t\":-5,\"v\":1.2},{\"n\":\"current\",\"t\":-4,\"v\":1.3},"
    "{\"n\":\"current\",\"t\":-3,\"v\":1.4},{\"n\":\"current\",\"t\":-2,\"v\":1.5},"
    "{\"n\":\"current\",\"t\":-1,\"v\":1.6},{\"n\":\"current\",\"v\":1.7}]";

/* §6: the CBOR dump of the example above, as the RFC prints it */
static const unsigned char cbor_5_1_2b[] = {
    0x87, 0xa7, 0x21, 0x78, 0x1b, 0x75, 0x72, 0x6e, 0x3a, 0x64, 0x65, 0x76, 0x3a, 0x6f, 0x77,
    0x3a, 0x31, 0x30, 0x65, 0x32, 0x30, 0x37, 0x33, 0x61, 0x30, 0x31, 0x30, 0x38, 0x30, 0x30,
    0x36, 0x3a, 0x22, 0xfb, 0x41, 0xd3, 0x03, 0xa1, 0x5b, 0x00, 0x10, 0x62, 0x23, 0x61, 0x41,
    0x20, 0x05, 0x00, 0x67, 0x76, 0x6f, 0x6c, 0x74, 0x61, 0x67, 0x65, 0x01, 0x61, 0x56, 0x02,
    0xfb, 0x40, 0x5e, 0x06, 0x66, 0x66, 0x66, 0x66, 0x66, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72,
    0x72, 0x65, 0x6e, 0x74, 0x06, 0x24, 0x02, 0xfb, 0x3f, 0xf3, 0x33, 0x33, 0x33, 0x33, 0x33,
    0x33, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x23, 0x02, 0xfb,
    0x3f, 0xf4, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcd, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72,
    0x65, 0x6e, 0x74, 0x06, 0x22, 0x02, 0xfb, 0x3f, 0xf6, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
    0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x21, 0x02, 0xf9, 0x3e,
    0x00, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72, 0x65, 0x6e, 0x74, 0x06, 0x20, 0x02, 0xfb,
    0x3f, 0xf9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a, 0xa3, 0x00, 0x67, 0x63, 0x75, 0x72, 0x72,
    0x65, 0x6e, 0x74, 0x06, 0x00, 0x02, 0xfb, 0x3f, 0xfb, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
};

static void check_5_1_2a(const inlet_value *pack)
{
    inlet_senml_record *recs;
    size_t n;
    resolved r;

    CHECK(pack && inlet_senml_resolve_records(&arena, pack, RECEIVED_US, &recs, &n, &err) == 0);
    CHECK(pack && n == 2);
    if (!pack || n != 2)
        return;
    CHECK_STR(recs[0].name, "urn:dev:ow:10e2073a01080063:voltage");
    CHECK_STR(recs[1].name, "urn:dev:ow:10e2073a01080063:current");
    CHECK_STR(recs[1].n, "current");
    /* both "now": one event, fields by their names as written */
    CHECK(resolve(pack, &r) == 0 && r.n == 1);
    if (r.n != 1)
        return;
    CHECK(near(r.ev[0].time_s, RECEIVED_S));
    CHECK(r.ev[0].payload->n == 2);
    CHECK(field_number(&r.ev[0], 0, "voltage", 120.1, "V"));
    CHECK(field_number(&r.ev[0], 1, "current", 1.2, "A"));
}

static void check_5_1_2b(const inlet_value *pack)
{
    static const double current[] = {1.2, 1.3, 1.4, 1.5, 1.6};
    const double bt = 1.276020076001e+09;
    resolved r;

    CHECK(resolve(pack, &r) == 0 && r.n == 6);
    if (r.n != 6)
        return;
    /* bt and the last record (no t) share a time: voltage and the current "now" */
    CHECK(near(r.ev[0].time_s, bt));
    CHECK(r.ev[0].payload->n == 2);
    CHECK(field_number(&r.ev[0], 0, "voltage", 120.1, "V"));
    CHECK(field_number(&r.ev[0], 1, "current", 1.7, "A")); /* base unit */
    /* then one event per earlier second, in pack order */
    for (int i = 0; i < 5; i++) {
        CHECK(near(r.ev[1 + i].time_s, bt - 5 + i));
        CHECK(r.ev[1 + i].payload->n == 1);
        CHECK(field_number(&r.ev[1 + i], 0, "current", current[i], "A"));
    }
}

static void test_5_1_2_multiple_datapoints(void)
{
    check_5_1_2a(pack_json(ex_5_1_2a));
    check_5_1_2a(pack_cbor(ex_5_1_2a));
    check_5_1_2b(pack_json(ex_5_1_2b));
    check_5_1_2b(pack_cbor(ex_5_1_2b));
    check_5_1_2b(pack_cbor_bytes(cbor_5_1_2b, sizeof(cbor_5_1_2b)));
}

static const char *const ex_5_1_3 =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063\",\"bt\":1.320067464e+09,\"bu\":\"%RH\",\"v\":20},"
    "{\"u\":\"lon\",\"v\":24.30621},{\"u\":\"lat\",\"v\":60.07965},"
    "{\"t\":60,\"v\":20.3},{\"u\":\"lon\",\"t\":60,\"v\":24.30622},"
    "{\"u\":\"lat\",\"t\":60,\"v\":60.07965},{\"t\":120,\"v\":20.7},"
    "{\"u\":\"lon\",\"t\":120,\"v\":24.30623},{\"u\":\"lat\",\"t\":120,\"v\":60.07966},"
    "{\"u\":\"%EL\",\"t\":150,\"v\":98},{\"t\":180,\"v\":21.2},"
    "{\"u\":\"lon\",\"t\":180,\"v\":24.30628},{\"u\":\"lat\",\"t\":180,\"v\":60.07967}]";

#define R514(u, t, v)                                                                              \
    "{\"n\":\"urn:dev:ow:10e2073a01080063\",\"u\":\"" u "\",\"t\":" t ",\"v\":" v "}"
static const char *const ex_5_1_4 =
    "[" R514("%RH", "1.320067464e+09", "20") "," R514("lon", "1.320067464e+09", "24.30621") "," R514("lat", "1.320067464e+09", "60.07965") "," R514("%RH", "1.320067524e+09", "20.3") "," R514(
        "lon", "1.320067524e+09",
        "24.30622") "," R514("lat", "1.320067524e+09",
                             "60.07965") "," R514("%RH", "1.320067584e+09",
                                                  "20.7") "," R514("lon", "1.320067584e+09",
                                                                   "24.30623") "," R514("lat",
                                                                                        "1."
                                                                                        "320067584e"
                                                                                        "+09",
                                                                                        "60.07966") "," R514("%EL",
                                                                                                             "1.320067614e+09",
                                                                                                             "98") "," R514("%RH",
                                                                                                                            "1.320067644e+09",
                                                                                                                            "21.2") "," R514("lon",
                                                                                                                                             "1.320067644e+09",
                                                                                                                                             "24.30628") "," R514("lat",
                                                                                                                                                                  "1.320067644e+09",
                                                                                                                                                                  "60.07967") "]";

/* §5.1.4 is §5.1.3 resolved: resolving either gives the same records. */
static void check_resolves_to_5_1_4(const inlet_value *pack, const inlet_value *resolved_pack)
{
    inlet_senml_record *got, *want;
    size_t n_got, n_want;

    CHECK(pack && inlet_senml_resolve_records(&arena, pack, RECEIVED_US, &got, &n_got, &err) == 0);
    CHECK(resolved_pack && inlet_senml_resolve_records(&arena, resolved_pack, RECEIVED_US, &want,
                                                       &n_want, &err) == 0);
    CHECK(pack && resolved_pack && n_got == 13 && n_want == 13);
    if (!pack || !resolved_pack || n_got != 13 || n_want != 13)
        return;
    for (size_t i = 0; i < 13; i++) {
        CHECK_STR(got[i].name, want[i].name);
        CHECK_STR(got[i].unit, want[i].unit);
        CHECK(near(got[i].time_s, want[i].time_s));
        CHECK(inlet_value_equal(&got[i].value, &want[i].value));
        CHECK(!got[i].is_sum);
    }
    CHECK_STR(got[9].unit, "%EL");
    CHECK(near(got[9].time_s, 1.320067614e+09));
    CHECK(inlet_value_number(&got[9].value) == 98);
    CHECK(got[0].n_len == 0 && strcmp(got[0].name, "urn:dev:ow:10e2073a01080063") == 0);
}

static void test_5_1_3_multiple_measurements(void)
{
    check_resolves_to_5_1_4(pack_json(ex_5_1_3), pack_json(ex_5_1_4));
    check_resolves_to_5_1_4(pack_cbor(ex_5_1_3), pack_cbor(ex_5_1_4));
    /* Humidity, longitude and latitude share a time and the one name: one event cannot
     * hold three fields of the same name, so the pack is refused, naming the repeat. */
    CHECK(refused(pack_json(ex_5_1_3), "/1",
                  "record 1: field \"urn:dev:ow:10e2073a01080063\" is already set at this time "
                  "by record 0"));
    CHECK(refused(pack_cbor(ex_5_1_3), "/1", "record 1: field"));
}

static void test_5_1_4_resolved_data(void)
{
    inlet_senml_record *recs;
    size_t n;

    CHECK(inlet_senml_resolve_records(&arena, pack_json(ex_5_1_4), RECEIVED_US, &recs, &n, &err) ==
              0 &&
          n == 13);
    if (n == 13) {
        CHECK_STR(recs[12].name, "urn:dev:ow:10e2073a01080063");
        CHECK_STR(recs[12].unit, "lat");
        CHECK(near(recs[12].time_s, 1.320067644e+09)); /* absolute: at least 2^28 */
        CHECK(inlet_value_number(&recs[12].value) == 60.07967);
    }
    CHECK(refused(pack_json(ex_5_1_4), "/1", "is already set at this time by record 0"));
    CHECK(refused(pack_cbor(ex_5_1_4), "/1", "is already set at this time by record 0"));
}

static const char *const ex_5_1_5 =
    "[{\"bn\":\"urn:dev:ow:10e2073a01080063:\",\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1},"
    "{\"n\":\"label\",\"vs\":\"Machine Room\"},{\"n\":\"open\",\"vb\":false},"
    "{\"n\":\"nfv-reader\",\"vd\":\"aGkgCg\"}]";

static void check_5_1_5(const inlet_value *pack)
{
    const inlet_value *p;
    resolved r;

    CHECK(resolve(pack, &r) == 0 && r.n == 1);
    if (r.n != 1)
        return;
    p = r.ev[0].payload;
    CHECK(near(r.ev[0].time_s, RECEIVED_S));
    CHECK(p->n == 4);
    if (p->n != 4)
        return;
    CHECK(field_number(&r.ev[0], 0, "temp", 23.1, "Cel"));
    CHECK_STR(p->u.members[1].key, "label");
    CHECK(p->u.members[1].value.type == INLET_V_STRING);
    CHECK_STR(p->u.members[1].value.u.s, "Machine Room");
    CHECK_STR(p->u.members[2].key, "open");
    CHECK(p->u.members[2].value.type == INLET_V_FALSE);
    CHECK_STR(p->u.members[3].key, "nfv-reader");
    CHECK(p->u.members[3].value.type == INLET_V_BYTES && p->u.members[3].value.n == 4);
    CHECK(memcmp(p->u.members[3].value.u.s, "hi \n", 5) == 0);
    CHECK(r.ev[0].units[1] == NULL && r.ev[0].units[2] == NULL && r.ev[0].units[3] == NULL);
}

static void test_5_1_5_multiple_data_types(void)
{
    check_5_1_5(pack_json(ex_5_1_5));
    check_5_1_5(pack_cbor(ex_5_1_5)); /* vd as a CBOR byte string (§6) */
}

static const char *const ex_5_1_6 =
    "[{\"bn\":\"2001:db8::2/\",\"bt\":1.320078429e+09,\"n\":\"temperature\",\"u\":\"Cel\","
    "\"v\":25.2},{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":30},"
    "{\"bn\":\"2001:db8::1/\",\"n\":\"temperature\",\"u\":\"Cel\",\"v\":12.3},"
    "{\"n\":\"humidity\",\"u\":\"%RH\",\"v\":67}]";

static void check_5_1_6(const inlet_value *pack)
{
    static const char *const names[] = {"2001:db8::2/temperature", "2001:db8::2/humidity",
                                        "2001:db8::1/temperature", "2001:db8::1/humidity"};
    static const char *const units[] = {"Cel", "%RH", "Cel", "%RH"};
    static const double values[] = {25.2, 30, 12.3, 67};
    inlet_senml_record *recs;
    size_t n;

    CHECK(pack && inlet_senml_resolve_records(&arena, pack, RECEIVED_US, &recs, &n, &err) == 0);
    CHECK(pack && n == 4);
    if (!pack || n != 4)
        return;
    for (int i = 0; i < 4; i++) {
        CHECK_STR(recs[i].name, names[i]);
        CHECK_STR(recs[i].unit, units[i]);
        /* the last record keeps the base time of the first (§5.1.6) */
        CHECK(near(recs[i].time_s, 1.320078429e+09));
        CHECK(inlet_value_number(&recs[i].value) == values[i]);
    }
    /* Two base names, one time: one event per device, fields named as written. */
    inlet_senml_event *evs;
    size_t ne;
    CHECK(inlet_senml_resolve(&arena, pack, RECEIVED_US, &evs, &ne, &err) == 0);
    CHECK(ne == 2);
    if (ne != 2)
        return;
    for (int e = 0; e < 2; e++) {
        const inlet_value *p = evs[e].payload;
        CHECK(p->type == INLET_V_OBJECT && p->n == 2);
        CHECK(inlet_value_number(inlet_value_get(p, "temperature")) == values[2 * e]);
        CHECK(inlet_value_number(inlet_value_get(p, "humidity")) == values[2 * e + 1]);
        CHECK_STR(evs[e].units[0], "Cel");
        CHECK_STR(evs[e].units[1], "%RH");
    }
}

static void test_5_1_6_collection_of_resources(void)
{
    check_5_1_6(pack_json(ex_5_1_6));
    check_5_1_6(pack_cbor(ex_5_1_6));
}

static void test_5_1_7_actuators(void)
{
    const char *lights = "[{\"bt\":1.320078429e+09,\"bu\":\"/\",\"n\":\"2001:db8::3\",\"v\":0.5},"
                         "{\"n\":\"2001:db8::4\",\"v\":0.5},"
                         "{\"n\":\"2001:db8::3\",\"t\":0.1,\"v\":0},"
                         "{\"n\":\"2001:db8::4\",\"t\":0.1,\"v\":0}]";
    resolved r;

    CHECK(resolve(pack_json(lights), &r) == 0 && r.n == 2);
    if (r.n == 2) {
        CHECK(near(r.ev[0].time_s, 1.320078429e+09));
        CHECK(field_number(&r.ev[0], 0, "2001:db8::3", 0.5, "/"));
        CHECK(field_number(&r.ev[0], 1, "2001:db8::4", 0.5, "/"));
        CHECK(near(r.ev[1].time_s, 1.320078429e+09 + 0.1));
        CHECK(field_number(&r.ev[1], 1, "2001:db8::4", 0, "/"));
    }
    /* a record of base fields only has no value: refused (see docs/FORMATS-cbor-senml.md) */
    CHECK(refused(pack_json("[{\"bn\":\"urn:dev:ow:10e2073a01080063:\"},"
                            "{\"n\":\"temp\",\"u\":\"Cel\",\"v\":23.1}]"),
                  "/0", "record 0 has no value (v, vs, vb or vd) and no sum (s)"));
}

static void test_base_values(void)
{
    inlet_senml_record *recs;
    size_t n;

    /* bv added to v, bs to s; integers stay integers */
    CHECK(inlet_senml_resolve_records(
              &arena,
              pack_json("[{\"bn\":\"d:\",\"bv\":100,\"bs\":5,\"n\":\"a\",\"v\":5},"
                        "{\"n\":\"b\",\"v\":-1.5},{\"n\":\"c\",\"s\":10},"
                        "{\"bv\":0.25,\"n\":\"d\",\"v\":1},{\"n\":\"e\",\"vs\":\"x\"}]"),
              RECEIVED_US, &recs, &n, &err) == 0 &&
          n == 5);
    if (n != 5)
        return;
    CHECK(recs[0].value.type == INLET_V_INT && recs[0].value.u.i == 105);
    CHECK(recs[1].value.type == INLET_V_REAL && recs[1].value.u.r == 98.5);
    CHECK(recs[2].is_sum && recs[2].value.type == INLET_V_INT && recs[2].value.u.i == 15);
    CHECK(recs[3].value.type == INLET_V_REAL && recs[3].value.u.r == 1.25);
    CHECK(recs[4].value.type == INLET_V_STRING); /* bv applies to v only */
    /* no base value: the value is the record's own, raw span and all */
    CHECK(inlet_senml_resolve_records(&arena, pack_json("[{\"n\":\"a\",\"v\":7}]"), RECEIVED_US,
                                      &recs, &n, &err) == 0);
    CHECK(recs[0].value.type == INLET_V_INT && recs[0].value.u.i == 7);
    /* an integer sum that overflows int64 becomes a real */
    CHECK(inlet_senml_resolve_records(
              &arena, pack_json("[{\"bv\":9223372036854775807,\"n\":\"a\",\"v\":1}]"), RECEIVED_US,
              &recs, &n, &err) == 0);
    CHECK(recs[0].value.type == INLET_V_REAL && recs[0].value.u.r == 9223372036854775808.0);
    CHECK(refused(pack_json("[{\"bv\":1e308,\"n\":\"a\",\"v\":1e308}]"), "/0/v",
                  "record 0: v plus its base is out of range"));
}

static void test_names_and_units(void)
{
    inlet_senml_record *recs;
    size_t n;
    resolved r;

    /* bn and bu hold until a record sets them again; u overrides bu */
    CHECK(
        inlet_senml_resolve_records(
            &arena,
            pack_json("[{\"bn\":\"a:\",\"bu\":\"V\",\"n\":\"x\",\"v\":1},{\"n\":\"y\",\"u\":\"A\","
                      "\"v\":2},{\"bn\":\"b:\",\"n\":\"x\",\"v\":3},{\"bu\":\"W\",\"n\":\"z\","
                      "\"v\":4},{\"bn\":\"c\",\"v\":5}]"),
            RECEIVED_US, &recs, &n, &err) == 0 &&
        n == 5);
    if (n == 5) {
        CHECK_STR(recs[0].name, "a:x");
        CHECK_STR(recs[0].unit, "V");
        CHECK_STR(recs[1].name, "a:y");
        CHECK_STR(recs[1].unit, "A");
        CHECK_STR(recs[2].name, "b:x");
        CHECK_STR(recs[2].unit, "V");
        CHECK_STR(recs[3].unit, "W");
        CHECK_STR(recs[4].name, "c");
        CHECK(recs[4].n_len == 0);
    }
    /* with no unit anywhere, NULL; with no n, the field is the full name */
    CHECK(resolve(pack_json("[{\"bn\":\"dev1\",\"v\":1},{\"n\":\"dev2\",\"vb\":true}]"), &r) == 0);
    CHECK(r.n == 1 && r.ev[0].payload->n == 2);
    if (r.n == 1 && r.ev[0].payload->n == 2) {
        CHECK(field_number(&r.ev[0], 0, "dev1", 1, NULL));
        CHECK_STR(r.ev[0].payload->u.members[1].key, "dev2"); /* as written */
    }
    /* §4.5.1 */
    CHECK(refused(pack_json("[{\"v\":1}]"), "/0", "record 0 has no name"));
    CHECK(refused(pack_json("[{\"bn\":\"\",\"n\":\"\",\"v\":1}]"), "/0", "has no name"));
    CHECK(refused(pack_json("[{\"n\":\"a b\",\"v\":1}]"), "/0/n",
                  "record 0: name \"a b\" has a character RFC 8428 §4.5.1 does not allow"));
    CHECK(refused(pack_json("[{\"n\":\"-x\",\"v\":1}]"), "/0/n", "does not allow"));
    CHECK(refused(pack_json("[{\"n\":\"caf\\u00e9\",\"v\":1}]"), "/0/n", "does not allow"));
    CHECK(refused(pack_json("[{\"bn\":\"a b\",\"v\":1}]"), "/0", "does not allow"));
    CHECK(resolve(pack_json("[{\"bn\":\"urn:dev:ow:1/\",\"n\":\"-_.:/9\",\"v\":1}]"), &r) == 0);
}

static void test_times(void)
{
    inlet_senml_record *recs;
    size_t n;

    CHECK(inlet_senml_resolve_records(
              &arena,
              pack_json("[{\"n\":\"a\",\"t\":-5,\"v\":1},{\"n\":\"b\",\"bt\":100,\"t\":5,\"v\":1},"
                        "{\"n\":\"c\",\"bt\":268435456,\"v\":1},{\"n\":\"d\",\"bt\":268435455,"
                        "\"t\":1,\"v\":1},{\"n\":\"e\",\"bt\":268435455.5,\"v\":1},"
                        "{\"n\":\"f\",\"bt\":0,\"t\":1e9,\"v\":1}]"),
              RECEIVED_US, &recs, &n, &err) == 0 &&
          n == 6);
    if (n != 6)
        return;
    CHECK(near(recs[0].time_s, RECEIVED_S - 5)); /* relative: seconds before "now" */
    CHECK(near(recs[1].time_s, RECEIVED_S + 105));
    CHECK(near(recs[2].time_s, 268435456.0)); /* 2^28 is absolute */
    CHECK(near(recs[3].time_s, 268435456.0)); /* so is bt + t reaching it */
    CHECK(near(recs[4].time_s, RECEIVED_S + 268435455.5));
    CHECK(near(recs[5].time_s, 1e9));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"bt\":1e308,\"t\":1e308,\"v\":1}]"), "/0/t",
                  "record 0: its time is out of range"));
}

static void test_grouping(void)
{
    resolved r;

    /* events in the order of their first record, fields in record order */
    CHECK(resolve(pack_json("[{\"bt\":1.5e9,\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"t\":-1,\"v\":2},"
                            "{\"n\":\"c\",\"v\":3},{\"n\":\"b\",\"v\":4},"
                            "{\"n\":\"a\",\"t\":-1,\"v\":5}]"),
                  &r) == 0);
    CHECK(r.n == 2);
    if (r.n == 2) {
        CHECK(near(r.ev[0].time_s, 1.5e9) && r.ev[0].payload->n == 3);
        CHECK(field_number(&r.ev[0], 0, "a", 1, NULL));
        CHECK(field_number(&r.ev[0], 1, "c", 3, NULL));
        CHECK(field_number(&r.ev[0], 2, "b", 4, NULL));
        CHECK(near(r.ev[1].time_s, 1.5e9 - 1) && r.ev[1].payload->n == 2);
        CHECK(field_number(&r.ev[1], 0, "b", 2, NULL));
        CHECK(field_number(&r.ev[1], 1, "a", 5, NULL));
        CHECK(inlet_value_get(r.ev[1].payload, "a") == &r.ev[1].payload->u.members[1].value);
    }
    /* the same name at another time is another event; at the same time, refused */
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":2},{\"n\":\"b\",\"t\":0,"
                            "\"vs\":\"x\"},{\"n\":\"a\",\"v\":3}]"),
                  "/2", "record 2: field \"b\" is already set at this time by record 1"));
    /* a name as written may repeat when the base names differ only across times */
    CHECK(resolve(pack_json("[{\"bn\":\"x:\",\"n\":\"a\",\"v\":1},{\"bn\":\"y:\",\"n\":\"a\","
                            "\"t\":-1,\"v\":2}]"),
                  &r) == 0 &&
          r.n == 2);
    /* many records, one time each */
    {
        char text[64 * 1024] = "[";
        for (int i = 0; i < 1000; i++)
            snprintf(text + strlen(text), sizeof(text) - strlen(text),
                     "%s{\"n\":\"s\",\"t\":%d,\"v\":%d}", i ? "," : "", -i, i);
        strcat(text, "]");
        CHECK(resolve(pack_json(text), &r) == 0 && r.n == 1000);
        CHECK(r.n == 1000 && near(r.ev[999].time_s, RECEIVED_S - 999) &&
              r.ev[999].payload->u.members[0].value.u.i == 999);
    }
}

static void test_values(void)
{
    resolved r;

    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1,\"vs\":\"x\"}]"), "/0/vs",
                  "record 0 has more than one value field (v and vs)"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vb\":true,\"vd\":\"AA\"}]"), "/0/vd", "(vb and vd)"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1,\"s\":2}]"), "/0/s",
                  "record 0 has both v and a sum (s)"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"t\":1}]"), "/0", "has no value"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"bs\":1}]"), "/0", "has no value"));
    /* base64url, padding tolerated, leftover bits must be zero */
    CHECK(resolve(pack_json("[{\"n\":\"a\",\"vd\":\"aGkgCg==\"},{\"n\":\"b\",\"vd\":\"\"},"
                            "{\"n\":\"c\",\"vd\":\"-_8\"}]"),
                  &r) == 0 &&
          r.n == 1);
    if (r.n == 1 && r.ev[0].payload->n == 3) {
        const inlet_member *m = r.ev[0].payload->u.members;
        CHECK(m[0].value.n == 4 && memcmp(m[0].value.u.s, "hi \n", 4) == 0);
        CHECK(m[1].value.type == INLET_V_BYTES && m[1].value.n == 0);
        CHECK(m[2].value.n == 2 && memcmp(m[2].value.u.s, "\xfb\xff", 2) == 0);
    }
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vd\":\"a+b/\"}]"), "/0/vd",
                  "record 0: vd is not base64url"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vd\":\"aGkgCh\"}]"), "/0/vd", "not base64url"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vd\":\"a\"}]"), "/0/vd", "not base64url"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vd\":\"aGk=g\"}]"), "/0/vd", "not base64url"));
}

static void test_labels(void)
{
    resolved r;

    CHECK(
        refused(pack_json("[{\"n\":\"a\",\"v\":\"1\"}]"), "/0/v", "record 0: v must be a number"));
    CHECK(refused(pack_json("[{\"n\":1,\"v\":1}]"), "/0/n", "record 0: n must be a string"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vb\":1}]"), "/0/vb", "vb must be a boolean"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"vd\":1}]"), "/0/vd",
                  "vd must be a base64url string or a byte string"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"bt\":\"now\",\"v\":1}]"),
                  "/1/bt", "record 1: bt must be a number"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1,\"ut\":null}]"), "/0/ut", "ut must be"));
    /* unknown labels are ignored, unless they end in "_" (§4.4) */
    CHECK(resolve(pack_json("[{\"n\":\"a\",\"v\":1,\"foo\":[1],\"ut\":60}]"), &r) == 0);
    CHECK(r.n == 1 && r.ev[0].payload->n == 1);
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v\":1,\"ct_\":\"60\"}]"),
                  "/1/ct_", "record 1: label \"ct_\" must be understood (RFC 8428 §4.4)"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1,\"_\":1}]"), "/0/_", "must be understood"));
    /* either spelling is understood, both at once is refused */
    CHECK(refused(pack_json("[{\"n\":\"a\",\"0\":\"b\",\"v\":1}]"), "/0/0",
                  "record 0: n is given twice (as \"n\" and as \"0\")"));
    CHECK(resolve(pack_json("[{\"0\":\"a\",\"2\":1}]"), &r) == 0 && r.n == 1);
}

static void test_versions(void)
{
    resolved r;

    CHECK(resolve(pack_json("[{\"bver\":10,\"n\":\"a\",\"v\":1}]"), &r) == 0);
    CHECK(resolve(pack_json("[{\"bver\":1,\"n\":\"a\",\"v\":1},{\"bver\":1,\"n\":\"b\",\"v\":1}]"),
                  &r) == 0);
    CHECK(refused(pack_json("[{\"bver\":11,\"n\":\"a\",\"v\":1}]"), "/0/bver",
                  "record 0: bver 11 is newer than SenML version 10, which Inlet implements"));
    CHECK(refused(pack_json("[{\"bver\":0,\"n\":\"a\",\"v\":1}]"), "/0/bver",
                  "bver must be a positive integer"));
    CHECK(refused(pack_json("[{\"bver\":10.0,\"n\":\"a\",\"v\":1}]"), "/0/bver",
                  "bver must be a positive integer"));
    CHECK(refused(pack_json("[{\"bver\":\"10\",\"n\":\"a\",\"v\":1}]"), "/0/bver",
                  "bver must be a positive integer"));
    /* one pack, one version */
    CHECK(refused(pack_json("[{\"bver\":5,\"n\":\"a\",\"v\":1},{\"bver\":6,\"n\":\"b\",\"v\":1}]"),
                  "/1/bver", "record 1: bver 6 differs from version 5 of the records before it"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1},{\"bver\":5,\"n\":\"b\",\"v\":1}]"), "/1/bver",
                  "differs from version 10"));
}

static void test_pack_shape(void)
{
    inlet_value *v = NULL;
    resolved r;

    CHECK(refused(pack_json("{\"n\":\"a\",\"v\":1}"), "",
                  "a SenML pack is an array of records, not an object"));
    CHECK(refused(pack_json("[]"), "", "a SenML pack holds at least one record"));
    CHECK(refused(pack_json("[{\"n\":\"a\",\"v\":1},1]"), "/1",
                  "record 1 is a number, not an "
                  "object"));
    CHECK(refused(pack_json("[[]]"), "/0", "record 0 is an array"));
    /* CBOR: indefinite-length pack (SensML streams use one), byte-string vd, string labels */
    CHECK(inlet_cbor_decode(&arena, "\x9f\xa2\x00\x61\x78\x08\x42\x01\x02\xff", 10,
                            INLET_CBOR_INT_KEYS, &v, &err) == 0);
    CHECK(resolve(v, &r) == 0 && r.n == 1);
    if (r.n == 1) {
        CHECK(r.ev[0].payload->u.members[0].value.type == INLET_V_BYTES);
        CHECK(r.ev[0].payload->u.members[0].value.n == 2);
    }
    CHECK(inlet_cbor_decode(&arena, "\x81\xa2\x00\x61\x78\x63\x63\x74\x5f\x00", 10,
                            INLET_CBOR_INT_KEYS, &v, &err) == 0);
    CHECK(refused(v, "/0/ct_", "must be understood"));
    /* bver in CBOR: an unsigned integer (-1: 5) */
    CHECK(inlet_cbor_decode(&arena, "\x81\xa3\x20\x05\x00\x61\x78\x02\x01", 9, INLET_CBOR_INT_KEYS,
                            &v, &err) == 0);
    CHECK(resolve(v, &r) == 0 && r.n == 1);
    CHECK(inlet_cbor_decode(&arena, "\x81\xa3\x20\x0b\x00\x61\x78\x02\x01", 9, INLET_CBOR_INT_KEYS,
                            &v, &err) == 0);
    CHECK(refused(v, "/0/-1", "bver 11 is newer"));
}

int main(void)
{
    inlet_arena_init(&arena, 0);
    test_5_1_1_single_datapoint();
    test_5_1_2_multiple_datapoints();
    test_5_1_3_multiple_measurements();
    test_5_1_4_resolved_data();
    test_5_1_5_multiple_data_types();
    test_5_1_6_collection_of_resources();
    test_5_1_7_actuators();
    test_base_values();
    test_names_and_units();
    test_times();
    test_grouping();
    test_values();
    test_labels();
    test_versions();
    test_pack_shape();
    inlet_arena_fini(&arena);
    return check_done();
}
