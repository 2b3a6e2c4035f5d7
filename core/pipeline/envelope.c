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

int inlet_envelope_write(inlet_envelope *env, const inlet_schema *schema,
                         const inlet_envelope_fields *f)
{
    const inlet_identity *id = f->id;
    inlet_buf out;
    inlet_buf_init(&out, 384 + (f->payload->raw ? f->payload->raw_len : 128));
    put_field(&out, "{\"tenant\":", id->tenant);
    put_field(&out, ",\"device_id\":", id->device_id);
    put_field(&out, ",\"event_id\":", f->event_id);
    put_field(&out, ",\"ts\":", f->ts);
    put_field(&out, ",\"received_at\":", f->received);
    put_field(&out, ",\"schema\":", inlet_schema_name(schema));
    put_field(&out, ",\"schema_version\":", inlet_schema_version(schema));
    put_field(&out, ",\"source\":", f->source);
    inlet_buf_puts(&out, ",\"payload\":");
    inlet_value_write_json(&out, f->payload);
    inlet_buf_putc(&out, '}');
    size_t value_len = out.len;
    inlet_buf_putc(&out, '\0');

    /* The key follows the envelope in the same allocation. */
    const char *ptr = inlet_schema_key_pointer(schema);
    const inlet_value *kv = NULL;
    if (ptr && strncmp(ptr, "/payload", 8) == 0 && (ptr[8] == '/' || ptr[8] == '\0'))
        kv = pointer_get(f->payload, ptr + 8);
    size_t key_at = out.len;
    if (kv && kv->type == INLET_V_STRING)
        inlet_buf_append(&out, kv->u.s, kv->n);
    else if (kv && kv->type == INLET_V_INT)
        inlet_buf_printf(&out, "%" PRId64, kv->u.i);
    else
        inlet_buf_puts(&out, id->device_id);
    size_t key_len = out.len - key_at;
    size_t total;
    env->value = inlet_buf_steal(&out, &total);
    if (!env->value)
        return -1;
    env->value_len = value_len;
    env->key = env->value + key_at;
    env->key_len = key_len;
    return 0;
}
