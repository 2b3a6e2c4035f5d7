/*
 * config_marks.c - what a whole-directory check needs beyond one error: the line of every key an
 * apply set (by the address of the field it filled, so later checks on the filled struct can
 * still point at the file), and the list of every error found in a run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

typedef struct mark {
    const void *field;
    int kind; /* 0: a key that set a value; 1: a container (section, list item, file) */
    int line;
} mark;

struct inlet_conf_marks {
    char *path;
    mark *v;
    size_t n, cap;
    bool sorted;
};

struct inlet_conf_errors {
    char **v;
    size_t n, cap;
};

inlet_conf_marks *inlet_conf_marks_new(const char *path)
{
    inlet_conf_marks *m = calloc(1, sizeof(*m));
    if (m && !(m->path = strdup(path ? path : "?"))) {
        free(m);
        return NULL;
    }
    return m;
}

void inlet_conf_marks_free(inlet_conf_marks *m)
{
    if (!m)
        return;
    free(m->v);
    free(m->path);
    free(m);
}

const char *inlet_conf_marks_path(const inlet_conf_marks *m)
{
    return m ? m->path : "?";
}

void inlet_conf_marks_add(inlet_conf_marks *m, const void *field, int kind, int line)
{
    if (!m || !field)
        return;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        mark *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return; /* a missing mark costs a line number in a message, nothing else */
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = (mark){field, kind, line};
    m->sorted = false;
}

static int mark_cmp(const void *a, const void *b)
{
    const mark *x = a, *y = b;
    if (x->field != y->field)
        return (uintptr_t)x->field < (uintptr_t)y->field ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* A struct and its first field share an address: the kind tells the two marks apart. */
static int marks_find(const inlet_conf_marks *cm, const void *field, int kind)
{
    inlet_conf_marks *m = (inlet_conf_marks *)cm; /* sorting on first lookup is not a change */
    size_t lo = 0, hi;

    if (!m || !field || m->n == 0)
        return 0;
    if (!m->sorted) {
        qsort(m->v, m->n, sizeof(*m->v), mark_cmp);
        m->sorted = true;
    }
    hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const mark *x = &m->v[mid];
        if ((uintptr_t)x->field < (uintptr_t)field || (x->field == field && x->kind < kind))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->v[lo].field == field && m->v[lo].kind == kind ? m->v[lo].line : 0;
}

int inlet_conf_marks_line(const inlet_conf_marks *m, const void *field)
{
    return marks_find(m, field, INLET_CONF_MARK_KEY);
}

int inlet_conf_marks_item_line(const inlet_conf_marks *m, const void *item)
{
    return marks_find(m, item, INLET_CONF_MARK_ITEM);
}

inlet_conf_errors *inlet_conf_errors_new(void)
{
    return calloc(1, sizeof(inlet_conf_errors));
}

void inlet_conf_errors_free(inlet_conf_errors *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    free(e);
}

void inlet_conf_errors_add(inlet_conf_errors *e, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    char *s;

    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        char **v = realloc(e->v, cap * sizeof(*v));
        if (!v)
            return;
        e->v = v;
        e->cap = cap;
    }
    if ((s = strdup(buf)))
        e->v[e->n++] = s;
}

size_t inlet_conf_errors_count(const inlet_conf_errors *e)
{
    return e ? e->n : 0;
}

const char *inlet_conf_errors_get(const inlet_conf_errors *e, size_t i)
{
    return e && i < e->n ? e->v[i] : NULL;
}

void inlet_conf_errors_join(const inlet_conf_errors *e, char *out, size_t out_len)
{
    size_t used = 0;

    if (!out || out_len == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; e && i < e->n && used + 1 < out_len; i++) {
        int w = snprintf(out + used, out_len - used, "%s%s", i ? "\n" : "", e->v[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
