/*
 * device_table.c - building one tenant's device table: the sorted, unique group names every
 * device mentions, then the devices sorted by id, each with its group bitset.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "device_id.h"
#include "device_table.h"
#include "ident_error.h"
#include "psk_key.h"
#include "tenant.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_str_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

static int cmp_device(const void *a, const void *b)
{
    return strcmp(((const inlet_device *)a)->id, ((const inlet_device *)b)->id);
}

static int cmp_device_key(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const inlet_device *)elem)->id);
}

/* Every group any device names, sorted and unique. */
static int groups_build(inlet_device_table *dt, const inlet_section_list *devices,
                        const char *where, char *err, size_t err_len)
{
    const inlet_device_conf *dc = devices->items;
    size_t total = 0, n = 0;

    for (size_t i = 0; i < devices->count; i++)
        total += dc[i].groups.count;
    if (total == 0)
        return 0;
    dt->group_names = calloc(total, sizeof(char *));
    if (!dt->group_names)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < devices->count; i++) {
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            const char *g = dc[i].groups.items[j];
            const char *why = inlet_device_id_check(g, strlen(g));
            if (why)
                return inlet_ident_errf(err, err_len, "%s: devices[%zu].groups[%zu]: group %s",
                                        where, i, j, why);
            dt->group_names[n] = strdup(g);
            if (!dt->group_names[n])
                return inlet_ident_errf(err, err_len, "%s: out of memory", where);
            dt->n_groups = ++n;
        }
    }
    qsort(dt->group_names, n, sizeof(char *), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u > 0 && strcmp(dt->group_names[u - 1], dt->group_names[i]) == 0) {
            free(dt->group_names[i]);
            continue;
        }
        dt->group_names[u++] = dt->group_names[i];
    }
    dt->n_groups = u;
    dt->group_words = (u + 63) / 64;
    return 0;
}

int inlet_device_table_build(inlet_device_table *dt, const inlet_section_list *devices,
                             const char *where, char *err, size_t err_len)
{
    const inlet_device_conf *dc = devices->items;

    if (groups_build(dt, devices, where, err, err_len))
        return -1;
    if (devices->count == 0)
        return 0;
    dt->devices = calloc(devices->count, sizeof(inlet_device));
    if (!dt->devices)
        return inlet_ident_errf(err, err_len, "%s: out of memory", where);
    for (size_t i = 0; i < devices->count; i++) {
        inlet_device *d = &dt->devices[i];
        const char *why = dc[i].id ? inlet_device_id_check(dc[i].id, strlen(dc[i].id)) : "missing";
        if (why)
            return inlet_ident_errf(err, err_len, "%s: devices[%zu].id: device id %s", where, i,
                                    why);
        dt->n_devices = i + 1;
        d->id = strdup(dc[i].id);
        d->groups = dt->group_words ? calloc(dt->group_words, sizeof(uint64_t)) : NULL;
        if (!d->id || (dt->group_words && !d->groups))
            return inlet_ident_errf(err, err_len, "%s: out of memory", where);
        for (size_t j = 0; j < dc[i].groups.count; j++) {
            size_t bit = 0;
            /* Always found: groups_build() took every group of every device. */
            inlet_device_table_group(dt, dc[i].groups.items[j], &bit);
            d->groups[bit / 64] |= UINT64_C(1) << (bit % 64);
        }
        if (dc[i].psk_file) {
            char why[512];
            if (inlet_psk_key_load(dc[i].psk_file, &d->psk, &d->psk_len, why, sizeof(why)))
                return inlet_ident_errf(err, err_len, "%s: devices[%zu].psk_file: %s", where, i,
                                        why);
        }
    }
    qsort(dt->devices, dt->n_devices, sizeof(inlet_device), cmp_device);
    for (size_t i = 1; i < dt->n_devices; i++) {
        if (strcmp(dt->devices[i - 1].id, dt->devices[i].id) == 0)
            return inlet_ident_errf(err, err_len, "%s: devices: device \"%s\" is listed twice",
                                    where, dt->devices[i].id);
    }
    return 0;
}

void inlet_device_table_free(inlet_device_table *dt)
{
    for (size_t i = 0; i < dt->n_groups; i++)
        free(dt->group_names[i]);
    free(dt->group_names);
    for (size_t i = 0; i < dt->n_devices; i++) {
        free(dt->devices[i].id);
        free(dt->devices[i].groups);
        if (dt->devices[i].psk)
            OPENSSL_cleanse(dt->devices[i].psk, dt->devices[i].psk_len);
        free(dt->devices[i].psk);
    }
    free(dt->devices);
}

const inlet_device *inlet_device_table_find(const inlet_device_table *dt, const char *id)
{
    return dt->n_devices
               ? bsearch(id, dt->devices, dt->n_devices, sizeof(inlet_device), cmp_device_key)
               : NULL;
}

int inlet_device_table_group(const inlet_device_table *dt, const char *name, size_t *bit)
{
    char **g = dt->n_groups
                   ? bsearch(name, dt->group_names, dt->n_groups, sizeof(char *), cmp_str_key)
                   : NULL;
    if (!g)
        return -1;
    *bit = (size_t)(g - dt->group_names);
    return 0;
}
