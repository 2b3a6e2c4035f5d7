/*
 * tenant_internal.h - the runtime tenant set as tenant.c builds it and token.c, jwt.c,
 * cert_identity.c and acl.c read it. Private to the core.
 *
 * Everything here is immutable once inlet_tenants_build() returns, so any number of threads may
 * read it without locks; lifetime is governed by the set's reference count alone.
 */
#ifndef INLET_TENANT_INTERNAL_H
#define INLET_TENANT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "device_id.h"
#include "file_read.h"
#include "ident_error.h"
#include "inlet/module.h"
#include "tenant.h"

#define INLET_TENANT_NAME_MAX 64

typedef struct inlet_tenant inlet_tenant;

typedef struct inlet_device {
    char *id;
    uint64_t *groups; /* bitset over tenant->group_names, tenant->group_words words */
} inlet_device;

/* One compiled schema pattern: name NULL = "*"; version NULL = any version. */
typedef struct inlet_acl_schema {
    char *name;
    char *version;
} inlet_acl_schema;

typedef struct inlet_acl_rule {
    int effect;      /* inlet_acl_effect */
    bool any_device; /* "*" in devices, or a rule naming neither devices nor groups */
    char **devices;  /* sorted, for bsearch */
    size_t n_devices;
    uint64_t *groups; /* bitset over tenant->group_names; NULL if the rule names no groups */
    inlet_acl_schema *schemas;
    size_t n_schemas;
    char *reason; /* NULL = the generic message */
} inlet_acl_rule;

typedef struct inlet_jwt_key {
    const inlet_tenant *tenant;
    char *kid;    /* NULL if not configured */
    char *issuer; /* NULL = iss is not checked */
    int alg;      /* inlet_jwt_alg, pinned */
    char **audience;
    size_t n_audience;
    char *device_claim;
    int64_t clock_skew_ms;
    int64_t max_lifetime_ms;
    unsigned char *secret; /* HS256 */
    size_t secret_len;
    EVP_PKEY *pkey; /* RS256 / ES256 public key */
} inlet_jwt_key;

struct inlet_tenant {
    char *name;
    char *topic_prefix; /* never NULL */
    char **group_names; /* sorted, unique */
    size_t n_groups;
    size_t group_words;    /* uint64_t words in every group bitset of this tenant */
    inlet_device *devices; /* sorted by id */
    size_t n_devices;
    inlet_jwt_key *keys; /* in configuration order */
    size_t n_keys;
    X509_STORE *ca;        /* NULL = no mTLS for this tenant */
    int device_id_from;    /* inlet_cert_id_from */
    inlet_acl_rule *rules; /* in configuration order: first match wins */
    size_t n_rules;
};

typedef struct inlet_token_entry {
    unsigned char digest[32];
    const inlet_tenant *tenant;
    char *device;
} inlet_token_entry;

struct inlet_tenants {
    atomic_size_t refs;
    inlet_tenant *tenants; /* configuration order */
    size_t n;
    const inlet_tenant **by_name; /* sorted by name */
    inlet_token_entry *tokens;    /* sorted by digest */
    size_t n_tokens;
    const inlet_jwt_key **keys_by_kid; /* sorted by kid; keys without kid are absent */
    size_t n_kid;
    const inlet_jwt_key **keys_by_issuer; /* sorted by issuer, configuration order within one */
    size_t n_issuer;
    const inlet_jwt_key *sole_issuerless; /* the one key without issuer, if exactly one */
};

/* The block behind every inlet_identity the core hands out (pub is first). */
typedef struct inlet_identity_block {
    inlet_identity pub;
    atomic_uint refs;
    inlet_tenants *ts; /* one reference held */
    const inlet_tenant *tenant;
    const uint64_t *groups; /* the device's groups; NULL if it is not in devices[] */
    uint64_t *rules;        /* bit i: rule i's device/group condition matches this device */
    int has_token;          /* made from an opaque token: its digest, to check after reloads */
    unsigned char token_digest[32];
} inlet_identity_block;

static inline const inlet_identity_block *inlet_identity_block_of(const inlet_identity *id)
{
    return (const inlet_identity_block *)(const void *)id;
}

/* tenant_set.c */
/* A set with room for n tenants, none built yet, and one reference; NULL if out of memory. */
inlet_tenants *inlet_tenants_alloc(size_t n);
const inlet_tenant *inlet_tenants_find(const inlet_tenants *ts, const char *name);

/* identity.c */
/* A new identity for device (len bytes, validated by the caller) of tenant t in ts. */
inlet_status inlet_identity_new(inlet_tenants *ts, const inlet_tenant *t, const char *device,
                                size_t len, inlet_auth_method method, inlet_identity **out);

/* token.c */
int inlet_token_index_build(inlet_tenants *ts, const inlet_tenant_conf *const *confs,
                            const char *const *origins, char *err, size_t err_len);
void inlet_token_index_free(inlet_tenants *ts);
/* Does ts still map the token with this digest to tenant/device? (after a reload) */
int inlet_token_still_valid(const inlet_tenants *ts, const unsigned char digest[32],
                            const char *tenant, const char *device);
inlet_status inlet_token_auth(inlet_tenants *ts, const char *token, size_t len,
                              inlet_identity **out, char *msg, size_t msg_len);

/* jwt.c */
int inlet_jwt_key_load(inlet_jwt_key *key, const inlet_jwt_key_conf *conf, char *err,
                       size_t err_len);
void inlet_jwt_key_free(inlet_jwt_key *key);
int inlet_jwt_index_build(inlet_tenants *ts, const char *const *origins, char *err, size_t err_len);
void inlet_jwt_index_free(inlet_tenants *ts);
inlet_status inlet_jwt_auth(inlet_tenants *ts, const char *token, size_t len, int64_t now_s,
                            inlet_identity **out, char *msg, size_t msg_len);

/* cert_identity.c */
int inlet_cert_ca_load(inlet_tenant *t, const char *ca_file, char *err, size_t err_len);

/* acl.c */
int inlet_acl_compile(inlet_tenant *t, const inlet_section_list *acl, char *err, size_t err_len);
void inlet_acl_free(inlet_tenant *t);
/* Set bit i of bits (tenant words: (n_rules + 63) / 64) when rule i's device condition holds. */
void inlet_acl_device_rules(const inlet_tenant *t, const char *device, const uint64_t *groups,
                            uint64_t *bits);

#endif
