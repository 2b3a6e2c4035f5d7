/*
 * tenant_files.c - loading tenant files for a whole-directory check and building the runtime set
 * from them; build errors, which the identity code writes against the tenant's origin, are moved
 * to the line of the key they name.
 */
#include "check/tenant_files.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_file(inlet_tenant_files *tf, const char *path, inlet_conf_errors *errs)
{
    char err[1024];
    inlet_conf_file *f = NULL;
    int found = 0;

    if (inlet_conf_load(path, &f, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        return 1;
    }
    const inlet_conf_node *root = inlet_conf_root(f);
    const inlet_conf_node *name = root ? inlet_conf_get(f, root, "tenant") : NULL;
    if (name && inlet_conf_get(f, root, "module")) {
        inlet_conf_errors_add(errs,
                              "%s:%d: a file configures either a module or a tenant, not both",
                              path, inlet_conf_line(f, name));
        inlet_conf_file_free(f);
        return 1;
    }
    if (!name) {
        inlet_conf_file_free(f);
        return 0;
    }
    size_t i = tf->n;
    inlet_tenant_conf *c = calloc(1, sizeof(*c));
    char *origin = malloc(strlen(path) + 16);
    inlet_conf_marks *m = inlet_conf_marks_new(path);
    if (!c || !origin || !m) {
        inlet_conf_errors_add(errs, "%s: out of memory", path);
        found = 1;
        goto fail;
    }
    sprintf(origin, "%s:%d", path, inlet_conf_line(f, name));
    found = inlet_conf_apply_all(f, root, inlet_tenant_options, c, NULL, m, errs);
    if (found)
        goto fail;
    tf->confs[i] = c;
    tf->origins[i] = origin;
    tf->marks[i] = m;
    tf->n++;
    inlet_conf_file_free(f);
    return 0;

fail:
    inlet_conf_file_free(f);
    free(c);
    free(origin);
    inlet_conf_marks_free(m);
    return found;
}

int inlet_tenant_files_load(const char *const *paths, size_t n, inlet_tenant_files *tf,
                            inlet_conf_errors *errs)
{
    int found = 0;

    memset(tf, 0, sizeof(*tf));
    tf->confs = calloc(n + 1, sizeof(*tf->confs));
    tf->origins = calloc(n + 1, sizeof(*tf->origins));
    tf->marks = calloc(n + 1, sizeof(*tf->marks));
    tf->bad = calloc(n + 1, 1);
    if (!tf->confs || !tf->origins || !tf->marks || !tf->bad) {
        inlet_conf_errors_add(errs, "tenants: out of memory");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        found += add_file(tf, paths[i], errs);
    return found;
}

/* Has errs a message at this "file:line: " already? */
static int line_reported(const inlet_conf_errors *errs, const char *prefix)
{
    size_t len = strlen(prefix);
    for (size_t i = 0; i < inlet_conf_errors_count(errs); i++)
        if (strncmp(inlet_conf_errors_get(errs, i), prefix, len) == 0)
            return 1;
    return 0;
}

/* "origin: tenant x: key.path: why" -> "file:line: tenant x: key.path: why" when the key path is
 * one the tenant file set. A tenant that tenant_refs.c found wrong gets no second message for a
 * line it was told about already. */
static void add_relocated(const inlet_tenant_files *tf, size_t i, const char *msg,
                          inlet_conf_errors *errs)
{
    const char *origin = tf->origins[i];
    size_t olen = strlen(origin);
    const char *rest, *key;
    char prefix[PATH_MAX + 32] = "";

    if (strncmp(msg, origin, olen) != 0 || strncmp(msg + olen, ": ", 2) != 0)
        goto as_is;
    rest = msg + olen + 2;
    key = rest;
    if (strncmp(key, "tenant ", 7) == 0) {
        const char *colon = strstr(key, ": ");
        if (!colon)
            goto as_is;
        key = colon + 2;
    }
    const char *end = strstr(key, ": ");
    if (!end)
        goto as_is;
    int line = inlet_conf_path_line(inlet_tenant_options, tf->confs[i], tf->marks[i], key,
                                    (size_t)(end - key));
    if (line <= 0)
        goto as_is;
    snprintf(prefix, sizeof(prefix), "%.*s:%d: ", (int)(strrchr(origin, ':') - origin), origin,
             line);
    if (tf->bad[i] && line_reported(errs, prefix))
        return;
    inlet_conf_errors_add(errs, "%s%s", prefix, rest);
    return;
as_is:
    inlet_conf_errors_add(errs, "%s", msg);
}

int inlet_tenant_files_build(const inlet_tenant_files *tf, inlet_tenants **out,
                             inlet_conf_errors *errs)
{
    char err[2048];
    int found = 0;
    const inlet_tenant_conf *const *confs = (const inlet_tenant_conf *const *)tf->confs;
    const char *const *origins = (const char *const *)tf->origins;

    *out = NULL;
    /* Alone first, so that every tenant's own errors are found, not only the first tenant's. */
    for (size_t i = 0; i < tf->n; i++) {
        inlet_tenants *one = NULL;
        if (inlet_tenants_build(&confs[i], &origins[i], 1, &one, err, sizeof(err)) != 0) {
            /* tenant_refs.c reported duplicates already, naming both lines */
            if (!tf->bad[i] || (!strstr(err, "the same token sha256") &&
                                !strstr(err, "is already declared by device")))
                add_relocated(tf, i, err, errs);
            found++;
        }
        if (one)
            inlet_tenants_release(one);
    }
    if (found || inlet_conf_errors_count(errs))
        return found; /* the set is built only from a configuration without errors */
    if (inlet_tenants_build(confs, origins, tf->n, out, err, sizeof(err)) != 0) {
        size_t at = tf->n;
        for (size_t i = 0; i < tf->n && at == tf->n; i++)
            if (strncmp(err, tf->origins[i], strlen(tf->origins[i])) == 0)
                at = i;
        if (at < tf->n)
            add_relocated(tf, at, err, errs);
        else
            inlet_conf_errors_add(errs, "%s", err);
        return 1;
    }
    return 0;
}

const char *inlet_tenant_files_rule_where(const inlet_tenant_files *tf, const char *tenant,
                                          size_t rule, char *buf, size_t buf_len)
{
    for (size_t i = 0; i < tf->n; i++) {
        const inlet_tenant_conf *c = tf->confs[i];
        if (strcmp(c->name, tenant) != 0 || rule >= c->acl.count)
            continue;
        const inlet_acl_rule_conf *r = c->acl.items;
        snprintf(buf, buf_len, "%s:%d", inlet_conf_marks_path(tf->marks[i]),
                 inlet_conf_marks_item_line(tf->marks[i], &r[rule]));
        return buf;
    }
    return NULL;
}

void inlet_tenant_files_free(inlet_tenant_files *tf)
{
    for (size_t i = 0; i < tf->n; i++) {
        inlet_conf_release(inlet_tenant_options, tf->confs[i]);
        free(tf->confs[i]);
        free(tf->origins[i]);
        inlet_conf_marks_free(tf->marks[i]);
    }
    free(tf->confs);
    free(tf->origins);
    free(tf->marks);
    free(tf->bad);
    memset(tf, 0, sizeof(*tf));
}
