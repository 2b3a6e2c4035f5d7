/*
 * ack_policy.h - when a tenant's events are acknowledged: once Kafka has them (ack: kafka, the
 * default) or once this node's spool fsynced them (ack: spool, docs/SPOOL.md). A tenant file
 * says `ack:` for all its schemas and `ack_schemas:` for some: the first ack_schemas rule whose
 * pattern matches the event's schema decides, else the tenant's `ack`.
 */
#ifndef INLET_ACK_POLICY_H
#define INLET_ACK_POLICY_H

#include <stddef.h>

#include "acl.h"
#include "tenant.h"

typedef struct inlet_ack_rule {
    inlet_acl_schema *schemas;
    size_t n_schemas;
    int ack; /* inlet_ack_mode */
} inlet_ack_rule;

typedef struct inlet_ack_policy {
    int ack; /* the tenant's default */
    inlet_ack_rule *rules;
    size_t n_rules;
    int any_spool; /* some event of this tenant may be spooled */
} inlet_ack_policy;

/* Compile the tenant's ack and ack_schemas (inlet_ack_rule_conf items) into the zeroed p; on
 * failure p holds what was compiled, for inlet_ack_policy_free(). */
int inlet_ack_policy_compile(inlet_ack_policy *p, int ack, const inlet_section_list *rules,
                             char *err, size_t err_len);
void inlet_ack_policy_free(inlet_ack_policy *p);
int inlet_ack_policy_decide(const inlet_ack_policy *p, const char *schema, const char *version);

#endif
