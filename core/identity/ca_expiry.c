/* ca_expiry.c - see ca_expiry.h. */
#include "ca_expiry.h"

#include <stdio.h>
#include <time.h>

#include <openssl/x509.h>

#include "metric_labels.h"
#include "metrics.h"

void inlet_ca_expiry_report(const char *tenant, X509_STORE *store)
{
    static const char *const keys[] = {"tenant", "subject"};
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
    for (int i = 0; objs && i < sk_X509_OBJECT_num(objs); i++) {
        X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
        struct tm tm;
        if (!x || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
            continue;
        char subject[256];
        X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
        const char *values[] = {tenant, subject};
        inlet_metric *m = inlet_metric_labelled_kind(
            "inlet_tenant_ca_expiry_seconds",
            "notAfter of each tenant CA certificate (mtls.ca_file), seconds since the epoch.", keys,
            values, 2, 1);
        inlet_metric_set(m, (int64_t)timegm(&tm));
    }
}
