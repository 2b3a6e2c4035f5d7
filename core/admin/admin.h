/* admin.h - the resources the core serves on the HTTP module's admin listener besides /metrics
 * (host->admin_resource()): the recent refusals, the live console and the data it polls. */
#ifndef INLET_ADMIN_H
#define INLET_ADMIN_H

#include <stddef.h>

/* See inlet_host.admin_resource in inlet/module.h. */
int inlet_admin_resource(const char *path, size_t path_len, char **body, size_t *len,
                         const char **content_type);
/* {"ts_ms":..,"version":..,"metrics":[[name,labels,value],...],"recent":<refusals>}; malloc'd. */
char *inlet_admin_console_data(size_t *len);

#endif
