/*
 * config_reference.c - the Markdown reference generated from option tables (inletd
 * --print-options), so the documentation cannot drift from what the parser accepts.
 */
#include <inttypes.h>
#include <stdio.h>

#include "config_internal.h"

static const char *type_name(inlet_opt_type t)
{
    switch (t) {
    case INLET_OPT_BOOL:
        return "bool";
    case INLET_OPT_INT:
        return "integer";
    case INLET_OPT_SIZE:
        return "size";
    case INLET_OPT_DURATION:
        return "duration";
    case INLET_OPT_STRING:
        return "string";
    case INLET_OPT_PATH:
        return "path";
    case INLET_OPT_ENUM:
        return "enum";
    case INLET_OPT_STRING_LIST:
        return "list of strings";
    case INLET_OPT_STRING_MAP:
        return "map of strings";
    case INLET_OPT_SECTION:
        return "section";
    case INLET_OPT_SECTION_LIST:
        return "list of sections";
    default:
        return "?";
    }
}

/* A table cell: '|' would end the cell and a newline the row. */
static void put_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

static void put_default(FILE *out, const inlet_option *o)
{
    if (o->flags & INLET_OPT_REQUIRED)
        fputs("required", out);
    else if (o->default_value && o->flags & INLET_OPT_SECRET)
        fputs("(secret)", out);
    else if (o->default_value) {
        fputc('`', out);
        put_cell(out, o->default_value);
        fputc('`', out);
    }
}

static void put_allowed(FILE *out, const inlet_option *o)
{
    char lo[32], hi[32];
    bool bounded = o->min != 0 || o->max != 0;

    switch (o->type) {
    case INLET_OPT_BOOL:
        fputs("true, false", out);
        return;
    case INLET_OPT_ENUM:
        for (const char *const *w = o->enum_values; w && *w; w++) {
            fprintf(out, "%s`", w == o->enum_values ? "" : ", ");
            put_cell(out, *w);
            fputc('`', out);
        }
        return;
    case INLET_OPT_INT:
        if (bounded)
            fprintf(out, "%" PRId64 "..%" PRId64, o->min, o->max);
        return;
    case INLET_OPT_SIZE:
        if (bounded) {
            inlet_conf_format_size(lo, sizeof lo, o->min > 0 ? (uint64_t)o->min : 0);
            inlet_conf_format_size(hi, sizeof hi, o->max > 0 ? (uint64_t)o->max : 0);
            fprintf(out, "%s..%s", lo, hi);
        }
        return;
    case INLET_OPT_DURATION:
        if (bounded) {
            inlet_conf_format_duration(lo, sizeof lo, o->min);
            inlet_conf_format_duration(hi, sizeof hi, o->max);
            fprintf(out, "%s..%s", lo, hi);
        }
        return;
    default:
        return;
    }
}

static void print_rows(FILE *out, const char *prefix, const inlet_option *table, int depth)
{
    char name[INLET_CONF_PATH_MAX];

    /* Tables are static data, but a section that contains itself must not recurse forever. */
    if (!table || depth > INLET_CONF_MAX_DEPTH)
        return;
    for (const inlet_option *o = table; o->name; o++) {
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "", o->name);
        fputs("| `", out);
        put_cell(out, name);
        fprintf(out, "` | %s | ", type_name(o->type));
        put_default(out, o);
        fputs(" | ", out);
        put_allowed(out, o);
        fputs(" | ", out);
        put_cell(out, o->description);
        fputs(" |\n", out);
        if (o->type == INLET_OPT_SECTION) {
            print_rows(out, name, o->section, depth + 1);
        } else if (o->type == INLET_OPT_SECTION_LIST) {
            char item[INLET_CONF_PATH_MAX + 2];
            snprintf(item, sizeof item, "%s[]", name);
            print_rows(out, item, o->section, depth + 1);
        }
    }
}

void inlet_conf_print_reference(FILE *out, const char *title, const inlet_option *table)
{
    fprintf(out, "## %s\n\n", title ? title : "Options");
    fputs("| key | type | default | allowed | description |\n", out);
    fputs("|---|---|---|---|---|\n", out);
    print_rows(out, "", table, 0);
    fputc('\n', out);
}
