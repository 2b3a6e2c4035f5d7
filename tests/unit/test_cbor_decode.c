/* test_cbor_decode.c - CBOR (RFC 8949) into inlet_value: every mapping, every refusal, and the
 * examples of RFC 8949 Appendix A that have a JSON equivalent. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "formats/formats.h"

static inlet_arena arena;
static inlet_format_error err;
static unsigned char buf[1 << 16];

/* Hex digits (spaces allowed) into buf; returns the length. */
static size_t unhex(const char *hex)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int c = *hex, v;
        if (c == ' ')
            continue;
        v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        if (hi < 0) {
            hi = v;
        } else {
            buf[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static inlet_value *decode(const char *hex, unsigned flags)
{
    inlet_value *v = NULL;
    size_t n = unhex(hex);

    if (inlet_cbor_decode(&arena, buf, n, flags, &v, &err) != 0)
        return NULL;
    return v;
}

/* Same types (INT is not REAL here), same values, same member order. */
static int strict_equal(const inlet_value *a, const inlet_value *b)
{
    if (a->type != b->type || a->n != b->n)
        return 0;
    switch (a->type) {
    case INLET_V_INT:
        return a->u.i == b->u.i;
    case INLET_V_REAL:
        return memcmp(&a->u.r, &b->u.r, sizeof(double)) == 0;
    case INLET_V_STRING:
    case INLET_V_BYTES:
        return memcmp(a->u.s, b->u.s, a->n) == 0 && a->u.s[a->n] == '\0';
    case INLET_V_ARRAY:
        for (uint32_t i = 0; i < a->n; i++)
            if (!strict_equal(&a->u.items[i], &b->u.items[i]))
                return 0;
        return 1;
    case INLET_V_OBJECT:
        for (uint32_t i = 0; i < a->n; i++) {
            const inlet_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                x->key[x->key_len] != '\0' || !strict_equal(&x->value, &y->value))
                return 0;
        }
        return 1;
    default:
        return 1;
    }
}

/* hex decodes to what the JSON text says, types and order included. */
static int decodes_to(const char *hex, unsigned flags, const char *json)
{
    json_error_t jerr;
    json_t *j = json_loads(json, JSON_DECODE_ANY, &jerr);
    inlet_value *want, *got;
    int ok;

    if (!j) {
        fprintf(stderr, "bad expected JSON %s: %s\n", json, jerr.text);
        return 0;
    }
    want = inlet_value_from_json(&arena, j);
    json_decref(j);
    got = decode(hex, flags);
    if (!got) {
        fprintf(stderr, "%s: refused: %s\n", hex, err.message);
        return 0;
    }
    ok = strict_equal(got, want) && inlet_value_equal(got, want);
    if (!ok) {
        json_t *g = inlet_value_to_json(got);
        char *s = g ? json_dumps(g, JSON_ENCODE_ANY) : NULL;
        fprintf(stderr, "%s: got %s, expected %s\n", hex, s ? s : "?", json);
        free(s);
        json_decref(g);
    }
    return ok;
}

/* hex is refused at offset with a message containing needle. */
static int refused(const char *hex, unsigned flags, size_t offset, const char *needle)
{
    if (decode(hex, flags)) {
        fprintf(stderr, "%s: accepted, expected a refusal with \"%s\"\n", hex, needle);
        return 0;
    }
    if (err.offset != offset || !strstr(err.message, needle)) {
        fprintf(stderr, "%s: refused at %zu with \"%s\", expected %zu and \"%s\"\n", hex,
                err.offset, err.message, offset, needle);
        return 0;
    }
    return 1;
}

static int decodes_to_real(const char *hex, double want)
{
    inlet_value *v = decode(hex, 0);
    if (!v) {
        fprintf(stderr, "%s: refused: %s\n", hex, err.message);
        return 0;
    }
    if (v->type != INLET_V_REAL || memcmp(&v->u.r, &want, sizeof(want)) != 0) {
        fprintf(stderr, "%s: got type %d value %.17g, expected %.17g\n", hex, v->type,
                v->type == INLET_V_REAL ? v->u.r : 0.0, want);
        return 0;
    }
    return 1;
}

static void test_appendix_a_integers(void)
{
    CHECK(decodes_to("00", 0, "0"));
    CHECK(decodes_to("01", 0, "1"));
    CHECK(decodes_to("0a", 0, "10"));
    CHECK(decodes_to("17", 0, "23"));
    CHECK(decodes_to("1818", 0, "24"));
    CHECK(decodes_to("1819", 0, "25"));
    CHECK(decodes_to("1864", 0, "100"));
    CHECK(decodes_to("1903e8", 0, "1000"));
    CHECK(decodes_to("1a000f4240", 0, "1000000"));
    CHECK(decodes_to("1b000000e8d4a51000", 0, "1000000000000"));
    CHECK(decodes_to("20", 0, "-1"));
    CHECK(decodes_to("29", 0, "-10"));
    CHECK(decodes_to("3863", 0, "-100"));
    CHECK(decodes_to("3903e7", 0, "-1000"));
    /* int64 is the range; beyond it, refused (Appendix A's 2^64-1 and -2^64 among them) */
    CHECK(decodes_to("1b7fffffffffffffff", 0, "9223372036854775807"));
    CHECK(decodes_to("3b7fffffffffffffff", 0, "-9223372036854775808"));
    CHECK(refused("1b8000000000000000", 0, 0, "integer 9223372036854775808 at byte 0 is outside"));
    CHECK(refused("1bffffffffffffffff", 0, 0, "integer 18446744073709551615 at byte 0 is outside"));
    CHECK(refused("3b8000000000000000", 0, 0, "integer -9223372036854775809"));
    CHECK(refused("3bffffffffffffffff", 0, 0, "integer -18446744073709551616 at byte 0"));
    CHECK(refused("c249010000000000000000", 0, 0, "bignum (tag 2) at byte 0 is outside int64"));
    CHECK(refused("c349010000000000000000", 0, 0, "bignum (tag 3)"));
    /* non-preferred (longer) encodings are well-formed and mean the same */
    CHECK(decodes_to("1b0000000000000001", 0, "1"));
    CHECK(decodes_to("3900ff", 0, "-256"));
}

static void test_appendix_a_floats(void)
{
    CHECK(decodes_to_real("f90000", 0.0));
    CHECK(decodes_to_real("f98000", -0.0));
    CHECK(decodes_to_real("f93c00", 1.0));
    CHECK(decodes_to_real("fb3ff199999999999a", 1.1));
    CHECK(decodes_to_real("f93e00", 1.5));
    CHECK(decodes_to_real("f97bff", 65504.0));
    CHECK(decodes_to_real("fa47c35000", 100000.0));
    CHECK(decodes_to_real("fa7f7fffff", 3.4028234663852886e+38));
    CHECK(decodes_to_real("fb7e37e43c8800759c", 1.0e+300));
    CHECK(decodes_to_real("f90001", 5.960464477539063e-8)); /* smallest half subnormal */
    CHECK(decodes_to_real("f90400", 0.00006103515625));
    CHECK(decodes_to_real("f9c400", -4.0));
    CHECK(decodes_to_real("fbc010666666666666", -4.1));
    CHECK(decodes_to_real("f903ff", 6.097555160522461e-05)); /* largest half subnormal */
    /* A float that holds an integer stays a real: the schema sees what the sender wrote. */
    CHECK(decodes_to("f94000", 0, "2.0"));
    /* no JSON number for these */
    CHECK(refused("f97c00", 0, 0, "a CBOR infinity at byte 0 has no JSON equivalent"));
    CHECK(refused("f97e00", 0, 0, "a CBOR NaN at byte 0 has no JSON equivalent"));
    CHECK(refused("f9fc00", 0, 0, "a CBOR negative infinity"));
    CHECK(refused("fa7f800000", 0, 0, "infinity"));
    CHECK(refused("fa7fc00000", 0, 0, "NaN"));
    CHECK(refused("faff800000", 0, 0, "negative infinity"));
    CHECK(refused("fb7ff0000000000000", 0, 0, "infinity"));
    CHECK(refused("fb7ff8000000000000", 0, 0, "NaN"));
    CHECK(refused("fbfff0000000000000", 0, 0, "negative infinity"));
    CHECK(refused("f97e01", 0, 0, "NaN")); /* a NaN with a payload */
}

static void test_appendix_a_simple(void)
{
    CHECK(decodes_to("f4", 0, "false"));
    CHECK(decodes_to("f5", 0, "true"));
    CHECK(decodes_to("f6", 0, "null"));
    CHECK(refused("f7", 0, 0, "a CBOR undefined at byte 0 has no JSON equivalent"));
    CHECK(refused("f0", 0, 0, "a CBOR simple value (16) at byte 0 has no JSON equivalent"));
    CHECK(refused("f8ff", 0, 0, "a CBOR simple value (255)"));
    CHECK(refused("e0", 0, 0, "simple value (0)"));
    CHECK(refused("f3", 0, 0, "simple value (19)"));
    CHECK(refused("f820", 0, 0, "simple value (32)"));
    /* §3.3: the two-byte form of a value below 32 is not well-formed */
    CHECK(refused("f818", 0, 0, "below 32"));
    CHECK(refused("f8", 0, 0, "CBOR ends"));
}

static void test_appendix_a_tags(void)
{
    CHECK(
        decodes_to("c074323031332d30332d32315432303a30343a30305a", 0, "\"2013-03-21T20:04:00Z\""));
    CHECK(decodes_to("c11a514b67b0", 0, "1363896240"));
    CHECK(decodes_to("c1fb41d452d9ec200000", 0, "1363896240.5"));
    CHECK(refused("d74401020304", 0, 0, "unknown tag 23 at byte 0"));
    CHECK(refused("d818456449455446", 0, 0, "unknown tag 24 at byte 0"));
    CHECK(refused("d82076687474703a2f2f7777772e6578616d706c652e636f6d", 0, 0, "unknown tag 32"));
    CHECK(refused("d82560", 0, 0, "unknown tag 37"));
    CHECK(refused("c6f6", 0, 0, "unknown tag 6")); /* libcbor refuses 6-20 itself */
    CHECK(refused("d4f6", 0, 0, "unknown tag 20"));
    CHECK(refused("db000000010000000000", 0, 0, "unknown tag 4294967296"));
    CHECK(refused("8201d9ffff00", 0, 2, "unknown tag 65535 at byte 2"));
    CHECK(strcmp(err.pointer, "/1") == 0);
}

static void test_tag_content(void)
{
    /* 0: an RFC 3339 date-time, kept as text (indefinite-length text too) */
    CHECK(decodes_to("c07f6a323031332d30332d32316a5432303a30343a30305aff", 0,
                     "\"2013-03-21T20:04:00Z\""));
    CHECK(refused("c001", 0, 1,
                  "tag 0 at byte 0 (date-time) must enclose a text string, not an "
                  "integer"));
    CHECK(refused("c06a323031332d30332d3231", 0, 0,
                  "tag 0 (date-time) at byte 0 holds \"2013-03-21\", which is not an RFC 3339"));
    /* 1: a number, kept as the number */
    CHECK(decodes_to("c120", 0, "-1"));
    CHECK(decodes_to("c1f93e00", 0, "1.5"));
    CHECK(refused("c16161", 0, 1,
                  "tag 1 at byte 0 (epoch time) must enclose a number, not a "
                  "text string"));
    CHECK(refused("c1f97e00", 0, 1, "NaN"));
    CHECK(refused("c11bffffffffffffffff", 0, 1, "outside int64"));
    /* 4: [exponent, mantissa] → the nearest double */
    CHECK(decodes_to_real("c48221196ab3", 273.15));
    CHECK(decodes_to_real("c4822003", 0.3));
    CHECK(decodes_to_real("c4820105", 50.0));
    CHECK(decodes_to_real("c4820020", -1.0));
    CHECK(decodes_to_real("c4823bffffffffffffffff01", 0.0)); /* 1e-18446744073709551616 */
    CHECK(decodes_to_real("c49f2103ff", 0.03));
    CHECK(decodes_to_real("c482201b7fffffffffffffff", 922337203685477580.7));
    CHECK(refused("c4821a7fffffff01", 0, 0,
                  "decimal fraction (tag 4) at byte 0 is outside the "
                  "range of a double"));
    CHECK(refused("c48101", 0, 0, "must be an array of two integers, not of 1"));
    CHECK(refused("c483010203", 0, 0, "not of 3"));
    CHECK(refused("c482f93c0001", 0, 2, "must hold two integers; byte 2 is a float"));
    CHECK(refused("c48221c249010000000000000000", 0, 3, "bignum mantissa (tag 2)"));
    CHECK(refused("c49f210304ff", 0, 4, "must be an array of two integers"));
    CHECK(refused("c4a0", 0, 1,
                  "tag 4 at byte 0 (decimal fraction) must enclose an array of two "
                  "integers, not a map"));
    /* 55799: self-described CBOR, skipped wherever it is */
    CHECK(decodes_to("d9d9f783010203", 0, "[1,2,3]"));
    CHECK(decodes_to("d9d9f7d9d9f701", 0, "1"));
    CHECK(decodes_to("81d9d9f7c1d9d9f705", 0, "[5]"));
    CHECK(refused("d9d9f7", 0, 3, "CBOR ends at byte 3 before a data item"));
    /* a tag inside a tag Inlet understands */
    CHECK(refused("c1c001", 0, 1, "tag 1 at byte 0 (epoch time) must enclose a number, not tag 0"));
    CHECK(refused("c1c2420100", 0, 1, "not tag 2"));
    CHECK(refused("9fc1ff", 0, 2, "tag at byte 1 has no content before the break"));
    CHECK(refused("c1", 0, 1, "before the content of the tag at byte 0"));
}

static void test_appendix_a_strings(void)
{
    inlet_value *v;

    v = decode("40", 0);
    CHECK(v && v->type == INLET_V_BYTES && v->n == 0 && v->u.s && v->u.s[0] == '\0');
    v = decode("4401020304", 0);
    CHECK(v && v->type == INLET_V_BYTES && v->n == 4 && memcmp(v->u.s, "\1\2\3\4", 5) == 0);
    v = decode("5f42010243030405ff", 0);
    CHECK(v && v->type == INLET_V_BYTES && v->n == 5 && memcmp(v->u.s, "\1\2\3\4\5", 6) == 0);
    v = decode("5fff", 0);
    CHECK(v && v->type == INLET_V_BYTES && v->n == 0);
    v = decode("4300ff00", 0); /* bytes may hold anything, NUL included */
    CHECK(v && v->type == INLET_V_BYTES && v->n == 3 && v->u.s[1] == '\xff');

    CHECK(decodes_to("60", 0, "\"\""));
    CHECK(decodes_to("6161", 0, "\"a\""));
    CHECK(decodes_to("6449455446", 0, "\"IETF\""));
    CHECK(decodes_to("62225c", 0, "\"\\\"\\\\\""));
    CHECK(decodes_to("62c3bc", 0, "\"\\u00fc\""));
    CHECK(decodes_to("63e6b0b4", 0, "\"\\u6c34\""));
    CHECK(decodes_to("64f0908591", 0, "\"\\ud800\\udd51\""));
    CHECK(decodes_to("7f657374726561646d696e67ff", 0, "\"streaming\""));
    CHECK(decodes_to("7fff", 0, "\"\""));
    CHECK(decodes_to("7f6060ff", 0, "\"\""));
}

static void test_text_refusals(void)
{
    CHECK(refused("61ff", 0, 0, "text string at byte 0 is not valid UTF-8 (byte 1)"));
    CHECK(refused("62c0af", 0, 0, "not valid UTF-8"));     /* overlong '/' */
    CHECK(refused("63e08080", 0, 0, "not valid UTF-8"));   /* overlong NUL */
    CHECK(refused("63eda080", 0, 0, "not valid UTF-8"));   /* surrogate U+D800 */
    CHECK(refused("64f4908080", 0, 0, "not valid UTF-8")); /* above U+10FFFF */
    CHECK(refused("62e6b0", 0, 0, "not valid UTF-8"));     /* cut short */
    CHECK(refused("6180", 0, 0, "not valid UTF-8"));       /* lone continuation byte */
    CHECK(refused("8261616263c3", 0, 3, "text string at byte 3 is not valid UTF-8 (byte 5)"));
    /* §3.2.3: a character cannot be split across chunks */
    CHECK(refused("7f61c361bcff", 0, 1, "text string at byte 1 is not valid UTF-8"));
    CHECK(refused("6100", 0, 0, "text string at byte 0 contains NUL"));
    CHECK(refused("a16100f6", 0, 1, "contains NUL")); /* in a key too */
    /* chunks: definite strings of the same major type only */
    CHECK(refused("5f4101616100ff", 0, 3,
                  "chunk at byte 3 of the indefinite-length byte string "
                  "at byte 0 is a text string"));
    CHECK(refused("7f7f6161ffff", 0, 1, "is a text string, not a definite-length"));
    CHECK(refused("5f01ff", 0, 1, "is an integer"));
    CHECK(refused("7f6161", 0, 3, "CBOR ends"));
}

static void test_appendix_a_containers(void)
{
    CHECK(decodes_to("80", 0, "[]"));
    CHECK(decodes_to("83010203", 0, "[1,2,3]"));
    CHECK(decodes_to("8301820203820405", 0, "[1,[2,3],[4,5]]"));
    CHECK(decodes_to("98190102030405060708090a0b0c0d0e0f101112131415161718181819", 0,
                     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]"));
    CHECK(decodes_to("a0", 0, "{}"));
    CHECK(refused("a201020304", 0, 1,
                  "map key at byte 1 is an integer; only text keys map onto "
                  "JSON"));
    CHECK(decodes_to("a201020304", INLET_CBOR_INT_KEYS, "{\"1\":2,\"3\":4}"));
    CHECK(decodes_to("a26161016162820203", 0, "{\"a\":1,\"b\":[2,3]}"));
    CHECK(decodes_to("826161a161626163", 0, "[\"a\",{\"b\":\"c\"}]"));
    CHECK(decodes_to("a56161614161626142616361436164614461656145", 0,
                     "{\"a\":\"A\",\"b\":\"B\",\"c\":\"C\",\"d\":\"D\",\"e\":\"E\"}"));
    /* indefinite lengths */
    CHECK(decodes_to("9fff", 0, "[]"));
    CHECK(decodes_to("9f018202039f0405ffff", 0, "[1,[2,3],[4,5]]"));
    CHECK(decodes_to("9f01820203820405ff", 0, "[1,[2,3],[4,5]]"));
    CHECK(decodes_to("83018202039f0405ff", 0, "[1,[2,3],[4,5]]"));
    CHECK(decodes_to("83019f0203ff820405", 0, "[1,[2,3],[4,5]]"));
    CHECK(decodes_to("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", 0,
                     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25]"));
    CHECK(decodes_to("bf61610161629f0203ffff", 0, "{\"a\":1,\"b\":[2,3]}"));
    CHECK(decodes_to("826161bf61626163ff", 0, "[\"a\",{\"b\":\"c\"}]"));
    CHECK(decodes_to("bf6346756ef563416d7421ff", 0, "{\"Fun\":true,\"Amt\":-2}"));
    CHECK(decodes_to("bfff", 0, "{}"));
}

static void test_document_order(void)
{
    /* {"z": 1, "a": 2, "m": [3]} keeps its order, elements contiguous */
    inlet_value *v = decode("a3617a01616102616d8103", 0);

    CHECK(v && v->type == INLET_V_OBJECT && v->n == 3);
    if (!v || v->n != 3)
        return;
    CHECK(strcmp(v->u.members[0].key, "z") == 0 && v->u.members[0].key_len == 1);
    CHECK(strcmp(v->u.members[1].key, "a") == 0);
    CHECK(strcmp(v->u.members[2].key, "m") == 0);
    CHECK(v->u.members[2].value.type == INLET_V_ARRAY && v->u.members[2].value.n == 1);
    CHECK(v->raw == NULL && v->canonical == 0);
    CHECK(inlet_value_get(v, "a") == &v->u.members[1].value);

    /* an indefinite map that grows past its first allocation stays in order */
    char hex[1024] = "bf";
    for (int i = 0; i < 40; i++)
        snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "62%02x%02x%02x", 'a' + i / 26,
                 'a' + i % 26, i < 24 ? i : 0);
    strcat(hex, "ff");
    v = decode(hex, 0);
    CHECK(v && v->type == INLET_V_OBJECT && v->n == 40);
    if (v && v->n == 40) {
        CHECK(strcmp(v->u.members[0].key, "aa") == 0);
        CHECK(strcmp(v->u.members[27].key, "bb") == 0);
        CHECK(strcmp(v->u.members[39].key, "bn") == 0);
        CHECK(v->u.members[5].value.u.i == 5);
    }
}

static void test_keys(void)
{
    /* the brief's example: an integer key at byte 17 */
    CHECK(refused("a26e3132333435363738393031323334010102", 0, 17,
                  "map key at byte 17 is an integer; only text keys map onto JSON"));
    CHECK(refused("a1f93c0001", 0, 1, "map key at byte 1 is a float"));
    CHECK(refused("a1410001", 0, 1, "is a byte string"));
    CHECK(refused("a18001", 0, 1, "is an array"));
    CHECK(refused("a1a00001", 0, 1, "is a map"));
    CHECK(refused("a1f501", 0, 1, "is a boolean"));
    CHECK(refused("a1f601", 0, 1, "is null"));
    CHECK(refused("a1f701", 0, 1, "is undefined"));
    CHECK(refused("a1c482010101", 0, 2, "map key at byte 2 is a decimal fraction"));
    CHECK(refused("a1f93c0001", INLET_CBOR_INT_KEYS, 1,
                  "is a float; only text keys and integer keys are allowed here"));
    /* integer keys, when allowed, become their decimal text, whatever their size */
    CHECK(decodes_to("a12001", INLET_CBOR_INT_KEYS, "{\"-1\":1}"));
    CHECK(
        decodes_to("a13bffffffffffffffff01", INLET_CBOR_INT_KEYS, "{\"-18446744073709551616\":1}"));
    CHECK(
        decodes_to("a11bffffffffffffffff01", INLET_CBOR_INT_KEYS, "{\"18446744073709551615\":1}"));
    CHECK(decodes_to("a2216161006162", INLET_CBOR_INT_KEYS, "{\"-2\":\"a\",\"0\":\"b\"}"));
    /* tagged keys: the tag's rule applies, then the key rule */
    CHECK(decodes_to("a1c074323031332d30332d32315432303a30343a30305a01", 0,
                     "{\"2013-03-21T20:04:00Z\":1}"));
    CHECK(refused("a1c06178f6", 0, 1, "not an RFC 3339 date-time"));
    CHECK(refused("a1c10501", 0, 2, "map key at byte 2 is an integer"));
    CHECK(decodes_to("a1c10501", INLET_CBOR_INT_KEYS, "{\"5\":1}"));
    CHECK(decodes_to("a1d9d9f7616101", 0, "{\"a\":1}"));
    CHECK(decodes_to("a17f6161ff01", 0, "{\"a\":1}"));
}

static void test_duplicates(void)
{
    char hex[512];

    CHECK(refused("a2616101616102", 0, 4, "duplicate map key \"a\" at byte 4 (first at byte 1)"));
    CHECK(refused("bf616101616102ff", 0, 4, "duplicate map key \"a\""));
    CHECK(refused("a3616101616202616103", 0, 7, "first at byte 1"));
    /* an integer key and its text collide */
    CHECK(refused("a20101613102", INLET_CBOR_INT_KEYS, 3, "duplicate map key \"1\""));
    /* same bytes, different lengths are different keys */
    CHECK(decodes_to("a26161016261610f", 0, "{\"a\":1,\"aa\":15}"));
    CHECK(decodes_to("a2600162616102", 0, "{\"\":1,\"aa\":2}"));
    /* in a map past the pairwise threshold the first repeat in document order is named */
    strcpy(hex, "b819");
    for (int i = 0; i < 25; i++) {
        int k = i == 20 ? 3 : i == 22 ? 1 : i; /* repeats of key 3 (byte 76) and key 1 */
        snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "6261%02x00", 'a' + k);
    }
    CHECK(refused(hex, 0, 2 + 20 * 4, "duplicate map key \"ad\" at byte 82 (first at byte 14)"));
    /* the refusal points at the map */
    CHECK(refused("a1616182a2616201616201", 0, 8, "duplicate map key \"b\""));
    CHECK(strcmp(err.pointer, "/a/0") == 0);
}

static void test_depth(void)
{
    static char hex[2 * 2050 + 8];
    size_t i;

    /* 2048 levels, as jansson (JSON_PARSER_MAX_DEPTH) allows */
    for (i = 0; i < 2047; i++)
        memcpy(hex + 2 * i, "81", 2);
    memcpy(hex + 2 * i, "80", 3);
    CHECK(decode(hex, 0) != NULL);
    for (i = 0; i < 2048; i++)
        memcpy(hex + 2 * i, "81", 2);
    memcpy(hex + 2 * i, "80", 3);
    CHECK(refused(hex, 0, 2048, "array at byte 2048 nests deeper than 2048 levels"));
    for (i = 0; i < 2049; i++)
        memcpy(hex + 2 * i, "9f", 2);
    hex[2 * i] = '\0';
    CHECK(refused(hex, 0, 2048, "nests deeper than 2048 levels"));
    for (i = 0; i < 2049; i++)
        memcpy(hex + 2 * i, "a1", 2);
    hex[2 * i] = '\0';
    CHECK(refused(hex, INLET_CBOR_INT_KEYS, 1, "map key at byte 1 is a map"));
}

static void test_malformed(void)
{
    CHECK(refused("", 0, 0, "empty input"));
    CHECK(refused("1c", 0, 0, "malformed CBOR at byte 0: additional information 28 is reserved"));
    CHECK(refused("3d", 0, 0, "additional information 29 is reserved"));
    CHECK(refused("5e", 0, 0, "additional information 30"));
    CHECK(refused("7c", 0, 0, "reserved"));
    CHECK(refused("9c", 0, 0, "reserved"));
    CHECK(refused("bc", 0, 0, "reserved"));
    CHECK(refused("dc", 0, 0, "reserved"));
    CHECK(refused("fc", 0, 0, "reserved"));
    CHECK(refused("811f", 0, 1, "malformed CBOR at byte 1: indefinite length is not allowed"));
    CHECK(refused("3f", 0, 0, "indefinite length is not allowed"));
    CHECK(refused("df", 0, 0, "indefinite length is not allowed"));
    CHECK(refused("ff", 0, 0, "unexpected break (0xff) at byte 0"));
    CHECK(refused("81ff", 0, 1, "unexpected break"));
    CHECK(refused("bf6161ff", 0, 3, "map at byte 0 ends at byte 3 after a key with no value"));
    CHECK(refused("0000", 0, 1, "trailing bytes after the CBOR data item, from byte 1"));
    CHECK(refused("8001", 0, 1, "trailing bytes"));
    CHECK(refused("1a0001", 0, 0, "CBOR ends at byte 3, inside the data item at byte 0"));
    CHECK(refused("9f0102", 0, 3, "CBOR ends at byte 3 inside the array that starts at byte 0"));
    CHECK(refused("830102", 0, 0, "array at byte 0 declares 3 items but only 2 bytes follow"));
    CHECK(refused("bf6161", 0, 3, "inside the map that starts at byte 0"));
    CHECK(refused("a16161", 0, 3, "CBOR ends at byte 3 inside the map"));
    CHECK(refused("9f01", 0, 2, "inside the array"));
    CHECK(refused("9affffffff00", 0, 0,
                  "array at byte 0 declares 4294967295 items but only 1 "
                  "bytes follow"));
    CHECK(refused("a30102", 0, 0, "map at byte 0 declares 3 pairs but only 2 bytes follow"));
    CHECK(refused("5bffffffffffffffff00", 0, 0, "CBOR ends"));
    CHECK(refused("7bffffffffffffffff00", 0, 0, "CBOR ends"));
    CHECK(refused("9bffffffffffffffff00", 0, 0, "declares 18446744073709551615 items"));
    CHECK(refused("65616263", 0, 0, "CBOR ends at byte 4, inside the data item at byte 0"));
}

static void test_pointers(void)
{
    /* [1, {"a": [undefined]}] */
    CHECK(refused("8201a1616181f7", 0, 6, "undefined"));
    CHECK(strcmp(err.pointer, "/1/a/0") == 0);
    /* {"a/b": {"~": NaN}} */
    CHECK(refused("a163612f62a1617ef97e00", 0, 8, "NaN"));
    CHECK(strcmp(err.pointer, "/a~1b/~0") == 0);
    /* a key problem points at its map */
    CHECK(refused("81a1f601", 0, 2, "is null"));
    CHECK(strcmp(err.pointer, "/0") == 0);
    /* malformed input has no pointer */
    CHECK(refused("81bf", 0, 2, "CBOR ends at byte 2 inside the map that starts at byte 1"));
    CHECK(err.pointer[0] == '\0');
}

static void test_arena_limit(void)
{
    inlet_arena small;
    inlet_value *v = NULL;
    size_t n = unhex("9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff");

    inlet_arena_init(&small, 64);
    CHECK(inlet_cbor_decode(&small, buf, n, 0, &v, &err) == -1);
    CHECK(v == NULL);
    CHECK_CONTAINS(err.message, "out of memory");
    inlet_arena_fini(&small);
}

int main(void)
{
    inlet_arena_init(&arena, 0);
    test_appendix_a_integers();
    test_appendix_a_floats();
    test_appendix_a_simple();
    test_appendix_a_tags();
    test_tag_content();
    test_appendix_a_strings();
    test_text_refusals();
    test_appendix_a_containers();
    test_document_order();
    test_keys();
    test_duplicates();
    test_depth();
    test_malformed();
    test_pointers();
    test_arena_limit();
    inlet_arena_fini(&arena);
    return check_done();
}
