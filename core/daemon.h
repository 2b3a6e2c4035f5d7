/*
 * daemon.h - inletd's configuration directory and lifecycle.
 *
 *   <dir>/inletd.yaml        the core's settings (settings.h)
 *   <dir>/conf.d/NAME.yaml     one module instance ("module: http") or one tenant ("tenant: x")
 *   <tenants_dir>/NAME.yaml    more tenants, if tenants_dir is set
 *
 * Files are read in name order; *.yaml and *.yml only, so "http.yaml.disabled" is off.
 */
#ifndef INLET_DAEMON_H
#define INLET_DAEMON_H

#include <stddef.h>

#include "module_ctx.h"
#include "kafka/producer.h"
#include "schema/schema.h"
#include "config/settings.h"
#include "identity/tenant.h"

typedef struct inlet_daemon {
    char *dir;
    char *main_path;
    inlet_settings settings;
    inlet_module_ctx **modules; /* each allocated alone: modules keep their ctx pointer */
    size_t n_modules;
    inlet_tenants *tenants; /* until handed to the router */
    inlet_schemas *schemas;
    inlet_producer *producer;
    struct inlet_spool *spool; /* NULL unless spool.dir is set */
} inlet_daemon;

/* Read and check everything, load modules and call their create(). No sockets yet. */
int inlet_daemon_load(inlet_daemon *d, const char *dir, char *err, size_t err_len);
/* Start Kafka and the modules; serve until SIGTERM/SIGINT (SIGHUP reloads tenants and
 * schemas); shut down gracefully. Returns the process exit status. */
int inlet_daemon_run(inlet_daemon *d);
void inlet_daemon_free(inlet_daemon *d);
/* Load tenants from conf.d/ and tenants_dir (for startup and SIGHUP). */
int inlet_daemon_load_tenants(const inlet_daemon *d, inlet_tenants **out, char *err,
                              size_t err_len);
/* Print the reference of every option table (core, tenant, each loaded module). */
void inlet_daemon_print_reference(const inlet_daemon *d, FILE *out);
/* The same without a configuration: core, tenant and every module found in module_dir (NULL:
 * $INLET_MODULE_DIR or the built-in directory). Returns 0, or -1 if a module fails to load. */
int inlet_daemon_print_all_modules(const char *module_dir, FILE *out);

#endif
