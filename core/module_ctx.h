/* module_ctx.h - one loaded module instance: the conf.d file that names it, its shared object,
 * its parsed configuration and its state. */
#ifndef INLET_MODULE_CTX_H
#define INLET_MODULE_CTX_H

#include "inlet/module.h"

struct inlet_module_ctx {
    char *instance; /* the conf.d file's base name without extension, e.g. "http" */
    char *origin;   /* "conf.d/http.yaml:1", for messages */
    char *so_path;
    void *dl;
    const inlet_module_desc *desc;
    void *config; /* desc->config_size bytes filled from desc->options */
    void *state;  /* from desc->create */
    int started;
};

/*
 * Open so_path and check its descriptor against this core's ABI, its size and the name the
 * conf.d file used. On error err names the file, the module's ABI and ours.
 */
int inlet_module_open(inlet_module_ctx *m, const char *so_path, const char *expected_name,
                      char *err, size_t err_len);
/* Release config (with the module's table), state must already be destroyed; dlclose. */
void inlet_module_close(inlet_module_ctx *m);

/* The table of core services every module receives. */
const inlet_host *inlet_host_table(void);

#endif
