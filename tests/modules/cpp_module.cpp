// cpp_module.cpp - the smallest module written in C++: INLET_MODULE_DEFINE gives the entry C
// linkage and the INLET_OPT_*_ENTRY macros are positional, so neither needs C to compile
// (tests/unit/test_module_loader.c loads it).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "inlet/module.h"

namespace
{

struct cpp_config {
    char *greeting;
    int64_t times;
};

const inlet_option cpp_options[] = {
    INLET_OPT_STRING_ENTRY(cpp_config, greeting, "greeting", "hello", 0, "What to log."),
    INLET_OPT_INT_ENTRY(cpp_config, times, "times", "1", 1, 10, "How often."),
    INLET_OPTIONS_END,
};

struct cpp_state {
    const inlet_host *host;
    inlet_module_ctx *mod;
    std::string greeting;
    inlet_metric *starts;
};

int create(const inlet_host *host, inlet_module_ctx *mod, const void *config, void **state,
           char *err, size_t err_len)
{
    const cpp_config *cfg = static_cast<const cpp_config *>(config);
    if (host->abi_minor < 5) {
        std::snprintf(err, err_len, "needs ABI 1.5");
        return -1;
    }
    cpp_state *s = new cpp_state{host, mod, cfg->greeting ? cfg->greeting : "", nullptr};
    s->starts = host->metric_counter_for(mod, "inlet_test_cpp_starts_total", "Starts.", nullptr);
    *state = s;
    return 0;
}

int start(void *state, char *, size_t)
{
    cpp_state *s = static_cast<cpp_state *>(state);
    s->host->metric_add(s->starts, 1);
    s->host->log(s->mod, INLET_LOG_INFO, "%s from C++ (%s)", s->greeting.c_str(),
                 s->host->instance_name(s->mod));
    return 0;
}

void nothing(void *) {}

void destroy(void *state)
{
    delete static_cast<cpp_state *>(state);
}

const inlet_module_desc desc = {
    INLET_ABI_MAJOR,
    INLET_ABI_MINOR,
    sizeof(inlet_module_desc),
    "cpp_hello",
    "1.0.0",
    "test module written in C++",
    cpp_options,
    sizeof(cpp_config),
    create,
    start,
    nothing,
    nothing,
    destroy,
    nullptr,
    {},
};

} // namespace

INLET_MODULE_DEFINE(desc)
