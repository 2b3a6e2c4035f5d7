/* value.c - see value.h. */
#include "value.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const inlet_value *inlet_value_getn(const inlet_value *obj, const char *key, size_t key_len)
{
    if (!obj || obj->type != INLET_V_OBJECT)
        return NULL;
    for (uint32_t i = 0; i < obj->n; i++) {
        const inlet_member *m = &obj->u.members[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return &m->value;
    }
    return NULL;
}

const inlet_value *inlet_value_get(const inlet_value *obj, const char *key)
{
    return inlet_value_getn(obj, key, strlen(key));
}

static int from_json(inlet_arena *a, const json_t *j, inlet_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (json_typeof(j)) {
    case JSON_NULL:
        out->type = INLET_V_NULL;
        return 0;
    case JSON_TRUE:
        out->type = INLET_V_TRUE;
        return 0;
    case JSON_FALSE:
        out->type = INLET_V_FALSE;
        return 0;
    case JSON_INTEGER:
        out->type = INLET_V_INT;
        out->u.i = json_integer_value(j);
        return 0;
    case JSON_REAL:
        out->type = INLET_V_REAL;
        out->u.r = json_real_value(j);
        return 0;
    case JSON_STRING:
        out->type = INLET_V_STRING;
        out->n = (uint32_t)json_string_length(j);
        out->u.s = inlet_arena_strndup(a, json_string_value(j), out->n);
        return out->u.s ? 0 : -1;
    case JSON_ARRAY: {
        out->type = INLET_V_ARRAY;
        out->n = (uint32_t)json_array_size(j);
        out->u.items = inlet_arena_calloc(a, sizeof(inlet_value) * (out->n ? out->n : 1));
        if (!out->u.items)
            return -1;
        for (uint32_t i = 0; i < out->n; i++)
            if (from_json(a, json_array_get(j, i), &out->u.items[i]) != 0)
                return -1;
        return 0;
    }
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        uint32_t i = 0;
        out->type = INLET_V_OBJECT;
        out->n = (uint32_t)json_object_size(j);
        out->u.members = inlet_arena_calloc(a, sizeof(inlet_member) * (out->n ? out->n : 1));
        if (!out->u.members)
            return -1;
        json_object_foreach((json_t *)j, key, val)
        {
            inlet_member *m = &out->u.members[i++];
            m->key_len = (uint32_t)strlen(key);
            m->key = inlet_arena_strndup(a, key, m->key_len);
            if (!m->key || from_json(a, val, &m->value) != 0)
                return -1;
        }
        return 0;
    }
    }
    return -1;
}

inlet_value *inlet_value_from_json(inlet_arena *a, const json_t *j)
{
    inlet_value *v = inlet_arena_alloc(a, sizeof(*v));
    if (!v || !j || from_json(a, j, v) != 0)
        return NULL;
    return v;
}

static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
    }
    out[o] = '\0';
}

json_t *inlet_value_to_json(const inlet_value *v)
{
    switch ((inlet_vtype)v->type) {
    case INLET_V_NULL:
        return json_null();
    case INLET_V_FALSE:
        return json_false();
    case INLET_V_TRUE:
        return json_true();
    case INLET_V_INT:
        return json_integer(v->u.i);
    case INLET_V_REAL:
        return json_real(v->u.r);
    case INLET_V_STRING:
        return json_stringn_nocheck(v->u.s, v->n);
    case INLET_V_BYTES: {
        char *text = malloc((size_t)v->n / 3 * 4 + 8);
        if (!text)
            return NULL;
        base64url((const unsigned char *)v->u.s, v->n, text);
        json_t *s = json_string(text);
        free(text);
        return s;
    }
    case INLET_V_ARRAY: {
        json_t *arr = json_array();
        for (uint32_t i = 0; arr && i < v->n; i++)
            if (json_array_append_new(arr, inlet_value_to_json(&v->u.items[i])) != 0) {
                json_decref(arr);
                return NULL;
            }
        return arr;
    }
    case INLET_V_OBJECT: {
        json_t *obj = json_object();
        for (uint32_t i = 0; obj && i < v->n; i++) {
            const inlet_member *m = &v->u.members[i];
            if (json_object_setn_new_nocheck(obj, m->key, m->key_len,
                                             inlet_value_to_json(&m->value)) != 0) {
                json_decref(obj);
                return NULL;
            }
        }
        return obj;
    }
    }
    return NULL;
}

int inlet_value_equal(const inlet_value *a, const inlet_value *b)
{
    if (inlet_value_is_number(a) && inlet_value_is_number(b)) {
        if (a->type == INLET_V_INT && b->type == INLET_V_INT)
            return a->u.i == b->u.i;
        /* Compare exactly: an int64 and a double are equal only if the double is that integer. */
        long double x = a->type == INLET_V_INT ? (long double)a->u.i : (long double)a->u.r;
        long double y = b->type == INLET_V_INT ? (long double)b->u.i : (long double)b->u.r;
        return x == y;
    }
    if (a->type != b->type)
        return 0;
    switch ((inlet_vtype)a->type) {
    case INLET_V_NULL:
    case INLET_V_FALSE:
    case INLET_V_TRUE:
        return 1;
    case INLET_V_STRING:
    case INLET_V_BYTES:
        return a->n == b->n && memcmp(a->u.s, b->u.s, a->n) == 0;
    case INLET_V_ARRAY:
        if (a->n != b->n)
            return 0;
        for (uint32_t i = 0; i < a->n; i++)
            if (!inlet_value_equal(&a->u.items[i], &b->u.items[i]))
                return 0;
        return 1;
    case INLET_V_OBJECT:
        if (a->n != b->n)
            return 0;
        for (uint32_t i = 0; i < a->n; i++) {
            const inlet_member *m = &a->u.members[i];
            const inlet_value *o = inlet_value_getn(b, m->key, m->key_len);
            if (!o || !inlet_value_equal(&m->value, o))
                return 0;
        }
        return 1;
    default:
        return 0;
    }
}
