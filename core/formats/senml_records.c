/*
 * senml_records.c - see senml_records.h.
 *
 * Base fields apply to their own record and every later one until a record sets that base
 * field again (RFC 8428 §4); each record is resolved against the base values in force then.
 */
#include "formats/senml_records.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SENML_VERSION  10          /* §4.1: the version this implements, and the default */
#define RELATIVE_LIMIT 268435456.0 /* 2^28, §4.5.3: a time below it is relative to "now" */

enum label {
    L_BVER,
    L_BN,
    L_BT,
    L_BU,
    L_BV,
    L_BS,
    L_N,
    L_U,
    L_V,
    L_VS,
    L_VB,
    L_S,
    L_T,
    L_UT,
    L_VD
};
#define N_LABELS (L_VD + 1)

enum label_type { T_STRING, T_NUMBER, T_BOOLEAN, T_DATA, T_VERSION };

/* §4.3 Table 1 (JSON labels) and §6 Table 4 (CBOR labels, as the CBOR decoder writes them). */
static const struct label_def {
    const char *json, *cbor;
    enum label_type type;
} labels[N_LABELS] = {
    [L_BVER] = {"bver", "-1", T_VERSION}, [L_BN] = {"bn", "-2", T_STRING},
    [L_BT] = {"bt", "-3", T_NUMBER},      [L_BU] = {"bu", "-4", T_STRING},
    [L_BV] = {"bv", "-5", T_NUMBER},      [L_BS] = {"bs", "-6", T_NUMBER},
    [L_N] = {"n", "0", T_STRING},         [L_U] = {"u", "1", T_STRING},
    [L_V] = {"v", "2", T_NUMBER},         [L_VS] = {"vs", "3", T_STRING},
    [L_VB] = {"vb", "4", T_BOOLEAN},      [L_S] = {"s", "5", T_NUMBER},
    [L_T] = {"t", "6", T_NUMBER},         [L_UT] = {"ut", "7", T_NUMBER},
    [L_VD] = {"vd", "8", T_DATA},
};

static const char *const type_names[] = {
    [T_STRING] = "a string",
    [T_NUMBER] = "a number",
    [T_BOOLEAN] = "a boolean",
    [T_DATA] = "a base64url string or a byte string",
    [T_VERSION] = "a positive integer",
};

/* The base values in force for the record being resolved. */
typedef struct base {
    const inlet_value *bn, *bu, *bv, *bs;
    double bt;
    int64_t version;
} base;

typedef struct resolver {
    inlet_arena *a;
    inlet_format_error *err;
    uint32_t index; /* record being resolved */
    const inlet_member *field[N_LABELS];
} resolver;

/* err->pointer is "/index" or "/index/key" (RFC 6901 escapes), "" if it does not fit. */
static void set_pointer(resolver *r, const inlet_member *m)
{
    char *p = r->err->pointer;
    size_t cap = sizeof(r->err->pointer);
    size_t o = (size_t)snprintf(p, cap, "/%" PRIu32, r->index);

    if (!m)
        return;
    if (o + 1 >= cap)
        goto too_long;
    p[o++] = '/';
    for (uint32_t i = 0; i < m->key_len; i++) {
        if (o + 2 >= cap)
            goto too_long;
        if (m->key[i] == '~' || m->key[i] == '/') {
            p[o++] = '~';
            p[o++] = m->key[i] == '~' ? '0' : '1';
        } else {
            p[o++] = m->key[i];
        }
    }
    p[o] = '\0';
    return;
too_long:
    p[0] = '\0';
}

/* Refuse record r->index; m is the member at fault or NULL for the whole record. */
static int fail(resolver *r, const inlet_member *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(resolver *r, const inlet_member *m, const char *fmt, ...)
{
    va_list ap;

    r->err->offset = 0;
    set_pointer(r, m);
    va_start(ap, fmt);
    vsnprintf(r->err->message, sizeof(r->err->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* Text for a message: quoted, at most 60 bytes, cut at a UTF-8 character boundary. */
static void quote(const char *s, size_t n, char out[72])
{
    int cut = 0;

    if (n > 60) {
        n = 60;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        cut = 1;
    }
    snprintf(out, 72, "\"%.*s%s\"", (int)n, s, cut ? "..." : "");
}

static int find_label(const inlet_member *m)
{
    for (int i = 0; i < N_LABELS; i++)
        if (strcmp(m->key, labels[i].json) == 0 || strcmp(m->key, labels[i].cbor) == 0)
            return i;
    return -1;
}

static int type_ok(enum label_type t, const inlet_value *v)
{
    switch (t) {
    case T_STRING:
        return v->type == INLET_V_STRING;
    case T_NUMBER:
        return inlet_value_is_number(v);
    case T_BOOLEAN:
        return v->type == INLET_V_TRUE || v->type == INLET_V_FALSE;
    case T_DATA:
        return v->type == INLET_V_STRING || v->type == INLET_V_BYTES;
    case T_VERSION:
        return v->type == INLET_V_INT && v->u.i > 0;
    }
    return 0;
}

/* Sort the record's members into r->field by label; refuse what must be understood. */
static int collect_fields(resolver *r, const inlet_value *rec)
{
    memset(r->field, 0, sizeof(r->field));
    for (uint32_t i = 0; i < rec->n; i++) {
        const inlet_member *m = &rec->u.members[i];
        int l = find_label(m);
        char key[72];

        if (l < 0) {
            /* §4.4: unknown labels are ignored, unless they end in "_" */
            if (m->key_len > 0 && m->key[m->key_len - 1] == '_') {
                quote(m->key, m->key_len, key);
                return fail(r, m,
                            "record %" PRIu32 ": label %s must be understood (RFC 8428 §4.4) "
                            "and Inlet does not know it",
                            r->index, key);
            }
            continue;
        }
        if (r->field[l])
            return fail(r, m, "record %" PRIu32 ": %s is given twice (as \"%s\" and as \"%s\")",
                        r->index, labels[l].json, r->field[l]->key, m->key);
        if (!type_ok(labels[l].type, &m->value))
            return fail(r, m, "record %" PRIu32 ": %s must be %s", r->index, labels[l].json,
                        type_names[labels[l].type]);
        r->field[l] = m;
    }
    return 0;
}

static int update_base(resolver *r, base *b)
{
    const inlet_member *ver = r->field[L_BVER];

    if (ver) {
        int64_t v = ver->value.u.i;
        /* §4.4: a version newer than ours MUST NOT be used; one pack has one version */
        if (v > SENML_VERSION)
            return fail(r, ver,
                        "record %" PRIu32 ": bver %" PRId64
                        " is newer than SenML version %d, which Inlet implements (RFC 8428 §4.4)",
                        r->index, v, SENML_VERSION);
        if (r->index > 0 && v != b->version)
            return fail(r, ver,
                        "record %" PRIu32 ": bver %" PRId64 " differs from version %" PRId64
                        " of the records before it; a pack has one version (RFC 8428 §4.4)",
                        r->index, v, b->version);
        b->version = v;
    }
    if (r->field[L_BN])
        b->bn = &r->field[L_BN]->value;
    if (r->field[L_BT])
        b->bt = inlet_value_number(&r->field[L_BT]->value);
    if (r->field[L_BU])
        b->bu = &r->field[L_BU]->value;
    if (r->field[L_BV])
        b->bv = &r->field[L_BV]->value;
    if (r->field[L_BS])
        b->bs = &r->field[L_BS]->value;
    return 0;
}

/* §4.5.1: letters, digits, "-", ":", ".", "/" and "_", starting with a letter or digit. */
static int name_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || !strchr("-:./_", c) || c == '\0'))
            return 0;
    }
    return n > 0;
}

static int resolve_name(resolver *r, const base *b, inlet_senml_record *out)
{
    const inlet_value *n = r->field[L_N] ? &r->field[L_N]->value : NULL;
    size_t bn_len = b->bn ? b->bn->n : 0, n_len = n ? n->n : 0;
    char text[72];

    out->n = n ? n->u.s : "";
    out->n_len = (uint32_t)n_len;
    if (!b->bn) {
        out->name = out->n;
    } else if (!n_len) {
        out->name = b->bn->u.s;
    } else {
        char *name = inlet_arena_alloc(r->a, bn_len + n_len + 1);
        if (!name)
            return fail(r, NULL, "out of memory resolving SenML record %" PRIu32, r->index);
        memcpy(name, b->bn->u.s, bn_len);
        memcpy(name + bn_len, n->u.s, n_len);
        name[bn_len + n_len] = '\0';
        out->name = name;
    }
    out->name_len = (uint32_t)(bn_len + n_len);
    if (out->name_len == 0)
        return fail(r, NULL, "record %" PRIu32 " has no name: neither n nor a base name (bn)",
                    r->index);
    if (!name_ok(out->name, out->name_len)) {
        quote(out->name, out->name_len, text);
        return fail(r, r->field[L_N],
                    "record %" PRIu32 ": name %s has a character RFC 8428 §4.5.1 does not "
                    "allow (letters, digits, - : . / _ only, starting with a letter or digit)",
                    r->index, text);
    }
    return 0;
}

/* v plus base value, s plus base sum (§4.5.4): integers stay integers while they fit. */
static int add_base(resolver *r, const inlet_member *m, const inlet_value *base_value,
                    inlet_value *out)
{
    const inlet_value *v = &m->value;
    int64_t sum;

    *out = *v;
    if (!base_value)
        return 0;
    memset(out, 0, sizeof(*out));
    if (v->type == INLET_V_INT && base_value->type == INLET_V_INT &&
        !__builtin_add_overflow(v->u.i, base_value->u.i, &sum)) {
        out->type = INLET_V_INT;
        out->u.i = sum;
        return 0;
    }
    out->type = INLET_V_REAL;
    out->u.r = inlet_value_number(v) + inlet_value_number(base_value);
    if (!isfinite(out->u.r))
        return fail(r, m, "record %" PRIu32 ": %s plus its base is out of range", r->index,
                    labels[find_label(m)].json);
    return 0;
}

static int b64url_digit(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* RFC 4648 §5 base64url; padding is omitted in SenML (§4.3) but tolerated when correct.
 * Leftover bits must be zero (§3.5), so every data value has one spelling. */
static int decode_b64url(resolver *r, const inlet_member *m, inlet_value *out)
{
    const unsigned char *s = (const unsigned char *)m->value.u.s;
    size_t n = m->value.n, o = 0;
    unsigned acc = 0, bits = 0;
    char *bytes;

    if (n % 4 == 0 && n >= 4 && s[n - 1] == '=')
        n -= s[n - 2] == '=' ? 2 : 1;
    if (n % 4 == 1)
        goto bad;
    bytes = inlet_arena_alloc(r->a, n / 4 * 3 + 3);
    if (!bytes)
        return fail(r, m, "out of memory resolving SenML record %" PRIu32, r->index);
    for (size_t i = 0; i < n; i++) {
        int d = b64url_digit(s[i]);
        if (d < 0)
            goto bad;
        acc = (acc << 6 | (unsigned)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bytes[o++] = (char)(acc >> bits & 0xff);
        }
    }
    if (acc & ((1u << bits) - 1))
        goto bad;
    bytes[o] = '\0';
    memset(out, 0, sizeof(*out));
    out->type = INLET_V_BYTES;
    out->n = (uint32_t)o;
    out->u.s = bytes;
    return 0;
bad:
    return fail(r, m, "record %" PRIu32 ": vd is not base64url (RFC 4648 §5)", r->index);
}

static int resolve_value(resolver *r, const base *b, inlet_senml_record *out)
{
    static const enum label value_labels[] = {L_V, L_VS, L_VB, L_VD};
    const inlet_member *value = NULL, *sum = r->field[L_S];

    for (size_t i = 0; i < sizeof(value_labels) / sizeof(value_labels[0]); i++) {
        const inlet_member *m = r->field[value_labels[i]];
        if (!m)
            continue;
        if (value)
            return fail(r, m, "record %" PRIu32 " has more than one value field (%s and %s)",
                        r->index, labels[find_label(value)].json, labels[value_labels[i]].json);
        value = m;
    }
    /* §4.2 allows a sum beside a value, but an event field holds one of them: refused. */
    if (value && sum)
        return fail(r, sum,
                    "record %" PRIu32 " has both %s and a sum (s); Inlet maps one value per "
                    "record",
                    r->index, labels[find_label(value)].json);
    if (!value && !sum)
        return fail(r, NULL, "record %" PRIu32 " has no value (v, vs, vb or vd) and no sum (s)",
                    r->index);
    if (sum) {
        out->is_sum = 1;
        return add_base(r, sum, b->bs, &out->value);
    }
    if (find_label(value) == L_V)
        return add_base(r, value, b->bv, &out->value);
    /* JSON carries a data value as base64url text, CBOR as a byte string (§6) */
    if (find_label(value) == L_VD && value->value.type == INLET_V_STRING)
        return decode_b64url(r, value, &out->value);
    out->value = value->value;
    return 0;
}

static int resolve_time(resolver *r, const base *b, int64_t received_at_us, inlet_senml_record *out)
{
    const inlet_member *t = r->field[L_T];
    double time = b->bt + (t ? inlet_value_number(&t->value) : 0.0);

    /* §4.5.3: missing times are zero; a sum below 2^28 counts from "now", the receipt */
    if (time < RELATIVE_LIMIT)
        time += (double)received_at_us / 1e6;
    if (!isfinite(time))
        return fail(r, t, "record %" PRIu32 ": its time is out of range", r->index);
    out->time_s = time;
    return 0;
}

static const char *type_name(const inlet_value *v)
{
    switch (v->type) {
    case INLET_V_NULL:
        return "null";
    case INLET_V_FALSE:
    case INLET_V_TRUE:
        return "a boolean";
    case INLET_V_INT:
    case INLET_V_REAL:
        return "a number";
    case INLET_V_STRING:
        return "a string";
    case INLET_V_BYTES:
        return "a byte string";
    case INLET_V_ARRAY:
        return "an array";
    default:
        return "an object";
    }
}

int inlet_senml_resolve_records(inlet_arena *a, const inlet_value *pack, int64_t received_at_us,
                                inlet_senml_record **records, size_t *n_records,
                                inlet_format_error *err)
{
    resolver r = {.a = a, .err = err};
    base b = {.version = SENML_VERSION};
    inlet_senml_record *out;

    memset(err, 0, sizeof(*err));
    *records = NULL;
    *n_records = 0;
    if (pack->type != INLET_V_ARRAY) {
        snprintf(err->message, sizeof(err->message),
                 "a SenML pack is an array of records, not %s (RFC 8428 §4)", type_name(pack));
        return -1;
    }
    if (pack->n == 0) {
        snprintf(err->message, sizeof(err->message),
                 "a SenML pack holds at least one record (RFC 8428 §3)");
        return -1;
    }
    out = inlet_arena_calloc(a, sizeof(*out) * pack->n);
    if (!out) {
        snprintf(err->message, sizeof(err->message), "out of memory resolving SenML");
        return -1;
    }
    for (r.index = 0; r.index < pack->n; r.index++) {
        const inlet_value *rec = &pack->u.items[r.index];
        inlet_senml_record *o = &out[r.index];

        if (rec->type != INLET_V_OBJECT)
            return fail(&r, NULL, "record %" PRIu32 " is %s, not an object", r.index,
                        type_name(rec));
        o->index = r.index;
        if (collect_fields(&r, rec) != 0 || update_base(&r, &b) != 0 ||
            resolve_name(&r, &b, o) != 0 || resolve_value(&r, &b, o) != 0 ||
            resolve_time(&r, &b, received_at_us, o) != 0)
            return -1;
        o->unit = r.field[L_U] ? r.field[L_U]->value.u.s : b.bu ? b.bu->u.s : NULL;
    }
    *records = out;
    *n_records = pack->n;
    return 0;
}
