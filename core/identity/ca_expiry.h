/* ca_expiry.h - the expiry of every tenant CA certificate as a gauge,
 * inlet_tenant_ca_expiry_seconds{tenant,subject} = notAfter in seconds since the epoch, so an
 * alert can fire before devices' certificates stop verifying. */
#ifndef INLET_CA_EXPIRY_H
#define INLET_CA_EXPIRY_H

#include <openssl/x509_vfy.h>

/* Set the gauges of every certificate in store (tenant's mtls.ca_file). */
void inlet_ca_expiry_report(const char *tenant, X509_STORE *store);

#endif
