/*
 * cert_identity.h - loading a tenant's CA bundle into its own trust store. Authenticating a
 * client certificate chain with those stores is inlet_tenants_auth_cert() in tenant.h.
 */
#ifndef INLET_CERT_IDENTITY_H
#define INLET_CERT_IDENTITY_H

#include <stddef.h>

#include <openssl/x509_vfy.h>

/* A trust store holding the PEM certificates of ca_file and nothing else (the caller owns it),
 * or NULL with the reason in err. */
X509_STORE *inlet_cert_ca_load(const char *ca_file, char *err, size_t err_len);

#endif
