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
#include "check/tenant_files.h"

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

/* Read and check everything, load modules and call their create(). No sockets yet. On error
 * err holds every error found, one per line. */
int inlet_daemon_load(inlet_daemon *d, const char *dir, char *err, size_t err_len);
/* The same, adding every error to errs; returns their number. flags: INLET_LOAD_NO_MODULES
 * (settings, schemas and tenants only: explain). keep (may be NULL) receives the tenant files,
 * for the lines of ACL rules; free them with inlet_tenant_files_free(). */
#define INLET_LOAD_NO_MODULES 0x1u
int inlet_daemon_load_ex(inlet_daemon *d, const char *dir, unsigned flags, inlet_tenant_files *keep,
                         inlet_conf_errors *errs);
/* Start Kafka and the modules; serve until SIGTERM/SIGINT (SIGHUP reloads tenants and
 * schemas); shut down gracefully. Returns the process exit status. */
int inlet_daemon_run(inlet_daemon *d);
void inlet_daemon_free(inlet_daemon *d);
/* Load tenants from conf.d/ and tenants_dir, checked against schemas (NULL: ACL schema
 * references are not checked), for startup, SIGHUP and explain: every error goes to errs and
 * their number is returned; *out is set only when there are none. */
int inlet_daemon_load_tenants(const inlet_daemon *d, const inlet_schemas *schemas,
                              inlet_tenants **out, inlet_tenant_files *keep,
                              inlet_conf_errors *errs);
/* SIGHUP: re-read schemas and tenants and swap them in whole, or, with any error, change
 * nothing. Returns the number of errors (in errs, and logged). */
int inlet_daemon_reload(inlet_daemon *d, inlet_conf_errors *errs);
/* Print the reference of every option table (core, tenant, each loaded module). */
void inlet_daemon_print_reference(const inlet_daemon *d, FILE *out);
/* The same without a configuration: core, tenant and every module found in module_dir (NULL:
 * $INLET_MODULE_DIR or the built-in directory). Returns 0, or -1 if a module fails to load. */
int inlet_daemon_print_all_modules(const char *module_dir, FILE *out);

#endif
