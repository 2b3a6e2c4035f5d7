/*
 * acl.c - per-tenant ACL rules: compiled once when the tenant set is built, evaluated against a
 * device once per identity, and decided for every event (see acl.h).
 */
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "device_id.h"
#include "device_table.h"
#include "ident_error.h"
#include "tenant.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_str_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

/* The words of protocols: and methods:. A method's bit is its inlet_auth_method value; psk (4)
 * and imei (5) are the ABI 1.4 methods for DTLS-PSK and Teltonika devices. */
static const char *const protocol_names[] = {"http",   "mqtt",      "mqtt_bridge", "coap",
                                             "binary", "teltonika", NULL};
static const char *const method_names[] = {NULL, "token", "jwt", "cert", "psk", "imei", NULL};

/* a and b equal, with '-' and '_' the same */
static bool protocol_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

uint32_t inlet_acl_protocol_bit(const char *source)
{
    for (size_t i = 0; source && protocol_names[i]; i++) {
        if (protocol_equal(source, protocol_names[i]))
            return UINT32_C(1) << i;
    }
    return 0;
}

/* The bits of the words in list; -1 with the offending item in *bad for an unknown word. */
static int64_t words_mask(const inlet_str_list *list, const char *const *names, size_t first,
                          size_t *bad)
{
    uint32_t mask = 0;
    for (size_t i = 0; i < list->count; i++) {
        size_t k = first;
        while (names[k] && strcmp(names[k], list->items[i]) != 0)
            k++;
        if (!names[k]) {
            *bad = i;
            return -1;
        }
        mask |= UINT32_C(1) << k;
    }
    return mask;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/* "*", "name", "name@*", "name@v1" (or "name@1", the same as "v1"). */
int inlet_acl_schema_compile(const char *pat, inlet_acl_schema *out)
{
    const char *at = strchr(pat, '@');
    size_t name_len = at ? (size_t)(at - pat) : strlen(pat);

    out->name = out->version = NULL;
    if (strcmp(pat, "*") == 0)
        return 0;
    if (name_len == 0)
        return -1;
    for (size_t i = 0; i < name_len; i++) {
        if (!name_char(pat[i]))
            return -1;
    }
    out->name = strndup(pat, name_len);
    if (!out->name)
        return -1;
    if (!at || strcmp(at + 1, "*") == 0)
        return 0;
    const char *digits = at[1] == 'v' ? at + 2 : at + 1;
    if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits))
        return -1;
    out->version = malloc(strlen(digits) + 2);
    if (!out->version)
        return -1;
    out->version[0] = 'v';
    strcpy(out->version + 1, digits);
    return 0;
}

static int rule_compile(const inlet_device_table *dt, inlet_acl_rule *r,
                        const inlet_acl_rule_conf *c, size_t idx, char *err, size_t err_len)
{
    if (c->effect != INLET_ACL_ALLOW && c->effect != INLET_ACL_DENY)
        return inlet_ident_errf(err, err_len, "acl[%zu].effect: out of range", idx);
    r->effect = c->effect;

    if (c->devices.count) {
        r->devices = calloc(c->devices.count, sizeof(char *));
        if (!r->devices)
            return inlet_ident_errf(err, err_len, "out of memory");
    }
    for (size_t i = 0; i < c->devices.count; i++) {
        const char *d = c->devices.items[i];
        const char *why;
        if (strcmp(d, "*") == 0) {
            r->any_device = true;
            continue;
        }
        why = inlet_device_id_check(d, strlen(d));
        if (why)
            return inlet_ident_errf(err, err_len, "acl[%zu].devices[%zu]: device id %s", idx, i,
                                    why);
        r->devices[r->n_devices] = strdup(d);
        if (!r->devices[r->n_devices])
            return inlet_ident_errf(err, err_len, "out of memory");
        r->n_devices++;
    }
    if (r->n_devices > 1)
        qsort(r->devices, r->n_devices, sizeof(char *), cmp_str);

    if (c->groups.count) {
        r->groups = calloc(dt->group_words ? dt->group_words : 1, sizeof(uint64_t));
        if (!r->groups)
            return inlet_ident_errf(err, err_len, "out of memory");
    }
    for (size_t i = 0; i < c->groups.count; i++) {
        size_t bit = 0;
        /* A misspelt group in a deny rule would silently let a later allow through. */
        if (inlet_device_table_group(dt, c->groups.items[i], &bit))
            return inlet_ident_errf(err, err_len,
                                    "acl[%zu].groups[%zu]: no device is in group \"%s\"", idx, i,
                                    c->groups.items[i]);
        r->groups[bit / 64] |= UINT64_C(1) << (bit % 64);
    }
    if (c->devices.count == 0 && c->groups.count == 0)
        r->any_device = true;

    if (c->schemas.count == 0)
        return inlet_ident_errf(err, err_len, "acl[%zu].schemas: must not be empty", idx);
    r->schemas = calloc(c->schemas.count, sizeof(inlet_acl_schema));
    if (!r->schemas)
        return inlet_ident_errf(err, err_len, "out of memory");
    for (size_t i = 0; i < c->schemas.count; i++) {
        r->n_schemas = i + 1;
        if (inlet_acl_schema_compile(c->schemas.items[i], &r->schemas[i]))
            return inlet_ident_errf(err, err_len,
                                    "acl[%zu].schemas[%zu]: \"%s\" is not \"*\", \"name\", "
                                    "\"name@*\" or \"name@vN\"",
                                    idx, i, c->schemas.items[i]);
    }
    size_t bad = 0;
    int64_t mask = words_mask(&c->protocols, protocol_names, 0, &bad);
    if (mask < 0)
        return inlet_ident_errf(err, err_len,
                                "acl[%zu].protocols[%zu]: \"%s\" is not one of http, mqtt, "
                                "mqtt_bridge, coap, binary, teltonika",
                                idx, bad, c->protocols.items[bad]);
    r->protocols = (uint32_t)mask;
    mask = words_mask(&c->methods, method_names, 1, &bad);
    if (mask < 0)
        return inlet_ident_errf(err, err_len,
                                "acl[%zu].methods[%zu]: \"%s\" is not one of token, jwt, cert, "
                                "psk, imei",
                                idx, bad, c->methods.items[bad]);
    r->methods = (uint32_t)mask;
    if (c->reason) {
        r->reason = strdup(c->reason);
        if (!r->reason)
            return inlet_ident_errf(err, err_len, "out of memory");
    }
    return 0;
}

int inlet_acl_compile(inlet_acl *acl, const inlet_device_table *dt, const inlet_section_list *rules,
                      char *err, size_t err_len)
{
    const inlet_acl_rule_conf *rc = rules->items;

    if (rules->count == 0)
        return 0;
    acl->rules = calloc(rules->count, sizeof(inlet_acl_rule));
    if (!acl->rules)
        return inlet_ident_errf(err, err_len, "out of memory");
    for (size_t i = 0; i < rules->count; i++) {
        acl->n_rules = i + 1;
        if (rule_compile(dt, &acl->rules[i], &rc[i], i, err, err_len))
            return -1;
    }
    return 0;
}

void inlet_acl_free(inlet_acl *acl)
{
    for (size_t i = 0; i < acl->n_rules; i++) {
        inlet_acl_rule *r = &acl->rules[i];
        for (size_t j = 0; j < r->n_devices; j++)
            free(r->devices[j]);
        free(r->devices);
        free(r->groups);
        for (size_t j = 0; j < r->n_schemas; j++) {
            free(r->schemas[j].name);
            free(r->schemas[j].version);
        }
        free(r->schemas);
        free(r->reason);
    }
    free(acl->rules);
    acl->rules = NULL;
    acl->n_rules = 0;
}

void inlet_acl_device_rules(const inlet_acl *acl, const inlet_device_table *dt, const char *device,
                            const uint64_t *groups, inlet_auth_method method, uint64_t *bits)
{
    for (size_t i = 0; i < acl->n_rules; i++) {
        const inlet_acl_rule *r = &acl->rules[i];
        if (r->methods && (method < 0 || method >= 32 || !(r->methods >> method & 1)))
            continue;
        bool match = r->any_device;
        if (!match && r->n_devices)
            match = bsearch(device, r->devices, r->n_devices, sizeof(char *), cmp_str_key) != NULL;
        if (!match && r->groups && groups) {
            for (size_t w = 0; w < dt->group_words && !match; w++)
                match = (r->groups[w] & groups[w]) != 0;
        }
        if (match)
            bits[i / 64] |= UINT64_C(1) << (i % 64);
    }
}

bool inlet_acl_schema_matches(const inlet_acl_schema *s, const char *schema, const char *version)
{
    if (!s->name)
        return true;
    if (strcmp(s->name, schema) != 0)
        return false;
    if (!s->version || strcmp(s->version, version) == 0)
        return true;
    /* A bare "1" is the same version as "v1" (as in the schema registry). */
    return version[0] >= '0' && version[0] <= '9' && strcmp(s->version + 1, version) == 0;
}

inlet_status inlet_acl_decide(const inlet_acl *acl, const uint64_t *device_rules,
                              const char *device, uint32_t protocol, const char *schema,
                              const char *version, char *reason, size_t reason_len)
{
    return inlet_acl_decide_rule(acl, device_rules, device, protocol, schema, version, reason,
                                 reason_len, NULL);
}

inlet_status inlet_acl_decide_rule(const inlet_acl *acl, const uint64_t *device_rules,
                                   const char *device, uint32_t protocol, const char *schema,
                                   const char *version, char *reason, size_t reason_len,
                                   size_t *rule)
{
    if (rule)
        *rule = SIZE_MAX;
    if (!schema)
        schema = "";
    if (!version)
        version = "";
    for (size_t i = 0; i < acl->n_rules; i++) {
        const inlet_acl_rule *r = &acl->rules[i];
        if (!(device_rules[i / 64] >> (i % 64) & 1))
            continue;
        if (r->protocols && !(r->protocols & protocol))
            continue;
        for (size_t j = 0; j < r->n_schemas; j++) {
            if (!inlet_acl_schema_matches(&r->schemas[j], schema, version))
                continue;
            if (rule)
                *rule = i;
            if (r->effect == INLET_ACL_ALLOW)
                return INLET_OK;
            if (r->reason)
                inlet_ident_msgf(reason, reason_len, "%s", r->reason);
            else
                inlet_ident_msgf(reason, reason_len, "acl[%zu] denies %s sending %s@%s", i, device,
                                 schema, version);
            return INLET_E_FORBIDDEN;
        }
    }
    inlet_ident_msgf(reason, reason_len, "no ACL rule allows %s to send %s@%s", device, schema,
                     version);
    return INLET_E_FORBIDDEN;
}
