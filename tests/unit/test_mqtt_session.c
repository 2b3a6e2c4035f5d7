/* test_mqtt_session.c - the MQTT listener's pure parts: the topic -> schema mapping
 * (modules/mqtt/mapping.c over modules/support/topic.c), the per-session packet-id table and the
 * client-id registry (session.c), and the timer wheel (timer.c). */
#include <stdlib.h>

#include "check.h"

#include "../../modules/mqtt/mapping.c"
#include "../../modules/mqtt/session.c"
#include "../../modules/mqtt/timer.c"
#include "../../modules/support/topic.c"
#include "../../modules/support/utf8.c"

/* ---- a host with just enough for session.c (the sessions gauge) ---- */

static int64_t gauge;
static void fake_metric_add(inlet_metric *m, int64_t d)
{
    (void)m;
    gauge += d;
}

static inlet_identity ident(const char *tenant, const char *device)
{
    inlet_identity id;
    memset(&id, 0, sizeof(id));
    id.size = sizeof(id);
    id.tenant = tenant;
    id.device_id = device;
    return id;
}

static inlet_status route(const mqtt_mappings *m, const char *tenant, const char *device,
                          const char *topic, mqtt_route *r, char *scratch)
{
    inlet_identity id = ident(tenant, device);
    memset(r, 0, sizeof(*r));
    return mqtt_mapping_route(m, &id, (const uint8_t *)topic, strlen(topic), scratch, r);
}

static void test_default_mappings(void)
{
    mqtt_mappings m;
    inlet_section_list none = {NULL, 0};
    char err[300], sc[256];
    mqtt_route r;

    CHECK(mqtt_mappings_compile(&m, &none, err, sizeof(err)) == 0);
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0042/fleet.position/v1", &r, sc) ==
          INLET_OK);
    CHECK(r.form == MQTT_FORM_PAYLOAD);
    CHECK_STR(r.schema, "fleet.position");
    CHECK_STR(r.version, "v1");
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0042/events", &r, sc) == INLET_OK);
    CHECK(r.form == MQTT_FORM_EVENTS && r.schema == NULL && r.version == NULL);
    /* a device publishes only as itself */
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0043/events", &r, sc) ==
          INLET_E_FORBIDDEN);
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0043/fleet.position/v1", &r, sc) ==
          INLET_E_FORBIDDEN);
    /* no match: too few or too many levels, empty placeholders, another prefix */
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0042", &r, sc) == INLET_E_UNKNOWN_SCHEMA);
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0042/a/b/c", &r, sc) ==
          INLET_E_UNKNOWN_SCHEMA);
    CHECK(route(&m, "demo", "truck-0042", "devices/truck-0042//v1", &r, sc) ==
          INLET_E_UNKNOWN_SCHEMA);
    CHECK(route(&m, "demo", "truck-0042", "devices//events", &r, sc) == INLET_E_UNKNOWN_SCHEMA);
    CHECK(route(&m, "demo", "truck-0042", "telemetry/truck-0042/events", &r, sc) ==
          INLET_E_UNKNOWN_SCHEMA);
    mqtt_mappings_free(&m);
}

static void test_configured_mappings(void)
{
    mqtt_mapping_config cfg[] = {
        {"acme", "acme/sites/+/{device}/temperature", MQTT_FORM_PAYLOAD, "coldchain.temp", "v1",
         NULL},
        {NULL, "fleet/{device}/#", MQTT_FORM_EVENTS, "fleet.position", "v1", NULL},
        {NULL, "+/{schema}/{version}", MQTT_FORM_PAYLOAD, NULL, NULL, NULL},
    };
    inlet_section_list list = {cfg, 3};
    mqtt_mappings m;
    char err[300], sc[256];
    mqtt_route r;

    CHECK(mqtt_mappings_compile(&m, &list, err, sizeof(err)) == 0);
    CHECK(route(&m, "acme", "s-1", "acme/sites/berlin/s-1/temperature", &r, sc) == INLET_OK);
    CHECK_STR(r.schema, "coldchain.temp");
    /* the tenant filter: demo devices skip acme's mapping and fall through */
    CHECK(route(&m, "demo", "s-1", "acme/sites/berlin/s-1/temperature", &r, sc) ==
          INLET_E_UNKNOWN_SCHEMA);
    /* '#' matches the parent level too (MQTT 5.0 §4.7.1.2) */
    CHECK(route(&m, "demo", "t-1", "fleet/t-1", &r, sc) == INLET_OK);
    CHECK(route(&m, "demo", "t-1", "fleet/t-1/a/b", &r, sc) == INLET_OK &&
          r.form == MQTT_FORM_EVENTS);
    CHECK_STR(r.version, "v1");
    /* first match wins; a pattern without {device} publishes as the authenticated device */
    CHECK(route(&m, "demo", "t-1", "x/coldchain.temp/v2", &r, sc) == INLET_OK);
    CHECK_STR(r.schema, "coldchain.temp");
    CHECK_STR(r.version, "v2");
    /* '$' topics never match a leading wildcard (MQTT 5.0 §4.7.2) */
    CHECK(route(&m, "demo", "t-1", "$SYS/a/b", &r, sc) == INLET_E_UNKNOWN_SCHEMA);
    mqtt_mappings_free(&m);
}

static void test_bad_mappings(void)
{
    static const struct {
        mqtt_mapping_config c;
        const char *err;
    } bad[] = {
        {{NULL, "a/#/b", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "'#' must be the last level"},
        {{NULL, "a/x+/b", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "must be whole levels"},
        {{NULL, "a/{device}/{device}", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "appears twice"},
        {{NULL, "a/{schema}/v", MQTT_FORM_PAYLOAD, "x", "v1", NULL}, "given twice"},
        {{NULL, "a/{device}", MQTT_FORM_PAYLOAD, NULL, NULL, NULL}, "form payload needs"},
        {{"", "a/b", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "tenant: must not be empty"},
        {{NULL, "", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "topic: must not be empty"},
        {{NULL, "a/{devices}", MQTT_FORM_EVENTS, NULL, NULL, NULL},
         "unknown placeholder {devices}"},
        {{NULL, "a/dev-{device}", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "must be a whole level"},
        {{NULL, "a/b\x01", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "control character"},
        {{NULL, "a/\xc0\xaf", MQTT_FORM_EVENTS, NULL, NULL, NULL}, "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        mqtt_mapping_config c = bad[i].c;
        inlet_section_list list = {&c, 1};
        mqtt_mappings m;
        char err[300] = "";
        CHECK(mqtt_mappings_compile(&m, &list, err, sizeof(err)) != 0);
        CHECK_CONTAINS(err, bad[i].err);
        CHECK_CONTAINS(err, "mappings[0].");
    }
}

static void test_packet_ids(void)
{
    mqtt_ids t;
    memset(&t, 0, sizeof(t));
    CHECK(mqtt_ids_find(&t, 1) == NULL);

    /* fill, with colliding ids (id & mask), then remove from the middle of probe runs */
    for (uint16_t id = 1; id <= 64; id++) {
        mqtt_id_entry *e = mqtt_ids_add(&t, (uint16_t)(id * 16));
        CHECK(e != NULL);
        e->state = MQTT_ID_QOS2_STORED;
    }
    CHECK(t.count == 64 && t.cap >= 128);
    for (uint16_t id = 1; id <= 64; id += 2)
        mqtt_ids_remove(&t, mqtt_ids_find(&t, (uint16_t)(id * 16)));
    int found = 0, missing = 0;
    for (uint16_t id = 1; id <= 64; id++) {
        mqtt_id_entry *e = mqtt_ids_find(&t, (uint16_t)(id * 16));
        if (id % 2 == 0)
            found += e != NULL && e->id == id * 16;
        else
            missing += e == NULL;
    }
    CHECK(found == 32 && missing == 32 && t.count == 32);

    /* eviction: the oldest entry nobody waits on, never one the connection claims or one
     * still waiting for Kafka */
    mqtt_ids_free(&t);
    mqtt_id_entry *a = mqtt_ids_add(&t, 1);
    a->state = MQTT_ID_QOS1_KAFKA;
    mqtt_id_entry *b = mqtt_ids_add(&t, 2);
    b->state = MQTT_ID_QOS2_STORED;
    b->claim = 7;
    mqtt_id_entry *c = mqtt_ids_add(&t, 3);
    c->state = MQTT_ID_QOS1_ACKED;
    mqtt_id_entry *d = mqtt_ids_add(&t, 4);
    d->state = MQTT_ID_QOS2_STORED;
    CHECK(mqtt_ids_evict_unclaimed(&t, 7));
    CHECK(mqtt_ids_find(&t, 3) == NULL && mqtt_ids_find(&t, 4) != NULL);
    CHECK(mqtt_ids_evict_unclaimed(&t, 7));
    CHECK(mqtt_ids_find(&t, 4) == NULL);
    CHECK(!mqtt_ids_evict_unclaimed(&t, 7)); /* 1 is in Kafka, 2 is claimed */
    CHECK(mqtt_ids_evict_unclaimed(&t, 8));  /* another connection: 2 is nobody's now */
    CHECK(t.count == 1 && mqtt_ids_find(&t, 1) != NULL);
    mqtt_ids_remove(&t, mqtt_ids_find(&t, 1));
    CHECK(t.count == 0 && t.slots != NULL); /* kept while a connection uses it */
    mqtt_ids_trim(&t);
    CHECK(t.slots == NULL && t.cap == 0); /* a detached session holds no table */
}

static void test_registry(void)
{
    inlet_host host;
    mqtt_module m;
    mqtt_loop loop;
    memset(&host, 0, sizeof(host));
    memset(&m, 0, sizeof(m));
    memset(&loop, 0, sizeof(loop));
    host.metric_add = fake_metric_add;
    m.host = &host;
    m.hash_seed = 42;
    m.loopset.n = 3;
    loop.m = &m;
    mqtt_wheel_init(&loop.wheel, 100);
    loop.now_s = 100;

    /* client ids are namespaced per tenant */
    uint64_t ha = mqtt_session_hash(&m, "acme", (const uint8_t *)"c1", 2);
    uint64_t hd = mqtt_session_hash(&m, "demo", (const uint8_t *)"c1", 2);
    CHECK(ha != hd);
    CHECK(ha == mqtt_session_hash(&m, "acme", (const uint8_t *)"c1", 2));
    mqtt_session *sa = mqtt_session_create(&loop, ha, "acme", "c1", 2, "dev-a");
    mqtt_session *sd = mqtt_session_create(&loop, hd, "demo", "c1", 2, "dev-d");
    CHECK(sa != NULL && sd != NULL && gauge == 2);
    CHECK(mqtt_session_find(&loop, ha, "acme", "c1", 2) == sa);
    CHECK(mqtt_session_find(&loop, hd, "demo", "c1", 2) == sd);
    CHECK(mqtt_session_find(&loop, ha, "acme", "c2", 2) == NULL);
    CHECK_STR(mqtt_session_client_id(sa), "c1");
    CHECK_STR(mqtt_session_device(sd), "dev-d");

    /* many sessions: the registry grows and still finds every one */
    char id[32];
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(id, sizeof(id), "client-%d", i);
        uint64_t h = mqtt_session_hash(&m, "demo", (const uint8_t *)id, (size_t)n);
        CHECK(mqtt_session_create(&loop, h, "demo", id, (size_t)n, "d") != NULL);
    }
    int ok = 0;
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(id, sizeof(id), "client-%d", i);
        uint64_t h = mqtt_session_hash(&m, "demo", (const uint8_t *)id, (size_t)n);
        mqtt_session *s = mqtt_session_find(&loop, h, "demo", id, (size_t)n);
        ok += s != NULL && strcmp(mqtt_session_client_id(s), id) == 0;
    }
    CHECK(ok == 2000 && loop.n_sessions == 2002);

    /* detach: expiry 0 ends the session; otherwise it waits for its expiry timer */
    mqtt_session_ref(sa); /* as a connection would */
    sa->expiry_s = 0;
    mqtt_session_detach(&loop, sa);
    CHECK(mqtt_session_find(&loop, ha, "acme", "c1", 2) == NULL);
    mqtt_session_ref(sd);
    mqtt_session_ref(sd); /* a submission in flight */
    sd->expiry_s = 5;
    mqtt_session_detach(&loop, sd);
    CHECK(mqtt_session_find(&loop, hd, "demo", "c1", 2) == sd);
    mqtt_wheel_advance(&loop, &loop.wheel, 104);
    CHECK(mqtt_session_find(&loop, hd, "demo", "c1", 2) == sd);
    mqtt_wheel_advance(&loop, &loop.wheel, 105);
    CHECK(mqtt_session_find(&loop, hd, "demo", "c1", 2) == NULL);
    CHECK(sd->refs == 1 && !sd->in_registry); /* the submission keeps it alive */
    int64_t before = gauge;
    mqtt_session_unref(&loop, sd);
    CHECK(gauge == before - 1);
    mqtt_sessions_free_all(&loop);
    CHECK(gauge == 0 && loop.n_sessions == 0);
}

static int fired[4];
static void on_fire(mqtt_loop *loop, mqtt_timer *t)
{
    (void)loop;
    fired[t->deadline % 4]++;
}

static void test_wheel(void)
{
    mqtt_wheel w;
    mqtt_timer t[4];
    mqtt_wheel_init(&w, 1000);
    for (int i = 0; i < 4; i++)
        mqtt_timer_init(&t[i], on_fire);
    mqtt_timer_arm(&w, &t[0], 1000); /* in the past: next advance */
    mqtt_timer_arm(&w, &t[1], 1002);
    mqtt_timer_arm(&w, &t[2], 1000 + MQTT_WHEEL_SLOTS + 3); /* beyond one turn */
    mqtt_timer_arm(&w, &t[3], 1003);
    mqtt_timer_disarm(&w, &t[3]);
    CHECK(w.count == 3 && !mqtt_timer_armed(&t[3]));
    mqtt_wheel_advance(NULL, &w, 1001);
    CHECK(fired[1] == 1 && !mqtt_timer_armed(&t[0])); /* deadline 1001 */
    mqtt_wheel_advance(NULL, &w, 1003);
    CHECK(fired[2] == 1 && w.count == 1); /* t[1]; t[2] waits for its turn */
    mqtt_wheel_advance(NULL, &w, 1000 + MQTT_WHEEL_SLOTS + 2);
    CHECK(mqtt_timer_armed(&t[2]));
    mqtt_wheel_advance(NULL, &w, 1000 + MQTT_WHEEL_SLOTS + 3);
    CHECK(!mqtt_timer_armed(&t[2]) && w.count == 0);
    /* a long stall runs everything due at once */
    mqtt_timer_arm(&w, &t[0], w.now + 10);
    mqtt_timer_arm(&w, &t[1], w.now + 100000);
    mqtt_wheel_advance(NULL, &w, w.now + 5000);
    CHECK(!mqtt_timer_armed(&t[0]) && mqtt_timer_armed(&t[1]));
}

int main(void)
{
    test_default_mappings();
    test_configured_mappings();
    test_bad_mappings();
    test_packet_ids();
    test_registry();
    test_wheel();
    return check_done();
}
