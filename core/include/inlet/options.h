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
#define INLET_OPT_SECRET   0x2u /* never echoed back in error messages or dumps */

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
    const char *name; /* NULL terminates the table */
    inlet_opt_type type;
    size_t offset;                  /* offsetof() into the struct this table fills */
    const char *default_value;      /* parsed like a value from a file; NULL = zero/absent */
    int64_t min, max;               /* INT, SIZE, DURATION: inclusive; min == max == 0: unbounded */
    const char *const *enum_values; /* ENUM: NULL-terminated list of accepted words */
    const struct inlet_option *section; /* SECTION, SECTION_LIST: the nested table */
    size_t section_size;                /* SECTION_LIST: sizeof one item */
    unsigned flags;                     /* INLET_OPT_REQUIRED, INLET_OPT_SECRET */
    const char *description;            /* one sentence for the generated reference */
} inlet_option;

/*
 * ABI 1.5: a validation hook for one option (inlet_module_desc.option_checks). key names the
 * option as a dotted path from the module's table: "listen", "tls.cert", or "topics.kafka_topic"
 * for a key inside every item of a SECTION_LIST. After the whole file parsed, the core calls
 * check once per occurrence of the key that is present in the file (or has a default): value
 * points at the field (its type is the option's), item at the struct that holds it (the item of
 * a section list, or the module's config struct). Return 0 if fine; otherwise write one line to
 * err and return -1, and the core reports "file:line: key: <err>" with the key's own line. Every
 * failing check is reported, not only the first.
 */
typedef struct inlet_option_check {
    const char *key; /* NULL terminates the table */
    int (*check)(const void *value, const void *item, char *err, size_t err_len);
} inlet_option_check;

#define INLET_OPTION_CHECKS_END                                                                    \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

/*
 * ABI 1.5: initializer macros, one per type, so a table reads one line per key. They are
 * positional (no designated initializers), so C++ compiles them too. st is the config struct the
 * table fills, field its member; def is parsed like a value from the file (NULL = zero/absent);
 * min/max are inclusive (both 0: unbounded); flags is 0, INLET_OPT_REQUIRED or INLET_OPT_SECRET.
 *
 *     static const inlet_option opts[] = {
 *         INLET_OPT_STRING_ENTRY(my_config, address, "address", NULL, INLET_OPT_REQUIRED,
 *                                "host:port to listen on."),
 *         INLET_OPT_INT_ENTRY(my_config, max_inflight, "max_inflight", "1024", 1, 100000,
 *                             "Submissions waiting for Kafka at most."),
 *         INLET_OPTIONS_END,
 *     };
 */
#define INLET_OPT_ENTRY(st, field, name, type, def, min, max, values, section, size, flags, desc)  \
    {                                                                                              \
        name, type, offsetof(st, field), def, min, max, values, section, size, flags, desc         \
    }
/* bool */
#define INLET_OPT_BOOL_ENTRY(st, field, name, def, desc)                                           \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_BOOL, def, 0, 0, NULL, NULL, 0, 0, desc)
/* int64_t */
#define INLET_OPT_INT_ENTRY(st, field, name, def, min, max, desc)                                  \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_INT, def, min, max, NULL, NULL, 0, 0, desc)
/* uint64_t bytes ("64k") */
#define INLET_OPT_SIZE_ENTRY(st, field, name, def, min, max, desc)                                 \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_SIZE, def, min, max, NULL, NULL, 0, 0, desc)
/* int64_t milliseconds ("5s") */
#define INLET_OPT_DURATION_ENTRY(st, field, name, def, min, max, desc)                             \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_DURATION, def, min, max, NULL, NULL, 0, 0, desc)
/* char *, owned by the config object */
#define INLET_OPT_STRING_ENTRY(st, field, name, def, flags, desc)                                  \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_STRING, def, 0, 0, NULL, NULL, 0, flags, desc)
/* char *, resolved against the file's directory */
#define INLET_OPT_PATH_ENTRY(st, field, name, def, flags, desc)                                    \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_PATH, def, 0, 0, NULL, NULL, 0, flags, desc)
/* int: index into values, a NULL-terminated array of words */
#define INLET_OPT_ENUM_ENTRY(st, field, name, def, values, desc)                                   \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_ENUM, def, 0, 0, values, NULL, 0, 0, desc)
/* inlet_str_list */
#define INLET_OPT_STRING_LIST_ENTRY(st, field, name, def, flags, desc)                             \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_STRING_LIST, def, 0, 0, NULL, NULL, 0, flags, desc)
/* inlet_str_map */
#define INLET_OPT_STRING_MAP_ENTRY(st, field, name, flags, desc)                                   \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_STRING_MAP, NULL, 0, 0, NULL, NULL, 0, flags, desc)
/* a nested mapping into the struct member field, parsed with table */
#define INLET_OPT_SECTION_ENTRY(st, field, name, table, flags, desc)                               \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_SECTION, NULL, 0, 0, NULL, table, 0, flags, desc)
/* a sequence of mappings into the inlet_section_list field, each an item_type parsed with table */
#define INLET_OPT_SECTION_LIST_ENTRY(st, field, name, table, item_type, flags, desc)               \
    INLET_OPT_ENTRY(st, field, name, INLET_OPT_SECTION_LIST, NULL, 0, 0, NULL, table,              \
                    sizeof(item_type), flags, desc)

#define INLET_OPTIONS_END                                                                          \
    {                                                                                              \
        NULL, INLET_OPT_END, 0, NULL, 0, 0, NULL, NULL, 0, 0, NULL                                 \
    }

#ifdef __cplusplus
}
#endif

#endif /* INLET_OPTIONS_H */
