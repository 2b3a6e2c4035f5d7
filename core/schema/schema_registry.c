/*
 * schema_registry.c - every schemas_dir/<name>/v<N>.json, compiled and kept sorted by name and
 * version so that the per-event lookup is a binary search.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "schema_internal.h"

#define VERSION_DIGITS_MAX 9 /* keeps version numbers far inside unsigned long */

struct inlet_schemas {
    inlet_schema **items; /* owned; sorted by (name, version_num) */
    size_t n, cap;
};

static int valid_name(const char *s)
{
    size_t len = strlen(s);
    return len > 0 && s[0] != '.' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* "v12" (or "12" when v_optional) -> 12; 0 if it is not a positive integer without leading
 * zeros. len bounds s, which need not be NUL-terminated there. */
static unsigned long parse_version(const char *s, size_t len, int v_optional)
{
    unsigned long n = 0;
    size_t i = 0;

    if (len > 0 && s[0] == 'v')
        i = 1;
    else if (!v_optional)
        return 0;
    if (i == len || len - i > VERSION_DIGITS_MAX || s[i] == '0')
        return 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        n = n * 10 + (unsigned long)(s[i] - '0');
    }
    return n;
}

static int cmp_key(const char *name, unsigned long version, const inlet_schema *s)
{
    int c = strcmp(name, s->name);
    if (c)
        return c;
    return version < s->version_num ? -1 : version > s->version_num;
}

static int cmp_schemas(const void *a, const void *b)
{
    const inlet_schema *x = *(inlet_schema *const *)a;
    return cmp_key(x->name, x->version_num, *(inlet_schema *const *)b);
}

static int registry_add(inlet_schemas *r, inlet_schema *s)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        inlet_schema **items = realloc(r->items, cap * sizeof(*items));
        if (!items)
            return -1;
        r->items = items;
        r->cap = cap;
    }
    r->items[r->n++] = s;
    return 0;
}

/* Parse and compile one file; the registry takes the schema on success. */
static int load_file(inlet_schemas *r, const char *path, const char *name, unsigned long version,
                     char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *doc;
    inlet_schema *s = NULL;
    char vtext[24];
    int rc = -1;

    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        if (jerr.line > 0)
            snprintf(err, err_len, "%s:%d:%d: JSON syntax error: %s", path, jerr.line, jerr.column,
                     jerr.text);
        else
            snprintf(err, err_len, "%s: %s", path, jerr.text);
        return -1;
    }
    if (!json_is_object(doc)) {
        snprintf(err, err_len, "%s: a schema file must hold a JSON object", path);
        goto cleanup;
    }
    if (inlet_schema_compile(doc, path, &s, err, err_len))
        goto cleanup;
    if (!s->topic) {
        snprintf(err, err_len, "%s: missing \"x-inlet-topic\" (the Kafka topic of this schema)",
                 path);
        goto cleanup;
    }
    snprintf(vtext, sizeof(vtext), "v%lu", version);
    s->name = strdup(name);
    s->version = strdup(vtext);
    s->version_num = version;
    if (!s->name || !s->version || registry_add(r, s)) {
        snprintf(err, err_len, "%s: out of memory", path);
        goto cleanup;
    }
    s = NULL;
    rc = 0;

cleanup:
    inlet_schema_free(s);
    json_decref(doc);
    return rc;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Entries sorted by name, so that the error reported first does not depend on the file
 * system's order. Returns the count, or -1 with err set. */
static int list_dir(const char *dir, struct dirent ***out, char *err, size_t err_len)
{
    int n = scandir(dir, out, NULL, by_name);
    if (n < 0)
        snprintf(err, err_len, "%s: %s", dir, strerror(errno));
    return n;
}

static void free_list(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int load_schema_dir(inlet_schemas *r, const char *dir, const char *name, char *err,
                           size_t err_len)
{
    char path[PATH_MAX];
    struct dirent **list;
    const char *file;
    unsigned long version;
    size_t len;
    int n, rc = 0;

    if ((n = list_dir(dir, &list, err, err_len)) < 0)
        return -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        file = list[i]->d_name;
        len = strlen(file);
        /* Only v<digits>.json files are schema versions; READMEs and the like live beside
         * them, but a misspelt version such as v01.json is an error rather than ignored. */
        if (len < 7 || file[0] != 'v' || file[1] < '0' || file[1] > '9' ||
            strcmp(file + len - 5, ".json") != 0)
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path)) {
            snprintf(err, err_len, "%s/%s: path too long", dir, file);
            rc = -1;
        } else if (!(version = parse_version(file, len - 5, 0))) {
            snprintf(err, err_len,
                     "%s: a schema file name must be v<N>.json, N a positive integer without "
                     "leading zeros",
                     path);
            rc = -1;
        } else {
            rc = load_file(r, path, name, version, err, err_len);
        }
    }
    free_list(list, n);
    return rc;
}

int inlet_schemas_load(const char *schemas_dir, inlet_schemas **out, char *err, size_t err_len)
{
    char path[PATH_MAX];
    struct dirent **list = NULL;
    const char *name;
    struct stat st;
    inlet_schemas *r;
    int n = 0, rc = -1;

    *out = NULL;
    if (!(r = calloc(1, sizeof(*r)))) {
        snprintf(err, err_len, "%s: out of memory", schemas_dir);
        return -1;
    }
    if ((n = list_dir(schemas_dir, &list, err, err_len)) < 0) {
        n = 0;
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        name = list[i]->d_name;
        if (name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", schemas_dir, name) >= sizeof(path)) {
            snprintf(err, err_len, "%s/%s: path too long", schemas_dir, name);
            goto cleanup;
        }
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        /* The directory name is the schema name on the wire and in ACLs, so it is checked. */
        if (!valid_name(name)) {
            snprintf(err, err_len, "%s: a schema directory name must match [a-z0-9._-]+", path);
            goto cleanup;
        }
        if (load_schema_dir(r, path, name, err, err_len))
            goto cleanup;
    }
    /* Directory order is already by name; sorting makes v2 come before v10. */
    if (r->n > 1)
        qsort(r->items, r->n, sizeof(*r->items), cmp_schemas);
    *out = r;
    r = NULL;
    rc = 0;

cleanup:
    free_list(list, n);
    inlet_schemas_free(r);
    return rc;
}

void inlet_schemas_free(inlet_schemas *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        inlet_schema_free(r->items[i]);
    free(r->items);
    free(r);
}

const inlet_schema *inlet_schemas_find(const inlet_schemas *r, const char *name,
                                       const char *version)
{
    unsigned long v;
    size_t lo = 0, hi;
    int c;

    if (!r || !name || !version || !(v = parse_version(version, strlen(version), 1)))
        return NULL;
    hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        c = cmp_key(name, v, r->items[mid]);
        if (c == 0)
            return r->items[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t inlet_schemas_count(const inlet_schemas *r)
{
    return r ? r->n : 0;
}

const inlet_schema *inlet_schemas_at(const inlet_schemas *r, size_t i)
{
    return r && i < r->n ? r->items[i] : NULL;
}
