/*
 * imei_index.h - the tracker IMEIs that devices of every tenant of a set declare, sorted for
 * binary search. An IMEI names exactly one device of one tenant. Read-only once built.
 */
#ifndef INLET_IMEI_INDEX_H
#define INLET_IMEI_INDEX_H

#include <stddef.h>

#include "tenant.h"

#define INLET_IMEI_LEN 15 /* digits; 3GPP TS 23.003 §6.2.1: TAC 8, serial 6, check digit 1 */

struct inlet_tenant;

typedef struct inlet_imei_entry {
    char imei[INLET_IMEI_LEN + 1];
    const struct inlet_tenant *tenant;
    const char *device; /* the tenant's device table's copy of the id */
    size_t origin;      /* index of the tenant (and of its file in origins) */
} inlet_imei_entry;

typedef struct inlet_imei_index {
    inlet_imei_entry *entries; /* sorted by imei */
    size_t n;
} inlet_imei_index;

/* "is not 15 digits" for a string that is not an IMEI, NULL for one. */
const char *inlet_imei_check(const char *s, size_t len);

/*
 * Fill the zeroed ix from the devices of confs[i], which built tenants[i] (n of each); origins[i]
 * is "file:line" for errors. An IMEI declared twice is an error naming both places. On failure ix
 * holds what was indexed so far: inlet_imei_index_free() it. Nothing in confs is retained.
 */
int inlet_imei_index_build(inlet_imei_index *ix, const struct inlet_tenant *tenants, size_t n,
                           const inlet_tenant_conf *const *confs, const char *const *origins,
                           char *err, size_t err_len);
void inlet_imei_index_free(inlet_imei_index *ix);

/* The entry for this IMEI (len bytes), or NULL. */
const inlet_imei_entry *inlet_imei_index_find(const inlet_imei_index *ix, const char *imei,
                                              size_t len);

#endif
