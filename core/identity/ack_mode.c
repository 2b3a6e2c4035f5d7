/* ack_mode.c - inlet_identity_ack_mode() and inlet_tenants_use_spool() (tenant.h): the ack
 * policy (ack_policy.c) of an identity's tenant, and of a whole set. */
#include "ack_policy.h"
#include "identity.h"
#include "tenant_runtime.h"
#include "tenant_set.h"

inlet_ack_mode inlet_identity_ack_mode(const inlet_identity *id, const char *schema,
                                       const char *version)
{
    const inlet_identity_block *b = inlet_identity_block_of(id);
    return (inlet_ack_mode)inlet_ack_policy_decide(&b->tenant->ack, schema, version);
}

int inlet_tenants_use_spool(const inlet_tenants *ts)
{
    for (size_t i = 0; ts && i < ts->n; i++)
        if (ts->tenants[i].ack.any_spool)
            return 1;
    return 0;
}
