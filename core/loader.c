/* loader.c - dlopen a module and check its descriptor (the Varnish VMOD rule: same MAJOR, our
 * MINOR >= the module's). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "module_ctx.h"

int inlet_module_open(inlet_module_ctx *m, const char *so_path, const char *expected_name,
                      char *err, size_t err_len)
{
    m->so_path = strdup(so_path);
    if (!m->so_path) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    /* RTLD_LOCAL: two modules may link different versions of a library without clashing. */
    m->dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!m->dl) {
        snprintf(err, err_len, "cannot load module \"%s\": %s", expected_name, dlerror());
        return -1;
    }
    inlet_module_entry_fn entry;
    *(void **)&entry = dlsym(m->dl, INLET_MODULE_ENTRY_SYMBOL);
    if (!entry) {
        snprintf(err, err_len, "%s is not an Inlet module: it does not export %s()", so_path,
                 INLET_MODULE_ENTRY_SYMBOL);
        return -1;
    }
    const inlet_module_desc *d = entry();
    if (!d) {
        snprintf(err, err_len, "%s: %s() returned no descriptor", so_path,
                 INLET_MODULE_ENTRY_SYMBOL);
        return -1;
    }
    if (d->abi_major != INLET_ABI_MAJOR || d->abi_minor > INLET_ABI_MINOR) {
        snprintf(err, err_len,
                 "%s was built for Inlet module ABI %u.%u, but this inletd provides ABI %d.%d; "
                 "rebuild the module against this inletd's inlet/module.h",
                 so_path, d->abi_major, d->abi_minor, INLET_ABI_MAJOR, INLET_ABI_MINOR);
        return -1;
    }
    /* The descriptor may only grow; everything up to destroy() is required in ABI 1.0. */
    size_t need = offsetof(inlet_module_desc, destroy) + sizeof(d->destroy);
    if (d->size < need) {
        snprintf(err, err_len,
                 "%s: module descriptor is %u bytes, smaller than the %zu bytes of ABI %u.%u",
                 so_path, d->size, need, d->abi_major, d->abi_minor);
        return -1;
    }
    if (!d->name || strcmp(d->name, expected_name) != 0) {
        snprintf(err, err_len, "%s calls itself \"%s\", but the configuration asked for \"%s\"",
                 so_path, d->name ? d->name : "(null)", expected_name);
        return -1;
    }
    if (!d->create || !d->start || !d->stop_accepting || !d->stop || !d->destroy ||
        (d->config_size && !d->options)) {
        snprintf(err, err_len, "%s: module descriptor lacks a required function", so_path);
        return -1;
    }
    m->desc = d;
    return 0;
}

void inlet_module_close(inlet_module_ctx *m)
{
    if (m->config && m->desc && m->desc->options)
        inlet_conf_release(m->desc->options, m->config);
    free(m->config);
    if (m->dl)
        dlclose(m->dl);
    free(m->instance);
    free(m->origin);
    free(m->so_path);
    memset(m, 0, sizeof(*m));
}
