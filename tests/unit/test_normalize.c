/* test_normalize.c - from request bodies to envelopes and rejections (core/normalize.c). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "formats/json_write.h"
#include "pipeline/normalize.h"
#include "pipeline/rejection.h"
#include "schema/schema.h"
#include "identity/tenant.h"

static const char tenants_yaml[] = "tenant: demo\n"
                                   "topic_prefix: \"eu.\"\n"
                                   "devices:\n"
                                   "  - id: truck-0042\n"
                                   "    groups: [trucks]\n"
                                   "acl:\n"
                                   "  - effect: deny\n"
                                   "    protocols: [coap]\n"
                                   "    schemas: [\"*\"]\n"
                                   "    reason: no coap\n"
                                   "  - effect: allow\n"
                                   "    groups: [trucks]\n"
                                   "    schemas: [\"fleet.position@v1\"]\n";
static const char *source = "http";

static const char reference[] =
    "{\"events\": [{\n"
    "   \"device_id\": \"truck-0042\",\n"
    "   \"ts\": \"2026-11-21T10:15:30.123Z\",\n"
    "   \"use_case\": \"fleet.position\",\n"
    "   \"schema\": \"v1\",\n"
    "   \"payload\": {\"lat\": 52.52, \"lon\": 13.405, \"speed_kmh\": 61.2, \"heading_deg\": 270, "
    "\"status\": \"delivering\"}\n"
    "}]}";

static inlet_schemas *schemas;
static inlet_tenants *tenants;
static inlet_identity *truck;

static void setup(void)
{
    char err[1024] = "";
    inlet_conf_file *f = NULL;
    inlet_tenant_conf conf;
    memset(&conf, 0, sizeof(conf));
    int ok = inlet_schemas_load(INLET_SOURCE_DIR "/schemas", &schemas, err, sizeof(err)) == 0 &&
             inlet_conf_load_string("t.yaml", tenants_yaml, sizeof(tenants_yaml) - 1, &f, err,
                                    sizeof(err)) == 0 &&
             inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &conf, NULL, err,
                              sizeof(err)) == 0;
    const inlet_tenant_conf *confs[] = {&conf};
    const char *origins[] = {"t.yaml:1"};
    ok = ok && inlet_tenants_build(confs, origins, 1, &tenants, err, sizeof(err)) == 0 &&
         inlet_identity_for_device(tenants, "demo", "truck-0042", INLET_AUTH_TOKEN, &truck) ==
             INLET_OK;
    if (!ok) {
        fprintf(stderr, "setup: %s\n", err);
        exit(1);
    }
    inlet_conf_release(inlet_tenant_options, &conf);
    inlet_conf_file_free(f);
}

typedef struct result {
    inlet_status st;
    inlet_envelope *envs;
    size_t n;
    inlet_rejection *rej;
} result;

static result run(inlet_body_form form, const char *body, const char *content_type)
{
    inlet_request req;
    memset(&req, 0, sizeof(req));
    req.size = sizeof(req);
    req.identity = truck;
    req.form = form;
    req.body = body;
    req.body_len = strlen(body);
    req.content_type = content_type;
    req.source = source;
    req.schema = "fleet.position";
    req.schema_version = "v1";
    inlet_normalize_input in = {
        .req = &req,
        .schemas = schemas,
        .topic_prefix = inlet_identity_topic_prefix(truck),
        .max_events = 3,
        .received_at_us = 1763720131741000LL, /* 2025-11-21T10:15:31.741Z */
    };
    result r;
    r.st = inlet_normalize(&in, &r.envs, &r.n, &r.rej);
    return r;
}

static void done(result *r)
{
    inlet_envelopes_free(r->envs, r->n);
    inlet_rejection_free(r->rej);
}

static void test_reference_body(void)
{
    result r = run(INLET_FORM_BATCH, reference, "application/json");
    CHECK(r.st == INLET_OK);
    CHECK(r.n == 1);
    if (r.n == 1) {
        inlet_envelope *e = &r.envs[0];
        CHECK_STR(e->topic, "eu.fleet.updates.v1");
        CHECK_STR(e->key, "truck-0042");
        CHECK(strlen(e->event_id) == 36 && e->event_id[14] == '7');
        char expected[1024];
        snprintf(expected, sizeof(expected),
                 "{\"tenant\":\"demo\",\"device_id\":\"truck-0042\",\"event_id\":\"%s\","
                 "\"ts\":\"2026-11-21T10:15:30.123Z\",\"received_at\":\"2025-11-21T10:15:31.741Z\","
                 "\"schema\":\"fleet.position\",\"schema_version\":\"v1\",\"source\":\"http\","
                 "\"payload\":{\"lat\":52.52,\"lon\":13.405,\"speed_kmh\":61.2,\"heading_deg\":270,"
                 "\"status\":\"delivering\"}}",
                 e->event_id);
        CHECK_STR(e->value, expected);
        CHECK(e->value_len == strlen(expected));
    }
    done(&r);
}

static void test_fill_device_and_keep_event_id(void)
{
    result r = run(INLET_FORM_EVENT,
                   "{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"event_id\":\"dev-1:42\","
                   "\"ts\":\"2026-11-21T12:15:30.5+02:00\",\"payload\":{\"lat\":1,\"lon\":2,"
                   "\"speed_kmh\":0,\"status\":\"idle\"}}",
                   "application/json; charset=utf-8");
    CHECK(r.st == INLET_OK);
    if (r.n == 1) {
        CHECK_STR(r.envs[0].event_id, "dev-1:42");
        CHECK_CONTAINS(r.envs[0].value, "\"device_id\":\"truck-0042\"");
        CHECK_CONTAINS(r.envs[0].value, "\"ts\":\"2026-11-21T10:15:30.500Z\"");
    }
    done(&r);
}

static void test_payload_form(void)
{
    result r = run(INLET_FORM_PAYLOAD,
                   "{\"lat\":1.5,\"lon\":2,\"speed_kmh\":3,\"status\":\"idle\"}", NULL);
    CHECK(r.st == INLET_OK);
    if (r.n == 1) {
        CHECK_CONTAINS(r.envs[0].value, "\"ts\":\"2025-11-21T10:15:31.741Z\"");
        CHECK_CONTAINS(r.envs[0].value, "\"payload\":{\"lat\":1.5,\"lon\":2,");
    }
    done(&r);
}

static void test_device_mismatch_is_forbidden(void)
{
    result r = run(INLET_FORM_BATCH,
                   "{\"events\":[{\"device_id\":\"truck-0099\",\"use_case\":\"fleet.position\","
                   "\"schema\":\"v1\",\"payload\":{\"lat\":1,\"lon\":2,\"speed_kmh\":0,"
                   "\"status\":\"idle\"}}]}",
                   NULL);
    CHECK(r.st == INLET_E_FORBIDDEN);
    CHECK(r.envs == NULL);
    CHECK(r.rej && r.rej->n_errors == 1);
    if (r.rej && r.rej->n_errors == 1) {
        CHECK_STR(r.rej->errors[0].pointer, "/device_id");
        CHECK_CONTAINS(r.rej->errors[0].message, "does not match the authenticated device");
    }
    done(&r);
}

static void test_partly_invalid_batch_refused_whole(void)
{
    result r = run(INLET_FORM_BATCH,
                   "{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
                   "{\"lat\":1,\"lon\":2,\"speed_kmh\":0,\"status\":\"idle\"}},"
                   "{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":"
                   "{\"lat\":123.4,\"lon\":2,\"speed_kmh\":0,\"status\":\"idle\"}}]}",
                   NULL);
    CHECK(r.st == INLET_E_INVALID);
    CHECK(r.n == 0 && r.envs == NULL);
    CHECK(r.rej && r.rej->n_events == 2 && r.rej->n_errors == 1);
    if (r.rej && r.rej->n_errors == 1) {
        CHECK(r.rej->errors[0].index == 1);
        CHECK_STR(r.rej->errors[0].pointer, "/payload/lat");
        CHECK_STR(r.rej->errors[0].message, "123.4 is greater than maximum 90");
    }
    done(&r);
}

static void test_acl_deny(void)
{
    result r = run(INLET_FORM_BATCH,
                   "{\"events\":[{\"use_case\":\"driver.panic\",\"schema\":\"v1\",\"payload\":"
                   "{\"lat\":1,\"lon\":2,\"reason\":\"medical\"}}]}",
                   NULL);
    CHECK(r.st == INLET_E_FORBIDDEN);
    CHECK(r.rej && r.rej->n_errors == 1);
    done(&r);

    /* the request's source reaches the ACL: a rule for coap denies there only */
    const char *allowed = reference;
    source = "coap";
    r = run(INLET_FORM_BATCH, allowed, NULL);
    CHECK(r.st == INLET_E_FORBIDDEN);
    CHECK(r.rej && r.rej->n_errors == 1 && strstr(r.rej->errors[0].message, "no coap"));
    done(&r);
    source = "http";
    r = run(INLET_FORM_BATCH, allowed, NULL);
    CHECK(r.st == INLET_OK);
    done(&r);
}

/* Regression: one refusal listed every error, so 95,000 unknown fields in a 1 MB body made
 * 95,000 entries (and 190,000 strings) to build, send and log. */
static void test_rejection_cap(void)
{
    const size_t fields = 95000;
    size_t cap = fields * 12 + 256, len = 0;
    char *body = malloc(cap);
    if (!body) {
        CHECK(0);
        return;
    }
    len += (size_t)snprintf(body + len, cap - len,
                            "{\"events\":[{\"use_case\":"
                            "\"fleet.position\",\"schema\":\"v1\"");
    for (size_t i = 0; i < fields; i++)
        len += (size_t)snprintf(body + len, cap - len, ",\"x%05zu\":0", i);
    snprintf(body + len, cap - len, "}]}");
    CHECK(strlen(body) > 1000000 && strlen(body) < 1200000);
    result r = run(INLET_FORM_BATCH, body, NULL);
    CHECK(r.st == INLET_E_INVALID);
    CHECK(r.rej && r.rej->n_errors == INLET_REJECTION_MAX_ERRORS + 1);
    if (r.rej && r.rej->n_errors == INLET_REJECTION_MAX_ERRORS + 1) {
        CHECK_CONTAINS(r.rej->errors[0].pointer, "/x00000");
        CHECK_STR(r.rej->errors[INLET_REJECTION_MAX_ERRORS].message,
                  "94901 more errors not listed (a refusal lists at most 100)");
    }
    done(&r);
    free(body);
}

static void test_shape_errors(void)
{
    struct {
        const char *body;
        inlet_status st;
        const char *needle;
    } cases[] = {
        {"{\"events\": [ {", INLET_E_INVALID, "malformed JSON at line 1"},
        {"[]", INLET_E_INVALID, "must be an object"},
        {"{\"events\":[]}", INLET_E_INVALID, "non-empty array"},
        {"{\"events\":[1],\"extra\":true}", INLET_E_INVALID, "unknown field \"extra\""},
        {"{\"events\":[1,2,3,4]}", INLET_E_TOO_LARGE, "4 events exceed the limit of 3"},
        {"{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"payload\":{},"
         "\"colour\":1}]}",
         INLET_E_INVALID, "/colour"},
        {"{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v7\",\"payload\":{}}]}",
         INLET_E_UNKNOWN_SCHEMA, "unknown schema fleet.position version v7"},
        {"{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"ts\":\"yesterday\","
         "\"payload\":{\"lat\":1,\"lon\":2,\"speed_kmh\":0,\"status\":\"idle\"}}]}",
         INLET_E_INVALID, "/ts"},
        {"{\"events\":[{\"use_case\":\"fleet.position\",\"schema\":\"v1\",\"event_id\":\"a b\","
         "\"payload\":{\"lat\":1,\"lon\":2,\"speed_kmh\":0,\"status\":\"idle\"}}]}",
         INLET_E_INVALID, "/event_id"},
        {"{\"events\":[{\"payload\":{}}], \"events\":[]}", INLET_E_INVALID, "duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result r = run(INLET_FORM_BATCH, cases[i].body, NULL);
        CHECK(r.st == cases[i].st);
        CHECK(r.envs == NULL);
        if (r.rej) {
            char all[2048];
            size_t off = (size_t)snprintf(all, sizeof(all), "%s", r.rej->message);
            for (size_t e = 0; e < r.rej->n_errors && off < sizeof(all); e++)
                off += (size_t)snprintf(all + off, sizeof(all) - off, " | %s %s",
                                        r.rej->errors[e].pointer, r.rej->errors[e].message);
            CHECK_CONTAINS(all, cases[i].needle);
        } else {
            CHECK(!"a rejection was expected");
        }
        done(&r);
    }
    result r = run(INLET_FORM_BATCH, reference, "text/plain");
    CHECK(r.st == INLET_E_MEDIA_TYPE);
    done(&r);
}

static void test_shortest_doubles(void)
{
    char out[40];
    inlet_json_format_double(52.52, out);
    CHECK_STR(out, "52.52");
    inlet_json_format_double(0.1 + 0.2, out);
    CHECK_STR(out, "0.30000000000000004");
    inlet_json_format_double(1e300, out);
    CHECK_STR(out, "1e+300");
    struct {
        double d;
        const char *text;
    } cases[] = {{13.405, "13.405"},
                 {61.2, "61.2"},
                 {-0.5, "-0.5"},
                 {270, "270"},
                 {0.0, "0"},
                 {-0.0, "-0"},
                 {0.001, "0.001"},
                 {1e-7, "0.0000001"},
                 {-122.4194155, "-122.4194155"},
                 {123456.789, "123456.789"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        inlet_json_format_double(cases[i].d, out);
        CHECK_STR(out, cases[i].text);
    }
    /* Whatever the path, the text must read back to the same double. */
    unsigned long long x = 88172645463325252ULL;
    int roundtrip_ok = 1;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double d = (double)(x % 2000000001ULL) / 1e5 - 10000.0; /* like coordinates */
        if (i % 2)
            memcpy(&d, &x, sizeof(d)); /* any bit pattern */
        if (d != d || d - d != 0)
            continue;
        inlet_json_format_double(d, out);
        if (strtod(out, NULL) != d)
            roundtrip_ok = 0;
    }
    CHECK(roundtrip_ok);
}

int main(void)
{
    setup();
    test_reference_body();
    test_fill_device_and_keep_event_id();
    test_payload_form();
    test_device_mismatch_is_forbidden();
    test_partly_invalid_batch_refused_whole();
    test_acl_deny();
    test_rejection_cap();
    test_shape_errors();
    test_shortest_doubles();
    inlet_identity_release(truck);
    inlet_tenants_release(tenants);
    inlet_schemas_free(schemas);
    return check_done();
}
