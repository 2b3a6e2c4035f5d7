/*
 * tenant_runtime.h - one tenant as the runtime set holds it: what tenant.c built from its
 * tenant file. Private to identity/; immutable once inlet_tenants_build() returns.
 */
#ifndef INLET_TENANT_RUNTIME_H
#define INLET_TENANT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509_vfy.h>

#include "ack_policy.h"
#include "acl.h"
#include "device_table.h"
#include "jwt_key.h"

typedef struct inlet_tenant {
    char *name;
    char *topic_prefix; /* never NULL */
    inlet_device_table devices;
    inlet_jwt_key *keys; /* in configuration order; each key's tenant points back here */
    size_t n_keys;
    X509_STORE *ca;      /* NULL = no mTLS for this tenant */
    int device_id_from;  /* inlet_cert_id_from */
    bool allow_unlisted; /* a certificate may name a device not in `devices` */
    inlet_acl acl;
    inlet_limits limits;        /* resolved (limits.c) */
    inlet_limits device_limits; /* resolved; devices[i].limits are merged over it */
    char *dead_letter_topic;    /* NULL = none */
    int64_t dead_letter_rate;
    inlet_ack_policy ack; /* ack: kafka | spool, per schema */
} inlet_tenant;

#endif
