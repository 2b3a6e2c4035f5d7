/* json_number.c - see json_number.h. */
#include "json_number.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "formats/json_write.h"

#define DIGITS_MAX   19                 /* any 19 decimal digits fit a uint64_t */
#define EXP_SATURATE ((int64_t)1 << 40) /* above any fraction length an input can have */

/* Clinger's fast path needs each double operation rounded once, to double. */
#if FLT_EVAL_METHOD == 0
#define FAST_PATH 1
#else
#define FAST_PATH 0
#endif

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* strtod reads '.' as the decimal point only in the C locale (jansson swaps in the locale's
 * point instead); a private C locale gives the same result without touching the process's. */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* The correctly rounded double of s[0..n) through strtod, as jansson's jsonp_strtod. */
static inlet_json_number_status real_strtod(inlet_arena *a, const char *s, size_t n, double *out)
{
    char small[64];
    char *copy = small;

    if (n >= sizeof(small)) {
        copy = inlet_arena_alloc(a, n + 1);
        if (!copy)
            return INLET_JSON_NUMBER_NOMEM;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    pthread_once(&c_locale_once, c_locale_init);
    errno = 0;
    double d = c_locale ? strtod_l(copy, NULL, c_locale) : strtod(copy, NULL);
    /* Underflow (ERANGE with 0 or a subnormal) is accepted, as jansson does. */
    if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
        return INLET_JSON_NUMBER_REAL_OVERFLOW;
    *out = d;
    return INLET_JSON_NUMBER_OK;
}

const char *inlet_json_number_parse(inlet_arena *a, const char *p, const char *end, inlet_value *v,
                                    inlet_json_number_status *status)
{
    const char *s = p;
    uint64_t w = 0; /* the first DIGITS_MAX significant digits */
    int nd = 0;     /* significant digits in w */
    int many = 0;   /* more significant digits than w holds */
    int neg = 0;

    *status = INLET_JSON_NUMBER_INVALID;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p == end || !is_digit(*p))
        return NULL;
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p))
            return NULL;
    } else {
        do {
            if (nd < DIGITS_MAX) {
                w = w * 10 + (uint64_t)(*p - '0');
                nd++;
            } else {
                many = 1;
            }
            p++;
        } while (p < end && is_digit(*p));
    }

    if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {
        /* strtoll: the magnitude of INT64_MIN is one more than INT64_MAX. */
        if (many || (nd == DIGITS_MAX && w > (uint64_t)INT64_MAX + (uint64_t)neg)) {
            *status = neg ? INLET_JSON_NUMBER_BIG_NEG_INT : INLET_JSON_NUMBER_BIG_INT;
            return NULL;
        }
        v->type = INLET_V_INT;
        v->u.i = neg && w ? -(int64_t)(w - 1) - 1 : (int64_t)w;
        v->canonical = !(neg && w == 0); /* "-0" is written "0" */
        goto done;
    }

    int64_t k = 0; /* fraction digits, leading zeros included */
    if (*p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return NULL;
        do {
            unsigned dig = (unsigned)(*p - '0');
            if (w || dig) {
                if (nd < DIGITS_MAX) {
                    w = w * 10 + dig;
                    nd++;
                } else {
                    many = 1;
                }
            }
            k++;
            p++;
        } while (p < end && is_digit(*p));
    }
    int64_t e = 0;
    int has_exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        has_exp = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == end || !is_digit(*p))
            return NULL;
        do {
            if (e < EXP_SATURATE)
                e = e * 10 + (*p - '0');
            p++;
        } while (p < end && is_digit(*p));
        if (eneg)
            e = -e;
    }

    double d;
    int64_t e10 = e - k;
    if (!many && w == 0) {
        d = neg ? -0.0 : 0.0;
    } else if (FAST_PATH && !many && w <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
        /* w and 10^|e10| are exact doubles: one correctly rounded operation, as strtod. */
        d = e10 < 0 ? (double)w / pow10_exact[-e10] : (double)w * pow10_exact[e10];
        if (neg)
            d = -d;
    } else {
        *status = real_strtod(a, s, (size_t)(p - s), &d);
        if (*status != INLET_JSON_NUMBER_OK)
            return NULL;
    }
    v->type = INLET_V_REAL;
    v->u.r = d;
    if (!has_exp && p[-1] == '0') {
        /* The writer never ends a fraction with 0 (3.0 is written 3). */
        v->canonical = 0;
    } else if (!has_exp && !many && nd <= 15 && k <= 9) {
        /* Decimals of at most 15 significant digits map to distinct doubles, so no shorter
         * decimal reads back to d and the writer's "m with k decimals" form is this text. */
        v->canonical = 1;
    } else {
        char text[40];
        size_t n = inlet_json_format_double(d, text);
        v->canonical = n == (size_t)(p - s) && memcmp(text, s, n) == 0;
    }

done:
    v->n = 0;
    v->raw = s;
    v->raw_len = (uint32_t)(p - s);
    *status = INLET_JSON_NUMBER_OK;
    return p;
}
