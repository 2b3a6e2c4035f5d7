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

/* Markdown reference for a table: one row per key with type, default, bounds, description. */
void inlet_conf_print_reference(FILE *out, const char *title, const inlet_option *table);

/* Parse helpers shared with the CLI; return 0 on success. */
int inlet_conf_parse_size(const char *s, uint64_t *out);
int inlet_conf_parse_duration_ms(const char *s, int64_t *out);

#endif
