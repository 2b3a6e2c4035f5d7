/* ack_policy.c - see ack_policy.h. */
#include "ack_policy.h"

#include <stdlib.h>

#include "ident_error.h"

int inlet_ack_policy_compile(inlet_ack_policy *p, int ack, const inlet_section_list *rules,
                             char *err, size_t err_len)
{
    const inlet_ack_rule_conf *rc = rules->items;
    p->ack = ack;
    p->any_spool = ack == INLET_ACK_SPOOL;
    if (rules->count == 0)
        return 0;
    p->rules = calloc(rules->count, sizeof(*p->rules));
    if (!p->rules)
        return inlet_ident_errf(err, err_len, "out of memory");
    for (size_t i = 0; i < rules->count; i++) {
        inlet_ack_rule *r = &p->rules[i];
        p->n_rules = i + 1;
        r->ack = rc[i].ack;
        if (r->ack == INLET_ACK_SPOOL)
            p->any_spool = 1;
        if (rc[i].schemas.count == 0)
            return inlet_ident_errf(err, err_len, "ack_schemas[%zu].schemas: must not be empty", i);
        r->schemas = calloc(rc[i].schemas.count, sizeof(*r->schemas));
        if (!r->schemas)
            return inlet_ident_errf(err, err_len, "out of memory");
        for (size_t k = 0; k < rc[i].schemas.count; k++) {
            r->n_schemas = k + 1;
            if (inlet_acl_schema_compile(rc[i].schemas.items[k], &r->schemas[k]))
                return inlet_ident_errf(err, err_len,
                                        "ack_schemas[%zu].schemas[%zu]: \"%s\" is not \"*\", "
                                        "\"name\", \"name@*\" or \"name@vN\"",
                                        i, k, rc[i].schemas.items[k]);
        }
    }
    return 0;
}

void inlet_ack_policy_free(inlet_ack_policy *p)
{
    for (size_t i = 0; i < p->n_rules; i++) {
        for (size_t k = 0; k < p->rules[i].n_schemas; k++) {
            free(p->rules[i].schemas[k].name);
            free(p->rules[i].schemas[k].version);
        }
        free(p->rules[i].schemas);
    }
    free(p->rules);
    p->rules = NULL;
    p->n_rules = 0;
}

int inlet_ack_policy_decide(const inlet_ack_policy *p, const char *schema, const char *version)
{
    if (!p->any_spool)
        return INLET_ACK_KAFKA;
    for (size_t i = 0; i < p->n_rules; i++)
        for (size_t k = 0; k < p->rules[i].n_schemas; k++)
            if (inlet_acl_schema_matches(&p->rules[i].schemas[k], schema ? schema : "",
                                         version ? version : ""))
                return p->rules[i].ack;
    return p->ack;
}
