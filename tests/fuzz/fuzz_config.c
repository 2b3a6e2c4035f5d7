/* fuzz_config.c - libFuzzer target for the configuration engine: arbitrary bytes are parsed as a
 * YAML file and applied to a table with every option type, nested sections and a section list.
 * Must never crash or leak, whatever the input. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

struct tls_conf {
    char *cert;
    char *password;
    bool verify;
};

struct listener {
    char *address;
    int64_t port;
    inlet_str_list protocols;
    struct tls_conf tls;
};

struct fuzz_conf {
    char *name;
    bool debug;
    int64_t workers;
    uint64_t max_body;
    int64_t timeout_ms;
    char *dir;
    int mode;
    inlet_str_list brokers;
    inlet_str_map labels;
    struct tls_conf tls;
    inlet_section_list listeners;
};

static const char *const modes[] = {"one", "two", "three", NULL};

#define OPT(n, t, s, f, d, lo, hi, fl)                                                             \
    {                                                                                              \
        n, t, offsetof(s, f), d, lo, hi, NULL, NULL, 0, fl, n                                      \
    }

static const inlet_option tls_options[] = {
    OPT("cert", INLET_OPT_PATH, struct tls_conf, cert, NULL, 0, 0, INLET_OPT_REQUIRED),
    OPT("password", INLET_OPT_STRING, struct tls_conf, password, NULL, 0, 0, INLET_OPT_SECRET),
    OPT("verify", INLET_OPT_BOOL, struct tls_conf, verify, "true", 0, 0, 0),
    INLET_OPTIONS_END,
};

static const inlet_option listener_options[] = {
    OPT("address", INLET_OPT_STRING, struct listener, address, NULL, 0, 0, INLET_OPT_REQUIRED),
    OPT("port", INLET_OPT_INT, struct listener, port, "1883", 1, 65535, 0),
    OPT("protocols", INLET_OPT_STRING_LIST, struct listener, protocols, "[mqtt, ws]", 0, 0, 0),
    {"tls", INLET_OPT_SECTION, offsetof(struct listener, tls), NULL, 0, 0, NULL, tls_options, 0, 0,
     "tls"},
    INLET_OPTIONS_END,
};

static const inlet_option options[] = {
    OPT("name", INLET_OPT_STRING, struct fuzz_conf, name, "inlet", 0, 0, 0),
    OPT("debug", INLET_OPT_BOOL, struct fuzz_conf, debug, "false", 0, 0, 0),
    OPT("workers", INLET_OPT_INT, struct fuzz_conf, workers, "4", 1, 64, 0),
    OPT("max_body", INLET_OPT_SIZE, struct fuzz_conf, max_body, "1m", 1024, 16777216, 0),
    OPT("timeout", INLET_OPT_DURATION, struct fuzz_conf, timeout_ms, "30s", 0, 3600000, 0),
    OPT("dir", INLET_OPT_PATH, struct fuzz_conf, dir, "state", 0, 0, 0),
    {"mode", INLET_OPT_ENUM, offsetof(struct fuzz_conf, mode), "two", 0, 0, modes, NULL, 0, 0,
     "mode"},
    OPT("brokers", INLET_OPT_STRING_LIST, struct fuzz_conf, brokers, "localhost:9092", 0, 0, 0),
    OPT("labels", INLET_OPT_STRING_MAP, struct fuzz_conf, labels, "{a: b}", 0, 0, 0),
    {"tls", INLET_OPT_SECTION, offsetof(struct fuzz_conf, tls), NULL, 0, 0, NULL, tls_options, 0, 0,
     "tls"},
    {"listeners", INLET_OPT_SECTION_LIST, offsetof(struct fuzz_conf, listeners), NULL, 0, 0, NULL,
     listener_options, sizeof(struct listener), 0, "listeners"},
    INLET_OPTIONS_END,
};

static const char *const skip[] = {"module", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inlet_conf_file *f = NULL;
    struct fuzz_conf conf;
    char err[512];

    if (inlet_conf_load_string("conf.d/fuzz.yaml", (const char *)data, size, &f, err, sizeof err) !=
        0)
        return 0;
    memset(&conf, 0, sizeof conf);
    if (inlet_conf_apply(f, inlet_conf_root(f), options, &conf, skip, err, sizeof err) == 0) {
        /* A second apply over the filled object must free what it replaces. */
        inlet_conf_apply(f, inlet_conf_root(f), options, &conf, skip, err, sizeof err);
        inlet_conf_release(options, &conf);
    }
    /* The document accessors on whatever came out. */
    const inlet_conf_node *root = inlet_conf_root(f);
    const inlet_conf_node *name = inlet_conf_get(f, root, "name");
    if (name && inlet_conf_scalar(f, name)) {
        uint64_t bytes;
        int64_t ms;
        inlet_conf_parse_size(inlet_conf_scalar(f, name), &bytes);
        inlet_conf_parse_duration_ms(inlet_conf_scalar(f, name), &ms);
    }
    inlet_conf_line(f, root);
    inlet_conf_file_free(f);
    return 0;
}
