/*
 * trust_store.h - a tenant's own trust store for client certificates: its CA bundle (roots or
 * intermediates, each a trust anchor), its CRLs, and the rule that no two tenants' bundles
 * overlap. Authenticating a chain with the stores is inlet_tenants_auth_cert() in tenant.h.
 */
#ifndef INLET_TRUST_STORE_H
#define INLET_TRUST_STORE_H

#include <stddef.h>

#include <openssl/x509_vfy.h>

struct inlet_tenant;

/*
 * A trust store holding the PEM certificates of ca_file and nothing else, and the PEM CRLs of
 * crl_file (NULL = none; with one, the leaf's revocation is checked and a missing CRL for its
 * issuer fails verification). The caller owns the store. NULL with the reason in err.
 */
X509_STORE *inlet_trust_store_load(const char *ca_file, const char *crl_file, char *err,
                                   size_t err_len);

/*
 * -1 with a message naming both tenants and the certificate when a certificate of one tenant's
 * bundle is, or is issued (directly or through that bundle) by, a certificate of another's:
 * the devices of one would then verify under the other's CA. origins[i] is "file:line".
 */
int inlet_trust_store_overlap(const struct inlet_tenant *tenants, size_t n,
                              const char *const *origins, char *err, size_t err_len);

#endif
