/* tenant_fixture.h - builds a tenant set from YAML documents, the way inletd loads conf.d/
 * tenants (apply each against inlet_tenant_options, then inlet_tenants_build), for the unit
 * tests of identity and ACLs. The documents are named tenant0.yaml, tenant1.yaml, ... in errors;
 * a test that checks names in its messages sets TENANT_FIXTURE_LETTERS first (tenant-a.yaml,
 * tenant-b.yaml, ...). The tenants may share topics unless a document says shared_topics
 * itself or TENANT_FIXTURE_OWN_TOPICS is defined: these tests are about other things than Kafka
 * isolation (test_acl covers that). */
#ifndef INLET_TESTS_TENANT_FIXTURE_H
#define INLET_TESTS_TENANT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "identity/tenant.h"

#define TENANT_FIXTURE_MAX_DOCS 4

/* On success *out is the caller's (inlet_tenants_release); on failure err says why. */
static int build_yaml(const char *const *docs, size_t n, inlet_tenants **out, char *err,
                      size_t err_len)
{
    inlet_tenant_conf confs[TENANT_FIXTURE_MAX_DOCS];
    const inlet_tenant_conf *ptrs[TENANT_FIXTURE_MAX_DOCS];
    char names[TENANT_FIXTURE_MAX_DOCS][32], origins[TENANT_FIXTURE_MAX_DOCS][40];
    const char *optrs[TENANT_FIXTURE_MAX_DOCS];
    size_t applied = 0;
    int rc = -1;

    *out = NULL;
    memset(confs, 0, sizeof(confs));
    if (n > TENANT_FIXTURE_MAX_DOCS) {
        snprintf(err, err_len, "tenant_fixture: at most %d documents", TENANT_FIXTURE_MAX_DOCS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        inlet_conf_file *f = NULL;
#ifdef TENANT_FIXTURE_LETTERS
        snprintf(names[i], sizeof(names[i]), "tenant-%c.yaml", (char)('a' + i));
#else
        snprintf(names[i], sizeof(names[i]), "tenant%zu.yaml", i);
#endif
        char text[4096];
#ifdef TENANT_FIXTURE_OWN_TOPICS
        snprintf(text, sizeof(text), "%s", docs[i]);
#else
        snprintf(text, sizeof(text), "%s\n%s", docs[i],
                 strstr(docs[i], "shared_topics") ? "" : "shared_topics: true\n");
#endif
        if (inlet_conf_load_string(names[i], text, strlen(text), &f, err, err_len))
            goto done;
        const inlet_conf_node *root = inlet_conf_root(f);
        snprintf(origins[i], sizeof(origins[i]), "%s:%d", names[i], inlet_conf_line(f, root));
        int arc = inlet_conf_apply(f, root, inlet_tenant_options, &confs[i], NULL, err, err_len);
        inlet_conf_file_free(f);
        if (arc)
            goto done;
        applied = i + 1;
        ptrs[i] = &confs[i];
        optrs[i] = origins[i];
    }
    rc = inlet_tenants_build(ptrs, optrs, n, out, err, err_len);
done:
    for (size_t i = 0; i < applied; i++)
        inlet_conf_release(inlet_tenant_options, &confs[i]);
    return rc;
}

#endif
