/* test_config.c - YAML configuration applied to option tables: every type, defaults, each class
 * of error with its exact message and line, PATH resolution, release, the generated reference. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config/config.h"

#define NAME "conf.d/test.yaml"

enum { MODE_ROUND_ROBIN, MODE_HASH, MODE_STICKY };
static const char *const modes[] = {"round_robin", "hash", "sticky", NULL};

struct tls_conf {
    char *cert;
    char *key;
    char *password;
    bool verify_peer;
};

struct listener {
    char *address;
    int64_t port;
    inlet_str_list protocols;
    struct tls_conf tls;
};

struct metrics_conf {
    int64_t interval_ms;
    char *path;
};

struct server_conf {
    char *name;
    bool debug;
    int64_t workers;
    uint64_t max_body_size;
    int64_t idle_timeout_ms;
    char *state_dir;
    char *schema_dir;
    int mode;
    inlet_str_list brokers;
    inlet_str_map labels;
    char *token;
    int64_t pin;
    struct metrics_conf metrics;
    inlet_section_list listeners;
};

#define OPT(n, t, s, f, d, lo, hi, fl, desc)                                                       \
    {                                                                                              \
        n, t, offsetof(s, f), d, lo, hi, NULL, NULL, 0, fl, desc                                   \
    }

static const inlet_option tls_options[] = {
    OPT("cert", INLET_OPT_PATH, struct tls_conf, cert, NULL, 0, 0, INLET_OPT_REQUIRED,
        "Certificate chain, PEM."),
    OPT("key", INLET_OPT_PATH, struct tls_conf, key, NULL, 0, 0, 0, "Private key, PEM."),
    OPT("password", INLET_OPT_STRING, struct tls_conf, password, NULL, 0, 0, INLET_OPT_SECRET,
        "Passphrase of the key."),
    OPT("verify_peer", INLET_OPT_BOOL, struct tls_conf, verify_peer, "true", 0, 0, 0,
        "Require a client certificate."),
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    OPT("address", INLET_OPT_STRING, struct listener, address, NULL, 0, 0, INLET_OPT_REQUIRED,
        "Address to bind."),
    OPT("port", INLET_OPT_INT, struct listener, port, "1883", 1, 65535, 0, "TCP port."),
    OPT("protocols", INLET_OPT_STRING_LIST, struct listener, protocols, "[mqtt]", 0, 0, 0,
        "Protocols spoken | on this port."),
    {"tls", INLET_OPT_SECTION, offsetof(struct listener, tls), NULL, 0, 0, NULL, tls_options, 0, 0,
     "TLS for this listener."},
    INLET_OPTIONS_END,
};

static const inlet_option metrics_options[] = {
    OPT("interval", INLET_OPT_DURATION, struct metrics_conf, interval_ms, "15s", 1000, 3600000, 0,
        "How often to sample."),
    OPT("path", INLET_OPT_STRING, struct metrics_conf, path, "/metrics", 0, 0, 0, "HTTP path."),
    INLET_OPTIONS_END,
};

static const inlet_option server_options[] = {
    OPT("name", INLET_OPT_STRING, struct server_conf, name, NULL, 0, 0, INLET_OPT_REQUIRED,
        "Instance name."),
    OPT("debug", INLET_OPT_BOOL, struct server_conf, debug, "false", 0, 0, 0, "Verbose logs."),
    OPT("workers", INLET_OPT_INT, struct server_conf, workers, "4", 1, 64, 0, "Worker threads."),
    OPT("max_body_size", INLET_OPT_SIZE, struct server_conf, max_body_size, "1m", 1024, 16777216, 0,
        "Largest accepted body."),
    OPT("idle_timeout", INLET_OPT_DURATION, struct server_conf, idle_timeout_ms, "30s", 0, 3600000,
        0, "Close idle connections after this."),
    OPT("state_dir", INLET_OPT_PATH, struct server_conf, state_dir, "/var/lib/inlet", 0, 0, 0,
        "Where state is kept."),
    OPT("schema_dir", INLET_OPT_PATH, struct server_conf, schema_dir, "schemas", 0, 0, 0,
        "Schema files."),
    {"mode", INLET_OPT_ENUM, offsetof(struct server_conf, mode), "round_robin", 0, 0, modes, NULL,
     0, 0, "Partitioning."},
    OPT("brokers", INLET_OPT_STRING_LIST, struct server_conf, brokers, "[localhost:9092]", 0, 0, 0,
        "Kafka brokers."),
    OPT("labels", INLET_OPT_STRING_MAP, struct server_conf, labels, NULL, 0, 0, 0,
        "Labels added to metrics."),
    OPT("token", INLET_OPT_STRING, struct server_conf, token, NULL, 0, 0, INLET_OPT_SECRET,
        "Admin token."),
    OPT("pin", INLET_OPT_INT, struct server_conf, pin, NULL, 1000, 9999, INLET_OPT_SECRET,
        "Admin PIN."),
    {"metrics", INLET_OPT_SECTION, offsetof(struct server_conf, metrics), NULL, 0, 0, NULL,
     metrics_options, 0, 0, "Prometheus endpoint."},
    {"listeners", INLET_OPT_SECTION_LIST, offsetof(struct server_conf, listeners), NULL, 0, 0, NULL,
     listener_options, sizeof(struct listener), 0, "Sockets to accept devices on."},
    INLET_OPTIONS_END,
};

static struct listener *listener_at(struct server_conf *c, size_t i)
{
    return &((struct listener *)c->listeners.items)[i];
}

/* Every pointer the table owns is NULL: what release (and a failed apply) must leave. */
static bool is_released(const struct server_conf *c)
{
    return !c->name && !c->state_dir && !c->schema_dir && !c->token && !c->brokers.items &&
           c->brokers.count == 0 && !c->labels.keys && !c->labels.values && c->labels.count == 0 &&
           !c->metrics.path && !c->listeners.items && c->listeners.count == 0;
}

static int apply_text(const char *yaml, struct server_conf *c, char *err, size_t err_len)
{
    inlet_conf_file *f = NULL;
    int rc;
    memset(c, 0, sizeof *c);
    if (inlet_conf_load_string(NAME, yaml, strlen(yaml), &f, err, err_len) != 0) {
        CHECK(f == NULL);
        return -2;
    }
    rc = inlet_conf_apply(f, inlet_conf_root(f), server_options, c, NULL, err, err_len);
    inlet_conf_file_free(f);
    return rc;
}

/* Apply must fail with exactly this message and leave nothing allocated. */
#define EXPECT_APPLY_ERROR(yaml, want)                                                             \
    do {                                                                                           \
        struct server_conf c_;                                                                     \
        char e_[512] = "";                                                                         \
        CHECK(apply_text((yaml), &c_, e_, sizeof e_) == -1);                                       \
        CHECK_STR(e_, (want));                                                                     \
        CHECK(is_released(&c_));                                                                   \
    } while (0)

/* Loading (the document layer) must fail with exactly this message. */
#define EXPECT_LOAD_ERROR(yaml, want)                                                              \
    do {                                                                                           \
        struct server_conf c_;                                                                     \
        char e_[512] = "";                                                                         \
        CHECK(apply_text((yaml), &c_, e_, sizeof e_) == -2);                                       \
        CHECK_STR(e_, (want));                                                                     \
    } while (0)

static const char full_yaml[] = "name: edge-1\n"
                                "debug: true\n"
                                "workers: 8\n"
                                "max_body_size: 64K\n"
                                "idle_timeout: 2m\n"
                                "state_dir: /srv/inlet\n"
                                "mode: hash\n"
                                "brokers:\n"
                                "  - kafka-1:9092\n"
                                "  - kafka-2:9092\n"
                                "labels:\n"
                                "  region: eu-west\n"
                                "  rack: 7\n"
                                "  canary: false\n"
                                "token: s3cret\n"
                                "pin: 1234\n"
                                "metrics:\n"
                                "  interval: 5s\n"
                                "listeners:\n"
                                "  - address: 0.0.0.0\n"
                                "    port: 8883\n"
                                "    protocols: mqtt\n"
                                "    tls:\n"
                                "      cert: /etc/inlet/cert.pem\n"
                                "      key: keys/key.pem\n"
                                "      password: hunter2\n"
                                "      verify_peer: false\n"
                                "  - address: \"::\"\n"
                                "    protocols: [http, ws]\n";

static void test_all_types(void)
{
    struct server_conf c;
    char err[512] = "";

    CHECK(apply_text(full_yaml, &c, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK_STR(c.name, "edge-1");
    CHECK(c.debug == true);
    CHECK(c.workers == 8);
    CHECK(c.max_body_size == 65536);
    CHECK(c.idle_timeout_ms == 120000);
    CHECK_STR(c.state_dir, "/srv/inlet");
    CHECK(c.mode == MODE_HASH);
    CHECK(c.brokers.count == 2);
    CHECK_STR(c.brokers.items[0], "kafka-1:9092");
    CHECK_STR(c.brokers.items[1], "kafka-2:9092");
    CHECK(c.labels.count == 3);
    CHECK_STR(c.labels.keys[0], "region");
    CHECK_STR(c.labels.values[0], "eu-west");
    CHECK_STR(c.labels.keys[1], "rack");
    CHECK_STR(c.labels.values[1], "7");
    CHECK_STR(c.labels.keys[2], "canary");
    CHECK_STR(c.labels.values[2], "false");
    CHECK_STR(c.token, "s3cret");
    CHECK(c.pin == 1234);
    CHECK(c.metrics.interval_ms == 5000);
    CHECK_STR(c.metrics.path, "/metrics"); /* section default kept beside a given key */

    CHECK(c.listeners.count == 2);
    struct listener *l0 = listener_at(&c, 0), *l1 = listener_at(&c, 1);
    CHECK_STR(l0->address, "0.0.0.0");
    CHECK(l0->port == 8883);
    CHECK(l0->protocols.count == 1);
    CHECK_STR(l0->protocols.items[0], "mqtt");
    CHECK_STR(l0->tls.cert, "/etc/inlet/cert.pem");
    /* Relative PATH against the directory of the name given to load_string. */
    CHECK_STR(l0->tls.key, "conf.d/keys/key.pem");
    CHECK_STR(l0->tls.password, "hunter2");
    CHECK(l0->tls.verify_peer == false);

    /* The second item gets the item table's defaults, including its nested section's. */
    CHECK_STR(l1->address, "::");
    CHECK(l1->port == 1883);
    CHECK(l1->protocols.count == 2);
    CHECK_STR(l1->protocols.items[1], "ws");
    CHECK(l1->tls.cert == NULL);
    CHECK(l1->tls.verify_peer == true);

    inlet_conf_release(server_options, &c);
    CHECK(is_released(&c));
    inlet_conf_release(server_options, &c); /* twice is harmless */
    CHECK(is_released(&c));
}

static void test_defaults(void)
{
    struct server_conf c;
    char err[256] = "";

    memset(&c, 0, sizeof c);
    CHECK(inlet_conf_defaults(server_options, &c, err, sizeof err) == 0);
    CHECK(c.name == NULL);
    CHECK(c.debug == false);
    CHECK(c.workers == 4);
    CHECK(c.max_body_size == 1048576);
    CHECK(c.idle_timeout_ms == 30000);
    CHECK_STR(c.state_dir, "/var/lib/inlet");
    CHECK_STR(c.schema_dir, "schemas"); /* no file: a relative default stays as written */
    CHECK(c.mode == MODE_ROUND_ROBIN);
    CHECK(c.brokers.count == 1);
    CHECK_STR(c.brokers.items[0], "localhost:9092");
    CHECK(c.labels.count == 0);
    CHECK(c.metrics.interval_ms == 15000);
    CHECK_STR(c.metrics.path, "/metrics");
    CHECK(c.listeners.count == 0 && c.listeners.items == NULL);
    inlet_conf_release(server_options, &c);
    CHECK(is_released(&c));

    /* Through apply: only the required key given; a relative PATH default follows the file. */
    CHECK(apply_text("name: n\n", &c, err, sizeof err) == 0);
    CHECK(c.workers == 4);
    CHECK_STR(c.schema_dir, "conf.d/schemas");
    CHECK_STR(c.brokers.items[0], "localhost:9092");
    inlet_conf_release(server_options, &c);

    /* Null unsets a string that has a default; quoted "" is a set, empty string. */
    CHECK(apply_text("name: \"\"\nmetrics:\n  path: ~\n", &c, err, sizeof err) == 0);
    CHECK_STR(c.name, "");
    CHECK(c.metrics.path == NULL);
    CHECK(c.metrics.interval_ms == 15000);
    inlet_conf_release(server_options, &c);

    /* An empty file, or "---" alone, is an empty mapping: defaults, then required keys. */
    EXPECT_APPLY_ERROR("", NAME ":1: name: required option missing");
    EXPECT_APPLY_ERROR("---\n", NAME ":1: name: required option missing");
    EXPECT_APPLY_ERROR("# nothing\n", NAME ":1: name: required option missing");
}

static void test_bad_defaults(void)
{
    struct bad {
        int64_t n;
        inlet_str_list tags;
        char *s;
    } b;
    static const inlet_option bad_int[] = {
        OPT("s", INLET_OPT_STRING, struct bad, s, "kept until failure", 0, 0, 0, "x"),
        OPT("n", INLET_OPT_INT, struct bad, n, "lots", 0, 0, 0, "x"),
        INLET_OPTIONS_END,
    };
    static const inlet_option bad_list[] = {
        OPT("tags", INLET_OPT_STRING_LIST, struct bad, tags, "[a, {b: c}]", 0, 0, 0, "x"),
        INLET_OPTIONS_END,
    };
    static const inlet_option bad_yaml[] = {
        OPT("tags", INLET_OPT_STRING_LIST, struct bad, tags, "[a, b", 0, 0, 0, "x"),
        INLET_OPTIONS_END,
    };
    char err[256] = "";

    memset(&b, 0, sizeof b);
    CHECK(inlet_conf_defaults(bad_int, &b, err, sizeof err) == -1);
    CHECK_STR(err, "n: invalid default: expected an integer, got \"lots\"");
    CHECK(b.s == NULL); /* released on failure */

    memset(&b, 0, sizeof b);
    CHECK(inlet_conf_defaults(bad_list, &b, err, sizeof err) == -1);
    CHECK_STR(err, "tags[1]: invalid default: expected a string, got a mapping");
    CHECK(b.tags.items == NULL && b.tags.count == 0);

    memset(&b, 0, sizeof b);
    CHECK(inlet_conf_defaults(bad_yaml, &b, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "tags: invalid default: default:");
    CHECK_CONTAINS(err, "YAML syntax error: did not find expected ',' or ']'");

    /* The same through apply: the table is blamed, not the file. */
    inlet_conf_file *f = NULL;
    CHECK(inlet_conf_load_string(NAME, "n: 3\n", 5, &f, err, sizeof err) == 0);
    memset(&b, 0, sizeof b);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), bad_int, &b, NULL, err, sizeof err) == -1);
    CHECK_STR(err, "n: invalid default: expected an integer, got \"lots\"");
    CHECK(b.s == NULL);
    inlet_conf_file_free(f);
}

static void test_container_defaults(void)
{
    struct item {
        char *host;
        int64_t port;
    };
    struct holder {
        inlet_str_map env;
        inlet_section_list upstreams;
        struct item primary;
    } h;
    static const inlet_option item_options[] = {
        OPT("host", INLET_OPT_STRING, struct item, host, NULL, 0, 0, INLET_OPT_REQUIRED, "x"),
        OPT("port", INLET_OPT_INT, struct item, port, "80", 1, 65535, 0, "x"),
        INLET_OPTIONS_END,
    };
    static const inlet_option holder_options[] = {
        OPT("env", INLET_OPT_STRING_MAP, struct holder, env, "{LANG: C, DEBUG: 0}", 0, 0, 0, "x"),
        {"upstreams", INLET_OPT_SECTION_LIST, offsetof(struct holder, upstreams),
         "[{host: a}, {host: b, port: 8080}]", 0, 0, NULL, item_options, sizeof(struct item), 0,
         "x"},
        {"primary", INLET_OPT_SECTION, offsetof(struct holder, primary), "{host: main}", 0, 0, NULL,
         item_options, 0, 0, "x"},
        INLET_OPTIONS_END,
    };
    char err[256] = "";
    inlet_conf_file *f = NULL;

    memset(&h, 0, sizeof h);
    CHECK(inlet_conf_defaults(holder_options, &h, err, sizeof err) == 0);
    CHECK_STR(err, "");
    CHECK(h.env.count == 2);
    CHECK_STR(h.env.keys[1], "DEBUG");
    CHECK_STR(h.env.values[1], "0");
    CHECK(h.upstreams.count == 2);
    struct item *it = h.upstreams.items;
    CHECK_STR(it[0].host, "a");
    CHECK(it[0].port == 80);
    CHECK_STR(it[1].host, "b");
    CHECK(it[1].port == 8080);
    CHECK_STR(h.primary.host, "main");
    CHECK(h.primary.port == 80);

    /* The file replaces a container default entirely; an empty sequence or mapping empties it. */
    const char *yaml = "env: {}\nupstreams:\n  - host: c\nprimary:\n  port: 81\n";
    CHECK(inlet_conf_load_string(NAME, yaml, strlen(yaml), &f, err, sizeof err) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), holder_options, &h, NULL, err, sizeof err) == -1);
    /* primary given without host: its required key is asked for, despite the default. */
    CHECK_STR(err, NAME ":5: primary.host: required option missing");
    CHECK(h.env.keys == NULL && h.upstreams.items == NULL && h.primary.host == NULL);
    inlet_conf_file_free(f);

    yaml = "env: {}\nupstreams:\n  - host: c\n";
    CHECK(inlet_conf_load_string(NAME, yaml, strlen(yaml), &f, err, sizeof err) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), holder_options, &h, NULL, err, sizeof err) == 0);
    CHECK(h.env.count == 0);
    CHECK(h.upstreams.count == 1);
    CHECK_STR(((struct item *)h.upstreams.items)[0].host, "c");
    CHECK_STR(h.primary.host, "main");
    inlet_conf_release(holder_options, &h);
    CHECK(h.env.keys == NULL && h.upstreams.items == NULL && h.primary.host == NULL);
    inlet_conf_file_free(f);
}

static void test_unknown_keys(void)
{
    EXPECT_APPLY_ERROR("name: x\nworkres: 3\n",
                       NAME ":2: workres: unknown option (did you mean \"workers\"?)");
    EXPECT_APPLY_ERROR("name: x\nmax_body_sise: 1m\n",
                       NAME ":2: max_body_sise: unknown option (did you mean \"max_body_size\"?)");
    EXPECT_APPLY_ERROR("name: x\ncolour: red\n", NAME ":2: colour: unknown option");
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n  - address: b\n    tls:\n"
                       "      cert: c\n      certt: d\n",
                       NAME ":7: listeners[1].tls.certt: unknown option (did you mean \"cert\"?)");
    /* A key that is not a scalar cannot name an option. */
    EXPECT_APPLY_ERROR("name: x\n? [a]\n: b\n", NAME ":2: expected a key name, got a sequence");

    /* skip: keys another layer reads (e.g. "module") are passed over. */
    static const char *const skip[] = {"module", NULL};
    const char *yaml = "module: mqtt\nname: x\n";
    inlet_conf_file *f = NULL;
    struct server_conf c;
    char err[256];
    memset(&c, 0, sizeof c);
    CHECK(inlet_conf_load_string(NAME, yaml, strlen(yaml), &f, err, sizeof err) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), server_options, &c, skip, err, sizeof err) == 0);
    CHECK_STR(c.name, "x");
    inlet_conf_release(server_options, &c);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), server_options, &c, NULL, err, sizeof err) == -1);
    CHECK_STR(err, NAME ":1: module: unknown option (did you mean \"mode\"?)");
    CHECK(is_released(&c));
    inlet_conf_file_free(f);
}

static void test_wrong_shapes(void)
{
    EXPECT_APPLY_ERROR("name: {a: 1}\n", NAME ":1: name: expected a string, got a mapping");
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n  - address: b\n    tls:\n"
                       "      cert:\n        file: c\n",
                       NAME ":7: listeners[1].tls.cert: expected a path, got a mapping");
    EXPECT_APPLY_ERROR("name: x\nmetrics: 5\n",
                       NAME ":2: metrics: expected a mapping, got a scalar");
    EXPECT_APPLY_ERROR("name: x\nmetrics: [1]\n",
                       NAME ":2: metrics: expected a mapping, got a sequence");
    EXPECT_APPLY_ERROR("name: x\nlisteners: {address: a}\n",
                       NAME ":2: listeners: expected a sequence of mappings, got a mapping");
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n  - foo\n",
                       NAME ":4: listeners[1]: expected a mapping, got a scalar");
    EXPECT_APPLY_ERROR("name: x\nbrokers: {a: b}\n", NAME
                       ":2: brokers: expected a string or a sequence of strings, got a mapping");
    EXPECT_APPLY_ERROR("name: x\nbrokers:\n  - a\n  - [b]\n",
                       NAME ":4: brokers[1]: expected a string, got a sequence");
    EXPECT_APPLY_ERROR("name: x\nlabels: [a]\n",
                       NAME ":2: labels: expected a mapping of strings, got a sequence");
    EXPECT_APPLY_ERROR("name: x\nlabels:\n  zone: [a]\n",
                       NAME ":3: labels.zone: expected a string, got a sequence");
    EXPECT_APPLY_ERROR("- a\n- b\n", NAME ":1: expected a mapping, got a sequence");
    EXPECT_APPLY_ERROR("name: \"a\\0b\"\n",
                       NAME ":1: name: expected a string, got text with a NUL character");

    /* Null: an error for non-string types; for a required string, as good as missing. */
    EXPECT_APPLY_ERROR("name: x\nworkers:\n",
                       NAME ":2: workers: expected an integer, got an empty value");
    EXPECT_APPLY_ERROR("name: x\ndebug: ~\n",
                       NAME ":2: debug: expected true or false, got an empty value");
    EXPECT_APPLY_ERROR("name: x\nmetrics: null\n",
                       NAME ":2: metrics: expected a mapping, got an empty value");
    EXPECT_APPLY_ERROR("name: ~\n", NAME ":1: name: required option has an empty value");
}

static void test_bad_values(void)
{
    EXPECT_APPLY_ERROR("name: x\ndebug: yes\n",
                       NAME ":2: debug: expected true or false, got \"yes\"");
    EXPECT_APPLY_ERROR("name: x\nworkers: many\n",
                       NAME ":2: workers: expected an integer, got \"many\"");
    EXPECT_APPLY_ERROR("name: x\nworkers: 4.5\n",
                       NAME ":2: workers: expected an integer, got \"4.5\"");
    EXPECT_APPLY_ERROR("name: x\nworkers: 99999999999999999999\n",
                       NAME ":2: workers: expected an integer, got \"99999999999999999999\"");
    EXPECT_APPLY_ERROR("name: x\nworkers: 0\n", NAME ":2: workers: 0 is below the minimum 1");
    EXPECT_APPLY_ERROR("name: x\nworkers: 65\n", NAME ":2: workers: 65 is above the maximum 64");
    EXPECT_APPLY_ERROR("name: x\nworkers: -3\n", NAME ":2: workers: -3 is below the minimum 1");
    EXPECT_APPLY_ERROR("name: x\nmode: fast\n",
                       NAME ":2: mode: expected one of round_robin, hash or sticky, got \"fast\"");
    EXPECT_APPLY_ERROR("name: x\nmode: [hash]\n", NAME
                       ":2: mode: expected one of round_robin, hash or sticky, got a sequence");
    EXPECT_APPLY_ERROR(
        "name: x\nmax_body_size: 12q\n",
        NAME ":2: max_body_size: expected a size such as 512, 64k, 16m or 1g, got \"12q\"");
    EXPECT_APPLY_ERROR("name: x\nmax_body_size: 512\n",
                       NAME ":2: max_body_size: 512 is below the minimum 1k");
    EXPECT_APPLY_ERROR("name: x\nmax_body_size: 1g\n",
                       NAME ":2: max_body_size: 1g is above the maximum 16m");
    EXPECT_APPLY_ERROR(
        "name: x\nidle_timeout: soon\n",
        NAME ":2: idle_timeout: expected a duration such as 250ms, 5s, 2m or 1h, got \"soon\"");
    EXPECT_APPLY_ERROR("name: x\nidle_timeout: 2h\n",
                       NAME ":2: idle_timeout: 2h is above the maximum 1h");
    EXPECT_APPLY_ERROR("name: x\nmetrics:\n  interval: 500ms\n",
                       NAME ":3: metrics.interval: 500ms is below the minimum 1s");
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n    port: 70000\n",
                       NAME ":4: listeners[0].port: 70000 is above the maximum 65535");
    /* Long values are cut in messages. */
    EXPECT_APPLY_ERROR("name: x\nworkers: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                       NAME ":2: workers: expected an integer, got "
                            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
}

static void test_secret_not_echoed(void)
{
    struct server_conf c;
    char err[512];

    EXPECT_APPLY_ERROR("name: x\npin: 12345678\n", NAME ":2: pin: value is above the maximum 9999");
    EXPECT_APPLY_ERROR("name: x\npin: opensesame\n", NAME ":2: pin: expected an integer");
    EXPECT_APPLY_ERROR("name: x\ntoken: [hunter2]\n",
                       NAME ":2: token: expected a string, got a sequence");
    CHECK(apply_text("name: x\npin: opensesame\n", &c, err, sizeof err) == -1);
    CHECK(strstr(err, "opensesame") == NULL);
}

static void test_missing_required(void)
{
    EXPECT_APPLY_ERROR("debug: true\nworkers: 2\n", NAME ":1: name: required option missing");
    /* Reported at the line of the enclosing mapping. */
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n  - port: 1\n    protocols: [a]\n",
                       NAME ":4: listeners[1].address: required option missing");
    EXPECT_APPLY_ERROR("name: x\nlisteners:\n  - address: a\n    tls:\n      key: k\n",
                       NAME ":5: listeners[0].tls.cert: required option missing");
}

static void test_document_errors(void)
{
    EXPECT_LOAD_ERROR("name: a\nworkers: 2\nname: b\n",
                      NAME ":3: name: duplicate key (first set on line 1)");
    EXPECT_LOAD_ERROR("name: a\nlisteners:\n  - address: a\n  - address: b\n    port: 1\n"
                      "    address: c\n",
                      NAME ":6: listeners[1].address: duplicate key (first set on line 4)");
    EXPECT_LOAD_ERROR("name: [a, b\nworkers: 3\n",
                      NAME ":2: YAML syntax error: did not find expected ',' or ']' (while parsing "
                           "a flow sequence)");
    EXPECT_LOAD_ERROR("name: a\n  workers: 3\n",
                      NAME ":2: YAML syntax error: mapping values are not allowed in this context");
    EXPECT_LOAD_ERROR("name: *nowhere\n", NAME ":1: YAML syntax error: found undefined alias");
    EXPECT_LOAD_ERROR("name: a\n---\nname: b\n",
                      NAME ":2: a second YAML document; a file holds only one");
    EXPECT_LOAD_ERROR("name: a\nlabel: \xff\n", NAME
                      ":2: YAML syntax error: invalid leading UTF-8 octet (files must be UTF-8)");
    /* UTF-16 is refused rather than decoded. */
    EXPECT_LOAD_ERROR("\xff\xfen\0a\0", NAME ":1: YAML syntax error: invalid leading UTF-8 octet "
                                             "(files must be UTF-8)");
}

static void test_alias_bounds(void)
{
    struct server_conf c;
    char err[512];
    char yaml[4096];
    size_t n;

    /* Aliases within the bounds are expanded normally. */
    CHECK(apply_text("name: &n edge\nlabels: {host: *n}\n", &c, err, sizeof err) == 0);
    CHECK_STR(c.labels.values[0], "edge");
    inlet_conf_release(server_options, &c);

    /* Billion laughs: 10^9 nodes once expanded, from a few hundred bytes. */
    n = (size_t)snprintf(yaml, sizeof yaml, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 9; i++)
        n += (size_t)snprintf(yaml + n, sizeof yaml - n,
                              "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                              "*a%d]\n",
                              i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                              i - 1);
    CHECK(apply_text(yaml, &c, err, sizeof err) == -2);
    CHECK_CONTAINS(err, "document too large: more than 1000000 nodes once aliases are expanded");

    /* Deep nesting. */
    n = (size_t)snprintf(yaml, sizeof yaml, "name: ");
    for (int i = 0; i < 80; i++)
        yaml[n++] = '[';
    for (int i = 0; i < 80; i++)
        yaml[n++] = ']';
    yaml[n] = '\0';
    CHECK(apply_text(yaml, &c, err, sizeof err) == -2);
    CHECK_CONTAINS(err, NAME ":1: name[0][0][0]");
    CHECK_CONTAINS(err, "nested more than 64 levels deep");

    /* An alias inside its own anchor would make the walk endless. */
    CHECK(apply_text("name: &a [*a]\n", &c, err, sizeof err) == -2);
    CHECK_STR(err, NAME ":1: name[0]: an alias refers to a node that contains it");
    CHECK(apply_text("a: &a {b: [1, {c: *a}]}\n", &c, err, sizeof err) == -2);
    CHECK_STR(err, NAME ":1: a.b[1].c: an alias refers to a node that contains it");
}

static void test_path_resolution(void)
{
    char dir[] = "/tmp/inlet-test-config-XXXXXX", file[PATH_MAX], sub[PATH_MAX];
    char real[PATH_MAX], want[PATH_MAX + 128], err[512];
    const char *yaml = "name: x\n"
                       "state_dir: data/state\n"
                       "listeners:\n"
                       "  - address: a\n"
                       "    tls:\n"
                       "      cert: certs/a.pem\n"
                       "      key: /abs/key.pem\n";
    inlet_conf_file *f = NULL;
    struct server_conf c;
    FILE *fp;

    CHECK(mkdtemp(dir) != NULL);
    CHECK(realpath(dir, real) != NULL);
    snprintf(sub, sizeof sub, "%s/conf.d", dir);
    CHECK(mkdir(sub, 0700) == 0);
    snprintf(file, sizeof file, "%s/conf.d/main.yaml", dir);
    CHECK((fp = fopen(file, "w")) != NULL);
    if (!fp)
        return;
    fputs(yaml, fp);
    fclose(fp);

    CHECK(inlet_conf_load(file, &f, err, sizeof err) == 0);
    CHECK_STR(inlet_conf_file_path(f), file);
    memset(&c, 0, sizeof c);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), server_options, &c, NULL, err, sizeof err) == 0);
    snprintf(want, sizeof want, "%s/conf.d/data/state", real);
    CHECK_STR(c.state_dir, want);
    snprintf(want, sizeof want, "%s/conf.d/schemas", real);
    CHECK_STR(c.schema_dir, want);
    snprintf(want, sizeof want, "%s/conf.d/certs/a.pem", real);
    CHECK(c.listeners.count == 1);
    if (c.listeners.count == 1) {
        CHECK_STR(listener_at(&c, 0)->tls.cert, want);
        CHECK_STR(listener_at(&c, 0)->tls.key, "/abs/key.pem");
    }
    inlet_conf_release(server_options, &c);
    inlet_conf_file_free(f);

    /* Errors carry the path as given. */
    fp = fopen(file, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs("name: x\n\nworkers: 100\n", fp);
        fclose(fp);
    }
    CHECK(inlet_conf_load(file, &f, err, sizeof err) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), server_options, &c, NULL, err, sizeof err) == -1);
    snprintf(want, sizeof want, "%s:3: workers: 100 is above the maximum 64", file);
    CHECK_STR(err, want);
    inlet_conf_file_free(f);

    unlink(file);
    rmdir(sub);
    rmdir(dir);
    CHECK(inlet_conf_load(file, &f, err, sizeof err) == -1);
    CHECK(f == NULL);
    CHECK_CONTAINS(err, "main.yaml: cannot open: No such file or directory");
}

static void test_document_api(void)
{
    const char *yaml = "module: mqtt\nport: 1883\nnested:\n  list: [a, b]\n";
    inlet_conf_file *f = NULL;
    char err[256];

    CHECK(inlet_conf_load_string("x.yaml", yaml, strlen(yaml), &f, err, sizeof err) == 0);
    const inlet_conf_node *root = inlet_conf_root(f);
    CHECK(root != NULL);
    CHECK_STR(inlet_conf_scalar(f, inlet_conf_get(f, root, "module")), "mqtt");
    CHECK(inlet_conf_line(f, inlet_conf_get(f, root, "port")) == 2);
    const inlet_conf_node *nested = inlet_conf_get(f, root, "nested");
    CHECK(inlet_conf_line(f, nested) == 4);
    CHECK(inlet_conf_scalar(f, nested) == NULL);
    CHECK(inlet_conf_get(f, root, "missing") == NULL);
    CHECK(inlet_conf_get(f, inlet_conf_get(f, root, "port"), "x") == NULL);
    inlet_conf_file_free(f);

    CHECK(inlet_conf_load_string("e.yaml", "", 0, &f, err, sizeof err) == 0);
    CHECK(inlet_conf_root(f) == NULL);
    inlet_conf_file_free(f);
    inlet_conf_file_free(NULL);
}

static void test_reapply_and_release(void)
{
    struct server_conf c;
    inlet_conf_file *f = NULL;
    char err[512];

    /* Applying over a filled object frees what it held (ASan would report a leak otherwise). */
    CHECK(apply_text(full_yaml, &c, err, sizeof err) == 0);
    CHECK(inlet_conf_load_string(NAME, "name: second\n", 13, &f, err, sizeof err) == 0);
    CHECK(inlet_conf_apply(f, inlet_conf_root(f), server_options, &c, NULL, err, sizeof err) == 0);
    CHECK_STR(c.name, "second");
    CHECK(c.listeners.count == 0);
    CHECK(c.labels.count == 0);
    CHECK(c.token == NULL);
    inlet_conf_release(server_options, &c);
    inlet_conf_file_free(f);

    /* Failure deep in a list, after allocations in earlier items: all released. */
    EXPECT_APPLY_ERROR("name: x\nbrokers: [a, b]\nlabels: {a: b}\nlisteners:\n"
                       "  - address: a\n    tls: {cert: c, password: p}\n"
                       "  - address: b\n    protocols: [x, y]\n    port: 0\n",
                       NAME ":9: listeners[1].port: 0 is below the minimum 1");

    memset(&c, 0, sizeof c);
    inlet_conf_release(server_options, &c);
    CHECK(is_released(&c));
}

static void test_reference(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    CHECK(out != NULL);
    if (!out)
        return;
    inlet_conf_print_reference(out, "Server", server_options);
    fclose(out);
    CHECK(strncmp(text, "## Server\n\n| key | type | default | allowed | description |\n", 58) ==
          0);
    CHECK_CONTAINS(text, "| `workers` | integer | `4` | 1..64 | Worker threads. |\n");
    CHECK_CONTAINS(text, "| `name` | string | required |  | Instance name. |\n");
    CHECK_CONTAINS(text, "| `max_body_size` | size | `1m` | 1k..16m | Largest accepted body. |\n");
    CHECK_CONTAINS(text, "| `mode` | enum | `round_robin` | `round_robin`, `hash`, `sticky` |");
    CHECK_CONTAINS(text, "| `debug` | bool | `false` | true, false |");
    CHECK_CONTAINS(text, "| `metrics.interval` | duration | `15s` | 1s..1h |");
    CHECK_CONTAINS(text, "| `listeners` | list of sections |");
    CHECK_CONTAINS(text,
                   "| `listeners[].tls.cert` | path | required |  | Certificate chain, PEM. |");
    CHECK_CONTAINS(text, "Protocols spoken \\| on this port.");
    free(text);
}

static void test_parse_helpers(void)
{
    uint64_t s = 0;
    int64_t d = 0;

    CHECK(inlet_conf_parse_size("512", &s) == 0 && s == 512);
    CHECK(inlet_conf_parse_size("64k", &s) == 0 && s == 65536);
    CHECK(inlet_conf_parse_size("16M", &s) == 0 && s == 16777216);
    CHECK(inlet_conf_parse_size("1g", &s) == 0 && s == 1073741824);
    CHECK(inlet_conf_parse_size("2KiB", &s) == 0 && s == 2048);
    CHECK(inlet_conf_parse_size("3mib", &s) == 0 && s == 3145728);
    CHECK(inlet_conf_parse_size("", &s) == -1);
    CHECK(inlet_conf_parse_size("k", &s) == -1);
    CHECK(inlet_conf_parse_size("1.5m", &s) == -1);
    CHECK(inlet_conf_parse_size("-1", &s) == -1);
    CHECK(inlet_conf_parse_size("10kb", &s) == -1);
    CHECK(inlet_conf_parse_size("64 k", &s) == -1);
    CHECK(inlet_conf_parse_size("18446744073709551616", &s) == -1);
    CHECK(inlet_conf_parse_size("17179869184g", &s) == -1);

    CHECK(inlet_conf_parse_duration_ms("250ms", &d) == 0 && d == 250);
    CHECK(inlet_conf_parse_duration_ms("5s", &d) == 0 && d == 5000);
    CHECK(inlet_conf_parse_duration_ms("2m", &d) == 0 && d == 120000);
    CHECK(inlet_conf_parse_duration_ms("1h", &d) == 0 && d == 3600000);
    CHECK(inlet_conf_parse_duration_ms("42", &d) == 0 && d == 42);
    CHECK(inlet_conf_parse_duration_ms("0", &d) == 0 && d == 0);
    CHECK(inlet_conf_parse_duration_ms("5 s", &d) == -1);
    CHECK(inlet_conf_parse_duration_ms("1d", &d) == -1);
    CHECK(inlet_conf_parse_duration_ms("-5s", &d) == -1);
    CHECK(inlet_conf_parse_duration_ms("9223372036854775807h", &d) == -1);
    CHECK(inlet_conf_parse_duration_ms(NULL, &d) == -1);
}

int main(void)
{
    test_all_types();
    test_defaults();
    test_bad_defaults();
    test_container_defaults();
    test_unknown_keys();
    test_wrong_shapes();
    test_bad_values();
    test_secret_not_echoed();
    test_missing_required();
    test_document_errors();
    test_alias_bounds();
    test_path_resolution();
    test_document_api();
    test_reapply_and_release();
    test_reference();
    test_parse_helpers();
    return check_done();
}
