/*
 * tenant_set.h - the layout of the runtime tenant set that tenant.c builds (its tenants and the
 * indexes across them), its allocation, and finding a tenant in it. Private to identity/.
 *
 * Everything here is immutable once inlet_tenants_build() returns, so any number of threads may
 * read it without locks; lifetime is governed by the set's reference count alone.
 */
#ifndef INLET_TENANT_SET_H
#define INLET_TENANT_SET_H

#include <stdatomic.h>
#include <stddef.h>

#include "imei_index.h"
#include "jwt_index.h"
#include "tenant.h"
#include "tenant_runtime.h"
#include "token_index.h"

struct inlet_tenants {
    atomic_size_t refs;
    inlet_tenant *tenants; /* configuration order */
    size_t n;
    const inlet_tenant **by_name; /* sorted by name */
    inlet_token_index tokens;
    inlet_jwt_index jwt;
    inlet_imei_index imeis;
};

/* A set with room for n zeroed tenants (ts->n is 0) and one reference; NULL if out of memory.
 * inlet_tenants_release() frees it with whatever has been built into it. */
inlet_tenants *inlet_tenants_alloc(size_t n);

/* The tenant with this name, or NULL. */
const inlet_tenant *inlet_tenants_find(const inlet_tenants *ts, const char *name);

#endif
