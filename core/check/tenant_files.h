/*
 * tenant_files.h - the tenant files of a configuration, loaded for a whole-directory check:
 * every file applied (all its errors, and the line of every key), the references between and
 * across tenants checked (tenant_refs.c), then the runtime set built. --check-config, startup,
 * SIGHUP and `inletd explain` all go through here, so they find the same errors.
 */
#ifndef INLET_TENANT_FILES_H
#define INLET_TENANT_FILES_H

#include <stddef.h>

#include "config/config.h"
#include "identity/tenant.h"
#include "schema/schema.h"

typedef struct inlet_tenant_files {
    size_t n;
    inlet_tenant_conf **confs; /* each applied without error */
    char **origins;            /* "file:line" of confs[i]'s tenant: key */
    inlet_conf_marks **marks;  /* the line of every key of confs[i] */
    unsigned char *bad;        /* tenant_refs.c found an error in confs[i] */
} inlet_tenant_files;

/* Apply every file of paths that holds "tenant:" (others are skipped) into the zeroed tf; each
 * error is added to errs. Returns the number of errors. */
int inlet_tenant_files_load(const char *const *paths, size_t n, inlet_tenant_files *tf,
                            inlet_conf_errors *errs);
/* References: ACL schemas against schemas (NULL: not checked, they failed to load), ACL groups
 * against the devices' groups, tokens against the declared devices, identities (tenant names,
 * token digests, IMEIs, JWT kids) unique across tenants, naming both files. Returns the number of
 * errors added. */
int inlet_tenant_files_check(inlet_tenant_files *tf, const inlet_schemas *schemas,
                             inlet_conf_errors *errs);
/* Build the runtime set (*out) when no error was found; what building finds (unreadable keys, a
 * bad CA) is added to errs with the line of the key at fault. Returns the number of errors. */
int inlet_tenant_files_build(const inlet_tenant_files *tf, inlet_tenants **out,
                             inlet_conf_errors *errs);
/* "file:line" of tenant's acl[rule] (buf), or NULL if unknown. */
const char *inlet_tenant_files_rule_where(const inlet_tenant_files *tf, const char *tenant,
                                          size_t rule, char *buf, size_t buf_len);
void inlet_tenant_files_free(inlet_tenant_files *tf);

#endif
