/* test_quota.c - the token bucket (burst, refill, refund, a request larger than the burst, no
 * overflow at extreme rates), limits resolved from tenant files (device_limits, a device's own
 * limits key by key), the submit check (all or nothing across device and tenant buckets,
 * Retry-After), connection quotas and the dead-letter budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config/config.h"
#include "identity/tenant.h"
#include "pipeline/quota.h"
#include "pipeline/rejection.h"
#include "pipeline/token_bucket.h"

#define S 1000000000LL

static void test_bucket(void)
{
    inlet_token_bucket b = {0};
    int64_t now = 100 * S, wait = -1;
    /* 10/s, burst 5: five at once, the sixth waits 100 ms */
    for (int i = 0; i < 5; i++)
        CHECK(inlet_bucket_take(&b, 10, 5, 1, now, &wait) == INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&b, 10, 5, 1, now, &wait) == INLET_BUCKET_EMPTY);
    CHECK(wait == S / 10);
    /* 100 ms later one token is back, not two */
    CHECK(inlet_bucket_take(&b, 10, 5, 1, now + S / 10, &wait) == INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&b, 10, 5, 1, now + S / 10, &wait) == INLET_BUCKET_EMPTY);
    /* a long pause refills to the burst only */
    now += 60 * S;
    CHECK(inlet_bucket_take(&b, 10, 5, 5, now, &wait) == INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&b, 10, 5, 1, now, &wait) == INLET_BUCKET_EMPTY);
    /* refund gives the tokens back */
    inlet_bucket_refund(&b, 10, 2);
    CHECK(inlet_bucket_take(&b, 10, 5, 2, now, &wait) == INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&b, 10, 5, 1, now, &wait) == INLET_BUCKET_EMPTY);
    /* more than the burst can never pass */
    inlet_bucket_reset(&b);
    CHECK(inlet_bucket_take(&b, 10, 5, 6, now, &wait) == INLET_BUCKET_NEVER);
    CHECK(inlet_bucket_take(&b, 10, 5, 5, now, &wait) == INLET_BUCKET_OK);
    /* a multi-token request waits for all of them */
    CHECK(inlet_bucket_take(&b, 10, 5, 3, now, &wait) == INLET_BUCKET_EMPTY);
    CHECK(wait == 3 * S / 10);

    /* bytes: 1 MB/s, a 64 KiB request, and extremes that must not overflow */
    inlet_token_bucket c = {0};
    CHECK(inlet_bucket_take(&c, 1000000, 1000000, 65536, now, &wait) == INLET_BUCKET_OK);
    inlet_token_bucket d = {0};
    CHECK(inlet_bucket_take(&d, 1, 1000000000000LL, 1000000000000LL, now, &wait) ==
          INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&d, 1, 1000000000000LL, 1, now, &wait) == INLET_BUCKET_EMPTY);
    CHECK(wait > 0);
    inlet_token_bucket e = {0};
    for (int i = 0; i < 1000; i++)
        CHECK(inlet_bucket_take(&e, 2000000000LL, 1000, 1, now, &wait) == INLET_BUCKET_OK);
    CHECK(inlet_bucket_take(&e, 2000000000LL, 1000, 1, now, &wait) == INLET_BUCKET_EMPTY);
    CHECK(inlet_bucket_now_ns() > 0);
}

static inlet_tenants *build(const char *text)
{
    inlet_conf_file *f = NULL;
    inlet_tenant_conf conf;
    inlet_tenants *ts = NULL;
    char err[512] = "";
    memset(&conf, 0, sizeof(conf));
    if (inlet_conf_load_string("t.yaml", text, strlen(text), &f, err, sizeof(err)) == 0 &&
        inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &conf, NULL, err,
                         sizeof(err)) == 0) {
        const inlet_tenant_conf *p = &conf;
        const char *origin = "t.yaml:1";
        if (inlet_tenants_build(&p, &origin, 1, &ts, err, sizeof(err)))
            ts = NULL;
        inlet_conf_release(inlet_tenant_options, &conf);
    }
    if (f)
        inlet_conf_file_free(f);
    if (!ts)
        fprintf(stderr, "build: %s\n", err);
    return ts;
}

static void test_limits_resolved(void)
{
    inlet_tenants *ts = build("tenant: lim\n"
                              "limits: {events_per_second: 100, bytes_per_second: 1000}\n"
                              "device_limits: {events_per_second: 10, burst: 20, connections: 2}\n"
                              "devices:\n"
                              "  - id: plain\n"
                              "  - id: fast\n"
                              "    limits: {events_per_second: 50, connections: 0}\n"
                              "  - id: slow\n"
                              "    limits: {burst: 3}\n");
    CHECK(ts != NULL);
    if (!ts)
        return;
    inlet_identity *plain = NULL, *fast = NULL, *slow = NULL, *other = NULL;
    inlet_identity_for_device(ts, "lim", "plain", INLET_AUTH_TOKEN, &plain);
    inlet_identity_for_device(ts, "lim", "fast", INLET_AUTH_TOKEN, &fast);
    inlet_identity_for_device(ts, "lim", "slow", INLET_AUTH_TOKEN, &slow);
    inlet_identity_for_device(ts, "lim", "unlisted", INLET_AUTH_TOKEN, &other);
    const inlet_limits *t = inlet_identity_tenant_limits(plain);
    CHECK(t->events_per_second == 100 && t->burst == 100);
    CHECK(t->bytes_per_second == 1000 && t->bytes_burst == 1000 && t->connections == 0);
    const inlet_limits *l = inlet_identity_device_limits(plain);
    CHECK(l->events_per_second == 10 && l->burst == 20 && l->connections == 2);
    l = inlet_identity_device_limits(fast); /* own rate, its own one-second burst */
    CHECK(l->events_per_second == 50 && l->burst == 50 && l->connections == 0);
    l = inlet_identity_device_limits(slow); /* inherits the rate, its own burst */
    CHECK(l->events_per_second == 10 && l->burst == 3 && l->connections == 2);
    l = inlet_identity_device_limits(other); /* not listed: device_limits */
    CHECK(l->events_per_second == 10 && l->burst == 20);

    /* submit: the device bucket (burst 3) first */
    inlet_rejection *rej = NULL;
    CHECK(inlet_quota_submit(slow, 3, 10, &rej) == INLET_OK);
    CHECK(inlet_quota_submit(slow, 1, 10, &rej) == INLET_E_QUOTA);
    CHECK(rej && rej->retry_after_s == 1);
    CHECK(rej && strstr(rej->message, "device may send 10 events per second"));
    inlet_rejection_free(rej);
    rej = NULL;
    CHECK(inlet_quota_submit(slow, 4, 10, &rej) == INLET_E_TOO_LARGE);
    inlet_rejection_free(rej);
    rej = NULL;
    /* the tenant's bytes: 1000 in all; slow took 30 so far */
    CHECK(inlet_quota_submit(plain, 1, 900, &rej) == INLET_OK);
    CHECK(inlet_quota_submit(plain, 1, 100, &rej) == INLET_E_QUOTA);
    CHECK(rej && strstr(rej->message, "tenant may send 1000 bytes"));
    inlet_rejection_free(rej);
    rej = NULL;
    /* all or nothing: the refused request's device events were given back (19 left of 20) */
    CHECK(inlet_quota_submit(plain, 19, 0, &rej) == INLET_OK);
    CHECK(inlet_quota_submit(plain, 1, 0, &rej) == INLET_E_QUOTA);
    inlet_rejection_free(rej);
    rej = NULL;
    /* a refund (the producer refused the events) gives everything back */
    inlet_quota_refund(plain, 19, 0);
    CHECK(inlet_quota_submit(plain, 19, 0, &rej) == INLET_OK);
    CHECK(inlet_quota_submit(plain, 1, 0, &rej) == INLET_E_QUOTA);
    inlet_rejection_free(rej);

    /* connections: 2 per device, none for fast */
    char msg[160];
    CHECK(inlet_quota_connection_open(plain, msg, sizeof(msg)) == INLET_OK);
    CHECK(inlet_quota_connection_open(plain, msg, sizeof(msg)) == INLET_OK);
    CHECK(inlet_quota_connection_open(plain, msg, sizeof(msg)) == INLET_E_QUOTA);
    CHECK_CONTAINS(msg, "device may have 2 connections");
    inlet_quota_connection_close(plain);
    CHECK(inlet_quota_connection_open(plain, msg, sizeof(msg)) == INLET_OK);
    for (int i = 0; i < 10; i++)
        CHECK(inlet_quota_connection_open(fast, msg, sizeof(msg)) == INLET_OK);

    /* dead letters: a budget of 2 per second */
    CHECK(inlet_quota_dead_letter_take("lim", 2) == 1);
    CHECK(inlet_quota_dead_letter_take("lim", 2) == 1);
    CHECK(inlet_quota_dead_letter_take("lim", 2) == 0);

    inlet_identity_release(plain);
    inlet_identity_release(fast);
    inlet_identity_release(slow);
    inlet_identity_release(other);
    inlet_tenants_release(ts);
}

static void test_no_limits_and_reload(void)
{
    inlet_tenants *ts = build("tenant: free\ndevices: [{id: d}]\n");
    inlet_identity *id = NULL;
    CHECK(ts && inlet_identity_for_device(ts, "free", "d", INLET_AUTH_TOKEN, &id) == INLET_OK);
    for (int i = 0; i < 1000; i++)
        CHECK(inlet_quota_submit(id, 1000, 1 << 20, NULL) == INLET_OK);
    char msg[16];
    CHECK(inlet_quota_connection_open(id, msg, sizeof(msg)) == INLET_OK);
    inlet_identity_release(id);
    inlet_tenants_release(ts);

    /* a reload that keeps the connection counted and raises the rate: state carries, a bucket
     * whose limits changed starts full */
    ts = build("tenant: free\ndevice_limits: {events_per_second: 1, connections: 1}\n"
               "devices: [{id: d}]\n");
    CHECK(ts && inlet_identity_for_device(ts, "free", "d", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(inlet_quota_connection_open(id, msg, sizeof(msg)) == INLET_E_QUOTA);
    inlet_quota_connection_close(id);
    CHECK(inlet_quota_connection_open(id, msg, sizeof(msg)) == INLET_OK);
    CHECK(inlet_quota_submit(id, 1, 1, NULL) == INLET_OK);
    CHECK(inlet_quota_submit(id, 1, 1, NULL) == INLET_E_QUOTA);
    inlet_identity_release(id);
    inlet_tenants_release(ts);
    ts = build("tenant: free\ndevice_limits: {events_per_second: 100}\ndevices: [{id: d}]\n");
    CHECK(ts && inlet_identity_for_device(ts, "free", "d", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK(inlet_quota_submit(id, 100, 1, NULL) == INLET_OK);
    CHECK(inlet_quota_submit(id, 1, 1, NULL) == INLET_E_QUOTA);
    inlet_identity_release(id);
    inlet_tenants_release(ts);
}

static void test_config_errors(void)
{
    char err[512];
    inlet_conf_file *f = NULL;
    inlet_tenant_conf conf;
    memset(&conf, 0, sizeof(conf));
    const char *bad = "tenant: x\nlimits: {events_per_second: -1}\n";
    CHECK(inlet_conf_load_string("t.yaml", bad, strlen(bad), &f, err, sizeof(err)) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), inlet_tenant_options, &conf, NULL, err,
                           sizeof(err)) != 0);
    CHECK_CONTAINS(err, "events_per_second");
    inlet_conf_file_free(f);
    CHECK(build("tenant: x\ndead_letter: {topic: \"bad topic\"}\n") == NULL);
    inlet_tenants *ts = build("tenant: x\ndead_letter: {topic: x.dlq}\n");
    CHECK(ts != NULL);
    inlet_identity *id = NULL;
    int64_t rate = 0;
    CHECK(ts && inlet_identity_for_device(ts, "x", "d", INLET_AUTH_TOKEN, &id) == INLET_OK);
    CHECK_STR(inlet_identity_dead_letter(id, &rate), "x.dlq");
    CHECK(rate == 10);
    inlet_identity_release(id);
    inlet_tenants_release(ts);
}

int main(void)
{
    test_bucket();
    test_limits_resolved();
    test_no_limits_and_reload();
    test_config_errors();
    inlet_quota_fini();
    return check_done();
}
