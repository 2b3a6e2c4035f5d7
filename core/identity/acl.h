/*
 * acl.h - one tenant's ACL: ordered rules, compiled once from the tenant file and read-only
 * afterwards. The first rule whose device condition and schema pattern both match decides; no
 * match denies.
 *
 * The device condition depends only on the device, so it is evaluated once per identity into a
 * bitset (bit i: rule i applies, inlet_acl_rule_words() words); the per-event decision then only
 * compares schema names.
 */
#ifndef INLET_ACL_H
#define INLET_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device_table.h"
#include "inlet/module.h"

/* One compiled schema pattern: name NULL = "*"; version NULL = any version. */
typedef struct inlet_acl_schema {
    char *name;
    char *version;
} inlet_acl_schema;

/* Compile "*", "name", "name@*", "name@vN" into *out (its strings malloc'd); -1 if invalid.
 * Also used for the ack: patterns of a tenant (ack_policy.c). */
int inlet_acl_schema_compile(const char *pat, inlet_acl_schema *out);
bool inlet_acl_schema_matches(const inlet_acl_schema *s, const char *schema, const char *version);

typedef struct inlet_acl_rule {
    int effect;      /* inlet_acl_effect */
    bool any_device; /* "*" in devices, or a rule naming neither devices nor groups */
    char **devices;  /* sorted, for bsearch */
    size_t n_devices;
    uint64_t *groups; /* group bitset of the tenant's device table; NULL if the rule names none */
    inlet_acl_schema *schemas;
    size_t n_schemas;
    char *reason;       /* NULL = the generic message */
    uint32_t protocols; /* bit inlet_acl_protocol_bit(); 0 = any protocol */
    uint32_t methods;   /* bit 1 << inlet_auth_method; 0 = any method */
} inlet_acl_rule;

typedef struct inlet_acl {
    inlet_acl_rule *rules; /* in configuration order: first match wins */
    size_t n_rules;
} inlet_acl;

/*
 * Compile rules (inlet_acl_rule_conf items) into the zeroed acl; group names are resolved in
 * dt. On failure acl holds what was compiled so far: inlet_acl_free() it.
 */
int inlet_acl_compile(inlet_acl *acl, const inlet_device_table *dt, const inlet_section_list *rules,
                      char *err, size_t err_len);
void inlet_acl_free(inlet_acl *acl);

static inline size_t inlet_acl_rule_words(const inlet_acl *acl)
{
    return (acl->n_rules + 63) / 64;
}

/* Set bit i of bits (zeroed, inlet_acl_rule_words() words) when rule i's device condition holds
 * for device, whose group bitset in dt is groups (NULL if it is not a configured device), as
 * authenticated by method (the rule's methods are part of that condition). */
void inlet_acl_device_rules(const inlet_acl *acl, const inlet_device_table *dt, const char *device,
                            const uint64_t *groups, inlet_auth_method method, uint64_t *bits);

/* The bit of a protocol name (inlet_request.source, '-' = '_'), or 0 if it is none we know. */
uint32_t inlet_acl_protocol_bit(const char *source);

/*
 * May device, whose rule bits inlet_acl_device_rules() computed, send schema@version over
 * protocol (inlet_acl_protocol_bit(); 0 = unknown: rules naming protocols are skipped)? INLET_OK,
 * or INLET_E_FORBIDDEN with the deciding rule's reason (or why none allowed it) in reason.
 */
inlet_status inlet_acl_decide(const inlet_acl *acl, const uint64_t *device_rules,
                              const char *device, uint32_t protocol, const char *schema,
                              const char *version, char *reason, size_t reason_len);
/* The same, telling which rule decided (*rule: its index, SIZE_MAX when none matched). */
inlet_status inlet_acl_decide_rule(const inlet_acl *acl, const uint64_t *device_rules,
                                   const char *device, uint32_t protocol, const char *schema,
                                   const char *version, char *reason, size_t reason_len,
                                   size_t *rule);

#endif
