/*
 * inlet/options.h - declarative, typed configuration tables.
 *
 * Included by inlet/module.h; part of the module ABI. The core and every module describe their
 * configuration as an array of inlet_option, terminated by an entry whose name is NULL. The core
 * parses conf.d/ files against these tables, rejects unknown keys and bad values with
 * "file:line: key: what is wrong", fills the caller's struct at the given offsets and prints the
 * reference documentation (inletd --print-options) from the same tables.
 */
#ifndef INLET_OPTIONS_H
#define INLET_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum inlet_opt_type {
    INLET_OPT_END = 0,
    INLET_OPT_BOOL,         /* bool: true/false */
    INLET_OPT_INT,          /* int64_t, bounded by min/max */
    INLET_OPT_SIZE,         /* uint64_t bytes; accepts 512, "64k", "16m", "1g" */
    INLET_OPT_DURATION,     /* int64_t milliseconds; accepts 250, "250ms", "5s", "2m", "1h" */
    INLET_OPT_STRING,       /* char *, owned by the config object */
    INLET_OPT_PATH,         /* char *, relative paths resolved against the file's directory */
    INLET_OPT_ENUM,         /* int: index into enum_values */
    INLET_OPT_STRING_LIST,  /* inlet_str_list; a scalar is taken as a list of one */
    INLET_OPT_STRING_MAP,   /* inlet_str_map: mapping of scalar keys to scalar values */
    INLET_OPT_SECTION,      /* nested mapping, parsed with .section into the struct at offset */
    INLET_OPT_SECTION_LIST, /* sequence of mappings -> inlet_section_list of .section_size items */
} inlet_opt_type;

/* Flags. */
#define INLET_OPT_REQUIRED 0x1u /* the key must be present */
#define INLET_OPT_SECRET 0x2u   /* never echoed back in error messages or dumps */

typedef struct inlet_str_list {
    char **items; /* owned by the config object */
    size_t count;
} inlet_str_list;

typedef struct inlet_str_map {
    char **keys; /* owned by the config object */
    char **values;
    size_t count;
} inlet_str_map;

typedef struct inlet_section_list {
    void *items; /* count items of section_size bytes each, owned by the config object */
    size_t count;
} inlet_section_list;

typedef struct inlet_option {
    const char *name;               /* NULL terminates the table */
    inlet_opt_type type;
    size_t offset;                  /* offsetof() into the struct this table fills */
    const char *default_value;      /* parsed like a value from a file; NULL = zero/absent */
    int64_t min, max;               /* INT, SIZE, DURATION: inclusive; min == max == 0: unbounded */
    const char *const *enum_values; /* ENUM: NULL-terminated list of accepted words */
    const struct inlet_option *section; /* SECTION, SECTION_LIST: the nested table */
    size_t section_size;            /* SECTION_LIST: sizeof one item */
    unsigned flags;                 /* INLET_OPT_REQUIRED, INLET_OPT_SECRET */
    const char *description;        /* one sentence for the generated reference */
} inlet_option;

#define INLET_OPTIONS_END {NULL, INLET_OPT_END, 0, NULL, 0, 0, NULL, NULL, 0, 0, NULL}

#ifdef __cplusplus
}
#endif

#endif /* INLET_OPTIONS_H */
