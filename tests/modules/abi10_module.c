/* abi10_module.c - a module built against the ABI 1.0 headers (tests/modules/abi-1.0/), the way
 * a third party built one in the first release: it must still load and run in this core
 * (tests/unit/test_module_loader.c). Uses only what 1.0 declared. */
#include <stdlib.h>

#include "inlet/module.h"

typedef struct abi10_config {
    int64_t answer;
} abi10_config;

static const inlet_option abi10_options[] = {
    {"answer", INLET_OPT_INT, offsetof(abi10_config, answer), "42", 0, 100, NULL, NULL, 0, 0,
     "A number."},
    INLET_OPTIONS_END,
};

typedef struct abi10_state {
    const inlet_host *host;
    inlet_module_ctx *mod;
    inlet_queue *queue;
    inlet_metric *started;
} abi10_state;

static int create(const inlet_host *host, inlet_module_ctx *mod, const void *config, void **state,
                  char *err, size_t err_len)
{
    const abi10_config *cfg = config;
    if (host->abi_major != 1 || cfg->answer != 42)
        return -1;
    abi10_state *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->host = host;
    s->mod = mod;
    s->started = host->metric_counter("inlet_test_abi10_starts_total", "Starts.", NULL);
    s->queue = host->queue_new(mod, err, err_len);
    if (!s->queue) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int start(void *state, char *err, size_t err_len)
{
    abi10_state *s = state;
    (void)err, (void)err_len;
    s->host->metric_add(s->started, 1);
    s->host->log(s->mod, INLET_LOG_INFO, "abi 1.0 module started");
    return 0;
}

static void nothing(void *state)
{
    (void)state;
}

static void destroy(void *state)
{
    abi10_state *s = state;
    s->host->queue_free(s->queue);
    free(s);
}

static const inlet_module_desc desc = {
    .abi_major = INLET_ABI_MAJOR,
    .abi_minor = INLET_ABI_MINOR,
    .size = sizeof(inlet_module_desc),
    .name = "abi10",
    .version = "1.0.0",
    .description = "test module built against ABI 1.0",
    .options = abi10_options,
    .config_size = sizeof(abi10_config),
    .create = create,
    .start = start,
    .stop_accepting = nothing,
    .stop = nothing,
    .destroy = destroy,
};

INLET_MODULE_DEFINE(desc)
