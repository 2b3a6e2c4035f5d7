/* json_write.c - see json_write.h. */
#include "json_write.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t inlet_json_format_double(double d, char *out)
{
    /* JSON has no NaN or infinity; jansson never produces them from parsing. */
    if (!isfinite(d)) {
        memcpy(out, "null", 5);
        return 4;
    }
    /* Fast path for the numbers devices send (coordinates, speeds): if d * 10^k is an integer m
     * below 2^53 and m / 10^k gives d back, then "m with k decimals" reads back to d (IEEE
     * division is correctly rounded, like strtod), and the smallest such k is the shortest. */
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    for (int k = 0; k < 10 && fabs(d) < 1e15; k++) {
        double m = nearbyint(d * pow10[k]);
        if (fabs(m) >= 9007199254740992.0 || m / pow10[k] != d)
            continue;
        char digits[24];
        long long v = llabs((long long)m);
        int nd = 0;
        do {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v > 0 || nd <= k);
        size_t o = 0;
        if (m < 0 || (m == 0 && signbit(d)))
            out[o++] = '-';
        for (int i = nd - 1; i >= 0; i--) {
            out[o++] = digits[i];
            if (i == k && k > 0)
                out[o++] = '.';
        }
        out[o] = '\0';
        return o;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, 32, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    /* Keep it a real: 3.0 would otherwise print as "3" (still valid JSON, and equal to 3 under
     * JSON Schema's number rules), which is what we want: the canonical text of the number. */
    return (size_t)n;
}

void inlet_json_write(inlet_buf *b, const json_t *v)
{
    char num[40];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        inlet_buf_putc(b, '{');
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first)
                inlet_buf_putc(b, ',');
            first = 0;
            inlet_buf_json_string(b, key, strlen(key));
            inlet_buf_putc(b, ':');
            inlet_json_write(b, val);
        }
        inlet_buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        inlet_buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                inlet_buf_putc(b, ',');
            inlet_json_write(b, json_array_get(v, i));
        }
        inlet_buf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        inlet_buf_json_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        inlet_buf_append(b, num, (size_t)n);
        break;
    }
    case JSON_REAL:
        inlet_buf_append(b, num, inlet_json_format_double(json_real_value(v), num));
        break;
    case JSON_TRUE:
        inlet_buf_append(b, "true", 4);
        break;
    case JSON_FALSE:
        inlet_buf_append(b, "false", 5);
        break;
    case JSON_NULL:
        inlet_buf_append(b, "null", 4);
        break;
    }
}
