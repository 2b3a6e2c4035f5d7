/* test_mqtt_bridge_mapping.c - the MQTT bridge's topic patterns: compilation errors, the filters
 * they imply, MQTT matching rules (+, #, empty levels), field extraction, fixed values, first
 * match wins, and topic filter validation. Includes the module's mapping.c and the support
 * library's topic.c and utf8.c it runs on (h2o style). */
#include <stdio.h>
#include <string.h>

#include "../../modules/mqtt_bridge/mapping.c"
#include "../../modules/support/topic.c"
#include "../../modules/support/utf8.c"
#include "check.h"

static int compile_err(const char *text, const char *expect)
{
    bridge_pattern p;
    char err[256] = "";
    int rc = bridge_pattern_compile(text, &p, err, sizeof(err));
    if (rc == 0) {
        bridge_pattern_free(&p);
        fprintf(stderr, "pattern \"%s\" compiled, expected: %s\n", text, expect);
        return 0;
    }
    if (!strstr(err, expect)) {
        fprintf(stderr, "pattern \"%s\": \"%s\" lacks \"%s\"\n", text, err, expect);
        return 0;
    }
    return 1;
}

static void test_compile_errors(void)
{
    CHECK(compile_err("", "empty"));
    CHECK(compile_err("fleet/{tenant}/position", "needs a {device} level"));
    CHECK(compile_err("fleet/{device}/{device}", "{device} appears twice"));
    CHECK(compile_err("fleet/{devices}/x", "unknown placeholder {devices}"));
    CHECK(compile_err("fleet/dev-{device}/x", "whole level"));
    CHECK(compile_err("fleet/{device}x/y", "whole level"));
    CHECK(compile_err("fleet/a+/{device}", "'+' and '#' must be whole levels"));
    CHECK(compile_err("fleet/#/{device}", "'#' must be the last level"));
    CHECK(compile_err("$share/g/fleet/{device}", "set shared_group instead"));
    CHECK(compile_err("fleet/\xff/{device}", "not valid UTF-8"));
    CHECK(compile_err("fleet/\xed\xa0\x80/{device}", "not valid UTF-8")); /* a surrogate */
    CHECK(compile_err("fleet/\xc0\xaf/{device}", "not valid UTF-8"));     /* overlong '/' */
    CHECK(compile_err("fleet/\xe2\x82/{device}", "not valid UTF-8"));     /* truncated */
}

static void filter_of(const char *text, const char *expect)
{
    bridge_pattern p;
    char err[256], buf[256];
    CHECK(bridge_pattern_compile(text, &p, err, sizeof(err)) == 0);
    CHECK(bridge_pattern_filter(&p, buf, sizeof(buf)) == strlen(expect));
    CHECK_STR(buf, expect);
    CHECK(bridge_pattern_filter(&p, buf, strlen(expect)) == 0); /* no room for the NUL */
    bridge_pattern_free(&p);
}

static void test_filters(void)
{
    filter_of("fleet/{tenant}/{device}/position", "fleet/+/+/position");
    filter_of("t/{device}/{schema}/{version}", "t/+/+/+");
    filter_of("a/+/{device}/#", "a/+/+/#");
    filter_of("/{device}", "/+");
    filter_of("{device}//x", "+//x");
    filter_of("dev/\xc3\xa9t\xc3\xa9/{device}", "dev/\xc3\xa9t\xc3\xa9/+");
}

static void test_filter_check(void)
{
    char err[256];
    CHECK(bridge_filter_check("a/b", err, sizeof(err)) == 0);
    CHECK(bridge_filter_check("a/+/#", err, sizeof(err)) == 0);
    CHECK(bridge_filter_check("#", err, sizeof(err)) == 0);
    CHECK(bridge_filter_check("+", err, sizeof(err)) == 0);
    CHECK(bridge_filter_check("$share/g/a/#", err, sizeof(err)) == 0);
    CHECK(bridge_filter_check("", err, sizeof(err)) != 0);
    CHECK(bridge_filter_check("a/#/b", err, sizeof(err)) != 0);
    CHECK_CONTAINS(err, "'#' must be the last level");
    CHECK(bridge_filter_check("a/b+", err, sizeof(err)) != 0);
    CHECK(bridge_filter_check("a#", err, sizeof(err)) != 0);
    CHECK(bridge_filter_check("a/\xff", err, sizeof(err)) != 0);
}

/* A small mapping set, as module.c would build it. */
static bridge_mapping maps[4];
static size_t n_maps;

static void add_map(const char *pattern, const char *tenant, const char *schema,
                    const char *version, int format)
{
    char err[256];
    bridge_mapping *m = &maps[n_maps++];
    memset(m, 0, sizeof(*m));
    CHECK(bridge_pattern_compile(pattern, &m->pattern, err, sizeof(err)) == 0);
    m->fixed[BRIDGE_FIELD_TENANT] = tenant;
    m->fixed[BRIDGE_FIELD_SCHEMA] = schema;
    m->fixed[BRIDGE_FIELD_VERSION] = version;
    m->format = format;
}

static bridge_route_status route(const char *topic, bridge_route *r)
{
    char why[256];
    return bridge_route_find(maps, n_maps, topic, strlen(topic), r, why, sizeof(why));
}

static void test_routes(void)
{
    bridge_route r;
    add_map("fleet/{tenant}/{device}/position", NULL, "fleet.position", "v1",
            BRIDGE_FORMAT_PAYLOAD);
    add_map("t/{device}/{schema}/{version}", "acme", NULL, NULL, BRIDGE_FORMAT_PAYLOAD);
    add_map("ev/{tenant}/+/{device}/#", NULL, NULL, NULL, BRIDGE_FORMAT_EVENT);

    CHECK(route("fleet/demo/truck-0042/position", &r) == BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[0]);
    CHECK_STR(r.field[BRIDGE_FIELD_TENANT], "demo");
    CHECK_STR(r.field[BRIDGE_FIELD_DEVICE], "truck-0042");
    CHECK_STR(r.field[BRIDGE_FIELD_SCHEMA], "fleet.position");
    CHECK_STR(r.field[BRIDGE_FIELD_VERSION], "v1");

    CHECK(route("t/sensor-7/coldchain.temp/v2", &r) == BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[1]);
    CHECK_STR(r.field[BRIDGE_FIELD_TENANT], "acme");
    CHECK_STR(r.field[BRIDGE_FIELD_DEVICE], "sensor-7");
    CHECK_STR(r.field[BRIDGE_FIELD_SCHEMA], "coldchain.temp");
    CHECK_STR(r.field[BRIDGE_FIELD_VERSION], "v2");

    /* '#' also matches the parent level (§4.7.1.2); schema left to the body */
    CHECK(route("ev/demo/site-1/panic-1", &r) == BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[2]);
    CHECK_STR(r.field[BRIDGE_FIELD_DEVICE], "panic-1");
    CHECK_STR(r.field[BRIDGE_FIELD_SCHEMA], "");
    CHECK(route("ev/demo/site-1/panic-1/a/b", &r) == BRIDGE_ROUTE_OK);
    CHECK_STR(r.field[BRIDGE_FIELD_DEVICE], "panic-1");

    /* not matching: wrong literal, too few or too many levels, empty field level */
    CHECK(route("fleet/demo/truck-0042/positions", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("fleet/demo/truck-0042", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("fleet/demo/truck-0042/position/x", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("fleet/demo//position", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("fleet//truck/position", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("t/d/s", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("ev/demo/site-1", &r) == BRIDGE_ROUTE_NO_MATCH);
    CHECK(route("", &r) == BRIDGE_ROUTE_NO_MATCH);

    /* a level longer than a field may be */
    char topic[400];
    char long_dev[BRIDGE_FIELD_MAX + 2];
    memset(long_dev, 'd', sizeof(long_dev) - 1);
    long_dev[sizeof(long_dev) - 1] = '\0';
    snprintf(topic, sizeof(topic), "fleet/demo/%s/position", long_dev);
    CHECK(route(topic, &r) == BRIDGE_ROUTE_BAD_FIELD);
    long_dev[BRIDGE_FIELD_MAX] = '\0'; /* exactly the maximum is fine */
    snprintf(topic, sizeof(topic), "fleet/demo/%s/position", long_dev);
    CHECK(route(topic, &r) == BRIDGE_ROUTE_OK);
    CHECK(strlen(r.field[BRIDGE_FIELD_DEVICE]) == BRIDGE_FIELD_MAX);

    /* first match wins */
    add_map("fleet/{tenant}/{device}/{schema}", NULL, NULL, "v9", BRIDGE_FORMAT_PAYLOAD);
    CHECK(route("fleet/demo/truck-0042/position", &r) == BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[0]);
    CHECK(route("fleet/demo/truck-0042/other", &r) == BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[3]);
    CHECK_STR(r.field[BRIDGE_FIELD_SCHEMA], "other");
    CHECK_STR(r.field[BRIDGE_FIELD_VERSION], "v9");

    /* the length given is what counts, not a NUL */
    const char with_tail[] = "fleet/demo/truck-0042/positionXYZ";
    char why[128];
    CHECK(bridge_route_find(maps, n_maps, with_tail, strlen(with_tail) - 3, &r, why, sizeof(why)) ==
          BRIDGE_ROUTE_OK);
    CHECK(r.mapping == &maps[0]);

    for (size_t i = 0; i < n_maps; i++)
        bridge_pattern_free(&maps[i].pattern);
}

int main(void)
{
    test_compile_errors();
    test_filters();
    test_filter_check();
    test_routes();
    CHECK_STR(bridge_field_name(BRIDGE_FIELD_VERSION), "version");
    return check_done();
}
