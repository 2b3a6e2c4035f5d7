/* abi_mismatch.c - a module built "for a future major ABI": the loader must refuse it with a
 * sentence naming both versions (tests/integration/test_cli.py). */
#include "inlet/module.h"

static int create(const inlet_host *host, inlet_module_ctx *mod, const void *config, void **state,
                  char *err, size_t err_len)
{
    (void)host, (void)mod, (void)config, (void)err, (void)err_len;
    *state = NULL;
    return 0;
}

static int start(void *state, char *err, size_t err_len)
{
    (void)state, (void)err, (void)err_len;
    return 0;
}

static void nothing(void *state)
{
    (void)state;
}

static const inlet_module_desc desc = {
    .abi_major = INLET_ABI_MAJOR + 98,
    .abi_minor = 0,
    .size = sizeof(inlet_module_desc),
    .name = "abi_mismatch",
    .version = "0",
    .description = "test module with a wrong ABI",
    .create = create,
    .start = start,
    .stop_accepting = nothing,
    .stop = nothing,
    .destroy = nothing,
};

INLET_MODULE_DEFINE(desc)
