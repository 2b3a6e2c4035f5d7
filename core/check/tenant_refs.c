/*
 * tenant_refs.c - what a tenant file can get wrong that no single key shows: an ACL naming a
 * schema or version that is not loaded or a group no device has, a token for a device that is
 * not declared, an mTLS setup that can authenticate no device, and identities (tenant names,
 * token digests, IMEIs, JWT kids) claimed twice, in one file or across files. Each error is at
 * the line of the key at fault; a duplicate names both places.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/tenant_files.h"

typedef struct ref_ctx {
    inlet_tenant_files *tf;
    const inlet_schemas *schemas;
    inlet_conf_errors *errs;
    int found;
} ref_ctx;

static int line_of(const ref_ctx *r, size_t t, const void *field)
{
    int line = inlet_conf_marks_line(r->tf->marks[t], field);
    if (!line) {
        const char *colon = strrchr(r->tf->origins[t], ':');
        line = colon ? atoi(colon + 1) : 1;
    }
    return line;
}

static void fail(ref_ctx *r, size_t t, const void *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(ref_ctx *r, size_t t, const void *field, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    inlet_conf_errors_add(r->errs, "%s:%d: %s", inlet_conf_marks_path(r->tf->marks[t]),
                          line_of(r, t, field), msg);
    r->tf->bad[t] = 1;
    r->found++;
}

static const inlet_device_conf *device_find(const inlet_tenant_conf *c, const char *id)
{
    const inlet_device_conf *d = c->devices.items;
    for (size_t i = 0; id && i < c->devices.count; i++)
        if (d[i].id && strcmp(d[i].id, id) == 0)
            return &d[i];
    return NULL;
}

static int group_declared(const inlet_tenant_conf *c, const char *group)
{
    const inlet_device_conf *d = c->devices.items;
    for (size_t i = 0; i < c->devices.count; i++)
        for (size_t j = 0; j < d[i].groups.count; j++)
            if (strcmp(d[i].groups.items[j], group) == 0)
                return 1;
    return 0;
}

/* The versions of schema name that are loaded, "v1, v2" into out; 0 if none. */
static size_t versions_of(const inlet_schemas *s, const char *name, char *out, size_t out_len)
{
    size_t n = 0, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < inlet_schemas_count(s); i++) {
        const inlet_schema *x = inlet_schemas_at(s, i);
        if (strcmp(inlet_schema_name(x), name) != 0)
            continue;
        int w =
            snprintf(out + used, out_len - used, "%s%s", n ? ", " : "", inlet_schema_version(x));
        if (w > 0 && (size_t)w < out_len - used)
            used += (size_t)w;
        n++;
    }
    return n;
}

static const char *closest_schema(const inlet_schemas *s, const char *name)
{
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < inlet_schemas_count(s); i++) {
        const char *cand = inlet_schema_name(inlet_schemas_at(s, i));
        size_t d = inlet_conf_edit_distance(name, strlen(name), cand, strlen(cand));
        if (d < best_d) {
            best = cand;
            best_d = d;
        }
    }
    return best;
}

/* One ACL schema pattern: "*", "name", "name@*", "name@vN" or "name@N". */
static void check_pattern(ref_ctx *r, size_t t, size_t k, size_t j, char *const *slot)
{
    const char *pat = *slot, *at = strchr(pat, '@');
    char name[256], versions[256];

    if (strcmp(pat, "*") == 0)
        return;
    size_t nlen = at ? (size_t)(at - pat) : strlen(pat);
    if (nlen == 0 || nlen >= sizeof(name)) {
        fail(r, t, slot,
             "acl[%zu].schemas[%zu]: \"%s\" is not \"name@vN\", \"name@*\", \"name\" or "
             "\"*\"",
             k, j, pat);
        return;
    }
    memcpy(name, pat, nlen);
    name[nlen] = '\0';
    const char *ver = at ? at + 1 : NULL;
    if (ver && strcmp(ver, "*") != 0) {
        const char *digits = ver[0] == 'v' ? ver + 1 : ver;
        if (!*digits || strspn(digits, "0123456789") != strlen(digits)) {
            fail(r, t, slot,
                 "acl[%zu].schemas[%zu]: \"%s\": the version must be vN (as in %s@v1) "
                 "or *",
                 k, j, pat, name);
            return;
        }
        /* The ACL matcher reads "@1" as "@v1", but schema files and requests always say v1:
         * the operator most likely forgot the v, or meant something else. */
        if (ver[0] != 'v') {
            fail(r, t, slot,
                 "acl[%zu].schemas[%zu]: \"%s\": versions are written vN: did you mean "
                 "\"%s@v%s\"?",
                 k, j, pat, name, ver);
            return;
        }
    }
    if (!r->schemas)
        return;
    if (versions_of(r->schemas, name, versions, sizeof(versions)) == 0) {
        const char *hint = closest_schema(r->schemas, name);
        if (hint)
            fail(r, t, slot,
                 "acl[%zu].schemas[%zu]: no schema \"%s\" is loaded (did you mean \"%s\"?)", k, j,
                 name, hint);
        else
            fail(r, t, slot, "acl[%zu].schemas[%zu]: no schema \"%s\" is loaded", k, j, name);
        return;
    }
    if (ver && strcmp(ver, "*") != 0 && !inlet_schemas_find(r->schemas, name, ver))
        fail(r, t, slot, "acl[%zu].schemas[%zu]: schema %s has no version %s (loaded: %s)", k, j,
             name, ver, versions);
}

static void check_tenant(ref_ctx *r, size_t t)
{
    const inlet_tenant_conf *c = r->tf->confs[t];
    const inlet_token_conf *tok = c->tokens.items;
    const inlet_acl_rule_conf *acl = c->acl.items;

    for (size_t j = 0; j < c->tokens.count; j++)
        if (tok[j].device && !device_find(c, tok[j].device))
            fail(r, t, &tok[j].device,
                 "tokens[%zu].device: device \"%s\" is not declared in devices of tenant %s", j,
                 tok[j].device, c->name);
    if (c->mtls.ca_file && !c->mtls.allow_unlisted_devices && c->devices.count == 0)
        fail(r, t, &c->mtls.ca_file,
             "mtls.ca_file: tenant %s declares no devices and mtls.allow_unlisted_devices is "
             "false, so no certificate can authenticate",
             c->name);
    for (size_t k = 0; k < c->acl.count; k++) {
        for (size_t g = 0; g < acl[k].groups.count; g++)
            if (!group_declared(c, acl[k].groups.items[g]))
                fail(r, t, &acl[k].groups.items[g],
                     "acl[%zu].groups[%zu]: no device of tenant %s is in group \"%s\"", k, g,
                     c->name, acl[k].groups.items[g]);
        for (size_t j = 0; j < acl[k].schemas.count; j++)
            check_pattern(r, t, k, j, &acl[k].schemas.items[j]);
    }
}

/* An identity claimed somewhere: its text (compared case-folded for hex digests), where. */
typedef struct claim {
    char key[80];
    size_t tenant;
    const void *field;
    size_t index;
} claim;

static int claim_cmp(const void *a, const void *b)
{
    const claim *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    if (x->tenant != y->tenant)
        return x->tenant < y->tenant ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* what: the key, with %zu for the claim's index ("devices[%zu].imei"); show: print the value. */
static void duplicates(ref_ctx *r, claim *v, size_t n, const char *what, int show)
{
    qsort(v, n, sizeof(*v), claim_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(v[i].key, v[i - 1].key) != 0)
            continue;
        const claim *first = &v[i - 1];
        while (first > v && strcmp((first - 1)->key, v[i].key) == 0)
            first--;
        char key[96], value[96];
        snprintf(key, sizeof(key), what, v[i].index);
        snprintf(value, sizeof(value), show ? "\"%s\"" : "this token", v[i].key);
        fail(r, v[i].tenant, v[i].field, "%s: %s is also claimed by tenant %s at %s:%d", key, value,
             r->tf->confs[first->tenant]->name, inlet_conf_marks_path(r->tf->marks[first->tenant]),
             line_of(r, first->tenant, first->field));
    }
}

static void check_unique(ref_ctx *r)
{
    size_t n = r->tf->n, total = n;
    for (size_t t = 0; t < n; t++)
        total += r->tf->confs[t]->tokens.count + r->tf->confs[t]->devices.count +
                 r->tf->confs[t]->jwt.count;
    claim *v = calloc(total + 1, sizeof(*v));
    size_t m;
    if (!v) {
        inlet_conf_errors_add(r->errs, "tenants: out of memory");
        r->found++;
        return;
    }
    m = 0;
    for (size_t t = 0; t < n; t++) {
        snprintf(v[m].key, sizeof(v[m].key), "%s", r->tf->confs[t]->name);
        v[m].tenant = t;
        v[m].field = &r->tf->confs[t]->name;
        v[m++].index = 0;
    }
    /* The tenant name: one message per duplicate, at the second file's tenant: line. */
    qsort(v, m, sizeof(*v), claim_cmp);
    for (size_t i = 1; i < m; i++)
        if (strcmp(v[i].key, v[i - 1].key) == 0)
            fail(r, v[i].tenant, v[i].field, "tenant: tenant %s is also defined at %s:%d", v[i].key,
                 inlet_conf_marks_path(r->tf->marks[v[i - 1].tenant]),
                 line_of(r, v[i - 1].tenant, v[i - 1].field));
    m = 0;
    for (size_t t = 0; t < n; t++) {
        const inlet_token_conf *tok = r->tf->confs[t]->tokens.items;
        for (size_t j = 0; j < r->tf->confs[t]->tokens.count; j++) {
            if (!tok[j].sha256)
                continue;
            size_t k = 0;
            for (; tok[j].sha256[k] && k + 1 < sizeof(v[m].key); k++)
                v[m].key[k] = (char)tolower((unsigned char)tok[j].sha256[k]);
            v[m].key[k] = '\0';
            v[m].tenant = t;
            v[m].field = &tok[j].sha256;
            v[m++].index = j;
        }
    }
    duplicates(r, v, m, "tokens[%zu].sha256", 0);
    m = 0;
    for (size_t t = 0; t < n; t++) {
        const inlet_device_conf *d = r->tf->confs[t]->devices.items;
        for (size_t j = 0; j < r->tf->confs[t]->devices.count; j++) {
            if (!d[j].imei)
                continue;
            snprintf(v[m].key, sizeof(v[m].key), "%s", d[j].imei);
            v[m].tenant = t;
            v[m].field = &d[j].imei;
            v[m++].index = j;
        }
    }
    duplicates(r, v, m, "devices[%zu].imei", 1);
    m = 0;
    for (size_t t = 0; t < n; t++) {
        const inlet_jwt_key_conf *k = r->tf->confs[t]->jwt.items;
        for (size_t j = 0; j < r->tf->confs[t]->jwt.count; j++) {
            if (!k[j].kid)
                continue;
            snprintf(v[m].key, sizeof(v[m].key), "%s", k[j].kid);
            v[m].tenant = t;
            v[m].field = &k[j].kid;
            v[m++].index = j;
        }
    }
    duplicates(r, v, m, "jwt[%zu].kid", 1);
    free(v);
}

int inlet_tenant_files_check(inlet_tenant_files *tf, const inlet_schemas *schemas,
                             inlet_conf_errors *errs)
{
    ref_ctx r = {.tf = tf, .schemas = schemas, .errs = errs};
    for (size_t t = 0; t < tf->n; t++)
        check_tenant(&r, t);
    check_unique(&r);
    return r.found;
}
