/*
 * device_table.h - one tenant's configured devices and the groups they are in. Built once from
 * the tenant file, read-only afterwards.
 *
 * Groups are bits: a device's groups, and those an ACL rule names, are bitsets of group_words
 * uint64_t words, bit i standing for group_names[i].
 */
#ifndef INLET_DEVICE_TABLE_H
#define INLET_DEVICE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "inlet/options.h"
#include "tenant.h"

typedef struct inlet_device {
    char *id;
    uint64_t *groups;   /* group bitset; NULL if the tenant has no groups */
    unsigned char *psk; /* DTLS pre-shared key (psk_key.h); NULL if none; cleansed at free */
    size_t psk_len;
    inlet_limits limits; /* resolved: its own merged over the tenant's device_limits */
} inlet_device;

typedef struct inlet_device_table {
    char **group_names; /* sorted, unique */
    size_t n_groups;
    size_t group_words;    /* uint64_t words in every group bitset of this tenant */
    inlet_device *devices; /* sorted by id */
    size_t n_devices;
} inlet_device_table;

/*
 * Fill the zeroed dt from devices (inlet_device_conf items); errors start with where ("file:line:
 * tenant t"). On failure dt holds what was built so far: inlet_device_table_free() it.
 */
int inlet_device_table_build(inlet_device_table *dt, const inlet_section_list *devices,
                             const char *where, char *err, size_t err_len);
void inlet_device_table_free(inlet_device_table *dt);

/* The configured device with this id, or NULL. */
const inlet_device *inlet_device_table_find(const inlet_device_table *dt, const char *id);

/* 0 and the group's bit in *bit, or -1 if no device is in that group. */
int inlet_device_table_group(const inlet_device_table *dt, const char *name, size_t *bit);

#endif
