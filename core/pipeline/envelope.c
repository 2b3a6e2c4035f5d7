/* envelope.c - see envelope.h. */
#include "envelope.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "formats/value_write.h"

/* Resolve an RFC 6901 pointer below v; NULL if absent. */
static const inlet_value *pointer_get(const inlet_value *v, const char *ptr)
{
    char token[256];
    while (v && *ptr == '/') {
        ptr++;
        size_t n = 0;
        while (*ptr && *ptr != '/' && n < sizeof(token) - 1) {
            if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                token[n++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            } else {
                token[n++] = *ptr++;
            }
        }
        token[n] = '\0';
        if (v->type == INLET_V_OBJECT) {
            v = inlet_value_getn(v, token, n);
        } else if (v->type == INLET_V_ARRAY) {
            char *end;
            unsigned long i = strtoul(token, &end, 10);
            v = *token && !*end && i < v->n ? &v->u.items[i] : NULL;
        } else {
            v = NULL;
        }
    }
    return *ptr ? NULL : v;
}

static void put_field(inlet_buf *out, const char *name_colon, const char *s)
{
    inlet_buf_puts(out, name_colon);
    inlet_buf_json_string(out, s, strlen(s));
}

static const char *arena_copy(inlet_arena *a, inlet_buf *b, size_t *len)
{
    const char *s = b->failed ? NULL : inlet_arena_strndup(a, b->data, b->len);
    *len = b->len;
    inlet_buf_free(b);
    return s;
}

int inlet_envelope_frame_build(inlet_arena *a, inlet_envelope_frame *f, const inlet_identity *id,
                               const inlet_schema *schema, const char *received, const char *source)
{
    inlet_buf b;
    inlet_buf_init(&b, 256);
    put_field(&b, "{\"tenant\":", id->tenant);
    put_field(&b, ",\"device_id\":", id->device_id);
    inlet_buf_puts(&b, ",\"event_id\":\"");
    f->head = arena_copy(a, &b, &f->head_len);
    inlet_buf_init(&b, 256);
    put_field(&b, "\",\"received_at\":", received);
    put_field(&b, ",\"schema\":", inlet_schema_name(schema));
    put_field(&b, ",\"schema_version\":", inlet_schema_version(schema));
    put_field(&b, ",\"source\":", source);
    inlet_buf_puts(&b, ",\"payload\":");
    /* mid starts inside the ts string: the ts value goes before it. */
    f->mid = arena_copy(a, &b, &f->mid_len);
    f->schema = schema;
    return f->head && f->mid ? 0 : -1;
}

int inlet_envelope_write(inlet_envelope *env, inlet_arena *a, inlet_buf *scratch,
                         const inlet_envelope_frame *f, const inlet_identity *id, const char *ts,
                         const inlet_value *payload)
{
    const inlet_schema *schema = f->schema;
    size_t eid_len = strlen(env->event_id), ts_len = strlen(ts);
    inlet_buf *o = scratch;
    o->len = 0;
    if (inlet_buf_reserve(o, f->head_len + eid_len + 8 + ts_len + f->mid_len + 64 +
                                 (payload->raw ? payload->raw_len + payload->raw_len / 4 : 256)) !=
        0)
        return -1;
#define out (*o)
    inlet_buf_append(&out, f->head, f->head_len);
    inlet_buf_append(&out, env->event_id, eid_len);
    inlet_buf_append(&out, "\",\"ts\":\"", 8);
    inlet_buf_append(&out, ts, ts_len);
    inlet_buf_append(&out, f->mid, f->mid_len);
    inlet_value_write_json(&out, payload);
    inlet_buf_putc(&out, '}');
    size_t value_len = out.len;
    inlet_buf_putc(&out, '\0');

    /* The key follows the envelope in the same allocation. */
    const char *ptr = inlet_schema_key_pointer(schema);
    const inlet_value *kv = NULL;
    if (ptr && strncmp(ptr, "/payload", 8) == 0 && (ptr[8] == '/' || ptr[8] == '\0'))
        kv = pointer_get(payload, ptr + 8);
    size_t key_at = out.len;
    if (kv && kv->type == INLET_V_STRING)
        inlet_buf_append(&out, kv->u.s, kv->n);
    else if (kv && kv->type == INLET_V_INT)
        inlet_buf_printf(&out, "%" PRId64, kv->u.i);
    else
        inlet_buf_puts(&out, id->device_id);
#undef out
    size_t key_len = o->len - key_at;
    char *block = o->failed ? NULL : inlet_arena_alloc(a, o->len + 1);
    if (!block)
        return -1;
    memcpy(block, o->data, o->len + 1);
    env->value = block;
    env->value_len = value_len;
    env->key = block + key_at;
    env->key_len = key_len;
    return 0;
}
