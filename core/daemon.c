/* daemon.c - see daemon.h. */
#include "daemon.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "config/config.h"
#include "config/confdir.h"
#include "check/module_conf.h"
#include "log.h"
#include "metrics.h"
#include "kafka/topics.h"
#include "observe.h"
#include "pipeline/quota.h"
#include "module_dir.h"
#include "pipeline/router.h"
#include "reload_control.h"
#include "sd_notify.h"
#include "spool/spool.h"

static const char *const module_skip_keys[] = {"module", "path", "name", NULL};

static int valid_module_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static char *instance_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

/* Collect every conf.d file, then the tenants_dir files. */
static int list_config_files(const inlet_daemon *d, char ***paths, size_t *n, char *err,
                             size_t err_len)
{
    char confd[PATH_MAX];
    char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    snprintf(confd, sizeof(confd), "%s/conf.d", d->dir);
    if (inlet_confdir_list(confd, 1, &a, &na, err, err_len) != 0)
        return -1;
    if (d->settings.tenants_dir &&
        inlet_confdir_list(d->settings.tenants_dir, 0, &b, &nb, err, err_len) != 0) {
        inlet_confdir_free(a, na);
        return -1;
    }
    char **all = realloc(a, (na + nb + 1) * sizeof(*all));
    if (!all) {
        inlet_confdir_free(a, na);
        inlet_confdir_free(b, nb);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < nb; i++)
        all[na + i] = b[i];
    free(b);
    *paths = all;
    *n = na + nb;
    return 0;
}

int inlet_daemon_load_tenants(const inlet_daemon *d, const inlet_schemas *schemas,
                              inlet_tenants **out, inlet_tenant_files *keep,
                              inlet_conf_errors *errs)
{
    char err[2048];
    char **paths = NULL;
    size_t n = 0;
    inlet_tenant_files tf;
    int found;

    *out = NULL;
    if (list_config_files(d, &paths, &n, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        return 1;
    }
    found = inlet_tenant_files_load((const char *const *)paths, n, &tf, errs);
    found += inlet_tenant_files_check(&tf, schemas, errs);
    found += inlet_tenant_files_build(&tf, out, errs);
    if (found == 0 && *out && !d->settings.spool.dir && inlet_tenants_use_spool(*out)) {
        inlet_conf_errors_add(errs, "a tenant says ack: spool, but inletd.yaml sets no spool.dir");
        inlet_tenants_release(*out);
        *out = NULL;
        found++;
    }
    if (keep)
        *keep = tf;
    else
        inlet_tenant_files_free(&tf);
    inlet_confdir_free(paths, n);
    return found;
}

/* Load, configure and create() the module a conf.d file names; every error goes to errs. */
static int load_module(inlet_daemon *d, const char *path, const inlet_conf_file *f,
                       const inlet_conf_node *root, const inlet_conf_node *name_node,
                       inlet_conf_errors *errs)
{
    const char *name = inlet_conf_scalar(f, name_node);
    int line = inlet_conf_line(f, name_node);
    char so[PATH_MAX], msg[1024];
    inlet_conf_marks *marks = NULL;
    int found = 1;
    if (!name || !valid_module_name(name)) {
        inlet_conf_errors_add(errs, "%s:%d: module: expected a module name of a-z 0-9 _ -", path,
                              line);
        return 1;
    }
    const inlet_conf_node *pnode = inlet_conf_get(f, root, "path");
    const char *explicit_path = pnode ? inlet_conf_scalar(f, pnode) : NULL;
    if (pnode && !explicit_path) {
        inlet_conf_errors_add(errs, "%s:%d: path: expected a file name", path,
                              inlet_conf_line(f, pnode));
        return 1;
    }
    if (explicit_path && explicit_path[0] == '/') {
        snprintf(so, sizeof(so), "%s", explicit_path);
    } else if (explicit_path) {
        const char *slash = strrchr(path, '/');
        snprintf(so, sizeof(so), "%.*s/%s", slash ? (int)(slash - path) : 1, slash ? path : ".",
                 explicit_path);
    } else {
        snprintf(so, sizeof(so), "%s/%s.so", d->settings.module_dir, name);
    }

    inlet_module_ctx **mods = realloc(d->modules, (d->n_modules + 1) * sizeof(*mods));
    if (!mods) {
        inlet_conf_errors_add(errs, "out of memory");
        return 1;
    }
    d->modules = mods;
    inlet_module_ctx *m = calloc(1, sizeof(*m));
    if (!m) {
        inlet_conf_errors_add(errs, "out of memory");
        return 1;
    }
    d->modules[d->n_modules++] = m;
    /* The instance's name (host->instance_name(), log tags, metrics): "name:" or the file's. */
    const inlet_conf_node *nnode = inlet_conf_get(f, root, "name");
    const char *given = nnode ? inlet_conf_scalar(f, nnode) : NULL;
    if (nnode && (!given || !valid_module_name(given))) {
        inlet_conf_errors_add(errs, "%s:%d: name: expected an instance name of a-z 0-9 _ -", path,
                              inlet_conf_line(f, nnode));
        return 1;
    }
    m->instance = given ? strdup(given) : instance_name(path);
    m->origin = malloc(strlen(path) + 16);
    marks = inlet_conf_marks_new(path);
    if (!m->instance || !m->origin || !marks) {
        inlet_conf_errors_add(errs, "out of memory");
        goto out;
    }
    sprintf(m->origin, "%s:%d", path, line);
    for (size_t i = 0; i + 1 < d->n_modules; i++)
        if (strcmp(d->modules[i]->instance, m->instance) == 0) {
            inlet_conf_errors_add(errs, "%s: a module instance named \"%s\" exists already (%s)",
                                  m->origin, m->instance, d->modules[i]->origin);
            goto out;
        }
    if (inlet_module_open(m, so, name, msg, sizeof(msg)) != 0) {
        inlet_conf_errors_add(errs, "%s: %s", m->origin, msg);
        goto out;
    }
    m->config = calloc(1, m->desc->config_size ? m->desc->config_size : 1);
    if (!m->config) {
        inlet_conf_errors_add(errs, "out of memory");
        goto out;
    }
    if (inlet_module_conf_apply(f, m->desc, m->config, module_skip_keys, marks, errs) != 0)
        goto out;
    if (m->desc->create(inlet_host_table(), m, m->config, &m->state, msg, sizeof(msg)) != 0) {
        inlet_module_conf_error(m->desc, m->config, marks, line, msg, errs);
        m->state = NULL;
        goto out;
    }
    found = 0;
out:
    inlet_conf_marks_free(marks);
    return found;
}

static int load_modules(inlet_daemon *d, inlet_conf_errors *errs)
{
    char confd[PATH_MAX], err[1024];
    char **paths = NULL;
    size_t n = 0;
    int found = 0;
    snprintf(confd, sizeof(confd), "%s/conf.d", d->dir);
    if (inlet_confdir_list(confd, 1, &paths, &n, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        inlet_conf_file *f = NULL;
        if (inlet_conf_load(paths[i], &f, err, sizeof(err)) != 0) {
            /* the tenant pass reported it already */
            found++;
            continue;
        }
        const inlet_conf_node *root = inlet_conf_root(f);
        const inlet_conf_node *mod = root ? inlet_conf_get(f, root, "module") : NULL;
        const inlet_conf_node *ten = root ? inlet_conf_get(f, root, "tenant") : NULL;
        if (mod && ten) {
            found++; /* the tenant pass reported it */
        } else if (mod) {
            found += load_module(d, paths[i], f, root, mod, errs);
        } else if (!ten) {
            inlet_conf_errors_add(errs, "%s:%d: expected \"module: <name>\" or \"tenant: <name>\"",
                                  paths[i], root ? inlet_conf_line(f, root) : 1);
            found++;
        }
        inlet_conf_file_free(f);
    }
    inlet_confdir_free(paths, n);
    return found;
}

int inlet_daemon_load_ex(inlet_daemon *d, const char *dir, unsigned flags, inlet_tenant_files *keep,
                         inlet_conf_errors *errs)
{
    memset(d, 0, sizeof(*d));
    char real[PATH_MAX], err[2048];
    inlet_conf_file *f = NULL;
    if (!realpath(dir, real)) {
        inlet_conf_errors_add(errs, "%s: %s", dir, strerror(errno));
        return 1;
    }
    d->dir = strdup(real);
    d->main_path = malloc(strlen(real) + sizeof("/inletd.yaml"));
    if (!d->dir || !d->main_path) {
        inlet_conf_errors_add(errs, "out of memory");
        return 1;
    }
    sprintf(d->main_path, "%s/inletd.yaml", real);
    if (inlet_conf_load(d->main_path, &f, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        return 1;
    }
    const inlet_conf_node *root = inlet_conf_root(f);
    if (!root) {
        inlet_conf_errors_add(errs, "%s:1: kafka: required option missing", d->main_path);
        inlet_conf_file_free(f);
        return 1;
    }
    /* Everything else depends on these settings (schema_dir, tenants_dir, module_dir). */
    int found =
        inlet_conf_apply_all(f, root, inlet_settings_options, &d->settings, NULL, NULL, errs);
    inlet_conf_file_free(f);
    if (found)
        return found;
    if (!d->settings.module_dir) {
        d->settings.module_dir = strdup(inlet_module_dir_default());
        if (!d->settings.module_dir) {
            inlet_conf_errors_add(errs, "out of memory");
            return 1;
        }
    }
    inlet_observe_apply(&d->settings);

    if (inlet_schemas_load(d->settings.schema_dir, &d->schemas, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        found++;
    }
    found += inlet_daemon_load_tenants(d, d->schemas, &d->tenants, keep, errs);
    if (!(flags & INLET_LOAD_NO_MODULES))
        found += load_modules(d, errs);
    return found;
}

int inlet_daemon_load(inlet_daemon *d, const char *dir, char *err, size_t err_len)
{
    inlet_conf_errors *errs = inlet_conf_errors_new();
    if (!errs) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    int found = inlet_daemon_load_ex(d, dir, 0, NULL, errs);
    if (found && inlet_conf_errors_count(errs) == 0)
        inlet_conf_errors_add(errs, "%s: the configuration has errors", dir);
    inlet_conf_errors_join(errs, err, err_len);
    inlet_conf_errors_free(errs);
    return found ? -1 : 0;
}

static void stop_modules(inlet_daemon *d)
{
    for (size_t i = 0; i < d->n_modules; i++)
        if (d->modules[i]->started)
            d->modules[i]->desc->stop_accepting(d->modules[i]->state);
    inlet_router_shutdown();
    inlet_spool_stop(d->spool);
    int left = inlet_producer_drain(d->producer, (int)d->settings.shutdown_timeout_ms);
    inlet_log_info("Kafka drained (%d events refused)", left);
    for (size_t i = 0; i < d->n_modules; i++)
        if (d->modules[i]->started) {
            d->modules[i]->desc->stop(d->modules[i]->state);
            d->modules[i]->started = 0;
        }
}

int inlet_daemon_reload(inlet_daemon *d, inlet_conf_errors *errs)
{
    char err[2048];
    inlet_tenants *tenants = NULL;
    inlet_schemas *schemas = NULL;
    int found = 0;
    if (inlet_schemas_load(d->settings.schema_dir, &schemas, err, sizeof(err)) != 0) {
        inlet_conf_errors_add(errs, "%s", err);
        found++;
    }
    found += inlet_daemon_load_tenants(d, schemas, &tenants, NULL, errs);
    if (found) {
        char all[8192];
        inlet_conf_errors_join(errs, all, sizeof(all));
        inlet_log_error("reload failed, keeping the running configuration (%zu errors):\n%s",
                        inlet_conf_errors_count(errs), all);
        if (tenants)
            inlet_tenants_release(tenants);
        inlet_schemas_free(schemas);
        return found;
    }
    if (d->settings.kafka.missing_topic == INLET_MISSING_TOPIC_REFUSE_START) {
        const inlet_world *prev = inlet_router_world_acquire();
        int rc = inlet_topics_require(d->producer, tenants, schemas, prev ? prev->tenants : NULL,
                                      prev ? prev->schemas : NULL, 5000, err, sizeof(err));
        inlet_router_world_release(prev);
        if (rc != 0) {
            inlet_conf_errors_add(errs, "%s", err);
            inlet_log_error("reload refused, keeping the running configuration: %s", err);
            inlet_tenants_release(tenants);
            inlet_schemas_free(schemas);
            return 1;
        }
    }
    if (inlet_observe_reload(d->main_path, err, sizeof(err)) != 0)
        inlet_log_error("reload: keeping the log settings: %s", err);
    inlet_router_set_world(tenants, schemas);
    inlet_log_info("reloaded %zu tenants and %zu schemas", inlet_tenants_count(tenants),
                   inlet_schemas_count(schemas));
    return 0;
}

int inlet_daemon_run(inlet_daemon *d)
{
    char err[2048];
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked before any thread exists, so only the sigwait() below ever takes them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Every device connection is a descriptor: take the hard limit the service was given. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            inlet_log_warn("cannot raise the descriptor limit: %s", strerror(errno));
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        inlet_log_info("descriptor limit %llu", (unsigned long long)rl.rlim_cur);

    if (inlet_producer_new(&d->settings.kafka, &d->producer, err, sizeof(err)) != 0 ||
        inlet_producer_start(d->producer, err, sizeof(err)) != 0) {
        inlet_log_error("%s", err);
        return 1;
    }
    if (d->settings.kafka.missing_topic == INLET_MISSING_TOPIC_REFUSE_START &&
        inlet_topics_require(d->producer, d->tenants, d->schemas, NULL, NULL, 10000, err,
                             sizeof(err)) != 0) {
        inlet_log_error("refusing to start: %s", err);
        return 1;
    }
    if (d->settings.spool.dir &&
        inlet_spool_open(&d->settings.spool, d->producer, &d->spool, err, sizeof(err)) != 0) {
        inlet_log_error("%s", err);
        return 1;
    }
    inlet_router_init(d->producer, (size_t)d->settings.max_events,
                      (int)((d->settings.retry_after_ms + 999) / 1000));
    inlet_router_set_spool(d->spool);
    inlet_router_set_world(d->tenants, d->schemas);
    d->tenants = NULL;
    d->schemas = NULL;

    for (size_t i = 0; i < d->n_modules; i++) {
        inlet_module_ctx *m = d->modules[i];
        if (m->desc->start(m->state, err, sizeof(err)) != 0) {
            inlet_log_error("%s: module %s: %s", m->origin, m->desc->name, err);
            stop_modules(d);
            return 1;
        }
        m->started = 1;
        inlet_log_info("module %s (%s %s) started", m->instance, m->desc->name,
                       m->desc->version ? m->desc->version : "");
    }
    inlet_log_info("inletd %s ready: %zu modules, Kafka at %s", INLET_VERSION, d->n_modules,
                   d->settings.kafka.bootstrap_servers);

    inlet_reload_started();
    inlet_sd_notify("READY=1\nSTATUS=running");

    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&set, &info);
        if (sig < 0)
            continue;
        if (sig == SIGHUP) {
            inlet_conf_errors *errs = inlet_conf_errors_new();
            inlet_reload_begin();
            inlet_reload_end(&info, errs ? inlet_daemon_reload(d, errs) : 1);
            inlet_conf_errors_free(errs);
            continue;
        }
        inlet_log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    inlet_sd_notify("STOPPING=1");
    stop_modules(d);
    inlet_log_info("stopped");
    return 0;
}

void inlet_daemon_print_reference(const inlet_daemon *d, FILE *out)
{
    inlet_conf_print_reference(out, "inletd.yaml", inlet_settings_options);
    fputc('\n', out);
    inlet_conf_print_reference(out, "tenant files (conf.d/*.yaml with \"tenant:\")",
                               inlet_tenant_options);
    for (size_t i = 0; d && i < d->n_modules; i++) {
        char title[256];
        const inlet_module_desc *desc = d->modules[i]->desc;
        snprintf(title, sizeof(title), "module %s (%s)", desc->name,
                 desc->description ? desc->description : "");
        fputc('\n', out);
        inlet_conf_print_reference(out, title, desc->options);
    }
}

int inlet_daemon_print_all_modules(const char *module_dir, FILE *out)
{
    char err[1024];
    char **paths = NULL;
    size_t n = 0;
    int rc = 0;
    if (!module_dir)
        module_dir = inlet_module_dir_default();
    inlet_daemon_print_reference(NULL, out);
    if (inlet_confdir_list_ext(module_dir, ".so", 1, &paths, &n, err, sizeof(err)) != 0) {
        fprintf(stderr, "inletd: %s\n", err);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        inlet_module_ctx m;
        memset(&m, 0, sizeof(m));
        char *name = instance_name(paths[i]);
        if (name && inlet_module_open(&m, paths[i], name, err, sizeof(err)) == 0) {
            char title[256];
            snprintf(title, sizeof(title), "module %s (%s)", m.desc->name,
                     m.desc->description ? m.desc->description : "");
            fputc('\n', out);
            inlet_conf_print_reference(out, title, m.desc->options);
        } else {
            fprintf(stderr, "inletd: %s\n", name ? err : "out of memory");
            rc = -1;
        }
        free(name);
        inlet_module_close(&m);
    }
    inlet_confdir_free(paths, n);
    return rc;
}

void inlet_daemon_free(inlet_daemon *d)
{
    for (size_t i = 0; i < d->n_modules; i++) {
        inlet_module_ctx *m = d->modules[i];
        if (m->state && m->desc)
            m->desc->destroy(m->state);
        m->state = NULL;
        inlet_module_close(m);
        free(m);
    }
    free(d->modules);
    inlet_router_fini();
    inlet_quota_fini();
    if (d->producer)
        inlet_producer_free(d->producer);
    inlet_spool_free(d->spool); /* after the producer: its last reports go to the forwarder */
    if (d->tenants)
        inlet_tenants_release(d->tenants);
    inlet_schemas_free(d->schemas);
    inlet_conf_release(inlet_settings_options, &d->settings);
    free(d->dir);
    free(d->main_path);
    inlet_observe_shutdown();
    inlet_metrics_shutdown();
    memset(d, 0, sizeof(*d));
}
