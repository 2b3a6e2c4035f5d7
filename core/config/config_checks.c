/*
 * config_checks.c - after a file applied: the ABI 1.5 per-option checks a module declares
 * (inlet_option_check), called once per occurrence of their key, and the line of a key named by
 * its dotted path, so that a message a module writes about "tls.cert" can point at that key.
 * Both walk the filled struct with the option table, and read lines from the marks apply left.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

static const inlet_option *option_named(const inlet_option *table, const char *name, size_t len)
{
    for (const inlet_option *o = table; o && o->name; o++)
        if (strlen(o->name) == len && memcmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

typedef struct check_walk {
    const inlet_option_check *check;
    const inlet_conf_marks *marks;
    inlet_conf_errors *errs;
    int failures;
    char path[INLET_CONF_PATH_MAX];
} check_walk;

static void check_fail(check_walk *w, int line, const char *msg)
{
    inlet_conf_errors_add(w->errs, "%s:%d: %s: %s", inlet_conf_marks_path(w->marks), line, w->path,
                          msg);
    w->failures++;
}

/* key is what is left of the check's key below obj (filled from table); item_line is the line of
 * obj, for an option the file left at its default. */
static void check_at(check_walk *w, const inlet_option *table, const void *obj, const char *key,
                     size_t plen, int item_line)
{
    const char *dot = strchr(key, '.');
    size_t len = dot ? (size_t)(dot - key) : strlen(key);
    const inlet_option *opt = option_named(table, key, len);
    const void *field;
    int line;

    plen = inlet_conf_path_key(w->path, plen, key, len);
    if (!opt) {
        check_fail(w, item_line, "the module's option checks name a key its table does not have");
        return;
    }
    field = (const char *)obj + opt->offset;
    if (!w->marks)
        line = item_line;
    else if (opt->type == INLET_OPT_SECTION)
        line = inlet_conf_marks_item_line(w->marks, field);
    else
        line = inlet_conf_marks_line(w->marks, field);
    if (dot && opt->type == INLET_OPT_SECTION) {
        check_at(w, opt->section, field, dot + 1, plen, line ? line : item_line);
        return;
    }
    if (dot && opt->type == INLET_OPT_SECTION_LIST) {
        const inlet_section_list *l = field;
        for (size_t i = 0; i < l->count; i++) {
            const void *it = (const char *)l->items + i * opt->section_size;
            size_t ilen = inlet_conf_path_index(w->path, plen, i);
            int il = w->marks ? inlet_conf_marks_item_line(w->marks, it) : item_line;
            check_at(w, opt->section, it, dot + 1, ilen, il ? il : item_line);
            w->path[plen] = '\0';
        }
        return;
    }
    if (dot) {
        check_fail(w, item_line, "the module's option checks name a key inside a plain value");
        return;
    }
    /* Present in the file, or given a default: absent options without one are not checked. */
    if (!line && !opt->default_value)
        return;
    char msg[512] = "";
    if (w->check->check(field, obj, msg, sizeof(msg)) != 0)
        check_fail(w, line ? line : item_line, msg[0] ? msg : "invalid value");
}

int inlet_conf_run_checks(const inlet_option *table, const void *obj,
                          const inlet_option_check *checks, const inlet_conf_marks *marks,
                          int default_line, inlet_conf_errors *errs)
{
    check_walk w = {.marks = marks, .errs = errs};

    for (const inlet_option_check *ck = checks; ck && ck->key; ck++) {
        if (!ck->check)
            continue;
        w.check = ck;
        w.path[0] = '\0';
        check_at(&w, table, obj, ck->key, 0, default_line);
    }
    return w.failures;
}

int inlet_conf_path_line(const inlet_option *table, const void *obj, const inlet_conf_marks *marks,
                         const char *path, size_t path_len)
{
    const char *p = path, *end = path + path_len;
    int line = 0;

    while (p < end && table && obj) {
        size_t len = 0;
        while (p + len < end && p[len] != '.' && p[len] != '[')
            len++;
        const inlet_option *opt = option_named(table, p, len);
        if (!opt)
            return line;
        const void *field = (const char *)obj + opt->offset;
        int l = opt->type == INLET_OPT_SECTION ? inlet_conf_marks_item_line(marks, field)
                                               : inlet_conf_marks_line(marks, field);
        line = l ? l : line;
        p += len;
        table = NULL;
        obj = NULL;
        if (p < end && *p == '[' && opt->type == INLET_OPT_SECTION_LIST) {
            char *close;
            unsigned long i = strtoul(p + 1, &close, 10);
            const inlet_section_list *list = field;
            if (*close != ']' || i >= list->count)
                return line;
            obj = (const char *)list->items + i * opt->section_size;
            l = inlet_conf_marks_item_line(marks, obj);
            line = l ? l : line;
            table = opt->section;
            p = close + 1;
        } else if (p < end && *p == '[' && opt->type == INLET_OPT_STRING_LIST) {
            char *close;
            unsigned long i = strtoul(p + 1, &close, 10);
            const inlet_str_list *list = field;
            if (*close == ']' && i < list->count &&
                (l = inlet_conf_marks_line(marks, &list->items[i])))
                line = l;
            return line;
        } else if (opt->type == INLET_OPT_SECTION) {
            obj = field;
            table = opt->section;
        }
        if (p < end && *p == '.')
            p++;
        else if (p < end)
            return line;
    }
    return line;
}
