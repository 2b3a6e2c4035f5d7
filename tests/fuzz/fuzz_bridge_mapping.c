/* fuzz_bridge_mapping.c - libFuzzer target for the MQTT bridge's pure parts: topic patterns and
 * routing (modules/mqtt_bridge/mapping.c over modules/support/topic.c) and the collection of
 * Kafka headers from a message's MQTT 5 user properties (headers.c).
 *
 * Input: "<pattern>\n<topic>\n<properties>". The pattern is compiled (and, if valid, its
 * subscription filter derived and checked); the topic is routed through it and through fixed
 * mappings; the rest becomes user properties (name length byte, name, value length byte, value,
 * ...) of a Paho message. Invariants: routes give NUL-terminated fields no longer than
 * BRIDGE_FIELD_MAX; a derived filter is a valid filter; headers start with mqtt-topic, never
 * exceed their bound, and carry no reserved or NUL-containing name. The module's .c files are
 * included: the fuzz build links against inlet_core only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../modules/mqtt_bridge/headers.c"
#include "../../modules/mqtt_bridge/mapping.c"
#include "../../modules/support/topic.c"
#include "../../modules/support/utf8.c"

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bridge_mapping fixed[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const patterns[] = {"fleet/{tenant}/{device}/position",
                                           "sensors/{device}/{schema}/{version}", "raw/#/{device}"};
    char err[256];
    (void)argc, (void)argv;
    for (int i = 0; i < 3; i++) {
        if (bridge_pattern_compile(patterns[i], &fixed[i].pattern, err, sizeof(err)) != 0) {
            /* "#" must be last: the third is refused, keep a valid one in its place */
            if (bridge_pattern_compile("x/{device}/#", &fixed[i].pattern, err, sizeof(err)))
                abort();
        }
        fixed[i].format = i;
    }
    fixed[0].fixed[BRIDGE_FIELD_SCHEMA] = "fleet.position";
    fixed[0].fixed[BRIDGE_FIELD_VERSION] = "v1";
    return 0;
}

static void check_route(const bridge_mapping *maps, size_t n, const char *topic, size_t len)
{
    bridge_route r;
    char why[256];
    bridge_route_status st = bridge_route_find(maps, n, topic, len, &r, why, sizeof(why));
    if (st != BRIDGE_ROUTE_OK)
        return;
    ASSERT(r.mapping >= maps && r.mapping < maps + n);
    for (int f = 0; f < BRIDGE_FIELDS; f++)
        ASSERT(memchr(r.field[f], '\0', BRIDGE_FIELD_MAX + 1) != NULL);
}

static void check_headers(const char *topic, size_t topic_len, const uint8_t *p, size_t n)
{
    MQTTProperty props[80];
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    bridge_upstream_config cfg;
    bridge_headers hd;
    int count = 0;

    while (n >= 2 && count < 80) {
        size_t kl = p[0] < n - 1 ? p[0] : n - 1;
        const uint8_t *k = p + 1;
        p += 1 + kl;
        n -= 1 + kl;
        size_t vl = n ? (p[0] < n - 1 ? p[0] : n - 1) : 0;
        const uint8_t *v = n ? p + 1 : NULL;
        if (n) {
            p += 1 + vl;
            n -= 1 + vl;
        }
        MQTTProperty *pr = &props[count++];
        memset(pr, 0, sizeof(*pr));
        pr->identifier =
            kl % 7 == 6 ? MQTTPROPERTY_CODE_CONTENT_TYPE : MQTTPROPERTY_CODE_USER_PROPERTY;
        pr->value.data.data = (char *)k;
        pr->value.data.len = (int)kl;
        pr->value.value.data = (char *)v;
        pr->value.value.len = (int)vl;
    }
    msg.properties.count = count;
    msg.properties.max_count = count;
    msg.properties.array = props;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mqtt_version = BRIDGE_MQTT_5;
    cfg.user_properties = true;
    cfg.event_id_property = "event-id";
    bridge_headers_collect(&cfg, topic, topic_len, &msg, &hd);
    ASSERT(hd.n >= 1 && hd.n <= BRIDGE_MAX_HEADERS + 1);
    ASSERT(strcmp(hd.h[0].name, "mqtt-topic") == 0 && hd.h[0].value_len == topic_len);
    ASSERT(hd.names_used <= sizeof(hd.names));
    ASSERT(memchr(hd.event_id, '\0', sizeof(hd.event_id)) != NULL);
    for (size_t i = 1; i < hd.n; i++) {
        size_t l = strlen(hd.h[i].name);
        ASSERT(l > 0 && !reserved_header(hd.h[i].name, l));
        ASSERT(hd.h[i].name >= hd.names && hd.h[i].name + l < hd.names + sizeof(hd.names));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl1 = memchr(data, '\n', size);
    if (!nl1)
        return 0;
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
    size_t pl = (size_t)(nl1 - data);
    const char *topic = (const char *)nl1 + 1;
    size_t tl = nl2 ? (size_t)(nl2 - nl1 - 1) : size - pl - 1;
    char *pattern = malloc(pl + 1), filter[1024], err[256];
    if (!pattern)
        return 0;
    memcpy(pattern, data, pl);
    pattern[pl] = '\0';

    bridge_mapping m;
    memset(&m, 0, sizeof(m));
    if (bridge_pattern_compile(pattern, &m.pattern, err, sizeof(err)) == 0) {
        if (bridge_pattern_filter(&m.pattern, filter, sizeof(filter)) > 0)
            ASSERT(bridge_filter_check(filter, err, sizeof(err)) == 0);
        check_route(&m, 1, topic, tl);
        bridge_pattern_free(&m.pattern);
    } else {
        ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
    }
    check_route(fixed, 3, topic, tl);
    if (nl2)
        check_headers(topic, tl, nl2 + 1, size - (size_t)(nl2 + 1 - data));
    free(pattern);
    return 0;
}
