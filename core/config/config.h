/*
 * config.h - YAML configuration files parsed with libyaml and applied to typed option tables
 * (inlet/options.h). Errors are "file:line: key: what is wrong".
 */
#ifndef INLET_CONFIG_H
#define INLET_CONFIG_H

#include <stdio.h>

#include "inlet/options.h"

typedef struct inlet_conf_file inlet_conf_file; /* one parsed YAML document */
typedef struct inlet_conf_node inlet_conf_node; /* a node inside it; lives as long as the file */

/* Parse one YAML file. Syntax errors: "file:line: YAML syntax error: ...". */
int inlet_conf_load(const char *path, inlet_conf_file **out, char *err, size_t err_len);
/* Parse YAML from memory; name is used in error messages (tests, fuzzing). */
int inlet_conf_load_string(const char *name, const char *text, size_t len, inlet_conf_file **out,
                           char *err, size_t err_len);
void inlet_conf_file_free(inlet_conf_file *f);

const char *inlet_conf_file_path(const inlet_conf_file *f);
/* Root node; NULL for an empty document. */
const inlet_conf_node *inlet_conf_root(const inlet_conf_file *f);
/* Value of key in a mapping node, or NULL. */
const inlet_conf_node *inlet_conf_get(const inlet_conf_file *f, const inlet_conf_node *map,
                                      const char *key);
/* The text of a scalar node, or NULL if not a scalar. */
const char *inlet_conf_scalar(const inlet_conf_file *f, const inlet_conf_node *n);
int inlet_conf_line(const inlet_conf_file *f, const inlet_conf_node *n); /* 1-based */

/*
 * Fill obj from the mapping node map according to table: apply defaults, parse and bound-check
 * every key, reject unknown keys (except those in skip, a NULL-terminated list, may be NULL) and
 * report missing required ones. On error returns -1, err holds "file:line: key: what is wrong"
 * (nested keys are dotted: "listeners[1].tls.cert"), and obj is released.
 * On success obj owns its strings and lists; free them with inlet_conf_release().
 */
int inlet_conf_apply(const inlet_conf_file *f, const inlet_conf_node *map,
                     const inlet_option *table, void *obj, const char *const *skip, char *err,
                     size_t err_len);
/* Fill obj with the table's defaults only. */
int inlet_conf_defaults(const inlet_option *table, void *obj, char *err, size_t err_len);
/* Free what apply/defaults allocated inside obj (not obj itself). Safe on a zeroed obj. */
void inlet_conf_release(const inlet_option *table, void *obj);

/*
 * A whole-directory check (--check-config, SIGHUP) reports every error, each at the line of the
 * key at fault (config_marks.c). marks: the line of every key an apply set, by the address of the
 * field it filled (a section list item, a string list item: their own addresses too); errors:
 * "file:line: key: message" strings in the order found.
 */
typedef struct inlet_conf_marks inlet_conf_marks;
typedef struct inlet_conf_errors inlet_conf_errors;

inlet_conf_marks *inlet_conf_marks_new(const char *path);
void inlet_conf_marks_free(inlet_conf_marks *m);
const char *inlet_conf_marks_path(const inlet_conf_marks *m);
#define INLET_CONF_MARK_KEY 0 /* the key that set a value */
#define INLET_CONF_MARK_ITEM                                                                       \
    1 /* a container: a section, a section list item, the file's struct                            \
       */
void inlet_conf_marks_add(inlet_conf_marks *m, const void *field, int kind, int line);
/* The line of the key that set field, 0 if the file did not set it (default or absent). */
int inlet_conf_marks_line(const inlet_conf_marks *m, const void *field);
/* The line where a section or a section list item (by its struct's address) starts, or 0. */
int inlet_conf_marks_item_line(const inlet_conf_marks *m, const void *item);

inlet_conf_errors *inlet_conf_errors_new(void);
void inlet_conf_errors_free(inlet_conf_errors *e);
void inlet_conf_errors_add(inlet_conf_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t inlet_conf_errors_count(const inlet_conf_errors *e);
const char *inlet_conf_errors_get(const inlet_conf_errors *e, size_t i);
/* The errors one per line into out (cut at out_len). */
void inlet_conf_errors_join(const inlet_conf_errors *e, char *out, size_t out_len);

/*
 * inlet_conf_apply that goes on after an error: every bad key of the file is added to errs
 * (which must not be NULL), and marks (may be NULL) records the line of every key set. Returns
 * the number of errors; on 0 obj is filled as by inlet_conf_apply, otherwise it is released.
 */
int inlet_conf_apply_all(const inlet_conf_file *f, const inlet_conf_node *map,
                         const inlet_option *table, void *obj, const char *const *skip,
                         inlet_conf_marks *marks, inlet_conf_errors *errs);

/*
 * ABI 1.5 per-option checks (inlet_option_check) over obj, which apply filled from table: each
 * check is called once per occurrence of its key that the file set or that has a default, and
 * each failure is added to errs as "file:line: key[i].sub: message" with the key's own line
 * (marks; default_line when the file did not set it). Returns the number of failures; a check
 * naming a key the table does not have is a failure too.
 */
int inlet_conf_run_checks(const inlet_option *table, const void *obj,
                          const inlet_option_check *checks, const inlet_conf_marks *marks,
                          int default_line, inlet_conf_errors *errs);
/* The line of a dotted key path with indexes ("listeners[1].tls.cert") in obj, 0 if unknown. */
int inlet_conf_path_line(const inlet_option *table, const void *obj, const inlet_conf_marks *marks,
                         const char *path, size_t path_len);

/* Markdown reference for a table: one row per key with type, default, bounds, description. */
void inlet_conf_print_reference(FILE *out, const char *title, const inlet_option *table);

/* Levenshtein distance of two names of at most 64 bytes, for "did you mean"; SIZE_MAX if longer. */
size_t inlet_conf_edit_distance(const char *a, size_t la, const char *b, size_t lb);

/* Parse helpers shared with the CLI; return 0 on success. */
int inlet_conf_parse_size(const char *s, uint64_t *out);
int inlet_conf_parse_duration_ms(const char *s, int64_t *out);

#endif
