/* value_write.c - see value_write.h. */
#include "value_write.h"

#include <stdint.h>

#include "formats/json_write.h"

/* %lld, without printf's cost. */
static void write_int(inlet_buf *b, int64_t i)
{
    char text[24];
    char *e = text + sizeof(text), *s = e;
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;

    do {
        *--s = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0)
        *--s = '-';
    inlet_buf_append(b, s, (size_t)(e - s));
}

/* RFC 4648 §5 alphabet, no padding: the form value.c's inlet_value_to_json gives BYTES. */
static void write_base64url(inlet_buf *b, const unsigned char *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char out[256];
    size_t o = 0, i = 0;

    inlet_buf_putc(b, '"');
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
        if (o == sizeof(out)) {
            inlet_buf_append(b, out, o);
            o = 0;
        }
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
    inlet_buf_append(b, out, o);
    inlet_buf_putc(b, '"');
}

void inlet_value_write_json(inlet_buf *b, const inlet_value *v)
{
    char num[40];

    if (v->canonical && v->raw) {
        inlet_buf_append(b, v->raw, v->raw_len);
        return;
    }
    switch ((inlet_vtype)v->type) {
    case INLET_V_NULL:
        inlet_buf_append(b, "null", 4);
        break;
    case INLET_V_FALSE:
        inlet_buf_append(b, "false", 5);
        break;
    case INLET_V_TRUE:
        inlet_buf_append(b, "true", 4);
        break;
    case INLET_V_INT:
        write_int(b, v->u.i);
        break;
    case INLET_V_REAL:
        inlet_buf_append(b, num, inlet_json_format_double(v->u.r, num));
        break;
    case INLET_V_STRING:
        inlet_buf_json_string(b, v->u.s, v->n);
        break;
    case INLET_V_BYTES:
        write_base64url(b, (const unsigned char *)v->u.s, v->n);
        break;
    case INLET_V_ARRAY:
        inlet_buf_putc(b, '[');
        for (uint32_t i = 0; i < v->n; i++) {
            if (i)
                inlet_buf_putc(b, ',');
            inlet_value_write_json(b, &v->u.items[i]);
        }
        inlet_buf_putc(b, ']');
        break;
    case INLET_V_OBJECT:
        inlet_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->n; i++) {
            const inlet_member *m = &v->u.members[i];
            if (i)
                inlet_buf_putc(b, ',');
            inlet_buf_json_string(b, m->key, m->key_len);
            inlet_buf_putc(b, ':');
            inlet_value_write_json(b, &m->value);
        }
        inlet_buf_putc(b, '}');
        break;
    }
}
