/*
 * imei_index.c - indexing the IMEIs devices declare across all tenants of a set, and finding
 * one. Device ids point into each tenant's device table, built before this index.
 */
#include <stdlib.h>
#include <string.h>

#include "device_table.h"
#include "ident_error.h"
#include "imei_index.h"
#include "tenant.h"
#include "tenant_runtime.h"

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const inlet_imei_entry *)a)->imei, ((const inlet_imei_entry *)b)->imei);
}

static int cmp_entry_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const inlet_imei_entry *)elem)->imei);
}

static const char *origin_at(const char *const *origins, size_t i)
{
    return origins && origins[i] ? origins[i] : "tenant";
}

const char *inlet_imei_check(const char *s, size_t len)
{
    if (!s || len != INLET_IMEI_LEN)
        return "must be 15 digits";
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "must be 15 digits";
    }
    return NULL;
}

int inlet_imei_index_build(inlet_imei_index *ix, const inlet_tenant *tenants, size_t n,
                           const inlet_tenant_conf *const *confs, const char *const *origins,
                           char *err, size_t err_len)
{
    size_t total = 0;

    for (size_t i = 0; i < n; i++) {
        const inlet_device_conf *dc = confs[i]->devices.items;
        for (size_t j = 0; j < confs[i]->devices.count; j++)
            total += dc[j].imei != NULL;
    }
    if (total == 0)
        return 0;
    ix->entries = calloc(total, sizeof(inlet_imei_entry));
    if (!ix->entries)
        return inlet_ident_errf(err, err_len, "imei: out of memory");
    for (size_t i = 0; i < n; i++) {
        const inlet_device_conf *dc = confs[i]->devices.items;
        for (size_t j = 0; j < confs[i]->devices.count; j++) {
            if (!dc[j].imei)
                continue;
            const char *why = inlet_imei_check(dc[j].imei, strlen(dc[j].imei));
            if (why)
                return inlet_ident_errf(err, err_len, "%s: tenant %s: devices[%zu].imei: %s",
                                        origin_at(origins, i), tenants[i].name, j, why);
            const inlet_device *d = inlet_device_table_find(&tenants[i].devices, dc[j].id);
            if (!d) /* the table was built from the same list */
                return inlet_ident_errf(err, err_len, "%s: tenant %s: devices[%zu]: not indexed",
                                        origin_at(origins, i), tenants[i].name, j);
            inlet_imei_entry *e = &ix->entries[ix->n++];
            memcpy(e->imei, dc[j].imei, INLET_IMEI_LEN + 1);
            e->tenant = &tenants[i];
            e->device = d->id;
            e->origin = i;
        }
    }
    qsort(ix->entries, ix->n, sizeof(inlet_imei_entry), cmp_entry);
    for (size_t i = 1; i < ix->n; i++) {
        const inlet_imei_entry *a = &ix->entries[i - 1], *b = &ix->entries[i];
        if (strcmp(a->imei, b->imei) == 0) {
            /* A tracker sends nothing but its IMEI: two owners would make it ambiguous. */
            const inlet_imei_entry *first = a->origin <= b->origin ? a : b;
            const inlet_imei_entry *second = first == a ? b : a;
            return inlet_ident_errf(err, err_len,
                                    "%s: tenant %s: device %s: imei %s is already declared by "
                                    "device %s of tenant %s (%s); an IMEI belongs to one device",
                                    origin_at(origins, second->origin), second->tenant->name,
                                    second->device, b->imei, first->device, first->tenant->name,
                                    origin_at(origins, first->origin));
        }
    }
    return 0;
}

void inlet_imei_index_free(inlet_imei_index *ix)
{
    free(ix->entries);
    ix->entries = NULL;
    ix->n = 0;
}

const inlet_imei_entry *inlet_imei_index_find(const inlet_imei_index *ix, const char *imei,
                                              size_t len)
{
    char key[INLET_IMEI_LEN + 1];

    if (ix->n == 0 || inlet_imei_check(imei, len))
        return NULL;
    memcpy(key, imei, INLET_IMEI_LEN);
    key[INLET_IMEI_LEN] = '\0';
    return bsearch(key, ix->entries, ix->n, sizeof(inlet_imei_entry), cmp_entry_key);
}
