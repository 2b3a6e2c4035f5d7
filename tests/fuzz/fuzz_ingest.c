/* fuzz_ingest.c - libFuzzer target for the path from a request body to envelopes: decoding in
 * every format (JSON, CBOR, SenML JSON/CBOR, the fleet.position binary layout), event fields,
 * schema lookup, ACL, units, validation and envelope writing (inlet_normalize). The first input
 * byte picks the body form (low bits) and the content type (high bits). Every envelope produced
 * must itself be valid JSON, for the identity's device, with an object payload. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "formats/arena.h"
#include "pipeline/normalize.h"
#include "pipeline/rejection.h"
#include "schema/schema.h"
#include "identity/tenant.h"

static const char tenant_yaml[] =
    "tenant: demo\n"
    "devices:\n"
    "  - id: truck-0042\n"
    "    groups: [trucks]\n"
    "acl:\n"
    "  - effect: allow\n"
    "    groups: [trucks]\n"
    "    schemas: [\"fleet.position@v1\", \"driver.panic\", \"coldchain.temp@v1\"]\n";

static inlet_schemas *schemas;
static inlet_tenants *tenants;
static inlet_identity *identity;

static void setup(void)
{
    char err[1024];
    inlet_conf_file *f = NULL;
    inlet_tenant_conf conf;
    memset(&conf, 0, sizeof(conf));
    if (inlet_schemas_load(INLET_SOURCE_DIR "/schemas", &schemas, err, sizeof(err)) != 0 ||
        inlet_conf_load_string("fuzz.yaml", tenant_yaml, sizeof(tenant_yaml) - 1, &f, err,
                               sizeof(err)) != 0 ||
        inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &conf, NULL, err,
                         sizeof(err)) != 0) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }
    const inlet_tenant_conf *confs[] = {&conf};
    const char *origins[] = {"fuzz.yaml:1"};
    if (inlet_tenants_build(confs, origins, 1, &tenants, err, sizeof(err)) != 0 ||
        inlet_identity_for_device(tenants, "demo", "truck-0042", INLET_AUTH_TOKEN, &identity) !=
            INLET_OK) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }
    inlet_conf_release(inlet_tenant_options, &conf);
    inlet_conf_file_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schemas)
        setup();
    if (size < 1)
        return 0;
    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = identity;
    static const char *const content_types[] = {
        "application/json",       "application/cbor",         "application/senml+json",
        "application/senml+cbor", "application/octet-stream",
    };
    req.form = (inlet_body_form)(1 + data[0] % 3);
    req.content_type = content_types[(data[0] >> 2) % 5];
    /* SenML and binary frames are bare payloads of a schema the request names. */
    req.schema = (data[0] >> 2) % 5 >= 2 && (data[0] & 0x80) ? "coldchain.temp" : "fleet.position";
    req.body = data + 1;
    req.body_len = size - 1;
    req.source = "fuzz";
    req.schema_version = "v1";

    inlet_normalize_input in = {
        .req = &req,
        .schemas = schemas,
        .topic_prefix = "",
        .max_events = 64,
        .received_at_us = 1763720130123000LL,
    };
    inlet_envelope *envs = NULL;
    size_t n = 0;
    inlet_rejection *rej = NULL;
    inlet_status st = inlet_normalize(&in, &envs, &n, &rej);
    if (st == INLET_OK) {
        for (size_t i = 0; i < n; i++) {
            json_error_t jerr;
            json_t *v = json_loadb(envs[i].value, envs[i].value_len, 0, &jerr);
            if (!v || !json_is_object(json_object_get(v, "payload")) ||
                strcmp(json_string_value(json_object_get(v, "device_id")), "truck-0042") != 0)
                abort(); /* an envelope must always be valid JSON for the identity's device */
            json_decref(v);
        }
        inlet_envelopes_free(envs, n);
    } else if (!rej || rej->status != st) {
        abort();
    }
    inlet_rejection_free(rej);
    inlet_arena_reset(inlet_arena_thread());
    return 0;
}
